// `recur-train eval`: the fixed seed set, the generation table on models whose output is known in closed form, the
// feedforward generator against the runtime, the SVG plots, and the CLI.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// A model whose readout is the constant `readout` (every weight zero, fc.bias = readout).
func constantModel(_ readout: Float, encoding: Encoding, hidden: Int = 3, window: Int = 4) -> ModelFile {
  var file = ModelFile(
    hiddenSize: hidden, contextLength: window, encoding: encoding,
    weightIH: [Float](repeating: 0, count: hidden), weightHH: [Float](repeating: 0, count: hidden * hidden),
    biasIH: [Float](repeating: 0, count: hidden), biasHH: [Float](repeating: 0, count: hidden),
    fcWeight: [Float](repeating: 0, count: hidden), fcBias: [readout])
  file.provenance.family = "odd"
  return file
}

/// An MLP whose output is the constant `readout`.
func constantMLP(_ readout: Float, k: Int, width: Int = 3) -> MLPParameters<Float> {
  var p = MLPParameters<Float>(zerosWithInputSize: k, width: width)
  p.values[p.range(.bias2).lowerBound] = readout
  return p
}

@Suite("Evaluation")
struct EvaluationTests {
  @Test("the seed set: regions, values and truths as documented")
  func seedSet() {
    let odd = SequenceFamily.odd.evaluationSeeds
    #expect(odd.map { $0.values[0] } == [1, 5, 13, 21, 101, 999])
    #expect(odd.map(\.region) == [.inside, .inside, .edge, .outside, .outside, .outside])
    for seed in odd {
      #expect(seed.values.count == 5)
      #expect(zip(seed.values, seed.values.dropFirst()).allSatisfy { $1 == $0 + 2 })
    }
    #expect(odd[5].label == "999, 1001, 1003, 1005, 1007")
    let fib = SequenceFamily.fib.evaluationSeeds
    #expect(
      fib.map(\.values) == [
        [1, 1, 2, 3, 5, 8], [0, 1, 1, 2, 3], [2, 3, 5, 8, 13, 21], [5, 8, 13, 21, 34], [89, 144, 233, 377],
      ])
    #expect(fib.map(\.region) == [.inside, .inside, .edge, .outside, .outside])

