// The one tensor table: every tensor a model of a given architecture has, with its file id, PyTorch state_dict name
// and shape. The reader, the writer, the runtime's layer builders, the trainer's parameter list, the PyTorch import,
// `recur inspect --json` and the tests all read it; nothing else spells tensors out.
//
// All three PyTorch cells share one shape per layer k (G = 1, 3, 4 gate blocks for rnn, gru, lstm):
//   weight_ih_l{k}  [G·H][I for k = 0, else H]     gate blocks stacked in PyTorch's order (gru r,z,n; lstm i,f,g,o)
//   weight_hh_l{k}  [G·H][H]
//   bias_ih_l{k}    [G·H]
//   bias_hh_l{k}    [G·H]
// then the readout fc.weight [O][H] and fc.bias [O]. File ids: role + 16·layer for the layer tensors (1...4 for
// layer 0, 17...20 for layer 1, ...), 5 and 6 for the readout, so a format-1 file's ids are the 1-layer case.
// Models with a standardised encoding (format version 3) add four normalisation vectors after the readout, ids 7...10:
// norm.input_shift [I], norm.input_scale [I], norm.output_shift [O], norm.output_scale [O].
// A mixture readout (format version 4) has E = experts rows in fc (one logit each) and one more trainable tensor after
// it, id 11: experts.weight [E][m], m = the expert order.

/// What a tensor is, independent of its layer. Raw values are the file id of the layer-0 tensor.
public enum TensorRole: UInt32, Sendable, CaseIterable {
  case weightIH = 1
  case weightHH = 2
  case biasIH = 3
  case biasHH = 4
  case fcWeight = 5
  case fcBias = 6
  /// The standardised encodings' normalisation (`Normalization`; not trainable, not in `Architecture.tensors`).
  case inputShift = 7
  case inputScale = 8
  case outputShift = 9
  case outputScale = 10
  /// The mixture readout's expert coefficients (`Architecture.experts` > 0; format version 4). Trainable.
  case experts = 11

  /// True for the readout's tensors and the normalisation vectors, which belong to no layer.
  public var isReadout: Bool { rawValue >= 5 }
  /// True for the normalisation vectors.
  public var isNormalization: Bool { (7...10).contains(rawValue) }
  /// True for 1-D tensors (biases, normalisation), which PyTorch stores as vectors and the file as `cols == 1`.
  public var isVector: Bool { self == .biasIH || self == .biasHH || self == .fcBias || isNormalization }
}

/// One row of the table.
public struct TensorSpec: Sendable, Equatable {
  public var role: TensorRole
  /// The layer (0 for the readout).
  public var layer: Int
  public var rows: Int
  public var cols: Int

  public init(role: TensorRole, layer: Int, rows: Int, cols: Int) {
    (self.role, self.layer, self.rows, self.cols) = (role, layer, rows, cols)
  }

  public var count: Int { rows * cols }
  /// The tensor id in the file's tensor directory.
  public var id: UInt32 { role.rawValue + (role.isReadout ? 0 : 16 * UInt32(layer)) }

  /// The state_dict key for a model whose recurrent module is `kind.name` and whose readout is `fc`.
  public func name(_ kind: CellKind) -> String { name(prefix: kind.name) }

  /// The state_dict key with the recurrent module called `prefix`.
  public func name(prefix: String) -> String {
    switch role {
    case .weightIH: "\(prefix).weight_ih_l\(layer)"
    case .weightHH: "\(prefix).weight_hh_l\(layer)"
    case .biasIH: "\(prefix).bias_ih_l\(layer)"
    case .biasHH: "\(prefix).bias_hh_l\(layer)"
    case .fcWeight: "fc.weight"
    case .fcBias: "fc.bias"
    case .inputShift: "norm.input_shift"
    case .inputScale: "norm.input_scale"
    case .outputShift: "norm.output_shift"
    case .outputScale: "norm.output_scale"
    case .experts: "experts.weight"
    }
  }

  /// The PyTorch shape: `[rows, cols]` for matrices, `[rows]` for vectors.
  public var torchShape: [Int] { role.isVector ? [rows] : [rows, cols] }
}

extension Architecture {
  /// Every tensor, in file and `parameters()` order.
  public var tensors: [TensorSpec] {
    let gh = kind.gates * hiddenSize
    var table: [TensorSpec] = []
    for k in 0..<layers {
      table.append(TensorSpec(role: .weightIH, layer: k, rows: gh, cols: k == 0 ? inputSize : hiddenSize))
      table.append(TensorSpec(role: .weightHH, layer: k, rows: gh, cols: hiddenSize))
      table.append(TensorSpec(role: .biasIH, layer: k, rows: gh, cols: 1))
      table.append(TensorSpec(role: .biasHH, layer: k, rows: gh, cols: 1))
    }
    table.append(TensorSpec(role: .fcWeight, layer: 0, rows: readoutSize, cols: hiddenSize))
    table.append(TensorSpec(role: .fcBias, layer: 0, rows: readoutSize, cols: 1))
    if isMixture { table.append(TensorSpec(role: .experts, layer: 0, rows: experts, cols: expertOrder)) }
    return table
  }

  /// The standardised encodings' four normalisation vectors (ids 7...10), which follow the readout in the file.
  public var normalizationTensors: [TensorSpec] {
    [
      TensorSpec(role: .inputShift, layer: 0, rows: inputSize, cols: 1),
      TensorSpec(role: .inputScale, layer: 0, rows: inputSize, cols: 1),
      TensorSpec(role: .outputShift, layer: 0, rows: outputSize, cols: 1),
      TensorSpec(role: .outputScale, layer: 0, rows: outputSize, cols: 1),
    ]
  }

  /// Number of trainable tensors: four per layer, two for the readout, one more for a mixture's experts.
  public var tensorCount: Int { 4 * layers + 2 + (isMixture ? 1 : 0) }

  /// Position of a tensor in `tensors` (`layer` is ignored for the readout).
  public func index(of role: TensorRole, layer: Int = 0) -> Int {
    precondition(
      !role.isNormalization, "normalisation vectors are not in the trainable table (ModelFile.normalization)")
    precondition(role != .experts || isMixture, "only a mixture readout has experts")
    switch role {
    case .experts: return 4 * layers + 2
    case .fcWeight, .fcBias: return 4 * layers + Int(role.rawValue - 5)
    default: return 4 * layer + Int(role.rawValue - 1)
    }
  }

  /// Total number of parameters.
  public var parameterCount: Int { tensors.reduce(0) { $0 + $1.count } }
}
