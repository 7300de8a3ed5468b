// `recur` as a user runs it: real processes, pipes, exit statuses and one-line errors.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@testable import recur

@Suite(.serialized) struct CLITests {
  static let modelPath = try! CLI.writeModel(sampleModel(), name: "sample.recur")
  static let model = RecurrentModel(sampleModel())

  @Test func formattingIsShortestRoundTrip() {
    var state: UInt32 = 12345
    var buffer = [UInt8](repeating: 0, count: 32)
    for _ in 0..<200_000 {
      state = state &* 1_664_525 &+ 1_013_904_223
      let v = Float(bitPattern: state)
      guard v.isFinite else { continue }
      let n = buffer.withUnsafeMutableBufferPointer { formatShortest(v, into: $0.baseAddress!) }
      let text = String(decoding: buffer[0..<n], as: UTF8.self)
      #expect(Float(text) == v, "\(text) does not read back as \(v)")
      var expected = v.description
      if expected.hasSuffix(".0") { expected.removeLast(2) }
      #expect(text == expected)
    }
  }

  @Test func generateFromArgumentsMatchesTheLibrary() throws {
    let result = try CLI.run(["generate", "--model", Self.modelPath, "--steps", "12", "1", "3", "5", "7", "9"])
    #expect(result.status == 0)
    #expect(result.stderr.isEmpty)
    let predictor = SequencePredictor(model: Self.model)
    var expected = [Float](repeating: 0, count: 12)
    [Float(1), 3, 5, 7, 9].withUnsafeBufferPointer { predictor.begin(seed: $0) }
    expected.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    #expect(floats(result.stdout.dropLast()) == expected)  // exact: the same code, and shortest round-trip text
    #expect(result.stdout.filter { $0 == "\n" }.count == 1)
  }

  /// The README's first command: without --model, generate and stream run the built-in `linear` model, and its
  /// continuation of the odd run is the closed form's (a(n+1) = 2a(n) - a(n-1)) within the max(1%, 0.5).
  @Test func theDefaultModelIsLinear() throws {
    let result = try CLI.run(["generate", "1", "3", "5", "7", "9"])
    #expect(result.status == 0 && result.stderr.isEmpty, "\(result.stderr)")
    #expect(result.stdout == (try CLI.run(["generate", "--model", "linear", "1", "3", "5", "7", "9"])).stdout)
    let values = floats(result.stdout.dropLast())
    #expect(values.count == 8)
    for (n, v) in values.enumerated() { #expect(abs(Double(v) - Double(11 + 2 * n)) <= 0.5, "step \(n + 1): \(v)") }
    let stream = try CLI.run(["stream"], stdin: "1\n1\n2\n3\n5\n8\n")
    #expect(stream.status == 0)
    #expect(stream.stdout == (try CLI.run(["stream", "--model", "linear"], stdin: "1\n1\n2\n3\n5\n8\n")).stdout)
    let predictions = stream.stdout.split(separator: "\n").map { Double(String($0))! }
    #expect(predictions.count == 6 && abs(predictions[5] - 13) <= 0.5, "\(predictions)")
  }

  /// A window-differences seed shorter than the model's window: the answers as usual, and one note on stderr (the
  /// first short seed's line), not repeated; full windows and other encodings get none.
  @Test func aShortSeedGetsOneNote() throws {
    let short = try CLI.run(["generate", "--steps", "2"], stdin: "1 2 3 4 5\n7 9\n4 6 8\n")
    #expect(short.status == 0)
    #expect(short.stdout.split(separator: "\n").count == 3)
    #expect(
      short.stderr
        == "note: line 2: a seed of 2 values fills 1 of the 4 differences the model reads (the rest are zeros): give 5 "
        + "values for a full window\n")
    let arguments = try CLI.run(["generate", "--model", "odd-ext", "7", "9", "11"])
    #expect(arguments.status == 0 && arguments.stderr.hasPrefix("note: a seed of 3 values fills 2 of the 4"))
    #expect(try CLI.run(["generate", "1", "2", "3", "4", "5"]).stderr.isEmpty)
    #expect(try CLI.run(["generate", "--model", "odd", "7", "9"]).stderr.isEmpty)
  }

