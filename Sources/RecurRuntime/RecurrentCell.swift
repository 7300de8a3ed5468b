// The vanilla tanh RNN cell on Swift SIMD types.
//
//   h' = tanh(W_ih x + (b_ih + b_hh) + W_hh h)        y = fc.weight · h' + fc.bias
//
// Layout. The hidden size H is padded to `blocks * 8` lanes; padded weights and biases are zero, so padded lanes of
// h stay exactly tanh(0) = 0 and never leak into real lanes. W_hh is stored column-major in SIMD8 blocks: the step
// broadcasts h[j] and multiply-adds column j into register accumulators, which avoids a horizontal sum per row
// (measured 1.8x faster than row-major dot products at H = 16...64; see NOTES.md and README "Performance").
//
// Allocation happens only in `init`; `step`, `prime`, `freeRun` and `reset` never allocate.

// MARK: - Weights in kernel layout

/// A loaded model: weights rearranged for the kernel. Immutable after `init`, so one instance can back any number
/// of `RecurrentCell`s (one per stream), on any threads.
public final class RecurrentModel: @unchecked Sendable {
  /// The parsed file: sizes, encoding, provenance, statistics and the original PyTorch-layout tensors.
  public let file: ModelFile
  public let hiddenSize: Int
  /// Number of SIMD8 blocks per hidden vector: ceil(H / 8).
  public let blocks: Int

  private let storage: UnsafeMutableRawPointer
  let inputWeights: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]        W_ih[:, 0], zero-padded
  let bias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]        b_ih + b_hh, zero-padded
  let readoutWeights: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]        fc.weight[0, :], zero-padded
  let foldedBias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]        b_ih + b_hh + W_ih[:, 0] * fc.bias
  let columns: UnsafeMutablePointer<SIMD8<Float>>  // [H][blocks]     column j = W_hh[:, j], zero-padded rows
  let foldedColumns: UnsafeMutablePointer<SIMD8<Float>>  // [H][blocks]     W_hh[:, j] + W_ih[:, 0] * fc.weight[0, j]
  let readoutBias: Float

  /// Parses, validates and loads a model file (the only allocation of the runtime).
  public convenience init(bytes: UnsafeRawBufferPointer) throws(ModelFileError) {
    self.init(try ModelFile(bytes))
  }

  public convenience init(bytes: [UInt8]) throws(ModelFileError) {
    self.init(try ModelFile(bytes: bytes))
  }

  /// Loads an in-memory model. Precondition: tensor sizes match `hiddenSize` (files from the reader always do).
  public init(_ file: ModelFile) {
    let H = file.hiddenSize
    precondition(H >= 1 && H <= ModelFormat.maxHiddenSize, "hidden size out of range")
    for t in file.tensors { precondition(t.values.count == t.rows * t.cols, "tensor \(t.id.stateDictName) size") }
    self.file = file
    self.hiddenSize = H
    let nb = (H + 7) / 8
    self.blocks = nb
    let vectors = 4 * nb + 2 * H * nb
    storage = UnsafeMutableRawPointer.allocate(byteCount: vectors * 32, alignment: 64)
    let all = storage.bindMemory(to: SIMD8<Float>.self, capacity: vectors)
    all.initialize(repeating: SIMD8(), count: vectors)
    inputWeights = all
    bias = all + nb
    readoutWeights = all + 2 * nb
    foldedBias = all + 3 * nb
    columns = all + 4 * nb
    foldedColumns = all + 4 * nb + H * nb
    readoutBias = file.fcBias[0]

    let lanes = { (p: UnsafeMutablePointer<SIMD8<Float>>) in
      UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
    }
    let wih = lanes(inputWeights)
    let b = lanes(bias)
    let fcw = lanes(readoutWeights)
    let fb = lanes(foldedBias)
    let cols = lanes(columns)
    let folded = lanes(foldedColumns)
    let padded = nb * 8
    for i in 0..<H {
      wih[i] = file.weightIH[i]
      b[i] = file.biasIH[i] + file.biasHH[i]
      fcw[i] = file.fcWeight[i]
      fb[i] = b[i] + wih[i] * file.fcBias[0]
    }
    for j in 0..<H {
      for i in 0..<H {
        let w = file.weightHH[i * H + j]  // PyTorch row-major [H][H]: row i, column j
        cols[j * padded + i] = w
        folded[j * padded + i] = w + wih[i] * file.fcWeight[j]
      }
    }
  }

  deinit { storage.deallocate() }
}

// MARK: - One stream's state

