// A recurrent layer whose weights stay where the model file has them: flash, on a microcontroller
// (`RecurrentModel(inPlace:)`, recur.h's `recur_model_load_in_place`). The equations are the kind's own (RNN.swift,
// GRU.swift, LSTM.swift); so are the gate updates, called on the same 4-lane vectors.
//
// MARK: Weights in place (the file's tensors, untouched: row-major, PyTorch's gate order, G gates of H rows)
//   inputWeights      [G·H][I]   W_ih
//   recurrentWeights  [G·H][H]   W_hh
//   inputBias         [G·H]      b_ih
//   hiddenBias        [G·H]      b_hh
// Nothing is transformed at load, so the step does what the kernel layout did once: it adds b_ih + b_hh (the GRU's
// n row keeps b_hn apart) and halves the sigmoid gates' sums (exact: the halved weights gave the same halved sums).
//
// MARK: One stream's state
//   As the kind's own file (h [nv·4] read, h' written, c [nv·4] for the LSTM, zero past H); scratch: the input
//   terms [G·H] (several inputs).
//
// MARK: Step
//   Per hidden vector q (4 units) and gate g, the 4 lanes' sums run in one chain each in column order, on the same
//   4-lane vectors as the microcontroller plan's panels (KernelPlan: one chain): per column, one h[j] and the four
//   rows' weights gathered from four row pointers (the panel had them side by side). So the answers are the panel
//   layout's bit for bit (tools/firmware checks it on both boards). Lanes past H sum nothing (0), as the panel
//   layout's zero padding did.

struct InPlaceLayer {
  let kind: CellKind
  let hidden: Int
  let inputCount: Int
  let inputWeights: UnsafePointer<Float>  // [G·H][I]
  let recurrentWeights: UnsafePointer<Float>  // [G·H][H]
  let inputBias: UnsafePointer<Float>  // [G·H]
  let hiddenBias: UnsafePointer<Float>  // [G·H]

  var gates: Int { kind.gates }

  /// One step on `h` (and `c`) into `next`: `input` holds `inputCount` values; `scratch` G·nv·4 floats (the input terms,
  /// several inputs; RecurrentCell's scratch holds 4 padded hidden vectors).
  /// The panel path's vector operations on the same 4-lane values (so it rounds alike everywhere), gathered from rows.
  /// No closures: under -Osize each became a call per gate and vector (measured: 13% of a GRU 16 step in one).
  func step(
    input x: UnsafePointer<Float>, h: UnsafePointer<Float>, out next: UnsafeMutablePointer<Float>,
    c: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>
  ) {
    let H = hidden
    let one = inputCount == 1
    let xv = SIMD4<Float>(repeating: x[0])
    let half = SIMD4<Float>(repeating: 0.5)
    let terms = UnsafeMutableRawPointer(scratch).assumingMemoryBound(to: SIMD4<Float>.self)  // [G][nv] input terms
    let nv = (H &+ 3) / 4
    var q = 0
    while q < H {
      let n = min(4, H &- q)
      let v = q / 4
      if !one {  // the input terms of this hidden vector's rows: b + Σ_j W_ih[r][j] x[j]
        for g in 0..<gates {
          terms[g &* nv &+ v] = rowSums(
            inputWeights + (g &* H &+ q) &* inputCount, stride: inputCount, rows: n, x, count: inputCount,
            from: bias(g, q, n))
        }
      }
      let out = UnsafeMutableRawPointer(next + q).assumingMemoryBound(to: SIMD4<Float>.self)
      switch kind {
      case .rnn:  // one input: the x term after the sums (RNN.swift)
        let s = rowSums(
          recurrentWeights + q &* H, stride: H, rows: n, h, count: H, from: one ? bias(0, q, n) : terms[v])
        out.pointee = rationalTanh(one ? multiplyAdd(lanes(inputWeights, q, n), xv, s) : s)
      case .gru:  // n: W_hn h + b_hn, and W_in x + b_in apart (GRU.swift)
        let sr = gated(0, q, n, one ? nil : terms[v], xv, h)
        let sz = gated(1, q, n, one ? nil : terms[nv &+ v], xv, h)
        let sn = rowSums(
          recurrentWeights + (2 &* H &+ q) &* H, stride: H, rows: n, h, count: H,
          from: lanes(hiddenBias, 2 &* H &+ q, n))
        let xn = one ? multiplyAdd(lanes(inputWeights, 2 &* H &+ q, n), xv, bias(2, q, n)) : terms[2 &* nv &+ v]
        let hv = UnsafeRawPointer(h + q).assumingMemoryBound(to: SIMD4<Float>.self).pointee
        out.pointee = GRULayer.update(h: hv, r: sr * half, z: sz * half, n: sn, xn: xn)
      case .lstm:  // LSTM.swift
        let si = gated(0, q, n, one ? nil : terms[v], xv, h)
        let sf = gated(1, q, n, one ? nil : terms[nv &+ v], xv, h)
        let sg = gated(2, q, n, one ? nil : terms[2 &* nv &+ v], xv, h)
        let so = gated(3, q, n, one ? nil : terms[3 &* nv &+ v], xv, h)
        let cv = UnsafeMutableRawPointer(c + q).assumingMemoryBound(to: SIMD4<Float>.self)
        let (hNext, cNext) = LSTMLayer.update(c: cv.pointee, i: si * half, f: sf * half, g: sg, o: so * half)
        out.pointee = hNext
        cv.pointee = cNext
      }
      q &+= 4
    }
  }