  @Test func generateWithSeedAndNegativeArguments() throws {
    let result = try CLI.run([
      "generate", "--model", Self.modelPath, "--with-seed", "--steps", "2", "-1", "2.5", "-3e1",
    ])
    #expect(result.status == 0)
    let values = floats(result.stdout.dropLast())
    #expect(values.count == 5)
    #expect(Array(values.prefix(3)) == [-1, 2.5, -30])
  }

  @Test func generateReadsOneSeedPerLineAndSkipsBlankLines() throws {
    let result = try CLI.run(["generate", "--model", Self.modelPath, "--steps", "3"], stdin: "1 3 5\n\n  \n2 4 6\r\n7")
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
    #expect(lines.count == 4)  // three answers and the final newline
    for line in lines.dropLast() { #expect(floats(line).count == 3) }
  }

  @Test func streamPredictsOncePerValueAndResetsOnBlankLines() throws {
    let result = try CLI.run(["stream", "--model", Self.modelPath], stdin: "1 2\n3\n\n1 2\t3\n")
    #expect(result.status == 0)
    let lines = result.stdout.split(separator: "\n").map { Float(String($0))! }
    #expect(lines.count == 6)
    #expect(Array(lines[0..<3]) == Array(lines[3..<6]))  // the reset makes the second sequence start afresh
    let predictor = SequencePredictor(model: Self.model)
    #expect(lines[0..<3].elementsEqual([predictor.observe(1), predictor.observe(2), predictor.observe(3)]))
  }

  @Test func rawStreamIsThePureCell() throws {
    let result = try CLI.run(["stream", "--raw", "--model", Self.modelPath], stdin: "0.5 25 -3\n")
    let cell = RecurrentCell(model: Self.model)
    #expect(
      result.stdout.split(separator: "\n").map { Float(String($0))! } == [cell.step(0.5), cell.step(25), cell.step(-3)])
  }

  struct BadInput: Sendable, CustomTestStringConvertible {
    let input: String
    let error: String
    let answersBefore: Int
    var testDescription: String { error }
  }

  static let badInputs: [BadInput] = [
    BadInput(input: "1 2\n3 abc 4\n", error: "error: line 2, column 3: 'abc' is not a number", answersBefore: 3),
    BadInput(
      input: "1e999", error: "error: line 1, column 1: '1e999' is out of range for a 32-bit float", answersBefore: 0),
    BadInput(input: "1\nnan\n", error: "error: line 2, column 1: 'nan' is not a finite number", answersBefore: 1),
    BadInput(input: "1 -inf", error: "error: line 1, column 3: '-inf' is not a finite number", answersBefore: 1),
    BadInput(input: "1 -- 2", error: "error: line 1, column 3: '--' is not a number", answersBefore: 1),
    BadInput(input: "1 0x1p3", error: "error: line 1, column 3: '0x1p3' is not a number", answersBefore: 1),
    BadInput(
      input: "7 8\u{0}9", error: "error: line 1, column 4: unexpected byte 0x00 (not a number)", answersBefore: 1),
    BadInput(input: "5 1.2.3", error: "error: line 1, column 3: '1.2.3' is not a number", answersBefore: 1),
    BadInput(input: "5 é", error: "error: line 1, column 3: unexpected byte 0xC3 (not a number)", answersBefore: 1),
  ]

  @Test(arguments: badInputs)
  func badInputNamesLineAndColumnAfterEarlierAnswers(_ bad: BadInput) throws {
    let result = try CLI.run(["stream", "--model", Self.modelPath], stdin: bad.input)
    #expect(result.status == 1)
    #expect(result.stderr == bad.error + "\n")
    #expect(result.stdout.split(separator: "\n").count == bad.answersBefore)
  }

  @Test func hugeTokenAndHugeLineAreRefusedWithoutBuffering() throws {
    let digits = Data(repeating: UInt8(ascii: "7"), count: 10 << 20)
    var result = try CLI.run(["stream", "--model", Self.modelPath], input: Data("1\n".utf8) + digits)
    #expect(result.status == 1)
    #expect(result.stderr == "error: line 2, column 1: number is longer than 64 characters\n")
    #expect(result.stdout == "\(shortest(SequencePredictor(model: Self.model).observe(1)))\n")
    let line = Data(String(repeating: "1 ", count: 5 << 20).utf8)  // a 10 MB line of valid numbers
    result = try CLI.run(["generate", "--model", Self.modelPath], input: line)
    #expect(result.status == 1)
    #expect(result.stderr == "error: line 1, column 131073: seed has more than 65536 values\n")
  }