/// The hidden state of one stream over a shared `RecurrentModel`.
public final class RecurrentCell {
  public let model: RecurrentModel
  private let storage: UnsafeMutablePointer<SIMD8<Float>>
  private var current: UnsafeMutablePointer<SIMD8<Float>>  // [blocks] h_t, padded lanes 0
  private var next: UnsafeMutablePointer<SIMD8<Float>>  // [blocks] h_{t+1} being computed

  public init(model: RecurrentModel) {
    self.model = model
    let raw = UnsafeMutableRawPointer.allocate(byteCount: 2 * model.blocks * 32, alignment: 64)
    storage = raw.bindMemory(to: SIMD8<Float>.self, capacity: 2 * model.blocks)
    storage.initialize(repeating: SIMD8(), count: 2 * model.blocks)
    current = storage
    next = storage + model.blocks
  }

  deinit { storage.deallocate() }

  /// Sets the hidden state to zero (PyTorch's default `h0`).
  public func reset() {
    current.update(repeating: SIMD8(), count: model.blocks)
  }

  /// Advances the state by one input and returns the readout `fc(h')`.
  @inline(__always)
  public func step(_ x: Float) -> Float {
    advance(x)
    return output
  }

  /// Advances the state over `inputs` (as `nn.RNN` does over a sequence), without computing readouts.
  public func prime(_ inputs: UnsafeBufferPointer<Float>) {
    for x in inputs { advance(x) }
  }

  /// The readout of the current hidden state.
  public var output: Float {
    readout(model.readoutWeights, current, blocks: model.blocks, bias: model.readoutBias)
  }

  /// Free-running generation: feeds `firstInput`, then each readout back as the next input, writing the readouts.
  /// After the first step the feedback is folded into the recurrent matrix (W_hh + W_ih ⊗ fc.weight), which takes the
  /// readout off the critical path; mathematically identical, rounding differs by about one ulp per step.
  public func freeRun(firstInput: Float, into out: UnsafeMutableBufferPointer<Float>) {
    guard let base = out.baseAddress, out.count > 0 else { return }
    base[0] = step(firstInput)
    let m = model
    for i in 1..<max(out.count, 1) {
      recurrentUpdate(
        columns: m.foldedColumns, bias: m.foldedBias, inputWeights: m.inputWeights, x: 0,
        hidden: m.hiddenSize, blocks: m.blocks, h: current, out: next)
      swap(&current, &next)
      base[i] = readout(m.readoutWeights, current, blocks: m.blocks, bias: m.readoutBias)
    }
  }

  /// Copies the first `hiddenSize` lanes of the hidden state (for tests and inspection).
  public func copyHiddenState(into out: UnsafeMutableBufferPointer<Float>) {
    let lanes = UnsafeRawPointer(current).assumingMemoryBound(to: Float.self)
    for i in 0..<min(out.count, model.hiddenSize) { out[i] = lanes[i] }
  }

  @inline(__always)
  private func advance(_ x: Float) {
    let m = model
    recurrentUpdate(
      columns: m.columns, bias: m.bias, inputWeights: m.inputWeights, x: x,
      hidden: m.hiddenSize, blocks: m.blocks, h: current, out: next)
    swap(&current, &next)
  }
}

// MARK: - Kernels

