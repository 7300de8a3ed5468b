// Every cell kind and depth against the scalar Double reference stack: GRU and LSTM gates, stacking, several inputs
// and outputs, hidden sizes around the padding boundaries.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct StackTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let architecture: Architecture
    var testDescription: String {
      let a = architecture
      return "\(a.kind.name) L=\(a.layers) I=\(a.inputSize) H=\(a.hiddenSize) O=\(a.outputSize)"
    }
  }

  static let cases: [Case] =
    CellKind.allCases.flatMap { kind in
      [1, 2, 3].flatMap { layers in
        [(1, 1), (3, 2)].flatMap { io in
          [5, 17].map { h in
            Case(
              architecture: Architecture(
                kind: kind, layers: layers, inputSize: io.0, hiddenSize: h, outputSize: io.1))
          }
        }
      }
    }
    + CellKind.allCases.flatMap { kind in
      [1, 8, 16, 32, 33, 64].map { h in Case(architecture: Architecture(kind: kind, hiddenSize: h)) }
    }

  /// 2,000 steps of random inputs in [-1.5, 1.5] with a ±4 spike every 97 steps (saturating gates), on weights at
  /// PyTorch's initialisation scale × 1.5. Tolerance 1e-5 relative, floor 0.1, as for the vanilla cell (CellTests):
  /// readouts are sums of H terms of size 0.01...1 whose float32 rounding no float32 implementation avoids. The
  /// hidden and (LSTM) cell states of every layer are compared too, every 250 steps.
  @Test(arguments: cases)
  func stackMatchesScalarDoubleReference(_ c: Case) {
    let a = c.architecture
    let file = randomModel(a, seed: UInt64(a.hiddenSize * 100 + a.layers * 10 + a.inputSize), gain: 1.5)
    let cell = RecurrentCell(model: RecurrentModel(file))
    var reference = ReferenceStack(file)
    var rng = TestRandom(7)
    var worst = 0.0
    var x = [Float](repeating: 0, count: a.inputSize)
    var y = [Float](repeating: 0, count: a.outputSize)
    var lanes = [Float](repeating: 0, count: a.hiddenSize)
    for t in 0..<2000 {
      for i in 0..<a.inputSize { x[i] = rng.uniform(-1.5, 1.5) }
      if t % 97 == 0 { x[0] = t % 2 == 0 ? 4 : -4 }
      x.withUnsafeBufferPointer { xs in
        y.withUnsafeMutableBufferPointer { cell.step(xs.baseAddress!, into: $0.baseAddress!) }
      }
      let expected = reference.step(x.map(Double.init))
      for o in 0..<a.outputSize { worst = max(worst, relativeError(Double(y[o]), expected[o], floor: 0.1)) }
      if t % 250 == 0 {
        for k in 0..<a.layers {
          lanes.withUnsafeMutableBufferPointer { cell.copyHiddenState(layer: k, into: $0) }
          for i in 0..<a.hiddenSize {
            worst = max(worst, relativeError(Double(lanes[i]), reference.h[k][i], floor: 0.1))
          }
          if a.kind == .lstm {
            lanes.withUnsafeMutableBufferPointer { cell.copyCellState(layer: k, into: $0) }
            for i in 0..<a.hiddenSize {
              worst = max(worst, relativeError(Double(lanes[i]), reference.c[k][i], floor: 0.1))
            }
          }
        }
      }
    }
    #expect(worst <= 1e-5, "\(c.testDescription): worst relative error \(worst)")
  }

  /// The scalar `step(Float)`, `prime` and free-running generation agree with the vector API for every kind.
  @Test(arguments: CellKind.allCases)
  func scalarAndVectorPathsAgree(kind: CellKind) {
    let file = randomModel(Architecture(kind: kind, layers: 2, hiddenSize: 12), seed: 3, gain: 1.5)
    let model = RecurrentModel(file)
    let a = RecurrentCell(model: model)
    let b = RecurrentCell(model: model)
    var y: Float = 0
    for t in 0..<50 {
      var x = Float(t % 7) * 0.3 - 1
      let scalar = a.step(x)
      b.step(&x, into: &y)
      #expect(scalar == y)
    }
    var generated = [Float](repeating: 0, count: 20)
    generated.withUnsafeMutableBufferPointer { a.freeRun(firstInput: 0.5, into: $0) }
    var reference = ReferenceStack(file)
    for t in 0..<50 { _ = reference.step([Double(Float(t % 7) * 0.3 - 1)]) }
    var input = 0.5
    for v in generated {
      let expected = reference.step([input])[0]
      #expect(relativeError(Double(v), expected, floor: 0.1) <= 1e-5)
      input = Double(v)
    }
  }

  /// Identity-encoded multi-channel generation: the seed's steps in, each readout fed back.
  @Test func multiChannelGenerationFeedsOutputsBack() {
    let file = randomModel(Architecture(kind: .lstm, layers: 2, inputSize: 3, hiddenSize: 9, outputSize: 3), seed: 5)
    let predictor = SequencePredictor(model: RecurrentModel(file))
    let seed: [Float] = [0.1, 0.2, 0.3, -0.5, 0.0, 0.25]  // two steps of three values
    var out = [Float](repeating: 0, count: 3 * 6)
    seed.withUnsafeBufferPointer { predictor.begin(steps: $0.baseAddress!, count: 2) }
    out.withUnsafeMutableBufferPointer { predictor.generate(steps: 6, into: $0.baseAddress!) }
    var reference = ReferenceStack(file)
    _ = reference.step([0.1, 0.2, 0.3])
    var input = [-0.5, 0.0, 0.25]
    for t in 0..<6 {
      let expected = reference.step(input)
      for o in 0..<3 { #expect(relativeError(Double(out[3 * t + o]), expected[o], floor: 0.1) <= 1e-5) }
      input = (0..<3).map { Double(out[3 * t + $0]) }
    }
  }

  /// One-layer models generate through their feedback weights (the readout folded into the recurrent matrix; not
  /// for GRU, which generates through its plain step): the continuation matches the reference fed its own outputs.
  @Test(arguments: [(CellKind.rnn, 20), (.gru, 12), (.gru, 32), (.gru, 40), (.lstm, 16), (.lstm, 3)])
  func foldedGenerationMatchesReference(kind: CellKind, hidden: Int) {
    let file = randomModel(Architecture(kind: kind, hiddenSize: hidden), seed: 11, gain: 1.5)
    let cell = RecurrentCell(model: RecurrentModel(file))
    var out = [Float](repeating: 0, count: 40)
    out.withUnsafeMutableBufferPointer { cell.freeRun(firstInput: 0.7, into: $0) }
    var reference = ReferenceStack(file)
    var input = 0.7
    for v in out {
      let expected = reference.step([input])[0]
      #expect(relativeError(Double(v), expected, floor: 0.1) <= 1e-5)
      input = Double(v)
    }
  }
}
