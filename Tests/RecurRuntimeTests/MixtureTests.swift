// The mixture-of-experts readout (format version 4): its exponential against libm, its predictions against a Double
// reference written from the equations (ReferenceStack, a softmax with libm exp, the experts), a saturated mixture
// against closed forms, hostile logits, and the file format's new fields.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

/// A window-differences model with a mixture readout of `experts` experts of `order`, weights as `randomModel`
/// draws them (a larger readout so the softmax is neither uniform nor saturated).
func randomMixture(
  kind: CellKind, layers: Int = 1, hidden: Int, experts: Int, order: Int, context: Int, seed: UInt64
) -> ModelFile {
  let a = Architecture(
    kind: kind, layers: layers, hiddenSize: hidden, experts: experts, expertOrder: order)
  var file = randomModel(a, seed: seed, gain: 1.5, encoding: .windowDifferences, context: context)
  file.setTensor(.fcWeight, to: file.tensor(.fcWeight).map { $0 * 6 })
  var rng = TestRandom(seed + 1)
  file.setTensor(.experts, to: (0..<(experts * order)).map { _ in rng.uniform(-3, 3) })
  return file
}

/// The window-differences prediction with a mixture readout, in Double from the equations.
func referenceMixturePrediction(_ file: ModelFile, history: [Double]) -> Double {
  let (k, a) = (file.contextLength, file.architecture)
  let differences = history.count < 2 ? [] : (1..<history.count).map { history[$0] - history[$0 - 1] }
  let known = Array(differences.suffix(k))
  var window = [Double](repeating: 0, count: k - known.count) + known
  var scale = window.map(abs).max() ?? 0
  if !(scale > 0) { scale = 1 }
  window = window.map { $0 / scale }
  var stack = ReferenceStack(file)
  var logits: [Double] = []
  for x in window { logits = stack.step([x]) }
  let largest = logits.max()!
  let weights = logits.map { exp($0 - largest) }
  let total = weights.reduce(0, +)
  let A = file.tensor(.experts)
  let (E, m) = (a.experts, a.expertOrder)
  var y = 0.0
  for e in 0..<E {
    var v = 0.0
    for j in 0..<m { v += Double(A[e * m + j]) * window[k - m + j] }
    y += weights[e] / total * v
  }
  return history[history.count - 1] + scale * y
}

@Suite struct MixtureTests {
  /// Relative error against libm's exp on a fine grid of [−87, 88], and the clamped and NaN inputs.
  @Test func fastExpMatchesLibm() {
    var worst = 0.0
    var x = -87.0
    while x <= 88 {
      let got = Double(recurExp(Float(x)))
      let expected = exp(Double(Float(x)))
      worst = max(worst, abs(got - expected) / expected)
      x += 0.001_7
    }
    print("fastExp: largest relative error \(worst) on [-87, 88]")
    #expect(worst <= 2.5e-7)
    #expect(recurExp(0) == 1)
    #expect(recurExp(.infinity) == recurExp(88) && recurExp(1e30) == recurExp(88))
    #expect(recurExp(-.infinity) == recurExp(-87) && recurExp(-87) > 0)
    #expect(recurExp(.nan) == 1)
  }

  /// Every kind, one and two layers, 1, 7 and 33 experts (more than four SIMD8 groups of logits, a partial group),
  /// orders from 1 to the context: streaming and generation within 1e-5 of the Double reference.
  @Test(
    arguments: CellKind.allCases.flatMap { kind in
      [(kind, 1, 1, 1, 4), (kind, 1, 7, 2, 4), (kind, 2, 33, 6, 6)]
    })
  func predictionsMatchTheReference(_ kind: CellKind, _ layers: Int, _ experts: Int, _ order: Int, _ context: Int) {
    let file = randomMixture(
      kind: kind, layers: layers, hidden: 11, experts: experts, order: order, context: context, seed: 21)
    let predictor = SequencePredictor(model: RecurrentModel(file))
    let values: [Float] = [5, 8, 13, 21, 34, 55, 89, 144, 100, 100, 100, -3, 7e5, -2]
    var history: [Double] = []
    var moved = 0
    for v in values {
      history.append(Double(v))
      let expected = referenceMixturePrediction(file, history: history)
      let got = Double(predictor.observe(v))
      #expect(relativeError(got, expected, floor: 1) <= 1e-5, "after \(v): \(got) vs \(expected)")
      if abs(expected - Double(v)) > 1e-3 { moved += 1 }
    }
    #expect(moved >= values.count - 3, "the predictions move away from the last value")
    let seed: [Float] = [1, 1, 2, 3, 5, 8]
    var out = [Float](repeating: 0, count: 10)
    seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
    out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    history = seed.map(Double.init)
    for got in out {
      let expected = referenceMixturePrediction(file, history: history)
      #expect(relativeError(Double(got), expected, floor: 1) <= 1e-5)
      history.append(Double(got))
    }
  }

