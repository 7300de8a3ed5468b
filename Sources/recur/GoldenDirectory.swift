// The golden directory as data: its limits, its files (opened by plain name, never through a symbolic link), its
// manifest, and the streaming comparison of an output with its `.out` file. The commands are in Golden.swift; this
// file needs no ArgumentParser and of the runtime only `hex8`, so the fuzz harness compiles it as it is
// (Tests/Fuzz/Golden.swift).

import RecurIO
import RecurText

// `recur` links the runtime as RecurRuntimeNative; the fuzz harness (tools/fuzz) as RecurRuntime.
#if canImport(RecurRuntimeNative)
  import RecurRuntimeNative
#else
  import RecurRuntime
#endif

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - Limits

/// What a golden directory may hold and cost, checked before any case runs (by `check`, and by `record` so that
/// whatever is recorded can be checked).
enum GoldenLimits {
  static let formatVersion = 1
  static let manifestName = "golden.txt"
  static let modelFileName = "model.recur"
  static let maxManifestBytes = 1 << 20
  static let maxCases = 1000
  /// All `.in` files together, and all `.out` files together (hard links to one file count each time).
  static let maxInputBytes = 64 << 20
  static let maxOutputBytes = 64 << 20
  /// Values the `generate` cases may produce in all (seeds × steps × outputs).
  static let maxGeneratedValues = 20_000_000
  /// Time steps × the cost of one step over every case (`Budget.stepCost`: about the multiply-adds of a step and of
  /// formatting and comparing its outputs): 10^10 is about 5 s at the 2 GMAC/s a model too large for the caches
  /// runs at here, less for small models.
  static let maxWork = 10_000_000_000
  /// The cost of formatting and comparing one output value, in multiply-adds (about 300 ns measured, at 2 GMAC/s).
  static let outputValueCost = 512

  /// A file a golden directory of this format holds: the manifest, the model copy, NAME.in and NAME.out.
  static func isGoldenFileName(_ name: String) -> Bool {
    if name == manifestName || name == modelFileName { return true }
    for suffix in [".in", ".out"] where name.hasSuffix(suffix) {
      return isCaseName(name.utf8.dropLast(suffix.utf8.count))
    }
    return false
  }

