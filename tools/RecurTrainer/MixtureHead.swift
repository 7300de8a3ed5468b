// The mixture-of-experts readout in training (`Architecture.experts` > 0; the runtime's `ExpertMixture`), forward and
// backward side by side. Per lane b, with logits ℓ_e = y_e (the fc readout, E rows), u_j the last m inputs of the
// window (oldest first) and A = experts.weight [E][m]:
//
//   (M1) π = softmax(ℓ)                     computed as w_e = exp(ℓ_e − max ℓ), π_e = w_e / Σ w
//   (M2) v_e = Σ_j A_ej u_j                 each expert's prediction
//   (M3) ŷ = Σ_e w_e v_e / Σ_e w_e          (= Σ_e π_e v_e), what the loss compares with the target
//
// and their derivatives, given dŷ:
//
//   (M3') dℓ_e = dŷ · π_e · (v_e − ŷ)       the softmax's Jacobian applied to v
//   (M2') dA_ej = Σ_b dŷ π_e u_j             (the inputs are data: no gradient flows into them)
//
// (M1)–(M3) run the runtime's operations in its order (max, subtract, the runtime's exp, sequential sums, one
// divide), so from the same logits the Float forward pass and an exported model predict the same float.

import RecurRuntime

struct MixtureHead<Scalar: TrainingScalar> {
  typealias Vector = SIMD8<Scalar>
  let experts: Int
  let order: Int
  let blocks: Int
  let probability: UnsafeMutablePointer<Vector>  // [E][blocks] π_e
  let value: UnsafeMutablePointer<Vector>  // [E][blocks] v_e
  let prediction: UnsafeMutablePointer<Vector>  // [blocks] ŷ
  let dPrediction: UnsafeMutablePointer<Vector>  // [blocks] ∂L/∂ŷ, the caller's loss gradient for `backward`
  private let dA: UnsafeMutablePointer<Vector>  // [m] one expert's ∂L/∂A_e, before the sum over lanes

  /// Takes its buffers, `vectors(experts:order:blocks:)` of them, from `arena`.
  init(experts: Int, order: Int, blocks: Int, arena: inout LaneArena<Scalar>) {
    (self.experts, self.order, self.blocks) = (experts, order, blocks)
    probability = arena.vectors(experts * blocks)
    value = arena.vectors(experts * blocks)
    prediction = arena.vectors(blocks)
    dPrediction = arena.vectors(blocks)
    dA = arena.vectors(order)
  }

  static func vectors(experts: Int, order: Int, blocks: Int) -> Int { (2 * experts + 2) * blocks + order }

  /// (M1)–(M3): `logits` [E][blocks], `inputs(j)` the lane row of input j of the last m (oldest first), `weights`
  /// experts.weight [E][m].
  func forward(
    logits: UnsafePointer<Vector>, inputs: (Int) -> UnsafePointer<Vector>, weights: UnsafePointer<Scalar>
  ) {
    for k in 0..<blocks {
      var largest = logits[k]
      for e in 1..<experts { largest = pointwiseMax(largest, logits[e * blocks + k]) }
      var total = Vector()
      var mixed = Vector()
      for e in 0..<experts {
        let w = Scalar.exp8(logits[e * blocks + k] - largest)
        var v = Vector()
        for j in 0..<order { v += Vector(repeating: weights[e * order + j]) * inputs(j)[k] }
        total += w
        mixed += w * v
        probability[e * blocks + k] = w
        value[e * blocks + k] = v
      }
      prediction[k] = mixed / total
      for e in 0..<experts { probability[e * blocks + k] /= total }
    }
  }

  /// (M3') and (M2'): from `dPrediction` (∂L/∂ŷ, filled by the caller) writes `dLogits` [E][blocks] and adds ∂L/∂A
  /// into `dWeights` [E][m].
  func backward(
    inputs: (Int) -> UnsafePointer<Vector>, dLogits: UnsafeMutablePointer<Vector>,
    dWeights: UnsafeMutablePointer<Scalar>
  ) {
    for e in 0..<experts {
      for j in 0..<order { dA[j] = Vector() }
      for k in 0..<blocks {
        let p = probability[e * blocks + k]
        let weighted = dPrediction[k] * p
        dLogits[e * blocks + k] = weighted * (value[e * blocks + k] - prediction[k])
        for j in 0..<order { dA[j] += weighted * inputs(j)[k] }
      }
      for j in 0..<order { dWeights[e * order + j] += horizontalSum(dA[j]) }
    }
  }
}
