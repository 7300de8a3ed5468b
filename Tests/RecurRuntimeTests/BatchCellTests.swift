// BatchCell against two independent answers per stream: the scalar Double reference stack (PyTorch's equations)
// within float tolerance, and a RecurrentCell fed the same inputs, bit for bit (the batch cell performs the same
// operations in the same order per stream; `recur stream --streams` relies on it). 19 streams (two groups of 16, the
// second partly used), every kind, stacked layers, several inputs and outputs, hidden sizes around the padding and
// chain boundaries (the column kernel's 4-chain tail below 4 blocks, 2 chains in full panels), streams reset
// independently, and steps where only some streams advance.

import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct BatchCellTests {
  typealias Case = StackTests.Case  // an architecture, described for the test list

  static let cases: [Case] =
    CellKind.allCases.flatMap { kind in
      [(1, 1, 1), (1, 3, 2), (2, 1, 1), (3, 2, 3)].flatMap { shape in
        [1, 5, 16, 32, 33].map { hidden in
          Case(
            architecture: Architecture(
              kind: kind, layers: shape.0, inputSize: shape.1, hiddenSize: hidden, outputSize: shape.2))
        }
      }
    } + CellKind.allCases.map { Case(architecture: Architecture(kind: $0, inputSize: 70, hiddenSize: 40)) }

  @Test(arguments: cases)
  func everyStreamMatchesItsOwnCellAndTheReference(_ c: Case) {
    let a = c.architecture
    let file = randomModel(a, seed: UInt64(a.hiddenSize * 7 + a.layers), gain: 1.5)
    let model = RecurrentModel(file)
    let batch = BatchCell(model: model, streams: 19)
    #expect(batch.streams == 32)
    let n = batch.streams
    let (I, O) = (a.inputSize, a.outputSize)
    let cells = (0..<n).map { _ in RecurrentCell(model: model) }
    var references = [ReferenceStack](repeating: ReferenceStack(file), count: n)
    var inputs = [Float](repeating: 0, count: n * I)
    var outputs = [Float](repeating: 0, count: n * O)
    var expected = [Float](repeating: 0, count: O)
    var active = [Bool](repeating: true, count: n)
    var rng = TestRandom(11)
    var worst = 0.0
    var mismatches = 0
    for t in 0..<120 {
      if t == 40 || t == 77 {  // streams reset independently, mid-sequence
        for s in [3, 17, 18] where (s + t) % 2 == 1 || t == 40 {
          batch.reset(stream: s)
          cells[s].reset()
          references[s].reset()
        }
      }
      let masked = t % 5 == 4  // some steps advance only some streams
      for s in 0..<n { active[s] = !masked || (s * 7 + t) % 3 == 0 }
      for i in inputs.indices { inputs[i] = rng.uniform(-1.5, 1.5) }
      for i in outputs.indices { outputs[i] = .nan }
      if masked {
        inputs.withUnsafeBufferPointer { x in
          outputs.withUnsafeMutableBufferPointer { y in
            active.withUnsafeBufferPointer { batch.step(x.baseAddress!, into: y.baseAddress!, active: $0.baseAddress!) }
          }
        }
      } else {
        inputs.withUnsafeBufferPointer { x in outputs.withUnsafeMutableBufferPointer { batch.step(x, into: $0) } }
      }
      for s in 0..<n where active[s] {
        inputs.withUnsafeBufferPointer { x in
          expected.withUnsafeMutableBufferPointer { cells[s].step(x.baseAddress! + s * I, into: $0.baseAddress!) }
        }
        let reference = references[s].step((0..<I).map { Double(inputs[s * I + $0]) })
        for o in 0..<O {
          if outputs[s * O + o].bitPattern != expected[o].bitPattern { mismatches += 1 }
          worst = max(worst, relativeError(Double(outputs[s * O + o]), reference[o], floor: 0.1))
        }
      }
      for s in 0..<n where !active[s] {
        for o in 0..<O where !outputs[s * O + o].isNaN { mismatches += 1 }  // inactive outputs are not written
      }
    }
    #expect(mismatches == 0, "\(c.testDescription): \(mismatches) outputs differ from RecurrentCell")
    #expect(worst <= 2e-5, "\(c.testDescription): worst relative error against the reference \(worst)")
  }

  /// reserve(streams:) keeps every existing stream's state.
  @Test func reserveKeepsState() {
    let a = Architecture(kind: .lstm, layers: 2, inputSize: 1, hiddenSize: 16, outputSize: 1)
    let model = RecurrentModel(randomModel(a, seed: 5))
    let batch = BatchCell(model: model, streams: 3)
    let cell = RecurrentCell(model: model)
    var x = [Float](repeating: 0, count: 64)
    var y = [Float](repeating: 0, count: 64)
    var mismatches = 0
    for t in 0..<30 {
      if t == 10 { batch.reserve(streams: 40) }
      for s in 0..<batch.streams { x[s] = Float(t % 7) * 0.2 - Float(s % 3) }
      x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { batch.step(xs, into: $0) } }
      if y[1].bitPattern != cell.step(x[1]).bitPattern { mismatches += 1 }
    }
    #expect(batch.streams == 48)
    #expect(mismatches == 0)
  }
}