  /// The 1 MiB line limit counts the line's bytes, not its newline: a line of exactly 1,048,576 bytes is accepted
  /// with or without a newline after it, one byte more is refused at column 1,048,577 (the fuzz harness found the
  /// newline counted; Fixtures/fuzz/regressions/scanner/line-at-limit-then-newline is the input it saved).
  @Test func lineLimitIsExactlyOneMiB() throws {
    let limit = 1 << 20
    func line(_ bytes: Int) -> Data { Data(repeating: UInt8(ascii: " "), count: bytes - 1) + Data("1".utf8) }
    for tail in ["\n2\n", ""] {
      let result = try CLI.run(["stream", "--model", Self.modelPath], input: line(limit) + Data(tail.utf8))
      #expect(result.status == 0, "tail \(tail.debugDescription): \(result.stderr)")
      #expect(result.stdout.split(separator: "\n").count == (tail.isEmpty ? 1 : 2))
    }
    let result = try CLI.run(["stream", "--model", Self.modelPath], input: line(limit + 1) + Data("\n".utf8))
    #expect(result.status == 1)
    #expect(result.stderr == "error: line 1, column 1048577: line is longer than 1048576 bytes\n")
    #expect(result.stdout.isEmpty)
  }

  @Test func closedStdoutEndsQuietly() throws {
    let script =
      "seq 1 2000000 | '\(CLI.recur)' stream --model '\(Self.modelPath)' | head -1; echo \"status ${PIPESTATUS[1]}\""
    let result = try ChildProcess.run("/bin/bash", ["-c", script])
    let (text, stderr) = (result.stdout, result.stderr)
    #expect(text.hasSuffix("status 0\n"), "\(text)")
    #expect(stderr.isEmpty, "\(stderr)")
  }

  @Test func answersArriveBeforeMoreInputIsSent() throws {
    // Interactive use: with stdin still open, each answer must be readable at once (flush before blocking). A
    // Process of its own, not ChildProcess: the test writes stdin while the child runs.
    let process = Process()
    process.executableURL = URL(fileURLWithPath: CLI.recur)
    process.arguments = ["stream", "--model", Self.modelPath]
    let input = Pipe()
    let output = Pipe()
    process.standardInput = input
    process.standardOutput = output
    try process.run()
    defer {
      try? input.fileHandleForWriting.close()
      process.waitUntilExit()
    }
    let reader = output.fileHandleForReading
    for value in ["1", "2", "3"] {
      input.fileHandleForWriting.write(Data((value + "\n").utf8))
      var poller = pollfd(fd: reader.fileDescriptor, events: Int16(POLLIN), revents: 0)
      let ready = poll(&poller, 1, 10_000)  // generous: the machine may be busy; a missing flush waits forever
      #expect(ready == 1, "no answer to \(value) while stdin stays open")
      guard ready == 1 else { return }
      #expect(!reader.availableData.isEmpty)
    }
  }

