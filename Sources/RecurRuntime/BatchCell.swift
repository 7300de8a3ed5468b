// Many independent streams at once: every cell kind, stacked layers, any input and output size, vectorised across
// streams instead of across hidden units. Use it when many sequences are processed together (`recur stream
// --streams`, `recur bench`'s batch figure); one sequence is faster through `RecurrentCell`.
//
// MARK: Lanes
//   Streams go in groups of `BatchCell.lanes` = 16: lane k of every SIMD16 belongs to stream 16g + k of group g (one
//   512-bit register on AVX-512, two 256-bit halves on AVX2). A step is, per group and per row r of each matrix,
//     sum[r] = initial[r] + Σ_j W[r][j] · v[j]       (W[r][j] one broadcast scalar, v[j] one vector of 16 streams)
//   so there is no horizontal reduction anywhere and the work is bound by multiply-add throughput rather than by the
//   latency of one step's chain: eight rows at a time keep eight independent accumulator chains in flight.
//
// MARK: The same answers as one stream, bit for bit
//   Per stream, a step performs exactly the floating-point operations of `RecurrentCell.step`, in the same order, so
//   every stream's readouts equal those of a `RecurrentCell` fed the same inputs (BatchCellTests checks it for every
//   kind; `recur stream --streams` relies on it). The single-stream kernels split each row's sum over the columns
//   into chains that are added at the end (Kernels/ColumnKernel.swift):
//   - column kernel (vanilla cells; every cell's input matrix when it has several inputs): 2 chains (even and odd
//     columns) for row blocks in full panels of four blocks (4 with RECUR_WIDE_REGISTERS up to 64 columns), 4 chains (columns mod 4, leftover columns in the first)
//     for the last panel's blocks; summed a + b and (a + b) + (c + d);
//   - gate panels (GRU, LSTM recurrent sums): 2 chains; with one input, W_ih x is added after the sum;
//   - the readout (`dot`): 8 chains (hidden units mod 8, the first a plain product) and `dot`'s tree sum.
//   `chainCount` and `readout` mirror them: a change to a single-stream kernel's order must be made here too.
//
// MARK: Weights (copied from the model's kernel layout at init, so GRU/LSTM halving and padding come with them)
//   BatchMatrix [G·nb tiles][C][8]: tile t = 8 rows (gate t / nb, hidden block t % nb), its C columns in chain order
//   (chain 0's columns, then chain 1's, ...), so a pass reads it from start to end, every weight one broadcast
//   operand of a multiply-add. Rows past H are zero.
//
// MARK: State and scratch
//   h [groups][layers][H] SIMD16: h[j] of streams 16g..16g+15;  c [groups][layers][H] (LSTM)
//   scratch for one group: x [I], sums [G·nb·8], spare [32], fresh h [2][nb·8] (zero padded), fresh c [H], y [O].
//   A step computes a group's new state into scratch and then commits it, only into active lanes when the caller
//   passes `active`. Allocation only in `init` and `reserve(streams:)`.

typealias StreamLanes = SIMD16<Float>

/// One matrix in batch layout (see the file comment).
struct BatchMatrix {
  let tiles: Int
  let columns: Int
  let weights: UnsafeMutablePointer<Float>  // [tiles][columns][8], columns in chain order
  let chains: UnsafeMutablePointer<Int>  // [tiles] 2 or 4

  /// `weight(row, column)` for rows 0 ..< 8·tiles; `chains(tile)` the single-stream kernel's chain count there.
  init(tiles: Int, columns: Int, chains: (Int) -> Int, weight: (_ row: Int, _ column: Int) -> Float) {
    self.tiles = tiles
    self.columns = columns
    weights = .allocate(capacity: max(tiles * columns * 8, 1))
    self.chains = .allocate(capacity: max(tiles, 1))
    for t in 0..<tiles {
      let k = chains(t)
      self.chains[t] = k
      var w = weights + t * columns * 8
      for j in chainOrder(columns: columns, chains: k) {
        for r in 0..<8 { w[r] = weight(8 * t + r, j) }
        w += 8
      }
    }
  }

