// Real-valued sequences in, real-valued predictions out: the model's encoding applied around a `RecurrentCell`.
//
// sequence-max-scale (the seed notebook's encoding)
//   generate: scale = max(1, max |seed|); prime a zero state with seed / scale; feed the last seed value again as the
//             first input; free-run on the model's own (normalised) outputs; print outputs * scale. This is the
//             notebook's `generate_sequence`, including its feeding the last seed value twice.
//   stream:   causal: after value v_t the scale is s_t = max(1, |v_1|, ..., |v_t|); the cell is fed v_t / s_t and the
//             prediction of v_{t+1} is y_t * s_t. The hidden state is carried as it is when the scale grows.
//
// identity (any input and output size)
//   stream:   the cell is fed each step's values as they are and its readout is the prediction of the next step.
//   generate: the seed's steps are fed in order; the readout after the last one is the first generated step, and
//             every readout is fed back as the next input (input size = output size).
//
// window-differences (extrapolating)
//   Every prediction reads the last k+1 known values (k = contextLength), takes their k differences d, divides them by
//   s = max |d| (1 if all are zero), left-pads with zeros when fewer than k differences exist, runs the cell from a
//   zero state over those k inputs, and predicts last + s * y. Exactly the function the trainer fits, so streaming,
//   generation and training agree by construction. Cost: k cell steps per prediction. With a mixture readout
//   (format version 4), y is `ExpertMixture.combine` of the readout's expert logits and the last m of those inputs.
//
// standardize / standardize-differences (real data, `recur-train fit`; any I and O / I = O)
//   Every prediction reads the last n = min(t, k) time steps (k = contextLength) of the current sequence, encodes
//   each column as (u − inputShift) / inputScale, where u is the value (standardize) or its difference from the step
//   before (standardize-differences; 0 for the first step of a sequence), runs the cell from a zero state over those
//   n steps and maps the readout back: outputShift + outputScale · y, plus the current value for differences. The
//   trainer scores and fits exactly this function (windows of k steps from a zero state), so streaming, generation
//   and training agree. Generation appends each prediction to the history and predicts again. Cost: n cell steps
//   per prediction.
//   With a linear term (format version 6, `LinearTerm`) the base is that term over the last p steps' values (lags
//   before the sequence's first step read that step) instead of the current value (differences) or zero (levels):
//   prediction = base + outputShift + outputScale · y. The history then keeps max(k + 1, p) steps.

public final class SequencePredictor {
  public let model: RecurrentModel
  public let cell: RecurrentCell
  public var encoding: Encoding { model.file.encoding }

  // sequence-max-scale
  private var streamScale: Float = 1
  private var generationScale: Float = 1
  private var nextInput: Float = 0  // normalised input for the next generated step
  private let pendingStep: UnsafeMutablePointer<Float>  // [inputSize] the next generated step's input (identity)

  // window-differences and the standardised encodings
  private let contextLength: Int
  /// The time steps a prediction reads at most: k + 1, or p when a linear term reads more (standardised encodings).
  public let historyCapacity: Int
  private let history: UnsafeMutablePointer<Float>  // [historyCapacity][I] ring buffer of the latest time steps
  private let window: UnsafeMutablePointer<Float>  // [k][I] the cell's inputs, oldest first (window-differences: I = 1)
  private var historyStart = 0
  private var historyCount = 0

  // standardised encodings: the file's normalisation (empty otherwise) and the readout
  private let inputShift: [Float]  // [I]
  private let inputScale: [Float]  // [I]
  private let outputShift: [Float]  // [O]
  private let outputScale: [Float]  // [O]
  private let readout: UnsafeMutablePointer<Float>  // [max(O, R)] the readout (R = readoutSize: a mixture's logits)
  private let linearTerm: LinearTerm?
  private let lags: UnsafeMutablePointer<Float>  // [p][I] the linear term's inputs, lag 1 (the newest step) first
  private let base: UnsafeMutablePointer<Float>  // [O] the linear term's values

  public init(model: RecurrentModel) {
    self.model = model
    self.cell = RecurrentCell(model: model)
    contextLength = model.file.contextLength
    let (I, O) = (model.inputSize, model.outputSize)
    linearTerm = model.file.linearTerm
    let p = linearTerm?.order ?? 0
    precondition(
      linearTerm.map { $0.bias.count == O && $0.weight.count == O * p * I } ?? true,
      "a linear term has [O][p·I] weights and O biases (the reader checks files; this is for models built in code)")
    historyCapacity = max(contextLength + 1, p)
    history = .allocate(capacity: historyCapacity * I)
    history.initialize(repeating: 0, count: historyCapacity * I)
    lags = .allocate(capacity: max(p * I, 1))
    lags.initialize(repeating: 0, count: max(p * I, 1))
    base = .allocate(capacity: O)
    base.initialize(repeating: 0, count: O)
    window = .allocate(capacity: contextLength * I)
    window.initialize(repeating: 0, count: contextLength * I)
    pendingStep = .allocate(capacity: I)
    pendingStep.initialize(repeating: 0, count: I)
    let readoutCount = max(O, model.readoutSize)
    readout = .allocate(capacity: readoutCount)
    readout.initialize(repeating: 0, count: readoutCount)
    let n = model.file.normalization ?? Normalization(inputSize: I, outputSize: O)
    (inputShift, inputScale, outputShift, outputScale) = (n.inputShift, n.inputScale, n.outputShift, n.outputScale)
  }

