// The vanilla tanh layer (`nn.RNN`, nonlinearity tanh).
//
// MARK: Equations
//   h' = tanh(W_ih x + (b_ih + b_hh) + W_hh h)
//
// MARK: Weights in kernel layout (H padded to `blocks` SIMD8 vectors; padding is zero, so padded lanes of h stay
// exactly tanh(0) = 0 and never leak into real lanes)
//   inputColumns  [inputCount][blocks]   column j = W_ih[:, j]
//   bias          [blocks]               b_ih + b_hh
//   columns       [H][blocks]            column j = W_hh[:, j] (panels of 4 blocks, ColumnKernel.swift)
//   feedback      [H][blocks], [blocks]  one layer, one input, one output only: for free-running generation, where
//                 x = fc(h): W_hh + W_ih ⊗ fc.weight and b_ih + b_hh + W_ih fc.bias, so the readout leaves the
//                 step's critical path (mathematically identical; rounding differs by about one ulp per step)
//
// MARK: One stream's state
//   h [blocks] read, h' [blocks] written (the stream ping-pongs two buffers); scratch: pre [blocks]
//
// MARK: Step
//   pre = bias + W_ih x (column kernel over the input); h' = tanh(pre + W_hh h) (column kernel over h, tanh in
//   registers). With one input, W_ih x joins the pass over h (no `pre`). `stepFeedback`: the same pass
//   over the feedback columns, with no input.

struct RNNLayer {
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let inputColumns: UnsafeMutablePointer<SIMD8<Float>>  // [inputCount][blocks]
  let bias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
  let columns: UnsafeMutablePointer<SIMD8<Float>>  // [H][blocks]
  let feedback: (columns: UnsafeMutablePointer<SIMD8<Float>>, bias: UnsafeMutablePointer<SIMD8<Float>>)?
  // [H][blocks], [blocks]

  static let scratchSlots = 1

  /// Blocks of weights a layer needs in the model's arena.
  static func weightBlocks(hidden: Int, inputCount: Int, feedback: Bool) -> Int {
    let nb = (hidden + 7) / 8
    return (inputCount + 1 + hidden + (feedback ? hidden + 1 : 0)) * nb
  }

  init(_ file: ModelFile, layer k: Int, foldFeedback: Bool, arena: inout BlockArena) {
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
    if foldFeedback {
      let nb = blocks
      let foldedColumns = arena.take(H * nb)
      let foldedBias = arena.take(nb)
      let fcWeight = file.tensor(.fcWeight)
      let wih = scalars(inputColumns)  // one input: W_ih's column is blocks 0..<nb
      let whh = scalars(columns)
      let b = scalars(bias)
      let fb = scalars(foldedBias)
      let fc = scalars(foldedColumns)
      for i in 0..<H { fb[i] = b[i] + wih[i] * file.tensor(.fcBias)[0] }
      for j in 0..<H {
        for i in 0..<H {
          let e = panelIndex(block: i / 8, column: j, rowBlocks: nb, columns: H) * 8 + i % 8
          fc[e] = whh[e] + wih[i] * fcWeight[j]
        }
      }
      feedback = (foldedColumns, foldedBias)
    } else {
      feedback = nil
    }
  }

  /// out = tanh(bias + W_ih input + W_hh h). `input` holds `inputCount` values; `scratch` holds `blocks`.
  @inline(__always)
  func step(
    input: UnsafePointer<Float>, h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>,
    scratch: UnsafeMutablePointer<SIMD8<Float>>
  ) {
    let pre = scratch
    if inputCount == 1 {
      columnKernel(
        columns: columns, rowBlocks: blocks, count: hidden, v: scalars(h), initial: bias, inputColumn: inputColumns,
        x: input[0], out: next, activation: .tanh)
    } else {
      columnKernel(
        columns: inputColumns, rowBlocks: blocks, count: inputCount, v: input, initial: bias, out: pre,
        activation: .identity)
      columnKernel(
        columns: columns, rowBlocks: blocks, count: hidden, v: scalars(h), initial: pre, out: next, activation: .tanh)
    }
  }

  /// One free-running step with the readout fed back as the input, through the feedback columns.
  @inline(__always)
  func stepFeedback(h: UnsafePointer<SIMD8<Float>>, out next: UnsafeMutablePointer<SIMD8<Float>>) {
    guard let (fc, fb) = feedback else { preconditionFailure("no feedback columns") }
    columnKernel(
      columns: fc, rowBlocks: blocks, count: hidden, v: scalars(h), initial: fb, out: next, activation: .tanh)
  }
}
