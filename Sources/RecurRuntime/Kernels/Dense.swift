// The dense layers of a chain (format version 5): `y = activation(W x + b)` before the recurrent stack, as the
// readout's activation, and after it. They run once per time step on a handful of values, off the recurrent
// critical path, so one plain kernel serves every width: each output is `dot` (eight partial sums, the readout's
// kernel) over the inputs padded to a multiple of 8, then the activation on eight lanes at a time.
//
// Buffers handed between layers hold `roundUp(count, 8)` floats, zero past `count`: `apply` writes the zeros, so a
// layer never reads a stale value of a wider layer before it (0 · a stale infinity would be NaN).

/// One dense layer in kernel layout.
struct DenseKernel {
  let inputs: Int
  let outputs: Int
  /// `inputs` rounded up to 8: the floats `dot` reads per row.
  let lanes: Int
  let activation: Activation
  let rows: UnsafeMutablePointer<Float>  // [outputs][lanes] row-major, W[o][j] at o·lanes + j, zero past inputs
  let bias: UnsafeMutablePointer<Float>  // [outputs]

  /// From nn.Linear's layout: `weight` [outputs][inputs] row-major, `bias` [outputs].
  init(_ layer: DenseLayer, weight: [Float], bias values: [Float], storage: FloatStorage) {
    (inputs, outputs, activation) = (layer.inputs, layer.outputs, layer.activation)
    lanes = roundUp(inputs, 8)
    rows = storage.take(outputs * lanes)
    for o in 0..<outputs {
      for j in 0..<inputs { rows[o * lanes + j] = weight[o * inputs + j] }
    }
    bias = storage.take(outputs)
    bias.update(from: values, count: outputs)
  }

  /// y[0 ..< outputs] = activation(W x + b), zero from `outputs` to `roundUp(outputs, 8)`. `x` holds `lanes`
  /// floats, zero past `inputs`; `y` must not overlap it.
  @inline(__always)
  func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    for o in 0..<outputs { y[o] = dot(rows + o * lanes, x, lanes: lanes, bias: bias[o]) }
    for o in outputs..<roundUp(outputs, 8) { y[o] = 0 }
    activate(activation, y, count: outputs)
  }
}

/// Applies `activation` to v[0 ..< count] in place, eight lanes at a time (v holds `roundUp(count, 8)` floats, 32-byte
/// aligned; lanes past `count` are left at zero). tanh and σ are the cells' (Activations.swift), e^x is `fastExp`.
@inline(__always)
func activate(_ activation: Activation, _ v: UnsafeMutablePointer<Float>, count: Int) {
  guard activation != .none else { return }
  let blocks = roundUp(count, 8) / 8
  let vectors = UnsafeMutableRawPointer(v).assumingMemoryBound(to: SIMD8<Float>.self)
  switch activation {
  case .none: return
  case .tanh: for b in 0..<blocks { vectors[b] = fastTanh(vectors[b]) }
  case .sigmoid: for b in 0..<blocks { vectors[b] = fastSigmoid(vectors[b]) }
  case .relu: for b in 0..<blocks { vectors[b].replace(with: 0, where: vectors[b] .< 0) }
  case .elu:
    for b in 0..<blocks {
      let x = vectors[b]
      vectors[b] = x.replacing(with: fastExp(x) - 1, where: x .<= 0)
    }
  case .softmax:
    var largest = v[0]
    for i in 1..<max(count, 1) where v[i] > largest { largest = v[i] }
    var sum: Float = 0
    for b in 0..<blocks {
      let e = fastExp(vectors[b] - SIMD8(repeating: largest))
      for lane in 0..<8 where 8 * b + lane < count { sum += e[lane] }
      vectors[b] = e
    }
    for i in 0..<count { v[i] /= sum }
  }
  // The padding stays zero for the next layer (σ(0), e^0 and the softmax's lanes are not).
  for i in count..<(8 * blocks) { v[i] = 0 }
}
