// The LSTM layer (`nn.LSTM`, no projection), PyTorch's equations and gate order i, f, g, o.
//
// MARK: Equations
//   i  = σ(W_ii x + b_ii + W_hi h + b_hi)
//   f  = σ(W_if x + b_if + W_hf h + b_hf)
//   g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
//   o  = σ(W_io x + b_io + W_ho h + b_ho)
//   c' = f ⊙ c + i ⊙ g
//   h' = o ⊙ tanh(c')
//
// MARK: Weights in kernel layout (W lanes per vector, the plan's width; nv = ceil(H / W); padding is zero, so padded
// lanes get i = f = o = ½, g = 0, and c and h stay 0). i, f and o rows are stored halved: σ(s) = ½ tanh(s / 2) + ½,
// and the sums then arrive as s / 2, one multiply less before the gates on the critical path (exact, so no change).
//   inputWeights  one input: [4][nv] vectors, W_ii, W_if, W_ig, W_io; several: panels of [I] columns (G = 4)
//   bias          [4][nv] vectors   b_ih + b_hh
//   recurrent     panels of [H] columns, G = 4, one hidden vector per tile: for hidden vector q, column j, the
//                 vectors [W_hi, W_hf, W_hg, W_ho] of q, so one pass leaves the four sums of q in registers
//   feedback      the same panels and [4][nv] biases, one layer, one input, one output, when the plan folds feedback:
//                 W_h· + w_i· ⊗ fc.weight and b· + w_i· fc.bias, so free-running generation has no input at all
//
// MARK: One stream's state
//   h [nv] read, h' [nv] written (the stream ping-pongs two buffers), c [nv] updated in place;
//   scratch: x-terms [4][nv] (several inputs)
//
// MARK: Step
//   x-terms = affine(W_ih, x, from bias) (several inputs). For each hidden vector q (descending every other step when
//   the plan says so), one tile pass sums the four recurrent terms (from the x-terms or the biases); with one input
//   the x terms join after the pass, so the chains never wait for x; the gates, c and h' of q follow in registers,
//   software-pipelined in desktop builds: the pass of the next q is issued before the update of q.
//   `stepFeedback` is the same over the feedback weights, with no input.

struct LSTMLayer {
  let hidden: Int
  let inputCount: Int
  let vectors: Int
  let chains: Int
  let input: PanelLayout
  let recurrent: PanelLayout
  let inputWeights: UnsafeMutablePointer<Float>  // one input: [4][nv·W]; several: input.count vectors
  let bias: UnsafeMutablePointer<Float>  // [4][nv·W]
  let recurrentWeights: UnsafeMutablePointer<Float>  // recurrent.count vectors
  let feedback: (weights: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>)?  // recurrent.count, [4][nv·W]

  static let scratchSlots = 4

  /// The layer's tensors in kernel order (GateWeights.swift): i, f and o rows halved, biases summed.
  static func weights(_ file: ModelFile, layer k: Int) -> GateWeights {
    let H = file.hiddenSize
    let I = k == 0 ? file.architecture.cellInputSize : H
    let halve = { (t: [Float], columns: Int) in GateWeights.halving(t, gates: [0, 1, 3], hidden: H, columns: columns) }
    return GateWeights(
      gates: 4, hidden: H, inputCount: I, inputWeights: halve(file.tensor(.weightIH, layer: k), I),
      recurrentWeights: halve(file.tensor(.weightHH, layer: k), H),
      inputBias: GateWeights.sum(halve(file.tensor(.biasIH, layer: k), 1), halve(file.tensor(.biasHH, layer: k), 1)),
      hiddenBias: [])
  }

  // The same placement as RNN.swift's and GRU.swift's on purpose: each cell kind's file reads top to bottom
  // (DESIGN.md), and the step reads the layer's own stored fields.
  init(_ w: GateWeights, plan: KernelPlan, fold: (fcWeight: [Float], fcBias: Float)?, storage: FloatStorage) {
    let (H, W) = (w.hidden, plan.width)
    let nv = plan.vectors(hidden: H)
    hidden = H
    inputCount = w.inputCount
    vectors = nv
    chains = plan.chains
    input = PanelLayout(gates: 4, vectors: nv, tileVectors: 1, columns: w.inputCount)
    recurrent = PanelLayout(gates: 4, vectors: nv, tileVectors: 1, columns: H)
    bias = GateWeights.placeRows(w.inputBias, hidden: H, gates: 4, layout: recurrent, width: W, storage: storage)
    inputWeights = w.placeInputWeights(input, width: W, storage: storage)
    recurrentWeights = GateWeights.placeMatrix(
      w.recurrentWeights, hidden: H, layout: recurrent, width: W, storage: storage)
    feedback = w.placeFeedback(fold, layout: recurrent, width: W, storage: storage)
  }

