// Fuzz harness: the WAV structure check of `recur process` (Sources/RecurIO/WaveLayout.swift), which reads chunk
// headers of an audio file someone else made before libsndfile decodes it.
//
// Input: the file's bytes.
// Contract:
//   - not RIFF/RF64: nil; otherwise a layout or a WaveError, never a trap, and every read inside the file;
//   - an error: a byte offset within the file (0 ... size) and a one-line problem with no control character;
//   - a layout: 1 ... 1024 channels, 1 ... 768000 Hz, PCM 8/16/24/32 or float 32/64, a block align of channels ×
//     bytes per sample, samples that start after the 12-byte header and end inside the file, whole frames.

import RecurIO

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWave(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  var reads = 0
  do {
    let layout = try WaveLayout.check(fileSize: size) { offset, count in
      reads += 1
      require(offset >= 0 && count >= 0 && count <= 64, "read of \(count) bytes at \(offset)")
      guard offset < size else { return [] }
      return Array(bytes[offset..<min(size, offset + count)])
    }
    require(reads <= WaveLayout.maxChunks + 4, "\(reads) reads")
    guard let layout else {
      require(
        size < 4 || !(bytes[0..<4] == Array("RIFF".utf8)[...] || bytes[0..<4] == Array("RF64".utf8)[...]),
        "a RIFF file not checked")
      return 0
    }
    let width: Int
    switch layout.encoding {
    case .pcm(let bits):
      require([8, 16, 24, 32].contains(bits), "PCM \(bits)")
      width = bits / 8
    case .float(let bits):
      require(bits == 32 || bits == 64, "float \(bits)")
      width = bits / 8
    }
    require((1...WaveLayout.maxChannels).contains(layout.channels), "\(layout.channels) channels")
    require((1...WaveLayout.maxSampleRate).contains(layout.sampleRate), "\(layout.sampleRate) Hz")
    require(layout.blockAlign == layout.channels * width, "block align \(layout.blockAlign)")
    require(layout.dataOffset >= 12 && layout.dataOffset + layout.dataBytes <= size, "data outside the file")
    require(layout.dataBytes % layout.blockAlign == 0, "a partial frame")
  } catch {
    require(error.offset >= 0 && error.offset <= size, "offset \(error.offset) outside 0...\(size)")
    require(!error.problem.isEmpty, "an empty problem")
    require(
      !error.problem.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
      "a control character in '\(error.problem)'")
  }
  return 0
}
