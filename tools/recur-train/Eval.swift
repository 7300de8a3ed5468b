// `recur-train eval`: a model file's validation statistics on a sequence family, and its plots.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurTrainer

struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure a model file: free-running generation error over a fixed seed set, held-out statistics.",
    discussion: """
      Prints two markdown tables. (1) Free-running generation through the runtime (SequencePredictor), 20 steps \
      from each seed of a fixed set, against the family rule: absolute and relative error at steps 1, 8 and 20, \
      one row per seed and the median over seeds. Seeds: odd = five consecutive odd numbers from 1 and 5 \
      (inside the training range, starts 1...13), 13 (edge), 21, 101 and 999 (outside); fib = [1,1,2,3,5,8] and \
      [0,1,1,2,3] (inside: a0 in 0...2, a1 in 1...3), [2,3,5,8,13,21] (edge), [5,8,13,21,34] and \
      [89,144,233,377] (outside); linear2 = five values of eight order-2 recurrences (arithmetic, Fibonacci, \
      alternating growth from starts inside -100...100, an arithmetic run at the edge, then arithmetic, Pell-like, \
      geometric and period-2 runs from starts up to 654321). (2) Next-value statistics on 400 held-out sequences of the family (GSL seed \
      2026) with the model's own encoding and window: window MSE, and mean, sd, median and 95th percentile of \
      the next-value absolute error.

      With --plots DIR, writes DIR/generation.svg: one panel per seed, true against generated values (log-scale \
      y for fib). Output is deterministic.

      Examples:
        recur-train eval --model odd.recur --family odd
        recur-train eval --model fib.recur --family fib --plots plots/fib
      """)

  @Option(help: "The .recur model file.")
  var model: String?

  @Option(help: "Data family. (default: the family recorded in the model)")
  var family: SequenceFamily?

  @Option(help: "Directory for SVG plots (created if missing): generation.svg.")
  var plots: String?

  func run() throws {
    guard let model else { throw TrainerError.invalidOption("missing --model FILE") }
    let (file, bytes) = try readModelFile(model, option: "--model")
    let chosen: SequenceFamily
    if let family {
      chosen = family
    } else {
      guard let recorded = SequenceFamily(rawValue: file.provenance.family) else {
        throw TrainerError.invalidOption(
          "missing --family (odd, fib or linear2): the model records family '\(file.provenance.family)'")
      }
      chosen = recorded
    }
    if let plots { try PlotDirectory.check(plots, names: ["generation.svg"], inputs: [model]) }
    let evaluation = try ModelEvaluation.evaluate(modelBytes: bytes, family: chosen)
    print(evaluation.report(name: escaped(model)))
    if let plots {
      let path = try PlotDirectory.write(
        SVGPlot.generation(
          evaluation.generation, title: "Generated vs true: \(URL(fileURLWithPath: model).lastPathComponent)",
          subtitle: evaluation.modelDescription),
        named: "generation.svg", in: plots)
      print("")
      print("Wrote \(escaped(path))")
    }
  }
}
