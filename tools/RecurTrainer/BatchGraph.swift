// Forward pass and backpropagation through time for one minibatch, written out by hand.
//
//   (1) a_t = W_ih x_t + (b_ih + b_hh) + W_hh h_{t-1}        h_{-1} = 0 (PyTorch's default h0)
//   (2) h_t = tanh(a_t)
//   (3) y_t = fc.w · h_t + fc.b
//   (4) L   = Σ_t Σ_b m_tb (y_tb − target_tb)² / n           m = loss mask, n = Σ m (nn.MSELoss, mean reduction)
//
// and, read bottom-up, their derivatives:
//
//   (4') dy_t = 2 m_t (y_t − target_t) / n
//   (3') dh_t = fc.wᵀ dy_t + dh_t(from step t+1)                dfc.w = Σ_t dy_t h_tᵀ      dfc.b = Σ_t Σ_b dy_t
//   (2') da_t = dh_t ⊙ (1 − h_t²)
//   (1') dh_{t-1}(from step t) = W_hhᵀ da_t                     dW_hh = Σ_t da_t h_{t-1}ᵀ   dW_ih = Σ_t da_t x_tᵀ
//                                                              db_ih = db_hh = Σ_t Σ_b da_t
//
// Layout: feature-major, batch contiguous. Every activation is `[feature][lane]` with the batch padded to a multiple
// of 8 lanes and stored as SIMD8 vectors, so each operation is "broadcast one weight, multiply-add a row of lanes"
// and vectorises over the batch without horizontal sums. Padded lanes have input 0 and loss mask 0, so their
// gradients are exactly zero. Weight gradients are reduced over lanes once per batch.

import RecurRuntime

public final class RNNBatchGraph<Scalar: TrainingScalar> {
  public typealias Vector = SIMD8<Scalar>

  public let hiddenSize: Int
  /// Time steps per example (T).
  public let steps: Int
  /// The most examples one batch may hold.
  public let capacity: Int
  /// SIMD8 blocks per row of lanes: ceil(capacity / 8).
  public let blocks: Int
  /// Examples in the batch currently loaded.
  public private(set) var batchSize = 0
  /// Loss-weighted elements in the loaded batch (the MSE denominator n).
  public private(set) var weightedElements = 0

  private let storage: UnsafeMutableRawPointer
  // Lane rows, each `blocks` vectors long:
  private let x: UnsafeMutablePointer<Vector>  // [T][blocks] inputs
  private let target: UnsafeMutablePointer<Vector>  // [T][blocks] targets
  private let mask: UnsafeMutablePointer<Vector>  // [T][blocks] 1 where the loss counts
  private let y: UnsafeMutablePointer<Vector>  // [T][blocks] outputs
  private let dy: UnsafeMutablePointer<Vector>  // [T][blocks] ∂L/∂y
  /// [T+1][H][blocks]: hidden[0] = h_{-1} = 0, hidden[t+1] = h_t.
  private let hidden: UnsafeMutablePointer<Vector>
  private let da: UnsafeMutablePointer<Vector>  // [T][H][blocks] ∂L/∂a_t
  private let dh: UnsafeMutablePointer<Vector>  // [H][blocks] ∂L/∂h_t from step t+1
  // Scalars:
  private let weightsT: UnsafeMutablePointer<Scalar>  // [H][H] W_hhᵀ
  private let bias: UnsafeMutablePointer<Scalar>  // [H] b_ih + b_hh

  public init(hiddenSize: Int, steps: Int, capacity: Int) {
    precondition(hiddenSize >= 1 && steps >= 1 && capacity >= 1)
    self.hiddenSize = hiddenSize
    self.steps = steps
    self.capacity = capacity
    let nb = (capacity + 7) / 8
    self.blocks = nb
    let H = hiddenSize
    let T = steps
    let vectorCount = 5 * T * nb + (T + 1) * H * nb + T * H * nb + H * nb
    let scalarCount = H * H + H
    let vectorBytes = vectorCount * MemoryLayout<Vector>.stride
    storage = .allocate(
      byteCount: vectorBytes + scalarCount * MemoryLayout<Scalar>.stride, alignment: 64)
    let vectors = storage.bindMemory(to: Vector.self, capacity: vectorCount)
    vectors.initialize(repeating: Vector(), count: vectorCount)
    var cursor = vectors
    func take(_ n: Int) -> UnsafeMutablePointer<Vector> {
      defer { cursor += n }
      return cursor
    }
    x = take(T * nb)
    target = take(T * nb)
    mask = take(T * nb)
    y = take(T * nb)
    dy = take(T * nb)
    hidden = take((T + 1) * H * nb)
    da = take(T * H * nb)
    dh = take(H * nb)
    let scalars = (storage + vectorBytes).bindMemory(to: Scalar.self, capacity: scalarCount)
    scalars.initialize(repeating: 0, count: scalarCount)
    weightsT = scalars
    bias = scalars + H * H
  }

