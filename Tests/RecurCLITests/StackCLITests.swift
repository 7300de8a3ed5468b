// `recur` with GRU, LSTM and stacked models, several inputs and outputs: stream, generate, inspect, bench.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@testable import recur

@Suite(.serialized) struct StackCLITests {
  static let gru = stackModel(Architecture(kind: .gru, layers: 2, inputSize: 3, hiddenSize: 8, outputSize: 2))
  static let gruPath = try! CLI.writeModel(gru, name: "gru-3-2.recur")
  static let lstm = stackModel(Architecture(kind: .lstm, layers: 2, inputSize: 3, hiddenSize: 8, outputSize: 3))
  static let lstmPath = try! CLI.writeModel(lstm, name: "lstm-3-3.recur")

  /// The library's answer for each step of `steps`, printed as `recur` prints it.
  static func expectedLines(_ file: ModelFile, _ steps: [[Float]], raw: Bool = false) -> [String] {
    let predictor = SequencePredictor(model: RecurrentModel(file))
    var y = [Float](repeating: 0, count: file.outputSize)
    return steps.map { x in
      x.withUnsafeBufferPointer { xs in
        y.withUnsafeMutableBufferPointer {
          if raw {
            predictor.cell.step(xs.baseAddress!, into: $0.baseAddress!)
          } else {
            predictor.observe(xs.baseAddress!, into: $0.baseAddress!)
          }
        }
      }
      return y.map { shortest($0) }.joined(separator: " ")
    }
  }

