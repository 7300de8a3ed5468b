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
//   inputColumns  [inputCount][4 slots]  column j = [W_ii[:, j], W_if[:, j], W_ig[:, j], W_io[:, j]]
//   bias          [4 slots]              b_ih + b_hh
//   columns       [H][4 slots]           column j = [W_hi[:, j], W_hf[:, j], W_hg[:, j], W_ho[:, j]]
//
// MARK: One stream's state
//   h [blocks], c [blocks]; scratch: gates [4 slots]
//
// MARK: Step
//   gates = bias + W_ih x; gates += W_hh h (one pass over h feeds all four gates); then per block the activations
//   and the state update, in place.

struct LSTMLayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [inputCount][4 * blocks]
  let bias: UnsafeMutablePointer<SIMD8<Float>>  // [4 * blocks]
  let columns: UnsafeMutablePointer<SIMD8<Float>>  // [H][4 * blocks]

  static let scratchSlots = 4
  static let stateSlots = 2

  static func weightBlocks(hidden: Int, inputCount: Int) -> Int {
    let nb = (hidden + 7) / 8
    return (4 * inputCount + 4 + 4 * hidden) * nb
  }

  init(_ file: ModelFile, layer k: Int, arena: inout BlockArena) {
    let H = file.hiddenSize
    let nb = (H + 7) / 8
    hidden = H
    blocks = nb
    inputCount = k == 0 ? file.inputSize : H
    inputColumns = arena.take(4 * inputCount * nb)
    bias = arena.take(4 * nb)
    columns = arena.take(4 * H * nb)
    let wih = file.tensor(.weightIH, layer: k)
    let whh = file.tensor(.weightHH, layer: k)
    let bih = file.tensor(.biasIH, layer: k)
    let bhh = file.tensor(.biasHH, layer: k)
    for gate in 0..<4 {
      placeGate(
        wih, hidden: H, cols: inputCount, gate: gate, into: inputColumns, rowBlocks: 4 * nb, slot: gate, blocks: nb)
      placeGate(bih, plus: bhh, hidden: H, gate: gate, into: bias, slot: gate, blocks: nb)
      placeGate(whh, hidden: H, cols: H, gate: gate, into: columns, rowBlocks: 4 * nb, slot: gate, blocks: nb)
    }
  }

  /// One step in place on `h` and `c`. `input` holds `inputCount` values; `scratch` holds 4·blocks.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafeMutablePointer<SIMD8<Float>>, c: UnsafeMutablePointer<SIMD8<Float>>,
    scratch: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    let nb = blocks
    let g = scratch
    columnKernel(
      columns: inputColumns, rowBlocks: 4 * nb, count: inputCount, v: input, initial: bias, out: g,
      activation: .identity)
    columnKernel(
      columns: columns, rowBlocks: 4 * nb, count: hidden, v: scalars(h), initial: g, out: g, activation: .identity)
    for b in 0..<nb {
      let i = fastSigmoid(g[b])
      let f = fastSigmoid(g[nb + b])
      let gg = fastTanh(g[2 * nb + b])
      let o = fastSigmoid(g[3 * nb + b])
      let cNext = multiplyAdd(f, c[b], i * gg)
      c[b] = cNext
      h[b] = o * fastTanh(cNext)
    }
  }
}