  deinit { storage.deallocate() }

  // MARK: Loading a batch

  /// Gathers the examples `indices` of `examples` into the lanes (at most `capacity` of them).
  public func load(_ examples: ExampleSet, indices: ArraySlice<Int>) {
    precondition(examples.steps == steps && indices.count <= capacity)
    examples.inputs.withUnsafeBufferPointer { inputs in
      examples.targets.withUnsafeBufferPointer { targets in
        fill(count: indices.count, finalStepOnly: examples.lossOnFinalStepOnly) { lane, t in
          let e = indices[indices.startIndex + lane] * steps + t
          return (Scalar(inputs[e]), Scalar(targets[e]))
        }
      }
    }
  }

  /// Loads explicit examples: `inputs[b][t]`, `targets[b][t]` (tests and small evaluations).
  public func load(inputs: [[Scalar]], targets: [[Scalar]], finalStepOnly: Bool) {
    precondition(inputs.count == targets.count && inputs.count <= capacity)
    fill(count: inputs.count, finalStepOnly: finalStepOnly) { lane, t in
      (inputs[lane][t], targets[lane][t])
    }
  }

  private func fill(count: Int, finalStepOnly: Bool, _ value: (Int, Int) -> (Scalar, Scalar)) {
    batchSize = count
    weightedElements = count * (finalStepOnly ? 1 : steps)
    let xs = lanes(x)
    let ts = lanes(target)
    let ms = lanes(mask)
    let width = blocks * 8
    for t in 0..<steps {
      let weighted: Scalar = (!finalStepOnly || t == steps - 1) ? 1 : 0
      for lane in 0..<width {
        let n = t * width + lane
        if lane < count {
          (xs[n], ts[n]) = value(lane, t)
          ms[n] = weighted
        } else {
          (xs[n], ts[n], ms[n]) = (0, 0, 0)
        }
      }
    }
  }

  // MARK: Forward

  /// Runs (1)–(4) and returns the batch's mean squared error.
  @discardableResult
  public func forward(_ p: RNNParameters<Scalar>) -> Double {
    precondition(p.hiddenSize == hiddenSize && batchSize > 0)
    let H = hiddenSize
    let nb = blocks
    return p.values.withUnsafeBufferPointer { buffer in
      let w = buffer.baseAddress!
      let wIH = w + p.range(.weightIH).lowerBound
      let wHH = w + p.range(.weightHH).lowerBound
      let bIH = w + p.range(.biasIH).lowerBound
      let bHH = w + p.range(.biasHH).lowerBound
      let fcW = w + p.range(.fcWeight).lowerBound
      let fcB = w[p.range(.fcBias).lowerBound]
      for i in 0..<H { bias[i] = bIH[i] + bHH[i] }

      for t in 0..<steps {
        let hPrev = hidden + t * H * nb
        let h = hidden + (t + 1) * H * nb
        let xt = x + t * nb
        // (1) a_t = W_ih x_t + (b_ih + b_hh), then += W_hh h_{t-1}. Written into h's storage.
        for i in 0..<H {
          let wi = Vector(repeating: wIH[i])
          let bi = Vector(repeating: bias[i])
          for k in 0..<nb { h[i * nb + k] = bi + wi * xt[k] }
        }
        broadcastAccumulate(wHH, rows: H, cols: H, hPrev, blocks: nb, into: h)
        // (2) h_t = tanh(a_t), in place.
        for n in 0..<(H * nb) { h[n] = Scalar.tanh8(h[n]) }
        // (3) y_t = fc.w · h_t + fc.b
        let yt = y + t * nb
        for k in 0..<nb { yt[k] = Vector(repeating: fcB) }
        broadcastAccumulate(fcW, rows: 1, cols: H, h, blocks: nb, into: yt)
      }

      // (4) L = Σ m (y − target)² / n
      var sum = Vector()
      for n in 0..<(steps * nb) {
        let e = y[n] - target[n]
        sum += mask[n] * (e * e)
      }
      return Double(horizontalSum(sum)) / Double(weightedElements)
    }
  }

