// The GRU layer (`nn.GRU`), PyTorch's equations and gate order r, z, n.
//
// MARK: Equations
//   r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))          (r multiplies the recurrent term and its bias only)
//   h' = (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
//
// MARK: Weights in kernel layout (W lanes per vector, the plan's width; nv = ceil(H / W); padding is zero, so padded
// lanes get r = z = ½, n = 0 and h stays 0). r and z rows are stored halved: σ(s) = ½ tanh(s / 2) + ½, and the sums
// then arrive as s / 2, one multiply less before each sigmoid on the step's critical path (exact, so no change).
//   inputWeights  one input: [3][nv] vectors, W_ir, W_iz, W_in; several: panels of [I] columns (G = 3)
//   inputBias     [3][nv] vectors   b_ir + b_hr, b_iz + b_hz, b_in
//   hiddenBias    [nv] vectors      b_hn (inside r ⊙ (...), so kept apart from b_in)
//   recurrent     panels of [H] columns, G = 3, one hidden vector per tile: for hidden vector q, column j, the
//                 vectors [W_hr, W_hz, W_hn] of q, so one pass leaves the three sums of q in registers
//   No feedback weights: folding the readout into W_hh (as the other cells do for generation) needs a fourth gate
//   here (W_in x sits outside r ⊙ ...), and the plain step measured faster in earlier releases.
//
// MARK: One stream's state
//   h [nv] read, h' [nv] written (the stream ping-pongs two buffers); scratch: x-terms [3][nv] (several inputs)
//
// MARK: Step
//   x-terms = affine(W_ih, x, from inputBias) (several inputs). For each hidden vector q (descending every other step
//   when the plan says so), one tile pass sums W_hr h, W_hz h (from the x-terms or the biases) and W_hn h (from
//   b_hn); with one input the x terms join after the pass, so the chains never wait for x; the gates and h' of q
//   follow in registers, software-pipelined in desktop builds: the pass of the next q is issued before the update of q.

struct GRULayer {
  let hidden: Int
  let inputCount: Int
  let vectors: Int
  let chains: Int
  let input: PanelLayout
  let recurrent: PanelLayout
  let inputWeights: UnsafeMutablePointer<Float>  // one input: [3][nv·W]; several: input.count vectors
  let inputBias: UnsafeMutablePointer<Float>  // [3][nv·W]
  let hiddenBias: UnsafeMutablePointer<Float>  // [nv·W]
  let recurrentWeights: UnsafeMutablePointer<Float>  // recurrent.count vectors

  static let scratchSlots = 3

  /// The layer's tensors in kernel order (GateWeights.swift): r and z rows halved, their biases summed.
  static func weights(_ file: ModelFile, layer k: Int) -> GateWeights {
    let H = file.hiddenSize
    let I = k == 0 ? file.architecture.cellInputSize : H
    let halve = { (t: [Float], columns: Int) in GateWeights.halving(t, gates: [0, 1], hidden: H, columns: columns) }
    let bih = halve(file.tensor(.biasIH, layer: k), 1)
    let bhh = halve(file.tensor(.biasHH, layer: k), 1)
    var inputBias = GateWeights.sum(bih, bhh)
    for i in 0..<H { inputBias[2 * H + i] = bih[2 * H + i] }  // b_in alone
    return GateWeights(
      gates: 3, hidden: H, inputCount: I, inputWeights: halve(file.tensor(.weightIH, layer: k), I),
      recurrentWeights: halve(file.tensor(.weightHH, layer: k), H), inputBias: inputBias,
      hiddenBias: Array(bhh[(2 * H)..<(3 * H)]))
  }

  init(_ w: GateWeights, plan: KernelPlan, storage: FloatStorage) {
    let (H, W) = (w.hidden, plan.width)
    let nv = plan.vectors(hidden: H)
    hidden = H
    inputCount = w.inputCount
    vectors = nv
    chains = plan.chains
    input = PanelLayout(gates: 3, vectors: nv, tileVectors: 1, columns: w.inputCount)
    recurrent = PanelLayout(gates: 3, vectors: nv, tileVectors: 1, columns: H)
    inputBias = GateWeights.placeRows(w.inputBias, hidden: H, gates: 3, layout: recurrent, width: W, storage: storage)
    hiddenBias = GateWeights.placeRows(w.hiddenBias, hidden: H, gates: 1, layout: recurrent, width: W, storage: storage)
    inputWeights = w.placeInputWeights(input, width: W, storage: storage)
    recurrentWeights = GateWeights.placeMatrix(
      w.recurrentWeights, hidden: H, layout: recurrent, width: W, storage: storage)
  }