  func deallocate() {
    weights.deallocate()
    chains.deallocate()
  }
}

/// The columns of a row in the order its chains visit them: chain k takes columns k, k + K, ... below the last
/// multiple of K, and chain 0 then takes the leftover columns.
func chainOrder(columns: Int, chains k: Int) -> [Int] {
  let full = columns & ~(k - 1)
  var order: [Int] = []
  for chain in 0..<k {
    order += stride(from: chain, to: full, by: k)
    if chain == 0 { order += full..<columns }
  }
  return order
}

/// Chains of the column kernel for row block `block` of a matrix of `rowBlocks` blocks and `columns` columns: 2 in
/// full panels of four blocks (4 with wide registers up to 64 columns, where those panels go as 16-lane pairs), 4 in
/// the last panel (ColumnKernel.swift).
func chainCount(block: Int, rowBlocks: Int, columns: Int) -> Int {
  guard block < rowBlocks & ~3 else { return 4 }
  #if RECUR_WIDE_REGISTERS
    return columns <= 64 ? 4 : 2
  #else
    return 2
  #endif
}

/// One layer in batch layout.
struct BatchLayer {
  let kind: CellKind
  let hidden: Int
  let blocks: Int
  let inputCount: Int
  let input: BatchMatrix?  // [G·nb tiles][inputCount]  several inputs only
  let inputColumn: UnsafeMutablePointer<Float>?  // [G·nb·8] one input only: W_ih's column
  let recurrent: BatchMatrix  // [G·nb tiles][H]
  let bias: UnsafeMutablePointer<Float>  // [G·nb·8] the layer's `bias` (vanilla, LSTM) or `inputBias` (GRU)
  let hiddenBias: UnsafeMutablePointer<Float>?  // [nb·8] GRU: b_hn

  init(_ layer: Layer, kind: CellKind) {
    self.kind = kind
    let H: Int
    let nb: Int
    let inputs: Int
    let gates = kind.gates
    // Scalar views of the kernel layout: (matrix, index of element (row, column)) per role.
    let inputWeights: UnsafeMutablePointer<Float>
    let inputIndex: (Int, Int) -> Int
    let hiddenWeights: UnsafeMutablePointer<Float>
    let hiddenIndex: (Int, Int) -> Int
    let biasLanes: UnsafeMutablePointer<Float>
    var hiddenBiasLanes: UnsafeMutablePointer<Float>? = nil
    let hiddenChains: (Int) -> Int
    switch layer {
    case .rnn(let l):
      (H, nb, inputs) = (l.hidden, l.blocks, l.inputCount)
      (inputWeights, hiddenWeights, biasLanes) = (scalars(l.inputColumns), scalars(l.columns), scalars(l.bias))
      inputIndex = { [nb, inputs] r, j in
        panelIndex(block: r / 8, column: j, rowBlocks: nb, columns: inputs) * 8 + r % 8
      }
      hiddenIndex = { [nb, H] r, j in panelIndex(block: r / 8, column: j, rowBlocks: nb, columns: H) * 8 + r % 8 }
      hiddenChains = { [nb, H] t in chainCount(block: t, rowBlocks: nb, columns: H) }
    case .gru(let l):
      (H, nb, inputs) = (l.hidden, l.blocks, l.inputCount)
      (inputWeights, hiddenWeights, biasLanes) = (scalars(l.inputColumns), scalars(l.panels), scalars(l.inputBias))
      hiddenBiasLanes = scalars(l.hiddenBias)
      inputIndex = { [nb, inputs] r, j in
        panelIndex(block: r / 8, column: j, rowBlocks: 3 * nb, columns: inputs) * 8 + r % 8
      }
      hiddenIndex = { [nb, H] r, j in
        let (gate, i) = (r / (8 * nb), r % (8 * nb))
        return pairedPanelIndex(gate: gate, block: i / 8, column: j, gates: 3, columns: H, blocks: nb) * 8 + i % 8
      }
      hiddenChains = { _ in 2 }
    case .lstm(let l):
      (H, nb, inputs) = (l.hidden, l.blocks, l.inputCount)
      (inputWeights, hiddenWeights, biasLanes) = (scalars(l.inputColumns), scalars(l.panels), scalars(l.bias))
      inputIndex = { [nb, inputs] r, j in
        panelIndex(block: r / 8, column: j, rowBlocks: 4 * nb, columns: inputs) * 8 + r % 8
      }
      hiddenIndex = { [H] r, j in
        let (gate, i) = (r / (8 * nb), r % (8 * nb))
        return gatePanelIndex(gate: gate, block: i / 8, column: j, gates: 4, columns: H) * 8 + i % 8
      }
      hiddenChains = { _ in 2 }
    }
    (hidden, blocks, inputCount) = (H, nb, inputs)
    let rows = gates * nb * 8
    if inputs == 1 {
      // One input: the kernel layout's input column is plain blocks.
      let column = UnsafeMutablePointer<Float>.allocate(capacity: rows)
      column.initialize(from: inputWeights, count: rows)
      inputColumn = column
      input = nil
    } else {
      inputColumn = nil
      input = BatchMatrix(
        tiles: gates * nb, columns: inputs, chains: { chainCount(block: $0, rowBlocks: gates * nb, columns: inputs) },
        weight: { inputWeights[inputIndex($0, $1)] })
    }
    recurrent = BatchMatrix(
      tiles: gates * nb, columns: H, chains: hiddenChains, weight: { hiddenWeights[hiddenIndex($0, $1)] })
    bias = .allocate(capacity: rows)
    bias.initialize(from: biasLanes, count: rows)
    if let hiddenBiasLanes {
      let b = UnsafeMutablePointer<Float>.allocate(capacity: nb * 8)
      b.initialize(from: hiddenBiasLanes, count: nb * 8)
      hiddenBias = b
    } else {
      hiddenBias = nil
    }
  }

