// The six parameter tensors of the seed model (`nn.RNN(1, H)` + `nn.Linear(H, 1)`), their PyTorch initialisation,
// and the float type the training arithmetic is written for.

import Foundation
import RecurRuntime

// MARK: - Scalar type

/// A float type the forward and backward passes can run in: `Float` for training (as PyTorch's float32), `Double`
/// for finite-difference gradient checks in tests. Everything numeric in the trainer is generic over it.
public protocol TrainingScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable {
  /// tanh on eight lanes.
  static func tanh8(_ x: SIMD8<Self>) -> SIMD8<Self>
}

extension Float: TrainingScalar {
  /// The runtime's own vectorised tanh (`RecurRuntime.fastTanh`), so the trained and the exported model compute the
  /// same function bit for bit. Max abs error vs tanh 3.4e-7, below what training can notice; glibc `tanhf` per lane
  /// would cost more than all the matrix work of a step.
  @inline(__always)
  public static func tanh8(_ input: SIMD8<Float>) -> SIMD8<Float> { fastTanh(input) }
}

extension Double: TrainingScalar {
  /// libm tanh per lane: exact enough for finite-difference checks, speed irrelevant.
  public static func tanh8(_ x: SIMD8<Double>) -> SIMD8<Double> {
    var out = SIMD8<Double>()
    for i in 0..<8 { out[i] = Foundation.tanh(x[i]) }
    return out
  }
}

// MARK: - Parameters

/// All trainable parameters in one flat array, tensors in PyTorch's `parameters()` order and layout:
/// `rnn.weight_ih_l0 [H][1]`, `rnn.weight_hh_l0 [H][H]`, `rnn.bias_ih_l0 [H]`, `rnn.bias_hh_l0 [H]`,
/// `fc.weight [1][H]`, `fc.bias [1]`. Gradients and Adam's moments use the same layout.
public struct RNNParameters<Scalar: TrainingScalar>: Sendable, Equatable {
  public let hiddenSize: Int
  public var values: [Scalar]

  /// Number of parameters for hidden size `h`: 4h + h² + 1.
  public static func count(hiddenSize h: Int) -> Int { 4 * h + h * h + 1 }

  /// All zeros (a gradient accumulator or a moment buffer).
  public init(zerosWithHiddenSize hiddenSize: Int) {
    self.hiddenSize = hiddenSize
    self.values = [Scalar](repeating: 0, count: Self.count(hiddenSize: hiddenSize))
  }

  public init(hiddenSize: Int, values: [Scalar]) {
    precondition(
      values.count == Self.count(hiddenSize: hiddenSize),
      "parameter count does not match hidden size")
    self.hiddenSize = hiddenSize
    self.values = values
  }

  /// Where tensor `id` lives in `values`.
  public func range(_ id: TensorRole) -> Range<Int> {
    let h = hiddenSize
    switch id {
    case .weightIH: return 0..<h
    case .weightHH: return h..<(h + h * h)
    case .biasIH: return (h + h * h)..<(2 * h + h * h)
    case .biasHH: return (2 * h + h * h)..<(3 * h + h * h)
    case .fcWeight: return (3 * h + h * h)..<(4 * h + h * h)
    case .fcBias: return (4 * h + h * h)..<(4 * h + h * h + 1)
    }
  }

  public subscript(id: TensorRole) -> ArraySlice<Scalar> {
    get { values[range(id)] }
    set {
      precondition(newValue.count == range(id).count)
      values.replaceSubrange(range(id), with: newValue)
    }
  }

  /// PyTorch's default initialisation of `nn.RNN` and `nn.Linear(H, 1)`: every parameter uniform on ±1/sqrt(H)
  /// (for the Linear layer, kaiming_uniform(a=√5) and its bias bound both reduce to 1/sqrt(fan_in) = 1/sqrt(H)).
  /// Drawn with `gsl_ran_flat` tensor by tensor, element by element, in the order above.
  public static func pytorchDefault(hiddenSize: Int, rng: GSLRandom) -> Self {
    let bound = 1.0 / Double(hiddenSize).squareRoot()
    var p = Self(zerosWithHiddenSize: hiddenSize)
    for i in p.values.indices { p.values[i] = Scalar(rng.flat(-bound, bound)) }
    return p
  }

  /// True when every value is finite.
  public var allFinite: Bool { values.allSatisfy { $0.isFinite } }
}

extension RNNParameters where Scalar == Float {
  /// A model file holding these weights (provenance and validation statistics left for the caller).
  public func modelFile(contextLength: Int, encoding: Encoding) -> ModelFile {
    ModelFile(
      hiddenSize: hiddenSize, contextLength: contextLength, encoding: encoding,
      weightIH: Array(self[.weightIH]), weightHH: Array(self[.weightHH]),
      biasIH: Array(self[.biasIH]),
      biasHH: Array(self[.biasHH]), fcWeight: Array(self[.fcWeight]), fcBias: Array(self[.fcBias]))
  }

  /// The weights of a model file.
  public init(_ file: ModelFile) {
    self.init(
      hiddenSize: file.hiddenSize,
      values: file.tensorValues.flatMap { $0 })
  }
}

extension RNNParameters {
  /// Converts to another float type (Float training weights to Double for checks, and back).
  public init<Other: TrainingScalar>(_ other: RNNParameters<Other>) {
    self.init(hiddenSize: other.hiddenSize, values: other.values.map { Scalar($0) })
  }
}
