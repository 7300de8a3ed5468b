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
/// so a pass over one tile reads its panel from start to end and keeps its G·t sums in registers (G·t ≤ 8).
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

/// Row vectors' sums kept in registers: a tile's G·t rows. `rows` is a constant at every call site, so only the live
/// sums exist in the compiled code. Two sizes: `Sums` (four: a gated cell's gates, vanilla tiles of up to four
/// vectors) and `WideSums` (eight: vanilla tiles of five to eight). The gated cells' out-of-line `gateSums` passes
/// and returns the four-vector one: an eight-vector struct, carried through memory at the call, made LSTM steps
/// 10-30% slower on AVX2.
protocol RowSums<Vector> {
  associatedtype Vector: FloatVector
  init()
  /// s_k += column[k] · h for the first `rows` sums.
  mutating func add(_ column: UnsafePointer<Vector>, _ h: Vector, rows: Int)
  /// s_k + other.s_k for the first `rows` sums.
  func plus(_ other: Self, rows: Int) -> Self
  // A tile's rows are evenly spaced in its [G][vectors] buffers (one gate's consecutive vectors, or one vector of each
  // gate), so the tile moves its sums with a stride. Written out row by row, not looped: -Osize left a loop over the
  // rows rolled, every sum through the stack (firmware copying-load steps 2-4% longer).
  /// s_k = p[k · stride] for the first `rows` sums.
  init(loading p: UnsafePointer<Vector>, stride: Int, rows: Int)
  /// s_k = fma(w[k · stride], x, s_k) for the first `rows` sums.
  mutating func addTerm(_ w: UnsafePointer<Vector>, stride: Int, _ x: Vector, rows: Int)
  /// out[k · stride] = s_k, or tanh(s_k), for the first `rows` sums.
  func store(_ out: UnsafeMutablePointer<Vector>, stride: Int, rows: Int, tanh: Bool)
}

/// Up to four row vectors' sums.
struct Sums<V: FloatVector>: RowSums {
  var s0 = V()
  var s1 = V()
  var s2 = V()
  var s3 = V()

  @_transparent
  init() {}

  @_transparent
  init(loading p: UnsafePointer<V>, stride: Int, rows: Int) {
    s0 = p[0]
    if rows > 1 { s1 = p[stride] }
    if rows > 2 { s2 = p[2 &* stride] }
    if rows > 3 { s3 = p[3 &* stride] }
  }

  @_transparent
  mutating func addTerm(_ w: UnsafePointer<V>, stride: Int, _ x: V, rows: Int) {
    s0 = multiplyAdd(w[0], x, s0)
    if rows > 1 { s1 = multiplyAdd(w[stride], x, s1) }
    if rows > 2 { s2 = multiplyAdd(w[2 &* stride], x, s2) }
    if rows > 3 { s3 = multiplyAdd(w[3 &* stride], x, s3) }
  }

  @_transparent
  func store(_ out: UnsafeMutablePointer<V>, stride: Int, rows: Int, tanh: Bool) {
    out[0] = tanh ? rationalTanh(s0) : s0
    if rows > 1 { out[stride] = tanh ? rationalTanh(s1) : s1 }
    if rows > 2 { out[2 &* stride] = tanh ? rationalTanh(s2) : s2 }
    if rows > 3 { out[3 &* stride] = tanh ? rationalTanh(s3) : s3 }
  }

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

/// Five to eight row vectors' sums: two `Sums`, rows 0-3 and 4-7.
struct WideSums<V: FloatVector>: RowSums {
  var low = Sums<V>()
  var high = Sums<V>()

  @_transparent
  init() {}

  @_transparent
  init(loading p: UnsafePointer<V>, stride: Int, rows: Int) {
    low = Sums(loading: p, stride: stride, rows: min(rows, 4))
    if rows > 4 { high = Sums(loading: p + 4 &* stride, stride: stride, rows: rows - 4) }
  }

  @_transparent
  mutating func addTerm(_ w: UnsafePointer<V>, stride: Int, _ x: V, rows: Int) {
    low.addTerm(w, stride: stride, x, rows: min(rows, 4))
    if rows > 4 { high.addTerm(w + 4 &* stride, stride: stride, x, rows: rows - 4) }
  }

  @_transparent
  func store(_ out: UnsafeMutablePointer<V>, stride: Int, rows: Int, tanh: Bool) {
    low.store(out, stride: stride, rows: min(rows, 4), tanh: tanh)
    if rows > 4 { high.store(out + 4 &* stride, stride: stride, rows: rows - 4, tanh: tanh) }
  }

  @_transparent
  mutating func add(_ column: UnsafePointer<V>, _ h: V, rows: Int) {
    low.add(column, h, rows: min(rows, 4))
    if rows > 4 { high.add(column + 4, h, rows: rows - 4) }
  }

