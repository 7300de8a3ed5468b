// Many independent streams at once: the same cell, vectorised across streams instead of across hidden units.
//
// Lane k of every SIMD8 belongs to stream 8g + k of group g. A step is, per group and per hidden row i,
//   acc = b[i] + W_ih[i] x + Σ_j W_hh[i][j] h[j]        (W_hh[i][j] broadcast, h[j] one vector of 8 streams)
// so there is no horizontal reduction anywhere and the work is throughput-bound rather than latency-bound: use it
// when many sequences are processed together (`recur bench` reports its throughput). Rows go eight at a time so eight
// independent accumulator chains are in flight. Allocation only in `init`.

public final class BatchCell {
  public let model: RecurrentModel
  /// Number of streams (a multiple of 8; `init` rounds up).
  public let streams: Int
  private let groups: Int
  private let storage: UnsafeMutablePointer<SIMD8<Float>>
  private var current: UnsafeMutablePointer<SIMD8<Float>>  // [groups][H]: h[j] of streams 8g..8g+7
  private var next: UnsafeMutablePointer<SIMD8<Float>>  // [groups][H]

  /// True for the models BatchCell runs: one vanilla layer, input and output 1.
  public static func supports(_ model: RecurrentModel) -> Bool {
    let a = model.architecture
    return a.kind == .rnn && a.layers == 1 && a.inputSize == 1 && a.outputSize == 1
  }

  public init(model: RecurrentModel, streams: Int) {
    precondition(streams >= 1, "at least one stream")
    precondition(Self.supports(model), "BatchCell runs one-layer vanilla models with input and output 1")
    self.model = model
    groups = (streams + 7) / 8
    self.streams = groups * 8
    let count = 2 * groups * model.hiddenSize
    let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 32, alignment: 64)
    storage = raw.bindMemory(to: SIMD8<Float>.self, capacity: count)
    storage.initialize(repeating: SIMD8(), count: count)
    current = storage
    next = storage + groups * model.hiddenSize
  }

  deinit { storage.deallocate() }

  /// Zeroes every stream's state.
  public func reset() {
    current.update(repeating: SIMD8(), count: groups * model.hiddenSize)
  }

  /// Zeroes one stream's state.
  public func reset(stream: Int) {
    precondition(stream >= 0 && stream < streams, "stream out of range")
    let H = model.hiddenSize
    let base = current + (stream / 8) * H
    for j in 0..<H { base[j][stream % 8] = 0 }
  }

  /// Advances every stream by one input: `inputs[s]` for stream s; writes each stream's readout to `outputs[s]`.
  /// Both buffers hold `streams` values.
  public func step(_ inputs: UnsafeBufferPointer<Float>, into outputs: UnsafeMutableBufferPointer<Float>) {
    precondition(inputs.count >= streams && outputs.count >= streams, "buffers must hold `streams` values")
    let m = model
    let H = m.hiddenSize
    // Scalar views of the kernel-layout weights: W_hh[i][j] is lane i % 8 of panel block (i / 8, j).
    guard case .rnn(let layer) = m.layers[0] else { preconditionFailure("BatchCell runs vanilla layers") }
    let w = UnsafePointer(scalars(layer.columns))
    let wih = UnsafePointer(scalars(layer.inputColumns))
    let bias = UnsafePointer(scalars(layer.bias))
    let fc = UnsafePointer(scalars(m.readoutRows))
    for g in 0..<groups {
      let x = UnsafeRawPointer(inputs.baseAddress! + 8 * g).loadUnaligned(as: SIMD8<Float>.self)
      let h = current + g * H
      let out = next + g * H
      var i = 0
      // Eight rows per pass: 8 broadcast loads + 1 load of h[j] feed 8 multiply-adds (four rows per pass were
      // load-bound: 5 loads per 4 multiply-adds).
      while i + 8 <= H {
        var a0 = multiplyAdd(SIMD8(repeating: wih[i]), x, SIMD8(repeating: bias[i]))
        var a1 = multiplyAdd(SIMD8(repeating: wih[i + 1]), x, SIMD8(repeating: bias[i + 1]))
        var a2 = multiplyAdd(SIMD8(repeating: wih[i + 2]), x, SIMD8(repeating: bias[i + 2]))
        var a3 = multiplyAdd(SIMD8(repeating: wih[i + 3]), x, SIMD8(repeating: bias[i + 3]))
        var a4 = multiplyAdd(SIMD8(repeating: wih[i + 4]), x, SIMD8(repeating: bias[i + 4]))
        var a5 = multiplyAdd(SIMD8(repeating: wih[i + 5]), x, SIMD8(repeating: bias[i + 5]))
        var a6 = multiplyAdd(SIMD8(repeating: wih[i + 6]), x, SIMD8(repeating: bias[i + 6]))
        var a7 = multiplyAdd(SIMD8(repeating: wih[i + 7]), x, SIMD8(repeating: bias[i + 7]))
        // Row block i / 8 lives in a panel of `width` blocks: its column j is `width` blocks after column j − 1.
        let block = i / 8
        let width = min(4, m.blocks - (block & ~3))
        var column = w + panelIndex(block: block, column: 0, rowBlocks: m.blocks, columns: H) * 8
        for j in 0..<H {
          let hj = h[j]
          a0 = multiplyAdd(SIMD8(repeating: column[0]), hj, a0)
          a1 = multiplyAdd(SIMD8(repeating: column[1]), hj, a1)
          a2 = multiplyAdd(SIMD8(repeating: column[2]), hj, a2)
          a3 = multiplyAdd(SIMD8(repeating: column[3]), hj, a3)
          a4 = multiplyAdd(SIMD8(repeating: column[4]), hj, a4)
          a5 = multiplyAdd(SIMD8(repeating: column[5]), hj, a5)
          a6 = multiplyAdd(SIMD8(repeating: column[6]), hj, a6)
          a7 = multiplyAdd(SIMD8(repeating: column[7]), hj, a7)
          column += width * 8
        }
        out[i] = fastTanh(a0)
        out[i + 1] = fastTanh(a1)
        out[i + 2] = fastTanh(a2)
        out[i + 3] = fastTanh(a3)
        out[i + 4] = fastTanh(a4)
        out[i + 5] = fastTanh(a5)
        out[i + 6] = fastTanh(a6)
        out[i + 7] = fastTanh(a7)
        i += 8
      }
      while i < H {
        var a = multiplyAdd(SIMD8(repeating: wih[i]), x, SIMD8(repeating: bias[i]))
        for j in 0..<H {
          let k = panelIndex(block: i / 8, column: j, rowBlocks: m.blocks, columns: H) * 8 + i % 8
          a = multiplyAdd(SIMD8(repeating: w[k]), h[j], a)
        }
        out[i] = fastTanh(a)
        i += 1
      }
      var y = SIMD8<Float>(repeating: m.readoutBias[0])
      for j in 0..<H { y = multiplyAdd(SIMD8(repeating: fc[j]), out[j], y) }
      UnsafeMutableRawPointer(outputs.baseAddress! + 8 * g).storeBytes(of: y, as: SIMD8<Float>.self)
    }
    swap(&current, &next)
  }
}
