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
//   kind and plan; `recur stream --streams` relies on it). By construction: the weights come from the same
//   `GateWeights` as the single-stream layout, every row is summed in the model's `KernelPlan.chains` chains (column
//   j feeds chain j mod chains, chain 0 from the row's initial value, a + b or (a + b) + (c + d)), the gate updates
//   are the cells' own generic `update` functions run on 16 streams' lanes, and the readout repeats `dot`'s eight
//   partial sums and tree. A chain (format version 5) runs its dense input layers and its readout one stream at a
//   time through RecurrentModel's own `runInputLayers` and `runReadout`, the functions RecurrentCell calls.
//
// MARK: Weights
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
  let chains: Int
  let weights: UnsafeMutablePointer<Float>  // [tiles][columns][8], columns in chain order

  /// Rows g·slot + i (slot = 8·nb) of a row-major [G·H][columns] matrix, zero past H in each gate.
  init(_ matrix: [Float], gates: Int, hidden: Int, columns: Int, chains: Int) {
    let nb = (hidden + 7) / 8
    tiles = gates * nb
    self.columns = columns
    self.chains = chains
    weights = .allocate(capacity: max(tiles * columns * 8, 1))
    weights.initialize(repeating: 0, count: max(tiles * columns * 8, 1))
    for t in 0..<tiles {
      let (g, block) = (t / nb, t % nb)
      var w = weights + t * columns * 8
      for chain in 0..<chains {
        for j in stride(from: chain, to: columns, by: chains) {
          for r in 0..<8 where 8 * block + r < hidden { w[r] = matrix[(g * hidden + 8 * block + r) * columns + j] }
          w += 8
        }
      }
    }
  }

  func deallocate() { weights.deallocate() }
}

/// One layer in batch layout: its `GateWeights` (GateWeights.swift), rows padded per gate to slot = 8·nb.
struct BatchLayer {
  let kind: CellKind
  let hidden: Int
  let slot: Int
  let inputCount: Int
  let input: BatchMatrix?  // [G·nb tiles][inputCount]  several inputs only
  let inputColumn: UnsafeMutablePointer<Float>?  // [G·slot] one input only: W_ih's column
  let recurrent: BatchMatrix  // [G·nb tiles][H]
  let inputBias: UnsafeMutablePointer<Float>  // [G·slot]
  let hiddenBias: UnsafeMutablePointer<Float>?  // [slot] GRU: b_hn

  init(_ w: GateWeights, kind: CellKind, chains: Int) {
    self.kind = kind
    let (H, G) = (w.hidden, w.gates)
    hidden = H
    let slot = (H + 7) / 8 * 8
    self.slot = slot
    inputCount = w.inputCount
    /// Gate rows [gates·H] padded per gate to `slot`.
    func rows(_ values: [Float], gates: Int) -> UnsafeMutablePointer<Float> {
      let p = UnsafeMutablePointer<Float>.allocate(capacity: gates * slot)
      p.initialize(repeating: 0, count: gates * slot)
      for g in 0..<gates { for i in 0..<H { p[g * slot + i] = values[g * H + i] } }
      return p
    }
    if w.inputCount == 1 {
      inputColumn = rows(w.inputWeights, gates: G)
      input = nil
    } else {
      inputColumn = nil
      input = BatchMatrix(w.inputWeights, gates: G, hidden: H, columns: w.inputCount, chains: chains)
    }
    recurrent = BatchMatrix(w.recurrentWeights, gates: G, hidden: H, columns: H, chains: chains)
    inputBias = rows(w.inputBias, gates: G)
    hiddenBias = w.hiddenBias.isEmpty ? nil : rows(w.hiddenBias, gates: 1)
  }

