// The SIMD cell against the scalar Double reference, for hidden sizes around every padding boundary.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct CellTests {
  static let sizes = [1, 3, 8, 15, 16, 17, 32, 33, 64, 100, 256]

  /// 3,000 steps of random inputs in [-1.5, 1.5] (and occasional ±4 spikes that drive units into saturation), on
  /// weights drawn like PyTorch's default initialisation (a contractive recurrence; with larger gains the dynamics
  /// turn chaotic and any two float implementations drift apart, whatever their accuracy).
  /// Tolerance 1e-5 relative, floor 0.1: outputs and states are sums of H terms of size 0.01...1, and where such a
  /// sum cancels to nearly zero it still carries float32 rounding of ~1e-7 absolute that no float32 implementation
  /// (PyTorch's included) avoids; the floor measures those against the terms' scale. A wrong weight, layout or
  /// padding lane is off by far more than 1e-6.
  @Test(arguments: sizes)
  func stepMatchesScalarDoubleReference(hidden: Int) {
    let file = randomModel(hidden: hidden, seed: UInt64(hidden))
    let cell = RecurrentCell(model: RecurrentModel(file))
    var reference = ReferenceRNN(file)
    var rng = TestRandom(99)
    var worst = 0.0
    var state = [Float](repeating: 0, count: hidden)
    for t in 0..<3000 {
      let x = t % 97 == 0 ? (t % 2 == 0 ? 4 : -4) : rng.uniform(-1.5, 1.5)
      let y = Double(cell.step(x))
      let expected = reference.step(Double(x))
      worst = max(worst, relativeError(y, expected, floor: 0.1))
      if t % 250 == 0 {
        state.withUnsafeMutableBufferPointer { cell.copyHiddenState(into: $0) }
        for i in 0..<hidden { worst = max(worst, relativeError(Double(state[i]), reference.h[i], floor: 0.1)) }
      }
    }
    #expect(worst <= 1e-5, "H=\(hidden): worst relative error \(worst)")
  }

  @Test(arguments: sizes)
  func resetReturnsToZeroState(hidden: Int) {
    let file = randomModel(hidden: hidden, seed: 7)
    let cell = RecurrentCell(model: RecurrentModel(file))
    let first = cell.step(0.3)
    for _ in 0..<10 { _ = cell.step(0.9) }
    cell.reset()
    #expect(cell.step(0.3) == first)
  }

  /// The notebook's generate_sequence, 30 steps, against the Double reference; includes the folded feedback path.
  @Test(arguments: sizes)
  func seedFaithfulGenerationMatchesReference(hidden: Int) {
    let file = randomModel(hidden: hidden, seed: UInt64(1000 + hidden), gain: 1.5)
    let predictor = SequencePredictor(model: RecurrentModel(file))
    var reference = ReferenceRNN(file)
    for seed: [Float] in [[1, 3, 5, 7, 9], [1, 1, 2, 3, 5, 8], [0.25], [-3, 40, -7]] {
      let expected = reference.generateSequence(seed: seed.map(Double.init), steps: 30)
      var got = [Float](repeating: 0, count: 30)
      seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      got.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      let scale = max(1, Double(seed.map(abs).max()!))
      // Floor: 0.1 of the seed's scale (outputs are scale × a readout sum; see stepMatchesScalarDoubleReference).
      let worst = zip(got, expected).map { relativeError(Double($0), $1, floor: 0.1 * scale) }.max()!
      #expect(worst <= 1e-5, "H=\(hidden) seed \(seed): worst relative error \(worst)")
    }
  }

  /// Generating 40 values in chunks of 1, 3 and 40 gives the same values: chunking is invisible.
  @Test func generationIsChunkInvariant() {
    for encoding in [Encoding.sequenceMaxScale, .windowDifferences] {
      let file = randomModel(hidden: 24, seed: 5, encoding: encoding, context: 4)
      let predictor = SequencePredictor(model: RecurrentModel(file))
      let seed: [Float] = [2, 4, 6, 8]
      var runs: [[Float]] = []
      for chunk in [1, 3, 40] {
        seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
        var all: [Float] = []
        var part = [Float](repeating: 0, count: chunk)
        while all.count < 40 {
          part.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
          all += part
        }
        runs.append(Array(all.prefix(40)))
      }
      // The folded feedback path starts at each chunk's second value, so chunks differ by rounding only.
      for run in runs.dropFirst() {
        let worst = zip(run, runs[0]).map { relativeError(Double($0), Double($1), floor: 0.1) }.max()!
        #expect(worst <= 1e-5, "\(encoding): chunked generation differs by \(worst)")
      }
    }
  }
}
