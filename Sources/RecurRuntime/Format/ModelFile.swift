// What a `.recur` model file describes: the architecture, the encoding, provenance, validation statistics and the
// float32 tensors in PyTorch's layout. The byte layout is in `Documentation.docc/ModelFormat.md`; the reader and the
// writer are `ModelReader.swift` and `ModelWriter.swift`; which tensors exist is `TensorTable.swift`.

// MARK: - Architecture

/// An enum whose cases have command-line and file names (`CellKind`, `Activation`, `Encoding`).
public protocol NamedCase: CaseIterable {
  var name: String { get }
}

extension NamedCase {
  /// The case called `name`, if any.
  public init?(name: String) {
    guard let found = Self.allCases.first(where: { $0.name == name }) else { return nil }
    self = found
  }
}

/// The recurrent cell of every layer. Values are the on-disk codes.
public enum CellKind: UInt32, Sendable, CaseIterable, NamedCase {
  /// Elman RNN: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)` (`nn.RNN`, nonlinearity tanh).
  case rnn = 1
  /// `nn.GRU`: gates r, z, n; `n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))`, `h' = (1 − z) ⊙ n + z ⊙ h`.
  case gru = 2
  /// `nn.LSTM`: gates i, f, g, o; `c' = f ⊙ c + i ⊙ g`, `h' = o ⊙ tanh(c')`.
  case lstm = 3

  /// Gate blocks per layer: the `G` in `weight_ih_l{k}` [G·H][I].
  public var gates: Int {
    switch self {
    case .rnn: 1
    case .gru: 3
    case .lstm: 4
    }
  }

  /// The name used on the command line, in `inspect` and as the state_dict module prefix (`gru.weight_ih_l0`).
  public var name: String {
    switch self {
    case .rnn: "rnn"
    case .gru: "gru"
    case .lstm: "lstm"
    }
  }

  /// A readable description for `inspect`.
  public var title: String {
    switch self {
    case .rnn: "vanilla tanh RNN"
    case .gru: "GRU"
    case .lstm: "LSTM"
    }
  }
}

/// The activation after a dense layer of a chain (format version 5). Values are the on-disk codes.
public enum Activation: UInt32, Sendable, CaseIterable, NamedCase {
  /// y = x (Keras "linear").
  case none = 0
  case tanh = 1
  /// 1 / (1 + e^−x).
  case sigmoid = 2
  /// max(0, x).
  case relu = 3
  /// x for x > 0, e^x − 1 otherwise (alpha 1, Keras' and RTNeural's default).
  case elu = 4
  /// e^(x_i − max x) / Σ_j e^(x_j − max x) over the layer's outputs.
  case softmax = 5

  public var name: String {
    switch self {
    case .none: "none"
    case .tanh: "tanh"
    case .sigmoid: "sigmoid"
    case .relu: "relu"
    case .elu: "elu"
    case .softmax: "softmax"
    }
  }
}

/// A dense layer of a chain (format version 5): `y = activation(W x + b)`, W [outputs][inputs] row-major (nn.Linear's
/// layout), b [outputs].
public struct DenseLayer: Sendable, Equatable {
  public var inputs: Int
  public var outputs: Int
  public var activation: Activation

  public init(inputs: Int, outputs: Int, activation: Activation = .none) {
    (self.inputs, self.outputs, self.activation) = (inputs, outputs, activation)
  }

  /// "dense 8→4 sigmoid".
  public var summary: String {
    "dense \(inputs)→\(outputs)" + (activation == .none ? "" : " \(activation.name)")
  }
}

