// The one number scanner of the package: `recur stream` and `generate` read stdin with it, `recur golden` reads
// golden files with it and `recur-train fit` reads training data with it, so all of them accept exactly the same
// numbers with the same line and column errors. Reads a file descriptor (or bytes in memory) through one fixed
// buffer, so a file of any size is scanned without being held in memory.
//
// Grammar of a number (anything else is an error naming line and column; columns count bytes from 1):
//   [+-]? ( digits [ "." digits? ] | "." digits ) ( [eE] [+-]? digits )?
// Separators are spaces, tabs, carriage returns, newlines and commas; a comma must stand between two numbers on one
// line (`1,,2`, a leading or a trailing comma is an empty value: an error). A line with no number on it is blank. Limits: a number
// has at most 64 characters, a line at most 1 MiB. `nan`, `inf`, hex floats and values beyond Float's range
// (e.g. 1e999) are refused. Numbers are parsed straight to Float with `strtof` (`Float(strtod(...))` would
// round twice). An optional first line of column names is read by `takeHeader()`. With `namesFirst` (`recur stream
// --streams`), the first token of every line is a name rather than a number: any token of printable bytes up to 64
// long (no space, tab or comma), read through `lineName`, and a comma may follow it. A UTF-8 byte-order mark
// (EF BB BF) at the very start of the input is skipped (editors on Windows write one; read as data it would turn a
// CSV's first row into a header); columns count from the byte after it. No allocation after `init`.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One-line input error: `line L, column C: message`.
public struct InputError: Error, Sendable {
  public let line: Int
  public let column: Int
  public let message: String
  public init(line: Int, column: Int, message: String) {
    (self.line, self.column, self.message) = (line, column, message)
  }
  public var description: String { "line \(line), column \(column): \(message)" }
}

public enum ScanEvent {
  case number(Float)
  /// A newline (or the end of a final unterminated line). `blank` when the line held no number.
  case endOfLine(blank: Bool)
  case endOfInput
}

public final class InputScanner {
  public static let maxTokenLength = 64
  public static let maxLineLength = 1 << 20
  /// The line limit of this scanner: `maxLineLength` except in the fuzz harness (Tests/Fuzz/Scanner.swift), which
  /// scales it down so that every execution can reach it without building megabyte inputs.
  public let lineLimit: Int