  /// b_ih + b_hh of gate g's rows q ..< q + n (the GRU's n gate: b_in alone).
  @inline(__always)
  func bias(_ g: Int, _ q: Int, _ n: Int) -> SIMD4<Float> {
    let b = lanes(inputBias, g &* hidden &+ q, n)
    return kind == .gru && g == 2 ? b : b + lanes(hiddenBias, g &* hidden &+ q, n)
  }

  /// A gated row's sum: the recurrent sum from the bias (one input) or the input term `term`, then the x term.
  @inline(__always)
  func gated(
    _ g: Int, _ q: Int, _ n: Int, _ term: SIMD4<Float>?, _ xv: SIMD4<Float>, _ h: UnsafePointer<Float>
  ) -> SIMD4<Float> {
    let r = g &* hidden &+ q
    let s = rowSums(
      recurrentWeights + r &* hidden, stride: hidden, rows: n, h, count: hidden, from: term ?? bias(g, q, n))
    return term == nil ? multiplyAdd(lanes(inputWeights, r, n), xv, s) : s
  }
}

/// p[start ..< start + n] as four lanes, zero past n.
@inline(__always)
func lanes(_ p: UnsafePointer<Float>, _ start: Int, _ n: Int) -> SIMD4<Float> {
  n == 4 ? SIMD4<Float>(p[start], p[start &+ 1], p[start &+ 2], p[start &+ 3]) : partialLanes(p, start, n)
}

@inline(never)
func partialLanes(_ p: UnsafePointer<Float>, _ start: Int, _ n: Int) -> SIMD4<Float> {
  var v = SIMD4<Float>()
  for l in 0..<n { v[l] = p[start &+ l] }
  return v
}

/// from + Σ_j W[l][j] · v[j] for the `rows` (≤ 4) rows l of W, `stride` floats apart: one chain per lane in column
/// order, the microcontroller plan's `oneChainSums` on the same vectors, the column's four weights gathered from
/// four row pointers instead of loaded from a panel. Lanes past `rows` are 0, as the panel's zero padding gave.
/// On the Cortex-M4F the column costs 16 instructions for 4 multiply-adds (an address add per load; the panel's
/// contiguous loads cost 2.3 per multiply-add); stepping four pointers instead of one index measured 2% worse.
@inline(__always)
func rowSums(
  _ w: UnsafePointer<Float>, stride: Int, rows: Int, _ v: UnsafePointer<Float>, count: Int,
  from initial: SIMD4<Float>
) -> SIMD4<Float> {
  // Rows past `rows` read row 0 (valid memory) and are cleared at the end.
  let (p1, p2, p3) = (rows > 1 ? w + stride : w, rows > 2 ? w + 2 &* stride : w, rows > 3 ? w + 3 &* stride : w)
  var acc = initial
  for j in 0..<count {
    acc = multiplyAdd(SIMD4<Float>(w[j], p1[j], p2[j], p3[j]), SIMD4<Float>(repeating: v[j]), acc)
  }
  return rows < 4 ? clearedLanes(acc, from: rows) : acc
}

@inline(never)
func clearedLanes(_ v: SIMD4<Float>, from rows: Int) -> SIMD4<Float> {
  var out = v
  for l in rows..<4 { out[l] = 0 }
  return out
}
