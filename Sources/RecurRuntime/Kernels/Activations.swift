// Vectorised activations. tanh: a clamped [13/6] minimax rational approximation (the coefficients Eigen uses for float).
//
// Why not libm: glibc `tanhf` costs ~11 ns per lane and cannot be vectorised; this costs well under 1 ns per lane.
// Measured maximum absolute error against Double-precision tanh over [-10, 10] is printed by
// `RecurRuntimeTests/FastTanhTests` and recorded in docs/hardening-and-testing.md (3.4e-7; the Float rounding of tanh itself is up to
// 6e-8). Inputs beyond ±9 are clamped to ±9 and return ±(1 − 6e-8) rather than exactly ±1: forcing exact ±1 with two
// blends cost 5 ns per step at H = 32 (measured), for no change in accuracy. NaN propagates.

/// The [13/6] rational's coefficients. Eigen's names: tanh(x) ≈ x·(α1 + α3 y + α5 y² + ... + α13 y⁶) /
/// (β0 + β2 y + β4 y² + β6 y³) with y = x², grouped for Estrin's scheme.
enum TanhRational {
  static let alpha1: Float = 4.893_524_558_917_86e-03
  static let alpha3: Float = 6.372_619_288_754_36e-04
  static let alpha5: Float = 1.485_722_357_179_79e-05
  static let alpha7: Float = 5.122_297_090_371_14e-08
  static let alpha9: Float = -8.604_671_522_137_35e-11
  static let alpha11: Float = 2.000_187_904_824_77e-13
  static let alpha13: Float = -2.760_768_477_423_55e-16
  static let beta0: Float = 4.893_525_185_543_85e-03
  static let beta2: Float = 2.268_434_632_439_00e-03
  static let beta4: Float = 1.185_347_056_866_54e-04
  static let beta6: Float = 1.198_258_394_667_02e-06
}

/// tanh on any width: the activation every Recur model runs (one function for every plan width and for the
/// many-stream path, so they compute the same bits).
@_transparent
func rationalTanh<V: FloatVector>(_ input: V) -> V {
  let x = input.clamped(magnitude: 9)
  // Estrin's scheme in y = x²: the dependency chain is 4 multiply-adds deep instead of Horner's 7, which matters
  // because tanh sits on the step's critical path.
  let y = x * x
  let y2 = y * y
  let y4 = y2 * y2
  let e0 = multiplyAdd(y, V(repeating: TanhRational.alpha3), V(repeating: TanhRational.alpha1))
  let e1 = multiplyAdd(y, V(repeating: TanhRational.alpha7), V(repeating: TanhRational.alpha5))
  let e2 = multiplyAdd(y, V(repeating: TanhRational.alpha11), V(repeating: TanhRational.alpha9))
  let f0 = multiplyAdd(y2, e1, e0)
  let f1 = multiplyAdd(y2, V(repeating: TanhRational.alpha13), e2)
  let p = x * multiplyAdd(y4, f1, f0)
  let g0 = multiplyAdd(y, V(repeating: TanhRational.beta2), V(repeating: TanhRational.beta0))
  let g1 = multiplyAdd(y, V(repeating: TanhRational.beta6), V(repeating: TanhRational.beta4))
  let q = multiplyAdd(y2, g1, g0)
  return p / q
}

/// The same tanh on eight lanes, public so the trainer fits exactly this function.
@inline(__always)
public func fastTanh(_ input: SIMD8<Float>) -> SIMD8<Float> { rationalTanh(input) }

/// Scalar entry point to the same approximation (lane 0 of the vector version), for tests and documentation.
public func recurTanh(_ x: Float) -> Float {
  fastTanh(SIMD8(repeating: x))[0]
}

/// The logistic sigmoid, σ(x) = 1 / (1 + e^(−x)) = (1 + tanh(x / 2)) / 2, through the tanh above: its absolute error
/// is half of tanh's (measured maximum in `RecurRuntimeTests/FastTanhTests`, recorded in docs/), it needs no
/// exponential and no extra divide, and it saturates to within 3e-8 of 0 and 1 beyond |x| = 18. The gated cells
/// store their sigmoid gates' weights halved and call `sigmoidOfHalved` on the sums (one multiply less).
@inline(__always)
public func fastSigmoid(_ x: SIMD8<Float>) -> SIMD8<Float> { sigmoidOfHalved(SIMD8(repeating: 0.5) * x) }

/// σ(2s) = ½ tanh(s) + ½: the sigmoid of a sum whose weights were stored halved (GRU.swift, LSTM.swift).
@_transparent
func sigmoidOfHalved<V: FloatVector>(_ s: V) -> V {
  let half = V(repeating: 0.5)
  return multiplyAdd(half, rationalTanh(s), half)
}

/// Scalar entry point to the same sigmoid (lane 0), for tests and the trainer.
public func recurSigmoid(_ x: Float) -> Float {
  fastSigmoid(SIMD8(repeating: x))[0]
}

/// e^x on eight lanes, for the mixture readout's softmax (`ExpertMixture`): Cephes' `expf` scheme, x = n·ln 2 + r
/// with |r| ≤ ln 2 / 2, a degree-7 polynomial for e^r, and 2^n built in the exponent bits. Relative error 1.2e-7
/// against Double-precision exp over [−87, 88] (measured by `RecurRuntimeTests/MixtureTests`). Inputs are clamped
/// to [−87, 88], so the result is always a positive normal float; NaN lanes give 1 (a hostile model's NaN logit
/// weighs like a zero logit, and nothing here can trap).
@inline(__always)
public func fastExp(_ input: SIMD8<Float>) -> SIMD8<Float> {
  var x = input
  x.replace(with: 0, where: x .!= x)
  x.replace(with: 88, where: x .> 88)
  x.replace(with: -87, where: x .< -87)
  let n = (x * 1.442_695_04).rounded(.toNearestOrEven)  // n ∈ [−126, 127]
  // r = x − n·ln 2, with ln 2 split in two so the first product is exact.
  var r = multiplyAdd(n, SIMD8(repeating: -0.693_359_375), x)
  r = multiplyAdd(n, SIMD8(repeating: 2.121_944_4e-4), r)
  var p = multiplyAdd(SIMD8(repeating: 1.987_569_15e-4), r, SIMD8(repeating: 1.398_199_95e-3))
  p = multiplyAdd(p, r, SIMD8(repeating: 8.333_451_9e-3))
  p = multiplyAdd(p, r, SIMD8(repeating: 4.166_579_59e-2))
  p = multiplyAdd(p, r, SIMD8(repeating: 1.666_666_55e-1))
  p = multiplyAdd(p, r, SIMD8(repeating: 5.000_000_12e-1))
  let er = multiplyAdd(p, r * r, r + 1)
  // 2^n: n + 1.5·2^23 holds the integer n in its low mantissa bits (0x4B40_0000 + n), which a bit cast reads without
  // a float-to-integer conversion (Swift's traps on NaN; this one cannot).
  let shifted = unsafeBitCast(n + 12_582_912, to: SIMD8<Int32>.self) &- 0x4B40_0000
  return er * unsafeBitCast((shifted &+ 127) &<< 23, to: SIMD8<Float>.self)
}

/// Scalar entry point to the same exponential (lane 0), for tests and the trainer.
public func recurExp(_ x: Float) -> Float {
  fastExp(SIMD8(repeating: x))[0]
}
