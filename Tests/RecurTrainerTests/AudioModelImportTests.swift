// `recur-train import` of the guitar-amp-modelling formats: every fixture in Fixtures/imports (written by
// tools/imports/make_import_fixtures.py, outputs from its float64 references, one per format) runs through the
// runtime within 2e-5 · max(1, max |reference|) under every plan; RTNeural's own test models against its CSVs
// when RTNEURAL_DIR points at an RTNeural checkout; and everything Recur cannot run exactly is refused in one line
// naming the layer.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("Audio model import")
struct AudioModelImportTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/imports").standardized

  static let models: [(file: String, format: ModelImport.Format)] = [
    ("guitarml-lstm8-skip.json", .guitarML), ("guitarml-gru12-cond.json", .guitarML),
    ("guitarml-lstm6-2layers.json", .guitarML), ("keras-dense-gru-dense.json", .keras),
    ("keras-lstm-activations.json", .keras), ("keras-dense-activation-layers.json", .keras),
    ("keras-lstm12-skip.json", .keras), ("nam-lstm-2layers.nam", .nam), ("nam-lstm16.nam", .nam),
  ]

  /// Rows of whitespace-separated numbers.
  static func rows(_ url: URL) throws -> [[Double]] {
    try String(contentsOf: url, encoding: .utf8).split(separator: "\n").map { line in
      line.split(separator: " ").map { Double($0)! }
    }
  }

  static func importing(_ text: String) throws(TrainerError) -> ModelFile {
    try ModelImport.modelFile(json: Array(text.utf8)).file
  }

  /// Worst |y − reference| / max(1, max |reference|) of `file` run over `inputs` from its initial state.
  static func worstError(_ file: ModelFile, cpu: CPUDescription, inputs: [[Double]], expected: [[Double]]) -> Double {
    let cell = RecurrentCell(model: RecurrentModel(file, cpu: cpu))
    let scale = max(1, expected.joined().map(abs).max()!)
    var y = [Float](repeating: 0, count: file.outputSize)
    var worst = 0.0
    for (x, reference) in zip(inputs, expected) {
      let xs = x.map { Float($0) }
      xs.withUnsafeBufferPointer { cell.step($0.baseAddress!, into: &y) }
      for o in 0..<reference.count { worst = max(worst, abs(Double(y[o]) - reference[o]) / scale) }
    }
    return worst
  }

  @Test(arguments: models)
  func importedModelsMatchTheirFormatsReference(model: (file: String, format: ModelImport.Format)) throws {
    let url = Self.fixtures.appendingPathComponent(model.file)
    let (file, format) = try ModelImport.modelFile(json: [UInt8](try Data(contentsOf: url)))
    #expect(format == model.format)
    #expect(file.formatVersion == 5 && file.encoding == .identity)
    let stem = url.deletingPathExtension().path
    let inputs = try Self.rows(URL(fileURLWithPath: stem + ".input.txt"))
    let expected = try Self.rows(URL(fileURLWithPath: stem + ".expected.txt"))
    #expect(inputs.count == 2048 && expected.count == 2048)
    for cpu in [CPUDescription.portable, .avx2, .avx512] {
      let worst = Self.worstError(file, cpu: cpu, inputs: inputs, expected: expected)
      #expect(worst <= 2e-5, "\(model.file) on \(cpu): worst error \(worst)")
    }
    // The file round-trips, and what it says about itself survives.
    let decoded = try ModelFile(bytes: file.encoded())
    #expect(decoded.architecture == file.architecture && decoded.metadata == file.metadata)
  }

  @Test func sourceDetailsTravelInTheFile() throws {
    let nam = try ModelImport.modelFile(
      json: [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("nam-lstm-2layers.nam")))
    ).file
    #expect(nam.provenance.family == "nam" && nam.sampleRate == 48000)
    #expect(nam.architecture.learnedInitialState && nam.architecture.layers == 2)
    #expect(nam.metadata.contains(MetadataEntry("metadata.loudness", "-18.25")))
    let aida = try ModelImport.modelFile(
      json: [UInt8](try Data(contentsOf: Self.fixtures.appendingPathComponent("keras-lstm12-skip.json")))
    ).file
    #expect(aida.provenance.family == "rtneural-keras" && aida.architecture.inputSkip == 1)
    #expect(aida.metadata.contains { $0.key == "metadata.esr" })
  }

  /// RTNeural's own models and vectors (`models/`, `test_data/` of a checkout of jatinchowdhury18/RTNeural; not
  /// copied into this repository). Run with `RTNEURAL_DIR=/path/to/RTNeural swift test --filter AudioModelImport`.
  @Test(.enabled(if: ProcessInfo.processInfo.environment["RTNEURAL_DIR"] != nil))
  func rtneuralTestModelsMatchTheirVectors() throws {
    let root = URL(fileURLWithPath: ProcessInfo.processInfo.environment["RTNEURAL_DIR"]!)
    func column(_ name: String) throws -> [[Double]] {
      try String(contentsOf: root.appendingPathComponent("test_data/\(name)"), encoding: .utf8)
        .split(whereSeparator: \.isNewline).map { [Double(Float(Double($0)!))] }  // Keras ran on float32 inputs
    }
    for name in ["gru", "gru_1d", "lstm", "lstm_1d", "gru_torch", "lstm_torch"] {
      let json = [UInt8](try Data(contentsOf: root.appendingPathComponent("models/\(name).json")))
      let file = try ModelImport.modelFile(json: json).file
      let worst = Self.worstError(
        file, cpu: .portable, inputs: try column("\(name)_x_python.csv"), expected: try column("\(name)_y_python.csv"))
      #expect(worst <= 2e-5, "RTNeural \(name): worst error \(worst)")
    }
    // dense.json has no recurrent layer; bad_lstm.json declares 16 units but holds weights for 20.
    for (name, message) in [
      ("dense", "no recurrent layer"), ("bad_lstm", "layers[0].weights[0]: expected shape [1, 64], found [1, 80]"),
    ] {
      let json = [UInt8](try Data(contentsOf: root.appendingPathComponent("models/\(name).json")))
      do {
        _ = try ModelImport.modelFile(json: json)
        Issue.record("RTNeural \(name) was accepted")
      } catch {
        #expect(error.description.contains(message), "\(error)")
      }
    }
  }

  /// Everything Recur cannot run exactly, and malformed files: one line naming the layer or field.
  @Test func unsupportedAndMalformedModelsAreRefusedByName() {
    let lstm1 =
      #"{"type": "lstm", "activation": "", "shape": [null, null, 1], "weights": [[[0,0,0,0]], [[0,0,0,0]], [0,0,0,0]]}"#
    let dense11 = #"{"type": "dense", "activation": "", "shape": [null, null, 1], "weights": [[[1]], [0]]}"#
    let cases: [(json: String, message: String)] = [
      (
        #"{"in_shape": [null, null, 1], "layers": [{"type": "conv1d", "shape": [1], "weights": []}]}"#,
        "layer 0 (conv1d)"
      ),
      (
        #"{"in_shape": [null, null, 1], "layers": [\#(lstm1), {"type": "prelu", "shape": [1], "weights": [[1]]}]}"#,
        "layer 1 (prelu)"
      ),
      (#"{"in_shape": [null, null, 1], "layers": [\#(dense11)]}"#, "no recurrent layer"),
      (
        #"{"in_shape": [null, null, 1], "layers": [\#(lstm1), \#(dense11), \#(lstm1)]}"#,
        "layer 2 (lstm): a second recurrent stack"
      ),
      (
        #"{"in_shape": [null, null, 1], "layers": [{"type": "gru", "shape": [1], "weights": [[[0,0,0]], [[0,0,0]], [0,0,0]]}]}"#,
        "reset_after=False"
      ),
      (
        #"{"in_shape": [null, null, 1], "layers": [{"type": "lstm", "activation": "hard_sigmoid", "shape": [1], "weights": []}]}"#,
        "layer 0 (lstm): activation \"hard_sigmoid\""
      ),
      (
        #"{"in_shape": [null, null, 1], "layers": [{"type": "lstm", "shape": [2], "weights": [[[0,0,0,0]], [[0,0,0,0]], [0,0,0,0]]}]}"#,
        "layers[0].weights[0]: expected shape [1, 8], found [1, 4]"
      ),
      (
        #"{"in_shape": [null, null, 1], "layers": [{"type": "lstm", "shape": [1], "weights": [[[1e39,0,0,0]], [[0,0,0,0]], [0,0,0,0]]}]}"#,
        "layers[0].weights[0][0][0]: 1e+39 overflows float32"
      ),
      (#"{"in_shape": [null, null, 1], "in_skip": 2, "layers": [\#(lstm1)]}"#, "in_skip: expected an integer in 0...1"),
      (
        #"{"in_shape": [null, null, 1], "layers": [{"type": "swish", "shape": [1], "weights": []}]}"#,
        "layer 0 (swish): unknown layer type"
      ),
      (#"{"architecture": "WaveNet", "config": {}, "weights": [0]}"#, "only NAM's LSTM models"),
      (
        #"{"architecture": "LSTM", "config": {"input_size": 1, "hidden_size": 2, "num_layers": 1}, "weights": [0, 1]}"#,
        "weights: 2 numbers, but an LSTM of 1 layer, input 1, hidden 2 and 1 output has 39"
      ),
      (
        #"{"model_data": {"unit_type": "Transformer", "input_size": 1, "hidden_size": 1}, "state_dict": {}}"#,
        "model_data.unit_type"
      ),
      (
        #"{"model_data": {"unit_type": "LSTM", "input_size": 1, "hidden_size": 1}, "state_dict": {}}"#,
        "state_dict: missing \"rec.weight_ih_l0\""
      ),
      (
        #"{"model_data": {"model": "RecNet", "unit_type": "LSTM", "input_size": 1, "hidden_size": 1}, "state_dict": {}}"#,
        "model_data.model: \"RecNet\""
      ),
      (
        #"{"model_data": {"unit_type": "GRU", "input_size": 1, "hidden_size": 1, "skip": 2}, "state_dict": {}}"#,
        "model_data.skip"
      ),
    ]
    for c in cases {
      do {
        _ = try Self.importing(c.json)
        Issue.record("accepted: \(c.json)")
      } catch {
        #expect(error.description.contains(c.message), "expected \(c.message), got: \(error)")
        #expect(!error.description.contains("\n"), "one line: \(error)")
      }
    }
    // GuitarML: a tensor the model does not use.
    let url = Self.fixtures.appendingPathComponent("guitarml-lstm8-skip.json")
    var text = (try? String(contentsOf: url, encoding: .utf8)) ?? ""
    text = text.replacingOccurrences(of: "\"state_dict\": {", with: "\"state_dict\": {\"extra.weight\": [1], ")
    #expect(
      throws: TrainerError.importFailed(
        "state_dict: unused tensor \"extra.weight\" (a SimpleRNN has rec.* for 1 layer and lin.*)")
    ) {
      try Self.importing(text)
    }
  }
}
