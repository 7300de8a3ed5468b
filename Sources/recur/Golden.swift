// `recur golden record` and `recur golden check`: golden-file regression for any model, the machinery the project's
// own goldens use (Fixtures/golden/<model>, tools/update-goldens, GoldenTests).
//
// A golden directory is plain text, diff-friendly:
//   golden.txt       the manifest: format, recur version, model (a built-in name, or `model.recur`: a copy of the
//                    model file in the directory), its CRC-32, bytes, architecture, encoding, tolerance, and one
//                    `case NAME KIND [OPTIONS]` line per case
//   model.recur      the model, when it is not built in
//   NAME.in          the case's input, copied: `recur stream` input, or `recur generate` seeds
//   NAME.out         the output exactly as `recur stream` / `recur generate` prints it
// `check` re-runs every case in process (the same code as `recur stream` and `recur generate`) and compares value by
// value, streaming the output against the `.out` file: |actual − expected| ≤ tolerance · max(|expected|, 1), or
// byte for byte with --exact.
//
// A golden directory is untrusted input (it arrives in someone else's pull request and runs in CI). Everything it
// names stays inside it: files are opened by plain names (no '/', no symbolic links: `InputFile` with
// followSymlinks false), the manifest's model is a built-in name or a file name in the directory. Its sizes and its
// work are bounded before any case runs (`GoldenLimits`); expected values must be finite numbers (a `nan` is a
// damaged file, never a pass); everything echoed from it is escaped. `record` writes a new directory and swaps it
// in (RecurIO's OutputDirectory), so a failure part-way leaves the old one as it was.

import ArgumentParser
import RecurIO
import RecurRuntimeNative
import RecurText

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