/// Sizes of a stacked recurrent network followed by a Linear readout: `layers` cells of `kind`, the first reading
/// `cellInputSize` values per step, every later one the hidden state of the one below; `fc: Linear(H -> fcRows)`.
///
/// With `experts` > 0 (format version 4, window-differences only, input and output 1) the readout is a *mixture of
/// linear autoregressive experts*: `fc: Linear(H -> experts)` gives one logit per expert, and the prediction is
/// Σ_e softmax(logits)_e · (experts.weight[e] · the last `expertOrder` cell inputs) (see `ExpertMixture`).
///
/// Format version 5 makes the model a *chain*: `inputLayers` (dense) map the `inputSize` inputs to the stack's
/// input, the readout `fc` carries an activation, `outputLayers` (dense) follow it, the first `inputSkip` inputs are
/// added to the first outputs (a residual), and every recurrent layer may start from a learned state.
/// Today's models are the chain `stack -> dense(none)`.
public struct Architecture: Sendable, Equatable {
  public var kind: CellKind
  public var layers: Int
  /// Values read per step: the first dense layer's inputs, or the first recurrent layer's.
  public var inputSize: Int
  public var hiddenSize: Int
  /// Values predicted per step (1 for a mixture): the last layer's outputs.
  public var outputSize: Int
  /// Linear experts of the mixture readout (0: the plain Linear readout).
  public var experts: Int
  /// Cell inputs each expert weighs, the latest ones (0 exactly when `experts` is 0).
  public var expertOrder: Int
  /// Version 5: dense layers before the recurrent stack, in order (the first reads `inputSize` values).
  public var inputLayers: [DenseLayer] = []
  /// Version 5: the activation applied to the readout `fc`'s outputs.
  public var readoutActivation: Activation = .none
  /// Version 5: dense layers after the readout, in order (the first reads `fcRows` values).
  public var outputLayers: [DenseLayer] = []
  /// Version 5: output o < inputSkip gets input o added after the last layer (Automated-GuitarAmpModelling's `skip`,
  /// AIDA-X's `in_skip`).
  public var inputSkip = 0
  /// Version 5: every recurrent layer starts, and resets, from learned h0 (and c0, LSTM) tensors instead of zeros.
  public var learnedInitialState = false

  public init(
    kind: CellKind = .rnn, layers: Int = 1, inputSize: Int = 1, hiddenSize: Int, outputSize: Int = 1,
    experts: Int = 0, expertOrder: Int = 0
  ) {
    self.kind = kind
    self.layers = layers
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.outputSize = outputSize
    self.experts = experts
    self.expertOrder = expertOrder
  }

  /// Values `RecurrentCell.readout` writes: the outputs, or a mixture's expert logits.
  public var readoutSize: Int { experts > 0 ? experts : outputSize }
  /// Rows of `fc`: a mixture's expert count, the first output layer's inputs, or the outputs.
  public var fcRows: Int { experts > 0 ? experts : outputLayers.first?.inputs ?? outputSize }
  /// Values the first recurrent layer reads per step.
  public var cellInputSize: Int { inputLayers.last?.outputs ?? inputSize }
  /// True for the mixture-of-experts readout.
  public var isMixture: Bool { experts > 0 }
  /// True when the model needs format version 5: any dense layer besides a plain readout, a skip or learned states.
  public var isChain: Bool {
    !inputLayers.isEmpty || !outputLayers.isEmpty || readoutActivation != .none || inputSkip > 0
      || learnedInitialState
  }
  /// Entries of the version-5 chain table: the dense layers, the recurrent layers and the readout.
  public var chainLength: Int { inputLayers.count + layers + 1 + outputLayers.count }

  /// The limits every reader enforces (ModelFormat.md).
  public static let maxLayers = 8
  public static let maxInputSize = 256
  public static let maxOutputSize = 256
  public static let maxHiddenSize = 1024
  public static let maxExperts = 256
  /// Version 5: at most this many chain entries, and dense layers of at most `maxHiddenSize` inputs and outputs.
  public static let maxChainLength = 16

  /// True when every size is within the limits above and the chain's sizes meet.
  public var isWithinLimits: Bool {
    guard
      (1...Self.maxLayers).contains(layers) && (1...Self.maxInputSize).contains(inputSize)
        && (1...Self.maxHiddenSize).contains(hiddenSize) && (1...Self.maxOutputSize).contains(outputSize)
        && (experts == 0
          ? expertOrder == 0
          : experts <= Self.maxExperts && expertOrder >= 1 && inputSize == 1 && outputSize == 1)
    else { return false }
    guard isChain else { return true }
    var width = inputSize
    for d in inputLayers {
      guard d.inputs == width && (1...Self.maxHiddenSize).contains(d.outputs) else { return false }
      width = d.outputs
    }
    guard (1...Self.maxHiddenSize).contains(fcRows) else { return false }
    width = fcRows
    for d in outputLayers {
      guard d.inputs == width && (1...Self.maxHiddenSize).contains(d.outputs) else { return false }
      width = d.outputs
    }
    return width == outputSize && !isMixture && chainLength <= Self.maxChainLength
      && (0...min(inputSize, outputSize)).contains(inputSkip)
  }

