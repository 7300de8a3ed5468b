// The one matrix kernel of the runtime: a padded column-major matrix times a vector, added to an initial vector.
//
//   out[b] = activation(initial[b] + inputColumn[b] · x + Σ_j columns[j][b] · v[j])     b over `rowBlocks` blocks
//
// The optional one-column input term lets a layer with a single input fold W_ih x into the same pass (no separate
// pass over the input and no store and reload of its result on the step's critical path).
//
// Layout: panels. A matrix of R rows and C columns is cut into row blocks of 8 (`rowBlocks = ceil(R / 8)` SIMD8
// vectors, zero-padded), gate blocks of a layer stacked down the rows so one pass over v feeds every gate. Row blocks
// are grouped four at a time into panels, and each panel stores its C columns one after the other:
//   panel p (row blocks 4p ..< 4p + w, w = 4 except for the last panel) = [C][w] SIMD8 vectors
// so the kernel streams every panel from start to end. (Plain column-major storage jumps a whole column height per
// column: at H = 256 an LSTM step then touched 1 MB in 4 KB strides, page after page, and ran at half the speed.)
// The kernel broadcasts v[j] and multiply-adds column j into register accumulators: no horizontal sums (measured
// 1.8x faster than row-major dot products at H = 16...64). A full panel runs four blocks with two accumulator chains
// (even and odd columns; four, columns mod 4, with RECUR_WIDE_REGISTERS up to 64 columns), so the add latency chain is
// C/2 long; the last panel's one to three blocks use four chains,
// as latency dominates there. Where a matrix has at most 64 columns, a full panel's blocks go through the kernel as
// two 16-lane pairs (one 512-bit register each on AVX-512; AVX2 splits them back into the 256-bit code). `out` may
// alias `initial` (each block reads its initial value before it is written);
// `v` must not alias `out`.
//
// The order of the sums matters beyond this file: BatchCell.swift repeats, per stream, the chains of this kernel,
// of the gate panels below and of `dot`, so that many streams give bit for bit the answers of one cell each
// (`recur stream --streams` relies on it; BatchCellTests checks it). A change to a chain here changes `chainCount`
// or `readout` there.

/// Index, in SIMD8 blocks, of row block `block` of column `column` in panel layout (see above).
@inline(__always)
func panelIndex(block: Int, column: Int, rowBlocks: Int, columns: Int) -> Int {
  let group = block & ~3
  let width = min(4, rowBlocks - group)
  return group * columns + column * width + (block - group)
}

/// What the kernel applies to each finished block: nothing (gates take their own activations afterwards) or tanh
/// (the vanilla cell, whose state is tanh of the sum: applying it in registers saves a pass over memory).
enum BlockActivation {
  case identity, tanh

  @inline(__always)
  func apply(_ x: SIMD8<Float>) -> SIMD8<Float> {
    switch self {
    case .identity: x
    case .tanh: fastTanh(x)
    }
  }
}

