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
//   inputColumns  [inputCount][4 slots]  column j = [W_ir[:, j], W_iz[:, j], 0, W_in[:, j]]
//   inputBias     [4 slots]              [b_ir + b_hr, b_iz + b_hz, b_hn, b_in]
//   columns       [H][3 slots]           column j = [W_hr[:, j], W_hz[:, j], W_hn[:, j]]
// The empty third input slot makes one pass over the input land each term where the recurrent pass wants it:
// after both passes, g = [r and z pre-activations, W_hn h + b_hn, W_in x + b_in].
//
// MARK: One stream's state
//   h [blocks]; scratch: g [4 slots]
//
// MARK: Step
//   g = inputBias + W_ih' x; g[0..<3 slots] += W_hh h (one pass over h feeds all three gates); then per block the
//   gate activations and the state update, in place.

struct GRULayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [inputCount][4 * blocks]
  let inputBias: UnsafeMutablePointer<SIMD8<Float>>  // [4 * blocks]
  let columns: UnsafeMutablePointer<SIMD8<Float>>  // [H][3 * blocks]

  static let scratchSlots = 4
  static let stateSlots = 1

  static func weightBlocks(hidden: Int, inputCount: Int) -> Int {
    let nb = (hidden + 7) / 8
    return (4 * inputCount + 4 + 3 * hidden) * nb
  }

  init(_ file: ModelFile, layer k: Int, arena: inout BlockArena) {
    let H = file.hiddenSize
    let nb = (H + 7) / 8
    hidden = H
    blocks = nb
    inputCount = k == 0 ? file.inputSize : H
    inputColumns = arena.take(4 * inputCount * nb)
    inputBias = arena.take(4 * nb)
    columns = arena.take(3 * H * nb)
    let wih = file.tensor(.weightIH, layer: k)
    let whh = file.tensor(.weightHH, layer: k)
    let bih = file.tensor(.biasIH, layer: k)
    let bhh = file.tensor(.biasHH, layer: k)
    for (gate, slot) in [(0, 0), (1, 1), (2, 3)] {
      placeGate(
        wih, hidden: H, cols: inputCount, gate: gate, into: inputColumns, rowBlocks: 4 * nb, slot: slot, blocks: nb)
    }
    placeGate(bih, plus: bhh, hidden: H, gate: 0, into: inputBias, slot: 0, blocks: nb)
    placeGate(bih, plus: bhh, hidden: H, gate: 1, into: inputBias, slot: 1, blocks: nb)
    placeGate(bhh, hidden: H, gate: 2, into: inputBias, slot: 2, blocks: nb)
    placeGate(bih, hidden: H, gate: 2, into: inputBias, slot: 3, blocks: nb)
    for gate in 0..<3 {
      placeGate(whh, hidden: H, cols: H, gate: gate, into: columns, rowBlocks: 3 * nb, slot: gate, blocks: nb)
    }
  }

  /// One step in place on `h`. `input` holds `inputCount` values; `scratch` holds 4·blocks.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafeMutablePointer<SIMD8<Float>>, scratch: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    let nb = blocks
    let g = scratch
    columnKernel(
      columns: inputColumns, rowBlocks: 4 * nb, count: inputCount, v: input, initial: inputBias, out: g,
      activation: .identity)
    columnKernel(
      columns: columns, rowBlocks: 3 * nb, count: hidden, v: scalars(h), initial: g, out: g, activation: .identity)
    for b in 0..<nb {
      let r = fastSigmoid(g[b])
      let z = fastSigmoid(g[nb + b])
      let n = fastTanh(multiplyAdd(r, g[2 * nb + b], g[3 * nb + b]))
      h[b] = multiplyAdd(z, h[b] - n, n)
    }
  }
}