struct GoldenCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "golden",
    abstract: "Record a model's outputs on pinned inputs, and check a model against them later.",
    discussion: """
      Record once, commit the directory, check in CI:
        recur golden record --model my.recur --inputs sensor.txt --seeds seeds.txt -o golden/my
        recur golden check golden/my                 # exit 0: every output within tolerance
        recur golden check golden/my --model new.recur

      Tolerance (default 1e-5 relative, floor 1): |actual - expected| <= tolerance * max(|expected|, 1). Why: the
      same weights give last-bit differences between builds and CPUs (a multiply-add fused on an FMA machine is
      rounded once instead of twice: measured at most 1.2e-6 relative over 20 free-running steps of the built-in
      odd, fib, odd-ext and fib-ext models), while any change of weights, encoding or normalisation moves outputs by \
      far more than 1e-3. Models that amplify rounding need more: the built-in linear model's stream answers differ \
      by up to 1.7e-4 relative between the default build and one without FMA (RECUR_PORTABLE=1), so its golden is \
      recorded with --tolerance 1e-3.
      --exact demands byte-identical output (the same build on the same kind of CPU).
      """,
    subcommands: [Record.self, Check.self])

  /// The tolerance a directory records when `--tolerance` is not given.
  static let defaultTolerance = 1e-5

  // MARK: - record

  struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a model over input files and write a golden directory.",
      discussion: """
        --inputs FILE: `recur stream` input (one value, or one time step of I values, per line; a blank line resets). \
        --raw-inputs FILE: the same through `recur stream --raw`. --seeds FILE: `recur generate` seeds, continued \
        for --steps values each (models with input size = output size). Each may be repeated. With none of them, a \
        documented synthetic set is used: for one-input models, odd numbers 1...39, a Fibonacci-like run, and a \
        signed decaying series as stream input, and seeds "1 3 5 7 9", "1 1 2 3 5 8", "10 20 30"; for I inputs, 40 \
        steps whose channel c at step t is ((7t + 3c) mod 11 − 5) / 5, and the first three of them as a seed. \
        The model is copied into the directory as model.recur unless it is built in. The directory is written whole \
        and swapped in: a failure leaves the old one as it was; regular files other than a golden directory's are \
        kept; a destination holding anything but regular files is refused.
        """)

    @OptionGroup var options: ModelOption
    @Option(name: .customLong("inputs"), help: "A stream input file (repeatable).") var inputs: [String] = []
    @Option(name: .customLong("raw-inputs"), help: "A stream --raw input file (repeatable).") var rawInputs: [String] =
      []
    @Option(name: .customLong("seeds"), help: "A generate seeds file (repeatable).") var seeds: [String] = []
    @Option(help: "Values generated per seed (1...100000).") var steps: Int = 20
    @Option(help: "Relative tolerance to record (floor 1).") var tolerance: Double = GoldenCommand.defaultTolerance
    @Option(name: [.customShort("o"), .customLong("output")], help: "The golden directory to write.")
    var output: String

    /// Bad option values are a bad command line: exit 2 before anything is read.
    func validate() throws {
      guard (1...100_000).contains(steps) else { throw ValidationError("--steps must be in 1...100000, got \(steps)") }
      guard tolerance.isFinite && tolerance >= 0 else {
        throw ValidationError("--tolerance must be a finite number >= 0")
      }
      guard inputs.count + rawInputs.count + seeds.count <= GoldenLimits.maxCases else {
        throw ValidationError("at most \(GoldenLimits.maxCases) input files")
      }
    }

    func run() throws {
      do { try OutputDirectory.checkDestination(output, what: "-o") } catch { throw CLIError(error.message) }
      let (model, bytes) = try ModelSource.loadWithBytes(options.model)
      let builtin = ModelSource.builtinNames.contains(options.model)
      // (name, kind, the file it came from) for each case; inputs are read and every case is run before anything
      // is written, so a bad input leaves the directory as it was.
      var sources: [(String, GoldenCase.Kind, String)] = []
      for (index, path) in inputs.enumerated() { sources.append(("stream-\(index + 1)", .stream, path)) }
      for (index, path) in rawInputs.enumerated() { sources.append(("stream-raw-\(index + 1)", .streamRaw, path)) }
      for (index, path) in seeds.enumerated() {
        sources.append(("generate-\(index + 1)", .generate(steps: steps), path))
      }
      // The directory is replaced whole: a file inside it given as an input would be gone afterwards.
      let inside = Set((directoryEntries(output) ?? []).compactMap { FileIdentity.of(output + "/" + $0) })
      for (_, _, path) in sources where FileIdentity.of(path).map(inside.contains) == true {
        throw CLIError(
          "'\(path)' is inside -o '\(output)', which is replaced whole; refusing to lose an input (copy it out first)")
      }
      var cases: [(GoldenCase, input: [UInt8], source: String)] = []
      for (name, kind, path) in sources {
        let input: [UInt8]
        switch readWholeFile(path, limit: GoldenLimits.maxInputBytes) {
        case .success(let bytes): input = bytes
        case .failure(let error): throw CLIError("'\(path)': \(error.message)")
        }
        cases.append((GoldenCase(name: name, kind: kind), input, path))
      }
      if cases.isEmpty {
        cases = GoldenCase.synthetic(for: model, steps: steps).map { ($0.0, $0.1, "the synthetic \($0.0.name)") }
      }
      // The limits `check` applies, applied here too: whatever is recorded can be checked.
      var budget = GoldenLimits.Budget(model: model)
      for (c, input, source) in cases {
        try budget.charge(c, input: input, where: "'\(source)'")
      }
      var files: [(name: String, bytes: [UInt8])] = []
      for (c, input, source) in cases {
        // Kept only up to the outputs' limit (the work is bounded above, so the run is too): then refused.
        var out: [UInt8] = []
        var produced = 0
        let room = GoldenLimits.maxOutputBytes - budget.outputBytes
        let writer = OutputWriter(sink: { chunk in
          produced += chunk.count
          if produced <= room { out.append(contentsOf: chunk) }
        })
        // (A Result, not a typed-throws closure: inlining that one crashed the 6.3.1 optimizer.)
        let result = input.withUnsafeBytes { raw in
          Result { () throws(CLIError) in
            try c.run(model: model, input: InputScanner(bytes: raw), output: writer, where: "'\(source)'")
          }
        }
        try result.get()
        try budget.chargeOutput(produced, where: "'\(source)'")
        files.append(("\(c.name).in", input))
        files.append(("\(c.name).out", out))
      }
      let a = model.architecture
      let manifest = GoldenManifest(
        recurVersion: Recur.version, model: builtin ? options.model : GoldenLimits.modelFileName,
        source: builtin ? nil : options.model, crc: crc32(bytes), bytes: bytes.count,
        architecture:
          "\(a.kind.name) layers=\(a.layers) input=\(a.inputSize) hidden=\(a.hiddenSize) output=\(a.outputSize)"
          + (a.isMixture ? " experts=\(a.experts) order=\(a.expertOrder)" : ""),
        encoding: model.file.encoding.name, tolerance: tolerance, cases: cases.map(\.0))
      if !builtin { files.append((GoldenLimits.modelFileName, bytes)) }
      files.append((GoldenLimits.manifestName, Array(manifest.text.utf8)))
      do {
        // A golden directory's own files that this recording does not write belong to an older recording: dropped.
        try OutputDirectory.write(files, to: output, what: "golden directory") { !GoldenLimits.isGoldenFileName($0) }
      } catch {
        throw CLIError(error.message)
      }
      say(
        "recorded \(cases.count) case\(cases.count == 1 ? "" : "s") of \(escaped(options.model)) in \(escaped(output))")
    }
  }

  // MARK: - check

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Re-run a golden directory's cases and compare: exit 0 when every output is within tolerance.",
      discussion: """
        Exit status: 0 all within tolerance; 1 a difference (a short report: file, line and value, expected vs \
        actual, the largest deviation, how many values moved) or a missing or damaged golden directory. A model \
        whose checksum differs from the recorded one is reported and still checked. The directory is untrusted \
        input: files are read by plain names only (symbolic links are refused; the manifest's model is a built-in \
        name or a file in the directory), the work is bounded before any case runs (at most \
        \(GoldenLimits.maxCases) cases, \(GoldenLimits.maxInputBytes >> 20) MiB of inputs and as much of outputs, \
        \(GoldenLimits.maxGeneratedValues) generated values, and 10^10 of work: time steps × parameters × the \
        window's cell steps), and an \
        expected value that is not a finite number is an error.
        """)

    @Argument(help: "The golden directory.") var directory: String
    @Option(help: "The model to check (default: the one recorded).") var model: String?
    @Option(help: "Relative tolerance (floor 1) instead of the recorded one.") var tolerance: Double?
    @Flag(help: "Demand byte-identical output.") var exact = false

    func run() throws {
      if let tolerance, !(tolerance.isFinite && tolerance >= 0) {
        throw CLIError("--tolerance must be a finite number >= 0")
      }
      guard !directory.isEmpty else { throw CLIError("the golden directory is an empty path") }
      let dir = GoldenDirectory(directory)
      let manifestBytes: [UInt8]
      do {
        manifestBytes = try dir.read(GoldenLimits.manifestName, limit: GoldenLimits.maxManifestBytes)
      } catch {
        throw CLIError("'\(directory)' is not a golden directory (\(error.message))")
      }
      let manifest = try GoldenManifest(parsing: manifestBytes, path: dir.path(GoldenLimits.manifestName))
      // The model: --model as any command reads it (the user's own choice), else the manifest's, inside DIR.
      let loaded: RecurrentModel
      let bytes: [UInt8]
      let spec: String
      if let model {
        (loaded, bytes) = try ModelSource.loadWithBytes(model)
        spec = model
      } else if ModelSource.builtinNames.contains(manifest.model) {
        (loaded, bytes) = try ModelSource.loadWithBytes(manifest.model)
        spec = manifest.model
      } else {
        spec = dir.path(manifest.model)
        bytes = try dir.read(manifest.model, limit: ModelFormat.maxFileSize)
        do { loaded = try RecurrentModel(bytes: bytes, cpu: CPUDetection.current) } catch {
          throw CLIError("model file '\(spec)': \(error)")
        }
      }
      let crc = crc32(bytes)
      if crc != manifest.crc {
        say(
          "model \(escaped(spec)): checksum \(hex8(crc)) differs from the recorded \(hex8(manifest.crc)) "
            + "(\(escaped(manifest.model))); a different model, checked against the recorded outputs anyway")
      }
      // Every file opened and the whole work bounded before the first case runs. Each pair is closed again (1000
      // cases would hold 2000 descriptors, more than a common `ulimit -n`); a case's files are opened again when it
      // runs and must be the very files measured here (same device, inode and size).
      var budget = GoldenLimits.Budget(model: loaded)
      var measured: [(input: FileIdentity, inputSize: Int, expected: FileIdentity, expectedSize: Int)] = []
      for c in manifest.cases {
        let input = try dir.open("\(c.name).in", limit: GoldenLimits.maxInputBytes)
        let expected = try dir.open("\(c.name).out", limit: GoldenLimits.maxOutputBytes)
        try budget.charge(c, input: input, expected: expected, where: "'\(dir.path("\(c.name).in"))'")
        measured.append((input.identity, input.size, expected.identity, expected.size))
      }
      let limit = tolerance ?? manifest.tolerance
      var failed = 0
      var values = 0
      for (c, was) in zip(manifest.cases, measured) {
        let inputPath = dir.path("\(c.name).in")
        let outputPath = dir.path("\(c.name).out")
        let input = try dir.open("\(c.name).in", limit: GoldenLimits.maxInputBytes)
        let expected = try dir.open("\(c.name).out", limit: GoldenLimits.maxOutputBytes)
        guard
          input.identity == was.input && input.size == was.inputSize && expected.identity == was.expected
            && expected.size == was.expectedSize
        else {
          throw CLIError("'\(inputPath)' or '\(outputPath)' changed while the directory was checked")
        }
        let comparison = GoldenComparison(expected: expected, file: outputPath, tolerance: limit, exact: exact)
        let writer = OutputWriter(sink: { comparison.feed($0) })
        try c.run(model: loaded, input: InputScanner(fd: input.fd), output: writer, where: "'\(inputPath)'")
        let result = try comparison.finish()
        values += result.values
        if let report = result.report(file: outputPath, tolerance: limit, exact: exact) {
          failed += 1
          say(report)
        }
      }
      let rule = exact ? "byte for byte" : "within \(limit) relative, floor 1"
      if failed > 0 {
        say("golden check \(escaped(directory)): \(failed) of \(manifest.cases.count) cases differ; required: \(rule)")
        throw ExitCode(1)
      }
      say("golden check \(escaped(directory)): \(manifest.cases.count) cases, \(values) values, all \(rule)")
    }
  }
}

