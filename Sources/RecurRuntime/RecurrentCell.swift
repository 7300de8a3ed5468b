// One stream's state over a shared `RecurrentModel`: every layer's h (and c), scratch for the gates, and the step
// that runs the stack bottom-up and then the readout. Allocation happens only in `init`; `step`, `advance`,
// `prime`, `freeRun` and `reset` never allocate.

public final class RecurrentCell {
  public let model: RecurrentModel
  private let storage = FloatStorage()
  private let state: UnsafeMutablePointer<Float>  // [layers][3][paddedHidden]: h (two buffers), c (LSTM)
  private let scratch: UnsafeMutablePointer<Float>  // [scratchSlots][paddedHidden] gate pre-activations
  private let input: UnsafeMutablePointer<Float>  // [1] the scalar step's input
  // A chain's buffers (RecurrentModel's chain section); one float each for other models.
  private let chain: UnsafeMutablePointer<Float>  // [4][chainLanes] input layers' and output layers' ping-pong pairs
  private let skipInput: UnsafeMutablePointer<Float>  // [inputSkip] the latest step's first inputs
  private let chainOutput: UnsafeMutablePointer<Float>  // [outputSize] `output`'s readout
  private let layerCount: Int
  private let padded: Int
  private let stateStride: Int
  /// Which of each layer's two h buffers holds the current state (0 or 1); flips once per time step. It is also the
  /// step's direction when the plan descends every other step.
  private var parity = 0

  /// Layer k's current hidden state, the buffer its next step writes, and its cell state.
  @inline(__always) private func current(_ k: Int) -> UnsafeMutablePointer<Float> {
    state + k * stateStride + parity * padded
  }
  @inline(__always) private func following(_ k: Int) -> UnsafeMutablePointer<Float> {
    state + k * stateStride + (1 - parity) * padded
  }
  @inline(__always) private func cellState(_ k: Int) -> UnsafeMutablePointer<Float> {
    state + k * stateStride + 2 * padded
  }

  public init(model: RecurrentModel) {
    self.model = model
    padded = model.paddedHidden
    layerCount = model.architecture.layers
    stateStride = RecurrentModel.stateSlots * padded
    state = storage.take(layerCount * stateStride)
    scratch = storage.take(RecurrentModel.scratchSlots * padded)
    input = storage.take(1)
    let chainModel = model.isChain
    chain = storage.take(chainModel ? 4 * model.chainLanes : 1)
    skipInput = storage.take(model.inputSkip)
    chainOutput = storage.take(chainModel ? model.outputSize : 1)
    if model.initialStates != nil { reset() }
  }

  /// Returns every layer to its initial state: zero (PyTorch's default `h0` and `c0`), or the model's learned
  /// initial states (format version 5).
  public func reset() {
    state.update(repeating: 0, count: layerCount * stateStride)
    guard let initial = model.initialStates else { return }
    for k in 0..<layerCount {
      current(k).update(from: initial + 2 * k * padded, count: padded)
      cellState(k).update(from: initial + (2 * k + 1) * padded, count: padded)
    }
  }

  // MARK: Stepping

  /// Advances the stack by one time step: `x` holds `inputSize` values. No readout.
  @inline(__always)
  public func advance(_ x: UnsafePointer<Float>) {
    // A chain with input layers runs them out of line; without (the amp models' shape), only the skip's copy.
    var x = x
    if model.isChain {
      if model.inputLayers.count > 0 {
        x = chainInput(x)
      } else {
        for i in 0..<model.inputSkip { skipInput[i] = x[i] }
      }
    }
    #if hasFeature(Embedded)
      advance(SIMD4<Float>.self, x)  // firmware plans for 4 lanes only (RecurrentModel.init): one copy of the kernels
    #else
      switch model.plan.width {
      case 4: advance(SIMD4<Float>.self, x)
      case 8: advance(SIMD8<Float>.self, x)
      default: advance(SIMD16<Float>.self, x)
      }
    #endif
  }

