// A loaded model: every layer's weights in kernel layout, and the readout. Built once from a `ModelFile` (the only
// allocation); immutable afterwards, so one instance can back any number of `RecurrentCell`s (one per stream), on
// any threads. Data flow: bytes → `ModelFile` (validated, PyTorch layout) → `RecurrentModel` (kernel layout) →
// `RecurrentCell` (one stream's state) → `SequencePredictor` (the encoding around it).

/// One layer of the stack. An enum rather than a protocol: Embedded Swift refuses `any P` existentials of
/// non-class protocols. Each case points at its layer (allocated at load, freed with the model) rather than holding
/// it: a switch over the enum copies its payload at every layer and step, and with the layers inline that was the
/// largest one's 68 bytes (a byte-by-byte memcpy on the Cortex-M4F, 276 of gru16's 6,051 instructions per step).
enum Layer {
  case rnn(UnsafeMutablePointer<RNNLayer>)
  case gru(UnsafeMutablePointer<GRULayer>)
  case lstm(UnsafeMutablePointer<LSTMLayer>)
  /// Any kind, its weights read where the model's bytes are (`RecurrentModel(inPlace:)`).
  case inPlace(UnsafeMutablePointer<InPlaceLayer>)

  /// `layer` in memory of its own.
  static func placing<L>(_ layer: L) -> UnsafeMutablePointer<L> {
    let p = UnsafeMutablePointer<L>.allocate(capacity: 1)
    p.initialize(to: layer)
    return p
  }

  /// Frees what `placing` allocated.
  func free() {
    switch self {
    case .rnn(let p): p.deinitialize(count: 1).deallocate()
    case .gru(let p): p.deinitialize(count: 1).deallocate()
    case .lstm(let p): p.deinitialize(count: 1).deallocate()
    case .inPlace(let p): p.deinitialize(count: 1).deallocate()
    }
  }
}

public final class RecurrentModel: @unchecked Sendable {
  /// The parsed file: sizes, encoding, provenance, statistics and the original PyTorch-layout tensors (none when
  /// loaded with `retainingTensors: false`).
  public let file: ModelFile
  public let architecture: Architecture
  public var hiddenSize: Int { architecture.hiddenSize }
  public var inputSize: Int { architecture.inputSize }
  public var outputSize: Int { architecture.outputSize }
  /// Rows of the readout: `outputSize`, or one logit per expert for a mixture.
  public var readoutSize: Int { architecture.readoutSize }
  /// How the steps run on the CPU this model was loaded for (Kernels/KernelPlan.swift).
  public let plan: KernelPlan
  /// True when the recurrent layers read their weights in the model's bytes (`init(inPlace:)`).
  public let readsInPlace: Bool
  /// Free-running generation through folded feedback weights: the plan's choice, never in place.
  let foldsFeedback: Bool
  /// Floats per hidden state vector: H padded to the plan's width and to 8 (zero past H).
  public let paddedHidden: Int

  let layers: UnsafeMutableBufferPointer<Layer>  // [layers]
  // R = fcRows: the outputs, a mixture's expert logits, or (a chain) the first output layer's inputs.
  let readoutRows: UnsafeMutablePointer<Float>  // [R][paddedHidden]  row o = fc.weight[o, :], zero-padded
  let readoutBias: UnsafeMutablePointer<Float>  // [R]                fc.bias

  // A chain (format version 5; Kernels/Dense.swift). Plain models have no dense layers, no skip and zero states.
  /// True when any of the pieces below is present: the cells then take the chain's path around the stack.
  let isChain: Bool
  let inputLayers: UnsafeMutableBufferPointer<DenseKernel>  // [inputLayers.count] before the stack
  let outputLayers: UnsafeMutableBufferPointer<DenseKernel>  // [outputLayers.count] after the readout
  /// The readout as a dense layer (with its activation), when the chain reads more than `dot` can give: several
  /// rows, an activation or output layers. nil otherwise: one plain row runs through `dot` (a shorter critical path
  /// than a chain of H multiply-adds).
  let readoutLayer: DenseKernel?
  /// A chain whose readout is one plain row (`readoutLayer` nil): GuitarML's, NAM's and most AIDA-X models. The
  /// cells then run its readout and skip inline, like a plain model's readout.
  let plainReadout: Bool
  let inputSkip: Int
  /// H rounded up to 8: the lanes `dot` reads (the same on every plan width), for every readout.
  let readoutLanes: Int
  /// `architecture.fcRows` and `cellInputSize`, stored: computed per step they cost an allocation in debug builds
  /// (the `??` autoclosure captures the architecture).
  let fcRows: Int
  let cellInputSize: Int
  /// Learned initial states, or nil for zeros.
  let initialStates: UnsafeMutablePointer<Float>?  // [layers][2][paddedHidden] h0 then c0 (LSTM), zero past H
  /// Floats per chain buffer: the widest value vector of the chain, rounded up to 8.
  let chainLanes: Int
  /// A mixture's expert coefficients, `experts.weight` as stored (empty otherwise).
  let expertWeights: UnsafeMutablePointer<Float>  // [E][m] row-major, m = expertOrder
  private let storage = FloatStorage()

