// A WAV file's chunk structure, checked against the file's length before libsndfile decodes it (`recur process`).
//
// libsndfile decodes every encoding and container, but it forgives a lying file (a data chunk longer than the file is
// read short, silently) and its errors name no position. This walk reads only chunk headers and the `fmt ` chunk, and
// turns every inconsistency into one message with the byte offset where it is:
//   - RIFF / RF64 header: "RIFF" or "RF64", a size, "WAVE"; the size may not exceed the file (a truncated copy);
//   - chunks: 4-character ids of printable ASCII, sizes within the RIFF (a lying size), at most `maxChunks` before
//     the data; RF64 takes the RIFF and data sizes from its `ds64` chunk;
//   - `fmt `: PCM 8/16/24/32-bit or IEEE float 32/64-bit, plain or WAVE_FORMAT_EXTENSIBLE with the PCM or float
//     sub-format; anything else (µ-law, A-law, ADPCM, MP3, ...) is named and refused; 1 to `maxChannels` channels,
//     1 to `maxSampleRate` Hz, a block align of channels × bytes per sample;
//   - `data`: after `fmt `, a whole number of frames.
// Files that are not RIFF/RF64 WAVE (FLAC, AIFF, Ogg, ...) are left to libsndfile (`check` returns nil).
// Fuzzed by tools/fuzz (harness `wave`): any bytes give a layout or a WaveError, never a trap or a hang.

public struct WaveLayout: Equatable, Sendable {
  public enum Encoding: Equatable, Sendable {
    case pcm(bits: Int)
    case float(bits: Int)
  }
  public var encoding: Encoding
  public var channels: Int
  public var sampleRate: Int
  /// Bytes per frame (all channels of one sample).
  public var blockAlign: Int
  /// Where the samples start, and how many bytes of them the data chunk holds.
  public var dataOffset: Int
  public var dataBytes: Int
  public var frames: Int { dataBytes / blockAlign }

  public static let maxChannels = 1024  // libsndfile's own limit
  public static let maxSampleRate = 768_000
  public static let maxChunks = 4096

