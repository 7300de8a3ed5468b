// The trainable parameters of any architecture as one flat array over the runtime's tensor table
// (`Architecture.tensors`), their PyTorch initialisation, and the float type the training arithmetic is written for.

import Foundation
import RecurRuntime

// MARK: - Scalar type

/// A float type the forward and backward passes can run in: `Float` for training (as PyTorch's float32), `Double`
/// for finite-difference gradient checks in tests. Everything numeric in the trainer is generic over it.
public protocol TrainingScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
  /// tanh on eight lanes.
  static func tanh8(_ x: SIMD8<Self>) -> SIMD8<Self>
  /// The logistic sigmoid 1 / (1 + e^(−x)) on eight lanes.
  static func sigmoid8(_ x: SIMD8<Self>) -> SIMD8<Self>
  /// e^x on eight lanes (the mixture readout's softmax).
  static func exp8(_ x: SIMD8<Self>) -> SIMD8<Self>
}

extension Float: TrainingScalar {
  /// The runtime's own vectorised tanh (`RecurRuntime.fastTanh`), so the trained and the exported model compute the
  /// same function bit for bit. Max abs error vs tanh 3.4e-7, below what training can notice; glibc `tanhf` per lane
  /// would cost more than all the matrix work of a step.
  @inline(__always)
  public static func tanh8(_ input: SIMD8<Float>) -> SIMD8<Float> { fastTanh(input) }

  /// The runtime's sigmoid (`RecurRuntime.fastSigmoid`, through the same tanh), for the same reason.
  @inline(__always)
  public static func sigmoid8(_ input: SIMD8<Float>) -> SIMD8<Float> { fastSigmoid(input) }

  /// The runtime's exponential (`RecurRuntime.fastExp`), for the same reason.
  @inline(__always)
  public static func exp8(_ input: SIMD8<Float>) -> SIMD8<Float> { fastExp(input) }
}

extension Double: TrainingScalar {
  /// libm tanh per lane: exact enough for finite-difference checks, speed irrelevant.
  public static func tanh8(_ x: SIMD8<Double>) -> SIMD8<Double> {
    var out = SIMD8<Double>()
    for i in 0..<8 { out[i] = Foundation.tanh(x[i]) }
    return out
  }

  /// 1 / (1 + exp(−x)) per lane with libm exp, for the same checks.
  public static func sigmoid8(_ x: SIMD8<Double>) -> SIMD8<Double> {
    var out = SIMD8<Double>()
    for i in 0..<8 { out[i] = 1 / (1 + Foundation.exp(-x[i])) }
    return out
  }

  /// libm exp per lane.
  public static func exp8(_ x: SIMD8<Double>) -> SIMD8<Double> {
    var out = SIMD8<Double>()
    for i in 0..<8 { out[i] = Foundation.exp(x[i]) }
    return out
  }
}

// MARK: - Layout

/// Where each tensor of `architecture.tensors` lives in a flat parameter array: the tensors concatenated in table
/// order (PyTorch's `parameters()` order), each row-major in PyTorch's layout.
public struct ParameterLayout: Sendable, Equatable {
  public let architecture: Architecture
  /// Start of each tensor, in table order, then the total count. [tensorCount + 1]
  private let offsets: [Int]

  public init(_ architecture: Architecture) {
    self.architecture = architecture
    var offsets = [0]
    for spec in architecture.tensors { offsets.append(offsets[offsets.count - 1] + spec.count) }
    self.offsets = offsets
  }

  /// Number of parameters.
  public var count: Int { offsets[offsets.count - 1] }

  /// Where tensor `role` of layer `layer` lives (`layer` is ignored for the readout).
  public func range(_ role: TensorRole, layer: Int = 0) -> Range<Int> {
    let i = architecture.index(of: role, layer: layer)
    return offsets[i]..<offsets[i + 1]
  }

  /// Every tensor's range, in table order.
  public var ranges: [Range<Int>] { (0..<(offsets.count - 1)).map { offsets[$0]..<offsets[$0 + 1] } }
}

// MARK: - Parameters

/// All trainable parameters of an architecture in one flat array laid out by `ParameterLayout`. Gradients and
/// Adam's moments use the same layout.
public struct Parameters<Scalar: TrainingScalar>: Sendable, Equatable {
  public let layout: ParameterLayout
  public var values: [Scalar]

  public var architecture: Architecture { layout.architecture }
  public var hiddenSize: Int { layout.architecture.hiddenSize }

  /// All zeros (a gradient accumulator or a moment buffer).
  public init(zeros architecture: Architecture) {
    layout = ParameterLayout(architecture)
    values = [Scalar](repeating: 0, count: layout.count)
  }

  public init(architecture: Architecture, values: [Scalar]) {
    layout = ParameterLayout(architecture)
    precondition(values.count == layout.count, "parameter count does not match the architecture")
    self.values = values
  }

  /// Where tensor `role` of layer `layer` lives in `values`.
  public func range(_ role: TensorRole, layer: Int = 0) -> Range<Int> { layout.range(role, layer: layer) }

  public subscript(role: TensorRole, layer: Int = 0) -> ArraySlice<Scalar> {
    get { values[range(role, layer: layer)] }
    set {
      let r = range(role, layer: layer)
      precondition(newValue.count == r.count)
      values.replaceSubrange(r, with: newValue)
    }
  }

  /// PyTorch's default initialisation of `nn.RNN`, `nn.GRU`, `nn.LSTM` (every weight and bias uniform on
  /// ±1/sqrt(H)) and of `nn.Linear(H, O)` (kaiming_uniform(a=√5) and its bias bound both reduce to
  /// 1/sqrt(fan_in) = 1/sqrt(H)); a mixture's `experts.weight` uniform on ±`TrainingOptions.expertInitBound`. Drawn
  /// with `gsl_ran_flat` tensor by tensor in table order, element by element.
  public static func pytorchDefault(architecture: Architecture, rng: GSLRandom) -> Self {
    let bound = 1.0 / Double(architecture.hiddenSize).squareRoot()
    var p = Self(zeros: architecture)
    let experts = architecture.isMixture ? p.range(.experts) : 0..<0
    for i in p.values.indices {
      let b = experts.contains(i) ? TrainingOptions.expertInitBound : bound
      p.values[i] = Scalar(rng.flat(-b, b))
    }
    return p
  }

  /// The seed notebook's shape: one vanilla layer, input and output 1.
  public static func pytorchDefault(hiddenSize: Int, rng: GSLRandom) -> Self {
    pytorchDefault(architecture: Architecture(hiddenSize: hiddenSize), rng: rng)
  }

  /// True when every value is finite.
  public var allFinite: Bool { values.allSatisfy { $0.isFinite } }
}

/// The former name, from when the trainer had only the vanilla cell.
public typealias RNNParameters<Scalar: TrainingScalar> = Parameters<Scalar>

extension Parameters where Scalar == Float {
  /// A model file holding these weights (provenance and validation statistics left for the caller).
  public func modelFile(contextLength: Int, encoding: Encoding) -> ModelFile {
    ModelFile(
      architecture: architecture, contextLength: contextLength, encoding: encoding,
      tensors: layout.ranges.map { Array(values[$0]) })
  }

  /// The weights of a model file.
  public init(_ file: ModelFile) {
    self.init(architecture: file.architecture, values: file.tensorValues.flatMap { $0 })
  }
}

extension Parameters {
  /// Converts to another float type (Float training weights to Double for checks, and back).
  public init<Other: TrainingScalar>(_ other: Parameters<Other>) {
    self.init(architecture: other.architecture, values: other.values.map { Scalar($0) })
  }
}
