// The GRU cell (`nn.GRU`, gate order r, z, n) as one layer of `BatchGraph`'s stack: its forward pass and
// backpropagation through time, written out by hand.
//
// MARK: Equations, each forward step beside its derivative
// x = x_t is the layer's input (the batch's inputs for layer 0, the layer below's h_t above it); h = h_{t-1},
// h' = h_t, h_{-1} = 0 (PyTorch's default h0). dh' = ∂L/∂h_t arrives from above (the readout or the layer above) and
// from step t+1 (6'). `forward(t)` runs (1)–(5); `backward(t)` runs (5')–(1'), then (6'); `gradients` sums the
// weight gradients of (6') over steps and lanes.
//
//   (1) r  = σ(W_ir x + b_ir + W_hr h + b_hr)     (1') da_r = dr ⊙ r ⊙ (1 − r)
//   (2) z  = σ(W_iz x + b_iz + W_hz h + b_hz)     (2') da_z = dz ⊙ z ⊙ (1 − z)
//   (3) m  = W_hn h + b_hn                        (3') dm = da_n ⊙ r
//   (4) n  = tanh(W_in x + b_in + r ⊙ m)          (4') da_n = dn ⊙ (1 − n²)        dr = da_n ⊙ m
//   (5) h' = n + z ⊙ (h − n)                      (5') dn = dh' ⊙ (1 − z)     dz = dh' ⊙ (h − n)
//       (= (1 − z) ⊙ n + z ⊙ h, in the runtime's form)
//   (6') with g_ih = [da_r; da_z; da_n] and g_hh = [da_r; da_z; dm] (the gradients of W_ih x + b_ih and
//        W_hh h + b_hh, which differ only in the n block because r multiplies the recurrent term alone):
//        dh = dh' ⊙ z + W_hhᵀ g_hh     dx = W_ihᵀ g_ih     dW_ih = Σ_t g_ih xᵀ     dW_hh = Σ_t g_hh hᵀ
//        db_ih = Σ_t Σ_b g_ih          db_hh = Σ_t Σ_b g_hh
//
// MARK: Storage per time step
//   hidden [T+1][H][blocks]    hidden[0] = h_{-1} = 0, hidden[t+1] = h_t (the layer's output)
//   gates  [T][3H][blocks]     r, z, n
//   m      [T][H][blocks]      W_hn h_{t-1} + b_hn
//   gIH    [T][3H][blocks]     g_ih, kept for the weight gradients
//   gHH    [T][3H][blocks]     g_hh, likewise

final class GRUCell<Scalar: TrainingScalar> {
  typealias Vector = SIMD8<Scalar>

  let shape: CellShape<Scalar>
  private var arena: LaneArena<Scalar>
  /// [T+1][H][blocks]: hidden[t+1] = h_t.
  let hidden: UnsafeMutablePointer<Vector>
  private let gates: UnsafeMutablePointer<Vector>  // [T][3H][blocks] r, z, n
  private let m: UnsafeMutablePointer<Vector>  // [T][H][blocks] W_hn h_{t-1} + b_hn
  private let gIH: UnsafeMutablePointer<Vector>  // [T][3H][blocks] ∂L/∂(W_ih x + b_ih)
  private let gHH: UnsafeMutablePointer<Vector>  // [T][3H][blocks] ∂L/∂(W_hh h + b_hh)
  private let preIH: UnsafeMutablePointer<Vector>  // [3H][blocks] scratch: W_ih x_t + b_ih
  private let preHH: UnsafeMutablePointer<Vector>  // [3H][blocks] scratch: W_hh h_{t-1} + b_hh
  /// [H][blocks] ∂L/∂h_t: from step t+1 (written by backward(t+1)) plus from above (added before backward(t)).
  let dh: UnsafeMutablePointer<Vector>
  private let weightHHT: UnsafeMutablePointer<Scalar>  // [H][3H] W_hhᵀ
  private let weightIHT: UnsafeMutablePointer<Scalar>  // [inputCount][3H] W_ihᵀ (layers above the first)

  init(_ shape: CellShape<Scalar>) {
    precondition(shape.gates == 3)
    self.shape = shape
    let (H, T, nb, I) = (shape.hidden, shape.steps, shape.blocks, shape.inputCount)
    let rows = 3 * H
    arena = LaneArena(
      vectors: (T + 1) * H * nb + 3 * T * rows * nb + T * H * nb + 2 * rows * nb + H * nb,
      scalars: H * rows + I * rows)
    hidden = arena.vectors((T + 1) * H * nb)
    gates = arena.vectors(T * rows * nb)
    m = arena.vectors(T * H * nb)
    gIH = arena.vectors(T * rows * nb)
    gHH = arena.vectors(T * rows * nb)
    preIH = arena.vectors(rows * nb)
    preHH = arena.vectors(rows * nb)
    dh = arena.vectors(H * nb)
    weightHHT = arena.scalars(H * rows)
    weightIHT = arena.scalars(I * rows)
  }