  /// Parses, validates and loads a model file for `cpu`.
  public convenience init(bytes: UnsafeRawBufferPointer, cpu: CPUDescription = .portable) throws(ModelFileError) {
    self.init(try ModelFile(bytes), cpu: cpu)
  }

  public convenience init(bytes: [UInt8], cpu: CPUDescription = .portable) throws(ModelFileError) {
    self.init(try ModelFile(bytes: bytes), cpu: cpu)
  }

  /// Parses, validates and loads a model file, then keeps only the kernel layout: `file` holds everything but the
  /// PyTorch-layout tensors (`file.tensorValues` is empty, so `file.tensor(_:)` must not be called). The parsed
  /// copy of the weights is freed when loading returns, which is what a microcontroller wants (tools/firmware).
  public convenience init(
    bytes: UnsafeRawBufferPointer, retainingTensors: Bool, cpu: CPUDescription = .portable
  ) throws(ModelFileError) {
    self.init(try ModelFile(bytes), retainingTensors: retainingTensors, cpu: cpu)
  }

  /// Loads an in-memory model for `cpu` (the plan: `KernelPlan(for:cpu:)`). Precondition: the sizes are within the
  /// format's limits (files from the reader always are) and the tensors match the architecture (`ModelFile.init`
  /// checks that).
  public convenience init(_ file: ModelFile, retainingTensors: Bool = true, cpu: CPUDescription = .portable) {
    self.init(file, retainingTensors: retainingTensors, plan: KernelPlan(for: file.architecture, cpu: cpu))
  }

  /// Parses and validates a model file (every check of `init(bytes:)`, every weight included), then reads the
  /// recurrent layers' weights where they are: no copy of them is made (on a microcontroller they stay in flash:
  /// recur.h's `recur_model_load_in_place`). What is copied is small: the readout rows, a chain's dense layers, a
  /// mixture's coefficients and learned initial states (Cells/InPlaceLayer.swift). Unsafe in one way: `bytes` must
  /// stay valid and unchanged for as long as the model or any cell of it exists. Its start must be 4-byte aligned
  /// (every tensor then is: they sit at multiples of 64 in the file). Free-running generation never uses folded
  /// feedback weights (they would be a computed copy), so it rounds as a plain step loop does.
  public convenience init(inPlace bytes: UnsafeRawBufferPointer, cpu: CPUDescription = .microcontroller)
    throws(ModelFileError)
  {
    guard let base = bytes.baseAddress, UInt(bitPattern: base) % 4 == 0 else {
      throw ModelFileError(
        .misaligned, at: 0,
        "the model's bytes start at an address that is not a multiple of 4; reading weights in place needs 4-byte alignment"
      )
    }
    let file = try ModelFile(bytes, keepingWeights: false)
    self.init(file, plan: KernelPlan(for: file.architecture, cpu: cpu), inPlace: bytes)
  }

  /// Loads an in-memory model with an explicit plan (tests compare plans; see KernelPlan.swift).
  public convenience init(_ file: ModelFile, retainingTensors: Bool = true, plan: KernelPlan) {
    var kept = file
    if !retainingTensors { kept.tensorValues = [] }
    self.init(kept, loadingFrom: file, plan: plan, inPlace: nil)
  }

  private convenience init(_ file: ModelFile, plan: KernelPlan, inPlace bytes: UnsafeRawBufferPointer) {
    self.init(file, loadingFrom: file, plan: plan, inPlace: bytes)
  }