  /// One step on `h` (nv vectors) into `next`. `input` holds `inputCount` values; `scratch` 3·nv vectors.
  @_transparent
  func step<V: FloatVector>(
    _: V.Type, input x: UnsafePointer<Float>, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>, descending: Bool
  ) {
    let nv = vectors
    let one = inputCount == 1
    let bias = asVectors(inputBias, V.self)
    let terms = asVectors(scratch, V.self)  // [3][nv] the x-terms (several inputs)
    if !one {
      affine(input, asVectors(inputWeights, V.self), chains: chains, v: x, initial: bias, out: terms, tanh: false)
    }
    let start = one ? UnsafePointer(bias) : UnsafePointer(terms)  // r and z sums start from slots 0 and 1
    let wx = asVectors(inputWeights, V.self)
    let hb = asVectors(hiddenBias, V.self)
    let hv = asVectors(h, V.self)
    let out = asVectors(next, V.self)
    let panels = asVectors(recurrentWeights, V.self)
    let xv = V(repeating: x[0])
    // The sums of hidden vector q (the x terms added after the pass) and its input term W_in x + b_in.
    @_transparent func sums(_ q: Int) -> (Sums<V>, xn: V) {
      var s = Sums<V>()
      (s.s0, s.s1, s.s2) = (start[q], start[nv + q], hb[q])
      #if hasFeature(Embedded)
        // Firmware (-Osize): the one out-of-line copy of the column loop (the same sums in the same order).
        s = gateSums(panels + q * 3 * hidden, gates: 3, columns: hidden, chains: chains, v: h, initial: s)
      #else
        // Inline: its six accumulators fit in AVX2's registers (out of line, gateSums measured 4-10% slower).
        s = tileSums(panels + q * 3 * hidden, rows: 3, columns: hidden, chains: chains, v: h, initial: s)
      #endif
      guard one else { return (s, terms[2 * nv + q]) }
      s.s0 = multiplyAdd(wx[q], xv, s.s0)
      s.s1 = multiplyAdd(wx[nv + q], xv, s.s1)
      return (s, multiplyAdd(wx[2 * nv + q], xv, bias[2 * nv + q]))
    }
    #if hasFeature(Embedded)
      // Firmware: an in-order core gains nothing from the pipelined order, and -Osize keeps one copy of the update.
      for i in 0..<nv {
        let q = descending ? nv &- 1 &- i : i
        let (s, xn) = sums(q)
        out[q] = Self.update(h: hv[q], r: s.s0, z: s.s1, n: s.s2, xn: xn)
      }
    #else
      // Software-pipelined as the LSTM's pass (LSTM.swift): the next hidden vector's sums are issued before this one's
      // gate update. The same operations on the same values.
      if nv == 1 {  // H ≤ the width: nothing to pipeline (and the loop's bookkeeping measured 1-2 ns at H = 8)
        let (s, xn) = sums(0)
        out[0] = Self.update(h: hv[0], r: s.s0, z: s.s1, n: s.s2, xn: xn)
        return
      }
      var q = descending ? nv &- 1 : 0
      var (s, xn) = sums(q)
      for i in 1..<nv {
        let following = descending ? nv &- 1 &- i : i
        let (t, tn) = sums(following)
        out[q] = Self.update(h: hv[q], r: s.s0, z: s.s1, n: s.s2, xn: xn)
        (q, s, xn) = (following, t, tn)
      }
      out[q] = Self.update(h: hv[q], r: s.s0, z: s.s1, n: s.s2, xn: xn)
    #endif
  }

  /// The gates and the new state from the sums: r and z halved, n the recurrent term W_hn h + b_hn, xn the input
  /// term W_in x + b_in. The many-stream path (`BatchCell`) calls this same function on 16 streams' lanes.
  @_transparent
  static func update<V: FloatVector>(h: V, r sr: V, z sz: V, n sn: V, xn: V) -> V {
    let r = sigmoidOfHalved(sr)
    let z = sigmoidOfHalved(sz)
    let n = rationalTanh(multiplyAdd(r, sn, xn))
    return multiplyAdd(z, h - n, n)
  }
}
