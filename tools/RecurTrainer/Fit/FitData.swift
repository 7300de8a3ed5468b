// `recur-train fit`'s view of a data file: which columns go in and which are predicted, the chronological split
// into a training part and a validation part of each sequence, the standardisation fitted on the training parts
// (GSL), and the training windows in exactly the encoding the runtime applies (SequencePredictor, standardised
// encodings), so that what the trainer fits is what `recur stream` computes.
//
// Encodings (u_t = v_t for standardize; u_t = v_t − v_{t−1}, u_0 = 0 for standardize-differences):
//   cell input  x_t[i] = (u_t[input i] − inputShift[i]) / inputScale[i]                 Float arithmetic, as the runtime
//   target      y_t[o] = (u_{t+1}[target o] − outputShift[o]) / outputScale[o]          predicts step t + 1
// With a linear term (format version 6, `LinearPart`), the target is what the term leaves:
//   target      y_t[o] = (v_{t+1}[target o] − base_t[o] − outputShift[o]) / outputScale[o]
// base_t the term's prediction of step t + 1 (`LinearPart.bases`), the shift and scale the residuals' mean and
// standard deviation over the training parts.
// A training window is W consecutive steps s ..< s + W of one training part from a zero state, with the loss on every
// step; s runs over 0 ... L − 1 − W, so every prediction the runtime makes inside the training part (from the last
// min(t + 1, W) steps) is one of the outputs trained on.

import CGSL
import RecurRuntime

/// A segment to score: predictions of steps `scoredFrom ..< steps` of `sequence`, each from the steps before it.
public struct ScoredSegment: Sendable {
  public var sequence: DataSequence
  /// The first step predicted (every earlier step is history).
  public var scoredFrom: Int

  public init(sequence: DataSequence, scoredFrom: Int) {
    precondition(scoredFrom >= 1 && scoredFrom <= sequence.steps)
    (self.sequence, self.scoredFrom) = (sequence, scoredFrom)
  }
}

public struct FitData: Sendable {
  /// The most memory the materialised training windows may take.
  public static let maxExampleBytes = 512 << 20

  public let table: DataTable
  /// Data columns the model reads (I of them) and predicts (O of them).
  public let inputColumns: [Int]
  public let targetColumns: [Int]
  public let encoding: Encoding
  /// The training part of each sequence: [steps][all columns].
  public let trainingParts: [DataSequence]
  /// Each sequence in full (training part, then validation steps), scored from the end of its training part.
  public let validation: [ScoredSegment]
  public private(set) var normalization: Normalization
  /// The linear part the network's targets are residuals of (nil: none; `useLinearTerm`).
  public private(set) var linearTerm: LinearTerm? = nil