// MARK: - Running a case

extension GoldenCase {
  /// Runs the case: writes to `output` what `recur stream` / `recur generate` prints for `input`, then flushes it.
  /// Input errors name the input file (`place`).
  func run(model: RecurrentModel, input: InputScanner, output: OutputWriter, where place: String) throws(CLIError) {
    do throws(CLIError) {
      switch kind {
      case .stream: try Stream.stream(model: model, raw: false, input: input, output: output)
      case .streamRaw: try Stream.stream(model: model, raw: true, input: input, output: output)
      case .generate(let steps):
        try Generate.generate(model: model, steps: steps, withSeed: false, arguments: [], input: input, output: output)
      }
    } catch {
      throw CLIError("\(place): \(error.message)")
    }
    output.flush()
  }

  /// The documented default inputs (see `recur golden record --help`).
  static func synthetic(for model: RecurrentModel, steps: Int) -> [(GoldenCase, [UInt8])] {
    let a = model.architecture
    if a.inputSize == 1 {
      var stream = (0..<20).map { "\(2 * $0 + 1)" }.joined(separator: "\n") + "\n\n"
      stream += "1 1 2 3 5 8 13 21 34 55\n\n"
      stream += (0..<20).map { t in "\(Double(t % 2 == 0 ? 1 : -1) * 8 / Double(t + 1))" }.joined(separator: " ") + "\n"
      var cases = [(GoldenCase(name: "stream-1", kind: .stream), Array(stream.utf8))]
      if a.outputSize == 1 {
        cases.append(
          (
            GoldenCase(name: "generate-1", kind: .generate(steps: steps)),
            Array("1 3 5 7 9\n1 1 2 3 5 8\n10 20 30\n".utf8)
          ))
      }
      return cases
    }
    func step(_ t: Int) -> String {
      (0..<a.inputSize).map { c in "\(Double((7 * t + 3 * c) % 11 - 5) / 5)" }.joined(separator: " ")
    }
    let stream = (0..<40).map(step).joined(separator: "\n") + "\n"
    var cases = [(GoldenCase(name: "stream-1", kind: .stream), Array(stream.utf8))]
    if a.inputSize == a.outputSize {
      let seed = (0..<3).map(step).joined(separator: "\n") + "\n"
      cases.append((GoldenCase(name: "generate-1", kind: .generate(steps: steps)), Array(seed.utf8)))
    }
    return cases
  }
}

/// The model's own checksum: the CRC-32 of everything before its last four bytes (the CRC over a whole file, stored
/// checksum included, is the same constant for every valid file).
func crc32(_ bytes: [UInt8]) -> UInt32 {
  bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<max(0, $0.count - 4)])) }
}

extension GoldenLimits.Budget {
  /// The budget of a directory run by `model`.
  init(model: RecurrentModel) {
    let file = model.file
    self.init(
      inputs: model.inputSize, outputs: model.outputSize, parameters: file.parameterCount,
      window: file.encoding.isWindowed ? file.contextLength + 1 : 1)
  }
}
