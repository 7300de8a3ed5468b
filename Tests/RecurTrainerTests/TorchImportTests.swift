// import-torch: JSON reading, shape and value checks, exact round trips.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("PyTorch import")
struct TorchImportTests {
  /// A hand-written H = 2 state dict with values that are exact float32 numbers, in the layout json.dump writes.
  static let stateJSON = """
    {"rnn.weight_ih_l0": [[0.5], [-0.25]],
     "rnn.weight_hh_l0": [[0.10000000149011612, -0.20000000298023224], [1e-05, -3.4028234663852886e+38]],
     "rnn.bias_ih_l0": [0.0, -0.0],
     "rnn.bias_hh_l0": [1.401298464324817e-45, 0.7071067690849304],
     "fc.weight": [[2.0, -1.5]],
     "fc.bias": [0.125]}
    """

  static func importing(_ json: String, window: Int = 5) throws(TrainerError) -> ModelFile {
    try TorchState.modelFile(json: Array(json.utf8), window: window)
  }

  static func failure(_ json: String) -> String {
    do {
      _ = try importing(json)
      return "no error"
    } catch {
      return error.description
    }
  }

  @Test("a key with a control character is refused in one printable line (fuzz regression)")
  func controlCharacterInKey() throws {
    #expect(
      Self.failure(#"{"rnn.weight_ih_l0\n\u001b[2J": [[1]]}"#)
        == #"tensor key "rnn.weight_ih_l0\n\u001b[2J" holds a control character (state_dict keys are module paths)"#)
    // The input the fuzz harness saved (its first byte is the harness's mode byte).
    let saved = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
      .appendingPathComponent("../../Fixtures/fuzz/regressions/json/control-character-in-key")
    let bytes = Array(try Data(contentsOf: saved).dropFirst())
    #expect {
      _ = try TorchState.modelFile(json: bytes, window: 4)
    } throws: { error in
      "\(error)".hasPrefix("tensor key \"norm.output_mm") && !"\(error)".unicodeScalars.contains { $0.value < 0x20 }
    }
  }

