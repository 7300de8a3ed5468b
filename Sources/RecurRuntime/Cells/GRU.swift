// The GRU layer (`nn.GRU`), PyTorch's equations and gate order r, z, n.
//
// MARK: Equations
//   r  = σ(W_ir x + b_ir + W_hr h + b_hr)
//   z  = σ(W_iz x + b_iz + W_hz h + b_hz)
//   n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))          (r multiplies the recurrent term and its bias only)
//   h' = (1 − z) ⊙ n + z ⊙ h  =  n + z ⊙ (h − n)
//
// MARK: Weights in kernel layout (each slot is `blocks` SIMD8 vectors, H padded; padding is zero, so padded lanes
// get r = z = ½, n = 0 and h stays 0)
//   inputColumns  [inputCount][3 slots]  column j = [W_ir[:, j], W_iz[:, j], W_in[:, j]], panels of 4 blocks
//   inputBias     [3 slots]              [b_ir + b_hr, b_iz + b_hz, b_in]
//   hiddenBias    [blocks]               b_hn (inside r ⊙ (...), so kept apart from b_in)
//   panels        [blocks][H][3]         block-pair gate panels (ColumnKernel.swift): for hidden blocks q, q + 1
//                                        (q even), column j: [W_hr, W_hz, W_hn] rows of q and q + 1, each gate a
//                                        16-lane pair; an odd last block has a one-block panel
//   No feedback panels: folding the readout into W_hh (as the other cells do for generation) needs a fourth gate
//   here (W_in x sits outside r ⊙ ...), and with 16-lane pairs on Zen 5 the plain step measured faster:
//   generate H = 16 45.4 -> 42.5 ns, 32 85.3 -> 70.2 unfolded (H = 64 folded: 494, its panels overflow L1). Folding
//   fc into r and z only, with W_in x from the previous readout, measured slower too (H = 16 46.0 against 40.9).
//
// MARK: One stream's state
//   h [blocks]; scratch: x-terms [3 slots] (several inputs only);
//   h' [blocks] written (the stream ping-pongs two buffers)
//
// MARK: Step
//   x-terms = inputBias + W_ih x (one input: a multiply-add per block after the pass, so x is not needed before the
//   accumulator chains start). For each hidden block q, one pass over its gate panel sums W_hr h, W_hz h and W_hn h
//   in registers, and the gates and the new h of block q follow in registers, written to h'. Pairs of blocks, on
//   AVX-512: generate H = 32 94.5 -> 80.7 ns, 64 328 -> 231 (A/B, Zen 5). From H = 64 (panels of 48 KB and more, the
//   size of Zen 5's L1) every other step visits the pairs in descending order, so the panels read last are reused
//   first: H = 64 218 -> 182 ns, 256 3611 -> 3387.

