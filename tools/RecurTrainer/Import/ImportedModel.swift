// The one place the three audio-model importers (GuitarML.swift, Keras.swift, NAM.swift) turn what they read into a
// model file: each reader lists the source's layers in PyTorch's layouts, and `modelFile()` checks that the sizes
// chain, that the shape is one Recur runs (dense layers, one recurrent stack of one kind and one hidden size, dense
// layers; format version 5) and builds the tensors in the tensor table's order. Anything else is refused with one
// line naming the source's layer index and type.

import RecurRuntime

/// A source layer, its tensors already in PyTorch's layouts (gate blocks r, z, n for GRU; i, f, g, o for LSTM).
enum ImportedLayer {
  /// nn.Linear: weight [outputs][inputs] row-major, bias [outputs].
  case dense(DenseLayer, weight: [Float], bias: [Float])
  /// An activation on its own (Keras' `Activation` layer): folded into the dense layer before it.
  case activation(Activation)
  /// One recurrent layer: weight_ih [G·H][inputs], weight_hh [G·H][H], bias_ih [G·H], bias_hh [G·H]; learned
  /// initial states h0 [H] and c0 [H] (LSTM) when the source has them.
  case recurrent(
    CellKind, inputs: Int, hidden: Int, tensors: [[Float]], initialHidden: [Float]?, initialCell: [Float]?)
}

/// What an importer read: the layers in order, with the source's own index and type name for messages.
struct ImportedModel {
  var inputSize: Int
  var layers: [(index: Int, type: String, layer: ImportedLayer)] = []
  /// Output o < skip gets input o added (a residual).
  var skip = 0
  /// The source format, stored as the model's family (at most 31 ASCII characters).
  var family: String
  var sampleRate: Float = 0
  var metadata: [MetadataEntry] = []

  init(inputSize: Int, family: String) {
    self.inputSize = inputSize
    self.family = family
  }

