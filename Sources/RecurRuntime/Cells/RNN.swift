// The vanilla tanh layer (`nn.RNN`, nonlinearity tanh).
//
// MARK: Equations
//   h' = tanh(W_ih x + (b_ih + b_hh) + W_hh h)
//
// MARK: Weights in kernel layout (H padded to `blocks` SIMD8 vectors; padding is zero, so padded lanes of h stay
// exactly tanh(0) = 0 and never leak into real lanes)
//   inputColumns  [inputCount][blocks]   column j = W_ih[:, j]
//   bias          [blocks]               b_ih + b_hh
//   columns       [H][blocks]            column j = W_hh[:, j]
//
// MARK: One stream's state
//   h [blocks]; scratch: pre [blocks], next [blocks]
//
// MARK: Step
//   pre = bias + W_ih x (column kernel over the input); next = tanh(pre + W_hh h) (column kernel over h, tanh in
//   registers); h = next.

struct RNNLayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [inputCount][blocks]
  let bias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
  let columns: UnsafeMutablePointer<SIMD8<Float>>  // [H][blocks]

  static let scratchSlots = 2
  static let stateSlots = 1

  /// Blocks of weights a layer needs in the model's arena.
  static func weightBlocks(hidden: Int, inputCount: Int) -> Int {
    let nb = (hidden + 7) / 8
    return (inputCount + 1 + hidden) * nb
  }

  init(_ file: ModelFile, layer k: Int, arena: inout BlockArena) {
    let H = file.hiddenSize
    hidden = H
    blocks = (H + 7) / 8
    inputCount = k == 0 ? file.inputSize : H
    inputColumns = arena.take(inputCount * blocks)
    bias = arena.take(blocks)
    columns = arena.take(H * blocks)
    placeGate(
      file.tensor(.weightIH, layer: k), hidden: H, cols: inputCount, gate: 0, into: inputColumns, rowBlocks: blocks,
      slot: 0, blocks: blocks)
    placeGate(
      file.tensor(.biasIH, layer: k), plus: file.tensor(.biasHH, layer: k), hidden: H, gate: 0, into: bias, slot: 0,
      blocks: blocks)
    placeGate(
      file.tensor(.weightHH, layer: k), hidden: H, cols: H, gate: 0, into: columns, rowBlocks: blocks, slot: 0,
      blocks: blocks)
  }

  /// h = tanh(bias + W_ih input + W_hh h). `input` holds `inputCount` values; `scratch` holds 2·blocks.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafeMutablePointer<SIMD8<Float>>, scratch: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    let pre = scratch
    let next = scratch + blocks
    columnKernel(
      columns: inputColumns, rowBlocks: blocks, count: inputCount, v: input, initial: bias, out: pre,
      activation: .identity)
    columnKernel(
      columns: columns, rowBlocks: blocks, count: hidden, v: scalars(h), initial: pre, out: next, activation: .tanh)
    h.update(from: next, count: blocks)
  }
}