  private let fd: Int32
  private let capacity = 1 << 16
  private let buffer: UnsafeMutablePointer<UInt8>  // [capacity] bytes read but not yet scanned
  private var position = 0
  private var filled = 0
  private var atEnd = false
  private let token: UnsafeMutablePointer<CChar>  // [maxTokenLength + 1] current token, NUL-terminated for strtod
  private var tokenLength = 0
  private var tokenColumn = 0
  private var line = 1
  private var column = 0  // column of the byte last consumed
  private var numbersOnLine = 0
  private var pendingLineEnd = false
  private var afterComma = false  // a comma was read and no number has followed it yet
  private var commaColumn = 0
  private var endColumn = 0
  /// Called before a read that could block, so the caller can flush what it has computed.
  public var beforeBlocking: () -> Void = {}
  /// When true, the first token of each line is the line's name (not returned as an event; see `lineName`).
  public let namesFirst: Bool
  private let name: UnsafeMutablePointer<UInt8>  // [maxTokenLength] the current (or just ended) line's name
  private var nameLength = 0  // of the current line; 0 until its name is read
  private var endedNameLength = 0
  private var eventEndedLine = false  // the most recent event was an endOfLine
  /// With `namesFirst`: the name of the line of the most recent event (for `endOfLine`, of the line it ended);
  /// empty for a line with no token at all. Valid until the next call of `next()`.
  public var lineName: UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: name, count: eventEndedLine ? endedNameLength : nameLength)
  }
  /// The column where the most recent name started.
  public var nameColumn: Int { nameStart }
  // Public properties are read and written through private stored ones: a public stored property of a class keeps
  // a dynamic exclusivity check on every access (they were 14% of `recur stream` in a profile).
  private var nameStart = 0

  public init(fd: Int32, lineLimit: Int = InputScanner.maxLineLength, namesFirst: Bool = false) {
    precondition(lineLimit >= 1)
    self.fd = fd
    self.lineLimit = lineLimit
    self.namesFirst = namesFirst
    buffer = .allocate(capacity: capacity)
    token = .allocate(capacity: Self.maxTokenLength + 1)
    name = .allocate(capacity: Self.maxTokenLength)
  }

  /// A scanner over bytes in memory (golden files), with the same grammar and positions. `bytes` must outlive it.
  public convenience init(
    bytes: UnsafeRawBufferPointer, lineLimit: Int = InputScanner.maxLineLength, namesFirst: Bool = false
  ) {
    self.init(fd: -1, lineLimit: lineLimit, namesFirst: namesFirst)
    source = bytes
  }

  private var source: UnsafeRawBufferPointer? = nil
  private var sourceOffset = 0

  deinit {
    buffer.deallocate()
    token.deallocate()
    name.deallocate()
  }

  /// The line number of the most recent event (for messages about a whole line).
  public var currentLine: Int { line }
  /// The column where the most recent number started.
  public var lastNumberColumn: Int { tokenColumn }
  /// The column just past the last byte of the line the most recent `endOfLine` ended.
  public var lineEndColumn: Int { endColumn }
  /// The number of the line the most recent `endOfLine` ended.
  public var endedLine: Int { endedLineNumber }
  private var endedLineNumber = 0

  public func next() throws(InputError) -> ScanEvent {
    if !startChecked { skipByteOrderMark() }
    eventEndedLine = false
    if pendingLineEnd {
      pendingLineEnd = false
      return endLine(newline: true)
    }
    if let value = fastNumber() { return .number(value) }
    while true {
      guard let byte = try nextByte() else {
        if tokenLength > 0, let value = try finishField() { return .number(value) }
        try checkNoDanglingComma()
        if column > 0 || numbersOnLine > 0 {  // final line without a newline
          endColumn = column + 1
          return endLine(newline: false)
        }
        return .endOfInput
      }
      switch byte {
      case UInt8(ascii: "\n"):
        endColumn = column
        if tokenLength > 0, let value = try finishField() {
          pendingLineEnd = true
          return .number(value)
        }
        try checkNoDanglingComma()
        return endLine(newline: true)
      case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
        if tokenLength > 0, let value = try finishField() { return .number(value) }
      case UInt8(ascii: ","):
        if tokenLength > 0 {
          (afterComma, commaColumn) = (true, column)
          if let value = try finishField() { return .number(value) }
          continue
        }
        guard !afterComma && (numbersOnLine > 0 || nameLength > 0) else {
          throw InputError(line: line, column: column, message: "empty value before ','")
        }
        (afterComma, commaColumn) = (true, column)
      // (Not a `0x21...0x7E` pattern: in a debug build its `~=` instantiates a witness table lazily, one
      // allocation the first time a token straddles the buffer's end: ProcessAllocationTests saw it.)
      case _ where byte >= 0x21 && byte <= 0x7E:
        if tokenLength == 0 {
          tokenColumn = column
          afterComma = false
        }
        if tokenLength < Self.maxTokenLength {
          token[tokenLength] = CChar(bitPattern: byte)
          tokenLength += 1
        } else {
          // Refuse as soon as the limit is passed: a 10 MB "number" is never buffered.
          throw InputError(
            line: line, column: tokenColumn,
            message: "\(isNameNext ? "name" : "number") is longer than \(Self.maxTokenLength) characters")
        }
      default:
        throw InputError(
          line: line, column: column,
          message: "unexpected byte 0x\(hex2(byte)) (\(isNameNext ? "not allowed in a name" : "not a number"))")
      }
    }
  }

  /// Ends the current line: it becomes `endedLine`, and a newline starts the next one (the end of input does not).
  @inline(__always)
  private func endLine(newline: Bool) -> ScanEvent {
    endedLineNumber = line
    (endedNameLength, nameLength, eventEndedLine) = (nameLength, 0, true)
    let blank = numbersOnLine == 0
    if newline { line += 1 }
    column = 0
    numbersOnLine = 0
    return .endOfLine(blank: blank)
  }

  private func checkNoDanglingComma() throws(InputError) {
    guard afterComma else { return }
    afterComma = false
    throw InputError(line: line, column: commaColumn, message: "',' is not followed by a value")
  }

  private func nextByte() throws(InputError) -> UInt8? {
    if position == filled {
      if atEnd || !refill() { return nil }
    }
    let byte = buffer[position]
    position += 1
    column += 1
    // The newline ends a line and is not part of it: a line of exactly `lineLimit` bytes is accepted whether or
    // not a newline follows (found by the fuzz harness: the newline used to count).
    if column > lineLimit && byte != UInt8(ascii: "\n") {
      throw InputError(line: line, column: column, message: "line is longer than \(lineLimit) bytes")
    }
    return byte
  }

  /// Reads more input over the consumed buffer; flushes the caller's output first if the read would block.
  private func refill() -> Bool {
    position = 0
    filled = 0
    return readMore()
  }

  /// Appends what the next read returns to `buffer[filled...]` (at least one byte of room). False at the end of
  /// input; a read error ends input the same way.
  private func readMore() -> Bool {
    let room = capacity - filled
    if let source {
      let n = min(room, source.count - sourceOffset)
      guard n > 0 else {
        atEnd = true
        return false
      }
      UnsafeMutableRawPointer(buffer + filled).copyMemory(from: source.baseAddress! + sourceOffset, byteCount: n)
      sourceOffset += n
      filled += n
      return true
    }
    if inputWouldBlock(fd) { beforeBlocking() }
    while true {
      let n = read(fd, buffer + filled, room)
      if n > 0 {
        filled += n
        return true
      }
      if n < 0 && errno == EINTR { continue }
      atEnd = true
      return false
    }
  }

  /// Skips a UTF-8 byte-order mark at the start of the input (once, before the first token or header).
  private func skipByteOrderMark() {
    startChecked = true
    func mark(_ i: Int) -> UInt8 { i == 0 ? 0xEF : i == 1 ? 0xBB : 0xBF }
    func isPrefix() -> Bool { (0..<min(filled, 3)).allSatisfy { buffer[$0] == mark($0) } }
    // Reads on only while what has arrived could still be a mark: interactive input ("1\n") never waits here.
    while filled < 3 && !atEnd && isPrefix() { if !readMore() { break } }
    if filled >= 3 && isPrefix() { position = 3 }
  }
  private var startChecked = false

  // MARK: Header line

  /// The longest header line `takeHeader()` reads (the buffer's size).
  public var maxHeaderLength: Int { capacity }

  /// Reads a first line of column names, if the input has one; call before the first `next()`. The first line is a
  /// header when none of its fields is a number (fields are separated like numbers; double quotes around a name
  /// are dropped: `"YEAR","SUNACTIVITY"`). Otherwise nothing is consumed and nil is returned; a line that mixes
  /// names and numbers is data, so its first name is then reported by `next()` as not a number.
  public func takeHeader() throws(InputError) -> [String]? {
    precondition(!startChecked, "takeHeader() must come before next()")
    skipByteOrderMark()
    let first = position  // 3 after a byte-order mark, else 0
    func newline() -> Int? {
      for i in first..<filled where buffer[i] == UInt8(ascii: "\n") { return i }
      return nil
    }
    while newline() == nil && filled < capacity && !atEnd { _ = readMore() }
    guard filled > first else { return nil }
    guard let end = newline() ?? (atEnd ? filled : nil) else {
      throw InputError(line: 1, column: 1, message: "the first line is longer than \(capacity) bytes")
    }
    var fields: [(text: [UInt8], column: Int)] = []
    var current: [UInt8] = []
    var start = 0
    for i in first...end {
      let byte = i < end ? buffer[i] : UInt8(ascii: ",")
      if byte == UInt8(ascii: ",") || byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t")
        || byte == UInt8(ascii: "\r")
      {
        if !current.isEmpty { fields.append((current, start - first + 1)) }
        current = []
      } else {
        if current.isEmpty { start = i }
        current.append(byte)
      }
    }
    guard !fields.isEmpty else { return nil }
    let names = fields.map { field in
      var text = field.text
      if text.count >= 2 && text.first == UInt8(ascii: "\"") && text.last == UInt8(ascii: "\"") {
        text = Array(text[1..<(text.count - 1)])
      }
      return (name: String(decoding: text, as: UTF8.self), column: field.column, raw: field.text)
    }
    if names.contains(where: { $0.raw.withUnsafeBufferPointer { isDecimalNumber($0) } }) { return nil }
    for (i, field) in names.enumerated() {
      // Names are quoted in messages (and in `--inputs` errors): a control character (C0, DEL, or C1 as UTF-8
      // 0xC2 0x80...0x9F) would reach the terminal.
      let raw = field.raw
      if let k = raw.indices.first(where: {
        raw[$0] < 0x20 || raw[$0] == 0x7F
          || (raw[$0] == 0xC2 && $0 + 1 < raw.count && (0x80...0x9F).contains(raw[$0 + 1]))
      }) {
        let code = raw[k] == 0xC2 ? UInt32(raw[k + 1]) : UInt32(raw[k])
        throw InputError(
          line: 1, column: field.column + k,
          message: "control character U+\(String(code, radix: 16, uppercase: true)) in a column name")
      }
      guard !field.name.isEmpty, !field.name.contains("\"") else {
        throw InputError(
          line: 1, column: field.column,
          message: "column name \(String(decoding: field.raw, as: UTF8.self)) is not a name")
      }
      if names[..<i].contains(where: { $0.name == field.name }) {
        throw InputError(line: 1, column: field.column, message: "column name '\(field.name)' appears twice")
      }
    }
    // Consume the header line; the data starts on line 2.
    position = min(end + 1, filled)
    line = 2
    column = 0
    return names.map(\.name)
  }

  /// The common case in one pass over the buffer, with the same result as the byte-by-byte loop below: blanks, then
  /// (with `namesFirst`, at a line's start) a name and a blank, then a whole token that is a number `parseDecimal`
  /// gets exactly, then a space, tab, carriage return or newline, all already in the buffer. Anything else (a comma,
  /// a token at the buffer's end, an error, a number for strtof) returns nil having changed nothing, and the loop
  /// below takes over. 10,000,000 values of `seq 1 10000000` through `recur stream`: 1.23 -> 0.78 s (docs/performance.md, "Text
  /// in, text out"); the loop reads the buffer through a function call per byte.
  @inline(__always)
  private func fastNumber() -> Float? {
    guard tokenLength == 0 else { return nil }
    let end = filled
    var p = position
    var col = column
    // Blanks are skipped by two spelled-out loops: a nested function capturing `p` and `col` allocated their boxes
    // on every call in debug builds (ProcessAllocationTests).
    while p < end && (buffer[p] == UInt8(ascii: " ") || buffer[p] == UInt8(ascii: "\t")) {
      p += 1
      col += 1
    }
    let naming = isNameNext
    var (nameFrom, nameCount, nameColumn) = (0, 0, 0)
    if naming {  // the name, ended by a blank (a comma or a newline after it: the loop below)
      nameFrom = p
      while p < end && buffer[p] >= 0x21 && buffer[p] <= 0x7E && buffer[p] != UInt8(ascii: ",") { p += 1 }
      nameCount = p - nameFrom
      guard p < end, nameCount > 0, nameCount <= Self.maxTokenLength,
        buffer[p] == UInt8(ascii: " ") || buffer[p] == UInt8(ascii: "\t")
      else { return nil }
      nameColumn = col + 1
      col += nameCount + 1
      p += 1
      while p < end && (buffer[p] == UInt8(ascii: " ") || buffer[p] == UInt8(ascii: "\t")) {
        p += 1
        col += 1
      }
    }
    let start = p
    while p < end && buffer[p] >= 0x21 && buffer[p] <= 0x7E && buffer[p] != UInt8(ascii: ",") { p += 1 }
    let length = p - start
    guard p < end, length > 0, length <= Self.maxTokenLength else { return nil }
    let terminator = buffer[p]
    let newline = terminator == UInt8(ascii: "\n")
    guard
      newline || terminator == UInt8(ascii: " ") || terminator == UInt8(ascii: "\t")
        || terminator == UInt8(ascii: "\r")
    else { return nil }
    // Every byte consumed must be within the line limit (the newline itself does not count).
    guard col + length + (newline ? 0 : 1) <= lineLimit,
      let value = parseDecimal(UnsafeBufferPointer(start: buffer + start, count: length))
    else { return nil }
    if naming {
      UnsafeMutableRawPointer(name).copyMemory(from: buffer + nameFrom, byteCount: nameCount)
      (nameLength, nameStart) = (nameCount, nameColumn)
    }
    tokenColumn = col + 1
    afterComma = false
    numbersOnLine += 1
    position = p + 1
    column = col + length + 1
    if newline {
      endColumn = column
      pendingLineEnd = true
    }
    return value
  }

  /// True when the token being read is the line's name.
  private var isNameNext: Bool { namesFirst && nameLength == 0 && numbersOnLine == 0 }

  /// Ends the current token: the line's name (kept, nil returned) or a number.
  private func finishField() throws(InputError) -> Float? {
    guard isNameNext else { return try finishToken() }
    UnsafeMutableRawPointer(name).copyMemory(from: token, byteCount: tokenLength)
    (nameLength, nameStart, tokenLength) = (tokenLength, tokenColumn, 0)
    return nil
  }

  private func finishToken() throws(InputError) -> Float {
    defer { tokenLength = 0 }
    numbersOnLine += 1
    token[tokenLength] = 0
    let bytes = UnsafeBufferPointer(
      start: UnsafeRawPointer(token).assumingMemoryBound(to: UInt8.self), count: tokenLength)
    guard isDecimalNumber(bytes) else {
      throw InputError(line: line, column: tokenColumn, message: notANumberMessage(bytes))
    }
    let value = strtof(token, nil)
    guard value.isFinite else { throw InputError(line: line, column: tokenColumn, message: outOfRangeMessage(bytes)) }
    return value
  }
}

