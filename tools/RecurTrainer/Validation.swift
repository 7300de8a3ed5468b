// Held-out validation statistics. Sequences come from the same generator as the training data (drawn after it).
//
// - window MSE: the training loss on the held-out examples (encoded units, every loss-weighted element);
// - next-value error: for each held-out example, |prediction − truth| of the value after it, in real units
//   (mean, sd, median, 95th percentile via GSL);
// - generation error: from each held-out sequence's first `window` values, free-run 20 steps THROUGH THE RUNTIME on
//   the exported bytes (`RecurrentModel(bytes:)` + `SequencePredictor`), against the family rule's continuation;
//   mean |error| of the 1st, 8th and 20th generated value. Every run thereby checks export and runtime.

import Foundation
import RecurRuntime

public struct ValidationReport: Sendable {
  public static let horizons = [1, 8, 20]

  public var sequences = 0
  public var windows = 0
  public var windowMSE = Double.nan
  public var absoluteError = SampleSummary.empty
  /// Mean absolute error of the generated value at each of `horizons`.
  public var generationError: [Double] = [.nan, .nan, .nan]
  public var seedLength = 0

  public init() {}

  /// The statistics as stored in the model file.
  public var stats: ValidationStats {
    var s = ValidationStats()
    s.windows = UInt32(clamping: windows)
    s.seeds = UInt32(clamping: sequences)
    s.windowMSE = Float(windowMSE)
    s.absErrorMean = Float(absoluteError.mean)
    s.absErrorSD = Float(absoluteError.sd)
    s.absErrorMedian = Float(absoluteError.median)
    s.absErrorP95 = Float(absoluteError.p95)
    s.generationError1 = Float(generationError[0])
    s.generationError8 = Float(generationError[1])
    s.generationError20 = Float(generationError[2])
    // The file format refuses infinite statistics (NaN means "not measured"); a diverged generation is reported
    // as the largest float instead.
    func finiteOrMax(_ v: inout Float) {
      if v.isInfinite { v = v > 0 ? .greatestFiniteMagnitude : -.greatestFiniteMagnitude }
    }
    finiteOrMax(&s.windowMSE)
    finiteOrMax(&s.absErrorMean)
    finiteOrMax(&s.absErrorSD)
    finiteOrMax(&s.absErrorMedian)
    finiteOrMax(&s.absErrorP95)
    finiteOrMax(&s.generationError1)
    finiteOrMax(&s.generationError8)
    finiteOrMax(&s.generationError20)
    return s
  }

  /// Measures `parameters` (trainer forward pass) and `file` (through the runtime) on `sequences`.
  public static func measure(
    parameters: Parameters<Float>, file: ModelFile, sequences: [[Int]], family: SequenceFamily
  ) throws(TrainerError) -> ValidationReport {
    let a = parameters.architecture
    guard a.inputSize == 1 && a.outputSize == 1 else {
      throw .invalidOption(
        "validation measures univariate models (input and output size 1); this one has input \(a.inputSize), "
          + "output \(a.outputSize)")
    }
    var report = ValidationReport()
    report.sequences = sequences.count
    let window = file.contextLength

    // 1. Held-out examples through the trainer's own forward pass.
    let examples = ExampleSet(
      sequences: sequences, encoding: file.encoding, window: window,
      minimumDifferences: family.minimumDifferences(window: window))
    report.windows = examples.count
    if examples.count > 0 {
      let graph = BatchGraph<Float>(architecture: a, steps: window, capacity: min(256, examples.count))
      var squaredErrorSum = 0.0
      var weighted = 0
      var errors: [Double] = []
      errors.reserveCapacity(examples.count)
      var start = 0
      while start < examples.count {
        let end = min(examples.count, start + graph.capacity)
        graph.load(examples, indices: Array(start..<end)[...])
        squaredErrorSum += graph.forward(parameters) * Double(graph.weightedElements)
        weighted += graph.weightedElements
        for e in start..<end {
          let y = Double(graph.output(lane: e - start, step: window - 1))
          errors.append(abs(examples.offsets[e] + examples.scales[e] * y - examples.truths[e]))
        }
        start = end
      }
      report.windowMSE = squaredErrorSum / Double(weighted)
      report.absoluteError = GSLStatistics.summary(errors)
    }

    // 2. Free-running generation through the runtime, on the exported bytes.
    let runtimeModel: RecurrentModel
    do {
      runtimeModel = try RecurrentModel(bytes: file.encoded())
    } catch {
      throw .io("the exported model does not load in the runtime: \(error)")
    }
    let predictor = SequencePredictor(model: runtimeModel)
    let steps = Self.horizons.max()!
    var perHorizon = [[Double]](repeating: [], count: Self.horizons.count)
    var generated = [Float](repeating: 0, count: steps)
    // The shortest seed the model was trained to continue: `window` values, or for window-differences models of a
    // family trained on full windows only (linear2) the k + 1 values of a full window.
    let minimumDifferences = family.minimumDifferences(window: window)
    let seedLength = file.encoding == .windowDifferences ? max(window, minimumDifferences + 1) : window
    report.seedLength = seedLength
    for s in sequences where s.count >= seedLength {
      let seed = s.prefix(seedLength).map { Float($0) }
      seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      generated.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      let truth = family.continuation(of: seed.map { Double($0) }, count: steps)
      for (k, h) in Self.horizons.enumerated() {
        perHorizon[k].append(abs(Double(generated[h - 1]) - truth[h - 1]))
      }
    }
    report.generationError = perHorizon.map { GSLStatistics.mean($0) }
    return report
  }

  /// The validation table printed after training.
  public func table() -> String {
    func value(_ v: Double) -> String { v.isNaN ? "n/a" : String(format: "%.6g", v) }
    var rows: [(String, String)] = [
      ("held-out sequences", "\(sequences)"),
      ("held-out windows", "\(windows)"),
      ("window MSE (encoded units)", value(windowMSE)),
      ("next-value |error| mean", value(absoluteError.mean)),
      ("next-value |error| sd", value(absoluteError.sd)),
      ("next-value |error| median", value(absoluteError.median)),
      ("next-value |error| p95", value(absoluteError.p95)),
    ]
    for (k, h) in Self.horizons.enumerated() {
      rows.append(("generation |error| at step \(h)", value(generationError[k])))
    }
    let width = rows.map(\.0.count).max()!
    let valueWidth = max(12, rows.map(\.1.count).max()!)
    var lines = [
      "Validation (real units unless noted; generation from the first \(seedLength) values of each held-out "
        + "sequence, through the runtime)",
      "  " + "statistic".padding(toLength: width, withPad: " ", startingAt: 0) + "  "
        + String(repeating: " ", count: valueWidth - 5) + "value",
      "  " + String(repeating: "-", count: width) + "  "
        + String(repeating: "-", count: valueWidth),
    ]
    for (name, v) in rows {
      lines.append(
        "  " + name.padding(toLength: width, withPad: " ", startingAt: 0) + "  "
          + String(repeating: " ", count: valueWidth - v.count) + v)
    }
    return lines.joined(separator: "\n")
  }
}
