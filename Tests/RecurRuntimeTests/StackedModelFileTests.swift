// Format version 2 (GRU, LSTM, stacks, several inputs and outputs): exact round trips, and the loader's hardening
// for every new field: every truncation and every single-bit flip of a GRU and an LSTM file is rejected with a typed
// error, and sizes that multiply past the file length are refused before any tensor is read.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct StackedModelFileTests {
  static let gru = randomModel(
    Architecture(kind: .gru, layers: 2, inputSize: 2, hiddenSize: 3, outputSize: 2), seed: 1)
  static let lstm = randomModel(
    Architecture(kind: .lstm, layers: 2, inputSize: 3, hiddenSize: 2, outputSize: 1), seed: 2)
  /// Format version 3: a standardised encoding and its four normalisation vectors.
  static let standardized = randomModel(
    Architecture(kind: .gru, layers: 1, inputSize: 2, hiddenSize: 3, outputSize: 2), seed: 5,
    encoding: .standardizeDifferences)
  static func model(_ name: String) -> ModelFile {
    name == "gru" ? gru : name == "lstm" ? lstm : name == "v6" ? forecastingModel() : standardized
  }

  @Test func version3RoundTripIsExact() throws {
    let bytes = Self.standardized.encoded()
    #expect(bytes[8] == 3, "v3 file")
    let decoded = try ModelFile(bytes: bytes)
    #expect(decoded.normalization == Self.standardized.normalization)
    #expect(decoded.tensorValues == Self.standardized.tensorValues)
    #expect(decoded.encoded() == bytes)
    // A v3 header with a non-standardised encoding, or a v2 header with a standardised one, is refused at byte 44.
    for (version, encoding) in [(3, 0), (2, 4)] {
      var other = patched(bytes, at: 8, UInt64(version), width: 4)
      other = patched(other, at: 44, UInt64(encoding), width: 4)
      let error = decodeError(other)
      #expect(error?.kind == .unsupportedEncoding && error?.offset == 44, "\(String(describing: error))")
    }
  }

  @Test func version2RoundTripIsExactAndVersion1StaysVersion1() throws {
    for file in [Self.gru, Self.lstm] {
      let bytes = file.encoded()
      #expect(bytes[8] == 2, "v2 file")
      let decoded = try ModelFile(bytes: bytes)
      #expect(decoded.architecture == file.architecture)
      #expect(decoded.tensorValues == file.tensorValues)
      #expect(decoded.encoded() == bytes)
    }
    let vanilla = randomModel(hidden: 4, seed: 3)
    #expect(vanilla.encoded()[8] == 1, "a one-layer vanilla model with I = O = 1 is still written as v1")
    let identity = randomModel(Architecture(hiddenSize: 4), seed: 3)
    #expect(identity.encoded()[8] == 2, "the identity encoding needs v2")
  }

  @Test func tensorTableNamesAndIdsFollowPyTorch() {
    let table = Architecture(kind: .lstm, layers: 2, inputSize: 3, hiddenSize: 5, outputSize: 2).tensors
    #expect(
      table.map { $0.name(.lstm) } == [
        "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0", "lstm.bias_hh_l0", "lstm.weight_ih_l1",
        "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1", "fc.weight", "fc.bias",
      ])
    #expect(table.map(\.id) == [1, 2, 3, 4, 17, 18, 19, 20, 5, 6])
    #expect(table.map(\.torchShape) == [[20, 3], [20, 5], [20], [20], [20, 5], [20, 5], [20], [20], [2, 5], [2]])
  }

  @Test(arguments: ["gru", "lstm", "v3", "v6"])
  func everyTruncationIsRejected(kind: String) {
    let bytes = Self.model(kind).encoded()
    for length in 0..<bytes.count {
      let error = decodeError(Array(bytes[0..<length]))
      #expect(error != nil, "prefix of \(length) bytes was accepted")
      if let error, length >= 24 { #expect(error.kind == .truncated, "prefix \(length): \(error)") }
    }
  }

  @Test(arguments: ["gru", "lstm", "v3", "v6"])
  func everySingleBitFlipIsRejected(kind: String) {
    let accepted = acceptedBitFlips(Self.model(kind).encoded())
    #expect(accepted.isEmpty, "accepted flips at bits \(accepted.prefix(10))")
  }

  /// Fields damaged behind a valid checksum: each gets its typed error at its own offset.
  @Test func damagedVersion2FieldsAreNamed() {
    let bytes = Self.gru.encoded()
    let cases: [(Int, UInt64, Int, ModelFileError.Kind, Int)] = [
      (24, 4, 4, .unsupportedCellKind, 24),  // cell kind 4
      (124, 0, 4, .badSize, 124),  // layers 0
      (124, 9, 4, .badSize, 124),  // layers 9
      (28, 257, 4, .badSize, 28),  // input 257
      (36, 0, 4, .badSize, 36),  // output 0
      (44, 1, 4, .unsupportedEncoding, 44),  // sequence-max-scale needs I = O = 1
      (48, 11, 4, .badTensorDirectory, 48),  // tensor count
      (256 + 4 * 32, 2, 4, .badTensorDirectory, 256 + 4 * 32),  // layer 1's first id repeats layer 0's
      (256 + 4 * 32 + 8, 8, 4, .badTensorDirectory, 256 + 4 * 32 + 8),  // gru.weight_ih_l1 rows
    ]
    for (offset, value, width, kind, at) in cases {
      let error = decodeError(patched(bytes, at: offset, value, width: width))
      #expect(error?.kind == kind, "offset \(offset) = \(value): \(String(describing: error))")
      #expect(error?.offset == at, "offset \(offset) = \(value): \(String(describing: error))")
    }
  }

  /// A small file whose header claims 8 LSTM layers of hidden 1024 (≈ 252 MB of tensors) is refused at the hidden
  /// size field, before the directory is read or anything is allocated for the tensors.
  @Test func sizesBeyondTheFileAreRefusedBeforeReading() {
    var bytes = patched(Self.lstm.encoded(), at: 124, 8, width: 4)
    bytes = patched(bytes, at: 48, 34, width: 4)  // the tensor count 8 layers have
    bytes = patched(bytes, at: 32, 1024, width: 4)
    let error = decodeError(bytes)
    #expect(error?.kind == .badSize)
    #expect(error?.offset == 32)
    #expect(
      error?.description.contains("LSTM, 8 layers: input 3, hidden 1024, output 1 needs at least 251974984 bytes")
        == true,
      "\(String(describing: error))")
  }

  @Test func largestShapesWithinTheSizeLimitLoad() throws {
    // An LSTM layer at hidden 1024: 16.8 MB, within the 64 MiB limit.
    let file = randomModel(Architecture(kind: .lstm, hiddenSize: 1024), seed: 4)
    let model = try RecurrentModel(bytes: file.encoded())
    #expect(model.hiddenSize == 1024 && model.architecture.kind == .lstm)
  }
}