/// 10^k for k in 0...22, exact in Double (5^22 < 2^53). A switch, not a global array: a global's lazy
/// initialisation check (`swift_once`) ran on every call.
@inline(__always)
private func exactPowerOfTen(_ k: Int) -> Double {
  switch k {
  case 0: 1
  case 1: 1e1
  case 2: 1e2
  case 3: 1e3
  case 4: 1e4
  case 5: 1e5
  case 6: 1e6
  case 7: 1e7
  case 8: 1e8
  case 9: 1e9
  case 10: 1e10
  case 11: 1e11
  case 12: 1e12
  case 13: 1e13
  case 14: 1e14
  case 15: 1e15
  case 16: 1e16
  case 17: 1e17
  case 18: 1e18
  case 19: 1e19
  case 20: 1e20
  case 21: 1e21
  default: 1e22
  }
}

/// The Float nearest to the decimal `s` (the file's grammar) when it can be had exactly without strtof, else nil (not
/// the grammar, or a case for strtof). The mantissa's digits w (at most 19 significant, so w < 10^19 is exact in a
/// UInt64) and the exponent e give w·10^e; with w ≤ 2^53 and |e| ≤ 22 both factors are exact Doubles, so one
/// multiply or divide rounds once to the nearest Double d. Rounding d to Float can then differ from rounding the exact
/// value only when d is exactly halfway between two Floats (a Float rounding boundary strictly between the value and
/// d would be a Double itself, contradicting d being nearest), and such d, results outside Float's normal range, and
/// everything else go to strtof. Zero is exact (with its sign, as strtof gives it). Tested against strtof on
/// millions of values (NumberParsingTests) and fuzzed (Tests/Fuzz/Scanner.swift).
@inline(__always)
public func parseDecimal(_ s: UnsafeBufferPointer<UInt8>) -> Float? {
  let n = s.count
  var i = 0
  var negative = false
  if i < n && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) {
    negative = s[i] == UInt8(ascii: "-")
    i += 1
  }
  var w: UInt64 = 0
  var significant = 0  // digits of w after its leading zeros
  var digits = 0
  var scale = 0  // decimal exponent of w's last digit
  while i < n, case let d = s[i] &- UInt8(ascii: "0"), d < 10 {
    if significant > 0 || d > 0 { significant += 1 }
    w = w &* 10 &+ UInt64(d)
    digits += 1
    i += 1
  }
  if i < n && s[i] == UInt8(ascii: ".") {
    i += 1
    while i < n, case let d = s[i] &- UInt8(ascii: "0"), d < 10 {
      if significant > 0 || d > 0 { significant += 1 }
      w = w &* 10 &+ UInt64(d)
      digits += 1
      scale -= 1
      i += 1
    }
  }
  guard digits > 0, significant <= 19 else { return nil }
  if i < n && (s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E")) {
    i += 1
    var exponentNegative = false
    if i < n && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) {
      exponentNegative = s[i] == UInt8(ascii: "-")
      i += 1
    }
    var exponent = 0
    var exponentDigits = 0
    while i < n, case let d = s[i] &- UInt8(ascii: "0"), d < 10 {
      if exponent < 100_000 { exponent = exponent * 10 + Int(d) }
      exponentDigits += 1
      i += 1
    }
    guard exponentDigits > 0 else { return nil }
    scale += exponentNegative ? -exponent : exponent
  }
  guard i == n else { return nil }
  if w == 0 { return negative ? -0.0 : 0.0 }
  guard w <= 1 << 53, scale >= -22, scale <= 22 else { return nil }
  let d = scale >= 0 ? Double(w) * exactPowerOfTen(scale) : Double(w) / exactPowerOfTen(-scale)
  guard d >= Double(Float.leastNormalMagnitude), d <= Double(Float.greatestFiniteMagnitude),
    d.bitPattern & 0x1FFF_FFFF != 0x1000_0000
  else { return nil }
  let f = Float(d)
  return negative ? -f : f
}