@inline(__always)
func columnKernel(
  columns: UnsafePointer<SIMD8<Float>>,  // [rowBlocks] in panels of [count][4]
  rowBlocks: Int, count: Int,
  v: UnsafePointer<Float>,  // [count]
  initial: UnsafePointer<SIMD8<Float>>,  // [rowBlocks]
  inputColumn: UnsafePointer<SIMD8<Float>>? = nil,  // [rowBlocks] multiplied by x and added, when present
  x: Float = 0,
  out: UnsafeMutablePointer<SIMD8<Float>>,  // [rowBlocks]
  activation: BlockActivation
) {
  let blocks = rowBlocks
  let xv = SIMD8<Float>(repeating: x)
  /// initial[b], plus the input term when there is one: fma(w, x, initial), the order the vanilla cell always used.
  @inline(__always) func start(_ b: Int) -> SIMD8<Float> {
    guard let w = inputColumn else { return initial[b] }
    return multiplyAdd(w[b], xv, initial[b])
  }
  var b = 0
  while b + 4 <= blocks && count <= 64 {
    // Blocks b, b + 1 and b + 2, b + 3 as two 16-lane pairs (adjacent in the panel, 64-byte aligned): one 512-bit
    // multiply-add each on AVX-512, two 256-bit ones (the same instructions as the loop below) elsewhere. Measured on
    // Zen 5, vanilla generate: H = 32 46.6 -> 35.9 ns, H = 64 108 -> 88; but H = 128 446 -> 685, where a panel's two
    // 64-deep chains per pair bound the step (the 8-accumulator loop below keeps the FMA units busy).
    var a0 = pair(start(b), start(b + 1))
    var a1 = pair(start(b + 2), start(b + 3))
    var c0 = SIMD16<Float>()
    var c1 = SIMD16<Float>()
    var col = pairs16(columns + b * count)  // this panel: [count][2] pairs
    var j = 0
    #if RECUR_WIDE_REGISTERS
      // 32 vector registers (AVX-512, the native build on such a CPU): four chains per pair (columns mod 4, the
      // leftover columns in the first), half the dependent multiply-adds. Measured on Zen 5, vanilla generate
      // H = 32: 26.6 -> 21.3 ns in one A/B run, 27.2 -> 21.4 in another; with AVX2's 16 registers the same code
      // spills (29.0 -> 32.1), so other builds keep two chains. BatchCell's `chainCount` follows.
      var d0 = SIMD16<Float>()
      var d1 = SIMD16<Float>()
      var e0 = SIMD16<Float>()
      var e1 = SIMD16<Float>()
      let quads = count & ~3
      while j < quads {
        let h0 = SIMD16<Float>(repeating: v[j])
        let h1 = SIMD16<Float>(repeating: v[j + 1])
        let h2 = SIMD16<Float>(repeating: v[j + 2])
        let h3 = SIMD16<Float>(repeating: v[j + 3])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        c0 = multiplyAdd(col[2], h1, c0)
        c1 = multiplyAdd(col[3], h1, c1)
        d0 = multiplyAdd(col[4], h2, d0)
        d1 = multiplyAdd(col[5], h2, d1)
        e0 = multiplyAdd(col[6], h3, e0)
        e1 = multiplyAdd(col[7], h3, e1)
        col += 8
        j += 4
      }
      while j < count {
        let h0 = SIMD16<Float>(repeating: v[j])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        col += 2
        j += 1
      }
      let (s0, s1) = ((a0 + c0) + (d0 + e0), (a1 + c1) + (d1 + e1))
    #else
      let pairs = count & ~1
      while j < pairs {
        let h0 = SIMD16<Float>(repeating: v[j])
        let h1 = SIMD16<Float>(repeating: v[j + 1])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        c0 = multiplyAdd(col[2], h1, c0)
        c1 = multiplyAdd(col[3], h1, c1)
        col += 4
        j += 2
      }
      if j < count {
        let h0 = SIMD16<Float>(repeating: v[j])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
      }
      let (s0, s1) = (a0 + c0, a1 + c1)
    #endif
    let o = pairs16(out + b)
    // Spelled out rather than through `apply`, which the compiler left as a call here (16-lane values in memory).
    if case .tanh = activation {
      o[0] = fastTanh(s0)
      o[1] = fastTanh(s1)
    } else {
      o[0] = s0
      o[1] = s1
    }
    b += 4
  }
  if b + 4 <= blocks {  // more than 64 columns: the 8-accumulator loop, in its own function
    longColumnPanels(
      columns: columns, rowBlocks: rowBlocks, count: count, v: v, initial: initial, inputColumn: inputColumn, x: x,
      out: out, activation: activation)
    b = rowBlocks & ~3
  }
  // The last panel's one to three blocks (H ≤ 16 in a vanilla cell lives entirely here): four chains each.
  let quads = count & ~3
  let tailStart = b
  // The last panel: [count][width]. Spelled `blocks` when the panel is the whole matrix (H ≤ 24 in a vanilla cell):
  // with the stride written as `blocks - tailStart`, the same loop measured 47 ns instead of 30 at H = 16.
  let width = tailStart == 0 ? rowBlocks : blocks - tailStart
  let panel = columns + tailStart * count
  while b < blocks {
    let two = b + 2 <= blocks
    var a0 = start(b)
    var a1 = two ? start(b + 1) : SIMD8<Float>()
    var c0 = SIMD8<Float>()
    var c1 = SIMD8<Float>()
    var d0 = SIMD8<Float>()
    var d1 = SIMD8<Float>()
    var e0 = SIMD8<Float>()
    var e1 = SIMD8<Float>()
    var col = panel + (b - tailStart)  // this block's offset in the panel's columns
    var j = 0
    if two && count == 16 && width == 2 {
      // H = 9 ... 16 in a vanilla cell: the same operations with every size a constant, so the compiler unrolls
      // them completely (the loop below spilled its strides and kept its overflow checks). Spelled out: the loop
      // below as a nested function called with constants measured 21 ns instead of 16.5 (captured accumulators).
      for q in 0..<4 {
        let k = 4 * q
        let h0 = SIMD8<Float>(repeating: v[k])
        let h1 = SIMD8<Float>(repeating: v[k + 1])
        let h2 = SIMD8<Float>(repeating: v[k + 2])
        let h3 = SIMD8<Float>(repeating: v[k + 3])
        a0 = multiplyAdd(col[2 * k], h0, a0)
        a1 = multiplyAdd(col[2 * k + 1], h0, a1)
        c0 = multiplyAdd(col[2 * k + 2], h1, c0)
        c1 = multiplyAdd(col[2 * k + 3], h1, c1)
        d0 = multiplyAdd(col[2 * k + 4], h2, d0)
        d1 = multiplyAdd(col[2 * k + 5], h2, d1)
        e0 = multiplyAdd(col[2 * k + 6], h3, e0)
        e1 = multiplyAdd(col[2 * k + 7], h3, e1)
      }
      out[b] = activation.apply((a0 + c0) + (d0 + e0))
      out[b + 1] = activation.apply((a1 + c1) + (d1 + e1))
      b += 2
    } else if two {
      while j < quads {
        let h0 = SIMD8<Float>(repeating: v[j])
        let h1 = SIMD8<Float>(repeating: v[j + 1])
        let h2 = SIMD8<Float>(repeating: v[j + 2])
        let h3 = SIMD8<Float>(repeating: v[j + 3])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        c0 = multiplyAdd(col[width], h1, c0)
        c1 = multiplyAdd(col[width + 1], h1, c1)
        d0 = multiplyAdd(col[2 * width], h2, d0)
        d1 = multiplyAdd(col[2 * width + 1], h2, d1)
        e0 = multiplyAdd(col[3 * width], h3, e0)
        e1 = multiplyAdd(col[3 * width + 1], h3, e1)
        col += 4 * width
        j += 4
      }
      while j < count {
        let h0 = SIMD8<Float>(repeating: v[j])
        a0 = multiplyAdd(col[0], h0, a0)
        a1 = multiplyAdd(col[1], h0, a1)
        col += width
        j += 1
      }
      out[b] = activation.apply((a0 + c0) + (d0 + e0))
      out[b + 1] = activation.apply((a1 + c1) + (d1 + e1))
      b += 2
    } else {
      while j < quads {
        a0 = multiplyAdd(col[0], SIMD8<Float>(repeating: v[j]), a0)
        c0 = multiplyAdd(col[width], SIMD8<Float>(repeating: v[j + 1]), c0)
        d0 = multiplyAdd(col[2 * width], SIMD8<Float>(repeating: v[j + 2]), d0)
        e0 = multiplyAdd(col[3 * width], SIMD8<Float>(repeating: v[j + 3]), e0)
        col += 4 * width
        j += 4
      }
      while j < count {
        a0 = multiplyAdd(col[0], SIMD8<Float>(repeating: v[j]), a0)
        col += width
        j += 1
      }
      out[b] = activation.apply((a0 + c0) + (d0 + e0))
      b += 1
    }
  }
}

