// The LSTM cell (`nn.LSTM`, no projection, gate order i, f, g, o) as one layer of `BatchGraph`'s stack: its forward
// pass and backpropagation through time, written out by hand.
//
// MARK: Equations, each forward step beside its derivative
// x = x_t is the layer's input (the batch's inputs for layer 0, the layer below's h_t above it); h = h_{t-1},
// c = c_{t-1}, h' = h_t, c' = c_t; h_{-1} = c_{-1} = 0 (PyTorch's defaults). dh' = ∂L/∂h_t arrives from above (the
// readout or the layer above) and from step t+1 (8'); dc' = ∂L/∂c_t from step t+1 (6'). `forward(t)` runs (1)–(7);
// `backward(t)` runs (7')–(1'), then (8'); `gradients` sums the weight gradients of (8') over steps and lanes.
//
//   (1) i  = σ(a_i)            (1') da_i = di ⊙ i ⊙ (1 − i)
//   (2) f  = σ(a_f)            (2') da_f = df ⊙ f ⊙ (1 − f)
//   (3) g  = tanh(a_g)         (3') da_g = dg ⊙ (1 − g²)
//   (4) o  = σ(a_o)            (4') da_o = do ⊙ o ⊙ (1 − o)
//       where a = [a_i; a_f; a_g; a_o] = W_ih x + b_ih + W_hh h + b_hh
//   (5) c' = f ⊙ c + i ⊙ g     (5') di = dc' ⊙ g     df = dc' ⊙ c     dg = dc' ⊙ i
//   (6) u  = tanh(c')          (6') dc' = dc'(from step t+1) + du ⊙ (1 − u²)     dc (to step t−1) = dc' ⊙ f
//   (7) h' = o ⊙ u             (7') do = dh' ⊙ u     du = dh' ⊙ o
//   (8') with da = [da_i; da_f; da_g; da_o]:
//        dh = W_hhᵀ da     dx = W_ihᵀ da     dW_ih = Σ_t da xᵀ     dW_hh = Σ_t da hᵀ     db_ih = db_hh = Σ_t Σ_b da
//
// MARK: Storage per time step
//   hidden [T+1][H][blocks]   hidden[0] = h_{-1} = 0, hidden[t+1] = h_t (the layer's output)
//   cell   [T+1][H][blocks]   cell[0] = c_{-1} = 0, cell[t+1] = c_t
//   gates  [T][4H][blocks]    i, f, g, o (activated; the pre-activations are computed in place)
//   u      [T][H][blocks]     tanh(c_t)
//   da     [T][4H][blocks]    ∂L/∂a, kept for the weight gradients

final class LSTMCell<Scalar: TrainingScalar> {
  typealias Vector = SIMD8<Scalar>

  let shape: CellShape<Scalar>
  private var arena: LaneArena<Scalar>
  /// [T+1][H][blocks]: hidden[t+1] = h_t.
  let hidden: UnsafeMutablePointer<Vector>
  private let cell: UnsafeMutablePointer<Vector>  // [T+1][H][blocks] cell[t+1] = c_t
  private let gates: UnsafeMutablePointer<Vector>  // [T][4H][blocks] i, f, g, o
  private let u: UnsafeMutablePointer<Vector>  // [T][H][blocks] tanh(c_t)
  private let da: UnsafeMutablePointer<Vector>  // [T][4H][blocks] ∂L/∂a
  /// [H][blocks] ∂L/∂h_t: from step t+1 (written by backward(t+1)) plus from above (added before backward(t)).
  let dh: UnsafeMutablePointer<Vector>
  private let dc: UnsafeMutablePointer<Vector>  // [H][blocks] ∂L/∂c_t from step t+1
  private let bias: UnsafeMutablePointer<Scalar>  // [4H] b_ih + b_hh
  private let weightHHT: UnsafeMutablePointer<Scalar>  // [H][4H] W_hhᵀ
  private let weightIHT: UnsafeMutablePointer<Scalar>  // [inputCount][4H] W_ihᵀ (layers above the first)

  // Storage as RNNCell's and GRUCell's, per kind on purpose: each cell file lists its own buffers beside its equations
  // (DESIGN.md).
  init(_ shape: CellShape<Scalar>) {
    precondition(shape.gates == 4)
    self.shape = shape
    let (H, T, nb, I) = (shape.hidden, shape.steps, shape.blocks, shape.inputCount)
    let rows = 4 * H
    arena = LaneArena(
      vectors: 2 * (T + 1) * H * nb + 2 * T * rows * nb + T * H * nb + 2 * H * nb,
      scalars: rows + H * rows + I * rows)
    hidden = arena.vectors((T + 1) * H * nb)
    cell = arena.vectors((T + 1) * H * nb)
    gates = arena.vectors(T * rows * nb)
    u = arena.vectors(T * H * nb)
    da = arena.vectors(T * rows * nb)
    dh = arena.vectors(H * nb)
    dc = arena.vectors(H * nb)
    bias = arena.scalars(rows)
    weightHHT = arena.scalars(H * rows)
    weightIHT = arena.scalars(I * rows)
  }

