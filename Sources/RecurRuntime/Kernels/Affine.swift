// The affine primitive: a matrix in panel layout times a vector, added to initial values, summed in the plan's
// chains (KernelPlan.swift). Every matrix of every cell goes through `tileSums`: the gated cells call it per hidden
// vector and update their state from the sums in registers; the vanilla cell and the several-input terms call
// `affine`, which runs it over every tile of a matrix.
//
// Why this shape (measured in earlier releases, and again for KernelPlan): column-major "broadcast v[j], multiply-add
// column j into register accumulators" has no horizontal sums and beat row-major dot products by 1.8x at H = 16 ... 64;
// a tile's columns stored one after the other (panels) are streamed from start to end (plain column-major storage
// jumped a whole column height per column, and at H = 256 ran at half the speed); two or four independent chains per
// row hide the multiply-add latency.

/// Where each weight vector of a matrix lives (see the file comment of KernelPlan.swift for the arithmetic).
///
/// Rows: `gates` gates × H hidden units; gate g's hidden unit i is lane i % width of vector (g, i / width).
/// Tiles: runs of `tileVectors` consecutive hidden vectors (the last may be shorter) with all their gates. The tile
/// of vectors q0 ..< q0 + t stores, for each column j, its [G][t] vectors:
///   index(g, q, j) = q0·G·C + (j·G + g)·t + (q − q0)          (in vectors)
/// so a pass over one tile reads its panel from start to end and keeps its G·t sums in registers (G·t ≤ 4).
struct PanelLayout {
  let gates: Int
  let vectors: Int  // hidden vectors per gate
  let tileVectors: Int
  let columns: Int

  /// Vectors of the whole matrix.
  var count: Int { gates * vectors * columns }

  /// Hidden vectors in the tile that starts at `start`.
  @inline(__always)
  func tileWidth(start: Int) -> Int { min(tileVectors, vectors - start) }

  /// Index, in vectors, of the weights of gate `gate`, hidden vector `q`, column `j`.
  func index(gate: Int, vector q: Int, column j: Int) -> Int {
    let start = q - q % tileVectors
    let t = tileWidth(start: start)
    return start * gates * columns + (j * gates + gate) * t + (q - start)
  }

  /// Copies a row-major matrix [gates·hidden][columns] into this layout at `width` lanes per vector: row g·H + i,
  /// column j lands in lane i % width of vector `index(g, i / width, j)`. Padding lanes stay as they are (zero).
  func place(_ matrix: [Float], hidden: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
    precondition(matrix.count == gates * hidden * columns, "matrix size")
    for g in 0..<gates {
      for i in 0..<hidden {
        for j in 0..<columns {
          out[index(gate: g, vector: i / width, column: j) * width + i % width] = matrix[(g * hidden + i) * columns + j]
        }
      }
    }
  }
}

/// Copies gate rows [gates·hidden] (a bias, or a one-column matrix) into [gates][vectors·width] padded slots.
func copyRows(_ rows: [Float], hidden: Int, gates: Int, slot: Int, into out: UnsafeMutablePointer<Float>) {
  precondition(rows.count == gates * hidden, "row count")
  for g in 0..<gates {
    for i in 0..<hidden { out[g * slot + i] = rows[g * hidden + i] }
  }
}

// MARK: - The sums of one tile

/// Up to four row vectors' sums, kept in registers (a tile holds G·t ≤ 4 vectors).
struct Sums<V: FloatVector> {
  var s0 = V()
  var s1 = V()
  var s2 = V()
  var s3 = V()

  /// s_k += column[k] · h for the first `rows` sums.
  @_transparent
  mutating func add(_ column: UnsafePointer<V>, _ h: V, rows: Int) {
    s0 = multiplyAdd(column[0], h, s0)
    if rows > 1 { s1 = multiplyAdd(column[1], h, s1) }
    if rows > 2 { s2 = multiplyAdd(column[2], h, s2) }
    if rows > 3 { s3 = multiplyAdd(column[3], h, s3) }
  }

  @_transparent
  func plus(_ other: Sums, rows: Int) -> Sums {
    var r = self
    r.s0 += other.s0
    if rows > 1 { r.s1 += other.s1 }
    if rows > 2 { r.s2 += other.s2 }
    if rows > 3 { r.s3 += other.s3 }
    return r
  }
}