  @Test("known tensors → import → model file bytes → exactly those floats")
  func roundTripKnownTensors() throws {
    let file = try ModelFile(bytes: try Self.importing(Self.stateJSON, window: 6).encoded())
    #expect(file.hiddenSize == 2 && file.contextLength == 6 && file.encoding == .sequenceMaxScale)
    #expect(file.tensor(.weightIH) == [0.5, -0.25])
    #expect(
      file.tensor(.weightHH).map(\.bitPattern)
        == [Float(0.1), -0.2, 1e-5, -Float.greatestFiniteMagnitude].map(\.bitPattern))
    #expect(file.tensor(.biasIH).map(\.bitPattern) == [Float(0).bitPattern, Float(-0.0).bitPattern])
    #expect(file.tensor(.biasHH) == [Float.leastNonzeroMagnitude, Float(0.7071067690849304)])
    #expect(file.tensor(.fcWeight) == [2, -1.5] && file.tensor(.fcBias) == [0.125])
    #expect(file.provenance.family == "pytorch-import")
    #expect(file.validation.windowMSE.isNaN && file.validation.generationError20.isNaN)
    #expect(file.provenance.finalLoss.isNaN)
  }

  @Test("the same tensors nested under \"tensors\" are accepted; other top-level keys are ignored")
  func nested() throws {
    let nested = "{\"format\": 1, \"family\": \"odd\", \"tensors\": \(Self.stateJSON)}"
    #expect(try Self.importing(nested).encoded() == Self.importing(Self.stateJSON).encoded())
  }

  @Test("json(for:) → import reproduces every float32 bit pattern")
  func roundTripExport() throws {
    let rng = try GSLRandom(seed: 11)
    var p = RNNParameters<Float>.pytorchDefault(hiddenSize: 9, rng: rng)
    p.values[0] = .leastNonzeroMagnitude
    p.values[1] = -.greatestFiniteMagnitude
    p.values[2] = 1e-30
    let original = p.modelFile(contextLength: 5, encoding: .sequenceMaxScale)
    let imported = try Self.importing(TorchState.json(for: original))
    for (a, b) in zip(original.tensors, imported.tensors) {
      #expect(a.values.map(\.bitPattern) == b.values.map(\.bitPattern))
    }
  }

  @Test("shortest float32 decimals (as `recur inspect --json` prints them) read back bit-exactly")
  func shortestFloatDecimals() throws {
    let rng = try GSLRandom(seed: 3)
    var values: [Float] = [
      .leastNonzeroMagnitude, .leastNormalMagnitude, .greatestFiniteMagnitude, 0.1, -0.0,
    ]
    while values.count < 5_000 {
      let f = Float(bitPattern: UInt32(rng.uniformInt(GSLRandom.maxUniformBound)))
      if f.isFinite { values.append(f) }
    }
    let text = "[" + values.map { "\($0)" }.joined(separator: ",") + "]"
    guard case .tensor(_, let parsed) = try JSONValue.parse(Array(text.utf8)) else {
      Issue.record("not a packed array of numbers")
      return
    }
    var mismatches = 0
    for (f, d) in zip(values, parsed) where Float(d).bitPattern != f.bitPattern { mismatches += 1 }
    #expect(parsed.count == values.count)
    #expect(mismatches == 0)
  }

  @Test("shape errors name the key, the expected and the found shape")
  func shapeErrors() {
    func replacing(_ key: String, with value: String) -> String {
      var object = Self.stateJSON
      let start = object.range(of: "\"\(key)\": ")!.upperBound
      var depth = 0
      var end = start
      for i in object[start...].indices {
        if object[i] == "[" { depth += 1 }
        if object[i] == "]" { depth -= 1 }
        if depth == 0 {
          end = object.index(after: i)
          break
        }
      }
      object.replaceSubrange(start..<end, with: value)
      return object
    }
    #expect(
      Self.failure(replacing("fc.weight", with: "[[1, 2], [3, 4]]"))
        == "fc.bias: expected shape [2] for vanilla tanh RNN, 1 layer: input 1, hidden 2, output 2, found [1]")
    #expect(
      Self.failure(replacing("rnn.bias_ih_l0", with: "[[1], [2]]"))
        == "rnn.bias_ih_l0: expected shape [2] for vanilla tanh RNN, 1 layer: input 1, hidden 2, output 1, found [2, 1]"
    )
    #expect(
      Self.failure(replacing("rnn.weight_ih_l0", with: "[0.5, 0.25]"))
        == "rnn.weight_ih_l0: expected shape [2, I] with I in 1...256, found [2]")
    #expect(
      Self.failure(replacing("rnn.weight_hh_l0", with: "[[1, 2, 3], [4, 5, 6]]"))
        == "rnn.weight_hh_l0: expected shape [G·H, H] with G = 1 (RNN), 3 (GRU) or 4 (LSTM), found [2, 3]")
    #expect(
      Self.failure(replacing("rnn.weight_hh_l0", with: "[[1, 2], [3]]")).hasPrefix(
        "rnn.weight_hh_l0: ragged nested array: [1] has shape [1], [0] has [2]"))
    #expect(
      Self.failure(replacing("fc.bias", with: "[\"x\"]"))
        == "fc.bias[0]: expected a number or a nested array of numbers")
    #expect(Self.failure(replacing("fc.bias", with: "[NaN]")) == "fc.bias[0]: nan is not finite")
    #expect(
      Self.failure(replacing("rnn.bias_hh_l0", with: "[1, -Infinity]"))
        == "rnn.bias_hh_l0[1]: -inf is not finite")
    #expect(
      Self.failure(replacing("fc.weight", with: "[[1, 1e39]]"))
        == "fc.weight[0][1]: 1e+39 overflows float32")
    #expect(
      Self.failure(Self.stateJSON.replacingOccurrences(of: "\"fc.bias\"", with: "\"fc.bias2\""))
        == "missing tensor 'fc.bias'")
    #expect(Self.failure("{\"fc.bias\": [1]}").hasPrefix("no recurrent module found"))
    #expect(Self.failure("[1, 2]").hasPrefix("expected a JSON object of tensors"))
    #expect(Self.failure("{\"fc.bias\": [1,]}") == "invalid JSON at byte 15: expected a value")
    #expect(Self.failure("{\"a\": 1} x").hasPrefix("invalid JSON at byte 9: unexpected data"))
  }

  @Test("JSON numbers parse to the correctly rounded double")
  func numbers() throws {
    let text = "[0.1, -2.5e-3, 1E2, 0, -0.0, 123456789012345678901234567890, 4.9e-324]"
    guard case .tensor(_, let values) = try JSONValue.parse(Array(text.utf8)) else {
      Issue.record("not a packed array of numbers")
      return
    }
    #expect(
      values.map(\.bitPattern)
        == [0.1, -2.5e-3, 100, 0, -0.0, 1.2345678901234568e29, Double.leastNonzeroMagnitude].map(\.bitPattern))
    // Rectangular arrays of numbers are packed as one tensor at any depth; anything else keeps the general form.
    #expect(try JSONValue.parse(Array("[[1, 2], [3, 4]]".utf8)) == .tensor(shape: [2, 2], values: [1, 2, 3, 4]))
    #expect(try JSONValue.parse(Array("[[[5]]]".utf8)) == .tensor(shape: [1, 1, 1], values: [5]))
    #expect(try JSONValue.parse(Array("[1, \"a\"]".utf8)) == .array([.number(1), .string("a")]))
    #expect(try JSONValue.parse(Array("[]".utf8)) == .array([]))
    #expect(
      try JSONValue.parse(Array("[[1], [2, 3], 4]".utf8))
        == .array([.tensor(shape: [1], values: [1]), .tensor(shape: [2], values: [2, 3]), .number(4)]))
    #expect(try JSONValue.parse(Array("[1, [2]]".utf8)) == .array([.number(1), .tensor(shape: [1], values: [2])]))
    // Values outside tensors are bounded, so an array of many empty strings cannot grow memory past the limit.
    let many = "[" + Array(repeating: "\"\"", count: JSONValue.maxStructuralValues + 1).joined(separator: ",") + "]"
    #expect(throws: TrainerError.self) { try JSONValue.parse(Array(many.utf8)) }
    #expect(throws: TrainerError.self) { try JSONValue.parse(Array("[01]".utf8)) }
    #expect(throws: TrainerError.self) {
      try JSONValue.parse(Array(String(repeating: "[", count: 100).utf8))
    }
    #expect(
      try JSONValue.parse(Array("{\"k\\u00e9\\n\": \"\\ud83d\\ude00\"}".utf8))["k\u{e9}\n"]
        == .string("😀"))
  }

  @Test("import-torch CLI writes the model; errors are one line")
  func cli() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let state = dir.appendingPathComponent("state.json")
    try Self.stateJSON.write(to: state, atomically: true, encoding: .utf8)
    let out = dir.appendingPathComponent("m.recur").path
    let ok = try runRecurTrain(["import-torch", state.path, "-o", out, "--window", "6"])
    #expect(ok.status == 0, "\(ok.stderr)")
    let file = try ModelFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
    #expect(file.contextLength == 6 && file.tensor(.fcBias) == [0.125])

    let bad = dir.appendingPathComponent("bad.json")
    try "{\"fc.bias\": [1]}".write(to: bad, atomically: true, encoding: .utf8)
    let refused = try runRecurTrain([
      "import-torch", bad.path, "-o", dir.appendingPathComponent("x.recur").path,
    ])
    #expect(refused.status == 1)
    #expect(
      refused.stderr.hasPrefix("error: '\(bad.path)': no recurrent module found (expected keys like 'rnn.weight_ih_l0'")
    )
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("x.recur").path))
  }
}