  /// Checks the file whose first bytes `readAt(offset, count)` returns (fewer at its end) and whose length is
  /// `fileSize`. Nil when the file is not RIFF/RF64 WAVE.
  public static func check(fileSize: Int, readAt: (Int, Int) -> [UInt8]) throws(WaveError) -> WaveLayout? {
    let head = readAt(0, 12)
    guard head.count >= 4 else { return nil }
    let magic = text(head[0..<4])
    guard magic == "RIFF" || magic == "RF64" else { return nil }
    guard head.count == 12 else { throw WaveError(offset: head.count, "the file ends inside its 12-byte RIFF header") }
    guard text(head[8..<12]) == "WAVE" else {
      throw WaveError(offset: 8, "a RIFF file of form '\(text(head[8..<12]))', not WAVE")
    }
    var riffEnd = 8 + Int(u32(head, 4))
    var ds64DataSize: Int? = nil
    var offset = 12
    if magic == "RF64" {
      let ds64 = readAt(12, 28)
      guard ds64.count == 28, text(ds64[0..<4]) == "ds64", u32(ds64, 4) >= 20 else {
        throw WaveError(offset: 12, "an RF64 file without its ds64 chunk first")
      }
      (riffEnd, ds64DataSize) = (8 + (try size64(ds64, 8, at: 20)), try size64(ds64, 16, at: 28))
      offset = 12 + 8 + roundUp(Int(u32(ds64, 4)))
    }
    guard riffEnd <= fileSize else {
      throw WaveError(
        offset: 4, "the RIFF header promises \(riffEnd) bytes, the file has \(fileSize) (truncated or a lying size)")
    }
    var format: (layout: WaveLayout, at: Int)? = nil
    var chunks = 0
    while offset + 8 <= riffEnd {
      let header = readAt(offset, 8)
      guard header.count == 8 else { throw WaveError(offset: offset + header.count, "the file ends in a chunk header") }
      guard header[0..<4].allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) else {
        throw WaveError(
          offset: offset, "a chunk id of bytes \(hex(header[0..<4])), not text (a lying chunk size before it?)")
      }
      let id = text(header[0..<4])
      var size = Int(u32(header, 4))
      if id == "data", let big = ds64DataSize, size == 0xFFFF_FFFF { size = big }
      let body = offset + 8
      guard size <= riffEnd - body else {
        throw WaveError(
          offset: offset + 4,
          "chunk '\(id)' promises \(size) bytes from byte \(body), the RIFF ends at byte \(riffEnd) "
            + "(truncated or a lying size)")
      }
      switch id {
      case "fmt ":
        format = (try parseFormat(readAt(body, min(size, 40)), size: size, at: body), offset)
      case "data":
        guard var layout = format?.layout else {
          throw WaveError(offset: offset, "a data chunk before any fmt chunk")
        }
        guard size % layout.blockAlign == 0 else {
          throw WaveError(
            offset: offset + 4,
            "the data chunk holds \(size) bytes, not a whole number of \(layout.blockAlign)-byte frames "
              + "(a truncated last frame)")
        }
        (layout.dataOffset, layout.dataBytes) = (body, size)
        return layout
      default: break
      }
      chunks += 1
      guard chunks <= maxChunks else {
        throw WaveError(offset: offset, "more than \(maxChunks) chunks before the data chunk")
      }
      offset = body + roundUp(size)
    }
    throw WaveError(
      offset: min(offset, riffEnd), format == nil ? "no fmt chunk in the RIFF" : "no data chunk in the RIFF")
  }

  /// The `fmt ` chunk's first bytes (up to 40) of `size`, starting at byte `at`.
  static func parseFormat(_ b: [UInt8], size: Int, at: Int) throws(WaveError) -> WaveLayout {
    guard size >= 16, b.count >= 16 else {
      throw WaveError(offset: at, "a fmt chunk of \(size) bytes (at least 16)")
    }
    var tag = Int(u16(b, 0))
    let channels = Int(u16(b, 2))
    let rate = Int(u32(b, 4))
    let blockAlign = Int(u16(b, 12))
    let bits = Int(u16(b, 14))
    if tag == 0xFFFE {
      // WAVE_FORMAT_EXTENSIBLE: cbSize, valid bits, channel mask, then the sub-format GUID (its first two bytes
      // are the format tag; the rest the fixed KSDATAFORMAT suffix).
      guard size >= 40, b.count >= 40 else {
        throw WaveError(offset: at, "an extensible fmt chunk of \(size) bytes (at least 40)")
      }
      let suffix: [UInt8] = [0, 0, 0, 0, 0x10, 0, 0x80, 0, 0, 0xAA, 0, 0x38, 0x9B, 0x71]
      guard Array(b[26..<40]) == suffix else {
        throw WaveError(offset: at + 24, "an extensible fmt chunk with an unknown sub-format GUID")
      }
      tag = Int(u16(b, 24))
    }
    let encoding: Encoding
    switch (tag, bits) {
    case (1, 8), (1, 16), (1, 24), (1, 32): encoding = .pcm(bits: bits)
    case (3, 32), (3, 64): encoding = .float(bits: bits)
    case (1, _), (3, _):
      throw WaveError(
        offset: at + 14, "\(bits)-bit \(tag == 1 ? "PCM" : "float") samples (read: PCM 8/16/24/32, float 32/64)")
    default:
      throw WaveError(
        offset: at,
        "unsupported encoding \(encodingName(tag)) (format tag \(tag)); convert the file first, "
          + "e.g. sox in.wav -e floating-point out.wav")
    }
    guard channels >= 1 && channels <= maxChannels else {
      throw WaveError(offset: at + 2, "\(channels) channels (1 to \(maxChannels))")
    }
    guard rate >= 1 && rate <= maxSampleRate else {
      throw WaveError(offset: at + 4, "a sample rate of \(rate) Hz (1 to \(maxSampleRate))")
    }
    guard blockAlign == channels * (bits / 8) else {
      throw WaveError(
        offset: at + 12,
        "a block align of \(blockAlign) bytes for \(channels) × \(bits)-bit samples "
          + "(\(channels * (bits / 8)))")
    }
    return WaveLayout(
      encoding: encoding, channels: channels, sampleRate: rate, blockAlign: blockAlign, dataOffset: 0, dataBytes: 0)
  }

  static func encodingName(_ tag: Int) -> String {
    switch tag {
    case 2: return "MS ADPCM"
    case 6: return "A-law"
    case 7: return "µ-law"
    case 0x11: return "IMA ADPCM"
    case 0x31: return "GSM 6.10"
    case 0x50, 0x55: return "MPEG audio"
    default: return "0x" + String(tag, radix: 16)
    }
  }

  static func text(_ bytes: ArraySlice<UInt8>) -> String {
    String(decoding: bytes.map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: "?") }, as: UTF8.self)
  }
  static func hex(_ bytes: ArraySlice<UInt8>) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined(separator: " ")
  }
  static func u16(_ b: [UInt8], _ i: Int) -> UInt16 { UInt16(b[i]) | UInt16(b[i + 1]) << 8 }
  static func u32(_ b: [UInt8], _ i: Int) -> UInt32 { UInt32(u16(b, i)) | UInt32(u16(b, i + 2)) << 16 }
  /// A ds64 size (64-bit), at most Int.max / 2 so the sums above cannot overflow.
  static func size64(_ b: [UInt8], _ i: Int, at offset: Int) throws(WaveError) -> Int {
    let v = UInt64(u32(b, i)) | UInt64(u32(b, i + 4)) << 32
    guard v <= UInt64(Int.max / 2) else { throw WaveError(offset: offset, "an RF64 size of \(v) bytes") }
    return Int(v)
  }
  static func roundUp(_ size: Int) -> Int { size + (size & 1) }  // chunks are padded to an even length
}

/// A WAV structure error: the byte offset where it is, and what is wrong.
public struct WaveError: Error, Equatable, Sendable {
  public let offset: Int
  public let problem: String
  public init(offset: Int, _ problem: String) { (self.offset, self.problem) = (offset, problem) }
}
