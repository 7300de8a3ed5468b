// Neural Amp Modeler `.nam` files with `"architecture": "LSTM"` (NeuralAmpModelerCore's NAM/lstm.cpp is the
// reference):
//   {"version", "architecture": "LSTM", "config": {"input_size", "hidden_size", "num_layers", "in_channels"?,
//    "out_channels"?}, "weights": [flat floats], "sample_rate"?, "metadata"?}
// The flat weights, per layer k (inputs I for k = 0, else H): W [4H][I + H] row-major over [x; h], gates i, f, g, o;
// b [4H]; the initial h [H]; the initial c [H]; then the head [out][H] row-major and its bias [out]. A step is
// PyTorch's LSTM with bias_ih = b and bias_hh = 0, starting from the stored h and c, and the output is
// head · h + bias. NAM's prewarm (running half a second of silence after a reset) is the plugin's habit, not part
// of the model: feeding zeros after a reset does the same.

import RecurRuntime

enum NAMImport {
  static func matches(_ root: JSONValue) -> Bool { root["architecture"] != nil && root["weights"] != nil }

  static func model(_ root: JSONValue) throws(TrainerError) -> ImportedModel {
    typealias J = ImportJSON
    let architecture = try J.string(try J.member(root, "architecture", "the .nam file"), "architecture")
    guard architecture == "LSTM" else {
      throw .importFailed(
        "architecture \"\(escapedText(architecture))\": only NAM's LSTM models are supported (WaveNet and ConvNet "
          + "are convolutional)")
    }
    let config = try J.member(root, "config", "the .nam file")
    let I = try J.integer(try J.member(config, "input_size", "config"), "config.input_size", in: 1...256)
    let H = try J.integer(try J.member(config, "hidden_size", "config"), "config.hidden_size", in: 1...1024)
    let L = try J.integer(
      try J.member(config, "num_layers", "config"), "config.num_layers", in: 1...Architecture.maxLayers)
    let inChannels = try J.integer(config["in_channels"] ?? .number(1), "config.in_channels", in: 1...256)
    let out = try J.integer(config["out_channels"] ?? .number(1), "config.out_channels", in: 1...256)
    guard inChannels == I else {
      throw .importFailed(
        "config.in_channels \(inChannels) differs from config.input_size \(I) (NAM leaves the other inputs at zero; "
          + "Recur needs them equal)")
    }
    let weightsValue = try J.member(root, "weights", "the .nam file")
    let (shape, raw) = try TorchState.flatten(weightsValue, key: "weights")
    guard shape.count == 1 else {
      throw .importFailed("weights: expected a flat array of numbers, found shape \(TorchState.describe(shape))")
    }
    var expected = 0
    for k in 0..<L { expected += 4 * H * ((k == 0 ? I : H) + H) + 4 * H + 2 * H }
    expected += out * H + out
    guard raw.count == expected else {
      throw .importFailed(
        "weights: \(raw.count) numbers, but an LSTM of \(L) layer\(L == 1 ? "" : "s"), input \(I), hidden \(H) and "
          + "\(out) output\(out == 1 ? "" : "s") has \(expected)")
    }
    let values = try J.floats(raw, "weights", shape: [raw.count])
    var cursor = 0
    func take(_ count: Int) -> [Float] {
      defer { cursor += count }
      return Array(values[cursor..<(cursor + count)])
    }
    var model = ImportedModel(inputSize: I, family: "nam")
    for k in 0..<L {
      let inputs = k == 0 ? I : H
      let w = take(4 * H * (inputs + H))  // [4H][inputs + H]
      var weightIH = [Float](repeating: 0, count: 4 * H * inputs)
      var weightHH = [Float](repeating: 0, count: 4 * H * H)
      for r in 0..<(4 * H) {
        for j in 0..<inputs { weightIH[r * inputs + j] = w[r * (inputs + H) + j] }
        for j in 0..<H { weightHH[r * H + j] = w[r * (inputs + H) + inputs + j] }
      }
      let bias = take(4 * H)
      let h0 = take(H)
      let c0 = take(H)
      model.layers.append(
        (
          k, "lstm",
          .recurrent(
            .lstm, inputs: inputs, hidden: H, tensors: [weightIH, weightHH, bias, [Float](repeating: 0, count: 4 * H)],
            initialHidden: h0, initialCell: c0)
        ))
    }
    let head = take(out * H)
    let headBias = take(out)
    model.layers.append((L, "head", .dense(DenseLayer(inputs: H, outputs: out), weight: head, bias: headBias)))
    if let rate = root["sample_rate"], case .number(let hz) = rate, hz > 0, hz.isFinite { model.sampleRate = Float(hz) }
    var metadata: [MetadataEntry] = []
    if let version = root["version"], let text = J.scalarText(version) { metadata.append(.init("nam.version", text)) }
    model.metadata = metadata + J.metadata(root["metadata"], prefix: "metadata.")
    return model
  }
}
