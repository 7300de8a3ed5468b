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
// A chain (format version 5) lists its tensors in chain order: each dense layer before the stack
// (dense{j}.weight [out][in], dense{j}.bias [out], ids 128 + 2j and 129 + 2j, j the layer's position in the chain),
// each recurrent layer's four tensors followed, with learned initial states, by KIND.h0_l{k} [H] (id 12 + 16k) and,
// for an LSTM, KIND.c0_l{k} [H] (id 13 + 16k), then fc, then each dense layer after it.
// A forecasting model (format version 6, standardised encodings) adds, after the normalisation vectors, a linear
// term of order p (linear.weight [O][p·I], id 14; linear.bias [O], id 15) and/or an interval table of H horizons and
// Q quantiles (interval.probabilities [Q], id 160; interval.quantiles [H][O·Q], id 161: above every recurrent id
// r + 16k of 8 layers and every dense id 128...159). Not trainable.

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
  /// A recurrent layer's learned initial hidden state h0 (format version 5).
  case initialHidden = 12
  /// An LSTM layer's learned initial cell state c0 (format version 5).
  case initialCell = 13
  /// A forecasting model's linear autoregressive term (`LinearTerm`; format version 6). Not trainable.
  case linearWeight = 14
  case linearBias = 15
  /// A forecasting model's interval table (`ForecastIntervals`; format version 6). Not trainable.
  case intervalProbabilities = 160
  case intervalQuantiles = 161
  /// A dense layer's weight [out][in] and bias [out] (format version 5; `layer` is its position in the chain).
  case denseWeight = 128
  case denseBias = 129

  /// True for the readout's tensors, the normalisation vectors and the forecasting tensors, which belong to no layer.
  public var isReadout: Bool { (5...11).contains(rawValue) || isForecast }
  /// True for the forecasting model's linear term and interval table (format version 6).
  public var isForecast: Bool {
    self == .linearWeight || self == .linearBias || self == .intervalProbabilities || self == .intervalQuantiles
  }
  /// True for a recurrent layer's tensors (the file id adds 16 per layer).
  public var isRecurrent: Bool { (1...4).contains(rawValue) || self == .initialHidden || self == .initialCell }
  /// True for the normalisation vectors.
  public var isNormalization: Bool { (7...10).contains(rawValue) }
  /// True for 1-D tensors (biases, states, normalisation), which PyTorch stores as vectors and the file as
  /// `cols == 1`.
  public var isVector: Bool {
    self == .biasIH || self == .biasHH || self == .fcBias || self == .denseBias || self == .initialHidden
      || self == .initialCell || isNormalization || self == .linearBias || self == .intervalProbabilities
  }
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
  public var id: UInt32 {
    if role.isRecurrent { return role.rawValue + 16 * UInt32(layer) }
    if role == .denseWeight || role == .denseBias { return role.rawValue + 2 * UInt32(layer) }
    return role.rawValue  // the readout's, the normalisation's and the forecasting tensors' (unique: TensorTableTests)
  }

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
    case .initialHidden: "\(prefix).h0_l\(layer)"
    case .initialCell: "\(prefix).c0_l\(layer)"
    case .denseWeight: "dense\(layer).weight"
    case .denseBias: "dense\(layer).bias"
    case .linearWeight: "linear.weight"
    case .linearBias: "linear.bias"
    case .intervalProbabilities: "interval.probabilities"
    case .intervalQuantiles: "interval.quantiles"
    }
  }

  /// The PyTorch shape: `[rows, cols]` for matrices, `[rows]` for vectors.
  public var torchShape: [Int] { role.isVector ? [rows] : [rows, cols] }
}

