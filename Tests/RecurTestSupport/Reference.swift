// Independent references for every test target: scalar Double cells of each kind written straight from the PyTorch
// equations (no padding, no SIMD, libm tanh and exp), random models of any architecture, one tolerance helper and
// one deterministic generator.
//
// Built on `RecurRuntime` (the portable compile of the runtime) for its model-file types. RecurCLITests, whose
// models must match the `recur` binary's native compile bit for bit, builds its own models with
// `RecurRuntimeNative`'s types from `TestRandom.tensors` (the same draws).

import Foundation
import RecurRuntime

/// `nn.RNN(tanh)` + `nn.Linear` in Double, exactly as PyTorch documents it.
public struct ReferenceRNN {
  public let file: ModelFile
  public var h: [Double]
  public var H: Int { file.hiddenSize }
  // The file's tensors, widened once (looked up per weight, a debug build spent minutes in `file.tensor`).
  private let weightIH, weightHH, biasIH, biasHH, fcWeight: [Double]
  private let fcBias: Double

  public init(_ file: ModelFile) {
    self.file = file
    h = [Double](repeating: 0, count: file.hiddenSize)
    let widened = { (role: TensorRole) in file.tensor(role).map(Double.init) }
    (weightIH, weightHH, biasIH, biasHH) = (widened(.weightIH), widened(.weightHH), widened(.biasIH), widened(.biasHH))
    (fcWeight, fcBias) = (widened(.fcWeight), Double(file.tensor(.fcBias)[0]))
  }

  public mutating func reset() { h = [Double](repeating: 0, count: H) }

  public mutating func step(_ x: Double) -> Double {
    var next = [Double](repeating: 0, count: H)
    let n = H
    weightHH.withUnsafeBufferPointer { w in  // buffer pointers: a debug build's array accesses made this minutes
      h.withUnsafeBufferPointer { hv in
        for i in 0..<n {
          var z = weightIH[i] * x + biasIH[i] + biasHH[i]
          for j in 0..<n { z += w[i * n + j] * hv[j] }
          next[i] = tanh(z)
        }
      }
    }
    h = next
    return output
  }

  public var output: Double {
    var y = fcBias
    for j in 0..<H { y += fcWeight[j] * h[j] }
    return y
  }

  /// The notebook's `generate_sequence` (continuation only).
  public mutating func generateSequence(seed: [Double], steps: Int) -> [Double] {
    let scale = max(1.0, seed.map(abs).max()!)
    reset()
    for v in seed { _ = step(v / scale) }
    var last = seed.last! / scale
    var out: [Double] = []
    for _ in 0..<steps {
      let pred = step(last)
      out.append(pred * scale)
      last = pred
    }
    return out
  }

  /// The window-differences encoding, written out independently of `WindowDifferences`.
  public mutating func windowDifferencesPredict(history: [Double]) -> Double {
    let k = file.contextLength
    let recent = Array(history.suffix(k + 1))
    var d = [Double](repeating: 0, count: k)
    let m = recent.count - 1
    for i in 0..<m { d[k - m + i] = recent[i + 1] - recent[i] }
    var s = d.map(abs).max() ?? 0
    if s == 0 { s = 1 }
    reset()
    var y = 0.0
    for v in d { y = step(v / s) }
    return recent.last! + s * y
  }
}

/// A deterministic generator for test data (SplitMix64).
public struct TestRandom {
  public var state: UInt64
  public init(_ seed: UInt64) { state = seed }
  public mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  public mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
    lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
  }

  /// One tensor per count, every value uniform on ±bound (PyTorch's initialisation is ±1/sqrt(H)).
  public mutating func tensors(_ counts: [Int], bound: Float) -> [[Float]] {
    counts.map { n in (0..<n).map { _ in uniform(-bound, bound) } }
  }
}