  /// The model file: a chain of format version 5 with the identity encoding.
  func modelFile() throws(TrainerError) -> ModelFile {
    guard (1...Architecture.maxInputSize).contains(inputSize) else {
      throw .importFailed("input size \(inputSize) is out of range 1...\(Architecture.maxInputSize)")
    }
    // 1. Sizes chain; standalone activations fold into the dense layer before them (or an exact identity layer).
    var steps: [(index: Int, type: String, layer: ImportedLayer)] = []
    var width = inputSize
    for (index, type, layer) in layers {
      let name = "layer \(index) (\(type))"
      switch layer {
      case .dense(let d, _, _):
        guard d.inputs == width else {
          throw .importFailed("\(name): reads \(d.inputs) values, but \(width) flow into it")
        }
        guard (1...Architecture.maxHiddenSize).contains(d.outputs) else {
          throw .importFailed("\(name): \(d.outputs) outputs (Recur's limit is \(Architecture.maxHiddenSize))")
        }
        width = d.outputs
        steps.append((index, type, layer))
      case .activation(let activation):
        if case .dense(var d, let w, let b)? = steps.last?.layer, d.activation == .none {
          d.activation = activation
          steps[steps.count - 1].layer = .dense(d, weight: w, bias: b)
        } else {
          steps.append((index, type, Self.identity(width, activation)))
        }
      case .recurrent(_, let inputs, let hidden, _, _, _):
        guard inputs == width else {
          throw .importFailed("\(name): reads \(inputs) values, but \(width) flow into it")
        }
        guard (1...Architecture.maxHiddenSize).contains(hidden) else {
          throw .importFailed("\(name): hidden size \(hidden) is out of range 1...\(Architecture.maxHiddenSize)")
        }
        width = hidden
        steps.append((index, type, layer))
      }
    }
    // 2. The shape Recur runs: dense layers, one recurrent stack (one kind, one hidden size), dense layers.
    guard let firstRecurrent = steps.firstIndex(where: { if case .recurrent = $0.layer { true } else { false } })
    else {
      throw .importFailed("no recurrent layer (lstm, gru or rnn): Recur runs recurrent models")
    }
    guard case .recurrent(let kind, _, let hidden, _, _, _) = steps[firstRecurrent].layer else { fatalError() }
    var stackEnd = firstRecurrent
    var recurrent: [(kind: CellKind, tensors: [[Float]], h0: [Float]?, c0: [Float]?)] = []
    while stackEnd < steps.count, case .recurrent(let k, _, let h, let tensors, let h0, let c0) = steps[stackEnd].layer
    {
      let step = steps[stackEnd]
      guard k == kind && h == hidden else {
        throw .importFailed(
          "layer \(step.index) (\(step.type)): Recur runs one stack of one cell kind and one hidden size; it follows "
            + "\(kind.name) with hidden \(hidden), this is \(k.name) with hidden \(h)")
      }
      recurrent.append((k, tensors, h0, c0))
      stackEnd += 1
    }
    for step in steps[stackEnd...] {
      if case .recurrent = step.layer {
        throw .importFailed(
          "layer \(step.index) (\(step.type)): a second recurrent stack after a dense layer is not supported (Recur "
            + "runs dense layers, one recurrent stack, dense layers)")
      }
    }
    guard recurrent.count <= Architecture.maxLayers else {
      throw .importFailed("\(recurrent.count) recurrent layers; Recur runs at most \(Architecture.maxLayers)")
    }
    func dense(_ step: (index: Int, type: String, layer: ImportedLayer)) -> (DenseLayer, [Float], [Float]) {
      guard case .dense(let d, let w, let b) = step.layer else { fatalError("only dense layers remain") }
      return (d, w, b)
    }
    let before = steps[..<firstRecurrent].map(dense)
    var after = steps[stackEnd...].map(dense)
    // A stack with no dense layer after it outputs h: an identity readout gives exactly that (1 · h + 0).
    if after.isEmpty { after = [dense((0, "", Self.identity(hidden, .none)))] }
    let outputSize = after.last!.0.outputs
    guard outputSize <= Architecture.maxOutputSize else {
      throw .importFailed("\(outputSize) outputs; Recur's limit is \(Architecture.maxOutputSize)")
    }
    guard skip <= min(inputSize, outputSize) else {
      throw .importFailed("skip \(skip) exceeds min(input size \(inputSize), output size \(outputSize))")
    }

    // 3. The architecture and its tensors, in the table's order.
    var a = Architecture(
      kind: kind, layers: recurrent.count, inputSize: inputSize, hiddenSize: hidden, outputSize: outputSize)
    a.inputLayers = before.map(\.0)
    a.readoutActivation = after[0].0.activation
    a.outputLayers = after.dropFirst().map(\.0)
    a.inputSkip = skip
    a.learnedInitialState = recurrent.contains { $0.h0 != nil || $0.c0 != nil }
    guard a.chainLength <= Architecture.maxChainLength else {
      throw .importFailed(
        "\(a.chainLength) layers in the chain (dense, recurrent and readout); Recur runs at most "
          + "\(Architecture.maxChainLength)")
    }
    precondition(a.isWithinLimits, "the sizes were checked above")
    var tensors: [[Float]] = []
    for spec in a.tensors {
      switch spec.role {
      case .denseWeight, .denseBias:
        let layer =
          spec.layer < a.inputLayers.count ? before[spec.layer] : after[spec.layer - a.outputLayerPosition(0) + 1]
        tensors.append(spec.role == .denseWeight ? layer.1 : layer.2)
      case .weightIH, .weightHH, .biasIH, .biasHH:
        tensors.append(recurrent[spec.layer].tensors[Int(spec.role.rawValue) - 1])
      case .initialHidden:
        tensors.append(recurrent[spec.layer].h0 ?? [Float](repeating: 0, count: hidden))
      case .initialCell:
        tensors.append(recurrent[spec.layer].c0 ?? [Float](repeating: 0, count: hidden))
      case .fcWeight: tensors.append(after[0].1)
      case .fcBias: tensors.append(after[0].2)
      default: fatalError("no other tensor in a chain")
      }
    }
    var file = ModelFile(architecture: a, contextLength: 1, encoding: .identity, tensors: tensors)
    file.provenance.family = family
    file.sampleRate = sampleRate
    file.metadata = Self.fitted(metadata)
    return file
  }

  /// An identity dense layer (exact: 1 · x + 0) carrying `activation`.
  static func identity(_ width: Int, _ activation: Activation) -> ImportedLayer {
    var weight = [Float](repeating: 0, count: width * width)
    for i in 0..<width { weight[i * width + i] = 1 }
    return .dense(
      DenseLayer(inputs: width, outputs: width, activation: activation), weight: weight,
      bias: [Float](repeating: 0, count: width))
  }

  /// The metadata entries that fit the format's block, in order, each key once (the first); when some do not fit, the
  /// last kept line says so.
  static func fitted(_ entries: [MetadataEntry]) -> [MetadataEntry] {
    var kept: [MetadataEntry] = []
    var bytes = 0
    let note = MetadataEntry("recur.metadata-truncated", "true")
    let reserve = note.key.utf8.count + note.value.utf8.count + 2
    var seen = Set<String>()
    for entry in entries where entry.isStorable && seen.insert(entry.key).inserted {
      let size = entry.key.utf8.count + entry.value.utf8.count + 2
      guard bytes + size + reserve <= ModelFormat.maxMetadataSize else { return kept + [note] }
      kept.append(entry)
      bytes += size
    }
    return kept
  }
}