    // Truths by the family rule, through the table code.
    let evaluation = GenerationEvaluation(
      family: .odd, generator: RuntimeGenerator(model: RecurrentModel(constantModel(1, encoding: .windowDifferences))))
    let last = evaluation.rows[5]
    #expect(last.truth.count == 20 && last.truth[0] == 1009 && last.truth[7] == 1023 && last.truth[19] == 1047)
    let fibRows = GenerationEvaluation(
      family: .fib, generator: RuntimeGenerator(model: RecurrentModel(constantModel(1, encoding: .windowDifferences)))
    )
    .rows
    #expect(fibRows[0].truth[0] == 13 && fibRows[0].truth[7] == 377 && fibRows[0].truth[19] == 121_393)
    #expect(fibRows[1].truth[0] == 5 && fibRows[4].truth[0] == 610)
  }

  @Test("window-differences with readout 1 continues odd runs exactly: every error is 0, also held out")
  func closedFormOdd() throws {
    let file = constantModel(1, encoding: .windowDifferences)
    let evaluation = try ModelEvaluation.evaluate(modelBytes: file.encoded(), family: .odd)
    #expect(evaluation.generation.rows.count == 6)
    for row in evaluation.generation.rows {
      #expect(row.absolute == [0, 0, 0], "\(row.seed.label)")
      #expect(row.relative == [0, 0, 0], "\(row.seed.label)")
    }
    #expect(evaluation.generation.medianAbsolute == [0, 0, 0])
    #expect(evaluation.generation.medianRelative == [0, 0, 0])
    #expect(evaluation.heldOut.sequences == 400 && evaluation.heldOut.windows > 0)
    #expect(evaluation.heldOut.windowMSE == 0)
    #expect(evaluation.heldOut.absoluteError.mean == 0 && evaluation.heldOut.absoluteError.p95 == 0)
    let table = evaluation.generation.markdownTable()
    #expect(table.contains("| 999, 1001, 1003, 1005, 1007 | outside | 0 | 0 | 0 | 0% | 0% | 0% |"))
    #expect(table.contains("| median of 6 seeds | | 0 | 0 | 0 | 0% | 0% | 0% |"))
    #expect(table.split(separator: "\n").count == 2 + 6 + 1)
  }

  @Test("window-differences with readout 1 on Fibonacci-like seeds: next = last + max |d|, error |2·prev − last|")
  func closedFormFib() throws {
    let rows = GenerationEvaluation(
      family: .fib, generator: RuntimeGenerator(model: RecurrentModel(constantModel(1, encoding: .windowDifferences)))
    )
    .rows
    for row in rows {
      let s = row.seed.values
      let (last, prev) = (s[s.count - 1], s[s.count - 2])
      #expect(row.generated[0] == 2 * last - prev)
      #expect(row.absolute[0] == abs(2 * prev - last))
      #expect(row.relative[0] == abs(2 * prev - last) / (last + prev))
    }
    #expect(rows.map { $0.absolute[0] } == [2, 1, 5, 8, 89])
  }

  @Test("sequence-max-scale with readout c generates c · max(1, max |seed|) at every step")
  func closedFormScale() {
    let rows = GenerationEvaluation(
      family: .odd, generator: RuntimeGenerator(model: RecurrentModel(constantModel(0.5, encoding: .sequenceMaxScale)))
    ).rows
    for row in rows {
      let value = 0.5 * row.seed.values.max()!
      #expect(row.generated == [Double](repeating: value, count: 20))
      #expect(row.absolute == [row.truth[0] - value, row.truth[7] - value, row.truth[19] - value])
    }
    // [1, 3, 5, 7, 9]: 4.5 against 11, 25 and 49.
    #expect(rows[0].absolute == [6.5, 20.5, 44.5])
  }

  @Test("the MLP generator in the runtime's encodings, on the same table code")
  func mlpGenerator() {
    // Constant readout 1 with window-differences: exact odd runs, as the RNN.
    let exact = GenerationEvaluation(
      family: .odd, generator: MLPGenerator(parameters: constantMLP(1, k: 4), encoding: .windowDifferences))
    #expect(exact.rows.allSatisfy { $0.absolute == [0, 0, 0] && $0.relative == [0, 0, 0] })
    // Constant readout with sequence-max-scale: c · scale.
    let scaled = GenerationEvaluation(
      family: .odd, generator: MLPGenerator(parameters: constantMLP(0.5, k: 5), encoding: .sequenceMaxScale))
    #expect(scaled.rows[0].generated == [Double](repeating: 4.5, count: 20))

    // A seed shorter than k is left-padded with its first value: an MLP that returns (almost exactly) its
    // oldest input gives back the first seed value. y = 1000 · tanh(0.001 · x[0]).
    var oldest = MLPParameters<Float>(zerosWithInputSize: 6, width: 1)
    oldest.values[oldest.range(.weight1).lowerBound] = 0.001
    oldest.values[oldest.range(.weight2).lowerBound] = 1000
    let padded = MLPGenerator(parameters: oldest, encoding: .sequenceMaxScale).continuation(
      of: [89, 144, 233, 377], count: 3)
    #expect(abs(padded[0] - 89) < 1e-3, "\(padded)")
    #expect(abs(padded[2] - 89) < 1e-3, "\(padded)")  // history: 89 89 89 144 233 377 → 89 → 89 ...
  }

  @Test(
    "an RNN without recurrence equals the MLP reading only its last input, in both encodings",
    arguments: [Encoding.sequenceMaxScale, .windowDifferences])
  func mlpMatchesRuntime(_ encoding: Encoding) throws {
    let rng = try GSLRandom(seed: 11)
    let h = 5
    let k = 4
    let wIH = (0..<h).map { _ in Float(rng.flat(-1, 1)) }
    let bIH = (0..<h).map { _ in Float(rng.flat(-0.5, 0.5)) }
    let bHH = (0..<h).map { _ in Float(rng.flat(-0.5, 0.5)) }
    let fcW = (0..<h).map { _ in Float(rng.flat(-1, 1)) }
    let fcB = Float(rng.flat(-0.2, 0.2))
    let file = ModelFile(
      hiddenSize: h, contextLength: k, encoding: encoding, weightIH: wIH,
      weightHH: [Float](repeating: 0, count: h * h), biasIH: bIH, biasHH: bHH, fcWeight: fcW, fcBias: [fcB])
    var mlp = MLPParameters<Float>(zerosWithInputSize: k, width: h)
    for i in 0..<h {
      mlp.values[mlp.range(.weight1).lowerBound + i * k + (k - 1)] = wIH[i]
      mlp.values[mlp.range(.bias1).lowerBound + i] = bIH[i] + bHH[i]
      mlp.values[mlp.range(.weight2).lowerBound + i] = fcW[i]
    }
    mlp.values[mlp.range(.bias2).lowerBound] = fcB
    let runtime = GenerationEvaluation(family: .fib, generator: RuntimeGenerator(model: RecurrentModel(file)))
    let feedforward = GenerationEvaluation(
      family: .fib, generator: MLPGenerator(parameters: mlp, encoding: encoding))
    var worst = 0.0
    for (a, b) in zip(runtime.rows, feedforward.rows) {
      for (x, y) in zip(a.generated, b.generated) { worst = max(worst, relativeError(x, y, floor: 1)) }
    }
    #expect(worst <= 1e-4, "worst relative difference \(worst)")
  }
}

