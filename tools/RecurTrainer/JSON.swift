// A small strict JSON reader for PyTorch state dumps.
//
// Why not Foundation's JSON: numbers must round-trip float32 exactly and errors must say where they are. Numbers are
// parsed with the standard library's correctly rounded `Double(_:)`. Python's non-standard `NaN`, `Infinity` and
// `-Infinity` tokens are accepted so that a non-finite weight is reported by name rather than as a syntax error.
// Nesting is limited (hostile inputs cannot overflow the stack). Memory is bounded by the text: a rectangular array of
// numbers at any depth (every tensor of a state dict) is kept as one `tensor`, its shape and its numbers packed in
// row-major order, 8 bytes a number however deep the nesting; every other value (strings, objects, ragged or mixed
// arrays) counts towards `maxStructuralValues`. As boxed values per number, a 40 MB file needed 1.18 GB and nested
// one-element arrays 30 times their text; `import-torch` also bounds the text at `TorchState.maxJSONSize`.

public enum JSONValue: Sendable, Equatable {
  case number(Double)
  case string(String)
  case bool(Bool)
  case null
  /// An array that is not a tensor: empty, or holding anything but numbers and equal-shaped tensors.
  case array([JSONValue])
  /// A non-empty rectangular array of numbers of any depth: `[[1, 2], [3, 4]]` is shape [2, 2], values [1, 2, 3, 4].
  case tensor(shape: [Int], values: [Double])
  case object([(String, JSONValue)])

  /// The most values a document may hold outside tensors (object members and array elements that are not packed).
  public static let maxStructuralValues = 1 << 18

  public static func == (a: JSONValue, b: JSONValue) -> Bool {
    switch (a, b) {
    case (.number(let x), .number(let y)): x == y || (x.isNaN && y.isNaN)
    case (.string(let x), .string(let y)): x == y
    case (.bool(let x), .bool(let y)): x == y
    case (.null, .null): true
    case (.array(let x), .array(let y)): x == y
    case (.tensor(let s, let x), .tensor(let t, let y)):
      s == t && x.count == y.count && zip(x, y).allSatisfy { $0 == $1 || ($0.isNaN && $1.isNaN) }
    case (.object(let x), .object(let y)):
      x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
    default: false
    }
  }

  /// The member named `key` of an object (the first one, if repeated).
  public subscript(key: String) -> JSONValue? {
    guard case .object(let members) = self else { return nil }
    return members.first { $0.0 == key }?.1
  }

  /// Parses one JSON document. Errors are `TrainerError.importFailed` with a byte offset.
  public static func parse(_ bytes: [UInt8]) throws(TrainerError) -> JSONValue {
    var parser = JSONParser(bytes: bytes)
    parser.skipWhitespace()
    let value = try parser.value(depth: 0)
    parser.skipWhitespace()
    guard parser.index == bytes.count else {
      throw parser.fail("unexpected data after the JSON value")
    }
    return value
  }
}

struct JSONParser {
  let bytes: [UInt8]
  var index = 0
  static let maxDepth = 64
  /// Values kept outside tensors so far (see `JSONValue.maxStructuralValues`).
  var structural = 0

  mutating func countStructural(_ n: Int = 1) throws(TrainerError) {
    structural += n
    guard structural <= JSONValue.maxStructuralValues else {
      throw fail("more than \(JSONValue.maxStructuralValues) values outside arrays of numbers")
    }
  }

  init(bytes: [UInt8]) { self.bytes = bytes }

  func fail(_ message: String) -> TrainerError {
    .importFailed("invalid JSON at byte \(index): \(message)")
  }

  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  mutating func skipWhitespace() {
    while let c = peek, c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { index += 1 }
  }

  mutating func expect(_ literal: String) throws(TrainerError) {
    for b in literal.utf8 {
      guard peek == b else { throw fail("expected '\(literal)'") }
      index += 1
    }
  }

