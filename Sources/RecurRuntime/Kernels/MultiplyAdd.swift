// a * b + c on SIMD8<Float> and SIMD16<Float>, fused where the target CPU has fast FMA and a separate multiply and add
// where it does not.
//
// Why a Builtin: the standard library's `addingProduct` is a per-lane loop that becomes one `fmaf` libm call per lane
// on CPUs built for without FMA (25x slower), and `a * b + c` is never fused. LLVM's `llvm.fmuladd` is exactly
// "fuse if it is fast": baseline x86-64 gets mulps+addps, `-target-cpu native` on an FMA machine gets vfmadd231ps.
// The Builtin module is part of the compiler, not a dependency; enabled for this target in Package.swift.

import Builtin

@inline(__always)
func multiplyAdd(_ a: SIMD8<Float>, _ b: SIMD8<Float>, _ c: SIMD8<Float>) -> SIMD8<Float> {
  typealias V = Builtin.Vec8xFPIEEE32
  let r = Builtin.int_fmuladd_Vec8xFPIEEE32(
    unsafeBitCast(a, to: V.self), unsafeBitCast(b, to: V.self), unsafeBitCast(c, to: V.self))
  return unsafeBitCast(r, to: SIMD8<Float>.self)
}

@inline(__always)
func multiplyAdd(_ a: SIMD16<Float>, _ b: SIMD16<Float>, _ c: SIMD16<Float>) -> SIMD16<Float> {
  typealias V = Builtin.Vec16xFPIEEE32
  let r = Builtin.int_fmuladd_Vec16xFPIEEE32(
    unsafeBitCast(a, to: V.self), unsafeBitCast(b, to: V.self), unsafeBitCast(c, to: V.self))
  return unsafeBitCast(r, to: SIMD16<Float>.self)
}