  /// Splits `table`: the last `validationFraction` of each sequence is held out (at least one step when the
  /// fraction is positive), or, with `validationTable`, sequence k of that file continues sequence k of `table`.
  public init(
    table: DataTable, inputs: [Int], targets: [Int], encoding: Encoding, window: Int, validationFraction: Double,
    validationTable: DataTable?
  ) throws(TrainerError) {
    precondition(encoding.isStandardized)
    if encoding == .standardizeDifferences && inputs != targets {
      throw .invalidOption(
        "--encoding standardize-differences predicts the columns it reads: --target must equal --inputs "
          + "(use --encoding standardize to predict other columns)")
    }
    self.table = table
    inputColumns = inputs
    targetColumns = targets
    self.encoding = encoding
    var parts: [DataSequence] = []
    var segments: [ScoredSegment] = []
    if let validationTable {
      guard validationTable.columns == table.columns else {
        throw .invalidData(
          "\(validationTable.path == "-" ? "stdin" : validationTable.path) has \(validationTable.columns) columns; "
            + "the training data has \(table.columns)")
      }
      guard validationTable.sequences.count == table.sequences.count else {
        throw .invalidData(
          "\(validationTable.path) holds \(validationTable.sequences.count) sequences; each of the "
            + "\(table.sequences.count) training sequences needs its continuation, in order")
      }
      for (k, (train, held)) in zip(table.sequences, validationTable.sequences).enumerated() {
        guard train.steps >= window + 1 else {
          throw .invalidData(
            "\(DataTable.position(table.path, line: train.firstLine)): sequence \(k + 1) has \(train.steps) training "
              + "steps; --window \(window) needs at least \(window + 1) (use a smaller --window or more data)")
        }
        parts.append(train)
        segments.append(
          ScoredSegment(
            sequence: DataSequence(
              values: train.values + held.values, columns: train.columns, firstLine: train.firstLine),
            scoredFrom: train.steps))
      }
    } else {
      for (k, s) in table.sequences.enumerated() {
        let held = validationFraction > 0 ? max(1, Int((Double(s.steps) * validationFraction).rounded())) : 0
        let kept = s.steps - held
        // Checked before the split is made: a one-row sequence, or --validation 0.999, leaves no training steps.
        guard kept >= window + 1 else {
          throw .invalidData(
            "\(DataTable.position(table.path, line: s.firstLine)): sequence \(k + 1) has \(s.steps) step"
              + "\(s.steps == 1 ? "" : "s"), \(held) held out for validation, so \(kept) training step\(kept == 1 ? "" : "s"); --window "
              + "\(window) needs at least \(window + 1) (use a smaller --window or --validation, or more data)")
        }
        parts.append(
          DataSequence(values: Array(s.values[..<(kept * s.columns)]), columns: s.columns, firstLine: s.firstLine))
        if held > 0 { segments.append(ScoredSegment(sequence: s, scoredFrom: kept)) }
      }
    }
    for (k, part) in parts.enumerated() where part.steps < window + 1 {
      throw .invalidData(
        "\(DataTable.position(table.path, line: part.firstLine)): sequence \(k + 1) has \(part.steps) training "
          + "steps; --window \(window) needs at least \(window + 1) (use a smaller --window or more data)")
    }
    guard !segments.isEmpty else {
      throw .invalidOption("nothing to validate on: use --validation with a fraction above 0 or --validation-data")
    }
    // The training windows are materialised (`examples(window:)`): W steps of I + O floats each, overlapping, so a
    // long --window over a long series multiplies the data (--window 4096 over 90,000 steps: 2.8 GB). Bounded here.
    var exampleBytes = 0
    for part in parts {
      let (floats, o1) = (part.steps - window).multipliedReportingOverflow(by: window * (inputs.count + targets.count))
      let (total, o2) = exampleBytes.addingReportingOverflow(floats &* 4)
      guard !o1 && !o2 && floats <= Int.max / 4 && total <= Self.maxExampleBytes else {
        throw .invalidData(
          "--window \(window) makes \(parts.reduce(0) { $0 + max($1.steps - window, 0) }) training windows of "
            + "\(window) steps: more than \(Self.maxExampleBytes >> 20) MiB of training examples; use a smaller --window"
        )
      }
      exampleBytes = total
    }
    trainingParts = parts
    validation = segments
    normalization = try Self.standardization(parts, inputs: inputs, targets: targets, encoding: encoding)
  }

  /// Mean and standard deviation (GSL, n − 1) of each column's u over the training parts; a scale of 0 (a constant
  /// column) or below float precision becomes 1, so constant columns pass through unscaled.
  static func standardization(
    _ parts: [DataSequence], inputs: [Int], targets: [Int], encoding: Encoding
  ) throws(TrainerError) -> Normalization {
    func stats(_ column: Int) -> (Float, Float) {
      var u: [Double] = []
      for p in parts {
        for t in 0..<p.steps {
          if encoding == .standardizeDifferences {
            if t > 0 { u.append(Double(p[t, column]) - Double(p[t - 1, column])) }
          } else {
            u.append(Double(p[t, column]))
          }
        }
      }
      GSL.start()
      let mean = u.isEmpty ? 0 : u.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
      let sd = u.count < 2 ? 0 : u.withUnsafeBufferPointer { gsl_stats_sd($0.baseAddress, 1, $0.count) }
      let scale = Float(sd)
      return (Float(mean), scale.isFinite && scale > 1e-30 ? scale : 1)
    }
    let i = inputs.map(stats)
    let o = targets.map(stats)
    return Normalization(
      inputShift: i.map(\.0), inputScale: i.map(\.1), outputShift: o.map(\.0), outputScale: o.map(\.1))
  }