/// A random model with PyTorch's default initialisation scale, times `gain` (gain > 1 gives livelier dynamics).
public func randomModel(
  hidden: Int, seed: UInt64, gain: Float = 1, encoding: Encoding = .sequenceMaxScale, context: Int = 5
) -> ModelFile {
  var rng = TestRandom(seed)
  let bound = gain / Float(hidden).squareRoot()
  func tensor(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform(-bound, bound) } }
  var file = ModelFile(
    hiddenSize: hidden, contextLength: context, encoding: encoding,
    weightIH: tensor(hidden), weightHH: tensor(hidden * hidden), biasIH: tensor(hidden), biasHH: tensor(hidden),
    fcWeight: tensor(hidden), fcBias: tensor(1))
  file.provenance.family = "test"
  file.provenance.seed = seed
  return file
}

/// |actual − expected| / max(|expected|, floor), the one relative error of every test: `expected` is the reference
/// (a Double computation, a finite difference, a closed form). The floor keeps values near zero from demanding an
/// absolute accuracy no float32 computation has; it is stated at each use.
public func relativeError(_ actual: Double, _ expected: Double, floor: Double) -> Double {
  abs(actual - expected) / max(abs(expected), floor)
}

/// Any stack of `nn.RNN` (tanh) / `nn.GRU` / `nn.LSTM` layers and an `nn.Linear` readout in Double, written straight
/// from PyTorch's documented equations (gate orders r,z,n and i,f,g,o), with libm tanh and exp: no padding, no SIMD,
/// no fused gates.
///
/// A chain (format version 5) adds, from ModelFormat.md's equations: dense layers before and after (libm tanh, exp),
/// the readout's activation, the input skip and learned initial states.
public struct ReferenceStack {
  public let file: ModelFile
  public var h: [[Double]]  // [layers][H]
  public var c: [[Double]]  // [layers][H] (LSTM)
  public var lastInput: [Double] = []  // the latest step's inputs (the skip adds the first ones)
  public var a: Architecture { file.architecture }

  public init(_ file: ModelFile) {
    self.file = file
    h = [[Double]](repeating: [Double](repeating: 0, count: file.hiddenSize), count: file.layers)
    c = h
    reset()
  }

  public mutating func reset() {
    for k in h.indices {
      h[k] = [Double](repeating: 0, count: a.hiddenSize)
      c[k] = h[k]
      if a.learnedInitialState {
        h[k] = file.tensor(.initialHidden, layer: k).map(Double.init)
        if a.kind == .lstm { c[k] = file.tensor(.initialCell, layer: k).map(Double.init) }
      }
    }
  }

  /// `activation(W x + b)` of one dense layer, W [out][in] row-major.
  public static func dense(_ d: DenseLayer, weight: [Float], bias: [Float], _ x: [Double]) -> [Double] {
    let y = (0..<d.outputs).map { o in
      (0..<d.inputs).reduce(Double(bias[o])) { $0 + Double(weight[o * d.inputs + $1]) * x[$1] }
    }
    return activated(d.activation, y)
  }

  public static func activated(_ activation: Activation, _ y: [Double]) -> [Double] {
    switch activation {
    case .none: return y
    case .tanh: return y.map { tanh($0) }
    case .sigmoid: return y.map(sigmoid)
    case .relu: return y.map { max(0, $0) }
    case .elu: return y.map { $0 > 0 ? $0 : exp($0) - 1 }
    case .softmax:
      let m = y.max()!
      let e = y.map { exp($0 - m) }
      let sum = e.reduce(0, +)
      return e.map { $0 / sum }
    }
  }

  public static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

  /// Row `row` of weight_ih_l{k} · x + bias_ih + (row of weight_hh · h + bias_hh), split in the two halves GRU needs.
  public func affine(_ k: Int, row: Int, x: [Double]) -> (input: Double, hidden: Double) {
    let H = a.hiddenSize
    let I = x.count
    var input = Double(file.tensor(.biasIH, layer: k)[row])
    var hidden = Double(file.tensor(.biasHH, layer: k)[row])
    // Buffer pointers: a debug build's nested-array accesses made the larger tests take minutes.
    file.tensor(.weightIH, layer: k).withUnsafeBufferPointer { wih in
      x.withUnsafeBufferPointer { xv in
        for j in 0..<I { input += Double(wih[row * I + j]) * xv[j] }
      }
    }
    file.tensor(.weightHH, layer: k).withUnsafeBufferPointer { whh in
      h[k].withUnsafeBufferPointer { hv in
        for j in 0..<H { hidden += Double(whh[row * H + j]) * hv[j] }
      }
    }
    return (input, hidden)
  }