  @Test func modelErrorsNameTheFileAndTheProblem() throws {
    var result = try CLI.run(["generate", "--model", "/nonexistent/m.recur", "1"])
    #expect(result.status == 1)
    #expect(result.stderr == "error: model file '/nonexistent/m.recur': cannot open: No such file or directory\n")
    result = try CLI.run(["generate", "--model", "no-such-model", "1"])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("error: model 'no-such-model': no built-in model of that name"))
    var bytes = sampleModel().encoded()
    bytes[40] = 0  // context length 0 (low byte of 4), checksum not refreshed: the header check comes first
    let path = CLI.temporaryDirectory.appendingPathComponent("broken.recur").path
    try Data(bytes).write(to: URL(fileURLWithPath: path))
    result = try CLI.run(["inspect", "--model", path])
    #expect(result.status == 1)
    #expect(result.stderr == "error: model file '\(path)': byte 40: context length 0 is out of range 1...4096\n")
    result = try CLI.run(["inspect", "--model", "/tmp"])
    #expect(result.stderr == "error: model file '/tmp': a directory, not a regular file\n")
  }

  @Test func badFlagsGetOneLine() throws {
    var result = try CLI.run(["generate", "--steps", "0", "--model", Self.modelPath, "1"])
    #expect(result.status == 2)
    #expect(result.stderr == "error: --steps must be in 1...1000000000, got 0 (see 'recur --help')\n")
    result = try CLI.run(["stream", "--bogus"])
    #expect(result.status == 2)
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(result.stderr.hasPrefix("error: "))
    // Seed values are split from the options before ArgumentParser sees them (Generate.splitSeed: it is quadratic
    // in positional values), by the option names it knows: they must be exactly the ones `--help` lists.
    var valued = Set<String>()
    var flags = Set<String>()
    for line in try CLI.run(["generate", "--help"]).stdout.split(separator: "\n") where line.hasPrefix("  -") {
      let words = line.split(separator: " ").map { $0.hasSuffix(",") ? String($0.dropLast()) : String($0) }
      for (i, w) in words.enumerated() {
        guard w.hasPrefix("-") else { break }
        if i + 1 < words.count && words[i + 1].hasPrefix("<") { valued.insert(w) } else { flags.insert(w) }
      }
    }
    #expect(valued == ["--model", "--steps"], "update Generate.valueOptions")
    #expect(flags == ["--with-seed", "--version", "-h", "--help"], "update Generate.flags")
    // Seed arguments are input: stdin's messages for the same tokens, exit status 1, nothing printed.
    let long = "1" + String(repeating: "0", count: 64)
    let arguments: [([String], String)] = [
      (["1", "x2"], "argument 2: 'x2' is not a number"),
      (["nan"], "argument 1: 'nan' is not a finite number"),
      (["1", "2", "-Infinity"], "argument 3: '-Infinity' is not a finite number"),
      (["1e999"], "argument 1: '1e999' is out of range for a 32-bit float"),
      ([long], "argument 1: number is longer than 64 characters"),
      (["--", "--"], "argument 1: '--' is not a number"),
      (["--", ""], "argument 1: '' is not a number"),
    ]
    for (seed, message) in arguments {
      result = try CLI.run(["generate", "--model", Self.modelPath] + seed)
      #expect(result.status == 1 && result.stdout.isEmpty, "\(seed)")
      #expect(result.stderr == "error: \(message)\n")
      let stdin = try CLI.run(
        ["generate", "--model", Self.modelPath],
        stdin: (seed.first == "--" ? Array(seed.dropFirst()) : seed).joined(separator: " "))
      if !(seed.last ?? "").isEmpty {  // the same token on stdin: the same words after its line and column
        #expect(stdin.stderr.hasSuffix(message.split(separator: ":", maxSplits: 1)[1] + "\n"), "\(stdin.stderr)")
      }
    }
  }

  @Test func inspectJSONHoldsEveryTensorInPyTorchShapes() throws {
    let result = try CLI.run(["inspect", "--json", "--model", Self.modelPath])
    #expect(result.status == 0)
    let json = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    let tensors = json["tensors"] as! [String: Any]
    let file = sampleModel()
    let hh = tensors["rnn.weight_hh_l0"] as! [[Double]]
    #expect(hh.count == 8 && hh[0].count == 8)
    #expect(Float(hh[2][5]) == file.tensor(.weightHH)[2 * 8 + 5])
    #expect((tensors["rnn.weight_ih_l0"] as! [[Double]]).map { Float($0[0]) } == file.tensor(.weightIH))
    #expect((tensors["fc.weight"] as! [[Double]])[0].map(Float.init) == file.tensor(.fcWeight))
    #expect((tensors["fc.bias"] as! [Double]).map(Float.init) == file.tensor(.fcBias))
    #expect((tensors["rnn.bias_hh_l0"] as! [Double]).map(Float.init) == file.tensor(.biasHH))
    #expect(json["hidden_size"] as? Int == 8)
    #expect(json["parameters"] as? Int == file.parameterCount)
  }
}