  /// `advance` at one width: every layer bottom-up, each reading the one below's new h. One copy per width, called by
  /// every entry point (inlined into each, the firmware image carried six copies of every cell's step, each with a
  /// 3.4 KB stack frame, nested five deep).
  @inline(never)
  private func advance<V: FloatVector>(_: V.Type, _ x: UnsafePointer<Float>) {
    let descending = model.plan.descending && parity == 1
    var layerInput = x
    for k in 0..<layerCount {
      let h = UnsafePointer(current(k))
      let next = following(k)
      switch model.layers[k] {
      case .rnn(let layer): layer.pointee.step(V.self, input: layerInput, h: h, out: next, scratch: scratch)
      case .gru(let layer):
        layer.pointee.step(V.self, input: layerInput, h: h, out: next, scratch: scratch, descending: descending)
      case .lstm(let layer):
        layer.pointee.step(
          V.self, input: layerInput, h: h, out: next, c: cellState(k), scratch: scratch, descending: descending)
      case .inPlace(let layer):
        layer.pointee.step(input: layerInput, h: h, out: next, c: cellState(k), scratch: scratch)
      }
      layerInput = UnsafePointer(next)
    }
    parity = 1 - parity
  }

  /// Advances by one time step and writes the readout: `x` holds `inputSize` values, `y` at least `readoutSize`.
  @inline(__always)
  public func step(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    advance(x)
    readout(into: y)
  }

  /// Advances by one input and returns the readout. For models with input and output size 1.
  @inline(__always)
  public func step(_ x: Float) -> Float {
    input[0] = x
    advance(input)
    return output
  }

  /// Advances the state over `inputs` (as `nn.RNN` does over a sequence), without computing readouts. For models
  /// with input size 1.
  public func prime(_ inputs: UnsafeBufferPointer<Float>) {
    for x in inputs {
      input[0] = x
      advance(input)
    }
  }

  // MARK: Readout

  /// The readout `fc(h)` of the top layer's state: `readoutSize` values into `y` (`outputSize`, or a mixture's
  /// expert logits, which `SequencePredictor` combines).
  @inline(__always)
  public func readout(into y: UnsafeMutablePointer<Float>) {
    let m = model
    let h = current(layerCount - 1)
    if m.isChain {
      if m.plainReadout {
        y[0] = plainChainReadout
      } else {
        chainReadout(into: y)
      }
      return
    }
    for o in 0..<m.readoutSize {
      y[o] = dot(m.readoutRows + o * padded, h, lanes: model.readoutLanes, bias: m.readoutBias[o])
    }
  }

  // MARK: A chain's layers around the stack (format version 5)
  //   Kept out of line: every entry point (step, prime, freeRun, output, ...) inlines `advance` and `readout`, and
  //   a copy of the dense kernels in each made the firmware image 61 KB larger. One call per step costs nothing
  //   measurable beside the layers.

  /// Keeps the step's first inputs for the skip and runs the input layers; returns the stack's input.
  @inline(never)
  private func chainInput(_ x: UnsafePointer<Float>) -> UnsafePointer<Float> {
    for i in 0..<model.inputSkip { skipInput[i] = x[i] }
    return model.runInputLayers(x, buffers: chain)
  }

  /// A plain-row chain's one output (RecurrentModel.plainRowReadout, inline).
  @inline(__always)
  private var plainChainReadout: Float { model.plainRowReadout(h: current(layerCount - 1), skip: skipInput) }

  /// The readout, its activation, the output layers and the skip (RecurrentModel.runReadout).
  @inline(never)
  private func chainReadout(into y: UnsafeMutablePointer<Float>) {
    model.runReadout(h: current(layerCount - 1), skip: skipInput, buffers: chain + 2 * model.chainLanes, into: y)
  }

  /// The first readout of the current state (the only one for output size 1).
  @inline(__always)
  public var output: Float {
    if model.isChain {
      if model.plainReadout { return plainChainReadout }
      readout(into: chainOutput)
      return chainOutput[0]
    }
    return dot(model.readoutRows, current(layerCount - 1), lanes: model.readoutLanes, bias: model.readoutBias[0])
  }

  // MARK: Free-running generation

