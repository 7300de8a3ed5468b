// `recur` and `recur-train` with a mixture-readout model (format version 4): inspect (text and JSON), the JSON read
// back by `recur-train import-torch`, stream and generate against the library, `--raw` refused, and `recur-train
// train --experts` end to end and refusing what it cannot train.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@testable import recur

@Suite(.serialized) struct MixtureCLITests {

  /// GRU hidden 8, 5 experts of order 2, window 4; readout weights scaled up so the softmax is not uniform.
  static let mixture: ModelFile = {
    var file = stackModel(
      Architecture(kind: .gru, layers: 1, hiddenSize: 8, experts: 5, expertOrder: 2), seed: 3,
      encoding: .windowDifferences)
    file.setTensor(.fcWeight, to: file.tensor(.fcWeight).map { $0 * 20 })
    file.setTensor(.experts, to: [1, 1, -1, 2, 0, 1, 0.5, 0.5, -2, 3])
    return file
  }()
  static let path = try! CLI.writeModel(mixture, name: "mixture-gru-5x2.recur")

  @Test func inspectNamesTheMixture() throws {
    let text = try CLI.run(["inspect", "--model", Self.path], stdin: "")
    #expect(text.status == 0, "\(text.stderr)")
    #expect(text.stdout.contains("Recur model file v4"), "\(text.stdout)")
    #expect(text.stdout.contains("a mixture of 5 linear experts of order 2"), "\(text.stdout)")
    let json = try CLI.run(["inspect", "--model", Self.path, "--json"], stdin: "")
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
    #expect(object["format_version"] as? Int == 4)
    #expect(object["experts"] as? Int == 5 && object["expert_order"] as? Int == 2)
    let tensors = object["tensors"] as! [String: Any]
    let experts = tensors["experts.weight"] as! [[Double]]
    #expect(experts.count == 5 && experts.allSatisfy { $0.count == 2 })
    #expect((tensors["fc.weight"] as! [[Double]]).count == 5, "fc has one row per expert")
    // The JSON goes back into a model file with the same sizes and weights.
    let jsonPath = CLI.temporaryDirectory.appendingPathComponent("mixture.json")
    try Data(json.stdout.utf8).write(to: jsonPath)
    let back = CLI.temporaryDirectory.appendingPathComponent("mixture-back.recur").path
    let imported = try CLI.run(
      ["import-torch", jsonPath.path, "--window", "4", "-o", back], input: Data(), executable: CLI.recurTrain)
    #expect(imported.status == 0, "\(imported.stderr)")
    let reread = try ModelFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: back))))
    #expect(reread.architecture == Self.mixture.architecture)
    #expect(reread.encoding == .windowDifferences)
    #expect(reread.tensorValues == Self.mixture.tensorValues)
  }

  @Test func streamAndGenerateAreTheLibrarys() throws {
    let predictor = SequencePredictor(model: RecurrentModel(Self.mixture))
    let values: [Float] = [3, 5, 8, 13, 21, 34, -7, 0.5]
    let expected = values.map { shortest(predictor.observe($0)) }
    let stream = try CLI.run(["stream", "--model", Self.path], stdin: values.map { "\($0)" }.joined(separator: " "))
    #expect(stream.status == 0, "\(stream.stderr)")
    #expect(stream.stdout.split(separator: "\n").map(String.init) == expected)
    // Named streams run one predictor per stream, interleaved: each stream gets its own answers.
    let named = try CLI.run(
      ["stream", "--streams", "--model", Self.path], stdin: values.map { "a \($0)\nb \($0)" }.joined(separator: "\n"))
    #expect(named.status == 0, "\(named.stderr)")
    #expect(named.stdout.split(separator: "\n").count == 2 * values.count)
    #expect(named.stdout.contains("a \(expected.last!)") && named.stdout.contains("b \(expected.last!)"))

    let seed: [Float] = [1, 2, 4, 8, 16]
    var out = [Float](repeating: 0, count: 6)
    seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
    out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
    let generated = try CLI.run(
      ["generate", "--model", Self.path, "--steps", "6", "1", "2", "4", "8", "16"], stdin: "")
    #expect(generated.status == 0, "\(generated.stderr)")
    #expect(generated.stdout == out.map(shortest).joined(separator: " ") + "\n")
  }

  @Test func rawIsRefusedInOneLine() throws {
    for flags in [["stream", "--raw"], ["stream", "--raw", "--streams"]] {
      let result = try CLI.run(flags + ["--model", Self.path], stdin: "1 2 3\n")
      #expect(result.status != 0)
      #expect(result.stdout.isEmpty)
      #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      #expect(result.stderr.contains("mixture readout") && result.stderr.contains("drop --raw"), "\(result.stderr)")
    }
  }

  /// A short mixture run writes a version-4 model whose stored validation `recur` reproduces, and the flags it
  /// cannot honour are refused before any work (exit 2, one line, nothing written).
  @Test func trainWritesAMixtureAndRefusesWhatItCannotTrain() throws {
    let out = CLI.temporaryDirectory.appendingPathComponent("trained-mixture.recur").path
    let run = try CLI.run(
      [
        "train", "--family", "fib", "--encoding", "window-differences", "--window", "4", "--cell", "gru",
        "--hidden", "8", "--experts", "4", "--epochs", "2", "--sequences", "200", "--polish-experts", "0.5",
        "-o", out,
      ], input: Data(), executable: CLI.recurTrain)
    #expect(run.status == 0, "\(run.stderr)")
    #expect(run.stdout.contains("4 experts of order 2"), "\(run.stdout)")
    #expect(run.stdout.contains(", experts polished within 0.5\n"), "\(run.stdout)")
    #expect(run.stdout.contains("\nPolished the experts by least squares on "), "\(run.stdout)")
    let file = try ModelFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
    #expect(file.formatVersion == 4 && file.architecture.experts == 4 && file.architecture.expertOrder == 2)
    // A warm start from it may repeat the mixture's flags (they are checked against the model, not the family's
    // plain default), and may not change them.
    let more = CLI.temporaryDirectory.appendingPathComponent("more-mixture.recur").path
    let again = try CLI.run(
      [
        "train", "--family", "fib", "--init", out, "--experts", "4", "--expert-order", "2", "--epochs", "1",
        "--sequences", "100", "-o", more,
      ], input: Data(), executable: CLI.recurTrain)
    #expect(again.status == 0, "\(again.stderr)")
    let changed = try CLI.run(
      ["train", "--family", "fib", "--init", out, "--expert-order", "1", "--epochs", "1", "-o", more], input: Data(),
      executable: CLI.recurTrain)
    #expect(
      changed.status == 2 && changed.stderr.contains("--expert-order 1 does not match --init"), "\(changed.stderr)")

    let refused: [([String], String)] = [
      (["--experts", "4"], "--experts 4 needs --encoding window-differences"),
      (["--experts", "300", "--encoding", "window-differences"], "--experts 300 is out of range 0...256"),
      (
        ["--experts", "4", "--encoding", "window-differences", "--window", "3", "--expert-order", "4"],
        "--expert-order 4 is out of range 1...3 (the window)"
      ),
      (["--experts", "-1", "--encoding", "window-differences"], "--experts -1 is out of range 0...256"),
      (["--slow-root-starts", "0.3"], "--slow-root-starts 0.3 needs --family linear2"),
      (["--polish-experts", "1e-5"], "--polish-experts 1e-05 needs a mixture readout"),
      (
        ["--polish-experts", "abc", "--experts", "4", "--encoding", "window-differences"],
        "--polish-experts"
      ),
      (
        ["--polish-experts", "2", "--experts", "4", "--encoding", "window-differences"],
        "--polish-experts 2.0 is out of range 0...1"
      ),
    ]
    for (flags, message) in refused {
      let bad = CLI.temporaryDirectory.appendingPathComponent("refused.recur").path
      let result = try CLI.run(
        ["train", "--family", "odd", "--epochs", "1", "-o", bad] + flags, input: Data(), executable: CLI.recurTrain)
      #expect(result.status == 2, "\(flags): \(result.stderr)")
      #expect(result.stderr.contains(message), "\(flags): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: bad))
    }
  }
}
