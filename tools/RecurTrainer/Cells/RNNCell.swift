// The vanilla tanh cell (`nn.RNN`, nonlinearity tanh) as one layer of `BatchGraph`'s stack: its forward pass and
// backpropagation through time, written out by hand.
//
// MARK: Equations, each forward step beside its derivative
// x_t is the layer's input (the batch's inputs for layer 0, the layer below's h_t above it); h_{-1} = 0 (PyTorch's
// default h0). dh_t = ∂L/∂h_t arrives from above (the readout or the layer above) and from step t+1 (1'). `forward(t)`
// runs (1), (2); `backward(t)` runs (2'), (1'); `gradients` sums the weight gradients of (1') over steps and lanes.
//
//   (1) a_t = (b_ih + b_hh) + W_ih x_t + W_hh h_{t-1}   (1') dh_{t-1} = W_hhᵀ da_t        dx_t = W_ihᵀ da_t
//                                                            dW_ih = Σ_t da_t x_tᵀ       dW_hh = Σ_t da_t h_{t-1}ᵀ
//                                                            db_ih = db_hh = Σ_t Σ_b da_t
//   (2) h_t = tanh(a_t)                                 (2') da_t = dh_t ⊙ (1 − h_t²)
//
// MARK: Storage per time step
//   hidden [T+1][H][blocks]   hidden[0] = h_{-1} = 0, hidden[t+1] = h_t (the layer's output)
//   da     [T][H][blocks]     ∂L/∂a_t, kept for the weight gradients

final class RNNCell<Scalar: TrainingScalar> {
  typealias Vector = SIMD8<Scalar>

  let shape: CellShape<Scalar>
  private var arena: LaneArena<Scalar>
  /// [T+1][H][blocks]: hidden[t+1] = h_t.
  let hidden: UnsafeMutablePointer<Vector>
  private let da: UnsafeMutablePointer<Vector>  // [T][H][blocks] ∂L/∂a_t
  /// [H][blocks] ∂L/∂h_t: from step t+1 (written by backward(t+1)) plus from above (added before backward(t)).
  let dh: UnsafeMutablePointer<Vector>
  private let bias: UnsafeMutablePointer<Scalar>  // [H] b_ih + b_hh
  private let weightHHT: UnsafeMutablePointer<Scalar>  // [H][H] W_hhᵀ
  private let weightIHT: UnsafeMutablePointer<Scalar>  // [inputCount][H] W_ihᵀ (layers above the first)

  init(_ shape: CellShape<Scalar>) {
    precondition(shape.gates == 1)
    self.shape = shape
    let (H, T, nb, I) = (shape.hidden, shape.steps, shape.blocks, shape.inputCount)
    arena = LaneArena(vectors: (T + 1) * H * nb + T * H * nb + H * nb, scalars: H + H * H + I * H)
    hidden = arena.vectors((T + 1) * H * nb)
    da = arena.vectors(T * H * nb)
    dh = arena.vectors(H * nb)
    bias = arena.scalars(H)
    weightHHT = arena.scalars(H * H)
    weightIHT = arena.scalars(I * H)
  }

  deinit { arena.deallocate() }

  // MARK: Forward

  func prepareForward(_ w: UnsafePointer<Scalar>) {
    let s = shape
    for i in 0..<s.hidden { bias[i] = w[s.biasIH + i] + w[s.biasHH + i] }
  }

  func forward(_ t: Int, _ w: UnsafePointer<Scalar>) {
    let s = shape
    let (H, nb) = (s.hidden, s.blocks)
    let hPrev = hidden + t * H * nb
    let h = hidden + (t + 1) * H * nb
    // (1) a_t = (b_ih + b_hh) + W_ih x_t + W_hh h_{t-1}, written into h's storage.
    broadcastRows(bias, rows: H, blocks: nb, into: h)
    broadcastAccumulate(w + s.weightIH, rows: H, cols: s.inputCount, s.input + t * s.inputStride, blocks: nb, into: h)
    broadcastAccumulate(w + s.weightHH, rows: H, cols: H, hPrev, blocks: nb, into: h)
    // (2) h_t = tanh(a_t), in place.
    for n in 0..<(H * nb) { h[n] = Scalar.tanh8(h[n]) }
  }

  // MARK: Backward

  func prepareBackward(_ w: UnsafePointer<Scalar>) {
    let s = shape
    transpose(w + s.weightHH, rows: s.hidden, cols: s.hidden, into: weightHHT)
    if s.layer > 0 { transpose(w + s.weightIH, rows: s.hidden, cols: s.inputCount, into: weightIHT) }
    dh.update(repeating: Vector(), count: s.hidden * s.blocks)  // nothing flows back into the last step
  }

  /// Step t of backpropagation through time: consumes dh (= ∂L/∂h_t), leaves ∂L/∂h_{t-1} from this layer in it, and
  /// adds ∂L/∂x_t into `dInput` (the layer below's dh) when there is a layer below.
  func backward(_ t: Int, dInput: UnsafeMutablePointer<Vector>?) {
    let s = shape
    let (H, nb) = (s.hidden, s.blocks)
    let h = hidden + (t + 1) * H * nb
    let dat = da + t * H * nb
    // (2') da_t = dh_t ⊙ (1 − h_t²)
    for n in 0..<(H * nb) {
      let hn = h[n]
      dat[n] = dh[n] * (Vector(repeating: 1) - hn * hn)
    }
    // (1') dh_{t-1} = W_hhᵀ da_t (step 0 has no predecessor: h_{-1} is a constant); dx_t = W_ihᵀ da_t.
    if t > 0 {
      dh.update(repeating: Vector(), count: H * nb)
      broadcastAccumulate(weightHHT, rows: H, cols: H, dat, blocks: nb, into: dh)
    }
    if let dInput { broadcastAccumulate(weightIHT, rows: s.inputCount, cols: H, dat, blocks: nb, into: dInput) }
  }

  /// (1') The layer's weight gradients, summed over time steps and lanes, written into `g` (flat layout).
  func gradients(into g: UnsafeMutablePointer<Scalar>) {
    // dW_ih = Σ_t da_t x_tᵀ, dW_hh = Σ_t da_t h_{t-1}ᵀ, db_ih = db_hh = Σ_t Σ_b da_t
    shape.sumWeightGradients(gIH: da, gHH: nil, states: hidden, into: g)
  }
}
