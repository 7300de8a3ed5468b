// Standard base64 decoding (RFC 4648), for the built-in models, which `recur` carries as string literals (they
// compile fast; a byte-array literal of 60 KB did not).

/// Decodes standard base64 (the built-in models are stored as string literals: they compile fast).
public func decodeBase64(_ text: StaticString) -> [UInt8] {
  var table = [UInt8](repeating: 255, count: 256)
  for (i, c) in "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8.enumerated() {
    table[Int(c)] = UInt8(i)
  }
  var out: [UInt8] = []
  var accumulator: UInt32 = 0
  var bits = 0
  text.withUTF8Buffer { bytes in
    out.reserveCapacity(bytes.count * 3 / 4)
    for c in bytes {
      let v = table[Int(c)]
      if v == 255 { continue }  // padding and line breaks
      accumulator = accumulator << 6 | UInt32(v)
      bits += 6
      if bits >= 8 {
        bits -= 8
        out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
      }
    }
  }
  return out
}