// MARK: - SVG

/// Counts elements and `class` attributes; records whether the document parsed.
final class SVGCounter: NSObject, XMLParserDelegate {
  var elements: [String: Int] = [:]
  var classes: [String: Int] = [:]
  var root: String?

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    if root == nil { root = name }
    elements[name, default: 0] += 1
    if let c = attributes["class"] { classes[c, default: 0] += 1 }
  }

  static func parse(_ svg: String) -> (ok: Bool, counter: SVGCounter) {
    let counter = SVGCounter()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = counter
    return (parser.parse(), counter)
  }
}

/// A generator with values a log axis cannot show and values far out of range.
struct AwkwardGenerator: SequenceGenerator {
  func continuation(of seed: [Double], count: Int) -> [Double] {
    (0..<count).map { i in [Double.nan, -5, 0, 1e30, .infinity, 3][i % 6] }
  }
}

@Suite("SVG plots")
struct SVGTests {
  @Test("generation.svg: well-formed, one panel per seed with two polylines each", arguments: SequenceFamily.allCases)
  func generation(_ family: SequenceFamily) {
    let evaluation = GenerationEvaluation(
      family: family, generator: RuntimeGenerator(model: RecurrentModel(constantModel(1, encoding: .windowDifferences)))
    )
    let svg = SVGPlot.generation(evaluation, title: "Generated <vs> true & more", subtitle: "sub")
    let (ok, counter) = SVGCounter.parse(svg)
    #expect(ok)
    #expect(counter.root == "svg")
    let seeds = family.evaluationSeeds.count
    #expect(counter.classes["panel"] == seeds)
    #expect(counter.elements["polyline"] == 2 * seeds)
    #expect(counter.classes["truth"] == seeds && counter.classes["generated"] == seeds)
    #expect(counter.elements["clipPath"] == seeds)
    // Dots: every truth value (positive ones on fib's log axis) and every generated value.
    let truthDots = evaluation.rows.map { ($0.seed.values + $0.truth).filter { family != .fib || $0 > 0 }.count }
      .reduce(0, +)
    #expect(counter.elements["circle"] == truthDots + seeds * 20 + 2)  // + 2 legend dots
    #expect(svg.contains("Generated &lt;vs&gt; true &amp; more"))
    #expect(svg.contains(family == .fib ? "value (log scale)" : ">value<"))
    // Deterministic.
    #expect(svg == SVGPlot.generation(evaluation, title: "Generated <vs> true & more", subtitle: "sub"))
  }

  @Test(
    "NaN, infinite, zero and negative generated values keep the SVG well-formed", arguments: SequenceFamily.allCases)
  func awkwardValues(_ family: SequenceFamily) {
    let evaluation = GenerationEvaluation(family: family, generator: AwkwardGenerator())
    let svg = SVGPlot.generation(evaluation, title: "t")
    let (ok, counter) = SVGCounter.parse(svg)
    #expect(ok)
    #expect(counter.elements["polyline"] == 2 * family.evaluationSeeds.count)
    #expect(!svg.contains("nan") && !svg.contains("inf"))
  }

