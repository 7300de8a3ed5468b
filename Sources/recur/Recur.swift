// `recur`: stream numbers through a recurrent model, generate continuations, inspect and benchmark model files.
//
// Exit status: 0 success (also when stdout is closed early, e.g. `| head -1`); 1 bad input or bad model file,
// reported as one `error:` line on stderr after every answer computed before it was written; 2 bad command line.

import ArgumentParser
import RecurRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@main
struct Recur: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur",
    abstract: "Run small recurrent sequence models: stream, generate, inspect, bench.",
    discussion: """
      Built-in models (--model NAME): \(ModelSource.builtinNames.joined(separator: ", ")). Any other --model value \
      is read as a .recur file.

      Examples:
        recur generate 1 3 5 7 9                    continue a sequence with the built-in 'odd' model
        recur generate --model fib --steps 20 1 1 2 3 5 8
        printf '1 3 5\\n2 4 6\\n' | recur generate   one continuation per stdin line
        seq 1 2 99 | recur stream                   one prediction of the next value per value in
        recur inspect --model fib --json            sizes, provenance, statistics and all weights
        recur bench --model odd                     per-step latency and streaming throughput here
      """,
    subcommands: [Generate.self, Stream.self, Inspect.self, Bench.self]
  )

  static func main() {
    signal(SIGPIPE, SIG_IGN)  // a closed stdout becomes EPIPE, handled quietly by OutputWriter
    do {
      var command = try parseAsRoot()
      try command.run()
    } catch let error as CLIError {
      writeStandardError("error: \(error.message)\n")
      Glibc.exit(1)
    } catch {
      if exitCode(for: error) == .success { exit(withError: error) }  // --help, --version
      let message = fullMessage(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
      let text = message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message
      writeStandardError("error: \(text) (see 'recur --help')\n")
      Glibc.exit(2)
    }
  }
}

struct ModelOption: ParsableArguments {
  @Option(name: .long, help: "A built-in model name or a .recur file path.")
  var model: String = "odd"
}

/// Writes what was computed, then the error line, then exits 1.
func fail(_ output: OutputWriter, _ message: String) -> Never {
  output.flush()
  writeStandardError("error: \(message)\n")
  exit(1)
}

// MARK: - generate

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Continue seed sequences (from the arguments, or one per stdin line).",
    discussion: """
      Semantics of the seed notebook's generate_sequence for sequence-max-scale models: scale = max(1, max|seed|), \
      prime with seed/scale, feed the last seed value again, free-run, multiply by scale. Window-differences models \
      predict each value from the last differences (see README). Values are printed separated by single spaces, each \
      as the shortest decimal that reads back as the same 32-bit float. Blank stdin lines are skipped.

      Examples:
        recur generate 1 3 5 7 9
        recur generate --model fib --steps 20 --with-seed 1 1 2 3 5 8
        printf '1 3 5 7 9\\n21 23 25 27 29\\n' | recur generate --model odd-ext
      """)

  @OptionGroup var options: ModelOption
  @Option(help: "Values to generate per seed (1...1000000000).") var steps: Int = 8
  @Flag(help: "Print the seed before its continuation, like the notebook.") var withSeed = false
  @Argument(parsing: .allUnrecognized, help: "Seed values; when absent, seeds are read from stdin.")
  var seed: [String] = []

  static let maxSeedLength = 65536

  func run() throws {
    guard (1...1_000_000_000).contains(steps) else { throw CLIError("--steps must be in 1...1000000000, got \(steps)") }
    let model = try ModelSource.load(options.model)
    let predictor = SequencePredictor(model: model)
    let output = OutputWriter(fd: 1)
    let seedValues = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.maxSeedLength)  // [maxSeedLength]
    let chunk = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)  // [4096] generated values
    defer {
      seedValues.deallocate()
      chunk.deallocate()
    }

    func emit(seedCount: Int, where place: String) {
      let seed = UnsafeBufferPointer(rebasing: seedValues[0..<seedCount])
      var separator = false
      if withSeed {
        for v in seed {
          if separator { output.byte(UInt8(ascii: " ")) }
          output.float(v)
          separator = true
        }
      }
      predictor.begin(seed: seed)
      var remaining = steps
      var produced = 0
      while remaining > 0 {
        let n = min(remaining, chunk.count)
        let part = UnsafeMutableBufferPointer(rebasing: chunk[0..<n])
        predictor.generate(into: part)
        for v in part {
          produced += 1
          guard v.isFinite else {
            output.byte(UInt8(ascii: "\n"))
            fail(output, "\(place)generated value \(produced) is not finite (the continuation overflowed Float)")
          }
          if separator { output.byte(UInt8(ascii: " ")) }
          output.float(v)
          separator = true
        }
        remaining -= n
      }
      output.byte(UInt8(ascii: "\n"))
    }

    if !seed.isEmpty {
      guard seed.count <= Self.maxSeedLength else { throw CLIError("seed has more than \(Self.maxSeedLength) values") }
      for (index, text) in seed.enumerated() {
        guard let v = parseNumberArgument(text) else {
          throw CLIError("argument \(index + 1): '\(text)' is not a finite decimal number")
        }
        seedValues[index] = v
      }
      emit(seedCount: seed.count, where: "")
      output.flush()
      return
    }

    let input = InputScanner(fd: 0)
    input.beforeBlocking = { output.flush() }
    var count = 0
    while true {
      let event: ScanEvent
      do { event = try input.next() } catch { fail(output, error.description) }
      switch event {
      case .number(let v):
        guard count < Self.maxSeedLength else {
          fail(
            output,
            "line \(input.currentLine), column \(input.lastNumberColumn): seed has more than \(Self.maxSeedLength) values"
          )
        }
        seedValues[count] = v
        count += 1
      case .endOfLine(let blank):
        if !blank { emit(seedCount: count, where: "line \(input.currentLine - 1): ") }
        count = 0
      case .endOfInput:
        output.flush()
        return
      }
    }
  }
}

// MARK: - stream

struct Stream: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Predict the next value for every value on stdin, carrying the hidden state.",
    discussion: """
      Numbers are separated by spaces, tabs or newlines; one prediction per line out for each number in. A blank \
      line ends the sequence and resets the state. Normalisation is causal: for sequence-max-scale models the scale \
      after value v_t is max(1, |v_1|, ..., |v_t|); window-differences models read only the values seen so far. \
      --raw feeds values to the cell unchanged and prints its readout: a pure function of the weights.

      Examples:
        seq 1 2 39 | recur stream
        printf '1 1 2 3 5 8\\n\\n2 3 5\\n' | recur stream --model fib
      """)

  @OptionGroup var options: ModelOption
  @Flag(help: "No normalisation: output = readout after feeding the raw value.") var raw = false

  func run() throws {
    let model = try ModelSource.load(options.model)
    let predictor = SequencePredictor(model: model)
    let cell = predictor.cell
    let output = OutputWriter(fd: 1)
    let input = InputScanner(fd: 0)
    input.beforeBlocking = { output.flush() }
    while true {
      let event: ScanEvent
      do { event = try input.next() } catch { fail(output, error.description) }
      switch event {
      case .number(let v):
        let prediction = raw ? cell.step(v) : predictor.observe(v)
        guard prediction.isFinite else {
          fail(
            output,
            "line \(input.currentLine), column \(input.lastNumberColumn): the prediction after this value is not finite (overflow)"
          )
        }
        output.float(prediction)
        output.byte(UInt8(ascii: "\n"))
      case .endOfLine(let blank):
        if blank { predictor.reset() }
      case .endOfInput:
        output.flush()
        return
      }
    }
  }
}
