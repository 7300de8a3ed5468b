// The vector type a kernel plan runs on: 4, 8 or 16 float lanes (`KernelPlan.width`). Every kernel and activation is
// written once, generic over `FloatVector`, and specialised by the compiler for the three widths (`SIMD4`, `SIMD8`,
// `SIMD16`); the many-stream path (`BatchCell`) runs the same generic code on `SIMD16` vectors of 16 streams.
//
// a * b + c: fused where the target CPU has fast FMA, a separate multiply and add where it does not.
// Why a Builtin: the standard library's `addingProduct` is a per-lane loop that becomes one `fmaf` libm call per lane
// on CPUs built for without FMA (25x slower), and `a * b + c` is never fused. LLVM's `llvm.fmuladd` is exactly
// "fuse if it is fast": baseline x86-64 gets mulps+addps, `-target-cpu native` on an FMA machine gets vfmadd231ps.
// The Builtin module is part of the compiler, not a dependency; enabled for this target in Package.swift.

import Builtin

/// A SIMD vector of floats with a multiply-add and a fixed horizontal sum.
protocol FloatVector: SIMD where Scalar == Float {
  /// a · b + c, lane by lane (fused where the CPU has FMA).
  static func multiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self
  /// The sum of the lanes as a tree of halves: (low half + high half), repeated down to one lane. The readout's
  /// order, which `BatchCell` repeats on its per-lane partial sums.
  func foldedSum() -> Float
  /// The lanes clamped to [−bound, bound] (NaN stays NaN). A requirement rather than generic code: the generic
  /// comparisons and `replace(with:where:)` of `SIMD` became per-lane loops, the concrete ones a vector min and max.
  func clamped(magnitude bound: Float) -> Self
  // The arithmetic as single LLVM vector instructions: see "Vector arithmetic" below.
  static func + (a: Self, b: Self) -> Self
  static func - (a: Self, b: Self) -> Self
  static func * (a: Self, b: Self) -> Self
  static func / (a: Self, b: Self) -> Self
  static func += (a: inout Self, b: Self)
}

extension SIMD4: FloatVector where Scalar == Float {
  @inline(__always)
  func clamped(magnitude bound: Float) -> Self {
    var x = self
    x.replace(with: bound, where: x .> bound)
    x.replace(with: -bound, where: x .< -bound)
    return x
  }

  @inline(__always)
  static func multiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self {
    typealias V = Builtin.Vec4xFPIEEE32
    let r = Builtin.int_fmuladd_Vec4xFPIEEE32(
      unsafeBitCast(a, to: V.self), unsafeBitCast(b, to: V.self), unsafeBitCast(c, to: V.self))
    return unsafeBitCast(r, to: Self.self)
  }

  @inline(__always)
  func foldedSum() -> Float {
    let s2 = lowHalf + highHalf
    return s2[0] + s2[1]
  }
}

// Written out per width like SIMD4's on purpose: each width needs its own Builtin vector type, and a generic clamp
// became a per-lane loop (see `clamped`).
extension SIMD8: FloatVector where Scalar == Float {
  @inline(__always)
  func clamped(magnitude bound: Float) -> Self {
    var x = self
    x.replace(with: bound, where: x .> bound)
    x.replace(with: -bound, where: x .< -bound)
    return x
  }

  @inline(__always)
  static func multiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self {
    typealias V = Builtin.Vec8xFPIEEE32
    let r = Builtin.int_fmuladd_Vec8xFPIEEE32(
      unsafeBitCast(a, to: V.self), unsafeBitCast(b, to: V.self), unsafeBitCast(c, to: V.self))
    return unsafeBitCast(r, to: Self.self)
  }

  @inline(__always)
  func foldedSum() -> Float { (lowHalf + highHalf).foldedSum() }
}

extension SIMD16: FloatVector where Scalar == Float {
  @inline(__always)
  func clamped(magnitude bound: Float) -> Self {
    var x = self
    x.replace(with: bound, where: x .> bound)
    x.replace(with: -bound, where: x .< -bound)
    return x
  }

  @inline(__always)
  static func multiplyAdd(_ a: Self, _ b: Self, _ c: Self) -> Self {
    typealias V = Builtin.Vec16xFPIEEE32
    let r = Builtin.int_fmuladd_Vec16xFPIEEE32(
      unsafeBitCast(a, to: V.self), unsafeBitCast(b, to: V.self), unsafeBitCast(c, to: V.self))
    return unsafeBitCast(r, to: Self.self)
  }

