// A loaded model: every layer's weights in kernel layout, and the readout. Built once from a `ModelFile` (the only
// allocation); immutable afterwards, so one instance can back any number of `RecurrentCell`s (one per stream), on
// any threads. Data flow: bytes → `ModelFile` (validated, PyTorch layout) → `RecurrentModel` (kernel layout) →
// `RecurrentCell` (one stream's state) → `SequencePredictor` (the encoding around it).

/// One layer of the stack. An enum rather than a protocol: Embedded Swift refuses `any P` existentials of
/// non-class protocols, and a switch over three cases costs nothing measurable per layer step.
enum Layer {
  case rnn(RNNLayer)
  case gru(GRULayer)
  case lstm(LSTMLayer)
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
  /// SIMD8 blocks per hidden vector: ceil(H / 8).
  public let blocks: Int

  let layers: UnsafeMutableBufferPointer<Layer>  // [layers]
  // R = readoutSize: the outputs, or a mixture's expert logits.
  let readoutRows: UnsafeMutablePointer<SIMD8<Float>>  // [R][blocks]  row o = fc.weight[o, :], zero-padded
  let readoutBias: UnsafeMutablePointer<Float>  // [R]            fc.bias
  /// A mixture's expert coefficients, `experts.weight` as stored (empty otherwise).
  let expertWeights: UnsafeMutablePointer<Float>  // [E][m] row-major, m = expertOrder
  /// True for one-layer vanilla and LSTM models with one input and one output: their layer also holds the feedback
  /// weights for free-running generation (the readout folded into the recurrent matrix; see the cell files).
  let feedbackFolded: Bool
  private var arena: BlockArena

  /// Parses, validates and loads a model file.
  public convenience init(bytes: UnsafeRawBufferPointer) throws(ModelFileError) {
    self.init(try ModelFile(bytes))
  }

  public convenience init(bytes: [UInt8]) throws(ModelFileError) {
    self.init(try ModelFile(bytes: bytes))
  }

  /// Parses, validates and loads a model file, then keeps only the kernel layout: `file` holds everything but the
  /// PyTorch-layout tensors (`file.tensorValues` is empty, so `file.tensor(_:)` must not be called). The parsed
  /// copy of the weights is freed when loading returns, which is what a microcontroller wants (tools/firmware).
  public convenience init(bytes: UnsafeRawBufferPointer, retainingTensors: Bool) throws(ModelFileError) {
    self.init(try ModelFile(bytes), retainingTensors: retainingTensors)
  }

  /// Loads an in-memory model. Precondition: the sizes are within the format's limits (files from the reader
  /// always are) and the tensors match the architecture (`ModelFile.init` checks that).
  public init(_ file: ModelFile, retainingTensors: Bool = true) {
    let a = file.architecture
    precondition(a.isWithinLimits, "model sizes out of range")
    precondition(
      !a.isMixture || (file.encoding == .windowDifferences && a.expertOrder <= file.contextLength),
      "a mixture readout reads window-differences inputs, at most the context length of them")
    var kept = file
    if !retainingTensors { kept.tensorValues = [] }
    self.file = kept
    architecture = a
    let H = a.hiddenSize
    let nb = (H + 7) / 8
    blocks = nb
    // Not a GRU: its feedback panels would need a fourth gate, which measured slower (GRU.swift).
    // Not a mixture either: its readout is logits, not the value fed back.
    let foldable = a.layers == 1 && a.inputSize == 1 && a.outputSize == 1 && a.kind != .gru && !a.isMixture
    feedbackFolded = foldable
    let R = a.readoutSize
    var total = R * nb
    for k in 0..<a.layers {
      let inputs = k == 0 ? a.inputSize : H
      switch a.kind {
      case .rnn: total += RNNLayer.weightBlocks(hidden: H, inputCount: inputs, feedback: foldable)
      case .gru: total += GRULayer.weightBlocks(hidden: H, inputCount: inputs)
      case .lstm: total += LSTMLayer.weightBlocks(hidden: H, inputCount: inputs, feedback: foldable)
      }
    }
    arena = BlockArena(blocks: total, regions: 6 * a.layers + 1)  // at most 6 regions a layer, and the readout
    layers = .allocate(capacity: a.layers)
    for k in 0..<a.layers {
      let layer: Layer =
        switch a.kind {
        case .rnn: .rnn(RNNLayer(file, layer: k, foldFeedback: foldable, arena: &arena))
        case .gru: .gru(GRULayer(file, layer: k, arena: &arena))
        case .lstm: .lstm(LSTMLayer(file, layer: k, foldFeedback: foldable, arena: &arena))
        }
      layers.initializeElement(at: k, to: layer)
    }
    readoutRows = arena.take(R * nb)
    let fcWeight = file.tensor(.fcWeight)
    let fcBias = file.tensor(.fcBias)
    let rows = scalars(readoutRows)
    for o in 0..<R {
      for j in 0..<H { rows[o * nb * 8 + j] = fcWeight[o * H + j] }
    }
    readoutBias = .allocate(capacity: R)
    readoutBias.initialize(from: fcBias, count: R)
    let expertCount = a.experts * a.expertOrder
    expertWeights = .allocate(capacity: max(expertCount, 1))
    if a.isMixture { expertWeights.initialize(from: file.tensor(.experts), count: expertCount) }

  }

  deinit {
    arena.deallocate()
    layers.deallocate()
    readoutBias.deallocate()
    expertWeights.deallocate()
  }

  /// Blocks of per-stream state per layer, in units of `blocks`: two h buffers (a step reads one and writes the
  /// other: no copy and one store-to-load hop less on the critical path than an in-place update) and c (LSTM).
  static let stateSlots = 3
  /// Blocks of per-stream scratch, in units of `blocks`.
  static let scratchSlots = max(RNNLayer.scratchSlots, GRULayer.scratchSlots, LSTMLayer.scratchSlots)
}