/// The full panels of `columnKernel` for more than 64 columns, 8 SIMD8 accumulators per panel. In its own function:
/// inlined into its callers as well, it left the pair loop's 16-lane tanh as a call passing vectors through memory
/// (vanilla generate, Zen 5: H = 32 33.3 -> 27.4 ns, 64 82.8 -> 62.7 with it apart).
@inline(never)
func longColumnPanels(
  columns: UnsafePointer<SIMD8<Float>>,  // [rowBlocks] in panels of [count][4]
  rowBlocks: Int, count: Int,
  v: UnsafePointer<Float>,  // [count]
  initial: UnsafePointer<SIMD8<Float>>,  // [rowBlocks]
  inputColumn: UnsafePointer<SIMD8<Float>>?,  // [rowBlocks]
  x: Float,
  out: UnsafeMutablePointer<SIMD8<Float>>,  // [rowBlocks]
  activation: BlockActivation
) {
  let blocks = rowBlocks
  let xv = SIMD8<Float>(repeating: x)
  @inline(__always) func start(_ b: Int) -> SIMD8<Float> {
    guard let w = inputColumn else { return initial[b] }
    return multiplyAdd(w[b], xv, initial[b])
  }
  let pairs = count & ~1
  var b = 0
  while b + 4 <= blocks {
    var a0 = start(b)
    var a1 = start(b + 1)
    var a2 = start(b + 2)
    var a3 = start(b + 3)
    var c0 = SIMD8<Float>()
    var c1 = SIMD8<Float>()
    var c2 = SIMD8<Float>()
    var c3 = SIMD8<Float>()
    var col = columns + b * count  // this panel: [count][4]
    var j = 0
    while j < pairs {
      let h0 = SIMD8<Float>(repeating: v[j])
      let h1 = SIMD8<Float>(repeating: v[j + 1])
      let odd = col + 4
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      a3 = multiplyAdd(col[3], h0, a3)
      c0 = multiplyAdd(odd[0], h1, c0)
      c1 = multiplyAdd(odd[1], h1, c1)
      c2 = multiplyAdd(odd[2], h1, c2)
      c3 = multiplyAdd(odd[3], h1, c3)
      col += 8
      j += 2
    }
    if j < count {
      let h0 = SIMD8<Float>(repeating: v[j])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      a3 = multiplyAdd(col[3], h0, a3)
    }
    out[b] = activation.apply(a0 + c0)
    out[b + 1] = activation.apply(a1 + c1)
    out[b + 2] = activation.apply(a2 + c2)
    out[b + 3] = activation.apply(a3 + c3)
    b += 4
  }
}