  /// `file` is kept; `source` provides the weights (its tensors, or with `inPlace`, the bytes at its offsets).
  private init(_ file: ModelFile, loadingFrom source: ModelFile, plan: KernelPlan, inPlace: UnsafeRawBufferPointer?) {
    let a = file.architecture
    precondition(a.isWithinLimits, "model sizes out of range")
    precondition(
      !a.isMixture || (file.encoding == .windowDifferences && a.expertOrder <= file.contextLength),
      "a mixture readout reads window-differences inputs, at most the context length of them")
    self.file = file
    architecture = a
    self.plan = plan
    readsInPlace = inPlace != nil
    foldsFeedback = plan.foldFeedback && inPlace == nil
    /// A trainable tensor where the kernels read it: in the bytes (in place), else nil.
    func pointer(_ role: TensorRole, layer: Int = 0) -> UnsafePointer<Float>? {
      guard let inPlace else { return nil }
      let at = source.tensorOffsets[a.index(of: role, layer: layer)]
      return (inPlace.baseAddress! + at).assumingMemoryBound(to: Float.self)
    }
    /// A trainable tensor's values: the file's, or (in place) read from the bytes.
    func tensor(_ role: TensorRole, layer: Int = 0) -> [Float] {
      guard let p = pointer(role, layer: layer) else { return source.tensor(role, layer: layer) }
      return Array(UnsafeBufferPointer(start: p, count: a.tensors[a.index(of: role, layer: layer)].count))
    }
    #if hasFeature(Embedded)
      // A microcontroller has no vector unit worth planning for, and the image keeps one width of the kernels.
      // The image keeps one width of the kernels and only the microcontroller plan's tiles (Affine.swift).
      precondition(
        plan.width == 4 && plan.chains == 1 && plan.tileVectors == 1,
        "Embedded builds run the microcontroller plan only (CPUDescription.microcontroller)")
    #endif
    let H = a.hiddenSize
    let padded = plan.paddedHidden(H)
    paddedHidden = padded
    let fcWeight = tensor(.fcWeight)
    let fcBias = tensor(.fcBias)
    let fold = foldsFeedback ? (fcWeight: fcWeight, fcBias: fcBias[0]) : nil
    layers = .allocate(capacity: a.layers)
    for k in 0..<a.layers {
      let layer: Layer
      if let wih = pointer(.weightIH, layer: k) {  // in place: the file's own rows
        layer = .inPlace(
          Layer.placing(
            InPlaceLayer(
              kind: a.kind, hidden: H, inputCount: k == 0 ? a.cellInputSize : H, inputWeights: wih,
              recurrentWeights: pointer(.weightHH, layer: k)!, inputBias: pointer(.biasIH, layer: k)!,
              hiddenBias: pointer(.biasHH, layer: k)!)))
      } else {
        let w = Self.gateWeights(source, layer: k)
        layer =
          switch a.kind {
          case .rnn: .rnn(Layer.placing(RNNLayer(w, plan: plan, fold: fold, storage: storage)))
          case .gru: .gru(Layer.placing(GRULayer(w, plan: plan, storage: storage)))
          case .lstm: .lstm(Layer.placing(LSTMLayer(w, plan: plan, fold: fold, storage: storage)))
          }
      }
      layers.initializeElement(at: k, to: layer)
    }
    let R = a.fcRows
    readoutRows = storage.take(R * padded)
    for o in 0..<R {
      for j in 0..<H { readoutRows[o * padded + j] = fcWeight[o * H + j] }
    }
    readoutBias = storage.take(R)
    readoutBias.update(from: fcBias, count: R)
    let expertCount = a.experts * a.expertOrder
    expertWeights = storage.take(expertCount)
    if a.isMixture { expertWeights.update(from: tensor(.experts), count: expertCount) }

    isChain = a.isChain
    fcRows = a.fcRows
    cellInputSize = a.cellInputSize
    inputSkip = a.inputSkip
    readoutLanes = roundUp(H, 8)
    let kernels = storage
    func dense(_ list: [DenseLayer], position: (Int) -> Int) -> UnsafeMutableBufferPointer<DenseKernel> {
      let out = UnsafeMutableBufferPointer<DenseKernel>.allocate(capacity: list.count)
      for (i, d) in list.enumerated() {
        let at = position(i)
        out.initializeElement(
          at: i,
          to: DenseKernel(
            d, weight: tensor(.denseWeight, layer: at), bias: tensor(.denseBias, layer: at),
            storage: kernels))
      }
      return out
    }
    inputLayers = dense(a.inputLayers) { $0 }
    plainReadout = a.fcRows == 1 && a.readoutActivation == .none && a.outputLayers.isEmpty
    readoutLayer =
      a.isChain && !plainReadout
      ? DenseKernel(
        DenseLayer(inputs: H, outputs: a.fcRows, activation: a.readoutActivation), weight: fcWeight, bias: fcBias,
        storage: storage) : nil
    outputLayers = dense(a.outputLayers) { a.outputLayerPosition($0) }
    let widths =
      [a.inputSize, a.fcRows, a.outputSize] + a.inputLayers.map { $0.outputs } + a.outputLayers.map { $0.outputs }
    chainLanes = roundUp(widths.max()!, 8)
    if a.learnedInitialState {
      let states = storage.take(a.layers * 2 * padded)
      for k in 0..<a.layers {
        let h0 = tensor(.initialHidden, layer: k)
        for j in 0..<H { states[(2 * k) * padded + j] = h0[j] }
        if a.kind == .lstm {
          let c0 = tensor(.initialCell, layer: k)
          for j in 0..<H { states[(2 * k + 1) * padded + j] = c0[j] }
        }
      }
      initialStates = states
    } else {
      initialStates = nil
    }
  }

