// `recur generate`: continue seed sequences, feeding each prediction back as the next input.

import ArgumentParser
import RecurRuntimeNative
import RecurText

struct Generate: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Continue seed sequences (from the arguments, or one per stdin line).",
    discussion: """
      Semantics of the seed notebook's generate_sequence for sequence-max-scale models: scale = max(1, max|seed|), \
      prime with seed/scale, feed the last seed value again, free-run, multiply by scale. Window-differences models \
      predict each value from the last differences (see docs/seed-notebook.md). Identity models feed the seed's steps, then each \
      prediction back. Values are printed separated by single spaces, each as the shortest decimal that reads back \
      as the same 32-bit float. Blank stdin lines are skipped. `--` ends the options, so seeds may start with a \
      negative number.

      Models with one input read one seed per line (or the arguments) and print one line per seed. Models with I \
      inputs (identity encoding, I outputs) read a seed as consecutive lines of I values each, ended by a blank \
      line or the end of input (or the arguments, I at a time), and print --steps lines of I values, then a blank \
      line. Models whose input and output sizes differ cannot generate (use stream).

      Examples:
        recur generate 1 3 5 7 9
        recur generate --model fib --steps 20 --with-seed 1 1 2 3 5 8
        recur generate --steps 3 -- -50 -48 -46 -44 -42
        printf '1 3 5 7 9\\n21 23 25 27 29\\n' | recur generate --model odd-ext
      """)

  @OptionGroup var options: ModelOption
  @Option(help: "Values to generate per seed (1...1000000000).") var steps: Int = 8
  @Flag(help: "Print the seed before its continuation, like the notebook.") var withSeed = false
  @Argument(parsing: .allUnrecognized, help: "Seed values; when absent, seeds are read from stdin.")
  var seed: [String] = []

  static let maxSeedLength = 65536

  /// The seed values `Recur.main` set aside before argument parsing (see `splitSeed`); they follow `seed`.
  nonisolated(unsafe) static var trailingSeed: [String] = []

  /// The options of `generate` that take a value (the next argument), and its flags. `CLITests` checks both lists
  /// against `recur generate --help`, so a new option cannot be forgotten here.
  static let valueOptions: Set<String> = ["--model", "--steps"]
  static let flags: Set<String> = ["--with-seed", "--version", "-h", "--help"]

  /// Splits `generate`'s arguments into its options (with their values) and the seed, in order, without
  /// ArgumentParser: it stores each positional value with a set of all earlier ones' origins, quadratic in the count
  /// (`recur generate $(seq 1 8000)` took 2.5 s, 65,536 values minutes). Anything that is not one of the options
  /// (`--model x`, `--model=x`, `--steps`, `--with-seed`, `--help`) is a seed value, as ArgumentParser's
  /// `.allUnrecognized` had it (`--bogus` is then "argument N: '--bogus' is not a number"); after `--` everything is.
  /// A long option `generate` does not have (`--stepz`, before any `--`): an error of the command line, not a
  /// number. (A single dash is a seed value's: `-5`, `-inf` are refused as numbers, with their argument index.)
  static func isUnknownOption(_ token: String) -> Bool {
    let bytes = Array(token.utf8.prefix(3))
    guard bytes.count == 3, bytes[0] == UInt8(ascii: "-"), bytes[1] == UInt8(ascii: "-") else { return false }
    return (bytes[2] | 0x20) >= UInt8(ascii: "a") && (bytes[2] | 0x20) <= UInt8(ascii: "z")
  }

  static func splitSeed(_ arguments: ArraySlice<String>) -> (options: [String], seed: [String], unknown: String?) {
    var options: [String] = []
    var seed: [String] = []
    var unknown: String? = nil
    var i = arguments.startIndex
    while i < arguments.endIndex {
      let token = arguments[i]
      if token == "--" {
        seed += arguments[(i + 1)...]
        break
      }
      let name = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? token
      if flags.contains(token) || (valueOptions.contains(name) && token.contains("=")) {
        options.append(token)
      } else if valueOptions.contains(token) {
        options.append(token)
        if i + 1 < arguments.endIndex {
          options.append(arguments[i + 1])
          i += 1
        }
      } else {
        if unknown == nil && isUnknownOption(token) { unknown = token }
        seed.append(token)
      }
      i += 1
    }
    return (options, seed, unknown)
  }

  /// A bad --steps is a bad command line (exit 2, as for any invalid option), refused before the model is loaded.
  func validate() throws {
    guard (1...1_000_000_000).contains(steps) else {
      throw ValidationError("--steps must be in 1...1000000000, got \(steps)")
    }
  }

  func run() throws {
    let model = try ModelSource.load(options.model)
    // `--` ends the options (ArgumentParser passes it through with the unrecognized arguments).
    // `--` was consumed by `splitSeed` (Recur.main): what follows it is all seed, even another `--`.
    let arguments = seed + Self.trailingSeed
    let output = OutputWriter(fd: 1)
    let input = InputScanner(fd: 0)
    input.beforeBlocking = { output.flush() }
    do {
      try Self.generate(
        model: model, steps: steps, withSeed: withSeed, arguments: arguments, input: input, output: output,
        shortSeedNote: true)
    } catch {
      if !error.afterOutput { throw error }  // a usage error, found before anything was written
      fail(output, error.message)
    }
    output.flush()
  }

  /// Continues every seed (from `arguments`, or else from `input`) and writes the continuations to `output` (the
  /// whole of `recur generate`; `recur golden` runs it on files). Throws after writing every earlier answer to
  /// `output` (unflushed).
  /// `shortSeedNote`: say once on stderr when a window-differences seed is shorter than the model's window.
  static func generate(
    model: RecurrentModel, steps: Int, withSeed: Bool, arguments: [String], input: InputScanner, output: OutputWriter,
    shortSeedNote: Bool = false
  ) throws(CLIError) {
    let width = model.inputSize
    guard model.outputSize == width else {
      throw CLIError(
        "generate feeds each prediction back as the next input, so it needs input size = output size; this model "
          + "reads \(width) values per step and predicts \(model.outputSize) (use 'recur stream')")
    }
    let predictor = SequencePredictor(model: model)
    let seedValues = UnsafeMutableBufferPointer<Float>.allocate(capacity: Self.maxSeedLength)  // [maxSeedLength]
    let chunk = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)  // [4096] generated values
    defer {
      seedValues.deallocate()
      chunk.deallocate()
    }

    // A window-differences model reads the last k + 1 values; a shorter seed leaves its window partly zero, which
    // the built-in `linear` model never saw in training (from fewer than 5 values no order-2 rule is determined).
    let window = model.file.contextLength + 1
    var noted = !shortSeedNote || model.file.encoding != .windowDifferences
    /// One line per seed for univariate models.
    func emitValues(seedCount: Int, where place: String) throws(CLIError) {
      let seed = UnsafeBufferPointer(rebasing: seedValues[0..<seedCount])
      if !noted && seedCount < window {
        noted = true
        output.flush()  // the note follows every answer already computed
        writeStandardError(
          "note: \(place)a seed of \(seedCount) value\(seedCount == 1 ? "" : "s") fills \(max(seedCount - 1, 0)) of the "
            + "\(window - 1) differences the model reads (the rest are zeros): give \(window) values for a full window\n"
        )
      }
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
            throw CLIError(
              "\(place)generated value \(produced) is not finite (the continuation overflowed Float)", afterOutput: true
            )
          }
          if separator { output.byte(UInt8(ascii: " ")) }
          output.float(v)
          separator = true
        }
        remaining -= n
      }
      output.byte(UInt8(ascii: "\n"))
    }

    /// One line per time step, then a blank line, for models with several channels.
    func emitSteps(seedCount: Int, where place: String) throws(CLIError) {
      let seedSteps = seedCount / width
      func line(_ values: UnsafePointer<Float>) {
        for i in 0..<width {
          if i > 0 { output.byte(UInt8(ascii: " ")) }
          output.float(values[i])
        }
        output.byte(UInt8(ascii: "\n"))
      }
      if withSeed { for t in 0..<seedSteps { line(seedValues.baseAddress! + t * width) } }
      predictor.begin(steps: seedValues.baseAddress!, count: seedSteps)
      let perChunk = chunk.count / width
      var remaining = steps
      var produced = 0
      while remaining > 0 {
        let n = min(remaining, perChunk)
        predictor.generate(steps: n, into: chunk.baseAddress!)
        for t in 0..<n {
          produced += 1
          let values = chunk.baseAddress! + t * width
          for i in 0..<width where !values[i].isFinite {
            throw CLIError(
              "\(place)generated step \(produced) is not finite (the continuation overflowed Float)", afterOutput: true)
          }
          line(values)
        }
        remaining -= n
      }
      output.byte(UInt8(ascii: "\n"))
    }

    func emit(seedCount: Int, where place: String) throws(CLIError) {
      if width == 1 {
        try emitValues(seedCount: seedCount, where: place)
      } else {
        try emitSteps(seedCount: seedCount, where: place)
      }
    }

    if !arguments.isEmpty {
      guard arguments.count <= Self.maxSeedLength else {
        throw CLIError("seed has more than \(Self.maxSeedLength) values")
      }
      for (index, text) in arguments.enumerated() {
        do {
          seedValues[index] = try parseNumberArgument(text)
        } catch {
          throw CLIError("argument \(index + 1): \(error.message)")
        }
      }
      guard arguments.count % width == 0 else {
        throw CLIError(
          "the model reads \(width) values per time step; \(arguments.count) seed values are not whole steps")
      }
      try emit(seedCount: arguments.count, where: "")
      return
    }

    var count = 0
    var onLine = 0
    var seedStartLine = 1
    while true {
      let event: ScanEvent
      do { event = try input.next() } catch { throw CLIError(error.description, afterOutput: true) }
      switch event {
      case .number(let v):
        guard count < Self.maxSeedLength else {
          throw CLIError(
            "line \(input.currentLine), column \(input.lastNumberColumn): seed has more than \(Self.maxSeedLength) values",
            afterOutput: true)
        }
        if width > 1 && onLine == width {
          throw CLIError(
            "line \(input.currentLine), column \(input.lastNumberColumn): more than \(width) values on a line "
              + "(the model reads \(width) per time step)", afterOutput: true)
        }
        if count == 0 { seedStartLine = input.currentLine }
        seedValues[count] = v
        count += 1
        onLine += 1
      case .endOfLine(let blank):
        if width == 1 {
          if !blank { try emit(seedCount: count, where: "line \(input.endedLine): ") }
          count = 0
        } else if onLine > 0 && onLine < width {
          throw CLIError(
            "line \(input.endedLine), column \(input.lineEndColumn): expected \(width) values on the line, found \(onLine)",
            afterOutput: true)
        } else if blank && count > 0 {
          try emit(seedCount: count, where: "seed at line \(seedStartLine): ")
          count = 0
        }
        onLine = 0
      case .endOfInput:
        if width > 1 && count > 0 { try emit(seedCount: count, where: "seed at line \(seedStartLine): ") }
        return
      }
    }
  }
}
