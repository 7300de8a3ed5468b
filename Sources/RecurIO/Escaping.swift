// The one escaping function for text that reaches a terminal or a JSON document: a model's strings (family, source
// names), file contents echoed in reports (golden values), keys of imported state dicts, paths. Whatever its origin,
// such text may hold escape sequences that would drive the terminal, newlines that would forge a second error line,
// or quotes and backslashes that would end a JSON string early.
//
// Rules: backslash -> `\\` (except at a sink, below); in JSON (`quote: true`) `"` -> `\"`; newline, carriage return
// and tab -> `\n`, `\r`, `\t`; every other C0 control (U+0000...U+001F), DEL (U+007F) and C1 control
// (U+0080...U+009F, which some terminals read as CSI and friends) -> `\u00XX`; the line and paragraph separators
// U+2028/U+2029 -> `\u2028`/`\u2029`. Everything else passes through; invalid UTF-8 has already become U+FFFD when the
// bytes became a String. The output is valid inside a JSON string and holds no control character.
//
// Where: a value is escaped where it is quoted into a message, a report or a JSON document (`escaped(path)`); the
// sinks (`writeStandardError` of both CLIs) pass every whole line through `escaped(line, backslashes: false)` as a
// safety net, which leaves already escaped text as it is and escapes any control character a message still holds.

/// `text` escaped for a terminal line (`quote: false`) or for the inside of a JSON string (`quote: true`);
/// `backslashes: false` (the sinks' safety net) leaves backslashes as they are.
public func escaped(_ text: String, quote: Bool = false, backslashes: Bool = true) -> String {
  var out = ""
  out.reserveCapacity(text.utf8.count)
  for c in text.unicodeScalars {
    switch c {
    case "\\" where backslashes: out += "\\\\"
    case "\"" where quote: out += "\\\""
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where c.value < 0x20 || (0x7F...0x9F).contains(c.value) || c.value == 0x2028 || c.value == 0x2029:
      let hex = String(c.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.utf8.count) + hex
    default: out.unicodeScalars.append(c)
    }
  }
  return out
}

/// Bytes from a file (golden values, data tokens) decoded as UTF-8 (invalid sequences become U+FFFD) and escaped.
public func escaped(bytes: some Collection<UInt8>, quote: Bool = false) -> String {
  escaped(String(decoding: Array(bytes), as: UTF8.self), quote: quote)
}

/// A JSON string literal: `"` + escaped(text, quote: true) + `"`.
public func jsonString(_ text: String) -> String { "\"" + escaped(text, quote: true) + "\"" }