/// out = tanh(bias + inputWeights * x + Σ_j columns[j] * h[j]).
/// Rows are processed four blocks at a time with two accumulator chains (even and odd columns) per block, so the
/// add latency chain is H/2 long instead of H; the last one or two blocks use four chains. `out` must not alias `h`.
@inline(__always)
func recurrentUpdate(
  columns: UnsafePointer<SIMD8<Float>>,  // [H][blocks]
  bias: UnsafePointer<SIMD8<Float>>,  // [blocks]
  inputWeights: UnsafePointer<SIMD8<Float>>,  // [blocks]
  x: Float, hidden: Int, blocks: Int,
  h: UnsafePointer<SIMD8<Float>>,  // [blocks]
  out: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
) {
  let hs = UnsafeRawPointer(h).assumingMemoryBound(to: Float.self)  // [blocks * 8] lanes of h
  let xv = SIMD8<Float>(repeating: x)
  let pairs = hidden & ~1
  var b = 0
  while b + 4 <= blocks {
    var a0 = multiplyAdd(inputWeights[b], xv, bias[b])
    var a1 = multiplyAdd(inputWeights[b + 1], xv, bias[b + 1])
    var a2 = multiplyAdd(inputWeights[b + 2], xv, bias[b + 2])
    var a3 = multiplyAdd(inputWeights[b + 3], xv, bias[b + 3])
    var c0 = SIMD8<Float>()
    var c1 = SIMD8<Float>()
    var c2 = SIMD8<Float>()
    var c3 = SIMD8<Float>()
    var col = columns + b
    var j = 0
    while j < pairs {
      let h0 = SIMD8<Float>(repeating: hs[j])
      let h1 = SIMD8<Float>(repeating: hs[j + 1])
      let odd = col + blocks
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      a3 = multiplyAdd(col[3], h0, a3)
      c0 = multiplyAdd(odd[0], h1, c0)
      c1 = multiplyAdd(odd[1], h1, c1)
      c2 = multiplyAdd(odd[2], h1, c2)
      c3 = multiplyAdd(odd[3], h1, c3)
      col += 2 * blocks
      j += 2
    }
    if j < hidden {
      let h0 = SIMD8<Float>(repeating: hs[j])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      a3 = multiplyAdd(col[3], h0, a3)
    }
    out[b] = fastTanh(a0 + c0)
    out[b + 1] = fastTanh(a1 + c1)
    out[b + 2] = fastTanh(a2 + c2)
    out[b + 3] = fastTanh(a3 + c3)
    b += 4
  }
  // One or two blocks left (H ≤ 16 lives entirely here): four chains each, as the add latency dominates.
  let quads = hidden & ~3
  while b < blocks {
    let two = b + 2 <= blocks
    var a0 = multiplyAdd(inputWeights[b], xv, bias[b])
    var a1 = two ? multiplyAdd(inputWeights[b + 1], xv, bias[b + 1]) : SIMD8<Float>()
    var c0 = SIMD8<Float>()
    var c1 = SIMD8<Float>()
    var d0 = SIMD8<Float>()
    var d1 = SIMD8<Float>()
    var e0 = SIMD8<Float>()
    var e1 = SIMD8<Float>()
    var col = columns + b
    var j = 0
    if two {
      while j < quads {
        let h0 = SIMD8<Float>(repeating: hs[j])
        let h1 = SIMD8<Float>(repeating: hs[j + 1])
        let h2 = SIMD8<Float>(repeating: hs[j + 2])
        let h3 = SIMD8<Float>(repeating: hs[j + 3])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        c0 = multiplyAdd(col[blocks], h1, c0)
        c1 = multiplyAdd(col[blocks + 1], h1, c1)
        d0 = multiplyAdd(col[2 * blocks], h2, d0)
        d1 = multiplyAdd(col[2 * blocks + 1], h2, d1)
        e0 = multiplyAdd(col[3 * blocks], h3, e0)
        e1 = multiplyAdd(col[3 * blocks + 1], h3, e1)
        col += 4 * blocks
        j += 4
      }
      while j < hidden {
        let h0 = SIMD8<Float>(repeating: hs[j])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        col += blocks
        j += 1
      }
      out[b] = fastTanh((a0 + c0) + (d0 + e0))
      out[b + 1] = fastTanh((a1 + c1) + (d1 + e1))
      b += 2
    } else {
      while j < quads {
        a0 = multiplyAdd(col[0], SIMD8<Float>(repeating: hs[j]), a0)
        c0 = multiplyAdd(col[blocks], SIMD8<Float>(repeating: hs[j + 1]), c0)
        d0 = multiplyAdd(col[2 * blocks], SIMD8<Float>(repeating: hs[j + 2]), d0)
        e0 = multiplyAdd(col[3 * blocks], SIMD8<Float>(repeating: hs[j + 3]), e0)
        col += 4 * blocks
        j += 4
      }
      while j < hidden {
        a0 = multiplyAdd(col[0], SIMD8<Float>(repeating: hs[j]), a0)
        col += blocks
        j += 1
      }
      out[b] = fastTanh((a0 + c0) + (d0 + e0))
      b += 1
    }
  }
}

/// fc.weight · h + fc.bias, with a tree reduction of the final vector (a serial `.sum()` is slower).
@inline(__always)
func readout(_ w: UnsafePointer<SIMD8<Float>>, _ h: UnsafePointer<SIMD8<Float>>, blocks: Int, bias: Float) -> Float {
  var acc = w[0] * h[0]
  var b = 1
  while b < blocks {
    acc = multiplyAdd(w[b], h[b], acc)
    b += 1
  }
  let s4 = acc.lowHalf + acc.highHalf
  let s2 = s4.lowHalf + s4.highHalf
  return (s2[0] + s2[1]) + bias
}
