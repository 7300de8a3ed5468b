// RTNeural's JSON (exported from Keras; what AIDA-X ships as .json and .aidax):
//   {"in_shape": [null, null, I], "in_skip": k?, "layers": [{"type", "activation", "shape": [..., out], "weights"}]}
// as RTNeural's `json_parser::parseJson` reads it (RTNeural/model_loader.h):
//   dense, time-distributed-dense   weights [kernel [in][out], bias [out]?]; then "activation" if not empty
//   gru                             weights [kernel [in][3H], recurrent [H][3H], bias [2][3H]] gates z, r, h;
//                                   Keras' reset_after: h̃ = tanh(W_h x + b_h + r ⊙ (U_h h + b'_h)) (= PyTorch's n)
//   lstm                            weights [kernel [in][4H], recurrent [H][4H], bias [4H]] gates i, f, c, o
//   activation                      "activation" alone (tanh, relu, sigmoid, softmax, elu)
// The recurrent layers' "activation" keys are not read by RTNeural (it always runs tanh and σ); neither here.
// AIDA-X adds `in_skip`: the first input is added to the output. Layer types RTNeural would skip silently, or that
// Recur does not run (conv1d, conv2d, prelu, batchnorm, ...), are refused by index and type.

import RecurRuntime

enum KerasImport {
  static func matches(_ root: JSONValue) -> Bool { root["layers"] != nil && root["in_shape"] != nil }

