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
  /// The parsed file: sizes, encoding, provenance, statistics and the original PyTorch-layout tensors.
  public let file: ModelFile
  public let architecture: Architecture
  public var hiddenSize: Int { architecture.hiddenSize }
  public var inputSize: Int { architecture.inputSize }
  public var outputSize: Int { architecture.outputSize }
  /// SIMD8 blocks per hidden vector: ceil(H / 8).
  public let blocks: Int

  let layers: UnsafeMutableBufferPointer<Layer>  // [layers]
  let readoutRows: UnsafeMutablePointer<SIMD8<Float>>  // [O][blocks]  row o = fc.weight[o, :], zero-padded
  let readoutBias: UnsafeMutablePointer<Float>  // [O]            fc.bias
  /// Free-running generation of a one-layer vanilla model with input and output 1 feeds y = fc(h) back as x, so
  /// W_ih x = W_ih ⊗ fc.weight h + W_ih fc.bias: folded into the recurrent matrix, the readout leaves the critical
  /// path. Nil for every other shape.
  let folded: (columns: UnsafeMutablePointer<SIMD8<Float>>, bias: UnsafeMutablePointer<SIMD8<Float>>)?
  // [blocks] panels of [H][4]: W_hh[:, j] + W_ih[:, 0] fc.weight[0, j];  [blocks] b_ih + b_hh + W_ih[:, 0] fc.bias[0]
  private var arena: BlockArena

  /// Parses, validates and loads a model file.
  public convenience init(bytes: UnsafeRawBufferPointer) throws(ModelFileError) {
    self.init(try ModelFile(bytes))
  }

  public convenience init(bytes: [UInt8]) throws(ModelFileError) {
    self.init(try ModelFile(bytes: bytes))
  }

  /// Loads an in-memory model. Precondition: the sizes are within the format's limits (files from the reader
  /// always are) and the tensors match the architecture (`ModelFile.init` checks that).
  public init(_ file: ModelFile) {
    let a = file.architecture
    precondition(a.isWithinLimits, "model sizes out of range")
    self.file = file
    architecture = a
    let H = a.hiddenSize
    let nb = (H + 7) / 8
    blocks = nb
    let foldable = a.kind == .rnn && a.layers == 1 && a.inputSize == 1 && a.outputSize == 1
    var total = a.outputSize * nb + (foldable ? (H + 1) * nb : 0)
    for k in 0..<a.layers {
      let inputs = k == 0 ? a.inputSize : H
      switch a.kind {
      case .rnn: total += RNNLayer.weightBlocks(hidden: H, inputCount: inputs)
      case .gru: total += GRULayer.weightBlocks(hidden: H, inputCount: inputs)
      case .lstm: total += LSTMLayer.weightBlocks(hidden: H, inputCount: inputs)
      }
    }
    arena = BlockArena(blocks: total)
    layers = .allocate(capacity: a.layers)
    for k in 0..<a.layers {
      let layer: Layer =
        switch a.kind {
        case .rnn: .rnn(RNNLayer(file, layer: k, arena: &arena))
        case .gru: .gru(GRULayer(file, layer: k, arena: &arena))
        case .lstm: .lstm(LSTMLayer(file, layer: k, arena: &arena))
        }
      layers.initializeElement(at: k, to: layer)
    }
    readoutRows = arena.take(a.outputSize * nb)
    let fcWeight = file.tensor(.fcWeight)
    let fcBias = file.tensor(.fcBias)
    let rows = scalars(readoutRows)
    for o in 0..<a.outputSize {
      for j in 0..<H { rows[o * nb * 8 + j] = fcWeight[o * H + j] }
    }
    readoutBias = .allocate(capacity: a.outputSize)
    readoutBias.initialize(from: fcBias, count: a.outputSize)

    if foldable, case .rnn(let layer) = layers[0] {
      let columns = arena.take(H * nb)
      let bias = arena.take(nb)
      let wih = scalars(layer.inputColumns)
      let whh = scalars(layer.columns)
      let b = scalars(layer.bias)
      let fb = scalars(bias)
      let fc = scalars(columns)
      for i in 0..<H { fb[i] = b[i] + wih[i] * fcBias[0] }
      for j in 0..<H {
        for i in 0..<H {
          let k = panelIndex(block: i / 8, column: j, rowBlocks: nb, columns: H) * 8 + i % 8
          fc[k] = whh[k] + wih[i] * fcWeight[j]  // input 1: W_ih's one column is its first block row
        }
      }
      folded = (columns, bias)
    } else {
      folded = nil
    }
  }

  deinit {
    arena.deallocate()
    layers.deallocate()
    readoutBias.deallocate()
  }

  /// Blocks of per-stream state per layer: h and (LSTM) c.
  static let stateSlots = max(RNNLayer.stateSlots, GRULayer.stateSlots, LSTMLayer.stateSlots)
  /// Blocks of per-stream scratch, in units of `blocks`.
  static let scratchSlots = max(RNNLayer.scratchSlots, GRULayer.scratchSlots, LSTMLayer.scratchSlots)
}