  /// "GRU, 2 layers: input 3, hidden 32, output 2"; a chain lists its layers.
  public var summary: String {
    guard isChain else {
      return "\(kind.title), \(layers) layer\(layers == 1 ? "" : "s"): input \(inputSize), hidden \(hiddenSize), "
        + "output \(outputSize)"
        + (isMixture ? ", a mixture of \(experts) linear experts of order \(expertOrder)" : "")
    }
    let readout = DenseLayer(inputs: hiddenSize, outputs: fcRows, activation: readoutActivation)
    let stack =
      "\(kind.name) \(cellInputSize)→\(hiddenSize)" + (layers > 1 ? " ×\(layers)" : "")
      + (learnedInitialState ? " (learned initial state)" : "")
    let parts = inputLayers.map { $0.summary } + [stack] + ([readout] + outputLayers).map { $0.summary }
    return "input \(inputSize): " + parts.joined(separator: ", ")
      + (inputSkip > 0 ? ", + first \(inputSkip) input\(inputSkip == 1 ? "" : "s")" : "")
  }
}

// MARK: - Encodings

/// How real-valued sequences are turned into cell inputs and cell outputs back into values.
/// The runtime applies exactly what training applied; see `SequencePredictor`.
public enum Encoding: UInt32, Sendable, CaseIterable, NamedCase {
  /// No transformation: values go into the cell as they are and readouts come out as they are. Any input and output
  /// size. (Format version 2 only.)
  case identity = 0
  /// The seed notebook's: values divided by one scale, `max(1, max |v|)` over the known values. Input and output 1.
  case sequenceMaxScale = 1
  /// Extrapolating: each prediction reads the last `contextLength` differences, divides them by their largest
  /// magnitude `s`, runs the cell from a zero state over them and predicts `last + s * y`. Input and output 1.
  case windowDifferences = 2
  /// Per-column standardisation stored in the file (`Normalization`; format version 3): the cell reads
  /// `(v − inputShift) / inputScale` for the last `contextLength` steps from a zero state and a readout y means
  /// `outputShift + outputScale · y`. Any input and output size. What `recur-train fit` trains on real data.
  case standardize = 3
  /// Per-column standardised differences (format version 3): the cell reads `(d − inputShift) / inputScale` for the
  /// differences d_t = v_t − v_{t−1} of the last `contextLength` steps (0 for the first step of a sequence) from a
  /// zero state, and predicts `v_t + outputShift + outputScale · y`: it extrapolates levels it never saw. Input
  /// size = output size (every column predicts its own next value).
  case standardizeDifferences = 4

  // Spelled out like CellKind's and Activation's names: these are the format's and the CLI's words, not the case names.
  public var name: String {
    switch self {
    case .identity: "identity"
    case .sequenceMaxScale: "sequence-max-scale"
    case .windowDifferences: "window-differences"
    case .standardize: "standardize"
    case .standardizeDifferences: "standardize-differences"
    }
  }

  /// True when the encoding is defined for these sizes (the scaled encodings are univariate; differences predict
  /// the columns they read).
  public func supports(inputSize: Int, outputSize: Int) -> Bool {
    switch self {
    case .identity, .standardize: true
    case .sequenceMaxScale, .windowDifferences: inputSize == 1 && outputSize == 1
    case .standardizeDifferences: inputSize == outputSize
    }
  }

  /// True for the encodings whose per-column shifts and scales travel in the file (`Normalization`).
  public var isStandardized: Bool { self == .standardize || self == .standardizeDifferences }

  /// True for the encodings whose predictions read only the last `contextLength` steps, each from a zero state.
  public var isWindowed: Bool { self == .windowDifferences || isStandardized }
}

/// The per-column affine maps of the standardised encodings, fitted on the training data (mean and standard
/// deviation) and stored in the file as four vectors: the cell reads `(u − inputShift) / inputScale` and a readout
/// y stands for `outputShift + outputScale · y` (u a value or a difference, see `Encoding`). Scales are positive.
public struct Normalization: Sendable, Equatable {
  public var inputShift: [Float]  // [I]
  public var inputScale: [Float]  // [I]
  public var outputShift: [Float]  // [O]
  public var outputScale: [Float]  // [O]

