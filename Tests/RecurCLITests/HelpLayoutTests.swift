// Both executables' help, as a user reads it on an 80-column terminal: every example fits (ArgumentParser wraps a
// long line at column 80 and the rest starts at column 0, a broken command nobody can paste), and both tools list
// their exit statuses the same way.

import Foundation
import RecurTestSupport
import Testing

struct HelpLayoutTests {
  static let commands: [[String]] = [
    ["recur"], ["recur", "generate"], ["recur", "stream"], ["recur", "process"], ["recur", "inspect"],
    ["recur", "bench"], ["recur", "golden"], ["recur", "golden", "record"], ["recur", "golden", "check"],
    ["recur-train"], ["recur-train", "train"], ["recur-train", "fit"], ["recur-train", "score"],
    ["recur-train", "eval"], ["recur-train", "baseline"], ["recur-train", "import"], ["recur-train", "import-torch"],
  ]

  /// The lines of each "Example:" / "Examples:" block of `help`, up to the blank line that ends it.
  static func exampleLines(_ help: String) -> [Substring] {
    var lines: [Substring] = []
    var inExamples = false
    for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
      if line.hasPrefix("Example") && line.hasSuffix(":") {
        inExamples = true
      } else if line.isEmpty {
        inExamples = false
      } else if inExamples {
        lines.append(line)
      }
    }
    return lines
  }

  @Test(arguments: commands)
  func examplesFitEightyColumns(command: [String]) throws {
    let result = try ChildProcess.run(
      Products.path(command[0]), Array(command.dropFirst()) + ["--help"], environment: ["COLUMNS": "80"])
    #expect(result.status == 0)
    let examples = Self.exampleLines(result.stdout)
    if command.count == 1 || ["train", "fit", "generate", "stream", "process"].contains(command.last!) {
      #expect(!examples.isEmpty, "\(command.joined(separator: " ")) --help has no examples")
    }
    for line in examples {
      #expect(line.hasPrefix("  "), "\(command.joined(separator: " ")) --help: an example wraps at 80: '\(line)'")
    }
  }

  /// The top-level help of both tools states the same three exit statuses.
  @Test func bothToolsStateTheirExitStatuses() throws {
    for tool in ["recur", "recur-train"] {
      let help = try ChildProcess.run(Products.path(tool), ["--help"], environment: ["COLUMNS": "300"]).stdout
      #expect(help.contains("Exit status") && help.contains("0 on success"), "\(tool)")
      #expect(help.contains("1 when a run fails") && help.contains("2 for invalid options or a bad command line"))
    }
    for (tool, arguments) in [("recur", ["generate", "--steps", "x"]), ("recur-train", ["train", "--epochs", "x"])] {
      let bad = try ChildProcess.run(Products.path(tool), arguments)
      #expect(bad.status == 2 && bad.stderr.hasPrefix("error: ") && bad.stderr.hasSuffix("(see '\(tool) --help')\n"))
    }
  }
}
