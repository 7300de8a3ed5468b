// Format version 5, a model as a chain: dense layers, one recurrent stack, the readout with an activation, dense
// layers, an input skip and learned initial states. The file round-trips exactly and refuses every damage; the
// runtime (one stream under every plan, and BatchCell) follows the Double reference (Reference.swift) from
// ModelFormat.md's equations; reset returns to the learned state.

import Foundation
import RecurTestSupport
import Testing

@testable import RecurRuntime

/// A chain of every piece: dense 3→6 relu, `kind` ×2 hidden `hidden` with learned initial states, readout → 5 elu,
/// dense 5→4 softmax, dense 4→2 tanh, dense 2→2 sigmoid; skip 1; a sample rate and metadata.
func chainModel(_ kind: CellKind, hidden: Int = 7, seed: UInt64 = 5) -> ModelFile {
  var a = Architecture(kind: kind, layers: 2, inputSize: 3, hiddenSize: hidden, outputSize: 2)
  a.inputLayers = [DenseLayer(inputs: 3, outputs: 6, activation: .relu)]
  a.readoutActivation = .elu
  a.outputLayers = [
    DenseLayer(inputs: 5, outputs: 4, activation: .softmax), DenseLayer(inputs: 4, outputs: 2, activation: .tanh),
    DenseLayer(inputs: 2, outputs: 2, activation: .sigmoid),
  ]
  a.inputSkip = 1
  a.learnedInitialState = true
  var file = randomModel(a, seed: seed, gain: 2)
  file.sampleRate = 48000
  file.metadata = [MetadataEntry("name", "test chain"), MetadataEntry("esr", "0.0123")]
  file.provenance.family = "test-chain"
  return file
}

@Suite struct ChainTests {
  static let model = chainModel(.lstm)