  /// Feeds `firstInput`, then each readout back as the next input, writing the readouts. For models with input and
  /// output size 1. A one-layer vanilla or LSTM model runs its feedback weights after the first step (the readout
  /// folded into the recurrent matrix, see the cell files), which takes the readout off the critical path;
  /// mathematically identical, rounding differs by about one ulp per step.
  public func freeRun(firstInput: Float, into out: UnsafeMutableBufferPointer<Float>) {
    guard let base = out.baseAddress, out.count > 0 else { return }
    base[0] = step(firstInput)
    guard model.foldsFeedback else {
      for i in 1..<max(out.count, 1) { base[i] = step(base[i - 1]) }
      return
    }
    #if hasFeature(Embedded)
      freeRunFolded(SIMD4<Float>.self, into: base, count: out.count)
    #else
      switch model.plan.width {
      case 4: freeRunFolded(SIMD4<Float>.self, into: base, count: out.count)
      case 8: freeRunFolded(SIMD8<Float>.self, into: base, count: out.count)
      default: freeRunFolded(SIMD16<Float>.self, into: base, count: out.count)
      }
    #endif
  }

  /// Steps 1 ..< count of `freeRun` through the feedback weights.
  private func freeRunFolded<V: FloatVector>(_: V.Type, into base: UnsafeMutablePointer<Float>, count: Int) {
    let m = model
    let layer = m.layers[0]
    let c = cellState(0)
    for i in 1..<max(count, 1) {
      let h = UnsafePointer(current(0))
      let next = following(0)
      switch layer {
      case .rnn(let layer): layer.pointee.stepFeedback(V.self, h: h, out: next)
      case .gru, .inPlace: preconditionFailure("GRU and in-place feedback is never folded")
      case .lstm(let layer):
        layer.pointee.stepFeedback(V.self, h: h, out: next, c: c, descending: m.plan.descending && parity == 1)
      }
      parity = 1 - parity
      base[i] = dot(m.readoutRows, next, lanes: model.readoutLanes, bias: m.readoutBias[0])
    }
  }

  /// Free-running generation for any model with input size = output size: feeds `first` (`inputSize` values), then
  /// each readout back, writing `steps` readouts of `outputSize` values each into `out`.
  public func freeRun(first: UnsafePointer<Float>, steps: Int, into out: UnsafeMutablePointer<Float>) {
    let n = model.outputSize
    precondition(model.inputSize == n, "free-running generation needs input size = output size")
    guard steps > 0 else { return }
    step(first, into: out)
    for t in 1..<steps { step(out + (t - 1) * n, into: out + t * n) }
  }

  // MARK: Whole state (sample-rate correction, snapshots)

  /// Floats in `saveState` / `restoreState`: [layers][2][paddedHidden], each layer's h then c (zero for non-LSTM),
  /// padding lanes included (they stay zero).
  public var stateCount: Int { layerCount * 2 * padded }

  /// Copies every layer's current h and c into `out` (`stateCount` floats). Never allocates.
  public func saveState(into out: UnsafeMutablePointer<Float>) {
    for k in 0..<layerCount {
      (out + 2 * k * padded).update(from: current(k), count: padded)
      (out + (2 * k + 1) * padded).update(from: cellState(k), count: padded)
    }
  }

  /// Makes `saved` (`stateCount` floats, as `saveState` writes them) every layer's current h and c.
  public func restoreState(from saved: UnsafePointer<Float>) {
    for k in 0..<layerCount {
      current(k).update(from: saved + 2 * k * padded, count: padded)
      cellState(k).update(from: saved + (2 * k + 1) * padded, count: padded)
    }
  }

  // MARK: Inspection

  /// Copies the first `hiddenSize` lanes of layer `layer`'s hidden state (for tests and inspection).
  public func copyHiddenState(layer: Int = -1, into out: UnsafeMutableBufferPointer<Float>) {
    let k = layer < 0 ? layerCount - 1 : layer
    let lanes = current(k)
    for i in 0..<min(out.count, model.hiddenSize) { out[i] = lanes[i] }
  }

  /// Copies the first `hiddenSize` lanes of an LSTM layer's cell state (zeros for other kinds).
  public func copyCellState(layer: Int = -1, into out: UnsafeMutableBufferPointer<Float>) {
    let k = layer < 0 ? layerCount - 1 : layer
    let lanes = cellState(k)
    for i in 0..<min(out.count, model.hiddenSize) { out[i] = model.architecture.kind == .lstm ? lanes[i] : 0 }
  }
}
