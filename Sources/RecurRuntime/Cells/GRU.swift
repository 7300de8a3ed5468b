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
//   panels        [blocks][H][3]         gate panels: for hidden block q, column j: [W_hr, W_hz, W_hn] rows of q
//   feedback      [blocks][H][4], [4 slots]   one layer, one input, one output only: panels for free-running
//                 generation, x = fc(h) folded in: [W_hr + w_ir ⊗ fc, W_hz + w_iz ⊗ fc, W_hn, w_in ⊗ fc] and biases
//                 [b_r + w_ir fc.b, b_z + w_iz fc.b, b_hn, b_in + w_in fc.b]
//
// MARK: One stream's state
//   h [blocks]; scratch: x-terms [3 slots] (several inputs only);
//   h' [blocks] written (the stream ping-pongs two buffers)
//
// MARK: Step
//   x-terms = inputBias + W_ih x (one input: a multiply-add per block after the pass, so x is not needed before the
//   accumulator chains start). For each hidden block q, one pass over its gate panel sums W_hr h, W_hz h and W_hn h
//   in registers, and the gates and the new h of block q follow in registers, written to h'. `stepFeedback` is the same over the feedback panels, with no input at all.

struct GRULayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [3 * blocks] panels of [inputCount][4]
  let inputBias: UnsafeMutablePointer<SIMD8<Float>>  // [3 * blocks]
  let hiddenBias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
  let panels: UnsafeMutablePointer<SIMD8<Float>>  // [blocks][H][3]
  let feedback: (panels: UnsafeMutablePointer<SIMD8<Float>>, bias: UnsafeMutablePointer<SIMD8<Float>>)?
  // [blocks][H][4], [4 * blocks]

  static let scratchSlots = 3

  static func weightBlocks(hidden: Int, inputCount: Int, feedback: Bool) -> Int {
    let nb = (hidden + 7) / 8
    return (3 * inputCount + 3 + 1 + 3 * hidden + (feedback ? 4 * hidden + 4 : 0)) * nb
  }

  init(_ file: ModelFile, layer k: Int, foldFeedback: Bool, arena: inout BlockArena) {
    let H = file.hiddenSize
    let nb = (H + 7) / 8
    hidden = H
    blocks = nb
    inputCount = k == 0 ? file.inputSize : H
    inputColumns = arena.take(3 * inputCount * nb)
    inputBias = arena.take(3 * nb)
    hiddenBias = arena.take(nb)
    panels = arena.take(3 * H * nb)
    let wih = file.tensor(.weightIH, layer: k)
    let bih = file.tensor(.biasIH, layer: k)
    let bhh = file.tensor(.biasHH, layer: k)
    for gate in 0..<3 {
      placeGate(
        wih, hidden: H, cols: inputCount, gate: gate, into: inputColumns, rowBlocks: 3 * nb, slot: gate, blocks: nb)
    }
    placeGate(bih, plus: bhh, hidden: H, gate: 0, into: inputBias, slot: 0, blocks: nb)
    placeGate(bih, plus: bhh, hidden: H, gate: 1, into: inputBias, slot: 1, blocks: nb)
    placeGate(bih, hidden: H, gate: 2, into: inputBias, slot: 2, blocks: nb)
    placeGate(bhh, hidden: H, gate: 2, into: hiddenBias, slot: 0, blocks: nb)
    placeGatePanels(file.tensor(.weightHH, layer: k), hidden: H, gates: 3, into: panels)
    if foldFeedback {
      let sources: [(hidden: Int?, input: Int?)] = [(0, 0), (1, 1), (2, nil), (nil, 2)]
      let foldedPanels = arena.take(4 * H * nb)
      let foldedBias = arena.take(4 * nb)
      placeFoldedPanels(
        weightHH: file.tensor(.weightHH, layer: k), weightIH: wih, fcWeight: file.tensor(.fcWeight), hidden: H,
        width: 4, sources: sources, into: foldedPanels)
      let biases = [bih.indices.map { bih[$0] + bhh[$0] }, bhh, bih]  // r and z: both; hn: b_hn; xn: b_in
      placeFoldedBias(
        { slot, i in slot < 2 ? biases[0][slot * H + i] : slot == 2 ? biases[1][2 * H + i] : biases[2][2 * H + i] },
        weightIH: wih, fcBias: file.tensor(.fcBias)[0], hidden: H, sources: sources, into: foldedBias, blocks: nb)
      feedback = (foldedPanels, foldedBias)
    } else {
      feedback = nil
    }
  }

  /// One step on `h`. `input` holds `inputCount` values; `scratch` holds 3·blocks.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>,
    scratch: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    let nb = blocks
    let terms = scratch  // [3 slots] W_ih x + bias, several inputs only
    let one = inputCount == 1
    if !one {
      columnKernel(
        columns: inputColumns, rowBlocks: 3 * nb, count: inputCount, v: input, initial: inputBias, out: terms,
        activation: .identity)
    }
    let xv = SIMD8<Float>(repeating: input[0])
    let hs = UnsafePointer(scalars(h))
    for q in 0..<nb {
      var (sr, sz, sn): (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
      let xn: SIMD8<Float>
      if one {  // the input columns are plain blocks; x joins after the pass
        (sr, sz, sn) = accumulatePanel3(
          panels + q * 3 * hidden, count: hidden, v: hs, (inputBias[q], inputBias[nb + q], hiddenBias[q]))
        sr = multiplyAdd(inputColumns[q], xv, sr)
        sz = multiplyAdd(inputColumns[nb + q], xv, sz)
        xn = multiplyAdd(inputColumns[2 * nb + q], xv, inputBias[2 * nb + q])
      } else {
        (sr, sz, sn) = accumulatePanel3(
          panels + q * 3 * hidden, count: hidden, v: hs, (terms[q], terms[nb + q], hiddenBias[q]))
        xn = terms[2 * nb + q]
      }
      next[q] = update(h[q], sr, sz, sn, xn)
    }
  }

  /// One free-running step with the readout fed back as the input, through the feedback panels.
  @inline(__always)
  func stepFeedback(h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>) {
    guard let (fp, fb) = feedback else { preconditionFailure("no feedback panels") }
    let nb = blocks
    let hs = UnsafePointer(scalars(h))
    for q in 0..<nb {
      let (srz, snx) = accumulatePanel4(
        fp + q * 4 * hidden, count: hidden, v: hs, (pair(fb[q], fb[nb + q]), pair(fb[2 * nb + q], fb[3 * nb + q])))
      next[q] = update(h[q], srz, snx)
    }
  }

  /// The gates and the new state of one block from its sums: r and z pre-activations, W_hn h + b_hn, W_in x + b_in.
  @inline(__always)
  func update(
    _ h: SIMD8<Float>, _ sr: SIMD8<Float>, _ sz: SIMD8<Float>, _ sn: SIMD8<Float>, _ xn: SIMD8<Float>
  ) -> SIMD8<Float> {
    let r = fastSigmoid(sr)
    let z = fastSigmoid(sz)
    let n = fastTanh(multiplyAdd(r, sn, xn))
    return multiplyAdd(z, h - n, n)
  }

  /// The same from pairs of sums (r, z) and (W_hn h + b_hn, W_in x + b_in): r and z share one 16-lane sigmoid.
  @inline(__always)
  func update(_ h: SIMD8<Float>, _ srz: SIMD16<Float>, _ snx: SIMD16<Float>) -> SIMD8<Float> {
    let rz = fastSigmoid(srz)
    let n = fastTanh(multiplyAdd(rz.lowHalf, snx.lowHalf, snx.highHalf))
    return multiplyAdd(rz.highHalf, h - n, n)
  }
}