// MARK: - Reading JSON fields with messages that name them

/// Helpers the importers share: each names the JSON path it reads in its error.
enum ImportJSON {
  static func member(_ object: JSONValue, _ key: String, _ path: String) throws(TrainerError) -> JSONValue {
    guard let value = object[key] else { throw .importFailed("\(path): missing \"\(key)\"") }
    return value
  }

  static func integer(_ value: JSONValue, _ path: String, in range: ClosedRange<Int>) throws(TrainerError) -> Int {
    guard case .number(let x) = value, x.isFinite, x == x.rounded(), x >= Double(range.lowerBound),
      x <= Double(range.upperBound)
    else {
      throw .importFailed("\(path): expected an integer in \(range.lowerBound)...\(range.upperBound)")
    }
    return Int(x)
  }

  /// The elements of an array, whether the reader kept it as values or packed it as a tensor (JSON.swift).
  static func elements(_ value: JSONValue?) -> [JSONValue]? {
    switch value {
    case .array(let list)?: return list
    case .tensor(let shape, let values)?:
      let inner = Array(shape.dropFirst())
      let size = inner.reduce(1, *)
      return (0..<shape[0]).map { i in
        inner.isEmpty ? .number(values[i]) : .tensor(shape: inner, values: Array(values[(i * size)..<((i + 1) * size)]))
      }
    default: return nil
    }
  }

  static func string(_ value: JSONValue, _ path: String) throws(TrainerError) -> String {
    guard case .string(let s) = value else { throw .importFailed("\(path): expected a string") }
    return s
  }

  /// A tensor of exactly `shape` as float32, row-major; every value finite in float32.
  static func tensor(_ value: JSONValue, _ path: String, shape: [Int]) throws(TrainerError) -> [Float] {
    let (found, values) = try TorchState.flatten(value, key: path)
    guard found == shape else {
      throw .importFailed("\(path): expected shape \(TorchState.describe(shape)), found \(TorchState.describe(found))")
    }
    return try floats(values, path, shape: shape)
  }

  /// Doubles as float32, refusing non-finite values and float32 overflow by index.
  static func floats(_ values: [Double], _ path: String, shape: [Int]) throws(TrainerError) -> [Float] {
    var out = [Float](repeating: 0, count: values.count)
    for (k, v) in values.enumerated() {
      let f = Float(v)
      guard v.isFinite, f.isFinite else {
        throw .importFailed(
          "\(path)\(TorchState.indexText(k, shape: shape)): \(v.isFinite ? "\(v) overflows float32" : "\(v) is not finite")"
        )
      }
      out[k] = f
    }
    return out
  }

  /// Row-major [cols][rows] of a row-major [rows][cols] matrix.
  static func transposed(_ m: [Float], rows: Int, cols: Int) -> [Float] {
    var t = [Float](repeating: 0, count: m.count)
    for r in 0..<rows {
      for c in 0..<cols { t[c * rows + r] = m[r * cols + c] }
    }
    return t
  }

  /// The source's scalar metadata as entries: keys lowercased with other characters as `_`, under `prefix`; nested
  /// objects as `outer.inner`; strings lose control characters; arrays and nulls are skipped.
  static func metadata(_ value: JSONValue?, prefix: String) -> [MetadataEntry] {
    guard case .object(let members)? = value else { return [] }
    var entries: [MetadataEntry] = []
    for (key, member) in members {
      let name = prefix + sanitizedKey(key)
      switch member {
      case .object: entries += metadata(member, prefix: name + ".")
      default: if let text = scalarText(member) { entries.append(MetadataEntry(name, text)) }
      }
    }
    return entries
  }

  static func scalarText(_ value: JSONValue) -> String? {
    switch value {
    case .string(let s):
      return String(String.UnicodeScalarView(s.unicodeScalars.filter { !TorchState.isControl($0) }).prefix(512))
    case .number(let x): return x == x.rounded() && abs(x) < 1e15 ? String(Int64(x)) : "\(x)"
    case .bool(let b): return b ? "true" : "false"
    default: return nil
    }
  }

  static func sanitizedKey(_ key: String) -> String {
    let scalars = key.lowercased().unicodeScalars.prefix(48).map { c -> Character in
      let ok = ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "." || c == "-"
      return ok ? Character(c) : "_"
    }
    return scalars.isEmpty ? "_" : String(scalars)
  }
}
