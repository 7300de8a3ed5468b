// BatchCell against RecurrentCell in the runtime `recur` links (RecurRuntimeNative: -target-cpu native), under the
// plan of every CPU description (4, 8 and 16 lanes: on this machine's instructions, whatever it has). RecurRuntimeTests
// check the flag-free library; this checks the copy the CLI runs, bit for bit, per stream: tiles of several vectors
// (vanilla H = 33 and 64), several inputs, and more inputs than any column specialisation (I = 70).

import RecurRuntimeNative
import RecurTestSupport
import Testing

@Suite struct NativeBatchTests {
  static let architectures: [Architecture] = [
    Architecture(hiddenSize: 33), Architecture(hiddenSize: 64), Architecture(layers: 2, inputSize: 3, hiddenSize: 40),
    Architecture(inputSize: 70, hiddenSize: 40), Architecture(kind: .gru, inputSize: 70, hiddenSize: 17, outputSize: 2),
    Architecture(kind: .lstm, layers: 2, inputSize: 5, hiddenSize: 32),
  ]

  @Test(arguments: architectures.indices)
  func everyStreamEqualsItsOwnCell(_ index: Int) {
    let a = Self.architectures[index]
    for cpu in [CPUDescription.portable, .avx2, .avx512] {
      let model = RecurrentModel(stackModel(a, seed: UInt64(10 + index)), cpu: cpu)
      let batch = BatchCell(model: model, streams: 19)
      let n = batch.streams
      let cells = (0..<n).map { _ in RecurrentCell(model: model) }
      var inputs = [Float](repeating: 0, count: n * a.inputSize)
      var outputs = [Float](repeating: 0, count: n * a.outputSize)
      var expected = [Float](repeating: 0, count: a.outputSize)
      var state: UInt32 = 7
      var mismatches = 0
      for _ in 0..<60 {
        for i in inputs.indices {
          state = state &* 1_664_525 &+ 1_013_904_223
          inputs[i] = Float(state >> 8) / Float(1 << 24) * 3 - 1.5
        }
        inputs.withUnsafeBufferPointer { x in outputs.withUnsafeMutableBufferPointer { batch.step(x, into: $0) } }
        for s in 0..<n {
          inputs.withUnsafeBufferPointer { x in
            expected.withUnsafeMutableBufferPointer {
              cells[s].step(x.baseAddress! + s * a.inputSize, into: $0.baseAddress!)
            }
          }
          for o in 0..<a.outputSize where outputs[s * a.outputSize + o].bitPattern != expected[o].bitPattern {
            mismatches += 1
          }
        }
      }
      #expect(mismatches == 0, "\(cpu): \(mismatches) readouts differ from one cell per stream")
      #expect(outputs.allSatisfy { $0.isFinite })
    }
  }
}
