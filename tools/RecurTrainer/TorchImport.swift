// Import and export of PyTorch state_dicts as JSON: any stack of nn.RNN (tanh) / nn.GRU / nn.LSTM modules of one kind
// followed by one nn.Linear.
//
// The JSON is an object whose keys are state_dict names and whose values are nested arrays in PyTorch's shapes
// (`tensor.tolist()`); the same object may instead sit under a top-level "tensors" key (other top-level keys are then
// ignored). `tools/torch_dump.py` writes it. The import is strict, because a silently dropped layer produces
// garbage that looks like a model:
//   - recurrent tensors are `PREFIX.{weight_ih,weight_hh,bias_ih,bias_hh}_l{k}` under any module prefix; the kind is
//     read from the shapes (`weight_hh_l0` has 1, 3 or 4 times H rows: rnn, gru, lstm) and the depth from the
//     `_l{k}` suffixes. Several recurrent modules of one kind and one H are stacked in the order the state dict
//     lists them, when the sizes chain (module m's input size is H for m > 0);
//   - exactly one other module with `.weight` [O][H] and `.bias` [O] is the readout;
//   - a missing key, a shape that disagrees, bias=False, proj_size (`weight_hr_l{k}`), bidirectional (`_reverse`)
//     weights, more than the format's 8 layers, or any key left unused is an error naming the key.
// Note: nn.RNN(nonlinearity="relu") has the same state dict as tanh; the runtime runs tanh, so import only tanh RNNs.
// Every value is checked: a non-finite or float32-overflowing value names the key and the index.

import RecurIO
import RecurRuntime

public enum TorchState {
  /// The largest state JSON `import-torch` reads: 256 MiB, well above the largest valid model's (64 MiB of float32
  /// written as decimals); the reader keeps 8 bytes per number beside the text (JSON.swift), and the import a
  /// flattened copy and the float32 tensors.
  public static let maxJSONSize = 256 << 20

  static func describe(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }

  /// A state_dict key split into module prefix, recurrent role, layer and the PyTorch suffixes the format refuses.
  struct RecurrentKey {
    var prefix: String
    var role: TensorRole
    var layer: Int
  }

  /// Parses `PREFIX.weight_ih_l3` and friends; nil for keys of other modules. Throws for recurrent keys the format
  /// cannot hold (projections, reverse directions).
  static func recurrentKey(_ key: String) throws(TrainerError) -> RecurrentKey? {
    guard let dot = key.lastIndex(of: ".") else { return nil }
    let prefix = String(key[..<dot])
    var name = String(key[key.index(after: dot)...])
    if name.hasSuffix("_reverse") {
      throw .importFailed(
        "'\(key)': bidirectional recurrent modules are not supported (only the forward direction runs in a stream)")
    }
    if name.hasPrefix("weight_hr_l") {
      throw .importFailed("'\(key)': LSTM projections (proj_size > 0) are not supported")
    }
    let roles: [(String, TensorRole)] = [
      ("weight_ih_l", .weightIH), ("weight_hh_l", .weightHH), ("bias_ih_l", .biasIH), ("bias_hh_l", .biasHH),
    ]
    for (stem, role) in roles where name.hasPrefix(stem) {
      name.removeFirst(stem.count)
      guard let layer = Int(name), layer >= 0, String(layer) == name else {
        throw .importFailed("'\(key)': unexpected layer suffix '\(name)'")
      }
      // Bounded here, so the depth arithmetic below (layer + 1, the sum over modules) cannot overflow.
      guard layer < Architecture.maxLayers else {
        throw .importFailed(
          "'\(key)': layer \(layer) is beyond the format's \(Architecture.maxLayers) layers (suffixes _l0..._l"
            + "\(Architecture.maxLayers - 1))")
      }
      return RecurrentKey(prefix: prefix, role: role, layer: layer)
    }
    return nil
  }