/// Dot product of two padded vectors of `blocks` SIMD8 blocks plus `bias`, with a tree reduction of the final vector
/// (a serial `.sum()` is slower). The readout: one call per output.
@inline(__always)
func dot(_ w: UnsafePointer<SIMD8<Float>>, _ h: UnsafePointer<SIMD8<Float>>, blocks: Int, bias: Float) -> Float {
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

/// Storage for padded SIMD8 blocks: one 64-byte-aligned allocation, zeroed, carved into named regions in order,
/// each starting on a 64-byte boundary (so 16-lane pairs of blocks never straddle a cache line). The only allocation
/// a model or a stream makes.
struct BlockArena {
  let base: UnsafeMutablePointer<SIMD8<Float>>
  private(set) var used = 0
  let capacity: Int

  /// Room for `blocks` blocks in at most `regions` regions (each may skip one block to align its start).
  init(blocks: Int, regions: Int) {
    capacity = max(blocks + regions, 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: capacity * 32, alignment: 64)
    base = raw.bindMemory(to: SIMD8<Float>.self, capacity: capacity)
    base.initialize(repeating: SIMD8(), count: capacity)
  }

  /// The next `count` blocks.
  mutating func take(_ count: Int) -> UnsafeMutablePointer<SIMD8<Float>> {
    let start = (used + 1) & ~1
    precondition(start + count <= capacity, "arena overflow")
    used = start + count
    return base + start
  }

  func deallocate() { UnsafeMutableRawPointer(base).deallocate() }
}

/// Padded blocks as 16-lane pairs (block 2k and 2k + 1 in pair k). The caller keeps the pointer 64-byte aligned.
@inline(__always)
func pairs16(_ p: UnsafeMutablePointer<SIMD8<Float>>) -> UnsafeMutablePointer<SIMD16<Float>> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: SIMD16<Float>.self)
}

@inline(__always)
func pairs16(_ p: UnsafePointer<SIMD8<Float>>) -> UnsafePointer<SIMD16<Float>> {
  UnsafeRawPointer(p).assumingMemoryBound(to: SIMD16<Float>.self)
}

/// Two blocks as one 16-lane pair.
@inline(__always)
func pair(_ low: SIMD8<Float>, _ high: SIMD8<Float>) -> SIMD16<Float> {
  SIMD16(lowHalf: low, highHalf: high)
}

/// The lanes of padded blocks as scalars.
@inline(__always)
func scalars(_ p: UnsafeMutablePointer<SIMD8<Float>>) -> UnsafeMutablePointer<Float> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: Float.self)
}

// MARK: - Gate panels (GRU, LSTM)
//
// A gated cell needs all G gate pre-activations of a hidden block together to update that block. Its recurrent
// matrix is therefore stored hidden-block-major: panel q holds gate blocks [gate 0 of q, gate 1 of q, ...] for every
// column, [H][G] SIMD8 vectors, and one panel pass leaves the G sums of hidden block q in registers, where the gate
// activations and the state update follow at once (no store and reload of the pre-activations).