  @Test func version5RoundTripIsExact() throws {
    let bytes = Self.model.encoded()
    #expect(bytes[8] == 5, "a chain needs format version 5")
    let decoded = try ModelFile(bytes: bytes)
    #expect(decoded.architecture == Self.model.architecture)
    #expect(decoded.tensorValues == Self.model.tensorValues)
    #expect(decoded.metadata == Self.model.metadata)
    #expect(decoded.sampleRate == 48000)
    #expect(decoded.encoded() == bytes)
    let names = decoded.architecture.tensors.map { $0.name(.lstm) }
    #expect(names.prefix(2) == ["dense0.weight", "dense0.bias"])
    #expect(names.contains("lstm.h0_l1") && names.contains("lstm.c0_l1"))
    #expect(
      names.suffix(6) == [
        "dense4.weight", "dense4.bias", "dense5.weight", "dense5.bias", "dense6.weight", "dense6.bias",
      ])
    #expect(Set(decoded.architecture.tensors.map(\.id)).count == names.count, "ids are unique")
  }

  @Test func plainModelsKeepTheirVersions() {
    // Today's models are the chain `stack -> dense(none)`: nothing about them changes.
    #expect(randomModel(hidden: 8, seed: 1).encoded()[8] == 1)
    let stack = randomModel(Architecture(kind: .gru, layers: 2, inputSize: 2, hiddenSize: 5, outputSize: 3), seed: 2)
    #expect(stack.encoded()[8] == 2)
    #expect(!stack.architecture.isChain)
  }

  @Test func everyTruncationAndBitFlipIsRejected() {
    let bytes = chainModel(.gru, hidden: 3).encoded()
    for length in 0..<bytes.count {
      #expect(decodeError(Array(bytes[0..<length])) != nil, "prefix of \(length) bytes was accepted")
    }
    let accepted = acceptedBitFlips(bytes)
    #expect(accepted.isEmpty, "accepted flips at bits \(accepted.prefix(10))")
  }

  /// Fields damaged behind a valid checksum: each gets its typed error at its own offset.
  @Test func damagedChainFieldsAreNamed() {
    let bytes = Self.model.encoded()
    let entry = { (i: Int) in 256 + 16 * i }  // chain entries: dense, lstm, lstm, fc, dense, dense, dense
    let cases: [(at: Int, value: UInt64, kind: ModelFileError.Kind, offset: Int)] = [
      (168, 2, .badChain, 168),  // shorter than the stack and a readout
      (168, 17, .badChain, 168),  // longer than the format allows
      (172, 3, .badChain, 172),  // skip beyond the output size
      (176, UInt64(Float(-1).bitPattern), .badMetadata, 176),  // negative sample rate
      (176, UInt64(Float.nan.bitPattern), .badMetadata, 176),
      (180, 5000, .badMetadata, 180),  // metadata longer than 4096 bytes
      (184, 1, .badHeader, 184),  // reserved
      (entry(0), 9, .badChain, entry(0)),  // unknown layer type
      (entry(0) + 4, 2, .badChain, entry(0) + 4),  // reads 2 values, 3 flow in
      (entry(0) + 12, 6, .badChain, entry(0) + 12),  // unknown activation
      (entry(1), 2, .badChain, entry(1)),  // a GRU layer in an LSTM stack
      (entry(2), 0, .badChain, entry(2)),  // a dense layer inside the stack
      (entry(2) + 12, 0, .badChain, entry(2) + 12),  // initial-state flags differ between layers
      (entry(1) + 8, 8, .badChain, entry(1) + 8),  // recurrent outputs are not H
      (entry(4) + 8, 3, .badChain, entry(5) + 4),  // 3 outputs feed a layer reading 4
      (44, 1, .unsupportedEncoding, 44),  // version 5 is identity only
    ]
    for c in cases {
      let error = decodeError(patched(bytes, at: c.at, c.value, width: 4))
      #expect(
        error?.kind == c.kind && error?.offset == c.offset, "offset \(c.at) = \(c.value): \(String(describing: error))")
    }
    // Metadata: bad UTF-8, a line without "=", an upper-case key.
    let metadataStart = entry(7)
    for (byte, value) in [(0, UInt8(0xFF)), (4, UInt8(ascii: "\n")), (0, UInt8(ascii: "N"))] {
      var damaged = bytes
      damaged[metadataStart + byte] = value
      refreshChecksum(&damaged)
      let error = decodeError(damaged)
      #expect(error?.kind == .badMetadata, "metadata byte \(byte) = \(value): \(String(describing: error))")
    }
  }

  /// One stream under every plan, against the Double reference; and BatchCell, bit for bit against one stream.
  @Test(arguments: CellKind.allCases)
  func followsTheReference(kind: CellKind) throws {
    for hidden in [3, 7, 20] {
      let file = chainModel(kind, hidden: hidden, seed: UInt64(hidden))
      let inputs: [[Float]] = (0..<400).map { t -> [Float] in
        let a = Float(sin(Double(t) * 0.07))
        let b = Float(cos(Double(t) * 0.031) * 1.5)
        let c: Float = t % 50 < 25 ? 0.3 : -0.7
        return [a, b, c]
      }
      var reference = ReferenceStack(file)
      let expected = inputs.map { reference.step($0.map(Double.init)) }
      for cpu in [CPUDescription.portable, .avx2, .avx512] {
        let cell = RecurrentCell(model: RecurrentModel(file, cpu: cpu))
        var worst = 0.0
        for round in 0..<2 {  // the second round after a reset: back to the learned initial state
          for (t, x) in inputs.enumerated() {
            var y = [Float](repeating: 0, count: 2)
            x.withUnsafeBufferPointer { xs in cell.step(xs.baseAddress!, into: &y) }
            for o in 0..<2 { worst = max(worst, relativeError(Double(y[o]), expected[t][o], floor: 1)) }
          }
          if round == 0 { cell.reset() }
        }
        #expect(worst <= 2e-5, "\(kind) hidden \(hidden) on \(cpu): worst relative error \(worst)")
      }
      // 20 streams (two groups): stream s reads the inputs from step s on; each equals a RecurrentCell bit for bit.
      let model = RecurrentModel(file)
      let batch = BatchCell(model: model, streams: 20)
      let cells = (0..<20).map { _ in RecurrentCell(model: model) }
      var mismatches = 0
      for t in 0..<100 {
        var xs = [Float](repeating: 0, count: batch.streams * 3)  // streams come in groups of 16: 32
        for s in 0..<20 { for i in 0..<3 { xs[s * 3 + i] = inputs[t + s][i] } }
        var ys = [Float](repeating: 0, count: batch.streams * 2)
        xs.withUnsafeBufferPointer { x in ys.withUnsafeMutableBufferPointer { batch.step(x, into: $0) } }
        for s in 0..<20 {
          var y = [Float](repeating: 0, count: 2)
          inputs[t + s].withUnsafeBufferPointer { cells[s].step($0.baseAddress!, into: &y) }
          for o in 0..<2 where y[o].bitPattern != ys[s * 2 + o].bitPattern { mismatches += 1 }
        }
        if t == 50 {  // one stream back to the learned state, in both
          batch.reset(stream: 17)
          cells[17].reset()
        }
      }
      #expect(mismatches == 0, "\(kind) hidden \(hidden): \(mismatches) batch outputs differ from one stream")
    }
  }

  /// Every activation of the dense kernel against libm in Double, over [−12, 12].
  @Test(arguments: Activation.allCases)
  func denseActivationsAreAccurate(activation: Activation) throws {
    var a = Architecture(kind: .rnn, layers: 1, inputSize: 1, hiddenSize: 1, outputSize: 1)
    a.inputLayers = [DenseLayer(inputs: 1, outputs: 11, activation: activation)]
    // The dense layer's 11 outputs are x·w_o; the recurrent layer is not looked at.
    var file = randomModel(a, seed: 3)
    let weights: [Float] = (0..<11).map { Float($0 - 5) * 0.4 }
    file.setTensor(.denseWeight, layer: 0, to: weights)
    file.setTensor(.denseBias, layer: 0, to: [Float](repeating: 0, count: 11))
    let model = RecurrentModel(file)
    var worst = 0.0
    var x: Float = -6
    while x <= 6 {
      let expected = ReferenceStack.activated(activation, weights.map { Double($0) * Double(x) })
      let raw = UnsafeMutableRawPointer.allocate(byteCount: 4 * 64, alignment: 64)
      defer { raw.deallocate() }
      let buffers = raw.bindMemory(to: Float.self, capacity: 64)
      let actual = withUnsafePointer(to: x) { model.runInputLayers($0, buffers: buffers) }
      for o in 0..<11 { worst = max(worst, relativeError(Double(actual[o]), expected[o], floor: 1)) }
      x += 0.01
    }
    #expect(worst <= 2e-6, "\(activation.name): worst error \(worst)")
  }
}