  @inline(__always)
  func foldedSum() -> Float { (lowHalf + highHalf).foldedSum() }
}

// MARK: Vector arithmetic
//
// The standard library's float SIMD arithmetic (+, -, *, /) is generic code, a loop over the lanes. The firmware's
// -Osize leaves it rolled and runs it through the stack, the vector stored and reloaded around every lane (gru16 on
// the Cortex-M4F: 8,500 of its 11,150 instructions per step); the desktop's -O unrolls and re-vectorises it, but not
// always whole: the vanilla tile's (a + b) + (c + d) came out as two vector adds plus lane 7 recomputed through
// extracts, shuffles and blends, on the step's critical path (AVX2 vanilla 8 to 24: 2-7% slower). As FloatVector
// requirements, the kernels' generic code calls these instead: one LLVM vector instruction each (one VFP instruction
// per lane on the M4). The same IEEE operations, so the same bits. Written out per width, as the conformances above
// are: each width has its own Builtin vector type.
extension SIMD4 where Scalar == Float {
  typealias Native = Builtin.Vec4xFPIEEE32
  @_transparent var native: Native { unsafeBitCast(self, to: Native.self) }
  @_transparent init(native: Native) { self = unsafeBitCast(native, to: Self.self) }
  @_transparent static func + (a: Self, b: Self) -> Self {
    Self(native: Builtin.fadd_Vec4xFPIEEE32(a.native, b.native))
  }
  @_transparent static func - (a: Self, b: Self) -> Self {
    Self(native: Builtin.fsub_Vec4xFPIEEE32(a.native, b.native))
  }
  @_transparent static func * (a: Self, b: Self) -> Self {
    Self(native: Builtin.fmul_Vec4xFPIEEE32(a.native, b.native))
  }
  @_transparent static func / (a: Self, b: Self) -> Self {
    Self(native: Builtin.fdiv_Vec4xFPIEEE32(a.native, b.native))
  }
  @_transparent static func += (a: inout Self, b: Self) { a = a + b }
}
extension SIMD8 where Scalar == Float {
  typealias Native = Builtin.Vec8xFPIEEE32
  @_transparent var native: Native { unsafeBitCast(self, to: Native.self) }
  @_transparent init(native: Native) { self = unsafeBitCast(native, to: Self.self) }
  @_transparent static func + (a: Self, b: Self) -> Self {
    Self(native: Builtin.fadd_Vec8xFPIEEE32(a.native, b.native))
  }
  @_transparent static func - (a: Self, b: Self) -> Self {
    Self(native: Builtin.fsub_Vec8xFPIEEE32(a.native, b.native))
  }
  @_transparent static func * (a: Self, b: Self) -> Self {
    Self(native: Builtin.fmul_Vec8xFPIEEE32(a.native, b.native))
  }
  @_transparent static func / (a: Self, b: Self) -> Self {
    Self(native: Builtin.fdiv_Vec8xFPIEEE32(a.native, b.native))
  }
  @_transparent static func += (a: inout Self, b: Self) { a = a + b }
}
extension SIMD16 where Scalar == Float {
  typealias Native = Builtin.Vec16xFPIEEE32
  @_transparent var native: Native { unsafeBitCast(self, to: Native.self) }
  @_transparent init(native: Native) { self = unsafeBitCast(native, to: Self.self) }
  @_transparent static func + (a: Self, b: Self) -> Self {
    Self(native: Builtin.fadd_Vec16xFPIEEE32(a.native, b.native))
  }
  @_transparent static func - (a: Self, b: Self) -> Self {
    Self(native: Builtin.fsub_Vec16xFPIEEE32(a.native, b.native))
  }
  @_transparent static func * (a: Self, b: Self) -> Self {
    Self(native: Builtin.fmul_Vec16xFPIEEE32(a.native, b.native))
  }
  @_transparent static func / (a: Self, b: Self) -> Self {
    Self(native: Builtin.fdiv_Vec16xFPIEEE32(a.native, b.native))
  }
  @_transparent static func += (a: inout Self, b: Self) { a = a + b }
}

/// a · b + c on any width (see `FloatVector.multiplyAdd`).
@_transparent
func multiplyAdd<V: FloatVector>(_ a: V, _ b: V, _ c: V) -> V { V.multiplyAdd(a, b, c) }