  /// A saturated mixture is its chosen expert: with fc.weight zero and one logit 60 above the others, the prediction
  /// is last + d_{t−1}·A[0] + d_t·A[1], so experts (1, 1) and (−1, 2) continue Fibonacci-like and arithmetic runs far
  /// outside any training range, checked against the integers.
  @Test(arguments: [(Float(1), Float(1)), (-1, 2)])
  func aSaturatedMixtureIsItsExpert(_ older: Float, _ latest: Float) {
    var file = randomMixture(kind: .gru, hidden: 5, experts: 4, order: 2, context: 4, seed: 5)
    file.setTensor(.fcWeight, to: [Float](repeating: 0, count: 4 * 5))
    file.setTensor(.fcBias, to: [0, 0, 60, 0])
    var experts = file.tensor(.experts)
    (experts[4], experts[5]) = (older, latest)
    file.setTensor(.experts, to: experts)
    let predictor = SequencePredictor(model: RecurrentModel(file))
    var truth = [123_456, -654_321]
    let (p, q) = (older == 1 ? (1, 1) : (2, -1))  // a(n+1) = p a(n) + q a(n-1): the differences follow the same rule
    while truth.count < 15 { truth.append(p * truth[truth.count - 1] + q * truth[truth.count - 2]) }
    let seed = truth.prefix(5).map { Float($0) }
    var out = [Float](repeating: 0, count: 10)
    seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
    out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    for (got, expected) in zip(out, truth.dropFirst(5)) {
      #expect(relativeError(Double(got), Double(expected), floor: 1) <= 1e-6, "\(got) vs \(expected)")
    }
  }

  /// Logits of ±infinity or NaN (weights near Float's limit) must not trap: the prediction is some float.
  @Test func hostileLogitsDoNotTrap() {
    var file = randomMixture(kind: .rnn, hidden: 4, experts: 9, order: 2, context: 4, seed: 8)
    let huge = Float.greatestFiniteMagnitude
    file.setTensor(.fcWeight, to: (0..<36).map { $0 % 2 == 0 ? huge : -huge })
    file.setTensor(.fcBias, to: [huge, -huge, huge, 0, 0, -huge, huge, huge, 1])
    let predictor = SequencePredictor(model: RecurrentModel(file))
    var sink = 0
    for v: Float in [1, 3, -7, 100, 2, 2] where predictor.observe(v).isFinite { sink += 1 }
    #expect(sink >= 0)
  }

  // MARK: The file format

  static let mixture = randomMixture(kind: .gru, hidden: 3, experts: 5, order: 2, context: 4, seed: 4)

  @Test func version4RoundTripIsExact() throws {
    let bytes = Self.mixture.encoded()
    #expect(bytes[8] == 4, "a mixture needs format version 4")
    #expect(bytes[160] == 5 && bytes[164] == 2, "experts and order at offsets 160 and 164")
    let decoded = try ModelFile(bytes: bytes)
    #expect(decoded.architecture == Self.mixture.architecture)
    #expect(decoded.tensorValues == Self.mixture.tensorValues)
    #expect(decoded.encoded() == bytes)
    #expect(decoded.architecture.tensors.map { $0.name(.gru) }.suffix(3) == ["fc.weight", "fc.bias", "experts.weight"])
    #expect(decoded.architecture.tensors.last!.id == 11)
    #expect(decoded.architecture.tensors.last!.torchShape == [5, 2])
    #expect(decoded.tensor(.fcWeight).count == 5 * 3, "fc has one row per expert")
  }

  @Test func everyTruncationAndBitFlipIsRejected() {
    let bytes = Self.mixture.encoded()
    for length in 0..<bytes.count {
      let error = decodeError(Array(bytes[0..<length]))
      #expect(error != nil, "prefix of \(length) bytes was accepted")
    }
    let accepted = acceptedBitFlips(bytes)
    #expect(accepted.isEmpty, "accepted flips at bits \(accepted.prefix(10))")
  }

  /// Fields damaged behind a valid checksum: each gets its typed error at its own offset.
  @Test func damagedVersion4FieldsAreNamed() {
    let bytes = Self.mixture.encoded()
    let cases: [(Int, UInt64, ModelFileError.Kind, Int)] = [
      (160, 0, .badSize, 160),  // no experts in a version-4 file
      (160, 257, .badSize, 160),  // more experts than the format holds
      (164, 0, .badSize, 164),  // order 0
      (164, 5, .badSize, 164),  // order beyond the context length 4
      (44, 1, .unsupportedEncoding, 44),  // a mixture with sequence-max-scale
      (8, 2, .badHeader, 160),  // a version-2 header with the mixture fields set: reserved bytes
      (160, 6, .badTensorDirectory, 256 + 4 * 32 + 8),  // 6 experts: fc.weight's 5 rows no longer fit
    ]
    for (offset, value, kind, at) in cases {
      let error = decodeError(patched(bytes, at: offset, value, width: 4))
      #expect(error?.kind == kind, "offset \(offset) = \(value): \(String(describing: error))")
      #expect(error?.offset == at, "offset \(offset) = \(value): \(String(describing: error))")
    }
    // Version 3 or lower files keep 160...167 zero.
    let plain = randomModel(hidden: 4, seed: 3, encoding: .windowDifferences).encoded()
    for at in [160, 164] {
      let error = decodeError(patched(plain, at: at, 1, width: 4))
      #expect(error?.kind == .badHeader && error?.offset == at, "\(String(describing: error))")
    }
  }
}