  func deallocate() {
    input?.deallocate()
    inputColumn?.deallocate()
    recurrent.deallocate()
    bias.deallocate()
    hiddenBias?.deallocate()
  }
}

public final class BatchCell {
  /// Streams per group: lane k of a group's vectors is stream 16g + k.
  public static let lanes = 16

  public let model: RecurrentModel
  /// Number of streams (a multiple of `lanes`; `init` and `reserve` round up).
  public internal(set) var streams: Int
  var groups: Int
  let layerCount: Int
  let hidden: Int
  let layers: UnsafeMutablePointer<BatchLayer>  // [layers]
  let readoutRows: UnsafeMutablePointer<Float>  // [O][nb·8] fc.weight, zero padded
  var h: UnsafeMutablePointer<StreamLanes>  // [groups][layers][H]: h[j] of streams 16g..16g+15
  var c: UnsafeMutablePointer<StreamLanes>  // [groups][layers][H] (LSTM; otherwise unused)
  // Scratch for the group being stepped.
  let x: UnsafeMutablePointer<StreamLanes>  // [I] the group's inputs, transposed
  let sums: UnsafeMutablePointer<StreamLanes>  // [G·nb·8] row sums, initial values on entry
  let spare: UnsafeMutablePointer<StreamLanes>  // [32] chain partial sums of one tile
  let fresh: UnsafeMutablePointer<StreamLanes>  // [2][nb·8] each layer's new h (alternating), zero padded
  let freshCell: UnsafeMutablePointer<StreamLanes>  // [H] an LSTM layer's new c
  let y: UnsafeMutablePointer<StreamLanes>  // [O] readouts

  /// True for every model but a mixture readout: all kinds, stacked layers, any input and output size. (`recur
  /// stream --streams` feeds it for the identity and sequence-max-scale encodings; windowed encodings, mixtures
  /// among them, run one predictor per stream there.)
  public static func supports(_ model: RecurrentModel) -> Bool { !model.architecture.isMixture }

