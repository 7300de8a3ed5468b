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
// MARK: Weights in kernel layout (each slot is `blocks` SIMD8 vectors, H padded; padding is zero, so padded lanes
// get i = f = o = ½, g = 0, and c and h stay 0)
//   inputColumns  [inputCount][4 slots]  column j = [W_ii[:, j], W_if[:, j], W_ig[:, j], W_io[:, j]], panels of 4
//   bias          [4 slots]              b_ih + b_hh
//   panels        [blocks][H][4]         gate panels: for hidden block q, column j: [W_hi, W_hf, W_hg, W_ho] rows of q
//   feedback      [blocks][H][4], [4 slots]   one layer, one input, one output only: panels for free-running
//                 generation, x = fc(h) folded in: W_h· + w_i· ⊗ fc.weight, biases b· + w_i· fc.bias; up to H = 32
//                 block-pair panels (ColumnKernel.swift: gates of blocks q, q + 1 as 16-lane pairs)
//
// MARK: One stream's state
//   h [blocks], c [blocks]; scratch: x-terms [4 slots] (several inputs only);
//   h' [blocks] written (the stream ping-pongs two buffers)
//
// MARK: Step
//   x-terms = bias + W_ih x (one input: a multiply-add per block after the pass, so x is not needed before the
//   accumulator chains start). For each hidden block q, one pass over its gate panel sums the four recurrent terms
//   in registers as two 16-lane pairs (i, f) and (g, o), and the gates, c and the new h of block q follow in registers
//   (c in place; h written to h'). Pairs (and 64-byte aligned regions), LSTM generate on Zen 5 with AVX-512, A/B:
//   H = 16: 63.9 -> 41.3 ns, 32: 136 -> 87.0, 64: 370 -> 350, 256: 7685 -> 6470. `stepFeedback` is the same over the
//   feedback panels, with no input at all. From H = 64 (panels of 64 KB and more, beyond Zen 5's 48 KB L1) every
//   other step visits the blocks in descending order, so the panels read last are reused first: generate H = 64
//   355 -> 308 ns, 256 6352 -> 5509 (A/B, Zen 5; below 64 it cost 1-2 ns, so not there).
//   Up to H = 32 the feedback panels are block-pair panels (as GRU's: gates i, f, g, o of blocks q, q + 1 each a
//   16-lane pair, no half extraction before the update): generate H = 16 40.4 -> 35.0 ns, 32 83.5 -> 63.6 (AVX-512);
//   larger H gained on AVX-512 too (64: 316 -> 264) but lost on AVX2, whose 16 registers cannot hold the 8 pair
//   accumulators (H = 64 +6%, 128 +15%, measured with an AVX2-only build on the same machine).