  public init(inputShift: [Float], inputScale: [Float], outputShift: [Float], outputScale: [Float]) {
    precondition(inputShift.count == inputScale.count && outputShift.count == outputScale.count)
    (self.inputShift, self.inputScale, self.outputShift, self.outputScale) =
      (inputShift, inputScale, outputShift, outputScale)
  }

  /// The identity maps for `inputSize` and `outputSize` columns.
  public init(inputSize: Int, outputSize: Int) {
    self.init(
      inputShift: .init(repeating: 0, count: inputSize), inputScale: .init(repeating: 1, count: inputSize),
      outputShift: .init(repeating: 0, count: outputSize), outputScale: .init(repeating: 1, count: outputSize))
  }

  /// The four vectors in file order (tensor ids 7...10).
  public var vectors: [[Float]] { [inputShift, inputScale, outputShift, outputScale] }
}

// MARK: - Forecasting (format version 6)

/// A linear autoregressive term inside a forecasting model (format version 6, standardised encodings; fitted by
/// least squares in `recur-train fit`). Over the data's own values v (not encoded), for output o:
///
///   base[o] = bias[o] + Σ_{lag=1…p} Σ_{c<I} weight[o][(lag − 1)·I + c] · v_{t+1−lag}[c]
///
/// summed in Float in exactly that order (bias, then lag 1's columns, then lag 2's, ...), where a lag before the
/// sequence's first step reads that first step. The network then predicts the residual: the model's prediction of
/// step t + 1 is `base + outputShift + outputScale · y` (the base takes the place of standardize-differences' last
/// value and of standardize's zero), so a network whose readout is zero predicts the linear term plus outputShift.
public struct LinearTerm: Sendable, Equatable {
  /// p, the steps each prediction reads (1...maxOrder).
  public var order: Int
  public var weight: [Float]  // [O][p·I] row-major; within a row lag-major: lag 1's I columns first
  public var bias: [Float]  // [O]

  public static let maxOrder = 256

  public init(order: Int, weight: [Float], bias: [Float]) {
    precondition(
      order >= 1 && order <= Self.maxOrder && !bias.isEmpty && !weight.isEmpty
        && weight.count % (order * bias.count) == 0)
    (self.order, self.weight, self.bias) = (order, weight, bias)
  }

  /// Writes the O bases from `lags` ([p][I], lag 1 first: the newest step, then the one before it, ...).
  public func apply(lags: UnsafePointer<Float>, inputSize: Int, into base: UnsafeMutablePointer<Float>) {
    let n = order * inputSize
    for o in 0..<bias.count {
      var sum = bias[o]
      for j in 0..<n { sum += weight[o * n + j] * lags[j] }
      base[o] = sum
    }
  }
}

/// Forecast intervals stored with a forecasting model (format version 6): for each horizon h = 1...H and output o,
/// Q quantiles of the validation errors (truth − forecast, free-running h steps ahead) at the probabilities
/// `probabilities`. The interval at level L around a forecast f is [f + q((1 − L)/2), f + q((1 + L)/2)], q linear
/// between the stored probabilities.
public struct ForecastIntervals: Sendable, Equatable {
  public var probabilities: [Float]  // [Q], strictly increasing in (0, 1)
  public var quantiles: [Float]  // [H][O][Q], nondecreasing along Q
  public var horizons: Int

  public static let maxHorizons = 1024
  public static let maxQuantiles = 255

  public init(probabilities: [Float], quantiles: [Float], horizons: Int) {
    precondition(probabilities.count >= 2 && horizons >= 1 && quantiles.count % (horizons * probabilities.count) == 0)
    (self.probabilities, self.quantiles, self.horizons) = (probabilities, quantiles, horizons)
  }

  /// The error quantile at probability `p` for horizon `h` (1-based) and output `o`, linear between the stored
  /// probabilities; nil outside the stored range.
  public func quantile(_ p: Float, horizon h: Int, output o: Int, outputs: Int) -> Float? {
    let Q = probabilities.count
    guard h >= 1 && h <= horizons, p >= probabilities[0], p <= probabilities[Q - 1] else { return nil }
    let row = ((h - 1) * outputs + o) * Q
    var k = 0
    while k < Q - 2 && probabilities[k + 1] < p { k += 1 }
    let (p0, p1) = (probabilities[k], probabilities[k + 1])
    let (q0, q1) = (quantiles[row + k], quantiles[row + k + 1])
    let w = (p - p0) / (p1 - p0)
    return (1 - w) * q0 + w * q1  // not q0 + w·(q1 − q0): finite for any finite pair
  }
}

