// Independent references for the runtime tests: a plain scalar Double RNN written straight from the PyTorch
// equations (no padding, no SIMD, libm tanh), random models, and a tolerance helper.

import Foundation
import RecurRuntime

/// `nn.RNN(tanh)` + `nn.Linear` in Double, exactly as PyTorch documents it.
struct ReferenceRNN {
  let file: ModelFile
  var h: [Double]
  var H: Int { file.hiddenSize }

  init(_ file: ModelFile) {
    self.file = file
    h = [Double](repeating: 0, count: file.hiddenSize)
  }

  mutating func reset() { h = [Double](repeating: 0, count: H) }

  mutating func step(_ x: Double) -> Double {
    var next = [Double](repeating: 0, count: H)
    for i in 0..<H {
      var z = Double(file.tensor(.weightIH)[i]) * x + Double(file.tensor(.biasIH)[i]) + Double(file.tensor(.biasHH)[i])
      for j in 0..<H { z += Double(file.tensor(.weightHH)[i * H + j]) * h[j] }
      next[i] = tanh(z)
    }
    h = next
    return output
  }

  var output: Double {
    var y = Double(file.tensor(.fcBias)[0])
    for j in 0..<H { y += Double(file.tensor(.fcWeight)[j]) * h[j] }
    return y
  }

  /// The notebook's `generate_sequence` (continuation only).
  mutating func generateSequence(seed: [Double], steps: Int) -> [Double] {
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
  mutating func windowDifferencesPredict(history: [Double]) -> Double {
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
struct TestRandom {
  var state: UInt64
  init(_ seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
  mutating func uniform(_ lo: Float, _ hi: Float) -> Float {
    lo + (hi - lo) * Float(next() >> 40) / Float(1 << 24)
  }
}

/// A random model with PyTorch's default initialisation scale, times `gain` (gain > 1 gives livelier dynamics).
func randomModel(
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

/// |actual − expected| ≤ tolerance · max(|expected|, floor). The floor keeps values near zero from demanding an
/// absolute accuracy no float32 computation has; it is stated at each use.
func relativeError(_ actual: Double, _ expected: Double, floor: Double) -> Double {
  abs(actual - expected) / max(abs(expected), floor)
}