extension Architecture {
  /// Every tensor, in file and `parameters()` order (a chain's: chain order, the file comment).
  public var tensors: [TensorSpec] {
    let gh = kind.gates * hiddenSize
    var table: [TensorSpec] = []
    func dense(_ d: DenseLayer, at position: Int) {
      table.append(TensorSpec(role: .denseWeight, layer: position, rows: d.outputs, cols: d.inputs))
      table.append(TensorSpec(role: .denseBias, layer: position, rows: d.outputs, cols: 1))
    }
    for (j, d) in inputLayers.enumerated() { dense(d, at: j) }
    for k in 0..<layers {
      table.append(TensorSpec(role: .weightIH, layer: k, rows: gh, cols: k == 0 ? cellInputSize : hiddenSize))
      table.append(TensorSpec(role: .weightHH, layer: k, rows: gh, cols: hiddenSize))
      table.append(TensorSpec(role: .biasIH, layer: k, rows: gh, cols: 1))
      table.append(TensorSpec(role: .biasHH, layer: k, rows: gh, cols: 1))
      if learnedInitialState {
        table.append(TensorSpec(role: .initialHidden, layer: k, rows: hiddenSize, cols: 1))
        if kind == .lstm { table.append(TensorSpec(role: .initialCell, layer: k, rows: hiddenSize, cols: 1)) }
      }
    }
    table.append(TensorSpec(role: .fcWeight, layer: 0, rows: fcRows, cols: hiddenSize))
    table.append(TensorSpec(role: .fcBias, layer: 0, rows: fcRows, cols: 1))
    if isMixture { table.append(TensorSpec(role: .experts, layer: 0, rows: experts, cols: expertOrder)) }
    for (m, d) in outputLayers.enumerated() { dense(d, at: outputLayerPosition(m)) }
    return table
  }

  /// The chain position of output layer `m` (after the input layers, the recurrent layers and the readout).
  public func outputLayerPosition(_ m: Int) -> Int { inputLayers.count + layers + 1 + m }

  /// The standardised encodings' four normalisation vectors (ids 7...10), which follow the readout in the file.
  public var normalizationTensors: [TensorSpec] {
    [
      TensorSpec(role: .inputShift, layer: 0, rows: inputSize, cols: 1),
      TensorSpec(role: .inputScale, layer: 0, rows: inputSize, cols: 1),
      TensorSpec(role: .outputShift, layer: 0, rows: outputSize, cols: 1),
      TensorSpec(role: .outputScale, layer: 0, rows: outputSize, cols: 1),
    ]
  }

  /// A forecasting model's tensors (format version 6), which follow the normalisation vectors: the linear term of
  /// `linearOrder` lags (none when 0), then the interval table of `horizons` rows of `quantiles` per output (none when
  /// `horizons` is 0).
  public func forecastTensors(linearOrder: Int, horizons: Int, quantiles: Int) -> [TensorSpec] {
    var table: [TensorSpec] = []
    if linearOrder > 0 {
      table.append(TensorSpec(role: .linearWeight, layer: 0, rows: outputSize, cols: linearOrder * inputSize))
      table.append(TensorSpec(role: .linearBias, layer: 0, rows: outputSize, cols: 1))
    }
    if horizons > 0 {
      table.append(TensorSpec(role: .intervalProbabilities, layer: 0, rows: quantiles, cols: 1))
      table.append(TensorSpec(role: .intervalQuantiles, layer: 0, rows: horizons, cols: outputSize * quantiles))
    }
    return table
  }

  /// Number of trainable tensors (the count of `tensors`).
  public var tensorCount: Int {
    let perLayer = 4 + (learnedInitialState ? (kind == .lstm ? 2 : 1) : 0)
    return perLayer * layers + 2 + (isMixture ? 1 : 0) + 2 * (inputLayers.count + outputLayers.count)
  }

  /// Position of a tensor in `tensors` (`layer` is ignored for the readout; a dense layer's is its chain position).
  public func index(of role: TensorRole, layer: Int = 0) -> Int {
    precondition(
      !role.isNormalization && !role.isForecast,
      "normalisation and forecasting tensors are not in the trainable table (ModelFile.normalization, .linearTerm)")
    precondition(role != .experts || isMixture, "only a mixture readout has experts")
    guard isChain else {
      switch role {
      case .experts: return 4 * layers + 2
      case .fcWeight, .fcBias: return 4 * layers + Int(role.rawValue - 5)
      default: return 4 * layer + Int(role.rawValue - 1)
      }
    }
    let wanted = TensorSpec(role: role, layer: role.isReadout ? 0 : layer, rows: 0, cols: 0).id
    guard let index = tensors.firstIndex(where: { $0.id == wanted }) else {
      preconditionFailure("this architecture has no tensor \(role) of layer \(layer)")
    }
    return index
  }

  /// Total number of parameters.
  public var parameterCount: Int { tensors.reduce(0) { $0 + $1.count } }
}