  deinit { arena.deallocate() }

  // MARK: Forward

  func prepareForward(_ w: UnsafePointer<Scalar>) {}

  func forward(_ t: Int, _ w: UnsafePointer<Scalar>) {
    let s = shape
    let (H, nb) = (s.hidden, s.blocks)
    let hPrev = hidden + t * H * nb
    let h = hidden + (t + 1) * H * nb
    // Both affine maps, all three gate blocks each: W_ih x + b_ih and W_hh h + b_hh.
    broadcastRows(w + s.biasIH, rows: 3 * H, blocks: nb, into: preIH)
    broadcastAccumulate(
      w + s.weightIH, rows: 3 * H, cols: s.inputCount, s.input + t * s.inputStride, blocks: nb, into: preIH)
    broadcastRows(w + s.biasHH, rows: 3 * H, blocks: nb, into: preHH)
    broadcastAccumulate(w + s.weightHH, rows: 3 * H, cols: H, hPrev, blocks: nb, into: preHH)
    let gt = gates + t * 3 * H * nb
    let mt = m + t * H * nb
    let (rOff, zOff, nOff) = (0, H * nb, 2 * H * nb)
    for n in 0..<(H * nb) {
      let r = Scalar.sigmoid8(preIH[rOff + n] + preHH[rOff + n])  // (1)
      let z = Scalar.sigmoid8(preIH[zOff + n] + preHH[zOff + n])  // (2)
      let mn = preHH[nOff + n]  // (3)
      let nn = Scalar.tanh8(preIH[nOff + n] + r * mn)  // (4)
      h[n] = nn + z * (hPrev[n] - nn)  // (5)
      gt[rOff + n] = r
      gt[zOff + n] = z
      gt[nOff + n] = nn
      mt[n] = mn
    }
  }

  // MARK: Backward

  func prepareBackward(_ w: UnsafePointer<Scalar>) {
    let s = shape
    transpose(w + s.weightHH, rows: 3 * s.hidden, cols: s.hidden, into: weightHHT)
    if s.layer > 0 { transpose(w + s.weightIH, rows: 3 * s.hidden, cols: s.inputCount, into: weightIHT) }
    dh.update(repeating: Vector(), count: s.hidden * s.blocks)  // nothing flows back into the last step
  }

  /// Step t of backpropagation through time: consumes dh (= ∂L/∂h_t), leaves ∂L/∂h_{t-1} from this layer in it, and
  /// adds ∂L/∂x_t into `dInput` (the layer below's dh) when there is a layer below.
  func backward(_ t: Int, dInput: UnsafeMutablePointer<Vector>?) {
    let s = shape
    let (H, nb) = (s.hidden, s.blocks)
    let hPrev = hidden + t * H * nb
    let gt = gates + t * 3 * H * nb
    let mt = m + t * H * nb
    let gi = gIH + t * 3 * H * nb
    let gh = gHH + t * 3 * H * nb
    let (rOff, zOff, nOff) = (0, H * nb, 2 * H * nb)
    let one = Vector(repeating: 1)
    for n in 0..<(H * nb) {
      let (r, z, nn) = (gt[rOff + n], gt[zOff + n], gt[nOff + n])
      let dhNext = dh[n]
      let dn = dhNext * (one - z)  // (5')
      let dz = dhNext * (hPrev[n] - nn)
      let daN = dn * (one - nn * nn)  // (4')
      let dr = daN * mt[n]
      let dm = daN * r  // (3')
      let daZ = dz * z * (one - z)  // (2')
      let daR = dr * r * (one - r)  // (1')
      gi[rOff + n] = daR
      gi[zOff + n] = daZ
      gi[nOff + n] = daN
      gh[rOff + n] = daR
      gh[zOff + n] = daZ
      gh[nOff + n] = dm
      dh[n] = dhNext * z  // (6') the direct path h → h' ...
    }
    // (6') ... plus W_hhᵀ g_hh (step 0 has no predecessor: h_{-1} is a constant); dx = W_ihᵀ g_ih.
    if t > 0 { broadcastAccumulate(weightHHT, rows: H, cols: 3 * H, gh, blocks: nb, into: dh) }
    if let dInput { broadcastAccumulate(weightIHT, rows: s.inputCount, cols: 3 * H, gi, blocks: nb, into: dInput) }
  }

  /// (6') The layer's weight gradients, summed over time steps and lanes, written into `g` (flat layout).
  func gradients(into g: UnsafeMutablePointer<Scalar>) {
    // dW_ih = Σ_t g_ih x_tᵀ, dW_hh = Σ_t g_hh h_{t-1}ᵀ, db_ih = Σ_t Σ_b g_ih, db_hh = Σ_t Σ_b g_hh   (rows [3H])
    shape.sumWeightGradients(gIH: gIH, gHH: gHH, states: hidden, into: g)
  }
}