  /// `[a-z0-9-]`, 1...64 bytes.
  static func isCaseName(_ name: some Collection<UInt8>) -> Bool {
    (1...64).contains(name.count)
      && name.allSatisfy { $0 == UInt8(ascii: "-") || ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x7A) }
  }

  /// The running totals of a directory: input and output bytes, generated values and work. Every bound is checked
  /// with overflow-reporting arithmetic, so no size in a file can trap it.
  struct Budget {
    /// The model's sizes: values per input step and per output step, and the cost of one step.
    let inputs: Int
    let outputs: Int
    let stepCost: Int
    var inputBytes = 0
    var outputBytes = 0
    var generated = 0
    var work = 0

    /// `parameters`: the model's (one multiply-add each per cell step); `window`: cell steps per time step (a
    /// windowed encoding runs the cell over its whole window for every prediction; 1 otherwise).
    init(inputs: Int, outputs: Int, parameters: Int, window: Int = 1) {
      (self.inputs, self.outputs) = (max(inputs, 1), max(outputs, 1))
      // Each factor is bounded by the format (64 MiB of parameters, a window of 4096, 256 outputs): no overflow.
      stepCost = max(parameters, 1) * max(window, 1) + GoldenLimits.outputValueCost * self.outputs
    }

    /// Adds one case of `check`: its `.in` (read once to count lines, then rewound) and its `.out`.
    mutating func charge(_ c: GoldenCase, input: InputFile, expected: InputFile, where place: String)
      throws(CLIError)
    {
      var lines = 0
      if case .generate = c.kind {
        lines = countNewlines(input.fd)
        _ = lseek(input.fd, 0, SEEK_SET)
      }
      try charge(c, size: input.size, lines: lines, where: place)
      try chargeOutput(expected.size, where: place)
    }

    /// Adds one case of `record`: its input in memory.
    mutating func charge(_ c: GoldenCase, input: [UInt8], where place: String) throws(CLIError) {
      try charge(c, size: input.count, lines: input.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }, where: place)
    }

    /// Adds `size` bytes of output (a `.out` file, or what `record` produced).
    mutating func chargeOutput(_ size: Int, where place: String) throws(CLIError) {
      let (total, overflow) = outputBytes.addingReportingOverflow(size)
      guard !overflow && total <= GoldenLimits.maxOutputBytes else {
        throw CLIError(
          "\(place): the outputs come to more than \(GoldenLimits.maxOutputBytes) bytes (a golden directory's limit)")
      }
      outputBytes = total
    }

    /// A case reads at most (size / 2 + 1) values (each value and its separator take two bytes, the last may lack
    /// one); a `generate` case continues at most (lines + 1) seeds (each seed takes a line) by `steps` steps.
    private mutating func charge(_ c: GoldenCase, size: Int, lines: Int, where place: String) throws(CLIError) {
      inputBytes += size  // each at most maxInputBytes, checked before the next: no overflow
      guard inputBytes <= GoldenLimits.maxInputBytes else {
        throw CLIError(
          "\(place): the inputs come to more than \(GoldenLimits.maxInputBytes) bytes (a golden directory's limit)")
      }
      var caseSteps = (size / 2 + 1) / inputs + 1
      if case .generate(let steps) = c.kind {
        let (seedSteps, o1) = (lines + 1).multipliedReportingOverflow(by: steps)
        let (values, o2) = seedSteps.multipliedReportingOverflow(by: outputs)
        let (total, o3) = generated.addingReportingOverflow(values)
        guard !o1 && !o2 && !o3 && total <= GoldenLimits.maxGeneratedValues else {
          throw CLIError(
            "\(place): up to \(lines + 1) seeds × \(steps) steps would take the directory past "
              + "\(GoldenLimits.maxGeneratedValues) generated values (a golden directory's limit)")
        }
        generated = total
        caseSteps += seedSteps
      }
      let (caseWork, o4) = caseSteps.multipliedReportingOverflow(by: stepCost)
      let (total, o5) = work.addingReportingOverflow(caseWork)
      guard !o4 && !o5 && total <= GoldenLimits.maxWork else {
        throw CLIError(
          "\(place): up to \(caseSteps) steps of a model of \(stepCost) parameters would take the directory past "
            + "\(GoldenLimits.maxWork) step-parameters of work (a golden directory's limit)")
      }
      work = total
    }
  }
}

/// Counts the newline bytes of a file through a fixed buffer.
func countNewlines(_ fd: Int32) -> Int {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 1 << 16) { buffer in
    var count = 0
    while true {
      let n = read(fd, buffer.baseAddress!, buffer.count)
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { return count }
      for i in 0..<n where buffer[i] == 0x0A { count += 1 }
    }
  }
}

/// A golden directory: files inside it by plain name only, never through a symbolic link.
struct GoldenDirectory {
  let root: String
  init(_ root: String) { self.root = root }

  func path(_ name: String) -> String { root.hasSuffix("/") ? root + name : root + "/" + name }

  func open(_ name: String, limit: Int) throws(CLIError) -> InputFile {
    switch InputFile.open(path(name), limit: limit, followSymlinks: false) {
    case .success(let file): return file
    case .failure(let error): throw CLIError("'\(path(name))': \(error.message)")
    }
  }

