// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF), as in zlib and PNG:
// the model file's checksum. The 1 KB lookup table is built on the stack for each call (2,048 shifts, well under a
// microsecond) rather than kept in a global: a global array is a lazily initialised heap object, which a
// microcontroller build would keep alive for nothing after the model is loaded.

public enum CRC32 {
  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 256) { table in  // [256] CRC of each byte value
      for n in 0..<256 {
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        table[n] = c
      }
      var crc: UInt32 = 0xFFFF_FFFF
      for b in bytes { crc = table[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
      return crc ^ 0xFFFF_FFFF
    }
  }
}

/// A checksum as eight lowercase hex digits, as the reader's messages and `recur golden`'s manifests print it.
package func hex8(_ v: UInt32) -> String {
  let s = String(v, radix: 16)
  return String(repeating: "0", count: 8 - s.utf8.count) + s
}
