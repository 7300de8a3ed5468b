// Golden-file regression: the built-in fixture models on pinned inputs, through the real `recur` process and its
// `recur golden check` (the same machinery users get for their own models).
// Regenerate deliberately with `tools/update-goldens` (never part of `swift test`); a mismatch prints which file,
// which line and value, expected vs actual, and the largest deviation, not a wall of numbers.

import Foundation
import RecurTestSupport
import Testing

enum Golden {
  static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures").standardized
  static let models = ["odd", "fib", "odd-ext", "fib-ext", "linear"]

  static func read(_ relative: String) throws -> String {
    try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)
  }

  /// Numeric comparison, value by value. Tolerance: |actual − expected| ≤ 1e-5 · max(|expected|, 1).
  /// Why 1e-5: goldens come from the default release build; a debug build runs the same IEEE operations, and a
  /// build with FMA (-target-cpu) rounds each multiply-add once instead of twice, which moves outputs by about 1e-7
  /// relative after 20 free-running steps. Any change of weights, encoding or normalisation moves them by > 1e-3.
  /// The floor of 1 keeps values near zero (e.g. a raw readout of 3e-4) from demanding sub-ulp agreement.
  static func numericDiff(actual: String, golden relative: String) throws -> String? {
    let expectedLines = try read(relative).split(separator: "\n", omittingEmptySubsequences: false)
    let actualLines = actual.split(separator: "\n", omittingEmptySubsequences: false)
    var report: [String] = []
    var mismatches = 0
    var compared = 0
    var largest = (deviation: 0.0, place: "")
    if expectedLines.count != actualLines.count {
      report.append("  line count: expected \(expectedLines.count - 1), actual \(actualLines.count - 1)")
    }
    for (index, (e, a)) in zip(expectedLines, actualLines).enumerated() {
      let ev = e.split(separator: " ")
      let av = a.split(separator: " ")
      if ev.count != av.count {
        mismatches += 1
        if report.count < 6 { report.append("  line \(index + 1): expected \(ev.count) values, actual \(av.count)") }
        continue
      }
      for (k, (es, aval)) in zip(ev, av).enumerated() {
        compared += 1
        guard let x = Double(es), let y = Double(aval) else {
          if es != aval {
            mismatches += 1
            if report.count < 6 {
              report.append("  line \(index + 1), value \(k + 1): expected '\(es)', actual '\(aval)'")
            }
          }
          continue
        }
        let deviation = abs(x - y) / max(abs(x), 1)
        if deviation > largest.deviation { largest = (deviation, "line \(index + 1), value \(k + 1)") }
        if deviation > 1e-5 {
          mismatches += 1
          if report.count < 6 { report.append("  line \(index + 1), value \(k + 1): expected \(es), actual \(aval)") }
        }
      }
    }
    guard mismatches > 0 || expectedLines.count != actualLines.count else { return nil }
    return """
      golden mismatch in Fixtures/\(relative): \(mismatches) of \(compared) values differ (tolerance 1e-5 relative, floor 1)
      \(report.joined(separator: "\n"))
        largest deviation: \(largest.place), \(largest.deviation) relative
        (if the change is intended: tools/update-goldens, then review `git diff Fixtures/golden`)
      """
  }

  static func textDiff(actual: String, golden relative: String) throws -> String? {
    let expected = try read(relative)
    guard expected != actual else { return nil }
    let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
    let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
    let line = (0..<min(e.count, a.count)).first { e[$0] != a[$0] } ?? min(e.count, a.count)
    let expectedLine = line < e.count ? String(e[line].prefix(160)) : "<end of file>"
    let actualLine = line < a.count ? String(a[line].prefix(160)) : "<end of output>"
    return """
      golden mismatch in Fixtures/\(relative) at line \(line + 1) (exact text):
        expected: \(expectedLine)
        actual:   \(actualLine)
        (if the change is intended: tools/update-goldens, then review `git diff Fixtures/golden`)
      """
  }
}

