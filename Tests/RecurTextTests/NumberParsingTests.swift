// The scanner's exact decimal parser (`parseDecimal`, the fast path of every number read) against the C library's
// strtof, property-style with a fixed seed: whenever it answers, its answer is strtof's, bit for bit; and the whole
// scanner reads every valid number as strtof does, whichever path it takes.

import RecurText
import Testing

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A fixed-seed generator (Knuth's MMIX linear congruential constants; the high bits are used).
struct Random {
  var state: UInt64
  mutating func next() -> UInt64 {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return state ^ (state >> 29)
  }
  mutating func below(_ n: Int) -> Int { Int((next() >> 16) % UInt64(n)) }
}

func strtofReference(_ text: String) -> Float { text.withCString { strtof($0, nil) } }

/// C's printf formatting of a Double (`%.17g`, `%.8e`, ...).
func cFormat(_ format: String, _ value: Double) -> String {
  var buffer = [CChar](repeating: 0, count: 64)
  _ = withVaList([value]) { vsnprintf(&buffer, 64, format, $0) }
  return String(cString: buffer)
}

/// Decimal strings of every kind the grammar allows: Float descriptions, 9 and 17 significant digits, the exact
/// halfway points between neighbouring Floats and their neighbours, random digit strings with leading zeros, dots,
/// signs and exponents, subnormals, values beyond Float's range, zeros.
func decimalCases(_ count: Int, seed: UInt64) -> [String] {
  var rng = Random(state: seed)
  var cases = [
    "0", "-0", "+0", "0.0", "-0.0", "0e999", "-0e-999", ".5", "5.", "-.5e1", "1e-45", "1.4e-45", "7e-46", "1e-38",
    "1.17549435e-38", "1.1754942e-38", "3.4028235e38", "3.40282356e38", "3.4028236e38", "1e39", "16777216",
    "16777217", "16777218", "16777219", "9007199254740993", "9007199254740992", "123456789012345678901234567890",
    "0.000000000000000000000000000001", "1e22", "1e23", "1e-22", "1e-23", "4.5e15", "0.1", "0.2", "0.3",
    "3.14159265358979323846", "2.718281828459045", "00000000000000000000000001.5", "1.00000000000000000000",
  ]
  for _ in 0..<count {
    switch rng.below(6) {
    case 0:  // a Float's shortest description, as recur prints it
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
      if f.isFinite { cases.append(f.description) }
    case 1:  // 9 or 17 significant digits of a Float
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))
      if f.isFinite { cases.append(cFormat(rng.below(2) == 0 ? "%.8e" : "%.16e", Double(f))) }
    case 2:  // the exact halfway point between two Floats, and just below and above it
      let f = Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()) & 0x7F7F_FFFF)
      let middle = (Double(f) + Double(f.nextUp)) / 2
      for d in [middle, middle.nextDown, middle.nextUp] { cases.append(cFormat("%.40g", d)) }
    case 3:  // random digit strings, a dot anywhere, an exponent
      let digits = 1 + rng.below(25)
      var text = rng.below(3) == 0 ? "-" : (rng.below(5) == 0 ? "+" : "")
      let dot = rng.below(digits + 1)
      for i in 0..<digits {
        if i == dot { text += "." }
        text += String(rng.below(i == 0 && rng.below(3) > 0 ? 3 : 10))
      }
      if rng.below(2) == 0 {
        text += (rng.below(2) == 0 ? "e" : "E") + ["", "-", "+"][rng.below(3)] + String(rng.below(60))
      }
      cases.append(text)
    case 4:  // small integers and short decimals (the common input)
      cases.append(String(rng.below(20_000_000) - 10_000_000))
      cases.append("\(rng.below(1000)).\(rng.below(1_000_000))")
    default:  // a random Double near Float's range, 17 digits
      let exponent = rng.below(90) - 50
      cases.append(cFormat("%.17g", Double(rng.below(1 << 30)) * pow(10, Double(exponent)) / Double(1 << 30)))
    }
  }
  return cases
}

@Suite struct NumberParsingTests {
  @Test func fastParserAgreesWithStrtof() {
    let cases = decimalCases(300_000, seed: 42)
    var answered = 0
    var mismatches: [String] = []
    for text in cases {
      var bytes = Array(text.utf8)
      let fast = bytes.withUnsafeMutableBufferPointer { parseDecimal(UnsafeBufferPointer($0)) }
      guard let fast else { continue }
      answered += 1
      if fast.bitPattern != strtofReference(text).bitPattern && mismatches.count < 10 { mismatches.append(text) }
      bytes.removeAll()
    }
    print("parseDecimal answered \(answered) of \(cases.count) cases, the rest went to strtof")
    #expect(mismatches.isEmpty, "parseDecimal differs from strtof on \(mismatches)")
    #expect(answered > cases.count / 4)  // the fast path is taken (17-digit and far-exponent cases are strtof's)
  }

  @Test func parserRefusesWhatTheGrammarRefuses() {
    for text in [
      "", "-", "+", ".", "e5", "1e", "1e+", "1..2", "1.2.3", "--1", "1-", "0x10", "inf", "nan", "1 2", "1,2",
    ] {
      var bytes = Array(text.utf8)
      let fast = bytes.withUnsafeMutableBufferPointer { parseDecimal(UnsafeBufferPointer($0)) }
      #expect(fast == nil, "'\(text)' is not a number")
    }
  }

  /// The scanner end to end, in a small buffer (so tokens straddle refills) and a large one: every number as strtof
  /// reads it, whichever path it takes, with the same line and column bookkeeping (the errors go through the
  /// byte-by-byte path, checked by the CLI and fuzz tests).
  @Test func scannerReadsEveryNumberAsStrtof() throws {
    let cases = decimalCases(50_000, seed: 7).filter {
      $0.count <= InputScanner.maxTokenLength && strtofReference($0).isFinite  // the scanner refuses the others
    }
    let expected = cases.map(strtofReference)
    var text = ""
    for (i, c) in cases.enumerated() { text += c + ["\n", " ", "\t", "\r\n", " \t "][i % 5] }
    let bytes = Array(text.utf8)
    try bytes.withUnsafeBytes { raw in
      let scanner = InputScanner(bytes: raw)
      var k = 0
      var mismatches = 0
      var line = 1
      while true {
        let event = try scanner.next()
        if case .endOfInput = event { break }
        if case .endOfLine = event {
          #expect(scanner.endedLine == line)
          line += 1
          continue
        }
        guard case .number(let v) = event else { continue }
        if k < expected.count && v.bitPattern != expected[k].bitPattern { mismatches += 1 }
        k += 1
      }
      #expect(mismatches == 0)
      #expect(k == cases.count)
    }
  }
}
