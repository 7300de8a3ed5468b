// `recur-train eval` (and the baseline's report): free-running generation error over a fixed, documented seed set,
// and next-value statistics on a fixed held-out set. Any `SequenceGenerator` can be measured, so the RNN (through the
// runtime) and the feedforward baseline fill the same tables.
//
// The seed set (`SequenceFamily.evaluationSeeds`), per family, against the training generator's range:
//   odd: five consecutive odd numbers from start 1 and 5 (inside: training starts are 1, 3, ..., 13), 13 (edge: the
//        largest training start), 21, 101 and 999 (outside).
//   fib: [1,1,2,3,5,8] and [0,1,1,2,3] (inside: training seeds a0 ∈ 0...2, a1 ∈ 1...3), [2,3,5,8,13,21] (edge: the
//        largest (a0, a1) = (2, 3)), [5,8,13,21,34] and [89,144,233,377] (outside: never a training start).
// Each seed is continued for 20 steps; the truth is the family rule (odd +2, fib sum of the last two). Errors are
// reported at horizons 1, 8 and 20 as |generated − truth| and |generated − truth| / |truth|, with the median over the
// seeds of each column.
//
// The held-out set: 400 sequences of the family drawn by the family's generator from a GSL mt19937 seeded with 2026
// (independent of any training seed), encoded with the model's own encoding and window.

import Foundation
import RecurRuntime

// MARK: - The seed set

/// Where a seed lies relative to the training generator's range.
public enum SeedRegion: String, Sendable, CaseIterable {
  case inside, edge, outside
}

/// One fixed evaluation seed.
public struct EvaluationSeed: Sendable, Equatable {
  public var values: [Double]
  public var region: SeedRegion

  public init(_ values: [Double], _ region: SeedRegion) {
    self.values = values
    self.region = region
  }

  /// The values, comma separated (integers print without a decimal point).
  public var label: String { values.map(formatInteger).joined(separator: ", ") }
}

extension SequenceFamily {
  /// The fixed evaluation seeds (see the top of this file for why each is inside, at the edge or outside).
  public var evaluationSeeds: [EvaluationSeed] {
    switch self {
    case .odd:
      func run(_ start: Int) -> [Double] { (0..<5).map { Double(start + 2 * $0) } }
      return [
        EvaluationSeed(run(1), .inside), EvaluationSeed(run(5), .inside),
        EvaluationSeed(run(13), .edge),
        EvaluationSeed(run(21), .outside), EvaluationSeed(run(101), .outside),
        EvaluationSeed(run(999), .outside),
      ]
    case .fib:
      return [
        EvaluationSeed([1, 1, 2, 3, 5, 8], .inside), EvaluationSeed([0, 1, 1, 2, 3], .inside),
        EvaluationSeed([2, 3, 5, 8, 13, 21], .edge),
        EvaluationSeed([5, 8, 13, 21, 34], .outside), EvaluationSeed([89, 144, 233, 377], .outside),
      ]
    case .linear2:
      // Five values of a(n+1) = p a(n) + q a(n-1) from (a0, a1): starts inside -100...100, then far outside.
      func run(_ p: Double, _ q: Double, _ a0: Double, _ a1: Double) -> [Double] {
        var v = [a0, a1]
        while v.count < 5 { v.append(p * v[v.count - 1] + q * v[v.count - 2]) }
        return v
      }
      return [
        EvaluationSeed(run(2, -1, 1, 3), .inside), EvaluationSeed(run(1, 1, 1, 1), .inside),
        EvaluationSeed(run(-1, 2, 5, -7), .inside),
        EvaluationSeed(run(2, -1, 99, 100), .edge),
        EvaluationSeed(run(2, -1, -50_000, -49_998), .outside), EvaluationSeed(run(2, 1, 1_000, 2_500), .outside),
        EvaluationSeed(run(3, 0, 7_000, 21_000), .outside), EvaluationSeed(run(0, 1, 123_456, -654_321), .outside),
      ]
    }
  }
}

// MARK: - Generators

/// Anything that continues a real-valued seed: the runtime's predictor, the feedforward baseline.
public protocol SequenceGenerator {
  /// The `count` values that follow `seed` (at least one value), in real units.
  func continuation(of seed: [Double], count: Int) -> [Double]
}

/// A model file through the runtime: `SequencePredictor.begin(seed:)` then `generate(into:)`, in float32.
public final class RuntimeGenerator: SequenceGenerator {
  public let predictor: SequencePredictor

