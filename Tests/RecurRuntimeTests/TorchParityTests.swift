// End-to-end parity with PyTorch: Fixtures/torch-parity holds nn.RNN + nn.Linear weights, inputs, PyTorch's outputs
// and the notebook's generate_sequence results, written by tools/pytorch/make_parity_fixtures.py (torch 2.13 CPU).

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct TorchParityTests {
  static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/torch-parity").standardized

  struct Fixture {
    let file: ModelFile
    let inputs: [Float]
    let outputs: [Double]
    let seed: [Float]
    let generated: [Double]
  }

  static func load(hidden: Int) throws -> Fixture {
    let data = try Data(contentsOf: directory.appendingPathComponent("rnn-h\(hidden).json"))
    let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let t = json["tensors"] as! [String: Any]
    func flat(_ key: String) -> [Float] {
      if let m = t[key] as? [[Double]] { return m.flatMap { $0 }.map(Float.init) }
      return (t[key] as! [Double]).map(Float.init)
    }
    let file = ModelFile(
      hiddenSize: hidden, contextLength: 5, encoding: .sequenceMaxScale, weightIH: flat("rnn.weight_ih_l0"),
      weightHH: flat("rnn.weight_hh_l0"), biasIH: flat("rnn.bias_ih_l0"), biasHH: flat("rnn.bias_hh_l0"),
      fcWeight: flat("fc.weight"), fcBias: flat("fc.bias"))
    let generate = json["generate"] as! [String: Any]
    return Fixture(
      file: file, inputs: (json["inputs"] as! [Double]).map(Float.init), outputs: json["outputs"] as! [Double],
      seed: (generate["seed"] as! [Double]).map(Float.init), generated: generate["values"] as! [Double])
  }

  /// Within 1e-5 relative of PyTorch (floor 0.1, the readout sums' scale: see CellTests).
  @Test(arguments: [1, 3, 16, 17, 32, 64])
  func outputsMatchPyTorch(hidden: Int) throws {
    let fixture = try Self.load(hidden: hidden)
    let model = RecurrentModel(fixture.file)
    let cell = RecurrentCell(model: model)
    var worst = 0.0
    for (x, expected) in zip(fixture.inputs, fixture.outputs) {
      worst = max(worst, relativeError(Double(cell.step(x)), expected, floor: 0.1))
    }
    #expect(fixture.inputs.count >= 400)
    #expect(worst <= 1e-5, "H=\(hidden): worst relative error vs PyTorch \(worst)")

    let predictor = SequencePredictor(model: model)
    var got = [Float](repeating: 0, count: fixture.generated.count)
    fixture.seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
    got.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    let scale = max(1, Double(fixture.seed.map(abs).max()!))
    let genWorst = zip(got, fixture.generated).map { relativeError(Double($0), $1, floor: 0.1 * scale) }.max()!
    #expect(genWorst <= 1e-5, "H=\(hidden): generate_sequence worst relative error vs PyTorch \(genWorst)")
    print("torch parity H=\(hidden): step \(worst), generate \(genWorst)")
  }
}

/// Every kind and depth against PyTorch: Fixtures/torch-parity/cells holds nn.RNN / nn.GRU / nn.LSTM stacks
/// (batch_first, 1-3 layers, I in {1, 3}, O in {1, 2}) followed by nn.Linear, their inputs (400 steps) and PyTorch's
/// float32 outputs, written by tools/pytorch/make_cell_parity_fixtures.py (torch 2.13 CPU).
@Suite struct CellTorchParityTests {
  static let directory = TorchParityTests.directory.appendingPathComponent("cells")

  static var names: [String] {
    ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
      .filter { $0.hasSuffix(".json") && !$0.hasPrefix("stacked-") }.sorted()
  }

  /// The fixture's tensors, flattened in the tensor table's order under the module name the kind gives.
  static func load(_ name: String) throws -> (file: ModelFile, inputs: [[Float]], outputs: [[Double]]) {
    let data = try Data(contentsOf: directory.appendingPathComponent(name))
    let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let kind = CellKind(name: json["kind"] as! String)!
    let architecture = Architecture(
      kind: kind, layers: json["layers"] as! Int, inputSize: json["input_size"] as! Int,
      hiddenSize: json["hidden_size"] as! Int, outputSize: json["output_size"] as! Int)
    let t = json["tensors"] as! [String: Any]
    #expect(t.count == architecture.tensors.count, "\(name): every key is a tensor of the table")
    let tensors = architecture.tensors.map { spec -> [Float] in
      let value = t[spec.name(kind)]!
      if let m = value as? [[Double]] { return m.flatMap { $0 }.map(Float.init) }
      return (value as! [Double]).map(Float.init)
    }
    let file = ModelFile(architecture: architecture, contextLength: 5, encoding: .identity, tensors: tensors)
    let inputs = (json["inputs"] as! [[Double]]).map { $0.map(Float.init) }
    return (file, inputs, json["outputs"] as! [[Double]])
  }

  /// Within 1e-5 relative of PyTorch's float32 outputs, floor 1 (the criterion), over all 400 steps; the
  /// worst error relative to a floor of 0.1 is printed too (CellTests' stricter measure).
  @Test(arguments: names)
  func outputsMatchPyTorch(name: String) throws {
    let (file, inputs, outputs) = try Self.load(name)
    let cell = RecurrentCell(model: RecurrentModel(file))
    var y = [Float](repeating: 0, count: file.outputSize)
    var worst = 0.0
    var worstTight = 0.0
    for (x, expected) in zip(inputs, outputs) {
      x.withUnsafeBufferPointer { xs in
        y.withUnsafeMutableBufferPointer { cell.step(xs.baseAddress!, into: $0.baseAddress!) }
      }
      for o in 0..<file.outputSize {
        worst = max(worst, relativeError(Double(y[o]), expected[o], floor: 1))
        worstTight = max(worstTight, relativeError(Double(y[o]), expected[o], floor: 0.1))
      }
    }
    #expect(inputs.count >= 400)
    #expect(worst <= 1e-5, "\(name): worst relative error vs PyTorch \(worst)")
    print("torch parity \(name): \(worst) (floor 1), \(worstTight) (floor 0.1)")
  }
}
