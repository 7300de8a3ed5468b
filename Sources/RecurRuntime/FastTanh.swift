// Vectorised tanh: a clamped [13/6] minimax rational approximation (the coefficients Eigen uses for float).
//
// Why not libm: glibc `tanhf` costs ~11 ns per lane and cannot be vectorised; this costs well under 1 ns per lane.
// Measured maximum absolute error against Double-precision tanh over every Float in [-10, 10] is printed by
// `RecurRuntimeTests/FastTanhTests` and recorded in the README (about 3e-7; the Float rounding of tanh itself is
// up to 6e-8). Inputs beyond ±9 return ±1 (tanh(9) rounds to 1 in Float); NaN propagates.

@inline(__always)
func fastTanh(_ input: SIMD8<Float>) -> SIMD8<Float> {
  var x = input
  // `replace(with:where:)` compiles to a vector min/max; `clamped` became a scalar loop in measurements.
  x.replace(with: 9, where: x .> 9)
  x.replace(with: -9, where: x .< -9)
  let x2 = x * x
  var p = x2 * -2.760_768_477_423_55e-16 + 2.000_187_904_824_77e-13
  p = x2 * p + -8.604_671_522_137_35e-11
  p = x2 * p + 5.122_297_090_371_14e-08
  p = x2 * p + 1.485_722_357_179_79e-05
  p = x2 * p + 6.372_619_288_754_36e-04
  p = x2 * p + 4.893_524_558_917_86e-03
  p = x * p
  var q = x2 * 1.198_258_394_667_02e-06 + 1.185_347_056_866_54e-04
  q = x2 * q + 2.268_434_632_439_00e-03
  q = x2 * q + 4.893_525_185_543_85e-03
  return p / q
}

/// Scalar entry point to the same approximation (lane 0 of the vector version), for tests and documentation.
public func recurTanh(_ x: Float) -> Float {
  fastTanh(SIMD8(repeating: x))[0]
}
