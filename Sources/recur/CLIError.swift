// The error every `recur` command throws: one line for `error: ...` on stderr, exit status 1.

struct CLIError: Error {
  let message: String
  /// True when the error comes from input being processed (so answers may already have been written), false for a
  /// usage error found before any work.
  let afterOutput: Bool
  init(_ message: String, afterOutput: Bool = false) {
    self.message = message
    self.afterOutput = afterOutput
  }
}
