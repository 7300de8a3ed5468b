// Turning integer sequences into training examples, for each encoding a model file can record.
//
// sequence-max-scale (the notebook's `to_batches`): each sequence is divided by its largest magnitude (1 if that is
//   0), then every window of T = `window` consecutive values is an input and the window shifted by one is its target;
//   the loss covers all T steps.
// window-differences (extrapolating): for each sequence and each t in min(2, k)...L-2 the example is
//   `WindowDifferences.example(values:t:k:)` from the runtime (k = window normalised differences, left-zero-padded),
//   and the loss covers only the final step.

import RecurRuntime

/// A set of fixed-length examples in row-major float32 storage, ready to be gathered into minibatches.
public struct ExampleSet: Sendable {
  /// Time steps per example (the window).
  public let steps: Int
  /// Values per time step of the inputs (I) and of the targets (O): 1 for the sequence families.
  public let inputSize: Int
  public let outputSize: Int
  /// True when only the final step of each example carries a target (window-differences).
  public let lossOnFinalStepOnly: Bool
  /// Inputs, `[count][steps][I]`, in encoded units.
  public private(set) var inputs: [Float] = []
  /// Targets, `[count][steps][O]`, in encoded units (only the final step is used when `lossOnFinalStepOnly`).
  public private(set) var targets: [Float] = []
  /// The real-unit next value predicted from example `e` is `offsets[e] + scales[e] * y`, where `y` is the model's
  /// output at the final step; `truths[e]` is the value that actually follows.
  public private(set) var offsets: [Double] = []
  public private(set) var scales: [Double] = []
  public private(set) var truths: [Double] = []

  public init(steps: Int, lossOnFinalStepOnly: Bool, inputSize: Int = 1, outputSize: Int = 1) {
    self.steps = steps
    self.lossOnFinalStepOnly = lossOnFinalStepOnly
    self.inputSize = inputSize
    self.outputSize = outputSize
  }

  public var count: Int { inputs.count / (steps * inputSize) }

  /// Number of loss-weighted elements per example.
  public var weightedStepsPerExample: Int { lossOnFinalStepOnly ? 1 : steps }

  mutating func append(
    inputs x: [Float], targets y: [Float], offset: Double, scale: Double, truth: Double
  ) {
    precondition(x.count == steps && y.count == steps && inputSize == 1 && outputSize == 1)
    inputs += x
    targets += y
    offsets.append(offset)
    scales.append(scale)
    truths.append(truth)
  }
}

extension ExampleSet {
  /// Appends one multichannel example (`x` [steps][I], `y` [steps][O], encoded units) without real-unit
  /// bookkeeping (`recur-train fit` scores through the runtime instead).
  mutating func append(inputs x: ArraySlice<Float>, targets y: ArraySlice<Float>) {
    precondition(x.count == steps * inputSize && y.count == steps * outputSize)
    inputs += x
    targets += y
  }

  /// Encodes `sequences` with `encoding` and window (or difference count) `window`; window-differences examples
  /// hold at least `minimumDifferences` known differences (default min(2, window)).
  public init(sequences: [[Int]], encoding: Encoding, window: Int, minimumDifferences: Int? = nil) {
    switch encoding {
    case .sequenceMaxScale: self = Self.sequenceMaxScale(sequences, window: window)
    case .identity: self = Self.sequenceMaxScale(sequences, window: window, normalise: false)
    case .windowDifferences:
      self = Self.windowDifferences(sequences, window: window, first: minimumDifferences ?? min(2, window))
    case .standardize, .standardizeDifferences: preconditionFailure("fit encodes its own windows (FitData)")
    }
  }

  /// The notebook's `to_batches(seqs, in_len=window)`. Normalised values are computed in Double and rounded to
  /// float32 once, as `torch.tensor(..., dtype=torch.float32)` does with Python floats.
  /// With `normalise: false`, the identity encoding: the same windows in raw units.
  public static func sequenceMaxScale(_ sequences: [[Int]], window: Int, normalise: Bool = true) -> ExampleSet {
    var set = ExampleSet(steps: window, lossOnFinalStepOnly: false)
    for s in sequences {
      let peak = s.map { abs($0) }.max() ?? 0
      let scale = normalise && peak > 0 ? Double(peak) : 1.0
      let normalised = s.map { Float(Double($0) / scale) }
      guard s.count > window else { continue }
      for start in 0..<(s.count - window) {
        set.append(
          inputs: Array(normalised[start..<(start + window)]),
          targets: Array(normalised[(start + 1)...(start + window)]),
          offset: 0, scale: scale, truth: Double(s[start + window]))
      }
    }
    return set
  }

  /// One example per sequence and per t in min(2, window)...L-2: predict `values[t + 1]` from `values[0...t]`.
  /// Examples start once two differences exist (one when window = 1): from a single difference the next one is not
  /// determined for a second-order recurrence (Fibonacci-like runs (0,1), (1,2), (2,3) share d = 1 but continue
  /// with 0, 1, 2), so such examples are pure noise; measured, they held the fib model at a window MSE of 0.05.
  public static func windowDifferences(_ sequences: [[Int]], window: Int, first: Int? = nil) -> ExampleSet {
    var set = ExampleSet(steps: window, lossOnFinalStepOnly: true)
    let first = first ?? min(2, window)
    for s in sequences where s.count >= first + 2 {
      let values = s.map { Float($0) }
      for t in first...(s.count - 2) {
        let e = WindowDifferences.example(values: values, t: t, k: window)
        var targets = [Float](repeating: 0, count: window)
        targets[window - 1] = e.target
        set.append(
          inputs: e.inputs, targets: targets, offset: Double(values[t]), scale: Double(e.scale),
          truth: Double(values[t + 1]))
      }
    }
    return set
  }
}
