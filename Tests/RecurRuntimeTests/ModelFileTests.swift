// The model file: exact round trip, and a reader that rejects every damaged file with a typed error, never a crash.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

/// Overwrites little-endian bytes and (optionally) recomputes the CRC so the check behind it is reached.
func patched(_ bytes: [UInt8], at offset: Int, _ value: UInt64, width: Int, fixChecksum: Bool = true) -> [UInt8] {
  var out = bytes
  for i in 0..<width { out[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
  if fixChecksum { refreshChecksum(&out) }
  return out
}

func refreshChecksum(_ bytes: inout [UInt8]) {
  let n = bytes.count
  let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(n - 4)])) }
  for i in 0..<4 { bytes[n - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
}

func decodeError(_ bytes: [UInt8]) -> ModelFileError? {
  do {
    _ = try ModelFile(bytes: bytes)
    return nil
  } catch {
    return error
  }
}

/// The bits of `bytes` whose single flip the reader accepts (none, for a hardened reader: the checksum and the
/// field checks catch every one).
func acceptedBitFlips(_ bytes: [UInt8]) -> [Int] {
  var bytes = bytes
  var accepted: [Int] = []
  for bit in 0..<(bytes.count * 8) {
    bytes[bit / 8] ^= UInt8(1 << (bit % 8))
    if decodeError(bytes) == nil { accepted.append(bit) }
    bytes[bit / 8] ^= UInt8(1 << (bit % 8))
  }
  return accepted
}

@Suite struct ModelFileTests {
  static let model: ModelFile = {
    var file = randomModel(hidden: 16, seed: 42)
    file.provenance.epochs = 8
    file.provenance.learningRate = 0.01
    file.validation.absErrorMean = 0.25
    return file
  }()
  static let bytes = model.encoded()

  @Test func crcMatchesTheStandardCheckValue() {
    let check = Array("123456789".utf8).withUnsafeBytes { CRC32.checksum($0) }
    #expect(check == 0xCBF4_3926)
  }

  @Test func roundTripIsExact() throws {
    let decoded = try ModelFile(bytes: Self.bytes)
    #expect(decoded.encoded() == Self.bytes)
    #expect(decoded.tensor(.weightHH) == Self.model.tensor(.weightHH))
    #expect(decoded.tensor(.fcBias) == Self.model.tensor(.fcBias))
    #expect(decoded.provenance.family == "test")
    #expect(decoded.provenance.learningRate == 0.01)
    #expect(decoded.validation.absErrorMean == 0.25)
    #expect(decoded.validation.windowMSE.isNaN)
  }

  @Test func layoutIsAlignedAndAsDocumented() {
    let b = Self.bytes
    #expect(Array(b[0..<8]) == ModelFormat.magic)
    func u64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(b[at + $1]) << (8 * UInt64($1)) } }
    #expect(u64(16) == UInt64(b.count))
    for index in 0..<6 {
      let offset = u64(256 + 32 * index + 16)
      #expect(offset % 64 == 0, "tensor \(index) at \(offset)")
    }
  }

  @Test func everyTruncationIsRejected() {
    for length in 0..<Self.bytes.count {
      let error = decodeError(Array(Self.bytes[0..<length]))
      #expect(error != nil, "prefix of \(length) bytes was accepted")
      if let error, length >= 24 { #expect(error.kind == .truncated, "prefix \(length): \(error)") }
    }
  }

  @Test func everySingleBitFlipIsRejected() {
    let accepted = acceptedBitFlips(Self.bytes)
    #expect(accepted.isEmpty, "accepted flips at bits \(accepted.prefix(10))")
  }

  struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let offset: Int
    let value: UInt64
    let width: Int
    let kind: ModelFileError.Kind
    let errorOffset: Int
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "wrong magic", offset: 0, value: 0x46, width: 1, kind: .badMagic, errorOffset: 0),
    Case(name: "future version", offset: 8, value: 7, width: 4, kind: .unsupportedVersion, errorOffset: 8),
    Case(name: "header size", offset: 12, value: 512, width: 4, kind: .badHeader, errorOffset: 12),
    Case(name: "GRU cell kind", offset: 24, value: 2, width: 4, kind: .unsupportedCellKind, errorOffset: 24),
    Case(name: "input size 3", offset: 28, value: 3, width: 4, kind: .badSize, errorOffset: 28),
    Case(name: "hidden 0", offset: 32, value: 0, width: 4, kind: .badSize, errorOffset: 32),
    Case(name: "hidden 1025", offset: 32, value: 1025, width: 4, kind: .badSize, errorOffset: 32),
    Case(name: "hidden 2^32-1", offset: 32, value: 0xFFFF_FFFF, width: 4, kind: .badSize, errorOffset: 32),
    Case(name: "context 0", offset: 40, value: 0, width: 4, kind: .badSize, errorOffset: 40),
    Case(name: "unknown encoding", offset: 44, value: 9, width: 4, kind: .unsupportedEncoding, errorOffset: 44),
    Case(name: "tensor count", offset: 48, value: 7, width: 4, kind: .badTensorDirectory, errorOffset: 48),
    Case(name: "flags", offset: 52, value: 1, width: 4, kind: .badHeader, errorOffset: 52),
    Case(name: "reserved", offset: 200, value: 1, width: 1, kind: .badHeader, errorOffset: 200),
    Case(name: "family not ASCII", offset: 129, value: 0xFF, width: 1, kind: .badMetadata, errorOffset: 129),
    Case(name: "infinite statistic", offset: 96, value: 0x7F80_0000, width: 4, kind: .badMetadata, errorOffset: 96),
    Case(name: "repeated tensor id", offset: 256 + 32, value: 1, width: 4, kind: .badTensorDirectory, errorOffset: 288),
    Case(name: "float64 dtype", offset: 256 + 4, value: 2, width: 4, kind: .badTensorDirectory, errorOffset: 260),
    Case(name: "wrong shape", offset: 256 + 32 + 8, value: 15, width: 4, kind: .badTensorDirectory, errorOffset: 296),
    Case(
      name: "misaligned offset", offset: 256 + 16, value: 452, width: 8, kind: .badTensorDirectory, errorOffset: 272),
    Case(
      name: "offset overflow bait", offset: 256 + 16, value: UInt64.max - 63, width: 8, kind: .badTensorDirectory,
      errorOffset: 272),
    Case(
      name: "byte length bait", offset: 256 + 24, value: UInt64.max, width: 8, kind: .badTensorDirectory,
      errorOffset: 280),
    Case(
      name: "overlapping tensors", offset: 256 + 32 + 16, value: 448, width: 8, kind: .badTensorDirectory,
      errorOffset: 304),
    Case(name: "length field", offset: 16, value: 1 << 40, width: 8, kind: .truncated, errorOffset: 1736),
  ]

  @Test(arguments: cases)
  func damagedHeaderFieldsAreNamed(_ c: Case) {
    let error = decodeError(patched(Self.bytes, at: c.offset, c.value, width: c.width))
    #expect(error?.kind == c.kind, "\(c.name): \(String(describing: error))")
    #expect(error?.offset == c.errorOffset, "\(c.name): \(String(describing: error))")
  }

  @Test func checksumMismatchNamesTheChecksumOffset() {
    let damaged = patched(Self.bytes, at: 600, 0x12, width: 1, fixChecksum: false)
    let error = decodeError(damaged)
    #expect(error?.kind == .checksumMismatch)
    #expect(error?.offset == Self.bytes.count - 4)
    #expect(error?.description.contains("checksum mismatch") == true)
  }

  @Test func nonFiniteWeightIsRejectedWithItsOffset() {
    // H = 16: the directory ends at 448, rnn.weight_ih_l0 (64 bytes) at 448, rnn.weight_hh_l0 at 512.
    for bits: UInt64 in [0x7FC0_0000, 0x7F80_0000, 0xFF80_0000] {
      let error = decodeError(patched(Self.bytes, at: 512 + 8, bits, width: 4))
      #expect(error?.kind == .nonFiniteWeight)
      #expect(error?.offset == 520)
      #expect(error?.description.contains("rnn.weight_hh_l0 element 2") == true)
    }
  }

  @Test func trailingBytesAndNonZeroPaddingAreRejected() {
    var longer = Self.bytes + [0]
    #expect(decodeError(longer)?.kind == .trailingBytes)
    longer = patched(Self.bytes, at: 16, UInt64(Self.bytes.count + 64), width: 8)
    #expect(decodeError(longer)?.kind == .truncated)
    // H = 16 has no padding (every tensor is a multiple of 64 bytes); H = 3 does: rnn.weight_ih_l0 is 12 bytes at
    // 448, so bytes 460..<512 are padding.
    let small = randomModel(hidden: 3, seed: 1).encoded()
    let gap = 448 + 12
    let error = decodeError(patched(small, at: gap + 5, 1, width: 1))
    #expect(error?.kind == .badPadding)
    #expect(error?.offset == gap + 5)
  }

  @Test func oversizedInputIsRefusedBeforeReading() {
    let huge = [UInt8](repeating: 0, count: ModelFormat.maxFileSize + 1)
    #expect(decodeError(huge)?.kind == .tooLarge)
  }

  @Test func loadsTheLargestHiddenSize() throws {
    let file = randomModel(hidden: 1024, seed: 9)
    let model = try RecurrentModel(bytes: file.encoded())
    #expect(model.hiddenSize == 1024)
  }
}