  public init(model: RecurrentModel, streams: Int) {
    precondition(streams >= 1, "at least one stream")
    precondition(Self.supports(model), "a mixture readout's logits are not predictions (use SequencePredictor)")
    self.model = model
    let a = model.architecture
    let nb = model.blocks
    layerCount = a.layers
    hidden = a.hiddenSize
    groups = (streams + Self.lanes - 1) / Self.lanes
    self.streams = groups * Self.lanes
    layers = .allocate(capacity: a.layers)
    for k in 0..<a.layers { (layers + k).initialize(to: BatchLayer(model.layers[k], kind: a.kind)) }
    readoutRows = .allocate(capacity: a.outputSize * nb * 8)
    readoutRows.initialize(from: scalars(model.readoutRows), count: a.outputSize * nb * 8)
    func lanes(_ count: Int) -> UnsafeMutablePointer<StreamLanes> {
      let p = UnsafeMutableRawPointer.allocate(
        byteCount: max(count, 1) * MemoryLayout<StreamLanes>.stride, alignment: 64
      ).bindMemory(to: StreamLanes.self, capacity: max(count, 1))
      p.initialize(repeating: StreamLanes(), count: max(count, 1))
      return p
    }
    h = lanes(groups * a.layers * a.hiddenSize)
    c = lanes(a.kind == .lstm ? groups * a.layers * a.hiddenSize : 0)
    x = lanes(a.inputSize)
    sums = lanes(a.kind.gates * nb * 8)
    spare = lanes(32)
    fresh = lanes(2 * nb * 8)
    freshCell = lanes(a.hiddenSize)
    y = lanes(a.outputSize)
  }

  deinit {
    for k in 0..<layerCount { layers[k].deallocate() }
    layers.deallocate()
    readoutRows.deallocate()
    for p in [h, c, x, sums, spare, fresh, freshCell, y] { UnsafeMutableRawPointer(p).deallocate() }
  }

  var stateStride: Int { layerCount * hidden }  // lanes vectors per group, h and c alike
  var isLSTM: Bool { model.architecture.kind == .lstm }

  /// Makes room for at least `streams` streams, keeping every existing stream's state (new streams start at zero).
  /// Allocates; call it where allocation is acceptable (e.g. when a new stream appears), never per step.
  public func reserve(streams wanted: Int) {
    guard wanted > streams else { return }
    let newGroups = (wanted + Self.lanes - 1) / Self.lanes
    func grown(_ old: UnsafeMutablePointer<StreamLanes>, used: Bool) -> UnsafeMutablePointer<StreamLanes> {
      guard used else { return old }
      let count = newGroups * stateStride
      let p = UnsafeMutableRawPointer.allocate(byteCount: count * MemoryLayout<StreamLanes>.stride, alignment: 64)
        .bindMemory(to: StreamLanes.self, capacity: count)
      p.initialize(repeating: StreamLanes(), count: count)
      p.update(from: old, count: groups * stateStride)
      UnsafeMutableRawPointer(old).deallocate()
      return p
    }
    h = grown(h, used: true)
    c = grown(c, used: isLSTM)
    groups = newGroups
    streams = newGroups * Self.lanes
  }

  /// Zeroes every stream's state.
  public func reset() {
    h.update(repeating: StreamLanes(), count: groups * stateStride)
    if isLSTM { c.update(repeating: StreamLanes(), count: groups * stateStride) }
  }

  /// Zeroes one stream's state.
  public func reset(stream: Int) {
    precondition(stream >= 0 && stream < streams, "stream out of range")
    let (g, lane) = (stream / Self.lanes, stream % Self.lanes)
    for j in 0..<stateStride {
      h[g * stateStride + j][lane] = 0
      if isLSTM { c[g * stateStride + j][lane] = 0 }
    }
  }

  /// Advances every stream by one time step: `inputs[s·I ..< (s+1)·I]` for stream s; writes its readout to
  /// `outputs[s·O ..< (s+1)·O]`. Both buffers hold `streams` time steps.
  public func step(_ inputs: UnsafeBufferPointer<Float>, into outputs: UnsafeMutableBufferPointer<Float>) {
    precondition(
      inputs.count >= streams * model.inputSize && outputs.count >= streams * model.outputSize,
      "buffers must hold `streams` time steps")
    for g in 0..<groups { step(group: g, inputs: inputs.baseAddress!, outputs: outputs.baseAddress!, active: nil) }
  }