  deinit {
    history.deallocate()
    window.deallocate()
    pendingStep.deallocate()
    readout.deallocate()
    lags.deallocate()
    base.deallocate()
  }

  /// Forgets the current sequence (a blank line in `recur stream`).
  public func reset() {
    cell.reset()
    streamScale = 1
    historyStart = 0
    historyCount = 0
  }

  // MARK: Streaming

  /// Feeds the next real value of the sequence; returns the prediction of the value after it. Causal.
  public func observe(_ value: Float) -> Float {
    switch model.file.encoding {
    case .identity:
      return cell.step(value)
    case .sequenceMaxScale:
      streamScale = max(streamScale, abs(value))
      return cell.step(value / streamScale) * streamScale
    case .windowDifferences:
      push(value)
      return predictFromHistory()
    case .standardize, .standardizeDifferences:
      pendingStep[0] = value
      pushStep(pendingStep)
      predictStandardized(into: readout)
      return readout[0]
    }
  }

  /// Feeds one time step of `inputSize` values and writes the prediction of the next step (`outputSize` values).
  /// Univariate encodings go through `observe(_: Float)`.
  public func observe(_ values: UnsafePointer<Float>, into prediction: UnsafeMutablePointer<Float>) {
    if model.file.encoding == .identity {
      cell.step(values, into: prediction)
    } else if model.file.encoding.isStandardized {
      pushStep(values)
      predictStandardized(into: prediction)
    } else {
      prediction[0] = observe(values[0])
    }
  }

  // MARK: Generation

  /// Starts a continuation of `seed` (at least one value). Follow with `generate(into:)` calls.
  public func begin(seed: UnsafeBufferPointer<Float>) {
    precondition(!seed.isEmpty, "seed must hold at least one value")
    reset()
    switch model.file.encoding {
    case .identity:
      // Univariate here (input = output = 1); `begin(steps:)` is the general form.
      cell.prime(UnsafeBufferPointer(rebasing: seed[0..<(seed.count - 1)]))
      nextInput = seed[seed.count - 1]
    case .sequenceMaxScale:
      var scale: Float = 1
      for v in seed { scale = max(scale, abs(v)) }
      generationScale = scale
      for v in seed { _ = cell.step(v / scale) }
      nextInput = seed[seed.count - 1] / scale
    case .windowDifferences:
      // Index arithmetic, not `suffix`: the generic slice path allocated in debug builds (AllocationTests).
      for i in max(0, seed.count - (contextLength + 1))..<seed.count { push(seed[i]) }
    case .standardize, .standardizeDifferences:
      for i in max(0, seed.count - historyCapacity)..<seed.count {
        pendingStep[0] = seed[i]
        pushStep(pendingStep)
      }
    }
  }

  /// Writes the next `out.count` values of the continuation; call repeatedly to continue it without allocating.
  public func generate(into out: UnsafeMutableBufferPointer<Float>) {
    guard !out.isEmpty else { return }
    switch model.file.encoding {
    case .identity:
      cell.freeRun(firstInput: nextInput, into: out)
      nextInput = out[out.count - 1]
    case .sequenceMaxScale:
      cell.freeRun(firstInput: nextInput, into: out)
      nextInput = out[out.count - 1]
      let scale = generationScale
      for i in out.indices { out[i] *= scale }
    case .windowDifferences:
      for i in out.indices {
        let next = predictFromHistory()
        out[i] = next
        push(next)
      }
    case .standardize, .standardizeDifferences:
      for i in out.indices {
        predictStandardized(into: readout)
        out[i] = readout[0]
        pushStep(readout)
      }
    }
  }

  // MARK: Several channels (identity encoding, input size = output size)

  /// Starts a continuation of `steps` time steps of `inputSize` values each (row-major, at least one step).
  public func begin(steps seed: UnsafePointer<Float>, count: Int) {
    let n = model.inputSize
    precondition(count >= 1 && model.outputSize == n, "a seed of at least one step and input size = output size")
    reset()
    if model.file.encoding.isStandardized {
      for t in max(0, count - historyCapacity)..<count { pushStep(seed + t * n) }
      return
    }
    for t in 0..<(count - 1) { cell.advance(seed + t * n) }
    pendingStep.update(from: seed + (count - 1) * n, count: n)
  }

