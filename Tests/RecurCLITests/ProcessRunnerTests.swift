// The test-support runner itself: a child that writes megabytes to stdout and to stderr must not deadlock it
// (a runner that reads stdout to its end before stderr would: the child blocks on a full stderr pipe and never
// closes stdout), and what it collects is complete.

import Foundation
import RecurTestSupport
import Testing

struct ProcessRunnerTests {
  @Test func drainsMegabytesOnBothPipesWithoutDeadlock() throws {
    let megabytes = 4
    // stderr first, then stdout, then stderr again: either reading order alone would block the child.
    let script = """
      head -c \(megabytes << 20) /dev/zero | tr '\\0' e >&2
      head -c \(megabytes << 20) /dev/zero | tr '\\0' o
      printf tail >&2
      """
    let result = try ChildProcess.run("/bin/sh", ["-c", script], timeout: 120)
    #expect(!result.timedOut, "the runner deadlocked (killed after 120 s)")
    #expect(result.status == 0)
    #expect(result.stdoutBytes.count == megabytes << 20)
    #expect(result.stdout.allSatisfy { $0 == "o" })
    #expect(result.stderr.utf8.count == (megabytes << 20) + 4 && result.stderr.hasSuffix("etail"))
  }

  @Test func feedsStdinAndKeepsTheExitStatus() throws {
    let input = Data((0..<200_000).map { "\($0)\n" }.joined().utf8)
    let result = try ChildProcess.run("/bin/sh", ["-c", "wc -l; exit 3"], input: input)
    #expect(result.status == 3)
    #expect(result.stdout.trimmingCharacters(in: .whitespaces) == "200000\n")
  }

  @Test func timeoutKillsAHungChild() throws {
    let result = try ChildProcess.run("/bin/sh", ["-c", "sleep 30"], timeout: 0.5)
    #expect(result.timedOut && result.status != 0)
  }

  /// The products are found beside the test runner (Linux and macOS layouts: RecurTestSupport's `Products`).
  @Test func findsTheBuiltProducts() {
    for name in ["recur", "recur-train"] {
      #expect(FileManager.default.isExecutableFile(atPath: Products.path(name)), "\(Products.path(name))")
    }
  }
}
