// `RecurrentModel(bytes:retainingTensors: false)`, the microcontroller load (tools/firmware): the same outputs as the
// ordinary load, bit for bit, with the parsed PyTorch-layout tensors dropped and everything else of the file kept.

import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct RetainingTensorsTests {
  @Test(arguments: [CellKind.rnn, .gru, .lstm])
  func outputsEqualTheOrdinaryLoad(kind: CellKind) throws {
    let file = randomModel(
      Architecture(kind: kind, layers: 2, hiddenSize: 17), seed: 11, gain: 1.5, encoding: .windowDifferences,
      context: 4)
    let bytes = file.encoded()
    let full = try RecurrentModel(bytes: bytes)
    let lean = try bytes.withUnsafeBytes { raw in
      Result { () throws(ModelFileError) in try RecurrentModel(bytes: raw, retainingTensors: false) }
    }.get()
    #expect(lean.file.tensorValues.isEmpty)
    #expect(full.file.tensorValues.count == file.architecture.tensors.count)
    #expect(lean.file.encoding == file.encoding && lean.file.contextLength == file.contextLength)
    #expect(lean.architecture == file.architecture)
    let (a, b) = (SequencePredictor(model: full), SequencePredictor(model: lean))
    for t in 0..<200 {
      let v = Float((t * 7) % 23) - 11
      #expect(a.observe(v).bitPattern == b.observe(v).bitPattern, "step \(t)")
    }
  }
}
