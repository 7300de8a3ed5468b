// The dense layers of a chain (format version 5): `y = activation(W x + b)` before the recurrent stack, as the
// readout with its activation, and after it. They sit on the step's critical path (the next step waits for this
// one's output), so the kernel keeps every output in registers from the first multiply-add to the activation:
//
//   for each block of 8 outputs:  even = b + Σ_{j even} x_j · W[:, j],  odd = Σ_{j odd} x_j · W[:, j]
//                                 y = activation(even + odd)                 (two chains of multiply-adds)
//
// x_j is one scalar load and broadcast, a column of 8 weights one vector load; the result is one vector store. A
// per-output dot product instead stored scalars that the activation then loaded as one vector, which the CPU
// cannot forward from the stores: measured (tools/bench-amp, AVX2) the three dense layers of RTNeural's test model,
// 80 multiply-adds, cost 79.5 ns that way.
//
// Inputs are read as `inputs` scalars, so any buffer works (no padding needed); outputs fill whole blocks of 8, the
// lanes past `outputs` holding activation(0) (never read: the next layer reads `inputs` scalars). SIMD8 on every
// CPU: eight outputs is what these layers have, and the order of the sums is then the same everywhere.

/// One dense layer in kernel layout.
struct DenseKernel {
  let inputs: Int
  let outputs: Int
  /// Blocks of 8 outputs.
  let blocks: Int
  let activation: Activation
  let columns: UnsafeMutablePointer<Float>  // [inputs][blocks][8]: W[o][j] at (j·blocks + o / 8)·8 + o % 8, zero past outputs
  let bias: UnsafeMutablePointer<Float>  // [blocks][8] zero past outputs

  /// From nn.Linear's layout: `weight` [outputs][inputs] row-major, `bias` [outputs].
  init(_ layer: DenseLayer, weight: [Float], bias values: [Float], storage: FloatStorage) {
    (inputs, outputs, activation) = (layer.inputs, layer.outputs, layer.activation)
    blocks = (outputs + 7) / 8
    columns = storage.take(inputs * blocks * 8)
    for o in 0..<outputs {
      for j in 0..<inputs { columns[j * blocks * 8 + o] = weight[o * inputs + j] }
    }
    bias = storage.take(blocks * 8)
    bias.update(from: values, count: outputs)
  }

  /// y[0 ..< outputs] = activation(W x + b). `x` holds `inputs` floats; `y` holds `blocks`·8 floats, 32-byte aligned,
  /// and must not overlap `x`.
  @inline(__always)
  func apply(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    typealias V = SIMD8<Float>
    let w = UnsafeRawPointer(columns).assumingMemoryBound(to: V.self)
    let b = UnsafeRawPointer(bias).assumingMemoryBound(to: V.self)
    let out = UnsafeMutableRawPointer(y).assumingMemoryBound(to: V.self)
    for k in 0..<blocks {
      var even = b[k]
      var odd = V()
      var j = 0
      while j + 1 < inputs {
        even = V.multiplyAdd(w[j * blocks + k], V(repeating: x[j]), even)
        odd = V.multiplyAdd(w[(j + 1) * blocks + k], V(repeating: x[j + 1]), odd)
        j += 2
      }
      if j < inputs { even = V.multiplyAdd(w[j * blocks + k], V(repeating: x[j]), even) }
      out[k] = activated(activation, even + odd)
    }
    if activation == .softmax { softmax(y, count: outputs) }
  }
}

/// The lane-wise activations on eight lanes: tanh and σ are the cells' (Activations.swift), e^x is `fastExp`.
/// Softmax needs the whole layer (`softmax` below) and passes here unchanged.
@inline(__always)
func activated(_ activation: Activation, _ v: SIMD8<Float>) -> SIMD8<Float> {
  switch activation {
  case .none, .softmax: v
  case .tanh: fastTanh(v)
  case .sigmoid: fastSigmoid(v)
  case .relu: v.replacing(with: 0, where: v .< 0)
  case .elu: v.replacing(with: fastExp(v) - 1, where: v .<= 0)
  }
}

/// v[0 ..< count] = e^(v_i − max v) / Σ_j e^(v_j − max v), in place (v holds whole blocks of 8, 32-byte aligned).
func softmax(_ v: UnsafeMutablePointer<Float>, count: Int) {
  var largest = v[0]
  for i in 1..<max(count, 1) where v[i] > largest { largest = v[i] }
  let vectors = UnsafeMutableRawPointer(v).assumingMemoryBound(to: SIMD8<Float>.self)
  var sum: Float = 0
  for b in 0..<((count + 7) / 8) {
    let e = fastExp(vectors[b] - SIMD8(repeating: largest))
    for lane in 0..<8 where 8 * b + lane < count { sum += e[lane] }
    vectors[b] = e
  }
  for i in 0..<count { v[i] /= sum }
}
