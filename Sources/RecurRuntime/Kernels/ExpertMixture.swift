// The mixture-of-experts readout (format version 4; `Architecture.experts` > 0): the cell's readout is one logit per
// expert, each expert a fixed linear map of the last m cell inputs, and the prediction is their softmax-weighted sum
//
//   y = Σ_e π_e · (A_e · u),   π = softmax(logits),   A = experts.weight [E][m],   u = the last m inputs, oldest first
//
// Why: for window-differences, the next difference of an order-m linear recurrence is a fixed linear map of the
// last m differences, so a network that only has to *choose* the map (a softmax saturates towards one expert) can be
// far more precise than one that has to compute the value. The trainer's forward pass (tools/RecurTrainer) does the
// same operations in the same order (the logits themselves differ from the trainer's in their last bits: the cell
// kernels sum in another order).

public enum ExpertMixture {
  /// y for `logits` [experts], `weights` [experts][order] row-major and `inputs` [order] (oldest first).
  /// Allocation-free; a NaN or infinite logit cannot trap (see `fastExp`).
  @inline(__always)
  public static func combine(
    logits: UnsafePointer<Float>, experts: Int, weights: UnsafePointer<Float>, order: Int,
    inputs: UnsafePointer<Float>
  ) -> Float {
    // Softmax relative to the largest logit, so no exponential overflows.
    var largest = logits[0]
    for e in 1..<experts where logits[e] > largest { largest = logits[e] }
    var total: Float = 0
    var mixed: Float = 0
    var e = 0
    while e < experts {
      let count = min(8, experts - e)
      var shifted = SIMD8<Float>()
      for lane in 0..<count { shifted[lane] = logits[e + lane] - largest }
      let weight = fastExp(shifted)
      for lane in 0..<count {
        let row = weights + (e + lane) * order
        var value: Float = 0
        for j in 0..<order { value += row[j] * inputs[j] }
        total += weight[lane]
        mixed += weight[lane] * value
      }
      e += 8
    }
    return mixed / total
  }
}