  mutating func value(depth: Int) throws(TrainerError) -> JSONValue {
    guard depth < Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth) levels") }
    guard let c = peek else { throw fail("unexpected end of input") }
    switch c {
    case UInt8(ascii: "{"):
      index += 1
      var members: [(String, JSONValue)] = []
      skipWhitespace()
      if peek == UInt8(ascii: "}") {
        index += 1
        return .object(members)
      }
      while true {
        skipWhitespace()
        guard peek == UInt8(ascii: "\"") else { throw fail("expected a string key") }
        let key = try string()
        skipWhitespace()
        try expect(":")
        skipWhitespace()
        members.append((key, try value(depth: depth + 1)))
        try countStructural()
        skipWhitespace()
        if peek == UInt8(ascii: ",") {
          index += 1
          continue
        }
        try expect("}")
        return .object(members)
      }
    case UInt8(ascii: "["):
      // The object loop's shape on purpose: JSON's two containers side by side, this one packing numbers as it goes.
      index += 1
      // Packed while every element is a number, or every element a tensor of one shape (`childShape`): then the
      // result is one tensor. The first other element unpacks what came before into `elements`.
      var elements: [JSONValue] = []
      var flat: [Double] = []
      var childShape: [Int]? = nil  // [] for numbers
      var count = 0
      var packed = true
      skipWhitespace()
      if peek == UInt8(ascii: "]") {
        index += 1
        return .array(elements)
      }
      while true {
        skipWhitespace()
        let element = try value(depth: depth + 1)
        if packed {
          switch element {
          case .number(let x) where childShape == nil || childShape == []:
            (childShape, count) = ([], count + 1)
            flat.append(x)
          case .tensor(let shape, let values) where childShape == nil || childShape == shape:
            (childShape, count) = (shape, count + 1)
            flat += values
          default:
            try countStructural(count)  // before unpacking: 25M packed numbers and a string must not become 25M values
            elements = unpack(flat, count: count, shape: childShape ?? [])
            (packed, flat) = (false, [])
          }
        }
        if !packed {
          elements.append(element)
          try countStructural()
        }
        skipWhitespace()
        if peek == UInt8(ascii: ",") {
          index += 1
          continue
        }
        try expect("]")
        return packed ? .tensor(shape: [count] + (childShape ?? []), values: flat) : .array(elements)
      }
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"):
      try expect("true")
      return .bool(true)
    case UInt8(ascii: "f"):
      try expect("false")
      return .bool(false)
    case UInt8(ascii: "n"):
      try expect("null")
      return .null
    case UInt8(ascii: "N"):
      try expect("NaN")
      return .number(.nan)
    case UInt8(ascii: "I"):
      try expect("Infinity")
      return .number(.infinity)
    default: return .number(try number())
    }
  }

  /// `count` elements of `shape` packed in `flat`, as separate values (numbers for shape []).
  func unpack(_ flat: [Double], count: Int, shape: [Int]) -> [JSONValue] {
    guard !shape.isEmpty else { return flat.map { .number($0) } }
    let size = flat.count / max(count, 1)
    return (0..<count).map { .tensor(shape: shape, values: Array(flat[($0 * size)..<(($0 + 1) * size)])) }
  }

  mutating func number() throws(TrainerError) -> Double {
    let start = index
    if peek == UInt8(ascii: "-") {
      index += 1
      if peek == UInt8(ascii: "I") {
        try expect("Infinity")
        return -.infinity
      }
    }
    func digits(_ p: inout JSONParser) -> Int {
      let s = p.index
      while let c = p.peek, c >= 0x30 && c <= 0x39 { p.index += 1 }
      return p.index - s
    }
    let integerStart = index
    let integerDigits = digits(&self)
    guard integerDigits > 0 else { throw fail("expected a value") }
    guard !(integerDigits > 1 && bytes[integerStart] == UInt8(ascii: "0")) else {
      throw fail("leading zero in number")
    }
    if peek == UInt8(ascii: ".") {
      index += 1
      guard digits(&self) > 0 else { throw fail("expected digits after '.'") }
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      index += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
      guard digits(&self) > 0 else { throw fail("expected digits in exponent") }
    }
    let text = String(decoding: bytes[start..<index], as: UTF8.self)
    guard let value = Double(text) else { throw fail("number '\(text)' cannot be read") }
    return value
  }

  mutating func string() throws(TrainerError) -> String {
    index += 1  // opening quote
    var scalars = String.UnicodeScalarView()
    var raw: [UInt8] = []
    func flushRaw(_ p: inout JSONParser) throws(TrainerError) {
      guard !raw.isEmpty else { return }
      guard let s = validUTF8(raw) else {
        throw p.fail("string is not valid UTF-8")
      }
      scalars.append(contentsOf: s.unicodeScalars)
      raw.removeAll(keepingCapacity: true)
    }
    while true {
      guard let c = peek else { throw fail("unterminated string") }
      index += 1
      if c == UInt8(ascii: "\"") {
        try flushRaw(&self)
        return String(scalars)
      }
      if c < 0x20 { throw fail("control character in string") }
      if c != UInt8(ascii: "\\") {
        raw.append(c)
        continue
      }
      try flushRaw(&self)
      guard let e = peek else { throw fail("unterminated escape") }
      index += 1
      switch e {
      case UInt8(ascii: "\""): scalars.append("\"")
      case UInt8(ascii: "\\"): scalars.append("\\")
      case UInt8(ascii: "/"): scalars.append("/")
      case UInt8(ascii: "b"): scalars.append("\u{08}")
      case UInt8(ascii: "f"): scalars.append("\u{0C}")
      case UInt8(ascii: "n"): scalars.append("\n")
      case UInt8(ascii: "r"): scalars.append("\r")
      case UInt8(ascii: "t"): scalars.append("\t")
      case UInt8(ascii: "u"):
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code), peek == UInt8(ascii: "\\") {
          index += 1
          try expect("u")
          let low = try hex4()
          guard (0xDC00..<0xE000).contains(low) else { throw fail("invalid surrogate pair") }
          code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw fail("invalid \\u escape") }
        scalars.append(scalar)
      default: throw fail("invalid escape")
      }
    }
  }

  mutating func hex4() throws(TrainerError) -> UInt32 {
    var v: UInt32 = 0
    for _ in 0..<4 {
      guard let c = peek, let d = hexDigit(c) else { throw fail("expected 4 hex digits") }
      v = v * 16 + d
      index += 1
    }
    return v
  }

  func hexDigit(_ c: UInt8) -> UInt32? {
    switch c {
    case 0x30...0x39: UInt32(c - 0x30)
    case 0x41...0x46: UInt32(c - 0x41 + 10)
    case 0x61...0x66: UInt32(c - 0x61 + 10)
    default: nil
    }
  }
}

/// `raw` as a String when it is valid UTF-8, else nil. `String(validating:as:)` needs macOS 15 (the package supports
/// macOS 13); before it, the repairing decoder answers the same question: it keeps valid UTF-8 byte for byte and
/// always produces valid UTF-8 (U+FFFD for each invalid sequence), so its text re-encodes to `raw` exactly when `raw`
/// is valid. Linux always takes the first branch.
func validUTF8(_ raw: [UInt8]) -> String? {
  if #available(macOS 15, *) {
    return String(validating: raw, as: UTF8.self)
  }
  let text = String(decoding: raw, as: UTF8.self)
  return text.utf8.elementsEqual(raw) ? text : nil
}
