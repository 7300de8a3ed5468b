// Imported amp models through the command line, as a user runs them: `recur-train import`, then `recur stream`
// (one line of inputs per sample, the skip included) against the format's float64 reference (Fixtures/imports),
// `stream --streams` against plain `stream`, `golden record` + `golden check`, `inspect`, and `import`'s errors.

import Foundation
import RecurTestSupport
import Testing

@Suite struct ImportedModelCLITests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/imports").standardized

  /// `recur-train import FIXTURE -o MODEL`; the model's path.
  static func imported(_ fixture: String) throws -> String {
    // A path of its own per call: tests run in parallel and several import the same fixture.
    let model = CLI.temporaryDirectory.appendingPathComponent("\(fixture)-\(UUID().uuidString).recur").path
    let result = try CLI.run(
      ["import", fixtures.appendingPathComponent(fixture).path, "-o", model], executable: CLI.recurTrain)
    #expect(result.status == 0, "\(result.stderr)")
    return model
  }

  @Test(arguments: ["guitarml-gru12-cond.json", "keras-lstm-activations.json", "nam-lstm-2layers.nam"])
  func streamFollowsTheReference(fixture: String) throws {
    let model = try Self.imported(fixture)
    let stem = Self.fixtures.appendingPathComponent(fixture).deletingPathExtension().path
    let input = try String(contentsOfFile: stem + ".input.txt", encoding: .utf8)
    let expected = try String(contentsOfFile: stem + ".expected.txt", encoding: .utf8).split(separator: "\n")
    let result = try CLI.run(["stream", "--model", model], stdin: input)
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == expected.count)
    let reference: [[Float]] = expected.map { floats($0) }
    let largest: Float = reference.joined().map { abs($0) }.max()!
    let scale = max(1, largest)
    var worst: Float = 0
    for (line, want) in zip(lines, reference) {
      for (a, b) in zip(floats(line), want) { worst = max(worst, abs(a - b) / scale) }
    }
    #expect(worst <= 2e-5, "\(fixture): worst error \(worst)")

    // Named streams: two interleaved copies of the input, each answering as plain `stream` does.
    let steps = input.split(separator: "\n").prefix(300)
    let named = steps.map { "a \($0)\nb \($0)" }.joined(separator: "\n") + "\n"
    let streams = try CLI.run(["stream", "--model", model, "--streams"], stdin: named)
    #expect(streams.status == 0, "\(streams.stderr)")
    let answers = streams.stdout.split(separator: "\n")
    let a = answers.filter { $0.hasPrefix("a ") }.map { $0.dropFirst(2) }
    let b = answers.filter { $0.hasPrefix("b ") }.map { $0.dropFirst(2) }
    #expect(Array(a) == Array(lines.prefix(300)) && Array(b) == Array(lines.prefix(300)))
  }

  @Test func goldenRecordAndCheckAnImportedModel() throws {
    let model = try Self.imported("nam-lstm16.nam")
    let stem = Self.fixtures.appendingPathComponent("nam-lstm16").path
    let inputs = CLI.temporaryDirectory.appendingPathComponent("nam-inputs.txt")
    let steps = try String(contentsOfFile: stem + ".input.txt", encoding: .utf8).split(separator: "\n").prefix(500)
    try (steps.joined(separator: "\n") + "\n").write(to: inputs, atomically: true, encoding: .utf8)
    let directory = CLI.temporaryDirectory.appendingPathComponent("golden-nam").path
    try? FileManager.default.removeItem(atPath: directory)
    let record = try CLI.run(["golden", "record", "--model", model, "--inputs", inputs.path, "-o", directory])
    #expect(record.status == 0, "\(record.stderr)")
    let check = try CLI.run(["golden", "check", directory])
    #expect(check.status == 0 && check.stdout.contains("all within"), "\(check.stdout)\(check.stderr)")
    // Another model fails the check.
    let other = try Self.imported("keras-lstm12-skip.json")
    let wrong = try CLI.run(["golden", "check", directory, "--model", other])
    #expect(wrong.status != 0)
  }

  @Test func inspectShowsTheSource() throws {
    let model = try Self.imported("nam-lstm-2layers.nam")
    let text = try CLI.run(["inspect", "--model", model])
    #expect(text.stdout.contains("lstm 1→5 ×2 (learned initial state), dense 5→1"))
    #expect(text.stdout.contains("source            nam, sample rate 48000 Hz"))
    #expect(text.stdout.contains("metadata.loudness = -18.25"))
    let json = try CLI.run(["inspect", "--model", model, "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
    #expect(object["format_version"] as? Int == 5 && object["learned_initial_state"] as? Bool == true)
    #expect((object["chain"] as? [[String: Any]])?.count == 3)
    #expect((object["tensors"] as? [String: Any])?["lstm.c0_l1"] != nil)
  }

  @Test func sampleRateAtImportAndRealTimeInBench() throws {
    let model = CLI.temporaryDirectory.appendingPathComponent("guitarml-rate-\(UUID().uuidString).recur").path
    let source = Self.fixtures.appendingPathComponent("guitarml-lstm8-skip.json").path
    let imported = try CLI.run(["import", source, "--sample-rate", "44100", "-o", model], executable: CLI.recurTrain)
    #expect(imported.status == 0, "\(imported.stderr)")
    let text = try CLI.run(["inspect", "--model", model])
    #expect(text.stdout.contains("sample rate 44100 Hz"), "\(text.stdout)")
    let bench = try CLI.run(["bench", "--model", model, "--json", "--steps", "2000", "--repeats", "1"])
    let object = try JSONSerialization.jsonObject(with: Data(bench.stdout.utf8)) as! [String: Any]
    let step = object["step_ns"] as! Double
    let factor = object["real_time_factor"] as! Double
    #expect(object["sample_rate"] as? Int == 44100)
    #expect(abs(factor - 1e9 / (step * 44100)) <= 0.05 * factor + 0.1, "factor \(factor), step \(step) ns")
    let refused = try CLI.run(["import", source, "--sample-rate", "0", "-o", model + "2"], executable: CLI.recurTrain)
    #expect(refused.status != 0 && refused.stderr.contains("--sample-rate 0.0 is out of range"), "\(refused.stderr)")
  }

  @Test func importErrorsAreOneLineAndWriteNothing() throws {
    let source = CLI.temporaryDirectory.appendingPathComponent("wavenet.nam")
    try #"{"architecture": "WaveNet", "config": {}, "weights": [0]}"#.write(
      to: source, atomically: true, encoding: .utf8)
    let model = CLI.temporaryDirectory.appendingPathComponent("wavenet.recur").path
    let result = try CLI.run(["import", source.path, "-o", model], executable: CLI.recurTrain)
    #expect(result.status != 0)
    #expect(result.stderr.contains("only NAM's LSTM models are supported"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1)
    #expect(!FileManager.default.fileExists(atPath: model))
  }
}
