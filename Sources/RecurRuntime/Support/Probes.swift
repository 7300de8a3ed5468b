// The kernels' own primitives run as dependency chains and throughput loops, so that `recur bench --machine` can
// measure this machine's lower bounds for a step with exactly the instructions and the flags the kernels use (no
// cycle counters needed: every figure is a time per operation). Each function adds a value derived from all its
// work to `result`: the write keeps a call from being merged with an identical one or moved out of its timed region.
// Not used by any step.

package enum PrimitiveProbe {
  /// `count` dependent 16-lane multiply-adds, x = x·a + b: the latency of one multiply-add.
  @inline(never)
  package static func multiplyAddChain(_ count: Int, seed: Float, into result: inout Float) {
    var x = SIMD16<Float>(repeating: seed)
    let a = SIMD16<Float>(repeating: 0.999_9)
    let b = SIMD16<Float>(repeating: 1e-4)
    for _ in 0..<count { x = multiplyAdd(x, a, b) }
    result += x[0] + x[15]
  }

  /// `count` dependent 16-lane additions: the latency of one add (float addition is never reassociated).
  @inline(never)
  package static func addChain(_ count: Int, seed: Float, into result: inout Float) {
    var x = SIMD16<Float>(repeating: seed)
    let b = SIMD16<Float>(repeating: seed * 1e-7)  // not a constant: nothing to fold
    for _ in 0..<count { x = x + b }
    result += x[0] + x[15]
  }

  /// `count` dependent applications of the runtime's 16-lane tanh: the latency of one activation.
  @inline(never)
  package static func tanhChain(_ count: Int, seed: Float, into result: inout Float) {
    var x = SIMD16<Float>(repeating: seed)
    for _ in 0..<count { x = rationalTanh(x) }
    result += x[0] + x[15]
  }

  /// `count` rounds of twelve independent 16-lane multiply-add chains (more than the FMA units' latency ×
  /// throughput keeps in flight): 12 · 16 · `count` lane multiply-adds at the machine's peak rate.
  @inline(never)
  package static func independentMultiplyAdds(_ count: Int, seed: Float, into result: inout Float) {
    let a = SIMD16<Float>(repeating: 0.999_9)
    let b = SIMD16<Float>(repeating: 1e-4)
    // Twelve named chains written out, not an array: they must stay in registers for the loop to run at peak rate.
    var x0 = SIMD16<Float>(repeating: seed)
    var x1 = x0 + 1
    var x2 = x0 + 2
    var x3 = x0 + 3
    var x4 = x0 + 4
    var x5 = x0 + 5
    var x6 = x0 + 6
    var x7 = x0 + 7
    var x8 = x0 + 8
    var x9 = x0 + 9
    var x10 = x0 + 10
    var x11 = x0 + 11
    for _ in 0..<count {
      x0 = multiplyAdd(x0, a, b)
      x1 = multiplyAdd(x1, a, b)
      x2 = multiplyAdd(x2, a, b)
      x3 = multiplyAdd(x3, a, b)
      x4 = multiplyAdd(x4, a, b)
      x5 = multiplyAdd(x5, a, b)
      x6 = multiplyAdd(x6, a, b)
      x7 = multiplyAdd(x7, a, b)
      x8 = multiplyAdd(x8, a, b)
      x9 = multiplyAdd(x9, a, b)
      x10 = multiplyAdd(x10, a, b)
      x11 = multiplyAdd(x11, a, b)
    }
    let s = ((x0 + x1) + (x2 + x3)) + ((x4 + x5) + (x6 + x7)) + ((x8 + x9) + (x10 + x11))
    result += s[0] + s[15]
  }

  /// Reads `count` 16-lane blocks `passes` times as four interleaved sequential streams (its quarters; one stream
  /// measured a third slower from L2 on Zen 5), summing into eight independent accumulators: the read bandwidth at
  /// this working set (the weights a step streams through, in L1, L2 or beyond). `count` is a multiple of 8.
  @inline(never)
  package static func readSweep(
    _ blocks: UnsafePointer<SIMD16<Float>>, count: Int, passes: Int, into result: inout Float
  ) {
    var s0 = SIMD16<Float>()
    var s1 = SIMD16<Float>()
    var s2 = SIMD16<Float>()
    var s3 = SIMD16<Float>()
    var s4 = SIMD16<Float>()
    var s5 = SIMD16<Float>()
    var s6 = SIMD16<Float>()
    var s7 = SIMD16<Float>()
    let part = count / 4
    let (q0, q1, q2, q3) = (blocks, blocks + part, blocks + 2 * part, blocks + 3 * part)
    for _ in 0..<passes {
      var i = 0
      while i + 2 <= part {
        s0 += q0[i]
        s1 += q1[i]
        s2 += q2[i]
        s3 += q3[i]
        s4 += q0[i + 1]
        s5 += q1[i + 1]
        s6 += q2[i + 1]
        s7 += q3[i + 1]
        i += 2
      }
    }
    let s = ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
    result += s[0] + s[15]
  }
}
