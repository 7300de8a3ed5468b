import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct FastTanhTests {
  /// Maximum absolute error against Double tanh over [-10, 10], sampling every 211th float32 bit pattern
  /// (all ≈ 2 billion take minutes in a debug build; 1 in 211 is ≈ 5 million floats, every exponent and every
  /// region of the rational approximation; `tools/measure-tanh` sweeps them all). docs/hardening-and-testing.md documents the bound.
  @Test func maximumErrorIsDocumented() {
    var worst = 0.0
    var worstAt: Float = 0
    var bits = Float(0).bitPattern
    let end = Float(10).bitPattern
    while bits <= end {
      let x = Float(bitPattern: bits)
      for v in [x, -x] {
        let e = abs(Double(recurTanh(v)) - tanh(Double(v)))
        if e > worst { (worst, worstAt) = (e, v) }
      }
      bits += bits < 0x3800_0000 ? 4099 : 211  // tiny |x| < 3e-5: tanh(x) = x to float precision, sample sparsely
    }
    print("fast tanh: max |error| vs Double tanh over [-10, 10] = \(worst) at x = \(worstAt)")
    #expect(worst <= 5e-7)
  }

  /// σ(x) = (1 + tanh(x/2)) / 2 through the same approximation: its error against Double 1/(1 + e^−x) over
  /// [-20, 20] is half of tanh's plus rounding. docs/hardening-and-testing.md documents the bound.
  @Test func sigmoidMaximumErrorIsDocumented() {
    var worst = 0.0
    var worstAt: Float = 0
    var bits = Float(0).bitPattern
    let end = Float(20).bitPattern
    while bits <= end {
      let x = Float(bitPattern: bits)
      for v in [x, -x] {
        let e = abs(Double(recurSigmoid(v)) - 1 / (1 + exp(-Double(v))))
        if e > worst { (worst, worstAt) = (e, v) }
      }
      bits += bits < 0x3800_0000 ? 4099 : 211
    }
    print("fast sigmoid: max |error| vs Double 1/(1+exp(-x)) over [-20, 20] = \(worst) at x = \(worstAt)")
    #expect(worst <= 3e-7)
    #expect(recurSigmoid(0) == 0.5)
    #expect(recurSigmoid(40) <= 1 && recurSigmoid(-40) >= 0)
  }

  @Test func saturatesOddAndPropagatesNaN() {
    // Saturation within the documented error bound (exactly ±1 would cost blends on the critical path).
    #expect(abs(recurTanh(50) - 1) <= 1.2e-7 && recurTanh(50) <= 1)
    #expect(abs(recurTanh(-1e30) + 1) <= 1.2e-7 && recurTanh(-1e30) >= -1)
    #expect(recurTanh(0) == 0)
    for x: Float in [0.001, 0.3, 1, 2.5, 7] { #expect(recurTanh(-x) == -recurTanh(x)) }
    #expect(recurTanh(.nan).isNaN)
  }
}