  static func model(_ root: JSONValue) throws(TrainerError) -> ImportedModel {
    typealias J = ImportJSON
    guard let shape = J.elements(root["in_shape"]), let last = shape.last else {
      throw .importFailed("in_shape: expected an array such as [null, null, 1]")
    }
    guard shape.count <= 3 else {
      throw .importFailed("in_shape: \(shape.count) dimensions (conv2d inputs) are not supported")
    }
    let I = try J.integer(last, "in_shape[\(shape.count - 1)]", in: 1...Architecture.maxInputSize)
    var model = ImportedModel(inputSize: I, family: "rtneural-keras")
    model.skip = try J.integer(root["in_skip"] ?? .number(0), "in_skip", in: 0...I)
    // AIDA-X's optional gains (dB) scale the input before the skip and the output after it: not one chain.
    for key in ["in_gain", "out_gain"] {
      if let value = root[key], value != .number(0) {
        throw .importFailed(
          "\(key): a non-zero AIDA-X gain is not supported (Recur runs the network itself; scale the audio instead)")
      }
    }
    guard case .array(let layerList)? = root["layers"] else {
      throw .importFailed("layers: expected an array of layer objects")
    }
    guard layerList.count <= 4 * Architecture.maxChainLength else {
      throw .importFailed(
        "layers: \(layerList.count) layers; Recur runs chains of at most \(Architecture.maxChainLength)")
    }
    var width = I
    for (index, layer) in layerList.enumerated() {
      let path = "layers[\(index)]"
      let type = try J.string(try J.member(layer, "type", path), "\(path).type")
      let name = "layer \(index) (\(escapedText(type)))"
      guard let layerShape = J.elements(layer["shape"]), let outValue = layerShape.last else {
        throw .importFailed("\(name): \"shape\" must be an array ending with the output size")
      }
      let out = try J.integer(outValue, "\(path).shape[\(layerShape.count - 1)]", in: 1...Architecture.maxHiddenSize)
      let activation = try Self.activation(layer["activation"], name)
      func weights(_ count: Int) throws(TrainerError) -> [JSONValue] {
        guard let w = J.elements(layer["weights"]) else {
          throw .importFailed("\(name): \"weights\" must be an array of \(count) arrays")
        }
        guard w.count == count || (type.hasSuffix("dense") && w.count == 1 && count == 2) else {
          throw .importFailed("\(name): \"weights\" holds \(w.count) arrays, expected \(count)")
        }
        return w
      }
      switch type {
      case "dense", "time-distributed-dense":
        let w = try weights(2)
        let kernel = try J.tensor(w[0], "\(path).weights[0]", shape: [width, out])
        let bias =
          w.count > 1 ? try J.tensor(w[1], "\(path).weights[1]", shape: [out]) : [Float](repeating: 0, count: out)
        model.layers.append(
          (
            index, type,
            .dense(
              DenseLayer(inputs: width, outputs: out, activation: activation),
              weight: J.transposed(kernel, rows: width, cols: out), bias: bias)
          ))
      case "gru":
        let w = try weights(3)
        let H = out
        let kernel = try J.tensor(w[0], "\(path).weights[0]", shape: [width, 3 * H])
        let recurrent = try J.tensor(w[1], "\(path).weights[1]", shape: [H, 3 * H])
        if case .tensor(let s, _) = w[2], s == [3 * H] {
          throw .importFailed(
            "\(name): a GRU with one bias vector (Keras reset_after=False) is not supported; export with "
              + "reset_after=True (Keras' default), whose biases are [2][3H]")
        }
        let bias = try J.tensor(w[2], "\(path).weights[2]", shape: [2, 3 * H])
        // Keras gate blocks z, r, h (columns); PyTorch's rows r, z, n.
        func pytorch(_ m: [Float], rows: Int) -> [Float] {
          let t = J.transposed(m, rows: rows, cols: 3 * H)  // [3H][rows], blocks z, r, h
          let block = H * rows
          return Array(t[block..<(2 * block)] + t[0..<block] + t[(2 * block)...])
        }
        func reorder(_ v: ArraySlice<Float>) -> [Float] {
          let b = Array(v)
          return Array(b[H..<(2 * H)] + b[0..<H] + b[(2 * H)...])
        }
        let tensors = [
          pytorch(kernel, rows: width), pytorch(recurrent, rows: H), reorder(bias[0..<(3 * H)]),
          reorder(bias[(3 * H)...]),
        ]
        model.layers.append(
          (
            index, type,
            .recurrent(.gru, inputs: width, hidden: H, tensors: tensors, initialHidden: nil, initialCell: nil)
          ))
      case "lstm":
        let w = try weights(3)
        let H = out
        let kernel = try J.tensor(w[0], "\(path).weights[0]", shape: [width, 4 * H])
        let recurrent = try J.tensor(w[1], "\(path).weights[1]", shape: [H, 4 * H])
        let bias = try J.tensor(w[2], "\(path).weights[2]", shape: [4 * H])
        // Keras gates i, f, c, o are PyTorch's i, f, g, o; one bias, so bias_hh is zero.
        let tensors = [
          J.transposed(kernel, rows: width, cols: 4 * H), J.transposed(recurrent, rows: H, cols: 4 * H), bias,
          [Float](repeating: 0, count: 4 * H),
        ]
        model.layers.append(
          (
            index, type,
            .recurrent(.lstm, inputs: width, hidden: H, tensors: tensors, initialHidden: nil, initialCell: nil)
          ))
      case "activation":
        guard out == width else {
          throw .importFailed("\(name): shape says \(out) values, but \(width) flow into it")
        }
        model.layers.append((index, type, .activation(activation)))
      case "conv1d", "conv2d", "batchnorm", "batchnorm2d", "prelu":
        throw .importFailed(
          "\(name): \(type) layers are not supported (Recur runs dense, activation, gru and lstm layers)")
      default:
        throw .importFailed(
          "\(name): unknown layer type (Recur runs dense, time-distributed-dense, activation, gru and lstm)")
      }
      width = out
    }
    model.metadata = ImportJSON.metadata(root["metadata"], prefix: "metadata.")
    for key in ["name", "esr", "samplerate", "sample_rate", "version"] {
      if let value = root[key], let text = ImportJSON.scalarText(value) { model.metadata.append(.init(key, text)) }
    }
    // AIDA-X writes the sample rate as a string in "metadata".
    switch root["samplerate"] ?? root["sample_rate"] ?? root["metadata"]?["samplerate"] {
    case .number(let hz)? where hz > 0 && hz <= 1e7: model.sampleRate = Float(hz)
    case .string(let text)?: if let hz = Double(text), hz > 0 && hz <= 1e7 { model.sampleRate = Float(hz) }
    default: break
    }
    return model
  }

  /// A layer's "activation": empty or "linear" is none; otherwise one RTNeural runs.
  static func activation(_ value: JSONValue?, _ name: String) throws(TrainerError) -> Activation {
    guard let value else { return .none }
    guard case .string(let text) = value else { throw .importFailed("\(name): \"activation\" must be a string") }
    switch text {
    case "", "linear": return .none
    case "tanh": return .tanh
    case "sigmoid": return .sigmoid
    case "relu": return .relu
    case "elu": return .elu
    case "softmax": return .softmax
    default:
      throw .importFailed(
        "\(name): activation \"\(escapedText(text))\" is not supported (tanh, sigmoid, relu, elu, softmax, linear)")
    }
  }
}
