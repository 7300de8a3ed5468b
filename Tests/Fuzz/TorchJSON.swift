// Fuzz harness: the PyTorch state importer (`TorchState.modelFile(json:window:encoding:)` over the strict JSON
// reader `JSONValue.parse`, tools/RecurTrainer).
//
// Input: a mode byte, then the JSON text. Mode bits 0-1 choose the import's --encoding (none, sequence-max-scale,
// identity, standardize), bits 2-7 the window (1...64).
// Contract:
//   - JSON refused: the error is "invalid JSON at byte N: ..." with N inside the input (0...count);
//   - JSON accepted: writing the value back as JSON (independently, below) and parsing that gives an equal value;
//   - import refused: one line of printable text (an `importFailed` or `invalidOption`; no control character, so
//     no key from the input can break the CLI's one-line error or write escape sequences to a terminal);
//   - import accepted: sizes within the format's limits, every tensor of the table present with its size and
//     finite, scales positive; `TorchState.json(for:)` of the model re-imports to the same architecture, encoding,
//     tensors and normalisation bit for bit; and the model's file bytes load back through the runtime's reader to
//     the same tensors.

import RecurRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
  _ argc: UnsafeMutablePointer<Int32>,
  _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
  if let directory = seedDirectoryRequested() {
    writeJSONSeeds(directory)
    exit(0)
  }
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTorchJSON(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard size >= 1, let data else { return 0 }
  let mode = data[0]
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let encodings: [Encoding?] = [nil, .sequenceMaxScale, .identity, .standardize]
  checkJSON(bytes)
  checkImport(bytes, window: 1 + Int(mode >> 2), encoding: encodings[Int(mode & 3)])
  return 0
}

func message(_ error: TrainerError) -> String {
  switch error {
  case .importFailed(let m), .invalidOption(let m): return m
  default:
    require(false, "unexpected error kind: \(error)")
    return ""
  }
}

func checkJSON(_ bytes: [UInt8]) {
  let value: JSONValue
  do {
    value = try JSONValue.parse(bytes)
  } catch {
    let m = message(error)
    let prefix = "invalid JSON at byte "
    require(m.hasPrefix(prefix), "JSON error without a byte offset: \(m)")
    let digits = m.dropFirst(prefix.count).prefix { $0.isNumber }
    require(Int(digits).map { $0 >= 0 && $0 <= bytes.count } ?? false, "offset outside the input: \(m)")
    return
  }
  var text: [UInt8] = []
  write(value, to: &text)
  do {
    let again = try JSONValue.parse(text)
    require(again == value, "JSON round trip changed the value: \(String(decoding: text, as: UTF8.self))")
  } catch {
    require(false, "the JSON written back is refused: \(error): \(String(decoding: text, as: UTF8.self))")
  }
}

/// An independent JSON writer (numbers by Swift's shortest round-trip description; Python's NaN/Infinity tokens).
func write(_ value: JSONValue, to out: inout [UInt8]) {
  switch value {
  case .null: out += Array("null".utf8)
  case .bool(let b): out += Array((b ? "true" : "false").utf8)
  case .number(let x):
    if x.isNaN {
      out += Array("NaN".utf8)
    } else if x.isInfinite {
      out += Array((x < 0 ? "-Infinity" : "Infinity").utf8)
    } else {
      out += Array("\(x)".utf8)
    }
  case .string(let s):
    out.append(0x22)
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += [0x5C, 0x22]
      case "\\": out += [0x5C, 0x5C]
      case _ where scalar.value < 0x20:
        let hex = Array("0123456789abcdef".utf8)
        out += Array("\\u00".utf8) + [hex[Int(scalar.value >> 4)], hex[Int(scalar.value & 15)]]
      default: out += Array(String(scalar).utf8)
      }
    }
    out.append(0x22)
  case .array(let elements):
    // A rectangular array of numbers must have been packed: all numbers, or all tensors of one shape, is a bug.
    let numbers = elements.allSatisfy { if case .number = $0 { true } else { false } }
    let shapes = elements.map { e -> [Int]? in if case .tensor(let s, _) = e { s } else { nil } }
    require(
      elements.isEmpty || (!numbers && (shapes.contains(nil) || Set(shapes.map { $0! }).count > 1)),
      "a rectangular array of numbers was not packed")
    out.append(0x5B)
    for (i, e) in elements.enumerated() {
      if i > 0 { out.append(0x2C) }
      write(e, to: &out)
    }
    out.append(0x5D)
  case .tensor(let shape, let values):
    require(
      !shape.isEmpty && shape.allSatisfy { $0 > 0 } && shape.reduce(1, *) == values.count,
      "tensor shape \(shape) does not hold its \(values.count) values")
    var next = 0
    func nested(_ level: Int) {
      out.append(0x5B)
      for i in 0..<shape[level] {
        if i > 0 { out.append(0x2C) }
        if level == shape.count - 1 {
          write(.number(values[next]), to: &out)
          next += 1
        } else {
          nested(level + 1)
        }
      }
      out.append(0x5D)
    }
    nested(0)
  case .object(let members):
    out.append(0x7B)
    for (i, (k, v)) in members.enumerated() {
      if i > 0 { out.append(0x2C) }
      write(.string(k), to: &out)
      out.append(0x3A)
      write(v, to: &out)
    }
    out.append(0x7D)
  }
}