// MARK: - Metadata

/// Where a model came from. Stored verbatim; the runtime never uses it for computation.
public struct Provenance: Sendable, Equatable {
  public var seed: UInt64 = 0
  public var epochs: UInt32 = 0
  public var batchSize: UInt32 = 0
  public var trainingSequences: UInt32 = 0
  public var learningRate: Float = .nan
  public var finalLoss: Float = .nan
  /// Data family, printable ASCII, at most 31 bytes (e.g. "odd", "fib", "pytorch-import").
  public var family: String = ""
  public init() {}

  public static func == (a: Self, b: Self) -> Bool {
    a.seed == b.seed && a.epochs == b.epochs && a.batchSize == b.batchSize
      && a.trainingSequences == b.trainingSequences && a.learningRate.bitPattern == b.learningRate.bitPattern
      && a.finalLoss.bitPattern == b.finalLoss.bitPattern && a.family == b.family
  }
}

/// Held-out validation statistics computed by the trainer. NaN means "not measured" (e.g. an imported model).
public struct ValidationStats: Sendable {
  public var windows: UInt32 = 0
  public var seeds: UInt32 = 0
  /// Mean squared error over every element of every held-out window, in the encoded (normalised) units.
  public var windowMSE: Float = .nan
  /// Absolute error of the next-value prediction in real units: mean, standard deviation, median, 95th percentile.
  public var absErrorMean: Float = .nan
  public var absErrorSD: Float = .nan
  public var absErrorMedian: Float = .nan
  public var absErrorP95: Float = .nan
  /// Mean absolute error of free-running generation from held-out seeds after 1, 8 and 20 steps, real units.
  public var generationError1: Float = .nan
  public var generationError8: Float = .nan
  public var generationError20: Float = .nan
  public init() {}

  /// The eight float statistics in file order (ModelFormat.md, header offsets 92...120).
  public var floats: [Float] {
    get {
      [
        windowMSE, absErrorMean, absErrorSD, absErrorMedian, absErrorP95, generationError1, generationError8,
        generationError20,
      ]
    }
    set {
      precondition(newValue.count == 8)
      (windowMSE, absErrorMean, absErrorSD, absErrorMedian) = (newValue[0], newValue[1], newValue[2], newValue[3])
      (absErrorP95, generationError1, generationError8, generationError20) =
        (newValue[4], newValue[5], newValue[6], newValue[7])
    }
  }
}

/// One `key=value` line of a version-5 file's metadata block: what the source file said about the model (its
/// name, AIDA-X's `esr`, NAM's loudness, ...). Keys are lowercase ASCII letters, digits, `_`, `.` and `-`; values are
/// UTF-8 without control characters. Stored verbatim; never used for computation.
public struct MetadataEntry: Sendable, Equatable {
  public var key: String
  public var value: String
  public init(_ key: String, _ value: String) { (self.key, self.value) = (key, value) }

  /// True when `key` and `value` can be stored (see above).
  public var isStorable: Bool {
    !key.isEmpty && key.utf8.count <= 64
      && key.utf8.allSatisfy {
        ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5F || $0 == 0x2E || $0 == 0x2D
      }
      && !value.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
  }
}

// MARK: - The model

/// A complete model: architecture, encoding, provenance, validation statistics and float32 tensors.
public struct ModelFile: Sendable {
  public var architecture: Architecture
  /// The training window length (number of time steps per training example; for `windowDifferences`, the number
  /// of differences each prediction reads).
  public var contextLength: Int
  public var encoding: Encoding
  public var provenance = Provenance()
  public var validation = ValidationStats()
  /// One flat row-major array per entry of `architecture.tensors`, in that order (PyTorch's `parameters()` order).
  /// Empty when read with `keepingWeights: false` or loaded with `retainingTensors: false`.
  public var tensorValues: [[Float]]
  /// Where each entry of `architecture.tensors` lies in the file it was read from (byte offsets, 64-byte aligned;
  /// empty for models built in code): what a model reading its weights in place points at.
  public internal(set) var tensorOffsets: [Int] = []
  /// The standardised encodings' shifts and scales (nil for the other encodings; required for them).
  public var normalization: Normalization? = nil
  /// Version 5: the sample rate the model was trained at, in Hz (0: not recorded).
  public var sampleRate: Float = 0
  /// Version 5: what the source file said about the model, in its order (at most `ModelFormat.maxMetadataSize`
  /// bytes as `key=value` lines).
  public var metadata: [MetadataEntry] = []
  /// Version 6 (standardised encodings): the linear autoregressive term the network's readout is added to.
  public var linearTerm: LinearTerm? = nil
  /// Version 6 (standardised encodings): the forecast intervals' error quantiles.
  public var intervals: ForecastIntervals? = nil