  /// Advances only the streams with `active[s]` true (the others keep their state, and their outputs are not
  /// written); groups with no active stream cost nothing. `inputs` and `outputs` as in `step(_:into:)`, `active`
  /// holds `streams` flags.
  public func step(
    _ inputs: UnsafePointer<Float>, into outputs: UnsafeMutablePointer<Float>, active: UnsafePointer<Bool>
  ) {
    for g in 0..<groups { step(group: g, inputs: inputs, outputs: outputs, activeFlags: active) }
  }

  /// The same for the listed groups only (group g holds streams 16g ..< 16g + 16; each listed at most once, and no
  /// stream outside them active): a round that steps a few of many streams costs what those streams cost, not a
  /// pass over every group (`recur stream --streams` with 65,536 names and one busy stream).
  public func step(
    _ inputs: UnsafePointer<Float>, into outputs: UnsafeMutablePointer<Float>, active: UnsafePointer<Bool>,
    groups list: UnsafeBufferPointer<Int>
  ) {
    for g in list {
      precondition(g >= 0 && g < groups, "group out of range")
      step(group: g, inputs: inputs, outputs: outputs, activeFlags: active)
    }
  }

  /// Steps group `g`'s active streams, if it has any.
  private func step(
    group g: Int, inputs: UnsafePointer<Float>, outputs: UnsafeMutablePointer<Float>, activeFlags: UnsafePointer<Bool>
  ) {
    var mask = SIMDMask<SIMD16<Int32>>()
    var any = false
    for k in 0..<Self.lanes where activeFlags[g * Self.lanes + k] {
      mask[k] = true
      any = true
    }
    if any { step(group: g, inputs: inputs, outputs: outputs, active: mask) }
  }

  // MARK: One group

  func step(
    group g: Int, inputs: UnsafePointer<Float>, outputs: UnsafeMutablePointer<Float>,
    active: SIMDMask<SIMD16<Int32>>?
  ) {
    let (I, O, L) = (model.inputSize, model.outputSize, Self.lanes)
    let base = g * L
    if I == 1 {
      x[0] = UnsafeRawPointer(inputs + base).loadUnaligned(as: StreamLanes.self)
    } else {
      for k in 0..<L {
        for i in 0..<I { x[i][k] = inputs[(base + k) * I + i] }
      }
    }
    var layerInput = UnsafePointer(x)
    let nb = model.blocks
    for k in 0..<layerCount {
      let state = h + g * stateStride + k * hidden
      let cell = c + g * stateStride + k * hidden
      let out = fresh + (k & 1) * nb * 8
      stepLayer(layers[k], input: layerInput, h: UnsafePointer(state), c: UnsafePointer(cell), out: out)
      commit(out, into: state, count: hidden, active: active)
      if isLSTM { commit(freshCell, into: cell, count: hidden, active: active) }
      layerInput = UnsafePointer(out)
    }
    readout(layerInput)
    if O == 1 {
      if active == nil {
        UnsafeMutableRawPointer(outputs + base).storeBytes(of: y[0], as: StreamLanes.self)
      } else {
        for k in 0..<L where active![k] { outputs[base + k] = y[0][k] }
      }
    } else {
      for k in 0..<L where active?[k] ?? true {
        for o in 0..<O { outputs[(base + k) * O + o] = y[o][k] }
      }
    }
  }

  @inline(__always)
  func commit(
    _ new: UnsafeMutablePointer<StreamLanes>, into state: UnsafeMutablePointer<StreamLanes>, count: Int,
    active: SIMDMask<SIMD16<Int32>>?
  ) {
    if let active {
      for i in 0..<count { state[i].replace(with: new[i], where: active) }
    } else {
      state.update(from: new, count: count)
    }
  }