  public mutating func step(_ x: [Double]) -> [Double] {
    let H = a.hiddenSize
    lastInput = x
    var input = x
    for (j, d) in a.inputLayers.enumerated() {
      input = Self.dense(
        d, weight: file.tensor(.denseWeight, layer: j), bias: file.tensor(.denseBias, layer: j), input)
    }
    for k in 0..<a.layers {
      var next = [Double](repeating: 0, count: H)
      for i in 0..<H {
        switch a.kind {
        case .rnn:
          let (u, v) = affine(k, row: i, x: input)
          next[i] = tanh(u + v)
        case .gru:
          let (ur, vr) = affine(k, row: i, x: input)
          let (uz, vz) = affine(k, row: H + i, x: input)
          let (un, vn) = affine(k, row: 2 * H + i, x: input)
          let r = Self.sigmoid(ur + vr)
          let z = Self.sigmoid(uz + vz)
          let n = tanh(un + r * vn)
          next[i] = (1 - z) * n + z * h[k][i]
        case .lstm:
          let (ui, vi) = affine(k, row: i, x: input)
          let (uf, vf) = affine(k, row: H + i, x: input)
          let (ug, vg) = affine(k, row: 2 * H + i, x: input)
          let (uo, vo) = affine(k, row: 3 * H + i, x: input)
          let cell = Self.sigmoid(uf + vf) * c[k][i] + Self.sigmoid(ui + vi) * tanh(ug + vg)
          c[k][i] = cell
          next[i] = Self.sigmoid(uo + vo) * tanh(cell)
        }
      }
      h[k] = next
      input = next
    }
    return output
  }

  public var output: [Double] {
    let H = a.hiddenSize
    let w = file.tensor(.fcWeight)
    let b = file.tensor(.fcBias)
    var y = (0..<a.fcRows).map { o in  // a mixture: its expert logits
      var y = Double(b[o])
      for j in 0..<H { y += Double(w[o * H + j]) * h[a.layers - 1][j] }
      return y
    }
    y = Self.activated(a.readoutActivation, y)
    for (m, d) in a.outputLayers.enumerated() {
      let at = a.outputLayerPosition(m)
      y = Self.dense(d, weight: file.tensor(.denseWeight, layer: at), bias: file.tensor(.denseBias, layer: at), y)
    }
    for o in 0..<a.inputSkip { y[o] += lastInput[o] }
    return y
  }
}

/// A random model of any architecture: every tensor uniform on ±gain/sqrt(H) (PyTorch's default scale times gain).
public func randomModel(
  _ architecture: Architecture, seed: UInt64, gain: Float = 1, encoding: Encoding = .identity, context: Int = 5
) -> ModelFile {
  var rng = TestRandom(seed)
  let tensors = rng.tensors(
    architecture.tensors.map(\.count), bound: gain / Float(architecture.hiddenSize).squareRoot())
  var file = ModelFile(architecture: architecture, contextLength: context, encoding: encoding, tensors: tensors)
  if encoding.isStandardized {  // shifts in ±1, scales in 0.5...2
    let (I, O) = (architecture.inputSize, architecture.outputSize)
    file.normalization = Normalization(
      inputShift: (0..<I).map { _ in rng.uniform(-1, 1) }, inputScale: (0..<I).map { _ in rng.uniform(0.5, 2) },
      outputShift: (0..<O).map { _ in rng.uniform(-1, 1) }, outputScale: (0..<O).map { _ in rng.uniform(0.5, 2) })
  }
  file.provenance.family = "test"
  file.provenance.seed = seed
  return file
}
