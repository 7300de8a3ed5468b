// A layer's tensors as its kernels consume them: still row-major and in PyTorch's gate order, after the load-time
// transforms each cell file describes (biases summed, sigmoid rows halved). Both the single-stream layout (the cell
// files, through `PanelLayout.place`) and the many-stream layout (`BatchCell`) are built from this one value, so they
// start from the same numbers.
//
// Per row r (gate g, hidden unit i) a step computes, in both paths:
//   several inputs:  t[r] = inputBias[r] + Σ_j inputWeights[r][j] · x[j]            (the plan's chains over j)
//                    s[r] = t[r] + Σ_j recurrentWeights[r][j] · h[j]               (chains over j; chain 0 from t[r])
//   one input:       s[r] = inputBias[r] + Σ_j recurrentWeights[r][j] · h[j], then s[r] = fma(inputWeights[r], x, s[r])
// (the x term last, off the chains: the step's critical path runs through x when the output is fed back), except a
// GRU's n rows, where the recurrent sum starts from hiddenBias[i] and the input term t[r] (or
// fma(inputWeights[r], x, inputBias[r])) stays apart, as r ⊙ (W_hn h + b_hn) requires. (Before 2026-12-08 a vanilla
// cell with one input started its sum from fma(inputWeights[r], x, inputBias[r]); the goldens recorded then still
// hold within their tolerance: docs/performance.md.)

struct GateWeights {
  let gates: Int
  let hidden: Int
  let inputCount: Int
  var inputWeights: [Float]  // [G·H][I]
  var recurrentWeights: [Float]  // [G·H][H]
  var inputBias: [Float]  // [G·H]
  var hiddenBias: [Float]  // [H] GRU's b_hn; empty otherwise

  /// The feedback weights of free-running generation with one input and one output, where x = fc.weight · h + fc.bias:
  /// recurrentWeights + inputWeights ⊗ fc.weight, and inputBias + inputWeights · fc.bias (each a Float product and
  /// sum, in that order). Not for a GRU (its n rows keep the input term apart).
  func folded(fcWeight: [Float], fcBias: Float) -> (weights: [Float], bias: [Float]) {
    precondition(inputCount == 1 && hiddenBias.isEmpty, "feedback folding needs one input and no separate n gate")
    var w = recurrentWeights
    var b = inputBias
    for r in 0..<(gates * hidden) {
      b[r] = inputBias[r] + inputWeights[r] * fcBias
      for j in 0..<hidden { w[r * hidden + j] = recurrentWeights[r * hidden + j] + inputWeights[r] * fcWeight[j] }
    }
    return (w, b)
  }

  // MARK: Placing into kernel layout (each a new region of `storage`)

  /// The feedback weights (`folded`) placed as the recurrent ones are: the matrix in `layout`'s panels, then the
  /// biases as [G][nv·W] rows. nil without `fold`.
  func placeFeedback(
    _ fold: (fcWeight: [Float], fcBias: Float)?, layout: PanelLayout, width: Int, storage: FloatStorage
  ) -> (weights: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>)? {
    guard let fold else { return nil }
    let (w, b) = folded(fcWeight: fold.fcWeight, fcBias: fold.fcBias)
    return (
      Self.placeMatrix(w, hidden: hidden, layout: layout, width: width, storage: storage),
      Self.placeRows(b, hidden: hidden, gates: gates, layout: layout, width: width, storage: storage)
    )
  }

  /// W_ih: with one input, its column as [G][nv·W] rows; with several, in `layout`'s panels.
  func placeInputWeights(_ layout: PanelLayout, width: Int, storage: FloatStorage) -> UnsafeMutablePointer<Float> {
    if inputCount == 1 {
      return Self.placeRows(inputWeights, hidden: hidden, gates: gates, layout: layout, width: width, storage: storage)
    }
    return Self.placeMatrix(inputWeights, hidden: hidden, layout: layout, width: width, storage: storage)
  }

  /// A row-major matrix [G·H][columns] in `layout`'s panels.
  static func placeMatrix(
    _ matrix: [Float], hidden: Int, layout: PanelLayout, width: Int, storage: FloatStorage
  ) -> UnsafeMutablePointer<Float> {
    let p = storage.take(layout.count * width)
    layout.place(matrix, hidden: hidden, width: width, into: p)
    return p
  }

  /// Gate rows [gates·H] as [gates][nv·W] padded slots (nv = `layout.vectors`).
  static func placeRows(
    _ rows: [Float], hidden: Int, gates: Int, layout: PanelLayout, width: Int, storage: FloatStorage
  ) -> UnsafeMutablePointer<Float> {
    let slot = layout.vectors * width
    let p = storage.take(gates * slot)
    copyRows(rows, hidden: hidden, gates: gates, slot: slot, into: p)
    return p
  }

  /// `values` with the rows of the listed gates halved (exact: the sums then arrive as s / 2, see `sigmoidOfHalved`).
  static func halving(_ values: [Float], gates halved: [Int], hidden: Int, columns: Int) -> [Float] {
    var out = values
    for g in halved {
      for e in (g * hidden * columns)..<((g + 1) * hidden * columns) { out[e] = values[e] * 0.5 }
    }
    return out
  }

  /// The sum of two bias vectors, element by element.
  static func sum(_ a: [Float], _ b: [Float]) -> [Float] { a.indices.map { a[$0] + b[$0] } }
}