  /// One layer of one group: the new h into `out` (`hidden` vectors), an LSTM's new c into `freshCell`. One
  /// function per kind, each kept apart (`@inline(never)`): inlined together, the gate updates became calls.
  @inline(__always)
  func stepLayer(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    c: UnsafePointer<StreamLanes>, out: UnsafeMutablePointer<StreamLanes>
  ) {
    let rows = layer.kind.gates * layer.blocks * 8
    if layer.kind != .rnn || layer.input != nil {  // a one-input vanilla layer starts from fma(w_ih, x, bias)
      for r in 0..<rows { sums[r] = StreamLanes(repeating: layer.bias[r]) }
    }
    if let m = layer.input { batchAffine(m, v: input, out: sums, spare: spare) }  // bias + W_ih x
    switch layer.kind {
    case .rnn: stepRNN(layer, input: input, h: h, out: out)
    case .gru: stepGRU(layer, input: input, h: h, out: out)
    case .lstm: stepLSTM(layer, input: input, h: h, c: c, out: out)
    }
  }

  /// h' = tanh(sum): with one input, fma(w_ih, x, bias) starts the sum (the column kernel's `start`).
  @inline(never)
  func stepRNN(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    out: UnsafeMutablePointer<StreamLanes>
  ) {
    let s = sums
    if let w = layer.inputColumn {
      let xv = input[0]
      for r in 0..<layer.blocks * 8 {
        s[r] = multiplyAdd(StreamLanes(repeating: w[r]), xv, StreamLanes(repeating: layer.bias[r]))
      }
    }
    batchAffine(layer.recurrent, v: h, out: s, spare: spare)
    for i in 0..<layer.hidden { out[i] = fastTanh(s[i]) }
  }

  /// GRU: r and z sums start from their input terms (several inputs) or biases (one input: W_ih x added after);
  /// the n gate's recurrent sum starts from b_hn and its input term xn stays apart (it sits outside r ⊙ ...).
  @inline(never)
  func stepGRU(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    out: UnsafeMutablePointer<StreamLanes>
  ) {
    let slot = layer.blocks * 8
    let s = sums
    let hb = layer.hiddenBias!
    let xn = freshCell  // [H] the n gate's input terms (several inputs); a GRU has no c
    if layer.input != nil { for i in 0..<layer.hidden { xn[i] = s[2 * slot + i] } }
    for i in 0..<slot { s[2 * slot + i] = StreamLanes(repeating: hb[i]) }
    batchAffine(layer.recurrent, v: h, out: s, spare: spare)
    let half = StreamLanes(repeating: 0.5)
    @inline(__always) func update(_ i: Int, _ sr: StreamLanes, _ sz: StreamLanes, _ xn: StreamLanes) {
      // GRU.update, lane for lane: r and z from halved sums, n = tanh(r ⊙ sn + xn), h' = n + z ⊙ (h − n).
      let r = multiplyAdd(half, fastTanh(sr), half)
      let z = multiplyAdd(half, fastTanh(sz), half)
      let n = fastTanh(multiplyAdd(r, s[2 * slot + i], xn))
      out[i] = multiplyAdd(z, h[i] - n, n)
    }
    guard let w = layer.inputColumn else {
      for i in 0..<layer.hidden { update(i, s[i], s[slot + i], xn[i]) }
      return
    }
    let xv = input[0]
    for i in 0..<layer.hidden {
      let sr = multiplyAdd(StreamLanes(repeating: w[i]), xv, s[i])
      let sz = multiplyAdd(StreamLanes(repeating: w[slot + i]), xv, s[slot + i])
      let x = multiplyAdd(StreamLanes(repeating: w[2 * slot + i]), xv, StreamLanes(repeating: layer.bias[2 * slot + i]))
      update(i, sr, sz, x)
    }
  }