  deinit {
    for layer in layers { layer.free() }
    layers.deallocate()
    inputLayers.deallocate()
    outputLayers.deallocate()
  }

  // MARK: The chain around the stack (format version 5)

  /// The input layers: `x` [inputSize] → the stack's input, returned (`x` itself when there are none; otherwise in
  /// `buffers` [2][chainLanes], 32-byte aligned).
  @inline(__always)
  func runInputLayers(_ x: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
    var from = x
    var slot = 0
    for layer in inputLayers {
      let to = buffers + slot * chainLanes
      layer.apply(from, into: to)
      from = UnsafePointer(to)
      slot = 1 - slot
    }
    return from
  }

  /// A chain's one output when its readout is one plain row (GuitarML, NAM, most AIDA-X): fc · h + b, then the skip,
  /// in registers. `RecurrentCell` calls it inline (out of line, with the input's copy, it cost an LSTM 12 amp model
  /// a quarter of its step on AVX2), `runReadout` for every other caller.
  @inline(__always)
  func plainRowReadout(h: UnsafePointer<Float>, skip: UnsafePointer<Float>) -> Float {
    var value = dot(readoutRows, h, lanes: readoutLanes, bias: readoutBias[0])
    if inputSkip > 0 { value += skip[0] }
    return value
  }

  /// A chain's outputs from the top layer's h [readoutLanes] (zero past H): the readout, its activation, the output
  /// layers and the skip (`skip` holds the step's first `inputSkip` inputs). `buffers` [2][chainLanes], 32-byte
  /// aligned. Writes `outputSize` values to `y`. The one definition RecurrentCell and BatchCell both run.
  @inline(__always)
  func runReadout(
    h: UnsafePointer<Float>, skip: UnsafePointer<Float>, buffers: UnsafeMutablePointer<Float>,
    into y: UnsafeMutablePointer<Float>
  ) {
    guard let readoutLayer else {
      y[0] = plainRowReadout(h: h, skip: skip)
      return
    }
    readoutLayer.apply(h, into: buffers)
    var (from, to) = (buffers, buffers + chainLanes)
    for layer in outputLayers {
      layer.apply(from, into: to)
      swap(&from, &to)
    }
    for o in 0..<outputSize { y[o] = from[o] }
    for o in 0..<inputSkip { y[o] += skip[o] }
  }

  /// Layer k's tensors as the kernels consume them (GateWeights.swift), from the file's tensors.
  static func gateWeights(_ file: ModelFile, layer k: Int) -> GateWeights {
    switch file.architecture.kind {
    case .rnn: RNNLayer.weights(file, layer: k)
    case .gru: GRULayer.weights(file, layer: k)
    case .lstm: LSTMLayer.weights(file, layer: k)
    }
  }

  /// The same for this model (its tensors must have been retained).
  func gateWeights(layer k: Int) -> GateWeights { Self.gateWeights(file, layer: k) }

  /// Per-stream state per layer, in units of `paddedHidden`: two h buffers (a step reads one and writes the other:
  /// no copy and one store-to-load hop less on the critical path than an in-place update) and c (LSTM).
  static let stateSlots = 3
  /// Per-stream scratch, in units of `paddedHidden`.
  static let scratchSlots = max(RNNLayer.scratchSlots, GRULayer.scratchSlots, LSTMLayer.scratchSlots)
}