  func deallocate() {
    input?.deallocate()
    inputColumn?.deallocate()
    recurrent.deallocate()
    inputBias.deallocate()
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
  let blocks: Int  // ceil(H / 8): the readout's SIMD8 blocks
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
  let y: UnsafeMutablePointer<StreamLanes>  // [R] fc's rows (R = fcRows: the outputs unless the model is a chain)
  /// A chain's per-stream buffers (its dense layers and readout run one stream at a time, RecurrentModel's chain
  /// section, so each stream's outputs are a RecurrentCell's bit for bit).
  let chainBuffers: UnsafeMutablePointer<Float>  // [2][chainLanes] + [readoutLanes] one stream's top h; 64-aligned

  /// True for every model but a mixture readout: all kinds, stacked layers, any input and output size. (`recur
  /// stream --streams` feeds it for the identity and sequence-max-scale encodings; windowed encodings, mixtures
  /// among them, run one predictor per stream there.)
  public static func supports(_ model: RecurrentModel) -> Bool { !model.architecture.isMixture }

  public init(model: RecurrentModel, streams: Int) {
    precondition(streams >= 1, "at least one stream")
    precondition(Self.supports(model), "a mixture readout's logits are not predictions (use SequencePredictor)")
    self.model = model
    let a = model.architecture
    let nb = (a.hiddenSize + 7) / 8
    blocks = nb
    layerCount = a.layers
    hidden = a.hiddenSize
    groups = (streams + Self.lanes - 1) / Self.lanes
    self.streams = groups * Self.lanes
    layers = .allocate(capacity: a.layers)
    precondition(!model.file.tensorValues.isEmpty, "BatchCell is built from the model's tensors (retainingTensors)")
    for k in 0..<a.layers {
      (layers + k).initialize(
        to: BatchLayer(model.gateWeights(layer: k), kind: a.kind, chains: model.plan.chains))
    }
    readoutRows = .allocate(capacity: a.fcRows * nb * 8)
    readoutRows.initialize(repeating: 0, count: a.fcRows * nb * 8)
    let fcWeight = model.file.tensor(.fcWeight)
    for o in 0..<a.fcRows {
      for j in 0..<a.hiddenSize { readoutRows[o * nb * 8 + j] = fcWeight[o * a.hiddenSize + j] }
    }
    func lanes(_ count: Int) -> UnsafeMutablePointer<StreamLanes> {
      let p = UnsafeMutableRawPointer.allocate(
        byteCount: max(count, 1) * MemoryLayout<StreamLanes>.stride, alignment: 64
      ).bindMemory(to: StreamLanes.self, capacity: max(count, 1))
      p.initialize(repeating: StreamLanes(), count: max(count, 1))
      return p
    }
    h = lanes(groups * a.layers * a.hiddenSize)
    c = lanes(a.kind == .lstm ? groups * a.layers * a.hiddenSize : 0)
    x = lanes(a.cellInputSize)
    sums = lanes(a.kind.gates * nb * 8)
    spare = lanes(32)
    fresh = lanes(2 * nb * 8)
    freshCell = lanes(a.hiddenSize)
    y = lanes(a.fcRows)
    let chainFloats = 2 * model.chainLanes + model.readoutLanes
    chainBuffers = UnsafeMutableRawPointer.allocate(byteCount: 4 * chainFloats, alignment: 64)
      .bindMemory(to: Float.self, capacity: chainFloats)
    chainBuffers.initialize(repeating: 0, count: chainFloats)
    if model.initialStates != nil { reset() }
  }

  deinit {
    for k in 0..<layerCount { layers[k].deallocate() }
    layers.deallocate()
    readoutRows.deallocate()
    for p in [h, c, x, sums, spare, fresh, freshCell, y] { UnsafeMutableRawPointer(p).deallocate() }
    UnsafeMutableRawPointer(chainBuffers).deallocate()
  }

  var stateStride: Int { layerCount * hidden }  // lanes vectors per group, h and c alike
  var isLSTM: Bool { model.architecture.kind == .lstm }

  /// Makes room for at least `streams` streams, keeping every existing stream's state (new streams start at the
  /// initial state: zero, or the model's learned one).
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
    let oldGroups = groups
    groups = newGroups
    streams = newGroups * Self.lanes
    if model.initialStates != nil { for g in oldGroups..<newGroups { resetGroup(g) } }
  }

  /// Returns every stream to the initial state: zero, or the model's learned one (format version 5).
  public func reset() {
    h.update(repeating: StreamLanes(), count: groups * stateStride)
    if isLSTM { c.update(repeating: StreamLanes(), count: groups * stateStride) }
    if model.initialStates != nil { for g in 0..<groups { resetGroup(g) } }
  }

  /// Returns one stream to the initial state.
  public func reset(stream: Int) {
    precondition(stream >= 0 && stream < streams, "stream out of range")
    let (g, lane) = (stream / Self.lanes, stream % Self.lanes)
    for k in 0..<layerCount {
      for j in 0..<hidden {
        let at = g * stateStride + k * hidden + j
        h[at][lane] = initialValue(layer: k, unit: j, cell: false)
        if isLSTM { c[at][lane] = initialValue(layer: k, unit: j, cell: true) }
      }
    }
  }

