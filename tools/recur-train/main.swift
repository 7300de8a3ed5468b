// recur-train: trains recurrent models (the seed notebook's vanilla RNN, GRU, LSTM, stacked) on a sequence family and
// exports `.recur` model files; imports PyTorch state dumps. See `recur-train --help`.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurTrainer

// MARK: - Commands

struct RecurTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur-train",
    abstract: "Train small recurrent sequence models offline and export .recur model files.",
    discussion: """
      Every random draw (data, initial weights, shuffles) comes from one GSL mt19937 seeded with --seed, so the \
      same options give the same model file, byte for byte.

      Examples:
        recur-train train --family odd -o odd.recur
        recur-train train --family fib --seed 3 -o fib.recur
        recur-train train --family fib --encoding window-differences -o fd.recur
        recur-train train --family fib --cell lstm --layers 2 -o fib-lstm.recur
        recur-train fit readings.csv -o readings.recur
        recur-train import amp.aidax -o amp.recur
        recur-train import-torch state.json -o imported.recur --window 6
        recur-train eval --model odd.recur --family odd --plots plots/odd
        recur-train baseline --family fib --plots plots/fib-mlp

      Exit status (as `recur`): 0 on success; 1 when a run fails (a bad input file, a loss that diverges: no \
      model is written); 2 for invalid options or a bad command line (nothing done).
      """,
    subcommands: [Train.self, Fit.self, Score.self, Eval.self, Baseline.self, Import.self, ImportTorch.self])
}

// MARK: - Output helpers

/// Writes `text` to stderr as it is (the progress bar's carriage returns and erase sequences).
func writeStandardError(_ text: String) { writeText(text, to: 2) }

/// Writes one `error: ...` line to stderr through the one escaping function (RecurIO): whatever the message quotes
/// (a path, a key, a token) cannot drive the terminal or forge a second line.
func writeErrorLine(_ message: String) { writeStandardError("error: " + escaped(message, backslashes: false) + "\n") }

/// `print` for this executable: every line goes through the escaping function's safety net (control characters
/// other than the line breaks escaped; RecurIO), as `recur`'s output does, so a path or a name from input cannot
/// drive the terminal. Values quoted in a line are escaped where they are quoted (`escaped(path)`).
func print(_ text: String = "") {
  Swift.print(
    text.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0), backslashes: false) }
      .joined(separator: "\n"))
}

/// Flushes stdout (print is buffered when stdout is a pipe) so epoch lines appear as they happen.
func flushOutput() { fflush(nil) }

/// The exit status once the command is done: 0, or 1 with a message when stdout could not be written (a full disk,
/// /dev/full); a closed pipe (EPIPE, `| head`) stays quiet, as in `recur`. SIGPIPE is ignored (see the entry point),
/// so a write to a closed pipe fails with EPIPE instead of killing the process.
func finishStandardOutput() -> Int32 {
  let (failed, code) = flushStandardOutput()
  guard failed, code != EPIPE else { return 0 }
  let why = code == 0 ? "an earlier write failed" : String(cString: strerror(code))
  writeErrorLine("cannot write to standard output: \(why)")
  return 1
}

// MARK: - Entry point

/// One `error: ...` line on stderr and the exit status: 2 for invalid options and bad command lines (the convention
/// `recur` uses), 1 for failed runs.
func runMain(_ arguments: [String]) -> Int32 {
  // ArgumentParser's parsing is quadratic in repeated options (8,000 `--epochs 1` took 12 s); no command needs many.
  guard arguments.count <= 256 else {
    writeErrorLine("\(arguments.count) arguments; at most 256 (see 'recur-train --help')")
    return 2
  }
  do {
    var command = try RecurTrain.parseAsRoot(arguments)
    try command.run()
    return finishStandardOutput()
  } catch let error as TrainerError {
    flushOutput()
    writeErrorLine(error.description)
    if case .invalidOption = error { return 2 }
    return 1
  } catch {
    flushOutput()
    let code = RecurTrain.exitCode(for: error)
    if code == .success {
      // --help and friends (a full stdout is an error here too).
      print(RecurTrain.fullMessage(for: error))
      return finishStandardOutput()
    }
    let message =
      RecurTrain.message(for: error).split(separator: "\n").first.map(String.init)
      ?? "invalid arguments"
    writeErrorLine("\(message) (see 'recur-train --help')")
    return 2
  }
}

signal(SIGPIPE, SIG_IGN)
exit(runMain(Array(CommandLine.arguments.dropFirst())))
