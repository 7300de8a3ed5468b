// Buffered stdout through one fixed buffer, and Float formatting without allocation.
//
// Output is written when the buffer fills, when the input side is about to block (see InputScanner.beforeBlocking),
// and at exit. A closed stdout (EPIPE, e.g. `recur stream | head -1`) ends the program quietly with status 0.

import RecurIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

final class OutputWriter {
  private let fd: Int32  // -1: hand each flushed chunk to `sink` instead (golden record and check)
  private let sink: (UnsafeBufferPointer<UInt8>) -> Void
  private let capacity = 1 << 16
  private let buffer: UnsafeMutablePointer<UInt8>  // [capacity] pending output bytes
  private var count = 0

  init(fd: Int32) {
    self.fd = fd
    sink = { _ in }
    buffer = .allocate(capacity: capacity)
  }

  /// A writer that hands its output, chunk by chunk as it is flushed, to `sink` instead of a file descriptor.
  init(sink: @escaping (UnsafeBufferPointer<UInt8>) -> Void) {
    fd = -1
    self.sink = sink
    buffer = .allocate(capacity: capacity)
  }

  deinit { buffer.deallocate() }

  @inline(__always)
  func byte(_ b: UInt8) {
    if count == capacity { flush() }
    buffer[count] = b
    count += 1
  }

  func bytes(_ b: UnsafeBufferPointer<UInt8>) {
    for x in b { byte(x) }
  }

  func text(_ s: String) {
    var s = s
    s.withUTF8 { bytes in for b in bytes { byte(b) } }
  }

  /// Appends the shortest decimal that reads back as exactly `value` ("11", "9.394219", "1e+20", "-0.5").
  func float(_ value: Float) {
    if capacity - count < 32 { flush() }
    count += formatShortest(value, into: buffer + count)
  }

  func flush() {
    if fd < 0 {
      sink(UnsafeBufferPointer(start: buffer, count: count))
      count = 0
      return
    }
    var start = 0
    while start < count {
      let n = write(fd, buffer + start, count - start)
      if n > 0 {
        start += n
      } else if n < 0 && errno == EINTR {
        continue
      } else if n < 0 && errno == EPIPE {
        exit(0)  // the reader went away (`| head`): nothing more to say
      } else {
        let why = n == 0 ? "nothing written" : String(cString: strerror(errno))
        writeStandardError("error: cannot write to standard output: \(why)\n")
        exit(1)
      }
    }
    count = 0
  }
}

// Swift's own shortest-round-trip float printer (the one behind `Float.description`), writing into a caller buffer.
// Declared here because the standard library exposes it only as `description`, which returns a String.
@_silgen_name("swift_float32ToString")
private func swiftFloat32ToString(
  _ buffer: UnsafeMutablePointer<UInt8>, _ bufferLength: UInt, _ value: Float32, _ debug: Bool
) -> UInt64

/// Writes at most 32 bytes; returns the count. Drops the ".0" that `description` puts on integral values.
/// The runtime's printer leaves '0' digits unwritten (its callers pre-fill), so the buffer is pre-filled here; the
/// result equals `value.description` (checked against it in RecurCLITests).
func formatShortest(_ value: Float, into out: UnsafeMutablePointer<UInt8>) -> Int {
  out.update(repeating: UInt8(ascii: "0"), count: 32)
  var n = Int(swiftFloat32ToString(out, 32, value, false))
  if n >= 2 && out[n - 2] == UInt8(ascii: ".") && out[n - 1] == UInt8(ascii: "0") { n -= 2 }
  return n
}

/// Writes `message` to stderr. Everything but the final newline goes through the one escaping function (RecurIO):
/// whatever a message quotes (a path, a file's token, a model's family) cannot drive the terminal or forge a line.
func writeStandardError(_ message: String) {
  let body = message.hasSuffix("\n") ? String(message.dropLast()) : message
  writeText(escaped(body, backslashes: false) + (message.hasSuffix("\n") ? "\n" : ""), to: 2)
}

/// Standard output for the commands' own lines (golden reports, bench tables, messages): the same buffered writer
/// as the streaming commands, so a failed write is exit status 1 with a message and a closed pipe ends quietly.
/// The CLI is single-threaded; `Recur.main` flushes it before exit.
nonisolated(unsafe) let standardOutput = OutputWriter(fd: 1)

/// `print` through `standardOutput`.
func say(_ line: String) {
  standardOutput.text(line)
  standardOutput.byte(UInt8(ascii: "\n"))
}
