// Training data for `recur-train fit`: a text file with the shape of `recur stream`'s input, read with the same
// scanner (RecurText), so a file that streams also trains and the errors name the same lines and columns.
//
//   one time step per line, its values separated by spaces, tabs or commas;
//   a blank line ends a sequence (several blank lines count as one; blank lines at the start or end are ignored);
//   an optional first line of column names (a CSV header: no field of it is a number) names the columns.
//
// Every row must have as many values as the first one. The file is scanned once through a fixed buffer and only the
// parsed float32 values are kept, so a 1 GB file never sits in memory as text, and a bad token on its last line is
// reported after one pass. `-` reads standard input.

import RecurIO
import RecurText

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// One sequence of a data file: `steps` time steps of `columns` values each.
public struct DataSequence: Sendable, Equatable {
  /// [steps][columns], row-major.
  public var values: [Float]
  public var columns: Int
  /// The file line of the sequence's first step (for messages).
  public var firstLine: Int

  public init(values: [Float], columns: Int, firstLine: Int) {
    precondition(columns >= 1 && values.count % columns == 0)
    (self.values, self.columns, self.firstLine) = (values, columns, firstLine)
  }

  public var steps: Int { values.count / columns }

  /// Value of `column` at step `t`.
  @inline(__always)
  public subscript(t: Int, column: Int) -> Float { values[t * columns + column] }
}

/// A parsed data file.
public struct DataTable: Sendable, Equatable {
  /// The path as given (`-` for stdin), for messages.
  public var path: String
  /// The header's column names, if the file has one.
  public var columnNames: [String]?
  public var columns: Int
  public var sequences: [DataSequence]

  /// "data.csv, line 3, column 7" style prefix for an error at a position of this file.
  static func position(_ path: String, line: Int, column: Int? = nil) -> String {
    let name = path == "-" ? "stdin" : path
    return column.map { "\(name), line \(line), column \($0)" } ?? "\(name), line \(line)"
  }

  /// The most sequences a data file may hold.
  public static let maxSequences = 65536

  /// Reads and parses `path` (`-` for standard input). Errors name the file, line and column.
  public static func read(_ path: String) throws(TrainerError) -> DataTable {
    if path == "-" { return try parse(InputScanner(fd: 0), path: path) }
    // The one opener (RecurIO): a FIFO, a device or a directory is refused before it could block; no size limit,
    // as the file is streamed through the scanner's fixed buffer and only parsed values are kept.
    switch InputFile.open(path, limit: Int.max) {
    case .success(let file): return try parse(InputScanner(fd: file.fd), path: path)
    case .failure(let error): throw .io("cannot read '\(escaped(path))': \(error.reason)")
    }
  }

  /// Parses text in memory (tests), with the same rules and messages as `read`.
  public static func parse(text: String, path: String = "data") throws(TrainerError) -> DataTable {
    let bytes = Array(text.utf8)
    let result = bytes.withUnsafeBytes { raw in
      Result { () throws(TrainerError) in try parse(InputScanner(bytes: raw), path: path) }
    }
    return try result.get()
  }

  static func parse(_ scanner: InputScanner, path: String) throws(TrainerError) -> DataTable {
    func fail(_ e: InputError) -> TrainerError {
      .invalidData("\(position(path, line: e.line, column: e.column)): \(e.message)")
    }
    let names: [String]?
    do { names = try scanner.takeHeader() } catch { throw fail(error) }
    var columns = names?.count ?? 0  // 0 until the first data row fixes it
    var sequences: [DataSequence] = []
    var current: [Float] = []
    var row = 0  // values on the current line
    var firstLine = 0
    while true {
      let event: ScanEvent
      do { event = try scanner.next() } catch { throw fail(error) }
      switch event {
      case .number(let v):
        if row == 0 && current.isEmpty { firstLine = scanner.currentLine }
        if columns > 0 && row == columns {
          throw .invalidData(
            "\(position(path, line: scanner.currentLine, column: scanner.lastNumberColumn)): more than \(columns) "
              + "values on the line (\(names == nil ? "the first row has" : "the header names") \(columns))")
        }
        current.append(v)
        row += 1
      case .endOfLine(let blank):
        if blank {
          if !current.isEmpty {
            // Bounded: each sequence costs far more memory than its text (a file of "1\n\n" needed 25 times its
            // size before this limit).
            guard sequences.count < maxSequences else {
              throw .invalidData(
                "\(position(path, line: firstLine)): more than \(maxSequences) sequences (a blank line ends one)")
            }
            sequences.append(DataSequence(values: current, columns: columns, firstLine: firstLine))
            current = []
          }
          continue
        }
        if columns == 0 { columns = row }
        guard row == columns else {
          throw .invalidData(
            "\(position(path, line: scanner.endedLine, column: scanner.lineEndColumn)): expected \(columns) values "
              + "on the line, found \(row) (\(names == nil ? "as on the first row" : "one per header column"))")
        }
        row = 0
      case .endOfInput:
        if !current.isEmpty {
          guard sequences.count < maxSequences else {
            throw .invalidData(
              "\(position(path, line: firstLine)): more than \(maxSequences) sequences (a blank line ends one)")
          }
          sequences.append(DataSequence(values: current, columns: columns, firstLine: firstLine))
        }
        guard !sequences.isEmpty else {
          throw .invalidData("\(path == "-" ? "stdin" : path): no data (the file holds no numbers)")
        }
        return DataTable(path: path, columnNames: names, columns: columns, sequences: sequences)
      }
    }
  }

  // MARK: Columns

  /// The column indices `--inputs` / `--target` name: a comma-separated list of header names or of 1-based column
  /// numbers (`2,3`). nil selects every column.
  public func columnIndices(_ list: String?, option: String) throws(TrainerError) -> [Int] {
    guard let list else { return Array(0..<columns) }
    var out: [Int] = []
    for item in list.split(separator: ",", omittingEmptySubsequences: false).map(String.init) {
      let name = trimmingSpaces(item)
      if let names = columnNames, let i = names.firstIndex(of: name) {
        out.append(i)
      } else if let n = Int(name), (1...columns).contains(n) {
        out.append(n - 1)
      } else if let names = columnNames {
        throw .invalidOption(
          "\(option) '\(name)': no such column in \(path == "-" ? "stdin" : path) (columns: "
            + names.joined(separator: ", ") + ")")
      } else {
        throw .invalidOption(
          "\(option) '\(name)': \(path == "-" ? "stdin" : path) has no header; name columns by number 1...\(columns)")
      }
      if out.dropLast().contains(out[out.count - 1]) {
        throw .invalidOption("\(option) names column '\(name)' twice")
      }
    }
    return out
  }

  /// The display name of column `i` (its header name, or "column N").
  public func columnName(_ i: Int) -> String { columnNames?[i] ?? "column \(i + 1)" }
}

/// `s` without leading and trailing spaces. Not Foundation's `trimmingCharacters`: this file is also compiled into the
/// data fuzz harness (`Tests/Fuzz`), which links no Foundation.
func trimmingSpaces(_ s: String) -> String {
  var t = Substring(s)
  while t.first == " " { t = t.dropFirst() }
  while t.last == " " { t = t.dropLast() }
  return String(t)
}
