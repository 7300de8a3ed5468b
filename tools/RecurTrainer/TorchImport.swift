// Import and export of the seed model's PyTorch state_dict as JSON.
//
// The JSON is an object whose keys are the state_dict names (`rnn.weight_ih_l0`, `rnn.weight_hh_l0`,
// `rnn.bias_ih_l0`, `rnn.bias_hh_l0`, `fc.weight`, `fc.bias`) and whose values are nested arrays in PyTorch's
// shapes (`tensor.tolist()`); the same object may instead sit under a top-level "tensors" key (other top-level keys
// are then ignored). `tools/torch_dump.py` writes it. Every shape and every value is checked: a wrong shape names the
// key with the expected and the found shape; a non-finite or float32-overflowing value names the key and the index.

import RecurRuntime

public enum TorchState {
  /// The state_dict key, expected shape (PyTorch order) for hidden size `h`.
  static func expectedShape(_ id: TensorID, hidden h: Int) -> [Int] {
    switch id {
    case .weightIH: [h, 1]
    case .weightHH: [h, h]
    case .biasIH, .biasHH: [h]
    case .fcWeight: [1, h]
    case .fcBias: [1]
    }
  }

  static func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }

  /// Reads a state JSON into a sequence-max-scale model file (family "pytorch-import", statistics NaN).
  public static func modelFile(json bytes: [UInt8], window: Int) throws(TrainerError) -> ModelFile {
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw .invalidOption("--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    let root = try JSONValue.parse(bytes)
    var tensorsObject = root
    if let nested = root["tensors"] { tensorsObject = nested }
    guard case .object(let members) = tensorsObject else {
      throw .importFailed(
        "expected a JSON object of tensors keyed by state_dict name (optionally under \"tensors\")")
    }
    let known = Set(TensorID.allCases.map(\.stateDictName))
    for (key, _) in members where !known.contains(key) {
      throw .importFailed(
        "unexpected tensor '\(key)': only a one-layer nn.RNN(1, H) named 'rnn' and an nn.Linear(H, 1) named 'fc' "
          + "are supported (expected keys: \(TensorID.allCases.map(\.stateDictName).joined(separator: ", ")))"
      )
    }
    var seen = Set<String>()
    for (key, _) in members where !seen.insert(key).inserted {
      throw .importFailed("tensor '\(key)' appears twice")
    }
    var tensors: [TensorID: (shape: [Int], values: [Double])] = [:]
    for id in TensorID.allCases {
      guard let value = tensorsObject[id.stateDictName] else {
        throw .importFailed("missing tensor '\(id.stateDictName)'")
      }
      tensors[id] = try flatten(value, key: id.stateDictName)
    }

    // The hidden size comes from the recurrent matrix; everything else must agree with it.
    let hhShape = tensors[.weightHH]!.shape
    guard hhShape.count == 2, hhShape[0] == hhShape[1], hhShape[0] >= 1 else {
      throw .importFailed(
        "rnn.weight_hh_l0: expected a square shape [H, H], found \(describe(hhShape))")
    }
    let h = hhShape[0]
    guard h <= ModelFormat.maxHiddenSize else {
      throw .importFailed(
        "rnn.weight_hh_l0: hidden size \(h) exceeds the format's limit \(ModelFormat.maxHiddenSize)"
      )
    }
    var floats: [TensorID: [Float]] = [:]
    for id in TensorID.allCases {
      let (shape, values) = tensors[id]!
      let expected = expectedShape(id, hidden: h)
      guard shape == expected else {
        throw .importFailed(
          "\(id.stateDictName): expected shape \(describe(expected)) (hidden size \(h)), found \(describe(shape))"
        )
      }
      var out = [Float](repeating: 0, count: values.count)
      for (k, v) in values.enumerated() {
        let f = Float(v)
        guard v.isFinite, f.isFinite else {
          let what = v.isFinite ? "\(v) overflows float32" : "\(v) is not finite"
          throw .importFailed("\(id.stateDictName)\(indexText(k, shape: shape)): \(what)")
        }
        out[k] = f
      }
      floats[id] = out
    }
    var file = ModelFile(
      hiddenSize: h, contextLength: window, encoding: .sequenceMaxScale,
      weightIH: floats[.weightIH]!,
      weightHH: floats[.weightHH]!, biasIH: floats[.biasIH]!, biasHH: floats[.biasHH]!,
      fcWeight: floats[.fcWeight]!,
      fcBias: floats[.fcBias]!)
    file.provenance.family = "pytorch-import"
    return file
  }

  /// `[i][j]` for flat index `k` in `shape`.
  static func indexText(_ k: Int, shape: [Int]) -> String {
    var rest = k
    var parts: [Int] = []
    for dim in shape.reversed() {
      parts.append(rest % max(dim, 1))
      rest /= max(dim, 1)
    }
    return parts.reversed().map { "[\($0)]" }.joined()
  }

  /// Shape and row-major values of a nested array; refuses ragged arrays and non-numbers, naming where.
  static func flatten(_ value: JSONValue, key: String) throws(TrainerError) -> (
    shape: [Int], values: [Double]
  ) {
    var values: [Double] = []
    func walk(_ v: JSONValue, path: String) throws(TrainerError) -> [Int] {
      switch v {
      case .number(let x):
        values.append(x)
        return []
      case .array(let elements):
        guard !elements.isEmpty else { return [0] }
        var first: [Int]? = nil
        for (i, e) in elements.enumerated() {
          let shape = try walk(e, path: path + "[\(i)]")
          if let first, first != shape {
            throw .importFailed(
              "\(key): ragged nested array: \(path)[\(i)] has shape \(describe(shape)), \(path)[0] has \(describe(first))"
            )
          }
          if first == nil { first = shape }
        }
        return [elements.count] + first!
      default:
        throw .importFailed("\(key)\(path): expected a number or a nested array of numbers")
      }
    }
    let shape = try walk(value, path: "")
    return (shape, values)
  }

  /// The model's tensors as a state JSON (the format `modelFile(json:window:)` reads). Each value is written as the
  /// shortest decimal of the float32 value widened to Double (what Python's `repr(float(x))` prints), so reading it
  /// back gives exactly the same float32.
  public static func json(for file: ModelFile) -> String {
    func number(_ f: Float) -> String { "\(Double(f))" }
    var parts: [String] = []
    for t in file.tensors {
      let body: String
      if t.id.isVector {
        body = "[" + t.values.map(number).joined(separator: ", ") + "]"
      } else {
        body =
          "["
          + (0..<t.rows).map { r in
            "[" + t.values[(r * t.cols)..<((r + 1) * t.cols)].map(number).joined(separator: ", ")
              + "]"
          }.joined(separator: ", ") + "]"
      }
      parts.append("  \"\(t.id.stateDictName)\": \(body)")
    }
    return "{\n" + parts.joined(separator: ",\n") + "\n}\n"
  }
}
