// Fuzz harness: the training data reader of `recur-train fit` (`DataTable.parse`, tools/RecurTrainer/Fit), which
// reads a file through the number scanner with an optional header of column names.
//
// Input: the data file's bytes.
// Contract:
//   - refused: an `invalidData` error whose message starts "data, line L[, column C]: " with L a line of the file
//     and C at most that line's length + 1, or is the "no data" message for a file with no number at all; no
//     message holds a control character (names from the header are quoted in messages);
//   - accepted: at least one sequence; every sequence has at least one step, `columns` values per step, only
//     finite values, and starts on a line of the file holding a number, in increasing line order; a header has
//     one name per column, none empty, none repeated; and writing the table back as a data file (quoted names,
//     shortest round-trip floats, a blank line between sequences) parses to the same names and values, bit for bit.

import RecurText

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDataReader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let bytes = UnsafeRawBufferPointer(start: size == 0 ? nil : data, count: size)
  var lineTable: [(start: Int, length: Int)] = []
  var start = 0
  for i in 0..<size where bytes[i] == 0x0A {
    lineTable.append((start, i - start))
    start = i + 1
  }
  if start < size { lineTable.append((start, size - start)) }

  let table: DataTable
  do {
    table = try DataTable.parse(InputScanner(bytes: bytes), path: "data")
  } catch {
    guard case .invalidData(let m) = error else {
      require(false, "unexpected error kind: \(error)")
      return 0
    }
    require(
      !m.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
      "error message holds a control character: \(m.unicodeScalars.map { $0.escaped(asASCII: true) }.joined())")
    if m == "data: no data (the file holds no numbers)" {
      return 0
    }
    let prefix = "data, line "
    require(m.hasPrefix(prefix), "data error without a line: \(m)")
    let rest = m.dropFirst(prefix.count)
    let lineDigits = rest.prefix { $0.isNumber }
    let line = Int(lineDigits) ?? 0
    require(line >= 1 && line <= max(lineTable.count, 1), "error line \(line) of \(lineTable.count): \(m)")
    let afterLine = rest.dropFirst(lineDigits.count)
    if afterLine.hasPrefix(", column ") {
      let column = Int(afterLine.dropFirst(", column ".count).prefix { $0.isNumber }) ?? 0
      let length = lineTable.isEmpty ? 0 : lineTable[line - 1].length
      require(column >= 1 && column <= length + 1, "error column \(column), line length \(length): \(m)")
    }
    return 0
  }
  require(!table.sequences.isEmpty && table.columns >= 1, "an accepted table with no data")
  if let names = table.columnNames {
    require(names.count == table.columns, "\(names.count) names for \(table.columns) columns")
    require(!names.contains { $0.isEmpty } && Set(names).count == names.count, "bad header names \(names)")
  }
  var previousLine = 0
  for s in table.sequences {
    require(s.columns == table.columns && s.steps >= 1, "sequence of \(s.steps) steps x \(s.columns)")
    require(s.values.allSatisfy { $0.isFinite }, "non-finite value accepted")
    require(s.firstLine > previousLine && s.firstLine <= lineTable.count, "sequence starts on line \(s.firstLine)")
    let l = lineTable[s.firstLine - 1]
    require(
      (l.start..<(l.start + l.length)).contains { bytes[$0] >= 0x30 && bytes[$0] <= 0x39 },
      "sequence starts on line \(s.firstLine), which holds no number")
    previousLine = s.firstLine
  }
  // Write it back and read it again.
  var text = ""
  if let names = table.columnNames { text += names.map { "\"\($0)\"" }.joined(separator: ",") + "\n" }
  for (k, s) in table.sequences.enumerated() {
    if k > 0 { text += "\n" }
    for t in 0..<s.steps {
      text += (0..<s.columns).map { "\(s[t, $0])" }.joined(separator: " ") + "\n"
    }
  }
  do {
    let again = try DataTable.parse(text: text)
    require(
      again.columnNames == table.columnNames, "names changed: \(again.columnNames ?? []) vs \(table.columnNames ?? [])")
    require(again.columns == table.columns && again.sequences.count == table.sequences.count, "shape changed")
    for (x, y) in zip(again.sequences, table.sequences) {
      require(x.values.map(\.bitPattern) == y.values.map(\.bitPattern), "values changed")
    }
  } catch {
    require(false, "the table written back is refused: \(error)\n\(text)")
  }
  return 0
}