  /// Reads a state JSON into a model file (family "pytorch-import", statistics NaN). `encoding` defaults to the
  /// seed notebook's sequence-max-scale for one input and one output, identity otherwise.
  public static func modelFile(json bytes: [UInt8], window: Int, encoding: Encoding? = nil) throws(TrainerError)
    -> ModelFile
  {
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw .invalidOption("--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    let root = try JSONValue.parse(bytes)
    var tensorsObject = root
    if let nested = root["tensors"] { tensorsObject = nested }
    guard case .object(let members) = tensorsObject, !members.isEmpty else {
      throw .importFailed(
        "expected a JSON object of tensors keyed by state_dict name (optionally under \"tensors\")")
    }
    // Keys are quoted in error messages: one with a control character (a newline, an escape sequence) would break
    // the one-line error or write to the terminal (found by the fuzz harness, Fixtures/fuzz/regressions/json).
    for (key, _) in members where key.unicodeScalars.contains(where: isControl) {
      throw .importFailed(
        "tensor key \(jsonString(key)) holds a control character (state_dict keys are module paths)")
    }
    var seen = Set<String>()
    for (key, _) in members where !seen.insert(key).inserted {
      throw .importFailed("tensor '\(key)' appears twice")
    }
    var parsed: [String: (shape: [Int], values: [Double])] = [:]
    for (key, value) in members { parsed[key] = try flatten(value, key: key) }

    // 1. Recurrent modules, in the order the state dict lists them, and every other module's keys.
    var modules: [String] = []
    var depth: [String: Int] = [:]
    var otherKeys: [String] = []
    for (key, _) in members {
      if let r = try recurrentKey(key) {
        if depth[r.prefix] == nil { modules.append(r.prefix) }
        depth[r.prefix] = max(depth[r.prefix] ?? 0, r.layer + 1)
      } else {
        otherKeys.append(key)
      }
    }
    guard let first = modules.first else {
      throw .importFailed("no recurrent module found (expected keys like 'rnn.weight_ih_l0', 'gru.weight_hh_l0')")
    }

    // 2. The kind and H from the first module's weight_hh_l0; every module and layer must agree.
    func shape(_ key: String) throws(TrainerError) -> [Int] {
      guard let t = parsed[key] else {
        throw .importFailed(
          key.contains(".bias_")
            ? "missing tensor '\(key)' (modules built with bias=False are not supported)"
            : "missing tensor '\(key)'")
      }
      return t.shape
    }
    let hh0 = try shape("\(first).weight_hh_l0")
    guard hh0.count == 2, hh0[1] >= 1, hh0[0] % hh0[1] == 0, [1, 3, 4].contains(hh0[0] / hh0[1]) else {
      throw .importFailed(
        "\(first).weight_hh_l0: expected shape [G·H, H] with G = 1 (RNN), 3 (GRU) or 4 (LSTM), found \(describe(hh0))")
    }
    let hidden = hh0[1]
    let kind: CellKind = hh0[0] == hidden ? .rnn : hh0[0] == 3 * hidden ? .gru : .lstm
    guard hidden <= Architecture.maxHiddenSize else {
      throw .importFailed(
        "\(first).weight_hh_l0: hidden size \(hidden) exceeds the format's limit \(Architecture.maxHiddenSize)")
    }
    let ih0 = try shape("\(first).weight_ih_l0")
    guard ih0.count == 2, ih0[0] == kind.gates * hidden, (1...Architecture.maxInputSize).contains(ih0[1]) else {
      throw .importFailed(
        "\(first).weight_ih_l0: expected shape [\(kind.gates * hidden), I] with I in 1...\(Architecture.maxInputSize), "
          + "found \(describe(ih0))")
    }
    // Each depth is at most maxLayers (recurrentKey), so the running sum is checked before it could grow past it.
    var layers = 0
    for module in modules where layers <= Architecture.maxLayers { layers += depth[module]! }
    guard layers <= Architecture.maxLayers else {
      throw .importFailed("\(layers) recurrent layers in all; the format holds at most \(Architecture.maxLayers)")
    }

    // 3. The readout: the one remaining module with .weight [O][H] and .bias [O].
    let readoutPrefixes = Set(
      otherKeys.compactMap { key -> String? in
        guard let dot = key.lastIndex(of: ".") else { return nil }
        let name = key[key.index(after: dot)...]
        return name == "weight" || name == "bias" ? String(key[..<dot]) : nil
      })
    // (A mixture's `experts.weight` is not a readout: it has no bias and belongs to the mixture, below.)
    let readout = otherKeys.compactMap { key -> String? in
      guard key.hasSuffix(".weight"), key != "experts.weight" else { return nil }
      let prefix = String(key.dropLast(".weight".count))
      return readoutPrefixes.contains(prefix) ? prefix : nil
    }.first
    guard let readout else {
      throw .importFailed(
        "no readout found: expected an nn.Linear(H, O) with keys 'fc.weight' and 'fc.bias' (any module name)")
    }
    let fcShape = try shape("\(readout).weight")
    guard fcShape.count == 2, fcShape[1] == hidden, (1...Architecture.maxOutputSize).contains(fcShape[0]) else {
      throw .importFailed(
        "\(readout).weight: expected shape [O, \(hidden)] with O in 1...\(Architecture.maxOutputSize), found \(describe(fcShape))"
      )
    }
    // A mixture readout (`recur inspect --json` of a format-4 model): `experts.weight` [E][m] beside an fc of E rows.
    let expertsKey = TensorSpec(role: .experts, layer: 0, rows: 0, cols: 0).name(prefix: "")
    var experts = 0
    var expertOrder = 0
    if let found = parsed[expertsKey]?.shape {
      guard found.count == 2, found[0] == fcShape[0], found[0] <= Architecture.maxExperts, found[1] >= 1,
        found[1] <= window, ih0[1] == 1
      else {
        throw .importFailed(
          "\(expertsKey): expected shape [E, m] with E = \(readout).weight's \(fcShape[0]) rows (at most "
            + "\(Architecture.maxExperts)), m in 1...\(window) (--window) and input size 1, found \(describe(found))")
      }
      (experts, expertOrder) = (found[0], found[1])
    }
    let architecture = Architecture(
      kind: kind, layers: layers, inputSize: ih0[1], hiddenSize: hidden, outputSize: experts > 0 ? 1 : fcShape[0],
      experts: experts, expertOrder: expertOrder)

    // 4. Every tensor of the table from its key; then nothing may be left over.
    var used = Set<String>()
    var tensors: [[Float]] = []
    var layerBase = 0
    var keyOfLayer: [(module: String, layer: Int)] = []
    for module in modules {
      for k in 0..<depth[module]! { keyOfLayer.append((module, k)) }
      layerBase += depth[module]!
    }
    for spec in architecture.tensors {
      let key: String
      if spec.role == .experts {
        key = expertsKey
      } else if spec.role.isReadout {
        key = spec.role == .fcWeight ? "\(readout).weight" : "\(readout).bias"
      } else {
        let (module, k) = keyOfLayer[spec.layer]
        key = TensorSpec(role: spec.role, layer: k, rows: spec.rows, cols: spec.cols).name(prefix: module)
      }
      let found = try shape(key)
      guard found == spec.torchShape else {
        let why =
          spec.layer > 0 && spec.role == .weightIH && !spec.role.isReadout
          ? " (stacked modules must chain: each reads the hidden size \(hidden) of the one before)" : ""
        throw .importFailed(
          "\(key): expected shape \(describe(spec.torchShape)) for \(architecture.summary), found \(describe(found))\(why)"
        )
      }
      let values = parsed[key]!.values
      var out = [Float](repeating: 0, count: values.count)
      for (k, v) in values.enumerated() {
        let f = Float(v)
        guard v.isFinite, f.isFinite else {
          let what = v.isFinite ? "\(v) overflows float32" : "\(v) is not finite"
          throw .importFailed("\(key)\(indexText(k, shape: found)): \(what)")
        }
        out[k] = f
      }
      tensors.append(out)
      used.insert(key)
    }
    // 5. The standardised encodings' normalisation (`recur inspect --json` of a `fit` model writes it): all four
    // vectors or none; the encoding is then --encoding, or the JSON's top-level "encoding".
    let normNames = architecture.normalizationTensors.map { $0.name(prefix: "") }
    var normalization: Normalization? = nil
    if normNames.contains(where: { parsed[$0] != nil }) {
      var vectors: [[Float]] = []
      for spec in architecture.normalizationTensors {
        let key = spec.name(prefix: "")
        let found = try shape(key)
        guard found == spec.torchShape else {
          throw .importFailed("\(key): expected shape \(describe(spec.torchShape)), found \(describe(found))")
        }
        let values = parsed[key]!.values.map { Float($0) }
        for (k, v) in values.enumerated() where !v.isFinite || (spec.role.rawValue % 2 == 0 && !(v > 0)) {
          throw .importFailed(
            "\(key)[\(k)]: \(v) is not \(spec.role.rawValue % 2 == 0 ? "a positive scale" : "finite")")
        }
        vectors.append(values)
        used.insert(key)
      }
      normalization = Normalization(
        inputShift: vectors[0], inputScale: vectors[1], outputShift: vectors[2], outputScale: vectors[3])
    }
    for (key, _) in members where !used.contains(key) {
      throw .importFailed(
        "unused tensor '\(key)': the import takes recurrent modules of one kind (\(modules.joined(separator: ", "))) "
          + "and one Linear readout (\(readout)); every key must belong to them")
    }
    var recorded: Encoding? = nil
    if case .string(let name)? = root["encoding"] { recorded = Encoding(name: name) }
    let chosen =
      encoding ?? (normalization != nil ? recorded : nil) ?? (architecture.isMixture ? .windowDifferences : nil)
      ?? (architecture.inputSize == 1 && architecture.outputSize == 1 ? .sequenceMaxScale : .identity)
    guard !architecture.isMixture || chosen == .windowDifferences else {
      throw .invalidOption(
        "--encoding \(chosen.name) cannot drive a mixture readout (\(expertsKey)): it needs window-differences")
    }
    guard chosen.supports(inputSize: architecture.inputSize, outputSize: architecture.outputSize) else {
      throw .invalidOption(
        "--encoding \(chosen.name) does not fit this model's sizes (input \(architecture.inputSize), output "
          + "\(architecture.outputSize))")
    }
    guard chosen.isStandardized == (normalization != nil) else {
      throw .importFailed(
        normalization == nil
          ? "--encoding \(chosen.name) needs the normalisation vectors (\(normNames.joined(separator: ", ")))"
          : "the norm.* vectors belong to the standardize encodings; this import's encoding is \(chosen.name) "
            + "(pass --encoding standardize or standardize-differences)")
    }
    var file = ModelFile(architecture: architecture, contextLength: window, encoding: chosen, tensors: tensors)
    file.normalization = normalization
    file.provenance.family = "pytorch-import"
    return file
  }

  /// C0 and C1 control characters (and DEL).
  static func isControl(_ c: Unicode.Scalar) -> Bool { c.value < 0x20 || (0x7F...0x9F).contains(c.value) }

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
    // A tensor (every rectangular array the reader saw) is returned as it is: its storage is shared, not copied.
    if case .tensor(let shape, let xs) = value { return (shape, xs) }
    var values: [Double] = []
    func walk(_ v: JSONValue, path: String) throws(TrainerError) -> [Int] {
      switch v {
      case .number(let x):
        values.append(x)
        return []
      case .tensor(let shape, let xs):
        values += xs
        return shape
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

  /// The model's tensors as a state JSON (the format `modelFile(json:window:)` reads), keyed as `recur inspect
  /// --json` keys them. Each value is written as the shortest decimal of the float32 value widened to Double (what
  /// Python's `repr(float(x))` prints), so reading it back gives exactly the same float32.
  public static func json(for file: ModelFile) -> String {
    func number(_ f: Float) -> String { "\(Double(f))" }
    var parts: [String] = []
    for (spec, values) in file.tensors {
      var body = ""
      writeJSONTensor(
        rows: spec.rows, cols: spec.cols, isVector: spec.role.isVector, text: { body += $0 },
        number: { body += number(values[$0]) })
      parts.append("  \"\(spec.name(file.cellKind))\": \(body)")
    }
    return "{\n" + parts.joined(separator: ",\n") + "\n}\n"
  }
}