/// Index, in SIMD8 blocks, of gate `gate` of hidden block `block`, column `column`, in gate panels of width `gates`.
@inline(__always)
func gatePanelIndex(gate: Int, block: Int, column: Int, gates: Int, columns: Int) -> Int {
  block * gates * columns + column * gates + gate
}

// Block pairs (GRU): two hidden blocks share one panel and each gate of the pair is a 16-lane pair of blocks
// [block 2p, block 2p + 1], so the sums, the gates and the update of 16 hidden units run in whole 512-bit registers
// on AVX-512 with no shuffles (AVX2 splits every pair into two 256-bit halves). An odd last block keeps a one-block
// panel. The panel of blocks first ..< first + width (width 2, or 1 for an odd last block) is [H][G][width] blocks.

/// Index, in SIMD8 blocks, of gate `gate` of hidden block `block`, column `column`, in block-pair gate panels over
/// `blocks` blocks with `gates` gates.
@inline(__always)
func pairedPanelIndex(gate: Int, block: Int, column: Int, gates: Int, columns: Int, blocks: Int) -> Int {
  let first = block & ~1
  let width = min(2, blocks - first)
  return first * gates * columns + (column * gates + gate) * width + (block - first)
}

/// 16 lanes from any block address (regions start 64-byte aligned, but a slot of an odd number of blocks does not).
@inline(__always)
func load16(_ p: UnsafePointer<SIMD8<Float>>) -> SIMD16<Float> {
  UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
}

@inline(__always)
func store16(_ x: SIMD16<Float>, _ p: UnsafeMutablePointer<SIMD8<Float>>) {
  UnsafeMutableRawPointer(p).storeBytes(of: x, as: SIMD16<Float>.self)
}

/// The three sums of one GRU block pair: `initial.k + Σ_j panel[j][k] · v[j]` on 16 lanes, two chains per gate.
@inline(__always)
func accumulatePairs3(
  _ panel: UnsafePointer<SIMD8<Float>>,  // [count][3] pairs, 64-byte aligned
  count: Int, v: UnsafePointer<Float>,  // [count]
  _ initial: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
  @inline(__always) func sums(_ count: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    var (a0, a1, a2) = initial
    var c0 = SIMD16<Float>()
    var c1 = SIMD16<Float>()
    var c2 = SIMD16<Float>()
    var col = pairs16(panel)
    var j = 0
    while j + 1 < count {
      let h0 = SIMD16<Float>(repeating: v[j])
      let h1 = SIMD16<Float>(repeating: v[j + 1])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      c0 = multiplyAdd(col[3], h1, c0)
      c1 = multiplyAdd(col[4], h1, c1)
      c2 = multiplyAdd(col[5], h1, c2)
      col += 6
      j += 2
    }
    if j < count {
      let h0 = SIMD16<Float>(repeating: v[j])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
    }
    return (a0 + c0, a1 + c1, a2 + c2)
  }
  switch count {
  case 16: return sums(16)
  case 32: return sums(32)
  case 64: return sums(64)
  default: return sums(count)
  }
}

/// The four sums of one LSTM block pair (feedback panels), as `accumulatePairs3`.
@inline(__always)
func accumulatePairs4(
  _ panel: UnsafePointer<SIMD8<Float>>,  // [count][4] pairs, 64-byte aligned
  count: Int, v: UnsafePointer<Float>,  // [count]
  _ initial: (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>)
) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
  @inline(__always) func sums(_ count: Int) -> (SIMD16<Float>, SIMD16<Float>, SIMD16<Float>, SIMD16<Float>) {
    var (a0, a1, a2, a3) = initial
    var c0 = SIMD16<Float>()
    var c1 = SIMD16<Float>()
    var c2 = SIMD16<Float>()
    var c3 = SIMD16<Float>()
    var col = pairs16(panel)
    var j = 0
    while j + 1 < count {
      let h0 = SIMD16<Float>(repeating: v[j])
      let h1 = SIMD16<Float>(repeating: v[j + 1])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      a3 = multiplyAdd(col[3], h0, a3)
      c0 = multiplyAdd(col[4], h1, c0)
      c1 = multiplyAdd(col[5], h1, c1)
      c2 = multiplyAdd(col[6], h1, c2)
      c3 = multiplyAdd(col[7], h1, c3)
      col += 8
      j += 2
    }
    if j < count {
      let h0 = SIMD16<Float>(repeating: v[j])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      a3 = multiplyAdd(col[3], h0, a3)
    }
    return (a0 + c0, a1 + c1, a2 + c2, a3 + c3)
  }
  switch count {
  case 16: return sums(16)
  case 32: return sums(32)
  case 64: return sums(64)
  default: return sums(count)
  }
}