  /// Appends `count` time steps (`inputSize` values each, row-major) to the current history without predicting
  /// (standardised encodings): a history of any length, read step by step, then `generate(steps:into:)`. After
  /// `reset()` it starts a new one, exactly as `begin(steps:count:)` does.
  public func record(steps: UnsafePointer<Float>, count: Int) {
    precondition(model.file.encoding.isStandardized, "record(steps:) is for the standardised encodings")
    for t in 0..<count { pushStep(steps + t * model.inputSize) }
  }

  /// Writes the next `steps` time steps (`outputSize` values each) of the continuation begun with `begin(steps:)`.
  public func generate(steps: Int, into out: UnsafeMutablePointer<Float>) {
    guard steps > 0 else { return }
    let n = model.outputSize
    if model.file.encoding.isStandardized {
      for t in 0..<steps {
        predictStandardized(into: out + t * n)
        pushStep(out + t * n)
      }
      return
    }
    cell.freeRun(first: pendingStep, steps: steps, into: out)
    pendingStep.update(from: out + (steps - 1) * n, count: n)
  }

  // MARK: standardised encodings internals

  /// Appends one time step (`inputSize` values) to the history ring, dropping the oldest when it is full.
  private func pushStep(_ values: UnsafePointer<Float>) {
    let (capacity, I) = (historyCapacity, model.inputSize)
    let slot: Int
    if historyCount < capacity {
      slot = (historyStart + historyCount) % capacity
      historyCount += 1
    } else {
      slot = historyStart
      historyStart = (historyStart + 1) % capacity
    }
    (history + slot * I).update(from: values, count: I)
  }

  /// The prediction of the step after the history's newest one (see the file comment); `out` holds `outputSize`.
  private func predictStandardized(into out: UnsafeMutablePointer<Float>) {
    let (capacity, I, O) = (historyCapacity, model.inputSize, model.outputSize)
    @inline(__always) func step(_ i: Int) -> UnsafeMutablePointer<Float> {
      history + ((historyStart + i) % capacity) * I
    }
    let differences = model.file.encoding == .standardizeDifferences
    let n = min(historyCount, contextLength)
    let first = historyCount - n  // ring index of the window's oldest step
    for w in 0..<n {
      let i = first + w
      let v = step(i)
      let x = window + w * I
      for c in 0..<I {
        // Ring index 0 is the sequence's first step whenever the window reaches it (nothing dropped yet).
        let u = differences ? (i == 0 ? 0 : v[c] - step(i - 1)[c]) : v[c]
        x[c] = (u - inputShift[c]) / inputScale[c]
      }
    }
    cell.reset()
    for w in 0..<n { cell.advance(window + w * I) }
    cell.readout(into: out)
    let last = step(historyCount - 1)
    if let linearTerm {
      // Lag l is ring index historyCount − l; before the sequence's first step (nothing dropped yet) it is index 0.
      for lag in 1...linearTerm.order {
        (lags + (lag - 1) * I).update(from: step(max(historyCount - lag, 0)), count: I)
      }
      linearTerm.apply(lags: lags, inputSize: I, into: base)
    } else {
      for o in 0..<O { base[o] = differences ? last[o] : 0 }
    }
    for o in 0..<O { out[o] = base[o] + (outputShift[o] + outputScale[o] * out[o]) }
  }

  // MARK: window-differences internals

  private func push(_ value: Float) {
    let capacity = contextLength + 1
    if historyCount < capacity {
      history[(historyStart + historyCount) % capacity] = value
      historyCount += 1
    } else {
      history[historyStart] = value
      historyStart = (historyStart + 1) % capacity
    }
  }

  private func predictFromHistory() -> Float {
    let capacity = contextLength + 1
    @inline(__always) func value(_ i: Int) -> Float { history[(historyStart + i) % capacity] }
    let differences = max(historyCount - 1, 0)
    let padding = contextLength - differences
    for i in 0..<padding { window[i] = 0 }
    for i in 0..<differences { window[padding + i] = value(i + 1) - value(i) }
    let scale = WindowDifferences.normalise(UnsafeMutableBufferPointer(start: window, count: contextLength))
    cell.reset()
    cell.prime(UnsafeBufferPointer(start: window, count: contextLength - 1))
    let y: Float
    let a = model.architecture
    if a.isMixture {
      cell.step(window + contextLength - 1, into: readout)
      y = ExpertMixture.combine(
        logits: readout, experts: a.experts, weights: model.expertWeights, order: a.expertOrder,
        inputs: window + contextLength - a.expertOrder)
    } else {
      y = cell.step(window[contextLength - 1])
    }
    return value(historyCount - 1) + scale * y
  }
}