  /// Makes the targets the residuals of `term` (see the file comment): the output shift and scale become the
  /// residuals' mean and standard deviation (GSL, n − 1) over the training parts.
  public mutating func useLinearTerm(_ term: LinearTerm) {
    precondition(term.bias.count == outputSize && term.weight.count == outputSize * term.order * inputSize)
    linearTerm = term
    var residuals = [[Double]](repeating: [], count: outputSize)
    for part in trainingParts {
      let bases = LinearPart.bases(term, part, inputColumns: inputColumns)
      for t in 0..<(part.steps - 1) {
        for (o, c) in targetColumns.enumerated() {
          residuals[o].append(Double(part[t + 1, c] - bases[t * outputSize + o]))
        }
      }
    }
    GSL.start()
    var shift: [Float] = []
    var scale: [Float] = []
    for r in residuals {
      let mean = r.isEmpty ? 0 : r.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
      let sd = r.count < 2 ? 0 : r.withUnsafeBufferPointer { gsl_stats_sd($0.baseAddress, 1, $0.count) }
      shift.append(Float(mean))
      scale.append(Float(sd).isFinite && Float(sd) > 1e-30 ? Float(sd) : 1)
    }
    normalization.outputShift = shift
    normalization.outputScale = scale
  }

  /// The validation steps to score, with the training parts for the AR baseline.
  public var forecastTask: ForecastTask {
    ForecastTask(
      inputColumns: inputColumns, targetColumns: targetColumns, segments: validation, trainingParts: trainingParts)
  }

  public var inputSize: Int { inputColumns.count }
  public var outputSize: Int { targetColumns.count }

  /// u_t of `column` (see the file comment), in Float as the runtime computes it.
  @inline(__always)
  func u(_ s: DataSequence, _ t: Int, _ column: Int) -> Float {
    encoding == .standardizeDifferences ? (t == 0 ? 0 : s[t, column] - s[t - 1, column]) : s[t, column]
  }

  /// Every training window of `window` steps, encoded.
  public func examples(window: Int) -> ExampleSet {
    let (I, O, n) = (inputSize, outputSize, normalization)
    var set = ExampleSet(steps: window, lossOnFinalStepOnly: false, inputSize: I, outputSize: O)
    for part in trainingParts {
      // The whole part encoded once: x [L][I], y [L − 1][O].
      var x = [Float](repeating: 0, count: part.steps * I)
      var y = [Float](repeating: 0, count: (part.steps - 1) * O)
      let bases = linearTerm.map { LinearPart.bases($0, part, inputColumns: inputColumns) }
      for t in 0..<part.steps {
        for (i, c) in inputColumns.enumerated() { x[t * I + i] = (u(part, t, c) - n.inputShift[i]) / n.inputScale[i] }
        guard t + 1 < part.steps else { continue }
        for (o, c) in targetColumns.enumerated() {
          let target = bases.map { part[t + 1, c] - $0[t * O + o] } ?? u(part, t + 1, c)
          y[t * O + o] = (target - n.outputShift[o]) / n.outputScale[o]
        }
      }
      for s in 0...(part.steps - 1 - window) {
        set.append(inputs: x[(s * I)..<((s + window) * I)], targets: y[(s * O)..<((s + window) * O)])
      }
    }
    return set
  }
}