  /// Group g's streams, every one at the learned initial state.
  private func resetGroup(_ g: Int) {
    for k in 0..<layerCount {
      for j in 0..<hidden {
        let at = g * stateStride + k * hidden + j
        h[at] = StreamLanes(repeating: initialValue(layer: k, unit: j, cell: false))
        if isLSTM { c[at] = StreamLanes(repeating: initialValue(layer: k, unit: j, cell: true)) }
      }
    }
  }

  /// The initial h (or c) of one unit of one layer: the model's learned state, or zero.
  private func initialValue(layer k: Int, unit j: Int, cell: Bool) -> Float {
    guard let initial = model.initialStates else { return 0 }
    return initial[(2 * k + (cell ? 1 : 0)) * model.paddedHidden + j]
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
    if !model.inputLayers.isEmpty {
      // A chain's input layers, one stream at a time (the same kernel as RecurrentCell), transposed into x.
      for k in 0..<L {
        let cellInput = model.runInputLayers(inputs + (base + k) * I, buffers: chainBuffers)
        for i in 0..<model.cellInputSize { x[i][k] = cellInput[i] }
      }
    } else if I == 1 {
      x[0] = UnsafeRawPointer(inputs + base).loadUnaligned(as: StreamLanes.self)
    } else {
      for k in 0..<L {
        for i in 0..<I { x[i][k] = inputs[(base + k) * I + i] }
      }
    }
    var layerInput = UnsafePointer(x)
    let nb = blocks
    for k in 0..<layerCount {
      let state = h + g * stateStride + k * hidden
      let cell = c + g * stateStride + k * hidden
      let out = fresh + (k & 1) * nb * 8
      stepLayer(layers[k], input: layerInput, h: UnsafePointer(state), c: UnsafePointer(cell), out: out)
      commit(out, into: state, count: hidden, active: active)
      if isLSTM { commit(freshCell, into: cell, count: hidden, active: active) }
      layerInput = UnsafePointer(out)
    }
    if model.isChain {
      // The chain's readout per stream, from its top h (zero past H, as one stream's state), as RecurrentCell runs it.
      let h = chainBuffers + 2 * model.chainLanes
      for k in 0..<L where active?[k] ?? true {
        for j in 0..<hidden { h[j] = layerInput[j][k] }
        model.runReadout(h: h, skip: inputs + (base + k) * I, buffers: chainBuffers, into: outputs + (base + k) * O)
      }
      return
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

  /// One layer of one group: the new h into `out` (`hidden` vectors), an LSTM's new c into `freshCell`. The sums
  /// follow GateWeights.swift's per-row definition; one function per kind, each kept apart (`@inline(never)`):
  /// inlined together, the gate updates became calls.
  @inline(__always)
  func stepLayer(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    c: UnsafePointer<StreamLanes>, out: UnsafeMutablePointer<StreamLanes>
  ) {
    let rows = layer.kind.gates * layer.slot
    for r in 0..<rows { sums[r] = StreamLanes(repeating: layer.inputBias[r]) }
    if let m = layer.input { batchAffine(m, v: input, out: sums, spare: spare) }  // t = inputBias + W_ih x
    switch layer.kind {
    case .rnn: stepRNN(layer, input: input, h: h, out: out)
    case .gru: stepGRU(layer, input: input, h: h, out: out)
    case .lstm: stepLSTM(layer, input: input, h: h, c: c, out: out)
    }
  }

  /// With one input, s = fma(w_ih, x, s) for every row after the recurrent sums (rows ..< `count`).
  @inline(__always)
  func addInputTerms(_ layer: BatchLayer, input: UnsafePointer<StreamLanes>, rows count: Int) {
    guard let w = layer.inputColumn else { return }
    let xv = input[0]
    for r in 0..<count { sums[r] = multiplyAdd(StreamLanes(repeating: w[r]), xv, sums[r]) }
  }

  /// h' = tanh(s) (with one input, the x term after the recurrent sums).
  @inline(never)
  func stepRNN(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    out: UnsafeMutablePointer<StreamLanes>
  ) {
    batchAffine(layer.recurrent, v: h, out: sums, spare: spare)
    addInputTerms(layer, input: input, rows: layer.hidden)
    for i in 0..<layer.hidden { out[i] = rationalTanh(sums[i]) }
  }

  /// GRU: the n rows' recurrent sums start from b_hn, and their input terms xn stay apart.
  @inline(never)
  func stepGRU(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    out: UnsafeMutablePointer<StreamLanes>
  ) {
    let slot = layer.slot
    let s = sums
    let hb = layer.hiddenBias!
    let xn = freshCell  // [H] the n rows' input terms; a GRU has no c
    if let w = layer.inputColumn {
      let xv = input[0]
      for i in 0..<layer.hidden { xn[i] = multiplyAdd(StreamLanes(repeating: w[2 * slot + i]), xv, s[2 * slot + i]) }
    } else {
      for i in 0..<layer.hidden { xn[i] = s[2 * slot + i] }
    }
    for i in 0..<slot { s[2 * slot + i] = StreamLanes(repeating: hb[i]) }
    batchAffine(layer.recurrent, v: h, out: s, spare: spare)
    addInputTerms(layer, input: input, rows: 2 * slot)
    for i in 0..<layer.hidden {
      out[i] = GRULayer.update(h: h[i], r: s[i], z: s[slot + i], n: s[2 * slot + i], xn: xn[i])
    }
  }

  /// LSTM: c' into `freshCell`, h' into `out`.
  @inline(never)
  func stepLSTM(
    _ layer: BatchLayer, input: UnsafePointer<StreamLanes>, h: UnsafePointer<StreamLanes>,
    c: UnsafePointer<StreamLanes>, out: UnsafeMutablePointer<StreamLanes>
  ) {
    let slot = layer.slot
    let s = sums
    batchAffine(layer.recurrent, v: h, out: s, spare: spare)
    addInputTerms(layer, input: input, rows: 4 * slot)
    for i in 0..<layer.hidden {
      (out[i], freshCell[i]) = LSTMLayer.update(
        c: c[i], i: s[i], f: s[slot + i], g: s[2 * slot + i], o: s[3 * slot + i])
    }
  }

  /// y[o] = `dot(fc.weight[o], h)` per stream: eight chains over the hidden units mod 8 (the first a plain product),
  /// then dot's tree, then the bias. `v` holds nb·8 vectors, zero past H (as the single-stream state's padding).
  @inline(__always)
  func readout(_ v: UnsafePointer<StreamLanes>) {
    let nb = blocks
    for o in 0..<model.fcRows {
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

/// out[r] += Σ_j W[r][j] · v[j] for every row of `m`, in the plan's chains (file comment): `out` holds 8·tiles
/// vectors, the initial values on entry and the sums on return; `spare` holds 8·chains.
@inline(__always)
func batchAffine(
  _ m: BatchMatrix, v: UnsafePointer<StreamLanes>, out: UnsafeMutablePointer<StreamLanes>,
  spare: UnsafeMutablePointer<StreamLanes>
) {
  let (n, k) = (m.columns, m.chains)
  for t in 0..<m.tiles {
    let o = out + 8 * t
    var w = UnsafePointer(m.weights + t * n * 8)
    w = chainPass(w, v, first: 0, end: n, stride: k, initial: UnsafePointer(o), into: spare)
    w = chainPass(w, v, first: 1, end: n, stride: k, initial: nil, into: spare + 8)
    if k == 2 {
      for r in 0..<8 { o[r] = spare[r] + spare[8 + r] }
    } else {
      w = chainPass(w, v, first: 2, end: n, stride: k, initial: nil, into: spare + 16)
      w = chainPass(w, v, first: 3, end: n, stride: k, initial: nil, into: spare + 24)
      for r in 0..<8 { o[r] = (spare[r] + spare[8 + r]) + (spare[16 + r] + spare[24 + r]) }
    }
  }
}

/// One chain of eight rows over columns first, first + stride, ... below `end`: the accumulators start from
/// `initial` (or zero; it may be `out`) and end in `out`. Returns the weights after the ones it read. Four rows per
/// pass over the columns (two passes): four 16-lane accumulators are eight 256-bit registers on AVX2, whose 16
/// registers eight such accumulators overflowed.
@inline(__always)
func chainPass(
  _ weights: UnsafePointer<Float>, _ v: UnsafePointer<StreamLanes>, first: Int, end: Int, stride: Int,
  initial: UnsafePointer<StreamLanes>?, into out: UnsafeMutablePointer<StreamLanes>
) -> UnsafePointer<Float> {
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
}