  @Test func streamReadsOneStepPerLineAndWritesOneLinePerStep() throws {
    let result = try CLI.run(["stream", "--model", Self.gruPath], stdin: "0.5 1 -1\n0.25,0.5,0.75\n2\t-2\t0\n")
    #expect(result.status == 0, "\(result.stderr)")
    let steps: [[Float]] = [[0.5, 1, -1], [0.25, 0.5, 0.75], [2, -2, 0]]
    #expect(result.stdout.split(separator: "\n").map(String.init) == Self.expectedLines(Self.gru, steps))
    let raw = try CLI.run(["stream", "--raw", "--model", Self.gruPath], stdin: "0.5 1 -1\n")
    #expect(
      raw.stdout.split(separator: "\n").map(String.init) == Self.expectedLines(Self.gru, [[0.5, 1, -1]], raw: true))
  }

  @Test func blankLineResetsEveryLayer() throws {
    let result = try CLI.run(["stream", "--model", Self.lstmPath], stdin: "1 2 3\n4 5 6\n\n1 2 3\n4 5 6\n")
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.count == 4)
    #expect(Array(lines[0..<2]) == Array(lines[2..<4]))
  }

  @Test func wrongValueCountsNameLineAndColumnAfterEarlierAnswers() throws {
    var result = try CLI.run(["stream", "--model", Self.gruPath], stdin: "1 2 3\n4 5\n6 7 8\n")
    #expect(result.status == 1)
    #expect(result.stderr == "error: line 2, column 4: expected 3 values on the line, found 2\n")
    #expect(result.stdout.split(separator: "\n").count == 1)
    result = try CLI.run(["stream", "--model", Self.gruPath], stdin: "1 2 3\n4 5 6 7\n")
    #expect(
      result.stderr == "error: line 2, column 7: more than 3 values on a line (the model reads 3 per time step)\n")
    #expect(result.stdout.split(separator: "\n").count == 1)
    result = try CLI.run(["stream", "--model", Self.gruPath], stdin: "1 2 3\n4 5")  // unterminated last line
    #expect(result.stderr == "error: line 2, column 4: expected 3 values on the line, found 2\n")
  }

  @Test func commasSeparateValuesAndEmptyValuesAreRefused() throws {
    let odd = try CLI.writeModel(sampleModel(), name: "comma.recur")
    let spaced = try CLI.run(["stream", "--model", odd], stdin: "1 2 3\n")
    let commas = try CLI.run(["stream", "--model", odd], stdin: "1,2, 3\n")
    #expect(commas.status == 0 && commas.stdout == spaced.stdout)
    var result = try CLI.run(["stream", "--model", odd], stdin: "1,,2\n")
    #expect(result.stderr == "error: line 1, column 3: empty value before ','\n")
    #expect(result.stdout.split(separator: "\n").count == 1)
    result = try CLI.run(["stream", "--model", odd], stdin: "5\n1 ,\n")
    #expect(result.stderr == "error: line 2, column 3: ',' is not followed by a value\n")
    result = try CLI.run(["stream", "--model", odd], stdin: ",1\n")
    #expect(result.stderr == "error: line 1, column 1: empty value before ','\n")
  }

  @Test func generateFeedsStepsBackWhenInputsEqualOutputs() throws {
    let result = try CLI.run(["generate", "--model", Self.lstmPath, "--steps", "4"], stdin: "1 2 3\n0 0 1\n\n3,2,1\n")
    #expect(result.status == 0, "\(result.stderr)")
    let blocks = result.stdout.components(separatedBy: "\n\n")
    #expect(blocks.count == 3 && blocks[2].isEmpty)  // two continuations, each ended by a blank line
    let predictor = SequencePredictor(model: RecurrentModel(Self.lstm))
    var out = [Float](repeating: 0, count: 12)
    let seed: [Float] = [1, 2, 3, 0, 0, 1]
    seed.withUnsafeBufferPointer { predictor.begin(steps: $0.baseAddress!, count: 2) }
    out.withUnsafeMutableBufferPointer { predictor.generate(steps: 4, into: $0.baseAddress!) }
    var expected: [String] = []
    for t in 0..<4 {
      let step: [String] = out[(3 * t)..<(3 * t + 3)].map { shortest($0) }
      expected.append(step.joined(separator: " "))
    }
    #expect(blocks[0].split(separator: "\n").map(String.init) == expected)
    let arguments = try CLI.run([
      "generate", "--model", Self.lstmPath, "--steps", "4", "--", "1", "2", "3", "0", "0", "1",
    ])
    #expect(arguments.stdout == blocks[0] + "\n\n")
    let ragged = try CLI.run(["generate", "--model", Self.lstmPath, "1", "2"])
    #expect(ragged.status == 1)
    #expect(ragged.stderr == "error: the model reads 3 values per time step; 2 seed values are not whole steps\n")
  }

  @Test func generateRefusesModelsWhoseInputsDifferFromOutputs() throws {
    let result = try CLI.run(["generate", "--model", Self.gruPath, "1", "2", "3"])
    #expect(result.status == 1)
    #expect(
      result.stderr
        == "error: generate feeds each prediction back as the next input, so it needs input size = output size; "
        + "this model reads 3 values per step and predicts 2 (use 'recur stream')\n")
    #expect(result.stdout.isEmpty)
  }

  @Test func doubleDashEndsOptionsForUnivariateSeeds() throws {
    let odd = try CLI.writeModel(sampleModel(), name: "dash.recur")
    let plain = try CLI.run(["generate", "--model", odd, "--steps", "3", "-50", "-48", "-46"])
    let dashed = try CLI.run(["generate", "--model", odd, "--steps", "3", "--", "-50", "-48", "-46"])
    #expect(dashed.status == 0, "\(dashed.stderr)")
    #expect(dashed.stdout == plain.stdout)
  }

  @Test func inspectShowsKindLayersSizesAndTorchNames() throws {
    let text = try CLI.run(["inspect", "--model", Self.gruPath])
    #expect(text.stdout.contains("format            Recur model file v2,"))
    #expect(text.stdout.contains("cell              GRU, 2 layers: input 3, hidden 8, output 2"))
    #expect(text.stdout.contains("parameters        \(Self.gru.parameterCount)"))
    #expect(Self.gru.parameterCount == 3 * 8 * 3 + 3 * 8 * 8 + 2 * 24 + 2 * (3 * 8 * 8) + 2 * 24 + 2 * 8 + 2)
    let json = try CLI.run(["inspect", "--model", Self.gruPath, "--json"])
    let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
    #expect(object["cell"] as? String == "gru" && object["layers"] as? Int == 2)
    let tensors = object["tensors"] as! [String: Any]
    #expect(Set(tensors.keys) == Set(Self.gru.architecture.tensors.map { $0.name(.gru) }))
    #expect((tensors["gru.weight_ih_l1"] as! [[Double]]).count == 24)
  }

  @Test func benchJSONHasTheDocumentedFields() throws {
    let result = try CLI.run(["bench", "--model", Self.lstmPath, "--json", "--steps", "2000", "--repeats", "1"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    for key in ["step_ns", "generate_ns"] { #expect((object[key] as? Double ?? 0) > 0, "\(key)") }
    #expect((object["stream_values_per_s"] as? Double ?? 0) > 0)  // three inputs: one step of three values each
    #expect(object["cell"] as? String == "lstm" && object["hidden_size"] as? Int == 8)
    let vanilla = try CLI.run(["bench", "--model", "odd", "--json", "--steps", "2000", "--repeats", "1"])
    let v = try JSONSerialization.jsonObject(with: Data(vanilla.stdout.utf8)) as! [String: Any]
    for key in ["step_ns", "generate_ns", "stream_values_per_s", "batch_values_per_s"] {
      #expect((v[key] as? Double ?? 0) > 0, "\(key)")
    }
    #expect(v["batch_streams"] as? Int == 64)
  }

  /// `bench --machine --json`: the documented fields, every bound positive, the reported bound the largest of the
  /// three, and the latency bound growing with H (one more add level per doubling). No timing is asserted.
  @Test func benchMachineJSONHasConsistentBounds() throws {
    let result = try CLI.run(["bench", "--machine", "--json", "--repeats", "1"])
    #expect(result.status == 0, "\(result.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as! [String: Any]
    for key in ["multiply_add_ns", "add_ns", "tanh_ns", "peak_lanes_per_ns"] {
      #expect((object[key] as? Double ?? 0) > 0, "\(key)")
    }
    let rows = object["vanilla_bounds"] as? [[String: Any]] ?? []
    #expect(rows.map { $0["hidden"] as? Int ?? 0 } == [16, 32, 64, 128, 256])
    var previous = 0.0
    for row in rows {
      let (latency, compute, memory) = (
        row["latency_ns"] as! Double, row["compute_ns"] as! Double, row["memory_ns"] as! Double
      )
      #expect(latency > 0 && compute > 0 && memory > 0)
      #expect(abs((row["bound_ns"] as! Double) - max(latency, compute, memory)) < 0.011)  // printed to 2 decimals
      #expect(latency > previous)
      previous = latency
    }
    // The kernels plan for the CPU the CLI detects (16 lanes with avx512f, 8 with avx2 and fma, else 4; always 4 in a
    // portable build), or the one RECUR_CPU names; an unknown name is a bad command line.
    // Linux's /proc/cpuinfo; elsewhere (macOS) the CLI plans NEON on arm64 and 4 lanes on x86-64.
    let cpuinfo = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
    let flags = cpuinfo.split(separator: "\n").first { $0.hasPrefix("flags") }?.split(separator: " ") ?? []
    let portable = !["", "0"].contains(ProcessInfo.processInfo.environment["RECUR_PORTABLE"] ?? "")
    #if os(macOS) && arch(arm64)
      let lanes = 4
    #else
      let lanes =
        portable ? 4 : flags.contains("avx512f") ? 16 : (flags.contains("avx2") && flags.contains("fma")) ? 8 : 4
    #endif
    #expect((object["cpu"] as? [String: Any])?["vector_lanes"] as? Int == lanes)
    let named = try CLI.run(["bench", "--machine", "--json", "--repeats", "3"], environment: ["RECUR_CPU": "avx2"])
    let namedObject = try JSONSerialization.jsonObject(with: Data(named.stdout.utf8)) as? [String: Any]
    #expect((namedObject?["cpu"] as? [String: Any])?["vector_lanes"] as? Int == 8)
    let unknown = try CLI.run(["bench", "--machine"], environment: ["RECUR_CPU": "avx1024"])
    #expect(
      unknown.status == 2
        && unknown.stderr == "error: RECUR_CPU must be one of portable, avx2, avx512, neon, got 'avx1024'\n")
    let bad = try CLI.run(["bench", "--machine", "--repeats", "0"])
    #expect(bad.status != 0 && bad.stderr.contains("--repeats"))
  }
}