/// initial + Σ_j panel[j][k] · v[j] for the `rows` vectors of one tile, in `chains` chains (2 or 4): column j feeds
/// chain j mod chains, chain 0 starts from `initial`, and the chains are added a + b, or (a + b) + (c + d).
/// `rows` and `chains` are constants at every call site, so the compiler keeps only the live accumulators.
@_transparent
func tileSums<V: FloatVector>(
  _ panel: UnsafePointer<V>,  // [columns][rows]
  rows: Int, columns: Int, chains: Int,
  v: UnsafePointer<Float>,  // [columns]
  initial: Sums<V>
) -> Sums<V> {
  #if hasFeature(Embedded)
    // Firmware: the microcontroller plan's one chain (RecurrentModel.init checks it).
    return oneChainSums(panel, rows: rows, columns: columns, v: v, initial: initial)
  #else
    // One copy for every column count. Copies with a constant count (8, 16, 32), which the compiler unrolls, made the
    // register allocator keep two of H = 32's eight accumulators on the stack (a store and a reload at every column
    // pair) and measured slower or no faster at every size on AVX2 (docs/performance.md, 2026-12-08).
    return chainedSums(panel, rows: rows, columns: columns, chains: chains, v: v, initial: initial)
  #endif
}

/// The sums of one hidden vector of a gated cell (its `gates` rows), out of line; the LSTM's pass calls it. Inlined
/// into the cell's step, the column loop shared the registers with values that live across it (the gate update's
/// tanh and sigmoid constants, hoisted out of the loop over hidden vectors), and on AVX2's 16 registers the compiler
/// kept two of the LSTM's eight accumulators on the stack: a store and a reload in two chains at every column (LSTM
/// 40, AVX2: 82% of the step in that loop). Out of line, the loop has the registers to itself: AVX2 LSTM 40 471 -> 312
/// ns, LSTM 64 1113 -> 683, LSTM 12 to 32 5-11% faster; AVX-512 unchanged within noise (tools/bench-amp shapes,
/// alternated). The GRU's six accumulators fit, and out of line it measured 4-10% slower: it stays inline. The same
/// sums in the same order.
@inline(never)
func gateSums<V: FloatVector>(
  _ panel: UnsafePointer<V>, gates: Int, columns: Int, chains: Int, v: UnsafePointer<Float>, initial: Sums<V>
) -> Sums<V> {
  #if hasFeature(Embedded)
    // Firmware: the microcontroller plan's one chain (KernelPlan), one copy per gate count.
    return gates == 3
      ? tileSums(panel, rows: 3, columns: columns, chains: 1, v: v, initial: initial)
      : tileSums(panel, rows: 4, columns: columns, chains: 1, v: v, initial: initial)
  #else
    switch (gates, chains) {
    case (3, 2): return tileSums(panel, rows: 3, columns: columns, chains: 2, v: v, initial: initial)
    case (3, _): return tileSums(panel, rows: 3, columns: columns, chains: 4, v: v, initial: initial)
    case (_, 2): return tileSums(panel, rows: 4, columns: columns, chains: 2, v: v, initial: initial)
    default: return tileSums(panel, rows: 4, columns: columns, chains: 4, v: v, initial: initial)
    }
  #endif
}

/// initial + Σ_j panel[j][k] · v[j] in one chain, in column order: the microcontroller plan (KernelPlan), whose CPU
/// emulates the vectors with scalar registers that two chains of a gated cell's sums would overflow. Embedded builds
/// only (`tileSums`): in a desktop build the plan never has one chain.
@_transparent
func oneChainSums<V: FloatVector>(
  _ panel: UnsafePointer<V>, rows: Int, columns: Int, v: UnsafePointer<Float>, initial: Sums<V>
) -> Sums<V> {
  var a = initial
  var col = panel
  for j in 0..<columns {
    a.add(col, V(repeating: v[j]), rows: rows)
    col += rows
  }
  return a
}

@_transparent
func chainedSums<V: FloatVector>(
  _ panel: UnsafePointer<V>, rows: Int, columns: Int, chains: Int, v: UnsafePointer<Float>, initial: Sums<V>
) -> Sums<V> {
  var a = initial
  var b = Sums<V>()
  var col = panel
  var j = 0
  if chains == 4 {
    var c = Sums<V>()
    var d = Sums<V>()
    while j + 4 <= columns {
      a.add(col, V(repeating: v[j]), rows: rows)
      b.add(col + rows, V(repeating: v[j + 1]), rows: rows)
      c.add(col + 2 * rows, V(repeating: v[j + 2]), rows: rows)
      d.add(col + 3 * rows, V(repeating: v[j + 3]), rows: rows)
      col += 4 * rows
      j += 4
    }
    // The last columns (fewer than four): column j feeds chain j mod 4.
    if j < columns { a.add(col, V(repeating: v[j]), rows: rows) }
    if j + 1 < columns { b.add(col + rows, V(repeating: v[j + 1]), rows: rows) }
    if j + 2 < columns { c.add(col + 2 * rows, V(repeating: v[j + 2]), rows: rows) }
    return a.plus(b, rows: rows).plus(c.plus(d, rows: rows), rows: rows)
  }
  while j + 2 <= columns {
    a.add(col, V(repeating: v[j]), rows: rows)
    b.add(col + rows, V(repeating: v[j + 1]), rows: rows)
    col += 2 * rows
    j += 2
  }
  if j < columns { a.add(col, V(repeating: v[j]), rows: rows) }
  return a.plus(b, rows: rows)
}

