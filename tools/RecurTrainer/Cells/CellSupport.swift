// What the trainer's cells share: their place in the stack (`CellShape`), one allocation carved into lane rows
// (`LaneArena`), and the lane kernels every forward and backward pass is made of.
//
// Layout (see BatchGraph.swift): feature-major, batch contiguous. A "lane row" is one feature for the whole batch,
// `blocks` SIMD8 vectors long; a `[T][n][blocks]` buffer holds n lane rows per time step.

import RecurRuntime

// MARK: - A cell's place in the stack

/// The sizes and inputs of layer `layer`, and where its four tensors live in the flat parameters.
struct CellShape<Scalar: TrainingScalar> {
  let layer: Int
  /// H.
  let hidden: Int
  /// Gate blocks: 1 (rnn), 3 (gru), 4 (lstm).
  let gates: Int
  /// T.
  let steps: Int
  /// SIMD8 blocks per lane row.
  let blocks: Int
  /// Lane rows per input step: I for layer 0, H above it.
  let inputCount: Int
  /// x_t = input + t · inputStride: the graph's inputs for layer 0, the layer below's h_t otherwise.
  let input: UnsafePointer<SIMD8<Scalar>>
  let inputStride: Int
  /// Offsets in the flat parameters (`ParameterLayout`).
  let weightIH: Int  // [G·H][inputCount]
  let weightHH: Int  // [G·H][H]
  let biasIH: Int  // [G·H]
  let biasHH: Int  // [G·H]

  init(
    layout: ParameterLayout, layer: Int, steps: Int, blocks: Int, input: UnsafePointer<SIMD8<Scalar>>,
    inputStride: Int
  ) {
    let a = layout.architecture
    self.layer = layer
    hidden = a.hiddenSize
    gates = a.kind.gates
    self.steps = steps
    self.blocks = blocks
    inputCount = layer == 0 ? a.inputSize : a.hiddenSize
    self.input = input
    self.inputStride = inputStride
    weightIH = layout.range(.weightIH, layer: layer).lowerBound
    weightHH = layout.range(.weightHH, layer: layer).lowerBound
    biasIH = layout.range(.biasIH, layer: layer).lowerBound
    biasHH = layout.range(.biasHH, layer: layer).lowerBound
  }

  /// G·H: rows of the layer's weight matrices.
  var gateRows: Int { gates * hidden }
}

// MARK: - Storage

/// One 64-byte-aligned allocation, zero-initialised, handed out front to back: lane rows first, then scalars.
/// The owner calls `deallocate()` in its deinit.
struct LaneArena<Scalar: TrainingScalar> {
  typealias Vector = SIMD8<Scalar>
  private let base: UnsafeMutableRawPointer
  private var vectorCursor: UnsafeMutablePointer<Vector>
  private var scalarCursor: UnsafeMutablePointer<Scalar>
  private let vectorEnd: UnsafeMutablePointer<Vector>
  private let scalarEnd: UnsafeMutablePointer<Scalar>

  init(vectors: Int, scalars: Int) {
    let vectorBytes = vectors * MemoryLayout<Vector>.stride
    base = .allocate(byteCount: vectorBytes + scalars * MemoryLayout<Scalar>.stride, alignment: 64)
    vectorCursor = base.bindMemory(to: Vector.self, capacity: vectors)
    vectorCursor.initialize(repeating: Vector(), count: vectors)
    vectorEnd = vectorCursor + vectors
    scalarCursor = (base + vectorBytes).bindMemory(to: Scalar.self, capacity: scalars)
    scalarCursor.initialize(repeating: 0, count: scalars)
    scalarEnd = scalarCursor + scalars
  }

  /// The next `n` SIMD8 vectors.
  mutating func vectors(_ n: Int) -> UnsafeMutablePointer<Vector> {
    precondition(vectorCursor + n <= vectorEnd, "LaneArena: vector capacity exceeded")
    defer { vectorCursor += n }
    return vectorCursor
  }