/// Strict decimal grammar (see the file comment); strtod alone would also accept "nan", "inf", "0x1p3" and spaces.
public func isDecimalNumber(_ s: UnsafeBufferPointer<UInt8>) -> Bool {
  var i = 0
  let n = s.count
  func isDigit(_ k: Int) -> Bool { k < n && s[k] >= UInt8(ascii: "0") && s[k] <= UInt8(ascii: "9") }
  if i < n && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) { i += 1 }
  var mantissaDigits = 0
  while isDigit(i) {
    i += 1
    mantissaDigits += 1
  }
  if i < n && s[i] == UInt8(ascii: ".") {
    i += 1
    while isDigit(i) {
      i += 1
      mantissaDigits += 1
    }
  }
  guard mantissaDigits > 0 else { return false }
  if i < n && (s[i] == UInt8(ascii: "e") || s[i] == UInt8(ascii: "E")) {
    i += 1
    if i < n && (s[i] == UInt8(ascii: "+") || s[i] == UInt8(ascii: "-")) { i += 1 }
    guard isDigit(i) else { return false }
    while isDigit(i) { i += 1 }
  }
  return i == n
}

// The scanner's messages for a token that is not a number, shared with command-line arguments.

/// "'abc' is not a number", or "is not a finite number" for the spellings of NaN and infinity.
func notANumberMessage(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
  let text = String(decoding: bytes, as: UTF8.self)
  let nonFinite = ["nan", "+nan", "-nan", "inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"]
  return "'\(text)' \(nonFinite.contains(text.lowercased()) ? "is not a finite number" : "is not a number")"
}

