// `recur stream --binary f32|f64`: raw little-endian floats in and out, for audio pipelines
// (`sox in.wav -t f32 - | recur stream --binary f32 --model amp.recur | sox -t f32 -r 48000 -c 1 - out.wav`).
//
// Input: a stream of values, `inputSize` per time step (the sample, then any conditioning values), one sequence (no
// resets: text's blank line has no binary form). Output: `outputSize` values per step in the same encoding, each the
// model's answer to that step (as text `stream` prints them). Read in blocks of 64 KiB; answers are flushed whenever
// the input side is about to block, as the text path does. Errors name the byte offset: a trailing partial value or
// time step, a value that is not finite (or, f64, out of float32's range), a prediction that overflowed; every answer
// before it is written first.

import ArgumentParser
import RecurRuntimeNative
import RecurText

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The sample encodings of `--binary`.
enum BinaryFormat: String, ExpressibleByArgument, CaseIterable {
  case f32, f64

  /// Bytes per value.
  var size: Int { self == .f32 ? 4 : 8 }
}

enum BinaryStream {
  static let blockSize = 1 << 16

  /// Reads every time step from `fd` and writes each answer to `output`. Throws `byte N: ...` after writing every
  /// earlier answer to `output` (unflushed).
  static func run(
    model: RecurrentModel, raw: Bool, format: BinaryFormat, fd: Int32, output: OutputWriter
  ) throws(CLIError) {
    let predictor = SequencePredictor(model: model)
    let (inputs, outputs, size) = (model.inputSize, model.outputSize, format.size)
    let stepBytes = inputs * size
    let buffer = UnsafeMutableRawPointer.allocate(byteCount: blockSize + stepBytes, alignment: 16)  // pending input
    let step = UnsafeMutablePointer<Float>.allocate(capacity: inputs)  // [I] one time step
    let answer = UnsafeMutablePointer<Float>.allocate(capacity: outputs)  // [O] its answer
    defer {
      buffer.deallocate()
      step.deallocate()
      answer.deallocate()
    }
    var filled = 0  // bytes in `buffer`
    var consumed = 0  // bytes of the input before `buffer`
    var atEnd = false
    while !atEnd {
      // Read more: flush the answers first when the read would block (interactive pipelines see them at once).
      if inputWouldBlock(fd) { output.flush() }
      let n = read(fd, buffer + filled, blockSize)
      if n < 0 && errno == EINTR { continue }
      if n <= 0 {
        atEnd = true
      } else {
        filled += n
      }
      // Every whole time step in the buffer.
      var at = 0
      while filled - at >= stepBytes {
        for i in 0..<inputs {
          let offset = consumed + at + i * size
          let value: Float
          if format == .f32 {
            value = Float(
              bitPattern: UInt32(littleEndian: buffer.loadUnaligned(fromByteOffset: at + i * size, as: UInt32.self)))
          } else {
            let wide = Double(
              bitPattern: UInt64(littleEndian: buffer.loadUnaligned(fromByteOffset: at + i * size, as: UInt64.self)))
            guard !wide.isFinite || abs(wide) <= Double(Float.greatestFiniteMagnitude) else {
              throw CLIError("byte \(offset): \(wide) is out of range for a 32-bit float")
            }
            value = Float(wide)
          }
          guard value.isFinite else { throw CLIError("byte \(offset): the value is not finite (\(value))") }
          step[i] = value
        }
        predictor.answer(step, into: answer, raw: raw)
        for o in 0..<outputs {
          guard answer[o].isFinite else {
            throw CLIError(
              "byte \(consumed + at): the answer to the time step starting here is not finite (overflow)")
          }
          if format == .f32 {
            let bits = answer[o].bitPattern
            for k in 0..<4 { output.byte(UInt8(truncatingIfNeeded: bits >> (8 * UInt32(k)))) }
          } else {
            let bits = Double(answer[o]).bitPattern
            for k in 0..<8 { output.byte(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
          }
        }
        at += stepBytes
      }
      // Keep the partial step for the next read.
      if at > 0 {
        (buffer + 0).copyMemory(from: buffer + at, byteCount: filled - at)
        consumed += at
        filled -= at
      }
    }
    guard filled == 0 else {
      let values = filled / size
      let what =
        filled % size != 0
        ? "the input ends inside a value (\(filled % size) of \(size) bytes)"
        : "the input ends inside a time step (\(values) of \(inputs) values)"
      throw CLIError("byte \(consumed + filled): \(what)")
    }
  }
}
