// `recur stream --binary f32|f64`: raw little-endian floats in and out give the text path's answers exactly, and
// damaged input is refused by byte offset after every earlier answer.

import Foundation
import RecurTestSupport
import Testing

@Suite struct BinaryStreamTests {
  static func bytes(_ values: [Float], _ format: String) -> Data {
    var data = Data()
    for v in values {
      if format == "f32" {
        withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) }
      } else {
        withUnsafeBytes(of: Double(v).bitPattern.littleEndian) { data.append(contentsOf: $0) }
      }
    }
    return data
  }

  static func floats(_ data: Data, _ format: String) -> [Float] {
    let bytes = [UInt8](data)
    let size = format == "f32" ? 4 : 8
    return stride(from: 0, to: bytes.count - size + 1, by: size).map { i in
      var bits: UInt64 = 0
      for k in 0..<size { bits |= UInt64(bytes[i + k]) << (8 * UInt64(k)) }
      return format == "f32" ? Float(bitPattern: UInt32(bits)) : Float(Double(bitPattern: bits))
    }
  }

  /// Two-input model: binary answers equal the text path's (which prints each float32 exactly).
  @Test(arguments: ["f32", "f64"])
  func binaryAnswersEqualText(format: String) throws {
    let model = try ImportedModelCLITests.imported("guitarml-gru12-cond.json")
    let steps = (0..<500).map { t -> [Float] in [Float(sin(Double(t) * 0.05)), t < 250 ? 0 : 0.75, 0.25] }
    let text = try CLI.run(
      ["stream", "--model", model],
      stdin: steps.map { $0.map { "\($0)" }.joined(separator: " ") }.joined(separator: "\n"))
    #expect(text.status == 0, "\(text.stderr)")
    let expected = text.stdout.split(separator: "\n").map { Float(String($0))! }
    let binary = try CLI.run(
      ["stream", "--model", model, "--binary", format], input: Self.bytes(steps.joined().map { $0 }, format))
    #expect(binary.status == 0, "\(binary.stderr)")
    let answers = Self.floats(binary.stdoutBytes, format)
    #expect(answers.map(\.bitPattern) == expected.map(\.bitPattern))
  }

  @Test func damagedInputIsRefusedByOffset() throws {
    let model = try ImportedModelCLITests.imported("nam-lstm16.nam")
    // 3 whole values and 2 bytes: three answers, then the error at byte 14.
    var data = Self.bytes([0.1, 0.2, 0.3], "f32")
    data.append(contentsOf: [0, 0])
    let partial = try CLI.run(["stream", "--model", model, "--binary", "f32"], input: data)
    #expect(partial.status != 0)
    #expect(partial.stderr == "error: byte 14: the input ends inside a value (2 of 4 bytes)\n", "\(partial.stderr)")
    #expect(Self.floats(partial.stdoutBytes, "f32").count == 3)
    let nan = try CLI.run(["stream", "--model", model, "--binary", "f32"], input: Self.bytes([0.5, .nan], "f32"))
    #expect(nan.stderr == "error: byte 4: the value is not finite (nan)\n", "\(nan.stderr)")
    let wide = try CLI.run(
      ["stream", "--model", model, "--binary", "f64"], input: withUnsafeBytes(of: 1e300) { Data($0) })
    #expect(wide.stderr.hasPrefix("error: byte 0: 1e+300 is out of range for a 32-bit float"), "\(wide.stderr)")
    let streams = try CLI.run(["stream", "--model", model, "--binary", "f32", "--streams"], input: Data())
    #expect(streams.status == 2 && streams.stderr.contains("--binary reads one sequence"))
    let empty = try CLI.run(["stream", "--model", model, "--binary", "f32"], input: Data())
    #expect(empty.status == 0 && empty.stdout.isEmpty)
  }
}