  /// LSTM.update (the block version), lane for lane; with one input, W_ih x joins after the recurrent sum.
  @inline(never)
  func stepLSTM(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    c: UnsafePointer<StreamLanes>, out: UnsafeMutablePointer<StreamLanes>
  ) {
    let slot = layer.blocks * 8
    let s = sums
    batchAffine(layer.recurrent, v: h, out: s, spare: spare)
    if let w = layer.inputColumn {
      let xv = input[0]
      for r in 0..<4 * slot { s[r] = multiplyAdd(StreamLanes(repeating: w[r]), xv, s[r]) }
    }
    let half = StreamLanes(repeating: 0.5)
    let one = StreamLanes(repeating: 1)
    for i in 0..<layer.hidden {
      let gi = multiplyAdd(half, fastTanh(s[i]), half)
      let gf = multiplyAdd(half, fastTanh(s[slot + i]), half)
      let gg = multiplyAdd(fastTanh(s[2 * slot + i]), one, StreamLanes())
      let go = multiplyAdd(fastTanh(s[3 * slot + i]), half, half)
      let cNext = multiplyAdd(gf, c[i], gi * gg)
      freshCell[i] = cNext
      out[i] = go * fastTanh(cNext)
    }
  }

  /// y[o] = `dot(fc.weight[o], h)` per stream: eight chains over the hidden units mod 8 (the first a plain product),
  /// then dot's tree, then the bias. `v` holds nb·8 vectors, zero past H (as the single-stream state's padding).
  @inline(__always)
  func readout(_ v: UnsafePointer<StreamLanes>) {
    let nb = model.blocks
    for o in 0..<model.outputSize {
      let w = readoutRows + o * nb * 8
      @inline(__always) func wv(_ j: Int) -> StreamLanes { StreamLanes(repeating: w[j]) }
      var a0 = wv(0) * v[0]
      var a1 = wv(1) * v[1]
      var a2 = wv(2) * v[2]
      var a3 = wv(3) * v[3]
      var a4 = wv(4) * v[4]
      var a5 = wv(5) * v[5]
      var a6 = wv(6) * v[6]
      var a7 = wv(7) * v[7]
      var j = 8
      while j < nb * 8 {
        a0 = multiplyAdd(wv(j), v[j], a0)
        a1 = multiplyAdd(wv(j + 1), v[j + 1], a1)
        a2 = multiplyAdd(wv(j + 2), v[j + 2], a2)
        a3 = multiplyAdd(wv(j + 3), v[j + 3], a3)
        a4 = multiplyAdd(wv(j + 4), v[j + 4], a4)
        a5 = multiplyAdd(wv(j + 5), v[j + 5], a5)
        a6 = multiplyAdd(wv(j + 6), v[j + 6], a6)
        a7 = multiplyAdd(wv(j + 7), v[j + 7], a7)
        j += 8
      }
      let (t0, t1, t2, t3) = (a0 + a4, a1 + a5, a2 + a6, a3 + a7)
      let (u0, u1) = (t0 + t2, t1 + t3)
      y[o] = (u0 + u1) + StreamLanes(repeating: model.readoutBias[o])
    }
  }
}

// MARK: - The batch affine kernel

/// out[r] += Σ_j W[r][j] · v[j] for every row of `m`, chain by chain in the single-stream order (file comment):
/// `out` holds 8·tiles vectors, the initial values on entry and the sums on return; `spare` holds 32.
@inline(__always)
func batchAffine(
  _ m: BatchMatrix, v: UnsafePointer<StreamLanes>, out: UnsafeMutablePointer<StreamLanes>,
  spare: UnsafeMutablePointer<StreamLanes>
) {
  let n = m.columns
  for t in 0..<m.tiles {
    let k = m.chains[t]
    let o = out + 8 * t
    let full = n & ~(k - 1)
    var w = UnsafePointer(m.weights + t * n * 8)
    w = chainPass(w, v, first: 0, end: full, stride: k, initial: UnsafePointer(o), into: spare)
    if full < n {  // chain 0 goes on over the leftover columns (through memory: exact, so the same sums)
      w = chainPass(w, v, first: full, end: n, stride: 1, initial: UnsafePointer(spare), into: spare)
    }
    w = chainPass(w, v, first: 1, end: full, stride: k, initial: nil, into: spare + 8)
    if k == 2 {
      for r in 0..<8 { o[r] = spare[r] + spare[8 + r] }
    } else {
      w = chainPass(w, v, first: 2, end: full, stride: k, initial: nil, into: spare + 16)
      w = chainPass(w, v, first: 3, end: full, stride: k, initial: nil, into: spare + 24)
      for r in 0..<8 { o[r] = (spare[r] + spare[8 + r]) + (spare[16 + r] + spare[24 + r]) }
    }
  }
}

