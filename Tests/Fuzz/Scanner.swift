// Fuzz harness: the number scanner (`InputScanner`, Sources/RecurText), the one reader of `recur stream` and
// `generate` stdin, golden files and training data.
//
// Input: a mode byte, then the text. Mode bit 0: call `takeHeader()` first. Mode bits 1-7 (m): 0 for the real 1 MiB
// line limit, else a limit of 8 + m bytes (`InputScanner(bytes:lineLimit:)`), so that the limit's bookkeeping is
// reached by small inputs in every execution (a real 1 MiB line costs milliseconds per execution; the 1 MiB limit
// itself is tested in CLITests).
//
// Contract, checked against an independent reading of the text (its lines split at '\n'):
//   - every number is finite and is exactly `strtof` of the bytes at the line and column the scanner reports for
//     it, which form a maximal token of the documented grammar; tokens come in order and the bytes between them
//     are separators (space, tab, CR, newline, at most one comma between two numbers of one line);
//   - every end of line names the next line in order, reports its length + 1 as `lineEndColumn`, and is blank
//     exactly when no number was on it; the scanner reaches the end of input only after every line;
//   - the scanner refuses the text exactly when the independent reading finds it invalid (a token outside the
//     grammar, out of Float's range or longer than 64 bytes, a byte that is neither printable ASCII nor a
//     separator, a misplaced comma, a line over the limit, not counting its newline), and the error's line and column
//     lie inside the text (column at most the line's length + 1);
//   - a header returned by `takeHeader()` is the first line's fields, none of them a number;
//   - `namesFirst` (recur stream --streams) changes nothing but the names: the text with every line prefixed by a
//     name, `n ` (or `n,` where the line's first non-blank byte is a comma, which may follow a name but not start a
//     line), gives the same events, values, lines and messages, columns 2 further right, and `lineName` "n" (without
//     a header, whose line has no name).

import RecurText

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzScanner(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard size >= 1, let data else { return 0 }
  let mode = data[0]
  let limit = mode >> 1 == 0 ? InputScanner.maxLineLength : 8 + Int(mode >> 1)
  let text = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  check(text, header: mode & 1 == 1, limit: limit)
  if mode & 1 == 0 { checkNames(text, limit: limit) }
  return 0
}

/// The `namesFirst` contract (file comment): every line prefixed by a two-byte name, read in names mode, against
/// the text read plainly.
func checkNames(_ text: [UInt8], limit: Int) {
  var named: [UInt8] = []
  for (k, l) in lines(text).enumerated() {
    if k > 0 { named.append(0x0A) }
    let line = text[l.start..<(l.start + l.length)]
    let first = line.first { $0 != 0x20 && $0 != 0x09 && $0 != 0x0D }
    named += [0x6E, first == 0x2C ? 0x2C : 0x20]
    named += line
  }
  if text.last == 0x0A { named.append(0x0A) }
  text.withUnsafeBytes { plainBytes in
    named.withUnsafeBytes { namedBytes in
      let plain = InputScanner(bytes: plainBytes, lineLimit: limit)
      let names = InputScanner(bytes: namedBytes, lineLimit: limit + 2, namesFirst: true)
      while true {
        let a: Result<ScanEvent, InputError>
        let b: Result<ScanEvent, InputError>
        do throws(InputError) { a = .success(try plain.next()) } catch { a = .failure(error) }
        do throws(InputError) { b = .success(try names.next()) } catch { b = .failure(error) }
        switch (a, b) {
        case (.failure(let e), .failure(let f)):
          // The line limit is 2 more in names mode, and its message says so.
          let sameMessage =
            e.message == f.message
            || e.message == "line is longer than \(limit) bytes"
              && f.message == "line is longer than \(limit + 2) bytes"
          require(
            e.line == f.line && e.column + 2 == f.column && sameMessage,
            "names mode error \(f.description), plain \(e.description)")
          return
        case (.success(.number(let v)), .success(.number(let w))):
          require(v.bitPattern == w.bitPattern, "names mode read \(w), plain \(v)")
          require(plain.currentLine == names.currentLine, "names mode line \(names.currentLine)")
          require(plain.lastNumberColumn + 2 == names.lastNumberColumn, "names mode column \(names.lastNumberColumn)")
          require(Array(names.lineName) == [0x6E], "line name \(Array(names.lineName))")
        case (.success(.endOfLine(let x)), .success(.endOfLine(let y))):
          require(x == y, "names mode blank \(y), plain \(x)")
          require(plain.endedLine == names.endedLine, "names mode ended line \(names.endedLine)")
          require(plain.lineEndColumn + 2 == names.lineEndColumn, "names mode line end \(names.lineEndColumn)")
          require(Array(names.lineName) == [0x6E], "ended line's name \(Array(names.lineName))")
        case (.success(.endOfInput), .success(.endOfInput)):
          return
        default:
          require(false, "names mode gave \(b), plain \(a)")
          return
        }
      }
    }
  }
}