// MARK: - A whole matrix

/// out[r] = activation(fma(inputColumn[r], x, initial[r] + Σ_j W[r][j] · v[j])) for every row vector r = g·vectors + q
/// of `layout`, tile by tile: the input term, when there is one, joins after the column sums (GateWeights.swift), so
/// no chain waits for x. `initial`, `inputColumn` and `out` are [G][vectors] vectors; `out` may alias `initial`, `v`
/// must not alias `out`. Tiles hold G·t ≤ 4 vectors. Not inlined: one specialised copy per width serves every caller
/// (inlined into each, the release build took five times longer).
@inline(never)
func affine<V: FloatVector>(
  _ layout: PanelLayout, _ weights: UnsafePointer<V>, chains: Int,
  v: UnsafePointer<Float>,  // [columns]
  initial: UnsafePointer<V>,  // [G][vectors]
  inputColumn: UnsafePointer<V>? = nil, x: Float = 0,  // [G][vectors]
  out: UnsafeMutablePointer<V>,  // [G][vectors]
  tanh: Bool
) {
  var q0 = 0
  while q0 < layout.vectors {
    let t = layout.tileWidth(start: q0)
    // `gates` and `t` as constants, so each copy keeps only its live sums.
    #if hasFeature(Embedded)
      // Firmware (-Osize): only the tiles the microcontroller plan makes (one vector, one chain; RecurrentModel.init
      // checks the plan): three copies of the tile instead of sixteen.
      switch layout.gates {
      case 1: affineTile(layout, weights, 1, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 1)
      case 3: affineTile(layout, weights, 1, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 3, t: 1)
      default: affineTile(layout, weights, 1, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 4, t: 1)
      }
    #else
      switch (layout.gates, t) {
      case (1, 1):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 1)
      case (1, 2):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 2)
      case (1, 3):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 3)
      case (1, _):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 4)
      case (3, _):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 3, t: 1)
      default:
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 4, t: 1)
      }
    #endif
    q0 += t
  }
}

/// One tile of `affine` at hidden vector q0: `t` vectors per gate (rows = gates·t; sum k is gate k / t, vector k % t).
@_transparent
func affineTile<V: FloatVector>(
  _ layout: PanelLayout, _ weights: UnsafePointer<V>, _ chains: Int, _ v: UnsafePointer<Float>,
  _ initial: UnsafePointer<V>, _ inputColumn: UnsafePointer<V>?, _ x: Float, _ out: UnsafeMutablePointer<V>,
  _ tanh: Bool, q0: Int, gates: Int, t: Int
) {
  let rows = gates * t
  let nv = layout.vectors
  let (k0, k1, k2, k3) = (q0, (1 / t) * nv + q0 + 1 % t, (2 / t) * nv + q0 + 2 % t, (3 / t) * nv + q0 + 3 % t)
  var s = Sums<V>()
  s.s0 = initial[k0]
  if rows > 1 { s.s1 = initial[k1] }
  if rows > 2 { s.s2 = initial[k2] }
  if rows > 3 { s.s3 = initial[k3] }
  s = tileSums(
    weights + q0 * gates * layout.columns, rows: rows, columns: layout.columns, chains: chains, v: v, initial: s)
  if let w = inputColumn {
    let xv = V(repeating: x)
    s.s0 = multiplyAdd(w[k0], xv, s.s0)
    if rows > 1 { s.s1 = multiplyAdd(w[k1], xv, s.s1) }
    if rows > 2 { s.s2 = multiplyAdd(w[k2], xv, s.s2) }
    if rows > 3 { s.s3 = multiplyAdd(w[k3], xv, s.s3) }
  }
  out[k0] = tanh ? rationalTanh(s.s0) : s.s0
  if rows > 1 { out[k1] = tanh ? rationalTanh(s.s1) : s.s1 }
  if rows > 2 { out[k2] = tanh ? rationalTanh(s.s2) : s.s2 }
  if rows > 3 { out[k3] = tanh ? rationalTanh(s.s3) : s.s3 }
}

/// The readout of one output: Σ_i w[i] · h[i] + bias over `lanes` (a multiple of 8, zero past H), in eight partial
/// sums (hidden unit mod 8, the first product plain) folded as a tree of halves. The same on every plan width.
@inline(__always)
func dot(_ w: UnsafePointer<Float>, _ h: UnsafePointer<Float>, lanes: Int, bias: Float) -> Float {
  let wv = UnsafeRawPointer(w).assumingMemoryBound(to: SIMD8<Float>.self)
  let hv = UnsafeRawPointer(h).assumingMemoryBound(to: SIMD8<Float>.self)
  var acc = wv[0] * hv[0]
  var b = 1
  while b < lanes / 8 {
    acc = multiplyAdd(wv[b], hv[b], acc)
    b += 1
  }
  return acc.foldedSum() + bias
}
