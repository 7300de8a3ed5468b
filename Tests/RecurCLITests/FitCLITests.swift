// `recur-train fit` end to end: the one-step predictions it scored equal what `recur stream` prints for the same
// validation steps; bad data gets one error line with file, line and column and writes no model; a golden fit of the
// sunspot file with a fixed seed reproduces Fixtures/fit/ byte for byte.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@Suite struct FitCLITests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures").standardized
  static var root: URL { fixtures.deletingLastPathComponent() }

  func fit(_ arguments: [String]) throws -> ProcessResult {
    try CLI.run(["fit"] + arguments, executable: CLI.recurTrain, directory: Self.root)
  }

  /// Two sequences of two columns with a header: a trend plus waves (column a) and a second wave (b).
  static let data: String = {
    var lines = ["a,b"]
    for (n, phase) in [(90, 0.0), (70, 1.5)] {
      if lines.count > 1 { lines.append("") }
      for t in 0..<n {
        let x = Double(t)
        let a = 20 + 0.1 * x + 4 * sin(0.35 * x + phase) + sin(1.1 * x)
        let b = 2 * cos(0.2 * x + phase)
        lines.append(String(format: "%.3f,%.3f", a, b))
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }()

  @Test("what fit scored is what recur stream prints on the validation steps (1e-5 relative, floor 1)")
  func streamAgreesWithTrainer() throws {
    let dir = CLI.temporaryDirectory.appendingPathComponent("fit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let data = dir.appendingPathComponent("data.csv")
    try Self.data.write(to: data, atomically: true, encoding: .utf8)
    let model = dir.appendingPathComponent("m.recur").path
    let predictions = dir.appendingPathComponent("p.txt").path
    for (encoding, columns) in [("standardize-differences", "a"), ("standardize", "a,b")] {
      let result = try fit([
        data.path, "--inputs", columns, "--encoding", encoding, "--hidden", "8", "--window", "6", "--epochs", "12",
        "--seeds", "1", "--predictions", predictions, "-o", model,
      ])
      #expect(result.status == 0, "\(result.stderr)")
      #expect(result.stdout.contains("| persistence | 1 |") && result.stdout.contains("| AR("))
      let scored = try String(contentsOfFile: predictions, encoding: .utf8).split(
        separator: "\n", omittingEmptySubsequences: false)
      // Stream each sequence's chosen columns; the last 20% of its steps are the validation steps.
      let table = Self.data.split(separator: "\n", omittingEmptySubsequences: false).dropFirst()
      let width = columns.split(separator: ",").count
      let streamInput = table.map { line in
        line.isEmpty ? "" : line.split(separator: ",").prefix(width).joined(separator: " ")
      }.joined(separator: "\n")
      let streamed = try CLI.run(["stream", "--model", model], stdin: streamInput)
      #expect(streamed.status == 0, "\(streamed.stderr)")
      let out = streamed.stdout.split(separator: "\n", omittingEmptySubsequences: false)
      // Sequence 1: 90 steps, validation 72..<90 predicted after steps 71...88; sequence 2: 70 steps, 56..<70.
      let expectedLines = Array(out[71..<89]) + [""] + Array(out[90 + 55..<90 + 69])
      #expect(scored.count == expectedLines.count + 1 && scored.last == "")
      var worst = 0.0
      for (a, b) in zip(scored, expectedLines) where !a.isEmpty {
        for (x, y) in zip(floats(a), floats(b)) {
          worst = max(worst, Double(abs(x - y)) / max(1, Double(abs(y))))
        }
      }
      #expect(worst <= 1e-5, "\(encoding): worst relative difference \(worst)")
    }
  }

  @Test("bad data: one error line naming file, line and column, exit 1, no model written; bad options exit 2")
  func errors() throws {
    let dir = CLI.temporaryDirectory.appendingPathComponent("fit-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let data = dir.appendingPathComponent("bad.csv")
    try "a,b\n1,2\n3,4\n5,x1\n".write(to: data, atomically: true, encoding: .utf8)
    let model = dir.appendingPathComponent("m.recur").path
    let bad = try fit([data.path, "-o", model])
    #expect(bad.status == 1)
    #expect(bad.stderr == "error: \(data.path), line 4, column 3: 'x1' is not a number\n")
    #expect(!FileManager.default.fileExists(atPath: model))
    let good = dir.appendingPathComponent("good.csv")
    try Self.data.write(to: good, atomically: true, encoding: .utf8)
    let unknown = try fit([good.path, "--inputs", "c", "-o", model])
    #expect(unknown.status == 2)
    #expect(unknown.stderr.hasPrefix("error: --inputs 'c': no such column in \(good.path) (columns: a, b)"))
    let short = dir.appendingPathComponent("short.csv")
    try "1\n2\n3\n4\n5\n".write(to: short, atomically: true, encoding: .utf8)
    let tooShort = try fit([short.path, "-o", model])
    #expect(tooShort.status == 1)
    #expect(
      tooShort.stderr.contains(
        "\(short.path), line 1: sequence 1 has 5 steps, 1 held out for validation, so 4 training steps; --window 16 "
          + "needs at least 17"))
    let stdin = try CLI.run(["fit", "-", "-o", model], stdin: "1\n2\nzz\n", executable: CLI.recurTrain)
    #expect(stdin.stderr == "error: stdin, line 3, column 1: 'zz' is not a number\n")
    let option = try fit([data.path, "--validation", "1.5", "-o", model])
    #expect(option.status == 2 && option.stderr.contains("--validation 1.5 must be in [0, 1)"))
  }

  @Test("score: bad rows, options and files get one error line with exit 2 (options) or 1 (files)")
  func scoreErrors() throws {
    let model = "Fixtures/fit/sunspots-h8-seed3.recur"
    let data = "Fixtures/data/sunspots.csv"
    func score(_ extra: [String]) throws -> ProcessResult {
      try CLI.run(
        ["score", "--model", model, data, "--inputs", "SUNACTIVITY"] + extra, executable: CLI.recurTrain,
        directory: Self.root)
    }
    let cases: [([String], Int32, String)] = [
      (["--from", "1"], 2, "error: --from 1 --to 309 must satisfy 2 <= from <= to <= 309 (the first sequence's rows)"),
      (["--from", "10", "--to", "5"], 2, "error: --from 10 --to 5 must satisfy"),
      (
        ["--from", "222", "--baseline-rows", "300"], 2,
        "error: --baseline-rows 300 must be in 2...221 (rows before --from)"
      ),
      (["--from", "222", "--arv-variance", "-1"], 2, "error: --arv-variance -1.0 must be a positive number"),
      (["--from", "222", "--horizon", "0"], 2, "error: --horizon 0 is out of range 1...10000"),
      (["--from", "222", "--ar-order", "0"], 2, "error: --ar-order 0 is out of range 1...64"),
      (["--from", "222", "--inputs", "YEAR,SUNACTIVITY"], 2, "error: the model reads 1 and predicts 1 columns"),
    ]
    for (extra, status, prefix) in cases {
      let result = try score(extra)
      #expect(result.status == status, "\(extra): \(result.stderr)")
      #expect(
        result.stderr.hasPrefix(prefix) && result.stderr.split(separator: "\n").count == 1, "\(extra): \(result.stderr)"
      )
      #expect(result.stdout.isEmpty)
    }
    let missing = try CLI.run(
      ["score", "--model", model, "/nonexistent.csv", "--from", "3"], executable: CLI.recurTrain, directory: Self.root)
    #expect(
      missing.status == 1 && missing.stderr == "error: cannot read '/nonexistent.csv': No such file or directory\n")
    let ok = try score(["--from", "222", "--to", "256", "--baseline-rows", "221", "--arv-variance", "1495.593765"])
    #expect(ok.status == 0 && ok.stdout.contains("| AR(9) | 1 | 35 | 13.7598 | 10.3723 | 0.1266 |"), "\(ok.stdout)")
  }

  @Test("recur forecast: the points are recur generate's, the interval ends the stored quantiles; errors")
  func forecast() throws {
    let dir = CLI.temporaryDirectory.appendingPathComponent("forecast-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let model = dir.appendingPathComponent("sun.recur").path
    let fitted = try fit([
      "Fixtures/data/sunspots.csv", "--inputs", "SUNACTIVITY", "--hidden", "4", "--epochs", "3", "--seeds", "1",
      "--interval-horizons", "5", "-o", model,
    ])
    #expect(fitted.status == 0, "\(fitted.stderr)")
    #expect(fitted.stdout.contains("Linear part: AR("), "\(fitted.stdout)")
    let history = ["80.9", "83.4", "47.7", "47.8", "30.7", "12.2", "9.6", "10.2", "32.4", "47.6", "54", "62.9"]
    let result = try CLI.run(["forecast", "--model", model, "--steps", "7"], stdin: history.joined(separator: "\n"))
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
    #expect(lines.first == ["step", "forecast", "lower80", "upper80", "lower95", "upper95"])
    #expect(lines.count == 8 && lines.dropFirst().allSatisfy { $0.count == 6 })
    let generated = try CLI.run(["generate", "--model", model, "--steps", "7"] + history)
    #expect(generated.status == 0, "\(generated.stderr)")
    #expect(lines.dropFirst().map { $0[1] } == generated.stdout.split(whereSeparator: \.isWhitespace).map(String.init))
    let intervals = try #require(try ModelFile(bytes: Array(Data(contentsOf: URL(fileURLWithPath: model)))).intervals)
    #expect(intervals.horizons == 5)
    for h in 1...5 {
      let row = lines[h]
      let f = Float(row[1])!
      for (column, p) in [(2, Float(0.1)), (3, 0.9), (4, 0.025), (5, 0.975)] {
        let q = intervals.quantile(p, horizon: h, output: 0, outputs: 1)!
        // Within rounding: the binary's native build may fuse the quantile's multiply-add.
        #expect(abs(Float(row[column])! - (f + q)) <= 2e-6 * max(1, abs(f + q)), "step \(h), column \(column)")
      }
      #expect(Float(row[2])! <= Float(row[3])! && Float(row[4])! <= Float(row[2])!)
    }
    #expect(lines[6].suffix(4) == ["nan", "nan", "nan", "nan"] && lines[7].suffix(4) == ["nan", "nan", "nan", "nan"])
    #expect(
      result.stderr == "note: the model stores intervals for 5 steps ahead; steps 6...7 print nan for their ends\n")
    // Past one block of 4096 steps the forecasts continue exactly as generate's.
    let long = try CLI.run(["forecast", "--model", model, "--steps", "5000", "--level", "80"], stdin: "3\n4\n5\n")
    let longGenerated = try CLI.run(["generate", "--model", model, "--steps", "5000", "3", "4", "5"])
    let longLines = long.stdout.split(separator: "\n")
    #expect(long.status == 0 && longLines.count == 5001, "\(long.stderr)")
    #expect(
      longLines.dropFirst().map { $0.split(separator: " ")[1] }
        == longGenerated.stdout.split(whereSeparator: \.isWhitespace))
    // --level picks the columns; 50 is stored exactly (0.25, 0.75).
    let fifty = try CLI.run(["forecast", "--model", model, "--steps", "1", "--level", "50"], stdin: "3\n4\n")
    #expect(fifty.stdout.hasPrefix("step forecast lower50 upper50\n1 "), "\(fifty.stdout)")
    // 99 is stored exactly (0.005, 0.995); a trailing blank line keeps the history it ends.
    let ninetyNine = try CLI.run(["forecast", "--model", model, "--steps", "1", "--level", "99"], stdin: "3\n4\n\n")
    #expect(ninetyNine.status == 0 && ninetyNine.stdout.hasPrefix("step forecast lower99 upper99\n1 "), "\(ninetyNine)")
    // Errors: one line each; options exit 2, the rest 1.
    let cases: [([String], String, Int32, String)] = [
      (["--level", "0"], "1\n", 2, "error: --level '0' is not a percentage between 0 and 100 (e.g. --level 80,95)"),
      (["--level", "99.9"], "1\n", 1, "error: --level 99.9 needs the error quantiles at"),
      (["--steps", "0"], "1\n", 2, "error: --steps 0 is out of range 1...1000000"),
      ([], "", 1, "error: no history on stdin: give at least one time step"),
      ([], "1\n2\nx3\n", 1, "error: line 3, column 1: 'x3' is not a number"),
    ]
    for (extra, stdin, status, message) in cases {
      let r = try CLI.run(["forecast", "--model", model] + extra, stdin: stdin)
      #expect(r.status == status && r.stderr.hasPrefix(message) && r.stdout.isEmpty, "\(extra): \(r.stderr)")
    }
    let builtin = try CLI.run(["forecast", "--model", "odd"], stdin: "1\n")
    #expect(builtin.status == 1 && builtin.stderr.contains("is not a forecasting model"), "\(builtin.stderr)")
    // score reports the intervals' coverage.
    let scored = try CLI.run(
      ["score", "--model", model, "Fixtures/data/sunspots.csv", "--inputs", "SUNACTIVITY", "--from", "250"],
      executable: CLI.recurTrain, directory: Self.root)
    #expect(scored.status == 0 && scored.stdout.contains("Interval 80%, horizon 1: "), "\(scored.stdout)")
  }

  @Test("inspect shows a forecasting model's linear part and intervals, in text and JSON")
  func inspectForecastingModel() throws {
    let model = Self.fixtures.appendingPathComponent("fit/sunspots-h8-seed3.recur").path
    let file = try ModelFile(bytes: Array(Data(contentsOf: URL(fileURLWithPath: model))))
    let term = try #require(file.linearTerm)
    let text = try CLI.run(["inspect", "--model", model])
    #expect(text.status == 0 && text.stdout.contains("format            Recur model file v6"))
    #expect(text.stdout.contains("linear part       AR(\(term.order)) over the last \(term.order) steps"))
    #expect(
      text.stdout.contains("intervals         12 horizons, error quantiles at 17 probabilities from 0.005 to 0.995"))
    let json = try CLI.run(["inspect", "--model", model, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
    #expect(object["format_version"] as? Int == 6 && object["linear_order"] as? Int == term.order)
    #expect(object["interval_horizons"] as? Int == 12)
    let tensors = try #require(object["tensors"] as? [String: Any])
    let weight = try #require(tensors["linear.weight"] as? [[Double]])
    #expect(weight.count == 1 && weight[0].map { Float($0) } == term.weight)
    #expect((tensors["interval.quantiles"] as? [[Double]])?.count == 12)
  }

  /// The golden fit: `tools/make-fixtures` writes it with the same command. A trainer or runtime change that moves
  /// it must regenerate it on purpose (and say why).
  @Test("golden fit: the sunspot file, hidden 8, seed 3, reproduces Fixtures/fit byte for byte")
  func golden() throws {
    let out = CLI.temporaryDirectory.appendingPathComponent("golden-\(UUID().uuidString).recur").path
    let result = try fit(
      Self.goldenArguments + ["-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let expected = try Data(contentsOf: Self.fixtures.appendingPathComponent("fit/sunspots-h8-seed3.recur"))
    let actual = try Data(contentsOf: URL(fileURLWithPath: out))
    #expect(actual == expected, "the fit differs from Fixtures/fit/sunspots-h8-seed3.recur (tools/make-fixtures)")
    let text = try String(
      contentsOf: Self.fixtures.appendingPathComponent("fit/sunspots-h8-seed3.txt"), encoding: .utf8)
    func withoutWrote(_ s: String) -> [Substring] { s.split(separator: "\n").filter { !$0.hasPrefix("Wrote ") } }
    #expect(withoutWrote(result.stdout) == withoutWrote(text))
  }

  static let goldenArguments = [
    "Fixtures/data/sunspots.csv", "--inputs", "SUNACTIVITY", "--hidden", "8", "--epochs", "30", "--seed", "3",
    "--horizon", "3",
  ]
}