func isSeparator(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A || b == 0x2C }

/// The grammar of ScanEvent numbers, written again from the documentation (not the scanner's `isDecimalNumber`).
func isNumber(_ s: ArraySlice<UInt8>) -> Bool {
  var mantissa = 0
  var i = s.startIndex
  if i < s.endIndex, s[i] == 0x2B || s[i] == 0x2D { i += 1 }
  while i < s.endIndex, (0x30...0x39).contains(s[i]) {
    i += 1
    mantissa += 1
  }
  if i < s.endIndex, s[i] == 0x2E {
    i += 1
    while i < s.endIndex, (0x30...0x39).contains(s[i]) {
      i += 1
      mantissa += 1
    }
  }
  if mantissa == 0 { return false }
  if i < s.endIndex, s[i] == 0x65 || s[i] == 0x45 {
    i += 1
    if i < s.endIndex, s[i] == 0x2B || s[i] == 0x2D { i += 1 }
    var exponent = 0
    while i < s.endIndex, (0x30...0x39).contains(s[i]) {
      i += 1
      exponent += 1
    }
    if exponent == 0 { return false }
  }
  return i == s.endIndex
}

func floatValue(_ t: ArraySlice<UInt8>) -> Float {
  var z = Array(t)
  z.append(0)
  return z.withUnsafeBufferPointer { p in
    strtof(UnsafeRawPointer(p.baseAddress!).assumingMemoryBound(to: CChar.self), nil)
  }
}

/// Lines of the text: (start offset, length without the newline). A final empty segment after a last newline is
/// no line.
func lines(_ text: [UInt8]) -> [(start: Int, length: Int)] {
  var out: [(Int, Int)] = []
  var start = 0
  for (i, b) in text.enumerated() where b == 0x0A {
    out.append((start, i - start))
    start = i + 1
  }
  if start < text.count { out.append((start, text.count - start)) }
  return out
}

/// True when a line (bytes, no newline) is valid by the documentation.
func lineIsValid(_ line: ArraySlice<UInt8>, limit: Int) -> Bool {
  if line.count > limit { return false }
  var numbers = 0
  var commaPending = false
  var i = line.startIndex
  while i < line.endIndex {
    let b = line[i]
    if b == 0x20 || b == 0x09 || b == 0x0D {
      i += 1
    } else if b == 0x2C {
      if numbers == 0 || commaPending { return false }
      commaPending = true
      i += 1
    } else if (0x21...0x7E).contains(b) {
      var j = i
      while j < line.endIndex, (0x21...0x7E).contains(line[j]), line[j] != 0x2C { j += 1 }
      let token = line[i..<j]
      if token.count > InputScanner.maxTokenLength || !isNumber(token) || !floatValue(token).isFinite { return false }
      numbers += 1
      commaPending = false
      i = j
    } else {
      return false
    }
  }
  return !commaPending
}