  public init(model: RecurrentModel) {
    predictor = SequencePredictor(model: model)
  }

  public func continuation(of seed: [Double], count: Int) -> [Double] {
    let floats = seed.map { Float($0) }
    floats.withUnsafeBufferPointer { predictor.begin(seed: $0) }
    var out = [Float](repeating: 0, count: count)
    out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    return out.map { Double($0) }
  }
}

// MARK: - Generation table

/// Free-running generation error of one generator over a family's seed set.
public struct GenerationEvaluation: Sendable {
  /// Generated values per seed.
  public static let steps = 20
  /// Reported horizons (the same as the validation statistics').
  public static let horizons = ValidationReport.horizons

  public struct Row: Sendable {
    public var seed: EvaluationSeed
    /// The `steps` generated values and the family rule's values.
    public var generated: [Double]
    public var truth: [Double]
    /// |generated − truth| and |generated − truth| / |truth| at each of `horizons`.
    public var absolute: [Double]
    public var relative: [Double]
  }

  public var family: SequenceFamily
  public var rows: [Row]
  /// Medians over the seeds (GSL), per horizon.
  public var medianAbsolute: [Double]
  public var medianRelative: [Double]

  /// Runs `generator` on every seed of `family.evaluationSeeds`.
  public init(family: SequenceFamily, generator: some SequenceGenerator) {
    self.init(family: family, seeds: family.evaluationSeeds, generator: generator)
  }

  public init(family: SequenceFamily, seeds: [EvaluationSeed], generator: some SequenceGenerator) {
    self.family = family
    rows = seeds.map { seed in
      let generated = generator.continuation(of: seed.values, count: Self.steps)
      let truth = family.continuation(of: seed.values, count: Self.steps)
      let absolute = Self.horizons.map { abs(generated[$0 - 1] - truth[$0 - 1]) }
      let relative = zip(Self.horizons, absolute).map { h, e in e / abs(truth[h - 1]) }
      return Row(seed: seed, generated: generated, truth: truth, absolute: absolute, relative: relative)
    }
    let rows = self.rows
    medianAbsolute = Self.horizons.indices.map { k in GSLStatistics.summary(rows.map { $0.absolute[k] }).median }
    medianRelative = Self.horizons.indices.map { k in GSLStatistics.summary(rows.map { $0.relative[k] }).median }
  }

  /// A markdown table: one row per seed with its region, then the medians.
  public func markdownTable() -> String {
    let h = Self.horizons
    var lines = [
      "| seed | region | " + h.map { "abs err @\($0)" }.joined(separator: " | ") + " | "
        + h.map { "rel err @\($0)" }.joined(separator: " | ") + " |",
      "|---|---|" + String(repeating: "--:|", count: 2 * h.count),
    ]
    for row in rows {
      lines.append(
        "| \(row.seed.label) | \(row.seed.region.rawValue) | "
          + row.absolute.map(formatError).joined(separator: " | ") + " | "
          + row.relative.map(formatRelative).joined(separator: " | ") + " |")
    }
    lines.append(
      "| median of \(rows.count) seeds | | " + medianAbsolute.map(formatError).joined(separator: " | ") + " | "
        + medianRelative.map(formatRelative).joined(separator: " | ") + " |")
    return lines.joined(separator: "\n")
  }
}

// MARK: - Held-out statistics

public enum HeldOut {
  /// The GSL mt19937 seed of the held-out evaluation set; independent of any training seed.
  public static let seed: UInt64 = 2026
  public static let count = 400

  /// The held-out evaluation sequences: `count` sequences of `family` drawn from a generator seeded with `seed`.
  public static func sequences(_ family: SequenceFamily) throws(TrainerError) -> [[Int]] {
    family.makeSequences(count: count, rng: try GSLRandom(seed: seed))
  }

  /// A one-row markdown table of `report`'s next-value statistics.
  public static func markdownTable(_ report: ValidationReport) -> String {
    [
      "| held-out windows | window MSE (encoded) | next-value abs err mean | sd | median | p95 |",
      "|--:|--:|--:|--:|--:|--:|",
      "| \(report.windows) | \(formatError(report.windowMSE)) | \(formatError(report.absoluteError.mean)) | "
        + "\(formatError(report.absoluteError.sd)) | \(formatError(report.absoluteError.median)) | "
        + "\(formatError(report.absoluteError.p95)) |",
    ].joined(separator: "\n")
  }
}

// MARK: - Evaluating a model file

