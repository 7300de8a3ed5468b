// import-torch for every cell kind and depth: the kind from the shapes, the depth from the suffixes, stacked modules,
// strictness (every key used or an error naming it), and exact round trips with `recur inspect --json`'s names.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("PyTorch import of stacks")
struct StackImportTests {
  static let cells = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/torch-parity/cells").standardized

  static func importing(_ json: String, encoding: Encoding? = nil) throws(TrainerError) -> ModelFile {
    try TorchState.modelFile(json: Array(json.utf8), window: 5, encoding: encoding)
  }

  static func failure(_ json: String) -> String {
    do {
      _ = try importing(json)
      return "no error"
    } catch {
      return error.description
    }
  }

  /// A random model of `a` as `TorchState.json` writes it.
  static func model(_ a: Architecture, seed: UInt64) throws -> ModelFile {
    let rng = try GSLRandom(seed: seed)
    let tensors = a.tensors.map { spec in (0..<spec.count).map { _ in Float(rng.flat(-0.5, 0.5)) } }
    return ModelFile(architecture: a, contextLength: 5, encoding: .identity, tensors: tensors)
  }

  @Test(arguments: CellKind.allCases)
  func kindDepthAndSizesComeFromTheStateDict(kind: CellKind) throws {
    for layers in [1, 3] {
      let a = Architecture(kind: kind, layers: layers, inputSize: 3, hiddenSize: 5, outputSize: 2)
      let original = try Self.model(a, seed: UInt64(layers))
      let imported = try Self.importing(TorchState.json(for: original))
      #expect(imported.architecture == a)
      #expect(imported.encoding == .identity, "several inputs: identity by default")
      for (x, y) in zip(imported.tensorValues, original.tensorValues) {
        #expect(x.map(\.bitPattern) == y.map(\.bitPattern))
      }
    }
    let univariate = try Self.importing(
      TorchState.json(for: try Self.model(Architecture(kind: kind, hiddenSize: 4), seed: 9)))
    #expect(univariate.encoding == .sequenceMaxScale, "one input and output: the notebook's encoding by default")
  }

  /// Two modules applied one after the other (`self.gru = nn.GRU(1, 8)`, `self.gru2 = nn.GRU(8, 8, num_layers=3)`)
  /// import as one 4-layer stack whose outputs match PyTorch's on the fixture's 50 steps.
  @Test func stackedModulesImportAsOneDeeperStack() throws {
    let data = try Data(contentsOf: Self.cells.appendingPathComponent("stacked-modules-gru.json"))
    let file = try TorchState.modelFile(json: [UInt8](data), window: 5, encoding: .identity)
    #expect(file.architecture == Architecture(kind: .gru, layers: 4, inputSize: 1, hiddenSize: 8, outputSize: 1))
    let json = try JSONSerialization.jsonObject(with: data) as! [String: Any]
    let inputs = json["inputs"] as! [[Double]]
    let outputs = json["outputs"] as! [[Double]]
    let cell = RecurrentCell(model: RecurrentModel(file))
    var worst = 0.0
    for (x, y) in zip(inputs, outputs) {
      let got = Double(cell.step(Float(x[0])))
      worst = max(worst, abs(got - y[0]) / max(abs(y[0]), 1))
    }
    #expect(inputs.count == 50)
    #expect(worst <= 1e-5, "worst relative error vs PyTorch \(worst)")
  }