/// "'1e999' is out of range for a 32-bit float".
func outOfRangeMessage(_ bytes: UnsafeBufferPointer<UInt8>) -> String {
  "'\(String(decoding: bytes, as: UTF8.self))' is out of range for a 32-bit float"
}

/// What is wrong with a command-line number: the message stdin would give for the same token.
public struct NumberArgumentError: Error {
  public let message: String
}

/// Parses one command-line argument with the same grammar, limits and messages as stdin.
public func parseNumberArgument(_ text: String) throws(NumberArgumentError) -> Float {
  var utf8 = Array(text.utf8)
  guard utf8.count <= InputScanner.maxTokenLength else {
    throw NumberArgumentError(message: "number is longer than \(InputScanner.maxTokenLength) characters")
  }
  guard utf8.withUnsafeBufferPointer({ isDecimalNumber($0) }) else {
    throw NumberArgumentError(message: utf8.withUnsafeBufferPointer { notANumberMessage($0) })
  }
  utf8.append(0)
  let value = utf8.withUnsafeBufferPointer { p in
    strtof(UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: CChar.self), nil)
  }
  guard value.isFinite else {
    throw NumberArgumentError(
      message: utf8.withUnsafeBufferPointer { outOfRangeMessage(.init(rebasing: $0.dropLast())) })
  }
  return value
}

public func hex2(_ b: UInt8) -> String {
  let digits = Array("0123456789ABCDEF")
  return String([digits[Int(b >> 4)], digits[Int(b & 15)]])
}
