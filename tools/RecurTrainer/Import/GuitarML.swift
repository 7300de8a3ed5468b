// Automated-GuitarAmpModelling / GuitarML (Proteus, NeuralPi, SmartAmpPro, Chameleon) model files:
//   {"model_data": {"model": "SimpleRNN", "unit_type": "LSTM" | "GRU" | "RNN", "input_size": I, "hidden_size": H,
//                   "num_layers": L, "output_size": O, "skip": k, "bias_fl": true | false},
//    "state_dict": {"rec.weight_ih_l0": [[...]], ..., "lin.weight": [[...]], "lin.bias": [...]}}
// `SimpleRNN.forward` is `lin(rec(x)) + x[..., 0:skip]` (a residual of the first `skip` inputs); inputs after the
// first are conditioning values (knobs). The state dict is PyTorch's, so the layouts are the runtime's own.

import RecurIO
import RecurRuntime

enum GuitarMLImport {
  /// True when the document looks like this format (what `recur-train import` detects).
  static func matches(_ root: JSONValue) -> Bool { root["model_data"] != nil && root["state_dict"] != nil }

  static func model(_ root: JSONValue) throws(TrainerError) -> ImportedModel {
    typealias J = ImportJSON
    let data = try J.member(root, "model_data", "model_data")
    if case .string(let name)? = data["model"], name != "SimpleRNN" {
      throw .importFailed("model_data.model: \"\(escapedText(name))\" is not supported (only SimpleRNN)")
    }
    let unit = try J.string(try J.member(data, "unit_type", "model_data"), "model_data.unit_type")
    let kind: CellKind
    switch unit.uppercased() {
    case "LSTM": kind = .lstm
    case "GRU": kind = .gru
    case "RNN": kind = .rnn
    default: throw .importFailed("model_data.unit_type: \"\(escapedText(unit))\" is not LSTM, GRU or RNN")
    }
    let I = try J.integer(try J.member(data, "input_size", "model_data"), "model_data.input_size", in: 1...256)
    let H = try J.integer(try J.member(data, "hidden_size", "model_data"), "model_data.hidden_size", in: 1...1024)
    let L = try J.integer(
      data["num_layers"] ?? .number(1), "model_data.num_layers", in: 1...Architecture.maxLayers)
    let O = try J.integer(data["output_size"] ?? .number(1), "model_data.output_size", in: 1...256)
    let skip = try J.integer(data["skip"] ?? .number(0), "model_data.skip", in: 0...min(I, O))
    let bias: Bool
    switch data["bias_fl"] ?? .bool(true) {
    case .bool(let b): bias = b
    case .number(let x) where x == 0 || x == 1: bias = x == 1
    default: throw .importFailed("model_data.bias_fl: expected true or false")
    }
    let state = try J.member(root, "state_dict", "state_dict")
    guard case .object(let members) = state else { throw .importFailed("state_dict: expected an object") }

    var model = ImportedModel(inputSize: I, family: "guitarml")
    var used = Set<String>()
    func tensor(_ key: String, _ shape: [Int]) throws(TrainerError) -> [Float] {
      guard let value = state[key] else {
        throw .importFailed("state_dict: missing \"\(key)\" (a \(unit) of \(L) layer\(L == 1 ? "" : "s"), hidden \(H))")
      }
      used.insert(key)
      return try J.tensor(value, "state_dict.\(key)", shape: shape)
    }
    let G = kind.gates
    for k in 0..<L {
      let inputs = k == 0 ? I : H
      let tensors = [
        try tensor("rec.weight_ih_l\(k)", [G * H, inputs]), try tensor("rec.weight_hh_l\(k)", [G * H, H]),
        try tensor("rec.bias_ih_l\(k)", [G * H]), try tensor("rec.bias_hh_l\(k)", [G * H]),
      ]
      model.layers.append(
        (
          k, unit.lowercased(),
          .recurrent(kind, inputs: inputs, hidden: H, tensors: tensors, initialHidden: nil, initialCell: nil)
        ))
    }
    let weight = try tensor("lin.weight", [O, H])
    let linBias = bias ? try tensor("lin.bias", [O]) : [Float](repeating: 0, count: O)
    model.layers.append((L, "linear", .dense(DenseLayer(inputs: H, outputs: O), weight: weight, bias: linBias)))
    model.skip = skip
    for (key, _) in members where !used.contains(key) {
      throw .importFailed(
        "state_dict: unused tensor \"\(escapedText(key))\" (a SimpleRNN has rec.* for \(L) layer\(L == 1 ? "" : "s") and lin.*"
          + (bias ? "" : " without lin.bias: bias_fl is false") + ")")
    }
    model.metadata =
      [
        MetadataEntry("source", "Automated-GuitarAmpModelling SimpleRNN"), MetadataEntry("unit_type", unit),
      ] + ImportJSON.metadata(root["metadata"], prefix: "metadata.")
    if let rate = root["samplerate"] ?? root["sample_rate"] ?? data["samplerate"], case .number(let hz) = rate, hz > 0,
      hz.isFinite
    {
      model.sampleRate = Float(hz)
    }
    return model
  }
}

/// A source string for a one-line message: control characters and quotes escaped.
func escapedText(_ s: String) -> String { String(jsonString(s).dropFirst().dropLast()) }