  /// One step on `h` and `c` (nv vectors each) into `next`. `input` holds `inputCount` values; `scratch` 4·nv
  /// vectors.
  @_transparent
  func step<V: FloatVector>(
    _: V.Type, input x: UnsafePointer<Float>, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>,
    c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, descending: Bool
  ) {
    let one = inputCount == 1
    let terms = asVectors(scratch, V.self)  // [4][nv] the x-terms (several inputs)
    if !one {
      affine(
        input, asVectors(inputWeights, V.self), chains: chains, v: x, initial: asVectors(bias, V.self), out: terms,
        tanh: false)
    }
    pass(
      V.self, weights: recurrentWeights, start: one ? UnsafePointer(asVectors(bias, V.self)) : UnsafePointer(terms),
      inputColumn: one ? UnsafePointer(asVectors(inputWeights, V.self)) : nil, x: x[0], h: h, out: next, c: c,
      descending: descending)
  }

  /// One free-running step with the readout fed back as the input, through the feedback weights.
  @_transparent
  func stepFeedback<V: FloatVector>(
    _: V.Type, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
    descending: Bool
  ) {
    guard let (fw, fb) = feedback else { preconditionFailure("no feedback weights") }
    pass(
      V.self, weights: fw, start: UnsafePointer(asVectors(fb, V.self)), inputColumn: nil, x: 0, h: h, out: next, c: c,
      descending: descending)
  }

  /// The recurrent pass: per hidden vector q, the four sums from `start` [4][nv] (+ inputColumn · x after the pass),
  /// then the gates, c and h' of q.
  @_transparent
  func pass<V: FloatVector>(
    _: V.Type, weights: UnsafeMutablePointer<Float>, start: UnsafePointer<V>, inputColumn: UnsafePointer<V>?,
    x: Float, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
    descending: Bool
  ) {
    let nv = vectors
    let panels = asVectors(weights, V.self)
    let cv = asVectors(c, V.self)
    let out = asVectors(next, V.self)
    let xv = V(repeating: x)
    // The four sums of hidden vector q, the x terms added after the pass.
    @_transparent func sums(_ q: Int) -> Sums<V> {
      var s = Sums<V>()
      (s.s0, s.s1, s.s2, s.s3) = (start[q], start[nv + q], start[2 * nv + q], start[3 * nv + q])
      s = gateSums(panels + q * 4 * hidden, gates: 4, columns: hidden, chains: chains, v: h, initial: s)
      if let w = inputColumn {
        s.s0 = multiplyAdd(w[q], xv, s.s0)
        s.s1 = multiplyAdd(w[nv + q], xv, s.s1)
        s.s2 = multiplyAdd(w[2 * nv + q], xv, s.s2)
        s.s3 = multiplyAdd(w[3 * nv + q], xv, s.s3)
      }
      return s
    }
    #if hasFeature(Embedded)
      // Firmware: an in-order core gains nothing from the pipelined order, and -Osize keeps one copy of the update.
      for i in 0..<nv {
        let q = descending ? nv &- 1 &- i : i
        let s = sums(q)
        (out[q], cv[q]) = Self.update(c: cv[q], i: s.s0, f: s.s1, g: s.s2, o: s.s3)
      }
    #else
      // Software-pipelined: the sums of the next hidden vector are issued before the gate update of this one, so the
      // update's long dependent chains (two tanh, three sigmoids) run beside the next pass's multiply-adds instead of
      // filling the CPU's queues ahead of them. The same operations on the same values, so the same bits.
      if nv == 1 {  // H ≤ the width: nothing to pipeline (and the loop's bookkeeping measured 1-2 ns at H = 8)
        let s = sums(0)
        (out[0], cv[0]) = Self.update(c: cv[0], i: s.s0, f: s.s1, g: s.s2, o: s.s3)
        return
      }
      var q = descending ? nv &- 1 : 0
      var s = sums(q)
      for i in 1..<nv {
        let following = descending ? nv &- 1 &- i : i
        let t = sums(following)
        (out[q], cv[q]) = Self.update(c: cv[q], i: s.s0, f: s.s1, g: s.s2, o: s.s3)
        (q, s) = (following, t)
      }
      (out[q], cv[q]) = Self.update(c: cv[q], i: s.s0, f: s.s1, g: s.s2, o: s.s3)
    #endif
  }

  /// The gates, c' and h' from the four sums (i, f and o halved). The many-stream path (`BatchCell`) calls this same
  /// function on 16 streams' lanes.
  @_transparent
  static func update<V: FloatVector>(c: V, i si: V, f sf: V, g sg: V, o so: V) -> (h: V, c: V) {
    let i = sigmoidOfHalved(si)
    let f = sigmoidOfHalved(sf)
    let o = sigmoidOfHalved(so)
    let cNext = multiplyAdd(f, c, i * rationalTanh(sg))
    return (o * rationalTanh(cNext), cNext)
  }
}