  @Test func everyUnsupportedOrLeftoverKeyIsAnErrorNamingIt() throws {
    let a = Architecture(kind: .lstm, layers: 2, inputSize: 1, hiddenSize: 2, outputSize: 1)
    let base = TorchState.json(for: try Self.model(a, seed: 4))
    func adding(_ entry: String) -> String { base.replacingOccurrences(of: "{\n", with: "{\n  \(entry),\n") }
    #expect(
      Self.failure(adding("\"lstm.weight_ih_l0_reverse\": [[1]]"))
        .hasPrefix("'lstm.weight_ih_l0_reverse': bidirectional recurrent modules are not supported"))
    #expect(
      Self.failure(adding("\"lstm.weight_hr_l0\": [[1, 2]]"))
        == "'lstm.weight_hr_l0': LSTM projections (proj_size > 0) are not supported")
    #expect(Self.failure(adding("\"norm.running_mean\": [1, 2]")).hasPrefix("unused tensor 'norm.running_mean'"))
    #expect(
      Self.failure(adding("\"head.weight\": [[1, 2]], \"head.bias\": [0]")).hasPrefix("unused tensor 'fc.weight'"))
    // bias=False: the bias keys are missing.
    let noBias = base.split(separator: "\n").filter { !$0.contains("bias_ih_l1") }.joined(separator: "\n")
      .replacingOccurrences(of: "],\n}", with: "]\n}")
    #expect(
      Self.failure(noBias) == "missing tensor 'lstm.bias_ih_l1' (modules built with bias=False are not supported)")
    // A dropped layer's weight left behind is noticed (a known peer silently ignored every layer after the first).
    let gap = base.replacingOccurrences(of: "lstm.weight_ih_l1", with: "lstm.weight_ih_l2")
    #expect(Self.failure(gap) == "missing tensor 'lstm.weight_ih_l1'")
    // Mixed kinds or sizes do not chain.
    let gruFirst = TorchState.json(for: try Self.model(Architecture(kind: .gru, hiddenSize: 2), seed: 5))
      .replacingOccurrences(of: "\"fc.weight\"", with: "\"x.weight\"").replacingOccurrences(
        of: "\"fc.bias\"", with: "\"x.bias\""
      )
      .replacingOccurrences(of: "\n}\n", with: ",\n")
    let mixed = gruFirst + String(base.dropFirst(2)).replacingOccurrences(of: "lstm.", with: "rnn2.")
    #expect(Self.failure(mixed).hasPrefix("rnn2.weight_ih_l0: expected shape [6, 2]"))
  }

  /// `recur inspect --json` writes the names and shapes import-torch reads: the round trip is exact for every kind.
  @Test(arguments: CellKind.allCases)
  func inspectJSONRoundTripIsExact(kind: CellKind) throws {
    let a = Architecture(kind: kind, layers: 2, inputSize: 2, hiddenSize: 3, outputSize: 2)
    var original = try Self.model(a, seed: 7)
    original.tensorValues[0][0] = .leastNonzeroMagnitude
    original.tensorValues[1][1] = -.greatestFiniteMagnitude
    let dir = try makeTemporaryDirectory()
    let path = dir.appendingPathComponent("m.recur").path
    try Data(original.encoded()).write(to: URL(fileURLWithPath: path))
    let result = try ChildProcess.run(Products.path("recur"), ["inspect", "--model", path, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let json = result.stdoutBytes
    let back = try TorchState.modelFile(json: [UInt8](json), window: 5, encoding: .identity)
    #expect(back.architecture == a)
    for (x, y) in zip(back.tensorValues, original.tensorValues) { #expect(x.map(\.bitPattern) == y.map(\.bitPattern)) }
  }

  /// A mixture readout's state: `experts.weight` anywhere among the keys (it is never taken for the readout), its
  /// rows matching fc's; the window bounds its order; experts with a bias and no fc is no readout at all.
  @Test func mixtureStateImportsWhateverTheKeyOrder() throws {
    let a = Architecture(kind: .gru, hiddenSize: 2, experts: 3, expertOrder: 2)
    let original = try Self.model(a, seed: 4)
    let body = TorchState.json(for: original)
    // Move experts.weight to the front of the object.
    var members = body.split(separator: "\n").map(String.init).filter { $0.hasPrefix("  \"") }
    members = members.map { $0.hasSuffix(",") ? String($0.dropLast()) : $0 }
    let expertsMember = members.first { $0.contains("\"experts.weight\"") }!
    members = [expertsMember] + members.filter { $0 != expertsMember }
    let reordered = "{\n" + members.joined(separator: ",\n") + "\n}\n"
    #expect(reordered.firstRange(of: "experts.weight")!.lowerBound < reordered.firstRange(of: "fc.weight")!.lowerBound)
    let back = try Self.importing(reordered)
    #expect(back.architecture == a && back.encoding == .windowDifferences)
    #expect(back.tensorValues == original.tensorValues)
    #expect(Self.failure(reordered.replacingOccurrences(of: "\"fc.", with: "\"head.")) == "no error")
    let experts =
      "{\"gru.weight_ih_l0\": [[1],[1],[1],[1],[1],[1]], \"gru.weight_hh_l0\": [[1,1],[1,1],[1,1],[1,1],[1,1],[1,1]], "
      + "\"gru.bias_ih_l0\": [0,0,0,0,0,0], \"gru.bias_hh_l0\": [0,0,0,0,0,0], "
      + "\"experts.weight\": [[1,2],[3,4]], \"experts.bias\": [0,0]}"
    #expect(Self.failure(experts).contains("no readout found"), "\(Self.failure(experts))")
    let wide = try Self.model(Architecture(kind: .gru, hiddenSize: 2, experts: 3, expertOrder: 5), seed: 4)
    do {
      _ = try TorchState.modelFile(json: Array(TorchState.json(for: wide).utf8), window: 4)
      Issue.record("an order above the window was accepted")
    } catch {
      #expect(error.description.contains("m in 1...4 (--window)"), "\(error)")
    }
  }
}