  /// The next `n` scalars.
  mutating func scalars(_ n: Int) -> UnsafeMutablePointer<Scalar> {
    precondition(scalarCursor + n <= scalarEnd, "LaneArena: scalar capacity exceeded")
    defer { scalarCursor += n }
    return scalarCursor
  }

  func deallocate() { base.deallocate() }
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

/// g[i] = Σ_t Σ_lanes a_t[i][:], where a_t = a + t·stride holds `rows` lane rows (bias gradients).
@inline(__always)
func sumOverStepsAndLanes<S: TrainingScalar>(
  _ a: UnsafePointer<SIMD8<S>>, stride: Int, rows: Int, steps: Int, blocks: Int, into g: UnsafeMutablePointer<S>
) {
  for i in 0..<rows {
    var acc = SIMD8<S>()
    for t in 0..<steps { for k in 0..<blocks { acc += a[t * stride + i * blocks + k] } }
    g[i] = horizontalSum(acc)
  }
}

extension CellShape {
  /// The layer's weight gradients, summed over time steps and lanes into `g` (flat layout), from the gradients of its
  /// two affine maps, `gIH` of W_ih x_t + b_ih and `gHH` of W_hh h_{t-1} + b_hh ([T][G·H][blocks] each), and its
  /// `states` ([T+1][H][blocks], states[t] = h_{t-1}):
  ///   dW_ih = Σ_t g_ih x_tᵀ   [G·H][inputCount]      dW_hh = Σ_t g_hh h_{t-1}ᵀ   [G·H][H]
  ///   db_ih = Σ_t Σ_b g_ih    db_hh = Σ_t Σ_b g_hh   [G·H]
  /// `gHH` nil: the same gradient as `gIH` (rnn, lstm: both maps feed one sum), so db_hh is a copy of db_ih.
  @inline(__always)
  func sumWeightGradients(
    gIH: UnsafePointer<SIMD8<Scalar>>, gHH: UnsafePointer<SIMD8<Scalar>>?, states: UnsafePointer<SIMD8<Scalar>>,
    into g: UnsafeMutablePointer<Scalar>
  ) {
    let (H, nb, T, rows) = (hidden, blocks, steps, gateRows)
    sumOfOuterProducts(
      gIH, stride: rows * nb, rows: rows, input, stride: inputStride, cols: inputCount, steps: T, blocks: nb,
      into: g + weightIH)
    sumOfOuterProducts(
      gHH ?? gIH, stride: rows * nb, rows: rows, states, stride: H * nb, cols: H, steps: T, blocks: nb,
      into: g + weightHH)
    sumOverStepsAndLanes(gIH, stride: rows * nb, rows: rows, steps: T, blocks: nb, into: g + biasIH)
    if let gHH {
      sumOverStepsAndLanes(gHH, stride: rows * nb, rows: rows, steps: T, blocks: nb, into: g + biasHH)
    } else {
      (g + biasHH).update(from: g + biasIH, count: rows)
    }
  }
}

/// mT[j][i] = m[i][j] for a row-major `m` [rows][cols]: the backward passes multiply by transposed weights with
/// the same broadcast kernel as the forward passes.
@inline(__always)
func transpose<S: TrainingScalar>(_ m: UnsafePointer<S>, rows: Int, cols: Int, into mT: UnsafeMutablePointer<S>) {
  for i in 0..<rows { for j in 0..<cols { mT[j * rows + i] = m[i * cols + j] } }
}

/// Sets `rows` lane rows of `out` [rows][blocks] to the broadcast values `v` [rows] (pre-activations start at their
/// biases).
@inline(__always)
func broadcastRows<S: TrainingScalar>(
  _ v: UnsafePointer<S>, rows: Int, blocks: Int, into out: UnsafeMutablePointer<SIMD8<S>>
) {
  for i in 0..<rows {
    let b = SIMD8<S>(repeating: v[i])
    for k in 0..<blocks { out[i * blocks + k] = b }
  }
}
