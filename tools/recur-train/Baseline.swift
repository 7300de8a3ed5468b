// `recur-train baseline`: the feedforward baseline (an MLP on the same windows) trained and scored like a model.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurTrainer

struct Baseline: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a feedforward (MLP) baseline on the RNN's windows and measure it on eval's tables.",
    discussion: """
      An MLP: the last k encoded values -> W tanh units -> 1 linear output, PyTorch's default nn.Linear \
      initialisation, Adam, MSE, shuffled minibatches of 128. Trained on exactly the windows `train` uses with the \
      same --seed (same GSL draws, same ExampleSet): sequence-max-scale = every position t >= k-1 of each window \
      (x[t-k+1...t] -> y[t]); window-differences = the final step (the k normalised differences -> the next one). \
      Defaults: k = the family's window (odd 5, fib 6), width = the family's hidden size (16, 32), the family's \
      epochs and learning rate (odd 8 and 0.01, fib 12 and 0.005), a constant rate, seed 0 (the same data as \
      `train --seed 0`): the RNN's context and width. Both families are order-2 recurrences, so k >= 2 \
      suffices in principle.

      Prints the epoch losses, eval's generation and held-out tables (generation: sequence-max-scale scales by \
      max(1, max|seed|) and predicts from the last k normalised values, a short seed left-padded with its first \
      value; window-differences is the runtime's encoding), the parameter count and the median time of one \
      forward pass. The MLP is not written as a model file (the format holds RNN cells).

      Examples:
        recur-train baseline --family odd
        recur-train baseline --family fib --encoding window-differences --k 4 \\
          --plots plots/fib-mlp
      """)

  @Option(help: "Data family.")
  var family: SequenceFamily?

  @Option(help: "Input encoding.")
  var encoding: TrainingEncoding = .sequenceMaxScale

  @Option(
    name: .customLong("k"), parsing: .unconditional,
    help: "Encoded values per prediction. (default: 5 for odd, 6 for fib)")
  var k: Int?

  @Option(parsing: .unconditional, help: "tanh units, 1...1024. (default: 16 for odd, 32 for fib)")
  var width: Int?

  @OptionGroup var optimizer: OptimizerOptions

  @Option(help: "Directory for SVG plots (created if missing): loss.svg and generation.svg.")
  var plots: String?

  func run() throws {
    let options = try BaselineOptions.fromCommandLine(
      family: family, encoding: encoding.encoding, k: k, width: width, epochs: optimizer.epochs, lr: optimizer.lr,
      schedule: optimizer.lrSchedule ?? .constant, seed: optimizer.seed)
    if let plots { try PlotDirectory.check(plots, names: ["loss.svg", "generation.svg"]) }
    var events = TrainingEvents()
    events.started = { samples, batches in
      print(
        "Training MLP baseline on \(options.family.rawValue) (\(options.encoding.name)): \(options.sequences) "
          + "sequences, \(samples) samples of k \(options.k) from windows of \(options.window), \(batches) batches "
          + "of \(options.batchSize), width \(options.width), \(options.epochs) epochs, lr \(options.learningRate) "
          + "\(options.schedule.rawValue), seed \(options.seed)")
      flushOutput()
    }
    events.epochFinished = { epoch, loss in
      print(epochLine(epoch, loss: loss))
      flushOutput()
    }
    let run = try BaselineTrainer.train(options, events: events)
    let evaluation = try BaselineEvaluation(run: run)
    print("")
    print(evaluation.report())
    print("")
    let ns = run.parameters.medianNanosecondsPerPrediction()
    let nsSIMD = run.parameters.medianNanosecondsPerPrediction(simd: true)
    print(
      "Parameters: \(run.parameters.values.count) (\(options.width)x\(options.k) + \(options.width) + "
        + "\(options.width) + 1)")
    print(
      "Speed: median \(String(format: "%.1f", ns)) ns per prediction, plain Swift loops (the forward pass used "
        + "for training and generation); \(String(format: "%.1f", nsSIMD)) ns in the runtime's SIMD8 "
        + "broadcast-accumulate layout. Measured in-process on this machine, one prediction at a time.")
    if let plots {
      let lossTitle =
        "Training loss: MLP baseline, \(options.family.rawValue), \(options.encoding.name), k \(options.k), "
        + "width \(options.width), seed \(options.seed)"
      print(
        "Wrote "
          + (try PlotDirectory.write(SVGPlot.lossCurve(run.epochLosses, title: lossTitle), named: "loss.svg", in: plots))
      )
      let title = "Generated vs true: MLP baseline, \(options.family.rawValue), \(options.encoding.name)"
      print(
        "Wrote "
          + (try PlotDirectory.write(
            SVGPlot.generation(evaluation.generation, title: title, subtitle: evaluation.modelDescription),
            named: "generation.svg", in: plots)))
    }
  }
}
