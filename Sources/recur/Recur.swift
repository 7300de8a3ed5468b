// `recur`: stream numbers through a recurrent model, generate continuations, inspect and benchmark model files.
//
// Exit status: 0 success (also when stdout is closed early, e.g. `| head -1`); 1 bad input or bad model file,
// reported as one `error:` line on stderr after every answer computed before it was written, or a `golden check`
// difference; 2 bad command line.

import ArgumentParser
import RecurRuntimeNative

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// The C library's `exit`, named the same on Linux and macOS.
func exitProcess(_ status: Int32) -> Never { exit(status) }

@main
struct Recur: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur",
    abstract: "Run small recurrent sequence models: stream, generate, forecast, process audio, inspect, bench.",
    discussion: """
      Built-in models (--model NAME): \(ModelSource.builtinNames.joined(separator: ", ")). Any other --model value \
      is read as a .recur file.

      Examples:
        recur generate 1 3 5 7 9                   # continue with the model 'linear'
        recur generate --model fib --steps 20 1 1 2 3 5 8
        printf '1 3 5 7 9\\n2 4 6 8\\n' | recur generate  # one per stdin line
        seq 1 2 99 | recur stream                  # the next value after each
        recur forecast --model fit.recur < hist    # steps ahead, intervals
        recur process --model amp.recur in.wav -o out.wav      # audio, amp model
        recur inspect --model fib --json           # sizes, provenance, weights
        recur bench --model odd                    # latency and throughput here
        recur golden record --model m.recur -o g   # pin a model's outputs,
        recur golden check g                       # and check them later

      Exit status: 0 on success (also when stdout closes early, as in `| head`); 1 when a run fails (bad input or \
      a bad model file: every answer computed before it is written first); 2 for invalid options or a bad command \
      line (nothing done).
      """,
    version: Recur.version,
    subcommands: [
      Generate.self, Stream.self, Forecast.self, ProcessAudio.self, Inspect.self, Bench.self, GoldenCommand.self,
    ]
  )

  /// The release, recorded in golden directories.
  static let version = "0.2.0"

  /// More arguments than any valid command line holds (a seed of `Generate.maxSeedLength` values and the options).
  static let maxArguments = Generate.maxSeedLength + 64
  /// The most arguments ArgumentParser is given (`golden record` with 1000 input files needs 2000 and a few): its
  /// parsing is quadratic in repeated options (`recur stream` and 16,000 `--raw` took more than 20 s).
  static let maxParsedArguments = 2200

  static func main() {
    signal(SIGPIPE, SIG_IGN)  // a closed stdout becomes EPIPE, handled quietly by OutputWriter
    switch CPUDetection.detect() {
    case .success(let cpu): CPUDetection.current = cpu
    case .failure(let error):
      writeStandardError("error: \(error.message)\n")
      exitProcess(2)
    }
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard arguments.count <= maxArguments else {
      writeStandardError("error: \(arguments.count) arguments; at most \(maxArguments) (see 'recur --help')\n")
      exitProcess(2)
    }
    // Seed values never meet ArgumentParser (quadratic in their count: Generate.splitSeed).
    if arguments.first == "generate" {
      let (options, seed, unknown) = Generate.splitSeed(arguments.dropFirst())
      if let unknown {
        writeStandardError("error: unknown option '\(unknown)' (see 'recur generate --help')\n")
        exitProcess(2)
      }
      Generate.trailingSeed = seed
      arguments = ["generate"] + options
    }
    guard arguments.count <= maxParsedArguments else {
      writeStandardError("error: \(arguments.count) options and arguments; at most \(maxParsedArguments)\n")
      exitProcess(2)
    }
    do {
      var command = try parseAsRoot(arguments)
      try command.run()
      standardOutput.flush()
    } catch let error as CLIError {
      standardOutput.flush()
      writeStandardError("error: \(error.message)\n")
      exitProcess(1)
    } catch let status as ExitCode {  // a command's own verdict (golden check: 1 = differences, already reported)
      standardOutput.flush()
      exitProcess(status.rawValue)
    } catch {
      if exitCode(for: error) == .success {  // --help, --version: through standardOutput, so /dev/full is an error
        say(fullMessage(for: error))
        standardOutput.flush()
        exitProcess(0)
      }
      let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
      let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
      writeStandardError("error: \(text) (see 'recur --help')\n")
      exitProcess(2)
    }
  }
}

struct ModelOption: ParsableArguments {
  @Option(name: .long, help: "A built-in model name or a .recur file path.")
  var model: String = "linear"
}

/// Writes what was computed, then the error line, then exits 1.
func fail(_ output: OutputWriter, _ message: String) -> Never {
  output.flush()
  writeStandardError("error: \(message)\n")
  exitProcess(1)
}