/// Everything `recur-train eval` prints about one model file.
public struct ModelEvaluation: Sendable {
  public var file: ModelFile
  public var family: SequenceFamily
  public var generation: GenerationEvaluation
  public var heldOut: ValidationReport

  /// Loads `bytes` through the runtime's reader, runs the seed set through `SequencePredictor`, and measures the
  /// held-out set with `ValidationReport` (trainer forward pass for the windows, the model's encoding and window).
  public static func evaluate(modelBytes bytes: [UInt8], family: SequenceFamily) throws(TrainerError)
    -> ModelEvaluation
  {
    let model: RecurrentModel
    do {
      model = try RecurrentModel(bytes: bytes)
    } catch {
      throw .io("cannot load the model: \(error)")
    }
    let a = model.architecture
    // The family tables encode the family's sequences with the model's own encoding; a `fit` model's standardised
    // encodings hold statistics of the user's data, not of a family.
    guard !model.file.encoding.isStandardized else {
      throw .invalidOption(
        "eval measures models trained on a sequence family; this model's encoding is \(model.file.encoding.name) "
          + "(a `recur-train fit` model): measure it with `recur-train score` on its data")
    }
    guard a.inputSize == 1 && a.outputSize == 1 else {
      throw .invalidOption(
        "eval measures univariate models (input and output size 1); this one has input \(a.inputSize), output "
          + "\(a.outputSize)")
    }
    let generation = GenerationEvaluation(family: family, generator: RuntimeGenerator(model: model))
    let heldOut = try ValidationReport.measure(
      parameters: Parameters<Float>(model.file), file: model.file, sequences: try HeldOut.sequences(family),
      family: family)
    return ModelEvaluation(file: model.file, family: family, generation: generation, heldOut: heldOut)
  }

  /// One line describing the model: cell, sizes, encoding, parameters and provenance.
  public var modelDescription: String {
    let p = file.provenance
    let a = file.architecture
    let layers = a.layers == 1 ? "" : ", \(a.layers) layers"
    var text =
      "\(a.kind.title)\(layers), hidden \(file.hiddenSize), window \(file.contextLength), \(file.encoding.name), "
      + "\(file.parameterCount) parameters"
    if !p.family.isEmpty {
      text +=
        "; trained on \(p.family), seed \(p.seed), \(p.epochs) epochs, lr \(formatError(Double(p.learningRate)))"
    }
    return text
  }

  /// The printed report: both tables with their captions.
  public func report(name: String) -> String {
    evaluationReport(
      title: "Model \(name): \(modelDescription)", generatorNote: "through the runtime", family: family,
      generation: generation, heldOut: heldOut, window: file.contextLength, encoding: file.encoding,
      mseNote: file.encoding == .sequenceMaxScale ? "every step of each window" : "the final step of each window")
  }
}

/// The shared report layout of `eval` and `baseline`.
func evaluationReport(
  title: String, generatorNote: String, family: SequenceFamily, generation: GenerationEvaluation,
  heldOut: ValidationReport, window: Int, encoding: Encoding, mseNote: String
) -> String {
  [
    title,
    "",
    "Free-running generation, \(GenerationEvaluation.steps) steps \(generatorNote); truth by the \(family.rawValue) "
      + "rule; rel err = abs err / |truth|:",
    "",
    generation.markdownTable(),
    "",
    "Held-out next value (\(heldOut.sequences) \(family.rawValue) sequences, GSL seed \(HeldOut.seed); "
      + "\(encoding.name) windows of \(window); abs err in real units; window MSE over \(mseNote)):",
    "",
    HeldOut.markdownTable(heldOut),
  ].joined(separator: "\n")
}

// MARK: - Number formatting (fixed, so tables and plots can be golden files)

/// An integer-valued number without a decimal point; anything else with `%.6g`.
func formatInteger(_ v: Double) -> String {
  if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
  return String(format: "%.6g", v)
}

/// An error or statistic: `0` for exactly zero, otherwise four significant digits; `n/a` for NaN.
func formatError(_ v: Double) -> String {
  if v.isNaN { return "n/a" }
  if v.isInfinite { return v > 0 ? "inf" : "-inf" }
  if v == 0 { return "0" }
  return String(format: "%.4g", v)
}

/// A relative error as a percentage with three significant digits.
func formatRelative(_ v: Double) -> String {
  if v.isNaN { return "n/a" }
  if v.isInfinite { return "inf" }
  if v == 0 { return "0%" }
  return String(format: "%.3g%%", v * 100)
}