  func read(_ name: String, limit: Int) throws(CLIError) -> [UInt8] {
    switch try open(name, limit: limit).readAll() {
    case .success(let bytes): return bytes
    case .failure(let error): throw CLIError("'\(path(name))': \(error.message)")
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
}

// MARK: - Manifest

struct GoldenManifest {
  var recurVersion: String
  /// A built-in model's name, or a file name inside the directory (`model.recur`).
  var model: String
  /// Where a copied model came from (for people reading the directory; never opened).
  var source: String?
  var crc: UInt32
  var bytes: Int
  /// `gru layers=2 input=3 hidden=8 output=3`, and the encoding's name: recorded for people reading the directory.
  var architecture: String
  var encoding: String
  var tolerance: Double
  var cases: [GoldenCase]

  init(
    recurVersion: String, model: String, source: String?, crc: UInt32, bytes: Int, architecture: String,
    encoding: String, tolerance: Double, cases: [GoldenCase]
  ) {
    (self.recurVersion, self.model, self.source, self.crc, self.bytes) = (recurVersion, model, source, crc, bytes)
    (self.architecture, self.encoding, self.tolerance, self.cases) = (architecture, encoding, tolerance, cases)
  }

  var text: String {
    var lines = [
      "# recur golden directory: `recur golden check DIR` re-runs every case and compares (recur golden --help)",
      "format \(GoldenLimits.formatVersion)",
      "recur \(recurVersion)",
      "model \(model)",
    ]
    // Escaped: a path holding a newline cannot add a line to the manifest.
    if let source { lines.append("model-source \(escaped(source))") }
    lines += ["model-crc32 \(hex8(crc))", "model-bytes \(bytes)"]
    // Informational lines; a manifest read without them writes none (an empty value would not parse back).
    if !architecture.isEmpty { lines.append("architecture \(architecture)") }
    if !encoding.isEmpty { lines.append("encoding \(encoding)") }
    lines.append("tolerance \(tolerance)")
    for c in cases { lines.append("case \(c.name) \(c.kind.manifestText)") }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Parses `golden.txt` (LF or CRLF lines); a damaged manifest is an error naming the file and line.
  init(parsing bytes: [UInt8], path: String) throws(CLIError) {
    var fields: [String: (value: String, line: Int)] = [:]
    var cases: [GoldenCase] = []
    var names = Set<String>()
    var lineNumber = 0
    for raw in bytes.split(separator: 0x0A, omittingEmptySubsequences: false) {
      lineNumber += 1
      let line = trimmingBlanks(raw)
      func fail(_ text: String) -> CLIError { CLIError("\(path), line \(lineNumber): \(text)") }
      if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
      let parts = line.split(separator: 0x20, maxSplits: 1, omittingEmptySubsequences: true)
      guard parts.count == 2 else { throw fail("expected 'key value'") }
      let key = String(decoding: parts[0], as: UTF8.self)
      let value = String(decoding: trimmingBlanks(parts[1]), as: UTF8.self)
      if key == "case" {
        let words = value.split(separator: " ").map(String.init)
        let name = words[0]
        guard GoldenLimits.isCaseName(name.utf8) else {
          throw fail("case name '\(escaped(name))' is not 1 to 64 of [a-z0-9-]")
        }
        guard names.insert(name).inserted else { throw fail("case '\(escaped(name))' appears twice") }
        guard cases.count < GoldenLimits.maxCases else { throw fail("more than \(GoldenLimits.maxCases) cases") }
        let kind: GoldenCase.Kind
        switch Array(words.dropFirst()) {
        case ["stream"]: kind = .stream
        case ["stream-raw"]: kind = .streamRaw
        case let w where w.count == 2 && w[0] == "generate" && w[1].hasPrefix("steps="):
          guard let steps = Int(w[1].dropFirst(6)), (1...100_000).contains(steps) else {
            throw fail("bad '\(escaped(w[1]))' (steps=1...100000)")
          }
          kind = .generate(steps: steps)
        default: throw fail("unknown case kind in '\(escaped(String(value.prefix(80))))'")
        }
        cases.append(GoldenCase(name: name, kind: kind))
      } else {
        guard fields[key] == nil else { throw fail("'\(escaped(key))' appears twice") }
        fields[key] = (value, lineNumber)
      }
    }
    func field(_ key: String) throws(CLIError) -> (value: String, line: Int) {
      guard let f = fields[key] else { throw CLIError("\(path): missing '\(key)' line") }
      return f
    }
    let format = try field("format")
    guard format.value == "\(GoldenLimits.formatVersion)" else {
      throw CLIError("\(path), line \(format.line): golden format '\(escaped(format.value))' is not supported")
    }
    let model = try field("model")
    // Everything the directory names stays inside it: a built-in name, or a plain file name (no '/', not hidden).
    guard !model.value.isEmpty, !model.value.contains("/"), !model.value.hasPrefix("."),
      model.value.utf8.count <= 255
    else {
      throw CLIError(
        "\(path), line \(model.line): model '\(escaped(model.value))' must be a built-in model's name or a file name in the "
          + "golden directory (no '/', no '..'); re-record the directory, or pass --model")
    }
    let crcField = try field("model-crc32")
    guard crcField.value.utf8.count == 8, let crc = UInt32(crcField.value, radix: 16) else {
      throw CLIError("\(path), line \(crcField.line): bad model-crc32 (8 hex digits)")
    }
    let toleranceField = try field("tolerance")
    guard let tolerance = finiteNumber(Array(toleranceField.value.utf8)), tolerance >= 0 else {
      throw CLIError("\(path), line \(toleranceField.line): bad tolerance (a finite number >= 0)")
    }
    guard !cases.isEmpty else { throw CLIError("\(path): no 'case' lines") }
    self.init(
      recurVersion: try field("recur").value, model: model.value, source: fields["model-source"]?.value, crc: crc,
      bytes: Int(fields["model-bytes"]?.value ?? "") ?? 0, architecture: fields["architecture"]?.value ?? "",
      encoding: fields["encoding"]?.value ?? "", tolerance: tolerance, cases: cases)
  }
}

/// The value of a token in the scanner's strict decimal grammar (RecurText's `isDecimalNumber`: no `nan`, `inf`,
/// hex, spaces or NUL bytes; `Double(String)` alone stops at a NUL and would read `1\0garbage` as 1), if finite.
func finiteNumber(_ token: [UInt8]) -> Double? {
  guard token.withUnsafeBufferPointer({ isDecimalNumber($0) }) else { return nil }
  guard let x = Double(String(decoding: token, as: UTF8.self)), x.isFinite else { return nil }
  return x
}

/// `bytes` without leading and trailing spaces, tabs and carriage returns.
func trimmingBlanks(_ bytes: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
  func blank(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
  var s = bytes
  while let b = s.first, blank(b) { s = s.dropFirst() }
  while let b = s.last, blank(b) { s = s.dropLast() }
  return s
}

// MARK: - Comparison

/// Compares an output, fed chunk by chunk while its case runs, with the expected `.out` file read as a stream
/// through a fixed buffer: neither side is ever held whole. Lines end with LF (a CR before it is a blank); values
/// are separated by spaces or tabs. Every expected value must be a finite number of at most 64 bytes: anything
/// else is a damaged golden file (an error), never a pass.
final class GoldenComparison {
  private let expectedFD: Int32
  private let file: String
  private let tolerance: Double
  private let exact: Bool
  private let buffer: UnsafeMutablePointer<UInt8>  // [capacity] expected bytes read, not yet tokenised
  private let capacity: Int
  private var position = 0
  private var filled = 0
  private var expectedAtEnd = false
  private var expectedLineOpen = false  // bytes of a line without its LF yet (a final line lacks it)

  private var actualToken: [UInt8] = []
  private var actualLineOpen = false

  /// The comparison so far.
  private(set) var result = GoldenDiff()
  private var damaged: CLIError? = nil
  private var line = 1  // of the actual output (the expected one agrees while both are aligned)
  private var valueInLine = 0
  private var expectedEnded = false
  /// The actual line runs on past the end of the expected one: the expected line's count, and the surplus so far.
  private var actualLonger: (expected: Int, surplus: Int)? = nil

  private let owner: InputFile?  // keeps the expected file open while it is read

  /// Compares with the expected file open as `expected` (read from its current offset).
  convenience init(expected: InputFile, file: String, tolerance: Double, exact: Bool) {
    self.init(fd: expected.fd, owner: expected, file: file, tolerance: tolerance, exact: exact)
  }

  /// Compares with whatever `fd` reads (the fuzz harness: a pipe); the caller keeps `fd` open. `bufferSize`: the
  /// read buffer's bytes (the harness makes it small, so that tokens straddle refills).
  init(fd: Int32, owner: InputFile? = nil, file: String, tolerance: Double, exact: Bool, bufferSize: Int = 1 << 16) {
    precondition(bufferSize >= 1)
    (expectedFD, self.owner, self.file, self.tolerance, self.exact) = (fd, owner, file, tolerance, exact)
    capacity = bufferSize
    buffer = .allocate(capacity: capacity)
    actualToken.reserveCapacity(64)
  }

  deinit { buffer.deallocate() }

  // MARK: The expected side, pulled one event at a time

  private enum Event {
    /// A value's bytes (for `--exact` and reports) and its number, read once.
    case value([UInt8], Double)
    case endOfLine
  }

  private func nextExpectedByte() -> UInt8? {
    if position == filled {
      guard !expectedAtEnd else { return nil }
      while true {
        let n = read(expectedFD, buffer, capacity)
        if n < 0 && errno == EINTR { continue }
        guard n > 0 else {
          expectedAtEnd = true
          return nil
        }
        (position, filled) = (0, n)
        break
      }
    }
    position += 1
    return buffer[position - 1]
  }

  private var expectedLine = 1
  private var expectedValue = 0

  /// The next expected value or line end; nil at the end of the file (a final line without LF ends first).
  private func nextExpected() -> Event? {
    guard damaged == nil else { return nil }
    var token: [UInt8] = []
    while let b = nextExpectedByte() {
      switch b {
      case 0x0A:
        if !token.isEmpty {
          position -= 1  // the LF again next time
          return finishExpected(token)
        }
        expectedLineOpen = false
        expectedLine += 1
        expectedValue = 0
        return .endOfLine
      case 0x20, 0x09, 0x0D:
        expectedLineOpen = true
        if !token.isEmpty { return finishExpected(token) }
      default:
        expectedLineOpen = true
        guard token.count < 64 else {
          damage("a value longer than 64 bytes ('\(escaped(bytes: token.prefix(16)))...')")
          return nil
        }
        token.append(b)
      }
    }
    if !token.isEmpty { return finishExpected(token) }
    if expectedLineOpen {
      expectedLineOpen = false
      return .endOfLine
    }
    return nil
  }

  private func finishExpected(_ token: [UInt8]) -> Event? {
    expectedValue += 1
    guard let x = finiteNumber(token) else {
      damage("expected value '\(escaped(bytes: token))' is not a finite number")
      return nil
    }
    return .value(token, x)
  }

  private func damage(_ text: String) {
    if damaged == nil {
      damaged = CLIError("\(file), line \(expectedLine), value \(expectedValue): \(text) (a damaged golden file)")
    }
  }

  // MARK: The actual side, pushed as it is produced

  func feed(_ chunk: UnsafeBufferPointer<UInt8>) {
    for b in chunk {
      switch b {
      case 0x0A:
        endActualToken()
        actualLineOpen = false
        actualEndOfLine()
      case 0x20, 0x09, 0x0D:
        actualLineOpen = true
        endActualToken()
      default:
        actualLineOpen = true
        if actualToken.count < 64 { actualToken.append(b) }
      }
    }
  }

  private func endActualToken() {
    guard !actualToken.isEmpty else { return }
    actualValue(actualToken)
    actualToken.removeAll(keepingCapacity: true)
  }

  private func actualValue(_ a: [UInt8]) {
    guard damaged == nil else { return }
    if expectedEnded || actualLonger != nil {
      actualLonger?.surplus += 1
      if expectedEnded { result.unmatched(1) }
      valueInLine += 1
      return
    }
    switch nextExpected() {
    case .value(let e, let x)?:
      valueInLine += 1
      result.compare(
        expected: e, value: x, actual: a, place: "line \(line), value \(valueInLine)", tolerance, exact: exact)
    case .endOfLine?:
      actualLonger = (valueInLine, 1)
      valueInLine += 1
    case nil:
      if damaged == nil { expectedEnded = true }
      result.unmatched(1)
      valueInLine += 1
    }
  }

  private func actualEndOfLine() {
    guard damaged == nil else { return }
    result.actualLines += 1
    defer {
      line += 1
      valueInLine = 0
    }
    if let longer = actualLonger {
      actualLonger = nil
      result.expectedLines += 1
      result.unmatched(longer.surplus, note: "line \(line): expected \(longer.expected) values, actual \(valueInLine)")
      return
    }
    if expectedEnded { return }
    switch nextExpected() {
    case .endOfLine?:
      result.expectedLines += 1
    case .value?:
      // The expected line runs on: count the rest of it.
      var extra = 1
      loop: while true {
        switch nextExpected() {
        case .value?: extra += 1
        case .endOfLine?:
          result.expectedLines += 1
          break loop
        case nil:
          break loop
        }
      }
      result.unmatched(extra, note: "line \(line): expected \(valueInLine + extra) values, actual \(valueInLine)")
    case nil:
      if damaged == nil { expectedEnded = true }
    }
  }

  /// Call after the case ran: compares what is left of the expected file, and throws if it was damaged.
  func finish() throws(CLIError) -> GoldenDiff {
    endActualToken()
    if actualLineOpen {
      actualLineOpen = false
      actualEndOfLine()
    }
    while damaged == nil && !expectedEnded, let event = nextExpected() {
      switch event {
      case .value: result.unmatched(1)
      case .endOfLine: result.expectedLines += 1
      }
    }
    if let damaged { throw damaged }
    return result
  }
}

/// A value-by-value comparison of two outputs, in the style of the project's golden diffs.
struct GoldenDiff {
  /// Value positions compared: pairs, plus the values only one side has.
  var values = 0
  var differing = 0
  var expectedLines = 0
  var actualLines = 0
  var firstDifferences: [String] = []
  var largest = (deviation: 0.0, place: "")

  mutating func compare(
    expected e: [UInt8], value x: Double, actual a: [UInt8], place: String, _ tolerance: Double, exact: Bool
  ) {
    values += 1
    let same: Bool
    if exact {
      same = e == a
    } else if let y = finiteNumber(a) {
      let deviation = abs(x - y) / max(abs(x), 1)
      if deviation > largest.deviation { largest = (deviation, place) }
      same = deviation <= tolerance
    } else {
      same = false
    }
    if !same {
      differing += 1
      note("\(place): expected \(escaped(bytes: e)), actual \(escaped(bytes: a))")
    }
  }

  /// `count` values only one side has (a line of another length, lines past the other's end).
  mutating func unmatched(_ count: Int, note text: String? = nil) {
    values += count
    differing += count
    if let text { note(text) }
  }

  private mutating func note(_ text: String) {
    if firstDifferences.count < 5 { firstDifferences.append(text) }
  }

  /// Nil when nothing differs; otherwise the report for `file`.
  func report(file: String, tolerance: Double, exact: Bool) -> String? {
    guard differing > 0 || expectedLines != actualLines else { return nil }
    var lines = [
      "\(escaped(file)): \(differing) of \(values) values differ (\(exact ? "exact" : "tolerance \(tolerance) relative, floor 1"))"
    ]
    if expectedLines != actualLines { lines.append("  line count: expected \(expectedLines), actual \(actualLines)") }
    lines += firstDifferences.map { "  " + $0 }
    if !exact && largest.deviation > 0 {
      lines.append("  largest deviation: \(largest.place), \(largest.deviation) relative")
    }
    return lines.joined(separator: "\n")
  }
}