struct LSTMLayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [4 * blocks] panels of [inputCount][4]
  let bias: UnsafeMutablePointer<SIMD8<Float>>  // [4 * blocks]
  let panels: UnsafeMutablePointer<SIMD8<Float>>  // [blocks][H][4]
  let feedback: (panels: UnsafeMutablePointer<SIMD8<Float>>, bias: UnsafeMutablePointer<SIMD8<Float>>)?
  /// Whether the feedback panels are block-pair panels (H ≤ 32; see "Step").
  let pairedFeedback: Bool
  // [blocks][H][4], [4 * blocks]

  static let scratchSlots = 4

  static func weightBlocks(hidden: Int, inputCount: Int, feedback: Bool) -> Int {
    let nb = (hidden + 7) / 8
    return (4 * inputCount + 4 + 4 * hidden + (feedback ? 4 * hidden + 4 : 0)) * nb
  }

  init(_ file: ModelFile, layer k: Int, foldFeedback: Bool, arena: inout BlockArena) {
    let H = file.hiddenSize
    let nb = (H + 7) / 8
    hidden = H
    blocks = nb
    inputCount = k == 0 ? file.inputSize : H
    pairedFeedback = H <= 32
    inputColumns = arena.take(4 * inputCount * nb)
    bias = arena.take(4 * nb)
    panels = arena.take(4 * H * nb)
    // i, f and o rows are stored halved: σ(s) = ½ tanh(s / 2) + ½, and the sums then arrive as s / 2, one multiply
    // less before the gates on the step's critical path (folded feedback weights, linear in these, follow). Halving is
    // exact, so results are unchanged.
    let halved = { (t: [Float], columns: Int) in
      t.indices.map { (($0 / columns) / H) == 2 ? t[$0] : t[$0] * 0.5 }
    }
    let wih = halved(file.tensor(.weightIH, layer: k), inputCount)
    let bih = halved(file.tensor(.biasIH, layer: k), 1)
    let bhh = halved(file.tensor(.biasHH, layer: k), 1)
    let whh = halved(file.tensor(.weightHH, layer: k), H)
    for gate in 0..<4 {
      placeGate(
        wih, hidden: H, cols: inputCount, gate: gate, into: inputColumns, rowBlocks: 4 * nb, slot: gate, blocks: nb)
      placeGate(bih, plus: bhh, hidden: H, gate: gate, into: bias, slot: gate, blocks: nb)
    }
    placeGatePanels(whh, hidden: H, gates: 4, into: panels)
    if foldFeedback {
      let sources: [(hidden: Int?, input: Int?)] = [(0, 0), (1, 1), (2, 2), (3, 3)]
      let foldedPanels = arena.take(4 * H * nb)
      let foldedBias = arena.take(4 * nb)
      placeFoldedPanels(
        weightHH: whh, weightIH: wih, fcWeight: file.tensor(.fcWeight), hidden: H, width: 4,
        pairedBlocks: pairedFeedback, sources: sources, into: foldedPanels)
      placeFoldedBias(
        { slot, i in bih[slot * H + i] + bhh[slot * H + i] }, weightIH: wih, fcBias: file.tensor(.fcBias)[0],
        hidden: H, sources: sources, into: foldedBias, blocks: nb)
      feedback = (foldedPanels, foldedBias)
    } else {
      feedback = nil
    }
  }

  /// One step on `h` and `c`. `input` holds `inputCount` values; `scratch` holds 4·blocks.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>,
    c: UnsafeMutablePointer<SIMD8<Float>>,
    scratch: UnsafeMutablePointer<SIMD8<Float>>, descending: Bool
  ) {
    let nb = blocks
    let terms = scratch  // [4 slots] W_ih x + bias, several inputs only
    let one = inputCount == 1
    if !one {
      columnKernel(
        columns: inputColumns, rowBlocks: 4 * nb, count: inputCount, v: input, initial: bias, out: terms,
        activation: .identity)
    }
    let xv = SIMD16<Float>(repeating: input[0])
    let hs = UnsafePointer(scalars(h))
    let reverse = descending && hidden >= 64
    for i in 0..<nb {
      let q = reverse ? nb &- 1 &- i : i
      var (sif, sgo): (SIMD16<Float>, SIMD16<Float>)  // gate pairs (i, f), (g, o) of block q
      if one {  // the input columns are plain blocks; x joins after the pass
        (sif, sgo) = accumulatePanel4(
          panels + q * 4 * hidden, count: hidden, v: hs,
          (pair(bias[q], bias[nb + q]), pair(bias[2 * nb + q], bias[3 * nb + q])))
        sif = multiplyAdd(pair(inputColumns[q], inputColumns[nb + q]), xv, sif)
        sgo = multiplyAdd(pair(inputColumns[2 * nb + q], inputColumns[3 * nb + q]), xv, sgo)
      } else {
        (sif, sgo) = accumulatePanel4(
          panels + q * 4 * hidden, count: hidden, v: hs,
          (pair(terms[q], terms[nb + q]), pair(terms[2 * nb + q], terms[3 * nb + q])))
      }
      next[q] = update(c + q, sif, sgo)
    }
  }

  /// One free-running step with the readout fed back as the input, through the feedback panels.
  @inline(__always)
  func stepFeedback(
    h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>, c: UnsafeMutablePointer<SIMD8<Float>>,
    descending: Bool
  ) {
    guard let (fp, fb) = feedback else { preconditionFailure("no feedback panels") }
    let nb = blocks
    let hs = UnsafePointer(scalars(h))
    let reverse = descending && hidden >= 64
    guard pairedFeedback else { return stepFeedbackByBlock(h: h, out: next, c: c, reverse: reverse) }
    let pairCount = nb / 2
    for i in 0..<pairCount {  // block pairs q, q + 1: 16 lanes
      let q = 2 * (reverse ? pairCount &- 1 &- i : i)
      let (si, sf, sg, so) = accumulatePairs4(
        fp + q * 4 * hidden, count: hidden, v: hs,
        (load16(fb + q), load16(fb + nb + q), load16(fb + 2 * nb + q), load16(fb + 3 * nb + q)))
      store16(update(c + q, si, sf, sg, so), next + q)
    }
    if nb % 2 == 1 { stepFeedbackLastBlock(h: h, out: next, c: c) }
  }

  /// `stepFeedback` one block at a time (H > 32), gates (i, f) and (g, o) as pairs. In its own function, as is the
  /// odd last block below: inlined into `stepFeedback` with the pair loop, both `update`s became calls.
  @inline(never)
  func stepFeedbackByBlock(
    h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>, c: UnsafeMutablePointer<SIMD8<Float>>,
    reverse: Bool
  ) {
    guard let (fp, fb) = feedback else { preconditionFailure("no feedback panels") }
    let nb = blocks
    let hs = UnsafePointer(scalars(h))
    for i in 0..<nb {
      let q = reverse ? nb &- 1 &- i : i
      let (sif, sgo) = accumulatePanel4(
        fp + q * 4 * hidden, count: hidden, v: hs, (pair(fb[q], fb[nb + q]), pair(fb[2 * nb + q], fb[3 * nb + q])))
      next[q] = update(c + q, sif, sgo)
    }
  }

  /// The odd last block of `stepFeedback` (its panel holds one block: gates (i, f) and (g, o) as pairs).
  @inline(never)
  func stepFeedbackLastBlock(
    h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>, c: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    guard let (fp, fb) = feedback else { preconditionFailure("no feedback panels") }
    let nb = blocks
    let q = nb - 1
    let (sif, sgo) = accumulatePanel4(
      fp + q * 4 * hidden, count: hidden, v: UnsafePointer(scalars(h)),
      (pair(fb[q], fb[nb + q]), pair(fb[2 * nb + q], fb[3 * nb + q])))
    next[q] = update(c + q, sif, sgo)
  }

  /// The gates of a block pair from its four sums (i, f and o halved); updates its c in place, returns its new h.
  @inline(__always)
  func update(
    _ c: UnsafeMutablePointer<SIMD8<Float>>, _ si: SIMD16<Float>, _ sf: SIMD16<Float>, _ sg: SIMD16<Float>,
    _ so: SIMD16<Float>
  ) -> SIMD16<Float> {
    let half = SIMD16<Float>(repeating: 0.5)
    let i = multiplyAdd(half, fastTanh(si), half)
    let f = multiplyAdd(half, fastTanh(sf), half)
    let o = multiplyAdd(half, fastTanh(so), half)
    let cNext = multiplyAdd(f, load16(c), i * fastTanh(sg))
    store16(cNext, c)
    return o * fastTanh(cNext)
  }

  /// The gates of one block from its four sums, in pairs (i, f) and (g, o), i, f and o halved; updates its c in place
  /// and returns its new h. g's tanh and o's sigmoid share one 16-lane tanh: σ(x) = ½ tanh(x / 2) + ½ on the o half,
  /// the same operations as `fastSigmoid`, so the results are identical to separate calls.
  @inline(__always)
  func update(_ c: UnsafeMutablePointer<SIMD8<Float>>, _ sif: SIMD16<Float>, _ sgo: SIMD16<Float>) -> SIMD8<Float> {
    let one = SIMD8<Float>(repeating: 1)
    let half = SIMD8<Float>(repeating: 0.5)
    let scale = pair(one, half)
    let gates = multiplyAdd(pair(half, half), fastTanh(sif), pair(half, half))  // (i, f) from halved sums
    let go = multiplyAdd(fastTanh(sgo), scale, pair(SIMD8(), half))  // (g, o), o from a halved sum
    let cNext = multiplyAdd(gates.highHalf, c.pointee, gates.lowHalf * go.lowHalf)
    c.pointee = cNext
    return go.highHalf * fastTanh(cNext)
  }
}