/// The three sums of one GRU panel: `initial.k + Σ_j panel[j][k] · v[j]`, two accumulator chains per gate.
@inline(__always)
func accumulatePanel3(
  _ panel: UnsafePointer<SIMD8<Float>>,  // [count][3]
  count: Int, v: UnsafePointer<Float>,  // [count]
  _ initial: (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>)
) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
  // Common sizes get their own copy with a constant column count, which the compiler unrolls completely (the
  // peer, RTNeural, fixes every size at compile time; at H = 16 and 32 loop control is a visible part of a step).
  @inline(__always) func sums(_ count: Int) -> (SIMD8<Float>, SIMD8<Float>, SIMD8<Float>) {
    var (a0, a1, a2) = initial
    var c0 = SIMD8<Float>()
    var c1 = SIMD8<Float>()
    var c2 = SIMD8<Float>()
    var col = panel
    var j = 0
    while j + 1 < count {
      let h0 = SIMD8<Float>(repeating: v[j])
      let h1 = SIMD8<Float>(repeating: v[j + 1])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
      c0 = multiplyAdd(col[3], h1, c0)
      c1 = multiplyAdd(col[4], h1, c1)
      c2 = multiplyAdd(col[5], h1, c2)
      col += 6
      j += 2
    }
    if j < count {
      let h0 = SIMD8<Float>(repeating: v[j])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      a2 = multiplyAdd(col[2], h0, a2)
    }
    return (a0 + c0, a1 + c1, a2 + c2)
  }
  switch count {
  case 8: return sums(8)
  case 16: return sums(16)
  case 32: return sums(32)
  default: return sums(count)
  }
}

/// The four sums of one LSTM panel as two 16-lane pairs, gates (0, 1) and (2, 3):
/// `initial.k + Σ_j panel[j][k] · v[j]`, two accumulator chains per pair (even and odd columns).
/// Why pairs: on AVX-512 a pair is one 512-bit register, so a column costs two multiply-adds instead of four and the
/// gate activations run on 16 lanes; on AVX2 the compiler splits each pair into the same 256-bit code as before.
@inline(__always)
func accumulatePanel4(
  _ panel: UnsafePointer<SIMD8<Float>>,  // [count][4], 64-byte aligned
  count: Int, v: UnsafePointer<Float>,  // [count]
  _ initial: (SIMD16<Float>, SIMD16<Float>)
) -> (SIMD16<Float>, SIMD16<Float>) {
  // Common sizes get their own copy with a constant column count, which the compiler unrolls completely (the
  // peer, RTNeural, fixes every size at compile time; at H = 16 and 32 loop control is a visible part of a step).
  @inline(__always) func sums(_ count: Int) -> (SIMD16<Float>, SIMD16<Float>) {
    var (a0, a1) = initial
    var c0 = SIMD16<Float>()
    var c1 = SIMD16<Float>()
    var col = pairs16(panel)  // [count][2] pairs
    var j = 0
    while j + 1 < count {
      let h0 = SIMD16<Float>(repeating: v[j])
      let h1 = SIMD16<Float>(repeating: v[j + 1])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
      c0 = multiplyAdd(col[2], h1, c0)
      c1 = multiplyAdd(col[3], h1, c1)
      col += 4
      j += 2
    }
    if j < count {
      let h0 = SIMD16<Float>(repeating: v[j])
      a0 = multiplyAdd(col[0], h0, a0)
      a1 = multiplyAdd(col[1], h0, a1)
    }
    return (a0 + c0, a1 + c1)
  }
  switch count {
  case 8: return sums(8)
  case 16: return sums(16)
  case 32: return sums(32)
  default: return sums(count)
  }
}

@inline(__always)
func scalars(_ p: UnsafePointer<SIMD8<Float>>) -> UnsafePointer<Float> {
  UnsafeRawPointer(p).assumingMemoryBound(to: Float.self)
}