/// One chain of eight rows over columns first, first + stride, ... below `end`: the accumulators start from
/// `initial` (or zero; it may be `out`) and end in `out`. Returns the weights after the ones it read. Four rows per pass
/// over the columns (two passes): four SIMD16 accumulators are eight 256-bit registers on AVX2, whose 16 registers
/// eight SIMD16 accumulators overflowed; with RECUR_WIDE_REGISTERS (32 registers) one eight-row pass.
@inline(__always)
func chainPass(
  _ weights: UnsafePointer<Float>, _ v: UnsafePointer<StreamLanes>, first: Int, end: Int, stride: Int,
  initial: UnsafePointer<StreamLanes>?, into out: UnsafeMutablePointer<StreamLanes>
) -> UnsafePointer<Float> {
  #if RECUR_WIDE_REGISTERS
    // 32 vector registers: the eight rows in one pass (eight independent chains in flight); the same operations
    // per row in the same order as the two-pass loop below.
    var a0 = initial?[0] ?? StreamLanes()
    var a1 = initial?[1] ?? StreamLanes()
    var a2 = initial?[2] ?? StreamLanes()
    var a3 = initial?[3] ?? StreamLanes()
    var a4 = initial?[4] ?? StreamLanes()
    var a5 = initial?[5] ?? StreamLanes()
    var a6 = initial?[6] ?? StreamLanes()
    var a7 = initial?[7] ?? StreamLanes()
    var w = weights
    var j = first
    while j < end {
      let hv = v[j]
      a0 = multiplyAdd(StreamLanes(repeating: w[0]), hv, a0)
      a1 = multiplyAdd(StreamLanes(repeating: w[1]), hv, a1)
      a2 = multiplyAdd(StreamLanes(repeating: w[2]), hv, a2)
      a3 = multiplyAdd(StreamLanes(repeating: w[3]), hv, a3)
      a4 = multiplyAdd(StreamLanes(repeating: w[4]), hv, a4)
      a5 = multiplyAdd(StreamLanes(repeating: w[5]), hv, a5)
      a6 = multiplyAdd(StreamLanes(repeating: w[6]), hv, a6)
      a7 = multiplyAdd(StreamLanes(repeating: w[7]), hv, a7)
      w += 8
      j &+= stride
    }
    (out[0], out[1], out[2], out[3]) = (a0, a1, a2, a3)
    (out[4], out[5], out[6], out[7]) = (a4, a5, a6, a7)
    return w
  #else
    var after = weights
    for half in 0..<2 {
      let r = 4 * half
      var a0 = initial?[r] ?? StreamLanes()
      var a1 = initial?[r + 1] ?? StreamLanes()
      var a2 = initial?[r + 2] ?? StreamLanes()
      var a3 = initial?[r + 3] ?? StreamLanes()
      var w = weights + r
      var j = first
      while j < end {
        let hv = v[j]
        a0 = multiplyAdd(StreamLanes(repeating: w[0]), hv, a0)
        a1 = multiplyAdd(StreamLanes(repeating: w[1]), hv, a1)
        a2 = multiplyAdd(StreamLanes(repeating: w[2]), hv, a2)
        a3 = multiplyAdd(StreamLanes(repeating: w[3]), hv, a3)
        w += 8
        j &+= stride
      }
      (out[r], out[r + 1], out[r + 2], out[r + 3]) = (a0, a1, a2, a3)
      after = w - r
    }
    return after
  #endif
}