func checkImport(_ bytes: [UInt8], window: Int, encoding: Encoding?) {
  let file: ModelFile
  do {
    file = try TorchState.modelFile(json: bytes, window: window, encoding: encoding)
  } catch {
    let m = message(error)
    require(
      !m.isEmpty && !m.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
      "import error is not one line of printable text: \(m)")
    return
  }
  let a = file.architecture
  require(a.isWithinLimits, "imported sizes out of bounds: \(a.summary)")
  require(file.contextLength == window, "window \(file.contextLength)")
  require(encoding == nil || file.encoding == encoding, "encoding \(file.encoding) instead of \(encoding!)")
  require(file.encoding.supports(inputSize: a.inputSize, outputSize: a.outputSize), "encoding does not fit")
  require(file.encoding.isStandardized == (file.normalization != nil), "normalisation presence")
  for (spec, values) in file.tensors {
    require(values.count == spec.count && values.allSatisfy { $0.isFinite }, "tensor \(spec.name(a.kind))")
    if spec.role == .inputScale || spec.role == .outputScale {
      require(values.allSatisfy { $0 > 0 }, "non-positive scale")
    }
  }
  // Round trip through the importer's own writer.
  let text = Array(TorchState.json(for: file).utf8)
  do {
    let again = try TorchState.modelFile(json: text, window: window, encoding: file.encoding)
    require(again.architecture == a && again.encoding == file.encoding, "round trip changed the architecture")
    for (x, y) in zip(again.tensors, file.tensors) {
      require(x.spec == y.spec, "round trip changed the tensor table")
      require(x.values.map(\.bitPattern) == y.values.map(\.bitPattern), "round trip changed \(x.spec.name(a.kind))")
    }
    require(again.tensors.count == file.tensors.count, "round trip changed the tensor count")
  } catch {
    require(false, "json(for:) of an imported model is refused: \(error)")
  }
  // And through the model file.
  do {
    let loaded = try ModelFile(bytes: file.encoded())
    for (x, y) in zip(loaded.tensors, file.tensors) {
      require(x.values.map(\.bitPattern) == y.values.map(\.bitPattern), "file bytes changed \(x.spec.name(a.kind))")
    }
  } catch {
    require(false, "the runtime refuses the imported model's file: \(error)")
  }
}

// MARK: - Seeds: every kind, 1 and 2 layers, several channels, stacked modules, normalisation, JSON syntax.

func writeJSONSeeds(_ directory: String) {
  var random = SeedRandom(state: 11)
  func seed(_ name: String, mode: UInt8, _ text: String) {
    writeSeed([mode] + Array(text.utf8), directory, name + ".json")
  }
  for kind in CellKind.allCases {
    for (layers, i, h, o) in [(1, 1, 2, 1), (2, 3, 2, 2)] {
      let a = Architecture(kind: kind, layers: layers, inputSize: i, hiddenSize: h, outputSize: o)
      var file = ModelFile(
        architecture: a, contextLength: 4, encoding: i == 1 && o == 1 ? .sequenceMaxScale : .identity,
        tensors: a.tensors.map { random.values($0.count) })
      seed("\(kind.name)-l\(layers)-i\(i)-h\(h)-o\(o)", mode: 4 * 3, TorchState.json(for: file))
      if kind == .gru && layers == 1 {
        file.encoding = .standardize
        file.normalization = Normalization(
          inputShift: [0.5], inputScale: [2], outputShift: [-1], outputScale: [0.25])
        let body = TorchState.json(for: file)
        seed("gru-standardize", mode: 3 + 4 * 7, body)
        seed("gru-standardize-encoding-key", mode: 4 * 7, "{\"encoding\": \"standardize\", \"tensors\": \(body)}")
      }
    }
  }
  // A mixture readout (format version 4): experts.weight beside an fc of one row per expert; window 4 (mode 4·3).
  let mixture = Architecture(kind: .gru, hiddenSize: 2, experts: 3, expertOrder: 2)
  let mixed = ModelFile(
    architecture: mixture, contextLength: 4, encoding: .windowDifferences,
    tensors: mixture.tensors.map { random.values($0.count) })
  seed("gru-mixture", mode: 4 * 3, TorchState.json(for: mixed))
  seed(
    "stacked-modules", mode: 4,
    """
    {"a.weight_ih_l0": [[0.5]], "a.weight_hh_l0": [[0.25]], "a.bias_ih_l0": [0.0], "a.bias_hh_l0": [1e-3],
     "b.weight_ih_l0": [[1.5]], "b.weight_hh_l0": [[-0.25]], "b.bias_ih_l0": [0.0], "b.bias_hh_l0": [-2E+1],
     "head.weight": [[2.0]], "head.bias": [0]}
    """)
  seed(
    "syntax", mode: 0,
    """
    {"kind": "rnn", "s": "a\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00 é", "t": true, "f": false, "n": null,
     "x": [NaN, Infinity, -Infinity, -0.0, 1.5e-300, 12345678901234567890],
     "tensors": {"rnn.weight_ih_l0": [[1]], "rnn.weight_hh_l0": [[0.5]], "rnn.bias_ih_l0": [0],
                 "rnn.bias_hh_l0": [0], "fc.weight": [[1]], "fc.bias": [0]}}
    """)
}