  @_transparent
  func plus(_ other: WideSums, rows: Int) -> WideSums {
    var r = self
    r.low = low.plus(other.low, rows: min(rows, 4))
    if rows > 4 { r.high = high.plus(other.high, rows: rows - 4) }
    return r
  }
}

/// initial + Σ_j panel[j][k] · v[j] for the `rows` vectors of one tile, in `chains` chains (2 or 4): column j feeds
/// chain j mod chains, chain 0 starts from `initial`, and the chains are added a + b, or (a + b) + (c + d).
/// `rows` and `chains` are constants at every call site, so the compiler keeps only the live accumulators.
@_transparent
func tileSums<S: RowSums>(
  _ panel: UnsafePointer<S.Vector>,  // [columns][rows]
  rows: Int, columns: Int, chains: Int,
  v: UnsafePointer<Float>,  // [columns]
  initial: S
) -> S {
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
func oneChainSums<S: RowSums>(
  _ panel: UnsafePointer<S.Vector>, rows: Int, columns: Int, v: UnsafePointer<Float>, initial: S
) -> S {
  typealias V = S.Vector
  var a = initial
  var col = panel
  for j in 0..<columns {
    a.add(col, V(repeating: v[j]), rows: rows)
    col += rows
  }
  return a
}

@_transparent
func chainedSums<S: RowSums>(
  _ panel: UnsafePointer<S.Vector>, rows: Int, columns: Int, chains: Int, v: UnsafePointer<Float>, initial: S
) -> S {
  typealias V = S.Vector
  // Pointers walk the panel and v; the counts are wrapping (a column count is far from Int.max), so the loop carries
  // no overflow checks and needs few general-purpose registers beside the accumulators.
  var a = initial
  var b = S()
  var col = panel
  var x = v
  let end = v + columns
  if chains == 4 {
    var c = S()
    var d = S()
    while end - x >= 4 {
      a.add(col, V(repeating: x[0]), rows: rows)
      b.add(col + rows, V(repeating: x[1]), rows: rows)
      c.add(col + 2 &* rows, V(repeating: x[2]), rows: rows)
      d.add(col + 3 &* rows, V(repeating: x[3]), rows: rows)
      col += 4 &* rows
      x += 4
    }
    // The last columns (fewer than four): column j feeds chain j mod 4.
    let left = end - x
    if left > 0 { a.add(col, V(repeating: x[0]), rows: rows) }
    if left > 1 { b.add(col + rows, V(repeating: x[1]), rows: rows) }
    if left > 2 { c.add(col + 2 &* rows, V(repeating: x[2]), rows: rows) }
    return a.plus(b, rows: rows).plus(c.plus(d, rows: rows), rows: rows)
  }
  while end - x >= 2 {
    a.add(col, V(repeating: x[0]), rows: rows)
    b.add(col + rows, V(repeating: x[1]), rows: rows)
    col += 2 &* rows
    x += 2
  }
  if x < end { a.add(col, V(repeating: x[0]), rows: rows) }
  return a.plus(b, rows: rows)
}

// MARK: - A whole matrix

/// out[r] = activation(fma(inputColumn[r], x, initial[r] + Σ_j W[r][j] · v[j])) for every row vector r = g·vectors + q
/// of `layout`, tile by tile: the input term, when there is one, joins after the column sums (GateWeights.swift), so
/// no chain waits for x. `initial`, `inputColumn` and `out` are [G][vectors] vectors; `out` may alias `initial`, `v`
/// must not alias `out`. Tiles hold G·t ≤ 8 vectors. Not inlined: one specialised copy per width serves every caller
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
      case 1:
        affineTile(layout, weights, 1, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 1, Sums<V>.self)
      case 3:
        affineTile(layout, weights, 1, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 3, t: 1, Sums<V>.self)
      default:
        affineTile(layout, weights, 1, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 4, t: 1, Sums<V>.self)
      }
    #else
      switch (layout.gates, t) {
      case (1, 1):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 1, Sums<V>.self)
      case (1, 2):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 2, Sums<V>.self)
      case (1, 3):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 3, Sums<V>.self)
      case (1, 4):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 4, Sums<V>.self)
      case (1, 5):
        affineTile(
          layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 5, WideSums<V>.self)
      case (1, 6):
        affineTile(
          layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 6, WideSums<V>.self)
      case (1, 7):
        affineTile(
          layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 7, WideSums<V>.self)
      case (1, _):
        affineTile(
          layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 1, t: 8, WideSums<V>.self)
      case (3, _):
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 3, t: 1, Sums<V>.self)
      default:
        affineTile(layout, weights, chains, v, initial, inputColumn, x, out, tanh, q0: q0, gates: 4, t: 1, Sums<V>.self)
      }
    #endif
    q0 += t
  }
}

/// One tile of `affine` at hidden vector q0: `t` vectors per gate (rows = gates·t ≤ 8; sum k is gate k / t, vector
/// q0 + k % t). Either the tile has one gate (its rows are vectors q0 ..< q0 + t of `initial`, `inputColumn` and
/// `out`, stride 1) or one vector per gate (rows q0, nv + q0, 2·nv + q0, ...: stride nv).
@_transparent
func affineTile<V: FloatVector, S: RowSums<V>>(
  _ layout: PanelLayout, _ weights: UnsafePointer<V>, _ chains: Int, _ v: UnsafePointer<Float>,
  _ initial: UnsafePointer<V>, _ inputColumn: UnsafePointer<V>?, _ x: Float, _ out: UnsafeMutablePointer<V>,
  _ tanh: Bool, q0: Int, gates: Int, t: Int, _: S.Type
) {
  let rows = gates * t
  let stride = t == 1 ? layout.vectors : 1
  var s = S(loading: initial + q0, stride: stride, rows: rows)
  s = tileSums(
    weights + q0 * gates * layout.columns, rows: rows, columns: layout.columns, chains: chains, v: v, initial: s)
  if let w = inputColumn { s.addTerm(w + q0, stride: stride, V(repeating: x), rows: rows) }
  s.store(out + q0, stride: stride, rows: rows, tanh: tanh)
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
