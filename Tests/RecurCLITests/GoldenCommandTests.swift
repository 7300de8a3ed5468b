// `recur golden record` and `recur golden check` on users' models: round trips for every cell kind, and the reports
// a changed model or a damaged golden directory must produce.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@Suite(.serialized) struct GoldenCommandTests {
  static func directory(_ name: String) -> String {
    let url = CLI.temporaryDirectory.appendingPathComponent("golden-\(name)-\(UUID().uuidString)")
    return url.path
  }

  static func record(_ file: ModelFile, name: String, extra: [String] = []) throws -> (model: String, dir: String) {
    let model = try CLI.writeModel(file, name: "golden-\(name).recur")
    let dir = directory(name)
    let result = try CLI.run(["golden", "record", "--model", model, "-o", dir] + extra, stdin: "")
    #expect(result.status == 0, "\(result.stderr)")
    return (model, dir)
  }

  /// Record then check passes for every kind, one and several channels, with the default synthetic inputs; the
  /// recorded outputs are exactly what `recur stream` and `recur generate` print for the recorded inputs.
  @Test(arguments: CellKind.allCases)
  func recordThenCheckPasses(kind: CellKind) throws {
    for a in [
      Architecture(kind: kind, hiddenSize: 6),
      Architecture(kind: kind, layers: 2, inputSize: 3, hiddenSize: 9, outputSize: 3),
    ] {
      let (model, dir) = try Self.record(stackModel(a), name: "\(kind.name)-\(a.inputSize)")
      let check = try CLI.run(["golden", "check", dir], stdin: "")
      #expect(check.status == 0, "\(check.stdout)\(check.stderr)")
      #expect(check.stdout.hasPrefix("golden check \(dir): 2 cases"))
      let input = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/stream-1.in"))
      let streamed = try CLI.run(["stream", "--model", model], input: input)
      #expect(try String(contentsOfFile: "\(dir)/stream-1.out", encoding: .utf8) == streamed.stdout)
      let seeds = try Data(contentsOf: URL(fileURLWithPath: "\(dir)/generate-1.in"))
      let generated = try CLI.run(["generate", "--model", model, "--steps", "20"], input: seeds)
      #expect(try String(contentsOfFile: "\(dir)/generate-1.out", encoding: .utf8) == generated.stdout)
      let manifest = try String(contentsOfFile: "\(dir)/golden.txt", encoding: .utf8)
      #expect(manifest.contains("architecture \(kind.name) layers=\(a.layers) input=\(a.inputSize)"))
    }
  }

  @Test func explicitInputsAndSeedsAreRecordedAsCases() throws {
    let stream = CLI.temporaryDirectory.appendingPathComponent("golden-in.txt")
    try "1 2 3\n\n4 5\n".write(to: stream, atomically: true, encoding: .utf8)
    let (_, dir) = try Self.record(
      sampleModel(), name: "explicit",
      extra: ["--inputs", stream.path, "--raw-inputs", stream.path, "--seeds", stream.path, "--steps", "4"])
    let manifest = try String(contentsOfFile: "\(dir)/golden.txt", encoding: .utf8)
    #expect(manifest.contains("case stream-1 stream\ncase stream-raw-1 stream-raw\ncase generate-1 generate steps=4\n"))
    #expect(try String(contentsOfFile: "\(dir)/generate-1.out", encoding: .utf8).split(separator: "\n").count == 2)
  }

  /// One perturbed weight: the checksum difference is reported, and the moved values by file, line and value.
  @Test func aPerturbedWeightIsCaughtWithAReadableReport() throws {
    let original = stackModel(Architecture(kind: .lstm, hiddenSize: 8))
    let (_, dir) = try Self.record(original, name: "perturbed")
    var changed = original
    var w = changed.tensor(.weightHH)
    w[5] += 0.05
    changed.setTensor(.weightHH, to: w)
    let other = try CLI.writeModel(changed, name: "golden-perturbed-2.recur")
    let result = try CLI.run(["golden", "check", dir, "--model", other], stdin: "")
    #expect(result.status == 1)
    #expect(result.stdout.contains("differs from the recorded"), "\(result.stdout)")
    #expect(result.stdout.contains("\(dir)/stream-1.out: "), "\(result.stdout)")
    #expect(result.stdout.contains("line 1, value 1: expected") || result.stdout.contains("line 2, value 1: expected"))
    #expect(result.stdout.contains("largest deviation: line "))
    #expect(result.stdout.contains("cases differ; required: within 1e-05 relative, floor 1"))
  }

  @Test func aTruncatedOrEditedOutputIsReportedByFileAndLine() throws {
    let (_, dir) = try Self.record(sampleModel(), name: "damaged")
    let path = "\(dir)/stream-1.out"
    var lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
    lines[6] = "123.5"
    try (lines.joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    var result = try CLI.run(["golden", "check", dir], stdin: "")
    #expect(result.status == 1)
    #expect(result.stdout.contains("\(path): 1 of "), "\(result.stdout)")
    #expect(result.stdout.contains("line 7, value 1: expected 123.5, actual "))
    try (lines.prefix(10).joined(separator: "\n") + "\n").write(toFile: path, atomically: true, encoding: .utf8)
    result = try CLI.run(["golden", "check", dir], stdin: "")
    #expect(result.status == 1)
    #expect(result.stdout.contains("line count: expected 10, actual \(lines.count)"), "\(result.stdout)")
  }

  @Test func toleranceAndExactMeanWhatTheySay() throws {
    let (_, dir) = try Self.record(sampleModel(), name: "exact")
    let path = "\(dir)/generate-1.out"
    let text = try String(contentsOfFile: path, encoding: .utf8)
    let first = text.split(separator: " ")[0]
    let nudged = Float(String(first))!.nextUp  // one ulp: within 1e-5 relative, not byte-identical
    try text.replacingOccurrences(of: String(first), with: "\(nudged)").write(
      toFile: path, atomically: true, encoding: .utf8)
    #expect(try CLI.run(["golden", "check", dir], stdin: "").status == 0)
    let exact = try CLI.run(["golden", "check", dir, "--exact"], stdin: "")
    #expect(exact.status == 1)
    #expect(exact.stdout.contains("(exact)"), "\(exact.stdout)")
    #expect(try CLI.run(["golden", "check", dir, "--tolerance", "0"], stdin: "").status == 1)
  }

  /// A bad input file is named (with line and column for a bad token), and nothing is written: every case runs
  /// before the directory is written.
  @Test func badRecordInputsAreNamedAndLeaveNoDirectory() throws {
    let bad = CLI.temporaryDirectory.appendingPathComponent("golden-bad.txt")
    try "1 2\nabc\n".write(to: bad, atomically: true, encoding: .utf8)
    let dir = Self.directory("bad")
    var result = try CLI.run(["golden", "record", "--model", "odd", "--inputs", bad.path, "-o", dir], stdin: "")
    #expect(result.status == 1)
    #expect(result.stderr == "error: '\(bad.path)': line 2, column 1: 'abc' is not a number\n")
    #expect(!FileManager.default.fileExists(atPath: dir))
    result = try CLI.run(["golden", "record", "--model", "odd", "--seeds", "/nonexistent.txt", "-o", dir], stdin: "")
    #expect(result.stderr == "error: '/nonexistent.txt': cannot open: No such file or directory\n")
    result = try CLI.run(["golden", "record", "--model", "odd", "--steps", "0", "-o", dir], stdin: "")
    #expect(result.status == 2)
    #expect(result.stderr == "error: --steps must be in 1...100000, got 0 (see 'recur --help')\n")
    #expect(!FileManager.default.fileExists(atPath: dir))
  }

  @Test func missingOrDamagedDirectoriesAreClearErrors() throws {
    var result = try CLI.run(["golden", "check", "/nonexistent/golden"], stdin: "")
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "error: '/nonexistent/golden' is not a golden directory ('/nonexistent/golden/golden.txt': cannot open: "
        + "No such file or directory)\n")
    let (_, dir) = try Self.record(sampleModel(), name: "manifest")
    let manifest = "\(dir)/golden.txt"
    let text = try String(contentsOfFile: manifest, encoding: .utf8)
    try text.replacingOccurrences(of: "case stream-1 stream", with: "case stream-1 streaming").write(
      toFile: manifest, atomically: true, encoding: .utf8)
    result = try CLI.run(["golden", "check", dir], stdin: "")
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("error: \(manifest), line "), "\(result.stderr)")
    try text.write(toFile: manifest, atomically: true, encoding: .utf8)
    try FileManager.default.removeItem(atPath: "\(dir)/stream-1.out")
    result = try CLI.run(["golden", "check", dir], stdin: "")
    #expect(result.stderr == "error: '\(dir)/stream-1.out': cannot open: No such file or directory\n")
  }
}