  deinit { arena.deallocate() }

  // MARK: Forward

  func prepareForward(_ w: UnsafePointer<Scalar>) {
    let s = shape
    for i in 0..<(4 * s.hidden) { bias[i] = w[s.biasIH + i] + w[s.biasHH + i] }
  }

  func forward(_ t: Int, _ w: UnsafePointer<Scalar>) {
    let s = shape
    let (H, nb) = (s.hidden, s.blocks)
    let hPrev = hidden + t * H * nb
    let cPrev = cell + t * H * nb
    let h = hidden + (t + 1) * H * nb
    let c = cell + (t + 1) * H * nb
    let ut = u + t * H * nb
    // a = (b_ih + b_hh) + W_ih x + W_hh h, all four gate blocks, written into the gates' storage.
    let a = gates + t * 4 * H * nb
    broadcastRows(bias, rows: 4 * H, blocks: nb, into: a)
    broadcastAccumulate(
      w + s.weightIH, rows: 4 * H, cols: s.inputCount, s.input + t * s.inputStride, blocks: nb, into: a)
    broadcastAccumulate(w + s.weightHH, rows: 4 * H, cols: H, hPrev, blocks: nb, into: a)
    let (iOff, fOff, gOff, oOff) = (0, H * nb, 2 * H * nb, 3 * H * nb)
    for n in 0..<(H * nb) {
      let i = Scalar.sigmoid8(a[iOff + n])  // (1)
      let f = Scalar.sigmoid8(a[fOff + n])  // (2)
      let g = Scalar.tanh8(a[gOff + n])  // (3)
      let o = Scalar.sigmoid8(a[oOff + n])  // (4)
      let cn = f * cPrev[n] + i * g  // (5)
      let un = Scalar.tanh8(cn)  // (6)
      h[n] = o * un  // (7)
      (a[iOff + n], a[fOff + n], a[gOff + n], a[oOff + n]) = (i, f, g, o)
      c[n] = cn
      ut[n] = un
    }
  }

  // MARK: Backward

  func prepareBackward(_ w: UnsafePointer<Scalar>) {
    let s = shape
    transpose(w + s.weightHH, rows: 4 * s.hidden, cols: s.hidden, into: weightHHT)
    if s.layer > 0 { transpose(w + s.weightIH, rows: 4 * s.hidden, cols: s.inputCount, into: weightIHT) }
    // Nothing flows back into the last step.
    dh.update(repeating: Vector(), count: s.hidden * s.blocks)
    dc.update(repeating: Vector(), count: s.hidden * s.blocks)
  }

  /// Step t of backpropagation through time: consumes dh (= ∂L/∂h_t) and dc, leaves ∂L/∂h_{t-1} from this layer and
  /// ∂L/∂c_{t-1} in them, and adds ∂L/∂x_t into `dInput` (the layer below's dh) when there is a layer below.
  func backward(_ t: Int, dInput: UnsafeMutablePointer<Vector>?) {
    let s = shape
    let (H, nb) = (s.hidden, s.blocks)
    let cPrev = cell + t * H * nb
    let gt = gates + t * 4 * H * nb
    let ut = u + t * H * nb
    let dat = da + t * 4 * H * nb
    let (iOff, fOff, gOff, oOff) = (0, H * nb, 2 * H * nb, 3 * H * nb)
    let one = Vector(repeating: 1)
    for n in 0..<(H * nb) {
      let (i, f, g, o) = (gt[iOff + n], gt[fOff + n], gt[gOff + n], gt[oOff + n])
      let un = ut[n]
      let dhNext = dh[n]
      let dO = dhNext * un  // (7')
      let du = dhNext * o
      let dcNext = dc[n] + du * (one - un * un)  // (6')
      dc[n] = dcNext * f
      let di = dcNext * g  // (5')
      let df = dcNext * cPrev[n]
      let dg = dcNext * i
      dat[oOff + n] = dO * o * (one - o)  // (4')
      dat[gOff + n] = dg * (one - g * g)  // (3')
      dat[fOff + n] = df * f * (one - f)  // (2')
      dat[iOff + n] = di * i * (one - i)  // (1')
    }
    // (8') dh = W_hhᵀ da (step 0 has no predecessor: h_{-1} is a constant); dx = W_ihᵀ da.
    if t > 0 {
      dh.update(repeating: Vector(), count: H * nb)
      broadcastAccumulate(weightHHT, rows: H, cols: 4 * H, dat, blocks: nb, into: dh)
    }
    if let dInput { broadcastAccumulate(weightIHT, rows: s.inputCount, cols: 4 * H, dat, blocks: nb, into: dInput) }
  }

  /// (8') The layer's weight gradients, summed over time steps and lanes, written into `g` (flat layout).
  func gradients(into g: UnsafeMutablePointer<Scalar>) {
    // dW_ih = Σ_t da_t x_tᵀ, dW_hh = Σ_t da_t h_{t-1}ᵀ, db_ih = db_hh = Σ_t Σ_b da_t   (rows [4H])
    shape.sumWeightGradients(gIH: da, gHH: nil, states: hidden, into: g)
  }
}