func check(_ text: [UInt8], header: Bool, limit: Int) {
  let lineTable = lines(text)
  var expectedLine = 1
  var cursor = 0  // offset of the first byte not yet accounted for by an event
  var numbersOnLine = 0
  var commaSeen = false
  var headerTaken = false
  func valid(_ k: Int) -> Bool {
    lineIsValid(text[lineTable[k].start..<(lineTable[k].start + lineTable[k].length)], limit: limit)
  }
  text.withUnsafeBytes { raw in
    let scanner = InputScanner(bytes: raw, lineLimit: limit)
    func errorInside(_ e: InputError, _ what: String) {
      require(
        e.line >= 1 && e.line <= max(lineTable.count, 1),
        "\(what) error line \(e.line) of \(lineTable.count): \(e.description)")
      let length = lineTable.isEmpty ? 0 : lineTable[e.line - 1].length
      require(
        e.column >= 1 && e.column <= length + 1,
        "\(what) error column \(e.column), line length \(length): \(e.description)")
      require(!e.message.isEmpty, "empty message")
    }
    if header {
      do throws(InputError) {
        if let names = try scanner.takeHeader() {
          let first = lineTable[0]
          let fields = text[first.start..<(first.start + first.length)].split(whereSeparator: {
            $0 == 0x20 || $0 == 0x09 || $0 == 0x0D || $0 == 0x2C
          })
          require(names.count == fields.count && !names.isEmpty, "header \(names) from \(fields.count) fields")
          require(!fields.contains { isNumber($0) }, "a header field is a number")
          require(Set(names).count == names.count, "duplicate header names returned")
          expectedLine = 2
          headerTaken = true
          cursor = min(first.start + first.length + 1, text.count)
        }
      } catch {
        require(error.line == 1, "header error on line \(error.line)")
        errorInside(error, "header")
        return
      }
    }
    while true {
      let event: ScanEvent
      do throws(InputError) {
        event = try scanner.next()
      } catch {
        errorInside(error, "scan")
        require(error.line == expectedLine, "error on line \(error.line) while reading line \(expectedLine)")
        require(!valid(expectedLine - 1), "refused a valid line: \(error.description)")
        return
      }
      switch event {
      case .number(let v):
        require(v.isFinite, "non-finite number")
        let line = scanner.currentLine
        require(line == expectedLine, "number on line \(line), expected line \(expectedLine)")
        let l = lineTable[line - 1]
        let column = scanner.lastNumberColumn
        require(column >= 1 && column <= l.length, "number column \(column), line length \(l.length)")
        let start = l.start + column - 1
        require(start >= cursor, "number at \(start) before the cursor \(cursor)")
        for k in cursor..<start {
          require(isSeparator(text[k]) && text[k] != 0x0A, "byte \(k) (0x\(hex2(text[k]))) skipped before a number")
          if text[k] == 0x2C {
            require(numbersOnLine > 0 && !commaSeen, "misplaced comma at \(k) accepted")
            commaSeen = true
          }
        }
        var end = start
        while end < l.start + l.length, !isSeparator(text[end]) { end += 1 }
        let token = text[start..<end]
        require(start == l.start || isSeparator(text[start - 1]), "number does not start a token")
        require(isNumber(token) && token.count <= InputScanner.maxTokenLength, "accepted token outside the grammar")
        require(floatValue(token).bitPattern == v.bitPattern, "value \(v) is not strtof of its token")
        cursor = end
        numbersOnLine += 1
        commaSeen = false
      case .endOfLine(let blank):
        require(scanner.endedLine == expectedLine, "line \(scanner.endedLine) ended, expected \(expectedLine)")
        require(expectedLine <= lineTable.count, "end of line \(expectedLine) beyond the \(lineTable.count) lines")
        let l = lineTable[expectedLine - 1]
        require(l.length <= limit, "accepted a line of \(l.length) bytes, limit \(limit)")
        require(scanner.lineEndColumn == l.length + 1, "line end column \(scanner.lineEndColumn), length \(l.length)")
        require(blank == (numbersOnLine == 0), "blank \(blank) with \(numbersOnLine) numbers")
        for k in cursor..<(l.start + l.length) {
          require(isSeparator(text[k]) && text[k] != 0x0A && text[k] != 0x2C, "byte \(k) skipped before line end")
        }
        cursor = min(l.start + l.length + 1, text.count)
        expectedLine += 1
        numbersOnLine = 0
        commaSeen = false
      case .endOfInput:
        require(
          expectedLine == lineTable.count + 1, "end of input after \(expectedLine - 1) of \(lineTable.count) lines")
        require(cursor == text.count, "end of input at \(cursor) of \(text.count) bytes")
        for k in (headerTaken ? 1 : 0)..<lineTable.count { require(valid(k), "accepted invalid line \(k + 1)") }
        return
      }
    }
  }
}