@Suite(.serialized) struct GoldenTests {
  /// Each built-in model's golden directory (Fixtures/golden/<model>: `generate` of 7-8 seeds per family, far
  /// outside the training range, 20 steps; `stream` and `stream --raw` on 2,500+ values with resets) passes
  /// `recur golden check`, the machinery users run on their own models; its inputs are the hand-written ones.
  /// `linear` has no `--raw` case: its mixture readout's logits are not predictions, and `--raw` refuses it.
  @Test(arguments: Golden.models)
  func goldenDirectoryChecks(model: String) throws {
    let family = model.replacingOccurrences(of: "-ext", with: "")
    #expect(try Golden.read("golden/\(model)/generate-1.in") == Golden.read("golden/seeds-\(family).txt"))
    #expect(try Golden.read("golden/\(model)/stream-1.in") == Golden.read("golden/stream-\(family).txt"))
    let mixture = model == "linear"
    if !mixture {
      #expect(try Golden.read("golden/\(model)/stream-raw-1.in") == Golden.read("golden/stream-\(family).txt"))
    }
    #expect(try Golden.read("golden/stream-\(family).txt").split(separator: "\n").count >= 2000)
    let directory = Golden.root.appendingPathComponent("golden/\(model)").path
    let result = try CLI.run(["golden", "check", directory], stdin: "")
    #expect(result.status == 0, "\(result.stdout)\(result.stderr)")
    #expect(result.stdout.contains(mixture ? "2 cases" : "3 cases"), "\(result.stdout)")
    #expect(!result.stdout.contains("differs"), "the built-in model is the recorded one: \(result.stdout)")
  }

  @Test(arguments: Golden.models)
  func inspectMatchesGoldenExactly(model: String) throws {
    for (flags, golden) in [([String](), "inspect.txt"), (["--json"], "inspect.json")] {
      let result = try CLI.run(["inspect", "--model", model] + flags, stdin: "")
      #expect(result.status == 0, "\(result.stderr)")
      let diff = try Golden.textDiff(actual: result.stdout, golden: "golden/\(model)/\(golden)")
      #expect(diff == nil, "\(diff ?? "")")
    }
  }

  /// `recur-train eval` on each fixture model: tables and the generated-vs-true SVG, exact text. Exact because eval
  /// prints 4 significant digits and the default debug and release builds run the same IEEE operations (checked);
  /// `tools/update-goldens` writes them from the release build.
  @Test(arguments: Golden.models)
  func evalTablesAndPlotMatchGolden(model: String) throws {
    let plots = CLI.temporaryDirectory.appendingPathComponent("eval-\(model)")
    let packageRoot = Golden.root.deletingLastPathComponent()
    let result = try CLI.run(
      ["eval", "--model", "Fixtures/models/\(model).recur", "--plots", plots.path],
      executable: CLI.recurTrain, directory: packageRoot)
    #expect(result.status == 0, "\(result.stderr)")
    // Without the "Wrote <plot path>" line, which depends on the temporary directory.
    let tables = result.stdout.split(separator: "\n", omittingEmptySubsequences: false)
      .filter { !$0.hasPrefix("Wrote ") }.joined(separator: "\n")
    var diff = try Golden.textDiff(actual: tables, golden: "golden/\(model)/eval.txt")
    #expect(diff == nil, "\(diff ?? "")")
    let svg = try String(contentsOf: plots.appendingPathComponent("generation.svg"), encoding: .utf8)
    diff = try Golden.textDiff(actual: svg, golden: "golden/\(model)/generation.svg")
    #expect(diff == nil, "\(diff ?? "")")
  }

  /// Fixtures/broken: each damaged model file and the exact message it must produce (written by hand).
  @Test func brokenModelFilesGiveTheirExactErrors() throws {
    let table = try Golden.read("broken/expected.tsv").split(separator: "\n")
    #expect(table.count >= 10)
    for row in table {
      let parts = row.split(separator: "\t", maxSplits: 1).map(String.init)
      let path = Golden.root.appendingPathComponent("broken/\(parts[0])").path
      let result = try CLI.run(["inspect", "--model", path], stdin: "")
      #expect(result.status == 1, "\(parts[0])")
      #expect(result.stderr == "error: model file '\(path)': \(parts[1])\n", "\(parts[0])")
      #expect(result.stdout.isEmpty)
    }
  }

  /// Fixtures/golden/bad-stdin: bad input samples, the stderr line each must produce (written by hand in
  /// expected.tsv), and the answers that must still be written before it.
  @Test func badStdinSamplesWriteEarlierAnswersThenTheirError() throws {
    let table = try Golden.read("golden/bad-stdin/expected.tsv").split(separator: "\n")
    #expect(table.count >= 6)
    for row in table {
      let parts = row.split(separator: "\t", maxSplits: 1).map(String.init)
      let input = try Data(contentsOf: Golden.root.appendingPathComponent("golden/bad-stdin/\(parts[0]).in"))
      let result = try CLI.run(["stream", "--model", "odd"], input: input)
      #expect(result.status == 1, "\(parts[0])")
      #expect(result.stderr == "error: \(parts[1])\n", "\(parts[0])")
      let diff = try Golden.numericDiff(actual: result.stdout, golden: "golden/bad-stdin/\(parts[0]).stdout")
      #expect(diff == nil, "\(diff ?? "")")
    }
  }
}