  /// The output y of lane `lane` at step `t` after `forward`.
  public func output(lane: Int, step t: Int) -> Scalar {
    precondition(lane < batchSize && t < steps)
    return lanes(y)[t * blocks * 8 + lane]
  }

  // MARK: Backward

  /// Backpropagation through time for the batch `forward` last ran on; writes ∂L/∂θ into `gradient` (overwriting it).
  public func backward(_ p: RNNParameters<Scalar>, into gradient: inout RNNParameters<Scalar>) {
    precondition(p.hiddenSize == hiddenSize && gradient.hiddenSize == hiddenSize && batchSize > 0)
    let H = hiddenSize
    let nb = blocks
    let T = steps
    p.values.withUnsafeBufferPointer { buffer in
      let w = buffer.baseAddress!
      let wHH = w + p.range(.weightHH).lowerBound
      let fcW = w + p.range(.fcWeight).lowerBound
      for i in 0..<H { for j in 0..<H { weightsT[j * H + i] = wHH[i * H + j] } }

      // (4') dy = 2 m (y − target) / n
      let twoOverN = Vector(repeating: Scalar(2) / Scalar(weightedElements))
      for n in 0..<(T * nb) { dy[n] = twoOverN * (mask[n] * (y[n] - target[n])) }

      dh.update(repeating: Vector(), count: H * nb)  // nothing flows back into the last step
      for t in stride(from: T - 1, through: 0, by: -1) {
        let h = hidden + (t + 1) * H * nb
        let dyt = dy + t * nb
        let dat = da + t * H * nb
        for i in 0..<H {
          let wi = Vector(repeating: fcW[i])
          for k in 0..<nb {
            let n = i * nb + k
            // (3') dh_t = fc.wᵀ dy_t + (what step t+1 sent back)
            let dhn = dh[n] + wi * dyt[k]
            // (2') da_t = dh_t ⊙ (1 − h_t²)
            let hn = h[n]
            dat[n] = dhn * (Vector(repeating: 1) - hn * hn)
          }
        }
        // (1') dh_{t-1} = W_hhᵀ da_t (step 0 has no predecessor: h_{-1} is a constant)
        if t > 0 {
          dh.update(repeating: Vector(), count: H * nb)
          broadcastAccumulate(weightsT, rows: H, cols: H, dat, blocks: nb, into: dh)
        }
      }
    }

    // Parameter gradients: sums over time steps and lanes.
    let oIH = gradient.range(.weightIH).lowerBound
    let oHH = gradient.range(.weightHH).lowerBound
    let oBIH = gradient.range(.biasIH).lowerBound
    let oBHH = gradient.range(.biasHH).lowerBound
    let oFCW = gradient.range(.fcWeight).lowerBound
    let oFCB = gradient.range(.fcBias).lowerBound
    gradient.values.withUnsafeMutableBufferPointer { buffer in
      let g = buffer.baseAddress!
      // dW_ih = Σ_t da_t x_tᵀ                [H][1]
      sumOfOuterProducts(
        da, stride: H * nb, rows: H, x, stride: nb, cols: 1, steps: T, blocks: nb,
        into: g + oIH)
      // dW_hh = Σ_t da_t h_{t-1}ᵀ            [H][H]   (h_{t-1} is hidden[t])
      sumOfOuterProducts(
        da, stride: H * nb, rows: H, hidden, stride: H * nb, cols: H, steps: T, blocks: nb,
        into: g + oHH)
      // db_ih = db_hh = Σ_t Σ_b da_t         [H]
      let dbIH = g + oBIH
      let dbHH = g + oBHH
      for i in 0..<H {
        var acc = Vector()
        for t in 0..<T { for k in 0..<nb { acc += da[(t * H + i) * nb + k] } }
        dbIH[i] = horizontalSum(acc)
        dbHH[i] = dbIH[i]
      }
      // dfc.w = Σ_t dy_t h_tᵀ                [1][H]   (h_t is hidden[t+1])
      sumOfOuterProducts(
        dy, stride: nb, rows: 1, hidden + H * nb, stride: H * nb, cols: H, steps: T, blocks: nb,
        into: g + oFCW)
      // dfc.b = Σ_t Σ_b dy_t
      var acc = Vector()
      for n in 0..<(T * nb) { acc += dy[n] }
      g[oFCB] = horizontalSum(acc)
    }
  }

