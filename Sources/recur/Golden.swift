// `recur golden record` and `recur golden check`: golden-file regression for any model, the machinery the project's
// own goldens use (Fixtures/golden/<model>, tools/update-goldens, GoldenTests).
//
// A golden directory is plain text, diff-friendly:
//   golden.txt       the manifest: format, recur version, model (as given, CRC-32, bytes, architecture, encoding),
//                    tolerance, and one `case NAME KIND [OPTIONS]` line per case
//   NAME.in          the case's input, copied: `recur stream` input, or `recur generate` seeds
//   NAME.out         the output exactly as `recur stream` / `recur generate` prints it
// `check` re-runs every case in process (the same code as `recur stream` and `recur generate`) and compares value by
// value: |actual − expected| ≤ tolerance · max(|expected|, 1), or byte for byte with --exact.

import ArgumentParser
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
  static let formatVersion = 1

  // MARK: - record

  struct Record: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Run a model over input files and write a golden directory.",
      discussion: """
        --inputs FILE: `recur stream` input (one value, or one time step of I values, per line; a blank line resets).
        --raw-inputs FILE: the same through `recur stream --raw`. --seeds FILE: `recur generate` seeds, continued
        for --steps values each (models with input size = output size). Each may be repeated. With none of them, a
        documented synthetic set is used: for one-input models, odd numbers 1...39, a Fibonacci-like run, and a
        signed decaying series as stream input, and seeds "1 3 5 7 9", "1 1 2 3 5 8", "10 20 30"; for I inputs, 40
        steps whose channel c at step t is ((7t + 3c) mod 11 − 5) / 5, and the first three of them as a seed.
        The directory is created if missing; files of the same names are replaced.
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
    }

    func run() throws {
      let (model, bytes) = try ModelSource.loadWithBytes(options.model)
      // (name, kind, the file it came from) for each case; inputs are read and every case is run before anything
      // is written, so a bad input leaves no directory behind.
      var sources: [(String, GoldenCase.Kind, String)] = []
      for (index, path) in inputs.enumerated() { sources.append(("stream-\(index + 1)", .stream, path)) }
      for (index, path) in rawInputs.enumerated() { sources.append(("stream-raw-\(index + 1)", .streamRaw, path)) }
      for (index, path) in seeds.enumerated() {
        sources.append(("generate-\(index + 1)", .generate(steps: steps), path))
      }
      var cases: [(GoldenCase, source: String)] = []
      for (name, kind, path) in sources {
        cases.append((GoldenCase(name: name, kind: kind, input: try readGoldenFile(path)), path))
      }
      if cases.isEmpty {
        cases = GoldenCase.synthetic(for: model, steps: steps).map { ($0, "the synthetic \($0.name)") }
      }
      let outputs = try cases.map { (c, source) throws(CLIError) in try c.run(model: model, where: source) }
      try makeDirectory(output)
      let a = model.architecture
      let manifest = GoldenManifest(
        recurVersion: Recur.version, model: options.model, crc: crc32(bytes), bytes: bytes.count,
        architecture:
          "\(a.kind.name) layers=\(a.layers) input=\(a.inputSize) hidden=\(a.hiddenSize) output=\(a.outputSize)"
          + (a.isMixture ? " experts=\(a.experts) order=\(a.expertOrder)" : ""),
        encoding: model.file.encoding.name, tolerance: tolerance, cases: cases.map(\.0))
      for ((c, _), out) in zip(cases, outputs) {
        try writeFile("\(output)/\(c.name).in", c.input)
        try writeFile("\(output)/\(c.name).out", out)
      }
      try writeFile("\(output)/golden.txt", Array(manifest.text.utf8))
      print("recorded \(cases.count) case\(cases.count == 1 ? "" : "s") of \(options.model) in \(output)")
    }
  }

  // MARK: - check

  struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "Re-run a golden directory's cases and compare: exit 0 when every output is within tolerance.",
      discussion: """
        Exit status: 0 all within tolerance; 1 a difference (a short report: file, line and value, expected vs \
        actual, the largest deviation, how many values moved) or a missing or damaged golden directory. A model \
        whose checksum differs from the recorded one is reported and still checked.
        """)

    @Argument(help: "The golden directory.") var directory: String
    @Option(help: "The model to check (default: the one recorded).") var model: String?
    @Option(help: "Relative tolerance (floor 1) instead of the recorded one.") var tolerance: Double?
    @Flag(help: "Demand byte-identical output.") var exact = false

    func run() throws {
      if let tolerance, !(tolerance.isFinite && tolerance >= 0) {
        throw CLIError("--tolerance must be a finite number >= 0")
      }
      let manifestPath = "\(directory)/golden.txt"
      guard let manifestBytes = try? readGoldenFile(manifestPath) else {
        throw CLIError("'\(directory)' is not a golden directory (cannot read \(manifestPath))")
      }
      let manifest = try GoldenManifest(parsing: manifestBytes, path: manifestPath)
      let spec = model ?? manifest.model
      let (loaded, bytes) = try ModelSource.loadWithBytes(spec)
      let crc = crc32(bytes)
      if crc != manifest.crc {
        print(
          "model \(spec): checksum \(hex8(crc)) differs from the recorded \(hex8(manifest.crc)) (\(manifest.model)); "
            + "a different model, checked against the recorded outputs anyway")
      }
      let limit = tolerance ?? manifest.tolerance
      var failed = 0
      var values = 0
      for c in manifest.cases {
        let inputPath = "\(directory)/\(c.name).in"
        let outputPath = "\(directory)/\(c.name).out"
        guard let input = try? readGoldenFile(inputPath) else { throw CLIError("\(inputPath): missing or unreadable") }
        guard let expected = try? readGoldenFile(outputPath) else {
          throw CLIError("\(outputPath): missing or unreadable")
        }
        let actual = try GoldenCase(name: c.name, kind: c.kind, input: input).run(model: loaded, where: inputPath)
        let result = GoldenDiff.compare(actual: actual, expected: expected, tolerance: limit, exact: exact)
        values += result.compared
        if let report = result.report(file: outputPath, tolerance: limit, exact: exact) {
          failed += 1
          print(report)
        }
      }
      let rule = exact ? "byte for byte" : "within \(limit) relative, floor 1"
      if failed > 0 {
        print("golden check \(directory): \(failed) of \(manifest.cases.count) cases differ; required: \(rule)")
        throw ExitCode(1)
      }
      print("golden check \(directory): \(manifest.cases.count) cases, \(values) values, all \(rule)")
    }
  }
}

// MARK: - Cases

struct GoldenCase {
  enum Kind: Equatable {
    case stream, streamRaw
    case generate(steps: Int)

    var manifestText: String {
      switch self {
      case .stream: "stream"
      case .streamRaw: "stream-raw"
      case .generate(let steps): "generate steps=\(steps)"
      }
    }
  }

  var name: String
  var kind: Kind
  var input: [UInt8]

  /// The output `recur stream` / `recur generate` prints for this input. Input errors name the input file.
  func run(model: RecurrentModel, where path: String) throws(CLIError) -> [UInt8] {
    let output = OutputWriter(capturing: ())
    let result = input.withUnsafeBufferPointer { buffer in
      Result { () throws(CLIError) in
        let scanner = InputScanner(bytes: UnsafeRawBufferPointer(buffer))
        switch kind {
        case .stream: try Stream.stream(model: model, raw: false, input: scanner, output: output)
        case .streamRaw: try Stream.stream(model: model, raw: true, input: scanner, output: output)
        case .generate(let steps):
          try Generate.generate(
            model: model, steps: steps, withSeed: false, arguments: [], input: scanner, output: output)
        }
      }
    }
    if case .failure(let error) = result { throw CLIError("\(path): \(error.message)") }
    output.flush()
    return output.captured
  }

  /// The documented default inputs (see `recur golden record --help`).
  static func synthetic(for model: RecurrentModel, steps: Int) -> [GoldenCase] {
    let a = model.architecture
    if a.inputSize == 1 {
      var stream = (0..<20).map { "\(2 * $0 + 1)" }.joined(separator: "\n") + "\n\n"
      stream += "1 1 2 3 5 8 13 21 34 55\n\n"
      stream += (0..<20).map { t in "\(Double(t % 2 == 0 ? 1 : -1) * 8 / Double(t + 1))" }.joined(separator: " ") + "\n"
      var cases = [GoldenCase(name: "stream-1", kind: .stream, input: Array(stream.utf8))]
      if a.outputSize == 1 {
        cases.append(
          GoldenCase(
            name: "generate-1", kind: .generate(steps: steps), input: Array("1 3 5 7 9\n1 1 2 3 5 8\n10 20 30\n".utf8)))
      }
      return cases
    }
    func step(_ t: Int) -> String {
      (0..<a.inputSize).map { c in "\(Double((7 * t + 3 * c) % 11 - 5) / 5)" }.joined(separator: " ")
    }
    let stream = (0..<40).map(step).joined(separator: "\n") + "\n"
    var cases = [GoldenCase(name: "stream-1", kind: .stream, input: Array(stream.utf8))]
    if a.inputSize == a.outputSize {
      let seed = (0..<3).map(step).joined(separator: "\n") + "\n"
      cases.append(GoldenCase(name: "generate-1", kind: .generate(steps: steps), input: Array(seed.utf8)))
    }
    return cases
  }
}

// MARK: - Manifest

struct GoldenManifest {
  var recurVersion: String
  var model: String
  var crc: UInt32
  var bytes: Int
  /// `gru layers=2 input=3 hidden=8 output=3`, and the encoding's name: recorded for people reading the directory.
  var architecture: String
  var encoding: String
  var tolerance: Double
  var cases: [GoldenCase]

  init(
    recurVersion: String, model: String, crc: UInt32, bytes: Int, architecture: String, encoding: String,
    tolerance: Double, cases: [GoldenCase]
  ) {
    (self.recurVersion, self.model, self.crc, self.bytes) = (recurVersion, model, crc, bytes)
    (self.architecture, self.encoding, self.tolerance, self.cases) = (architecture, encoding, tolerance, cases)
  }

  var text: String {
    var lines = [
      "# recur golden directory: `recur golden check DIR` re-runs every case and compares (recur golden --help)",
      "format \(GoldenCommand.formatVersion)",
      "recur \(recurVersion)",
      "model \(model)",
      "model-crc32 \(hex8(crc))",
      "model-bytes \(bytes)",
      "architecture \(architecture)",
      "encoding \(encoding)",
      "tolerance \(tolerance)",
    ]
    for c in cases { lines.append("case \(c.name) \(c.kind.manifestText)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Parses `golden.txt`; a damaged manifest is an error naming the file and line.
  init(parsing bytes: [UInt8], path: String) throws(CLIError) {
    var fields: [String: (value: String, line: Int)] = [:]
    var cases: [GoldenCase] = []
    for (index, raw) in String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
      .enumerated()
    {
      let line = raw.trimmingSpaces
      if line.isEmpty || line.hasPrefix("#") { continue }
      let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
      guard parts.count == 2 else { throw CLIError("\(path), line \(index + 1): expected 'key value'") }
      if parts[0] == "case" {
        let words = parts[1].split(separator: " ").map(String.init)
        let name = words[0]
        guard
          name.utf8.allSatisfy({ $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) })
        else { throw CLIError("\(path), line \(index + 1): case name '\(name)' is not [a-z0-9-]") }
        let kind: GoldenCase.Kind
        switch Array(words.dropFirst()) {
        case ["stream"]: kind = .stream
        case ["stream-raw"]: kind = .streamRaw
        case let w where w.count == 2 && w[0] == "generate" && w[1].hasPrefix("steps="):
          guard let steps = Int(w[1].dropFirst(6)), (1...100_000).contains(steps) else {
            throw CLIError("\(path), line \(index + 1): bad '\(w[1])'")
          }
          kind = .generate(steps: steps)
        default: throw CLIError("\(path), line \(index + 1): unknown case kind in '\(line)'")
        }
        cases.append(GoldenCase(name: name, kind: kind, input: []))
      } else {
        fields[parts[0]] = (parts[1], index + 1)
      }
    }
    func field(_ key: String) throws(CLIError) -> String {
      guard let f = fields[key] else { throw CLIError("\(path): missing '\(key)' line") }
      return f.value
    }
    guard try field("format") == "\(GoldenCommand.formatVersion)" else {
      throw CLIError("\(path), line \(fields["format"]!.line): golden format \(try field("format")) is not supported")
    }
    guard let crc = UInt32(try field("model-crc32"), radix: 16) else {
      throw CLIError("\(path), line \(fields["model-crc32"]!.line): bad model-crc32")
    }
    guard let tolerance = Double(try field("tolerance")), tolerance.isFinite, tolerance >= 0 else {
      throw CLIError("\(path), line \(fields["tolerance"]!.line): bad tolerance")
    }
    guard !cases.isEmpty else { throw CLIError("\(path): no 'case' lines") }
    self.init(
      recurVersion: try field("recur"), model: try field("model"), crc: crc, bytes: Int(try field("model-bytes")) ?? 0,
      architecture: fields["architecture"]?.value ?? "", encoding: fields["encoding"]?.value ?? "",
      tolerance: tolerance,
      cases: cases)
  }
}

// MARK: - Comparison

/// A value-by-value comparison of two outputs, in the style of the project's golden diffs.
struct GoldenDiff {
  var compared = 0
  var moved = 0
  var lineCounts: (expected: Int, actual: Int)? = nil
  var firstDifferences: [String] = []
  var largest = (deviation: 0.0, place: "")

  static func compare(actual: [UInt8], expected: [UInt8], tolerance: Double, exact: Bool) -> GoldenDiff {
    var diff = GoldenDiff()
    let e = String(decoding: expected, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    let a = String(decoding: actual, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
    if e.count != a.count { diff.lineCounts = (e.count - 1, a.count - 1) }
    for (index, (el, al)) in zip(e, a).enumerated() {
      let ev = el.split(separator: " ")
      let av = al.split(separator: " ")
      if ev.count != av.count {
        diff.moved += 1
        diff.note("line \(index + 1): expected \(ev.count) values, actual \(av.count)")
        continue
      }
      for (k, (es, aval)) in zip(ev, av).enumerated() {
        diff.compared += 1
        if exact || Double(es) == nil || Double(aval) == nil {
          if es != aval {
            diff.moved += 1
            diff.note("line \(index + 1), value \(k + 1): expected \(es), actual \(aval)")
          }
          continue
        }
        let x = Double(es)!
        let y = Double(aval)!
        let deviation = abs(x - y) / max(abs(x), 1)
        if deviation > diff.largest.deviation { diff.largest = (deviation, "line \(index + 1), value \(k + 1)") }
        if deviation > tolerance {
          diff.moved += 1
          diff.note("line \(index + 1), value \(k + 1): expected \(es), actual \(aval)")
        }
      }
    }
    return diff
  }

  private mutating func note(_ text: String) {
    if firstDifferences.count < 5 { firstDifferences.append(text) }
  }

  /// Nil when nothing differs; otherwise the report for `file`.
  func report(file: String, tolerance: Double, exact: Bool) -> String? {
    guard moved > 0 || lineCounts != nil else { return nil }
    var lines = [
      "\(file): \(moved) of \(compared) values differ (\(exact ? "exact" : "tolerance \(tolerance) relative, floor 1"))"
    ]
    if let counts = lineCounts { lines.append("  line count: expected \(counts.expected), actual \(counts.actual)") }
    lines += firstDifferences.map { "  " + $0 }
    if !exact && largest.deviation > 0 {
      lines.append("  largest deviation: \(largest.place), \(largest.deviation) relative")
    }
    return lines.joined(separator: "\n")
  }
}

/// A golden input, output or manifest: at most 256 MiB.
func readGoldenFile(_ path: String) throws(CLIError) -> [UInt8] {
  let limit = 256 << 20
  switch readWholeFile(path, limit: limit) {
  case .success(let bytes): return bytes
  case .failure(let error): throw CLIError("'\(path)': \(error.describe(limit: limit))")
  }
}

/// The model's own checksum: the CRC-32 of everything before its last four bytes (the CRC over a whole file, stored
/// checksum included, is the same constant for every valid file).
func crc32(_ bytes: [UInt8]) -> UInt32 {
  bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<max(0, $0.count - 4)])) }
}

func hex8(_ v: UInt32) -> String {
  let s = String(v, radix: 16)
  return String(repeating: "0", count: 8 - s.utf8.count) + s
}

extension Substring {
  var trimmingSpaces: Substring {
    var s = self
    while let c = s.first, c == " " || c == "\t" || c == "\r" { s.removeFirst() }
    while let c = s.last, c == " " || c == "\t" || c == "\r" { s.removeLast() }
    return s
  }
}
