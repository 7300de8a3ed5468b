// The vanilla tanh layer (`nn.RNN`, nonlinearity tanh).
//
// MARK: Equations
//   h' = tanh(W_ih x + (b_ih + b_hh) + W_hh h)
//
// MARK: Weights in kernel layout (W lanes per vector, the plan's width; nv = ceil(H / W) vectors; padding is zero,
// so padded lanes of h stay exactly tanh(0) = 0 and never leak into real lanes)
//   inputWeights  one input: [nv] vectors, W_ih's column; several: panels of [I] columns (PanelLayout, G = 1)
//   bias          [nv] vectors                b_ih + b_hh
//   recurrent     panels of [H] columns       W_hh, tiles of the plan's `tileVectors` vectors
//   feedback      panels of [H] columns, [nv] one layer, one input, one output, when the plan folds feedback: for
//                 free-running generation, where x = fc(h): W_hh + W_ih ⊗ fc.weight and b + W_ih fc.bias, so the
//                 readout leaves the step's critical path
//
// MARK: One stream's state
//   h [nv] read, h' [nv] written (the stream ping-pongs two buffers); scratch: pre [nv] (several inputs)
//
// MARK: Step
//   One input: h' = tanh(fma(w_ih, x, affine(W_hh, h, from bias))): the x term joins after the chains, so with the
//   output fed back as x only one multiply-add waits for the readout (the first two releases started chain 0 from
//   it: 3 to 16 dependent multiply-adds more per step at H = 8 to 64). Several:
//   pre = affine(W_ih, x, from bias), h' = tanh(affine(W_hh, h, from pre)).
//   `stepFeedback`: h' = tanh(affine(feedback, h, from its bias)), no input.

struct RNNLayer {
  let hidden: Int
  let inputCount: Int
  let chains: Int
  let input: PanelLayout
  let recurrent: PanelLayout
  let inputWeights: UnsafeMutablePointer<Float>  // one input: [nv·W]; several: input.count vectors
  let bias: UnsafeMutablePointer<Float>  // [nv·W]
  let recurrentWeights: UnsafeMutablePointer<Float>  // recurrent.count vectors
  let feedback: (weights: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>)?  // recurrent.count, [nv·W]

  static let scratchSlots = 1

  /// The layer's tensors in kernel order (GateWeights.swift): no transforms but the summed bias.
  static func weights(_ file: ModelFile, layer k: Int) -> GateWeights {
    let H = file.hiddenSize
    return GateWeights(
      gates: 1, hidden: H, inputCount: k == 0 ? file.architecture.cellInputSize : H,
      inputWeights: file.tensor(.weightIH, layer: k), recurrentWeights: file.tensor(.weightHH, layer: k),
      inputBias: GateWeights.sum(file.tensor(.biasIH, layer: k), file.tensor(.biasHH, layer: k)), hiddenBias: [])
  }

  init(_ w: GateWeights, plan: KernelPlan, fold: (fcWeight: [Float], fcBias: Float)?, storage: FloatStorage) {
    let (H, W) = (w.hidden, plan.width)
    let nv = plan.vectors(hidden: H)
    hidden = H
    inputCount = w.inputCount
    chains = plan.chains
    input = PanelLayout(gates: 1, vectors: nv, tileVectors: plan.tileVectors, columns: w.inputCount)
    recurrent = PanelLayout(gates: 1, vectors: nv, tileVectors: plan.tileVectors, columns: H)
    bias = GateWeights.placeRows(w.inputBias, hidden: H, gates: 1, layout: recurrent, width: W, storage: storage)
    inputWeights = w.placeInputWeights(input, width: W, storage: storage)
    recurrentWeights = GateWeights.placeMatrix(
      w.recurrentWeights, hidden: H, layout: recurrent, width: W, storage: storage)
    feedback = w.placeFeedback(fold, layout: recurrent, width: W, storage: storage)
  }

  /// h' = tanh(bias + W_ih input + W_hh h). `input` holds `inputCount` values, `h` and `next` nv vectors, `scratch`
  /// nv vectors.
  @_transparent
  func step<V: FloatVector>(
    _: V.Type, input x: UnsafePointer<Float>, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>,
    scratch: UnsafeMutablePointer<Float>
  ) {
    if inputCount == 1 {
      affine(
        recurrent, asVectors(recurrentWeights, V.self), chains: chains, v: h, initial: asVectors(bias, V.self),
        inputColumn: asVectors(inputWeights, V.self), x: x[0], out: asVectors(next, V.self),
        tanh: true)
    } else {
      let pre = asVectors(scratch, V.self)
      affine(
        input, asVectors(inputWeights, V.self), chains: chains, v: x, initial: asVectors(bias, V.self), out: pre,
        tanh: false)
      affine(
        recurrent, asVectors(recurrentWeights, V.self), chains: chains, v: h, initial: pre,
        out: asVectors(next, V.self),
        tanh: true)
    }
  }

  /// One free-running step with the readout fed back as the input, through the feedback weights.
  @_transparent
  func stepFeedback<V: FloatVector>(_: V.Type, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>) {
    guard let (fw, fb) = feedback else { preconditionFailure("no feedback weights") }
    affine(
      recurrent, asVectors(fw, V.self), chains: chains, v: h, initial: asVectors(fb, V.self),
      out: asVectors(next, V.self),
      tanh: true)
  }
}