  /// A model with the tensors of `architecture.tensors`, in that order. Precondition: the counts match the table
  /// (the reader checks untrusted input itself; this is for code that builds models).
  public init(architecture: Architecture, contextLength: Int, encoding: Encoding, tensors: [[Float]]) {
    let table = architecture.tensors
    precondition(tensors.count == table.count, "expected \(table.count) tensors, got \(tensors.count)")
    for (spec, values) in zip(table, tensors) {
      precondition(values.count == spec.count, "tensor \(spec.name(architecture.kind)) has the wrong size")
    }
    self.architecture = architecture
    self.contextLength = contextLength
    self.encoding = encoding
    self.tensorValues = tensors
  }

  /// The reader's model without its weights' values (`init(_:keepingWeights: false)`).
  init(weightless architecture: Architecture, contextLength: Int, encoding: Encoding) {
    self.architecture = architecture
    self.contextLength = contextLength
    self.encoding = encoding
    self.tensorValues = []
  }

  /// The seed notebook's shape: one vanilla tanh layer, input 1, output 1.
  public init(
    hiddenSize: Int, contextLength: Int, encoding: Encoding,
    weightIH: [Float], weightHH: [Float], biasIH: [Float], biasHH: [Float], fcWeight: [Float], fcBias: [Float]
  ) {
    self.init(
      architecture: Architecture(hiddenSize: hiddenSize), contextLength: contextLength, encoding: encoding,
      tensors: [weightIH, weightHH, biasIH, biasHH, fcWeight, fcBias])
  }

  public var cellKind: CellKind { architecture.kind }
  public var layers: Int { architecture.layers }
  public var inputSize: Int { architecture.inputSize }
  public var hiddenSize: Int { architecture.hiddenSize }
  public var outputSize: Int { architecture.outputSize }

  /// Number of trainable parameters (the sum of all tensor element counts).
  public var parameterCount: Int { architecture.parameterCount }

  /// The values of one tensor (`layer` is ignored for the readout).
  public func tensor(_ role: TensorRole, layer: Int = 0) -> [Float] {
    tensorValues[architecture.index(of: role, layer: layer)]
  }

  /// Replaces the values of one tensor. Precondition: the count matches the table.
  public mutating func setTensor(_ role: TensorRole, layer: Int = 0, to values: [Float]) {
    let index = architecture.index(of: role, layer: layer)
    precondition(values.count == architecture.tensors[index].count, "wrong tensor size")
    tensorValues[index] = values
  }

  /// The tensors in file order with their specs: the trainable ones, then the normalisation vectors if any.
  public var tensors: [(spec: TensorSpec, values: [Float])] {
    let table = architecture.tensors
    var out: [(spec: TensorSpec, values: [Float])] = []
    for i in 0..<table.count { out.append((table[i], tensorValues[i])) }
    if let normalization {
      for (spec, values) in zip(architecture.normalizationTensors, normalization.vectors) { out.append((spec, values)) }
    }
    for (spec, values) in zip(forecastTable, forecastValues) { out.append((spec, values)) }
    return out
  }

  /// Every tensor spec the file holds for this architecture and encoding, in file order.
  public var fileTable: [TensorSpec] {
    architecture.tensors + (encoding.isStandardized ? architecture.normalizationTensors : []) + forecastTable
  }

  /// The version-6 tensors (linear term, interval table) this model holds, in file order.
  var forecastTable: [TensorSpec] {
    architecture.forecastTensors(
      linearOrder: linearTerm?.order ?? 0, horizons: intervals?.horizons ?? 0,
      quantiles: intervals?.probabilities.count ?? 0)
  }

  /// The values of `forecastTable`, in its order.
  var forecastValues: [[Float]] {
    (linearTerm.map { [$0.weight, $0.bias] } ?? []) + (intervals.map { [$0.probabilities, $0.quantiles] } ?? [])
  }
}