  // MARK: Helpers

  private func lanes(_ p: UnsafeMutablePointer<Vector>) -> UnsafeMutablePointer<Scalar> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Scalar.self)
  }
}

// MARK: - Kernels

/// Pairwise tree sum of eight lanes.
@inline(__always)
func horizontalSum<S: TrainingScalar>(_ v: SIMD8<S>) -> S {
  let s4 = v.lowHalf + v.highHalf
  let s2 = s4.lowHalf + s4.highHalf
  return s2[0] + s2[1]
}

/// out[i][:] += Σ_j m[i][j] · v[j][:] for a row-major matrix `m` [rows][cols] and lane rows `v` [cols][blocks].
/// Broadcast-and-accumulate: each weight is splatted and multiplied into a row of lanes; four output rows share
/// each load of v.
@inline(__always)
func broadcastAccumulate<S: TrainingScalar>(
  _ m: UnsafePointer<S>, rows: Int, cols: Int, _ v: UnsafePointer<SIMD8<S>>, blocks: Int,
  into out: UnsafeMutablePointer<SIMD8<S>>
) {
  var i = 0
  while i + 4 <= rows {
    let m0 = m + i * cols
    let m1 = m0 + cols
    let m2 = m1 + cols
    let m3 = m2 + cols
    let o0 = out + i * blocks
    let o1 = o0 + blocks
    let o2 = o1 + blocks
    let o3 = o2 + blocks
    for k in 0..<blocks {
      var a0 = o0[k]
      var a1 = o1[k]
      var a2 = o2[k]
      var a3 = o3[k]
      var vj = v + k
      for j in 0..<cols {
        let vv = vj.pointee
        a0 += SIMD8(repeating: m0[j]) * vv
        a1 += SIMD8(repeating: m1[j]) * vv
        a2 += SIMD8(repeating: m2[j]) * vv
        a3 += SIMD8(repeating: m3[j]) * vv
        vj += blocks
      }
      o0[k] = a0
      o1[k] = a1
      o2[k] = a2
      o3[k] = a3
    }
    i += 4
  }
  while i < rows {
    let mi = m + i * cols
    let oi = out + i * blocks
    for k in 0..<blocks {
      var a = oi[k]
      var vj = v + k
      for j in 0..<cols {
        a += SIMD8(repeating: mi[j]) * vj.pointee
        vj += blocks
      }
      oi[k] = a
    }
    i += 1
  }
}

/// g[i][j] = Σ_t Σ_lanes a_t[i][:] · b_t[j][:], where a_t = a + t·aStride holds `rows` lane rows and
/// b_t = b + t·bStride holds `cols` lane rows. One horizontal sum per output element.
@inline(__always)
func sumOfOuterProducts<S: TrainingScalar>(
  _ a: UnsafePointer<SIMD8<S>>, stride aStride: Int, rows: Int,
  _ b: UnsafePointer<SIMD8<S>>, stride bStride: Int, cols: Int,
  steps: Int, blocks: Int, into g: UnsafeMutablePointer<S>
) {
  for i in 0..<rows {
    var j = 0
    while j + 4 <= cols {
      var c0 = SIMD8<S>()
      var c1 = SIMD8<S>()
      var c2 = SIMD8<S>()
      var c3 = SIMD8<S>()
      for t in 0..<steps {
        let ai = a + t * aStride + i * blocks
        let b0 = b + t * bStride + j * blocks
        let b1 = b0 + blocks
        let b2 = b1 + blocks
        let b3 = b2 + blocks
        for k in 0..<blocks {
          let av = ai[k]
          c0 += av * b0[k]
          c1 += av * b1[k]
          c2 += av * b2[k]
          c3 += av * b3[k]
        }
      }
      g[i * cols + j] = horizontalSum(c0)
      g[i * cols + j + 1] = horizontalSum(c1)
      g[i * cols + j + 2] = horizontalSum(c2)
      g[i * cols + j + 3] = horizontalSum(c3)
      j += 4
    }
    while j < cols {
      var c = SIMD8<S>()
      for t in 0..<steps {
        let ai = a + t * aStride + i * blocks
        let bj = b + t * bStride + j * blocks
        for k in 0..<blocks { c += ai[k] * bj[k] }
      }
      g[i * cols + j] = horizontalSum(c)
      j += 1
    }
  }
}