  @Test("loss.svg: well-formed, one polyline, a log axis with decade ticks")
  func loss() {
    let svg = SVGPlot.lossCurve([0.067857, 0.004303, 0.001816, 0.001191, 0.000855], title: "Training loss: odd")
    let (ok, counter) = SVGCounter.parse(svg)
    #expect(ok)
    #expect(counter.elements["polyline"] == 1 && counter.classes["loss"] == 1)
    #expect(counter.elements["circle"] == 5)
    for label in [">1e-4<", ">0.01<", ">0.1<", ">epoch<"] { #expect(svg.contains(label), "\(label)") }
    #expect(SVGCounter.parse(SVGPlot.lossCurve([0.5], title: "one epoch")).ok)
  }

  @Test("axes: 1-2-5 linear ticks, whole-decade log ranges")
  func axes() {
    let linear = PlotAxis.linear(min: 1, max: 25, from: 0, to: 100)
    #expect(linear.ticks.map(\.label) == ["0", "5", "10", "15", "20", "25"])
    #expect(linear.position(0) == 0 && linear.position(25) == 100)
    let log = PlotAxis.logarithmic(min: 3, max: 121_393, from: 100, to: 0)
    #expect(log.ticks.map(\.label) == ["1", "10", "100", "1000", "10000", "1e5", "1e6"])
    #expect(log.position(1) == 100 && log.position(1e6) == 0 && log.position(0) == nil && log.position(-1) == nil)
  }
}

// MARK: - CLI

@Suite("recur-train eval and baseline CLI")
struct EvaluationCLITests {
  @Test("eval prints both tables and writes generation.svg")
  func eval() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let model = dir.appendingPathComponent("const.recur").path
    try AtomicFile.write(constantModel(1, encoding: .windowDifferences).encoded(), to: model)
    let plots = dir.appendingPathComponent("plots/nested").path
    let result = try runRecurTrain(["eval", "--model", model, "--family", "odd", "--plots", plots])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("| 1, 3, 5, 7, 9 | inside | 0 | 0 | 0 | 0% | 0% | 0% |"))
    #expect(result.stdout.contains("| held-out windows | window MSE (encoded) |"))
    let svg = try String(contentsOfFile: plots + "/generation.svg", encoding: .utf8)
    #expect(SVGCounter.parse(svg).ok)
    // The family defaults to the one recorded in the model; output is deterministic.
    let again = try runRecurTrain(["eval", "--model", model, "--plots", plots])
    #expect(again.stdout == result.stdout)
    #expect(try String(contentsOfFile: plots + "/generation.svg", encoding: .utf8) == svg)
  }

  @Test("eval and baseline refuse bad options with one error line")
  func refusals() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("file").path
    try AtomicFile.write([1, 2, 3], to: file)
    let imported = dir.appendingPathComponent("imported.recur").path
    var model = constantModel(1, encoding: .sequenceMaxScale)
    model.provenance.family = "pytorch-import"
    try AtomicFile.write(model.encoded(), to: imported)
    let cases: [([String], Int32, String)] = [
      (["eval", "--family", "odd"], 2, "error: missing --model FILE"),
      (["eval", "--model", file, "--family", "even"], 2, "error: The value 'even' is invalid for '--family"),
      (
        ["eval", "--model", dir.path + "/missing.recur", "--family", "odd"], 1,
        "error: --model '\(dir.path)/missing.recur': cannot open: No such file or directory"
      ),
      (["eval", "--model", file, "--family", "odd"], 1, "error: --model '\(file)': byte 0: not a Recur model file"),
      (["eval", "--model", file], 1, "error: --model '\(file)': byte 0: not a Recur model file"),
      (
        ["eval", "--model", imported], 2,
        "error: missing --family (odd, fib or linear2): the model records family 'pytorch-import'"
      ),
      (["baseline", "--family", "odd", "--k", "0"], 2, "error: --k 0 must be at least 1"),
      (["baseline", "--family", "fib", "--k", "7"], 2, "error: --k 7 is longer than the fib training window"),
      (["baseline", "--family", "odd", "--width", "0"], 2, "error: --width 0 is out of range 1...1024"),
      (["baseline", "--family", "odd", "--encoding", "log"], 2, "error: The value 'log' is invalid for '--encoding"),
      (
        ["baseline", "--family", "odd", "--lr-schedule", "step"], 2,
        "error: The value 'step' is invalid for '--lr-schedule"
      ),
      (["baseline"], 2, "error: missing --family"),
      (["baseline", "--family", "odd", "--plots", file], 2, "error: --plots '\(file)' exists and is not a directory"),
    ]
    for (arguments, status, expected) in cases {
      let result = try runRecurTrain(arguments)
      #expect(result.status == status, "\(arguments): status \(result.status)")
      #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
      #expect(result.stdout.isEmpty, "\(arguments): work started: \(result.stdout)")
    }
  }

  @Test("train --plots writes loss.svg")
  func trainPlots() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.recur").path
    let plots = dir.appendingPathComponent("plots").path
    let result = try runRecurTrain([
      "train", "--family", "odd", "--sequences", "100", "--validation-sequences", "10", "--epochs", "3",
      "--hidden", "4", "--seed", "3", "--plots", plots, "-o", out,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let svg = try String(contentsOfFile: plots + "/loss.svg", encoding: .utf8)
    let (ok, counter) = SVGCounter.parse(svg)
    #expect(ok && counter.classes["loss"] == 1 && counter.elements["circle"] == 3)
    #expect(svg.contains("Training loss: odd, sequence-max-scale, hidden 4, window 5, seed 3"))
  }
}
