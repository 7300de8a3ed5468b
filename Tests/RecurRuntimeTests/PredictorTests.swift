// Encodings: causal stream normalisation and window-differences, against independent Double references.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct PredictorTests {
  /// Stream (sequence-max-scale): after v_t the scale is max(1, |v_1..v_t|); the state is carried.
  @Test func streamNormalisationIsCausal() {
    let file = randomModel(hidden: 16, seed: 3, gain: 1.5)
    let predictor = SequencePredictor(model: RecurrentModel(file))
    var reference = ReferenceRNN(file)
    let values: [Float] = [0.5, 3, 2, 10, -20, 7, 0, 21, 1]
    var scale = 1.0
    for v in values {
      scale = max(scale, abs(Double(v)))
      let expected = reference.step(Double(v) / scale) * scale
      let got = Double(predictor.observe(v))
      #expect(relativeError(got, expected, floor: 0.1 * scale) <= 1e-5, "value \(v)")
    }
    // A prediction never depends on later values: replaying a prefix reproduces the same predictions.
    predictor.reset()
    let prefix = values.prefix(4).map { predictor.observe($0) }
    predictor.reset()
    let full = values.map { predictor.observe($0) }
    #expect(Array(full.prefix(4)) == prefix)
  }

  @Test(arguments: [1, 2, 4, 6])
  func windowDifferencesMatchesReference(context: Int) {
    let file = randomModel(hidden: 20, seed: UInt64(context), gain: 1.5, encoding: .windowDifferences, context: context)
    let predictor = SequencePredictor(model: RecurrentModel(file))
    var reference = ReferenceRNN(file)
    let values: [Float] = [5, 8, 13, 21, 34, 55, 89, 144, 100, 100, 100, -3]
    var history: [Double] = []
    for v in values {
      history.append(Double(v))
      let expected = reference.windowDifferencesPredict(history: history)
      let got = Double(predictor.observe(v))
      #expect(relativeError(got, expected, floor: 1) <= 1e-5, "after \(v): \(got) vs \(expected)")
    }
    // Generation continues from the seed's history with the same function.
    let seed: [Float] = [1, 1, 2, 3, 5, 8]
    var out = [Float](repeating: 0, count: 12)
    seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
    out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    history = seed.map(Double.init)
    for got in out {
      let expected = reference.windowDifferencesPredict(history: history)
      #expect(relativeError(Double(got), expected, floor: 1) <= 1e-5)
      history.append(Double(got))  // the runtime feeds back its own Float values
    }
  }

  /// An exactly invariant case: a cell whose readout is the constant 1 predicts last + max|d| on every window,
  /// so an arithmetic progression with step 2 continues exactly from any start (the encoding's whole point).
  @Test func windowDifferencesIsTranslationInvariant() {
    var file = randomModel(hidden: 8, seed: 1, encoding: .windowDifferences, context: 3)
    file.setTensor(.fcWeight, to: [Float](repeating: 0, count: 8))
    file.setTensor(.fcBias, to: [1])
    let predictor = SequencePredictor(model: RecurrentModel(file))
    for start: Float in [1, 21, 101, 999, -1001] {
      let seed = (0..<5).map { start + 2 * Float($0) }
      var out = [Float](repeating: 0, count: 20)
      seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      #expect(out == (0..<20).map { seed.last! + 2 * Float($0 + 1) })
    }
  }

  @Test func trainingExamplesMatchTheStreamingFunction() {
    // WindowDifferences.example is what the trainer fits; it must be the encoding the predictor applies.
    let values: [Float] = [2, 3, 5, 8, 13, 21]
    let (inputs, scale, target) = WindowDifferences.example(values: values, t: 2, k: 4)
    #expect(inputs == [0, 0, 1.0 / 2, 2.0 / 2])  // differences 1, 2 left-padded, divided by 2
    #expect(scale == 2)
    #expect(target == 3.0 / 2)
  }
}