struct GRULayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [3 * blocks] panels of [inputCount][4]
  let inputBias: UnsafeMutablePointer<SIMD8<Float>>  // [3 * blocks]
  let hiddenBias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
  let panels: UnsafeMutablePointer<SIMD8<Float>>  // [blocks][H][3]

  static let scratchSlots = 3

  static func weightBlocks(hidden: Int, inputCount: Int) -> Int {
    let nb = (hidden + 7) / 8
    return (3 * inputCount + 3 + 1 + 3 * hidden) * nb
  }

  init(_ file: ModelFile, layer k: Int, arena: inout BlockArena) {
    let H = file.hiddenSize
    let nb = (H + 7) / 8
    hidden = H
    blocks = nb
    inputCount = k == 0 ? file.inputSize : H
    inputColumns = arena.take(3 * inputCount * nb)
    inputBias = arena.take(3 * nb)
    hiddenBias = arena.take(nb)
    panels = arena.take(3 * H * nb)
    // r and z rows are stored halved: σ(s) = ½ tanh(s / 2) + ½, and the sums then arrive as s / 2, one multiply
    // less before each sigmoid on the step's critical path. Halving is exact, so results are unchanged.
    let halved = { (t: [Float], columns: Int) in t.indices.map { $0 < 2 * H * columns ? t[$0] * 0.5 : t[$0] } }
    let wih = halved(file.tensor(.weightIH, layer: k), inputCount)
    let bih = halved(file.tensor(.biasIH, layer: k), 1)
    let bhh = halved(file.tensor(.biasHH, layer: k), 1)
    for gate in 0..<3 {
      placeGate(
        wih, hidden: H, cols: inputCount, gate: gate, into: inputColumns, rowBlocks: 3 * nb, slot: gate, blocks: nb)
    }
    placeGate(bih, plus: bhh, hidden: H, gate: 0, into: inputBias, slot: 0, blocks: nb)
    placeGate(bih, plus: bhh, hidden: H, gate: 1, into: inputBias, slot: 1, blocks: nb)
    placeGate(bih, hidden: H, gate: 2, into: inputBias, slot: 2, blocks: nb)
    placeGate(bhh, hidden: H, gate: 2, into: hiddenBias, slot: 0, blocks: nb)
    placeGatePanels(halved(file.tensor(.weightHH, layer: k), H), hidden: H, gates: 3, pairedBlocks: true, into: panels)
  }

  /// One step on `h`. `input` holds `inputCount` values; `scratch` holds 3·blocks.
  ///
  /// Kept small on purpose: with the several-input kernel and the odd-block path inlined here as well, the compiler
  /// stopped inlining `update` (a call passing 16-lane values through memory on every block pair), so those two sit
  /// in their own functions.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>,
    scratch: UnsafeMutablePointer<SIMD8<Float>>, descending: Bool
  ) {
    let nb = blocks
    let terms = scratch  // [3 slots] W_ih x + bias, several inputs only
    let one = inputCount == 1
    if !one { inputTerms(input, into: terms) }
    let start = UnsafePointer(one ? inputBias : terms)  // [3 slots] r and z start from slots 0 and 1
    let x = input[0]
    let hs = UnsafePointer(scalars(h))
    let pairCount = nb / 2
    let reverse = descending && hidden >= 64
    for i in 0..<pairCount {  // block pairs q, q + 1: 16 lanes
      let q = 2 * (reverse ? pairCount &- 1 &- i : i)
      var (sr, sz, sn) = accumulatePairs3(
        panels + q * 3 * hidden, count: hidden, v: hs,
        (load16(start + q), load16(start + nb + q), load16(hiddenBias + q)))
      let xn: SIMD16<Float>
      if one {  // the input columns are plain blocks; x joins after the pass
        let xv = SIMD16<Float>(repeating: x)
        sr = multiplyAdd(load16(inputColumns + q), xv, sr)
        sz = multiplyAdd(load16(inputColumns + nb + q), xv, sz)
        xn = multiplyAdd(load16(inputColumns + 2 * nb + q), xv, load16(inputBias + 2 * nb + q))
      } else {
        xn = load16(terms + 2 * nb + q)
      }
      store16(update(load16(h + q), sr, sz, sn, xn), next + q)
    }
    if nb % 2 == 1 { stepLastBlock(x: x, h: h, out: next, terms: terms) }
  }

  /// terms = inputBias + W_ih input (several inputs).
  @inline(never)
  func inputTerms(_ input: UnsafePointer<Float>, into terms: UnsafeMutablePointer<SIMD8<Float>>) {
    columnKernel(
      columns: inputColumns, rowBlocks: 3 * blocks, count: inputCount, v: input, initial: inputBias, out: terms,
      activation: .identity)
  }

  /// The odd last block of `step` (its panel holds one block): `x` is the input when there is one, else `terms`.
  @inline(never)
  func stepLastBlock(
    x: Float, h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>,
    terms: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    let nb = blocks
    let q = nb - 1
    let one = inputCount == 1
    let start = UnsafePointer(one ? inputBias : terms)
    var (sr, sz, sn) = accumulatePanel3(
      panels + q * 3 * hidden, count: hidden, v: UnsafePointer(scalars(h)), (start[q], start[nb + q], hiddenBias[q]))
    let xn: SIMD8<Float>
    if one {
      let xv = SIMD8<Float>(repeating: x)
      sr = multiplyAdd(inputColumns[q], xv, sr)
      sz = multiplyAdd(inputColumns[nb + q], xv, sz)
      xn = multiplyAdd(inputColumns[2 * nb + q], xv, inputBias[2 * nb + q])
    } else {
      xn = terms[2 * nb + q]
    }
    next[q] = update(h[q], sr, sz, sn, xn)
  }

  /// The gates and the new state of one block from its sums: r and z pre-activations (halved), W_hn h + b_hn, W_in x + b_in.
  @inline(__always)
  func update(
    _ h: SIMD8<Float>, _ sr: SIMD8<Float>, _ sz: SIMD8<Float>, _ sn: SIMD8<Float>, _ xn: SIMD8<Float>
  ) -> SIMD8<Float> {
    let half = SIMD8<Float>(repeating: 0.5)
    let r = multiplyAdd(half, fastTanh(sr), half)  // σ of the unhalved sum, as fastSigmoid computes it
    let z = multiplyAdd(half, fastTanh(sz), half)
    let n = fastTanh(multiplyAdd(r, sn, xn))
    return multiplyAdd(z, h - n, n)
  }

  /// The same on a block pair.
  @inline(__always)
  func update(
    _ h: SIMD16<Float>, _ sr: SIMD16<Float>, _ sz: SIMD16<Float>, _ sn: SIMD16<Float>, _ xn: SIMD16<Float>
  ) -> SIMD16<Float> {
    let half = SIMD16<Float>(repeating: 0.5)
    let r = multiplyAdd(half, fastTanh(sr), half)
    let z = multiplyAdd(half, fastTanh(sz), half)
    let n = fastTanh(multiplyAdd(r, sn, xn))
    return multiplyAdd(z, h - n, n)
  }
}
