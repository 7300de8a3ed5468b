// `recur stream --streams`: many named streams in one process print, for every stream, exactly what `recur stream`
// prints for that stream's lines alone (split the input by name, run each part separately, compare), in input
// order; bad input is reported like the rest of the CLI, after every earlier answer.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@Suite(.serialized) struct NamedStreamsTests {
  struct Case: Sendable, CustomTestStringConvertible {
    let name: String
    let file: ModelFile
    var raw = false
    var testDescription: String { name }
  }

  static let cases: [Case] = [
    Case(name: "vanilla H=16 sequence-max-scale", file: sampleModel(hidden: 16, seed: 3)),
    Case(name: "vanilla H=33 raw", file: sampleModel(hidden: 33, seed: 4), raw: true),
    Case(name: "vanilla H=64", file: sampleModel(hidden: 64, seed: 9)),
    Case(
      name: "GRU 2 layers I=3 H=17 O=2",
      file: stackModel(Architecture(kind: .gru, layers: 2, inputSize: 3, hiddenSize: 17, outputSize: 2), seed: 5)),
    Case(name: "LSTM H=32", file: stackModel(Architecture(kind: .lstm, hiddenSize: 32), seed: 6)),
    Case(name: "GRU H=16", file: stackModel(Architecture(kind: .gru, hiddenSize: 16), seed: 7)),
    Case(name: "window-differences (one predictor per stream)", file: sampleModel(encoding: .windowDifferences)),
  ]

  /// Names that look like numbers or carry punctuation are names too.
  static let names = (0..<34).map { "s\($0)" } + ["42", "-1.5", "a.b_c"]

  /// A random interleaving of the streams: value lines (one or several values for one input; `name,v,v,v` for
  /// three), name-only lines (reset) and blank lines (skipped).
  static func input(inputs: Int, seed: UInt64) -> String {
    var rng = seed
    func next(_ n: Int) -> Int {
      rng = rng &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int((rng >> 33) % UInt64(n))
    }
    var lines: [String] = []
    for _ in 0..<700 {
      let name = names[next(names.count)]
      switch next(20) {
      case 0: lines.append(name)
      case 1: lines.append("")
      default:
        let count = inputs == 1 ? 1 + next(3) : inputs
        let values = (0..<count).map { _ in String(Float(next(2001) - 1000) / 100) }
        lines.append(
          inputs == 1 ? "\(name) \(values.joined(separator: " "))" : "\(name),\(values.joined(separator: ","))")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  @Test(arguments: cases)
  func eachStreamPrintsWhatItPrintsAlone(_ c: Case) throws {
    let model = try CLI.writeModel(c.file, name: "named-\(c.file.hiddenSize)-\(c.file.provenance.seed).recur")
    let text = Self.input(inputs: c.file.inputSize, seed: c.file.provenance.seed &+ 9)
    let flags = c.raw ? ["--raw"] : []
    let together = try CLI.run(["stream", "--streams", "--model", model] + flags, stdin: text)
    #expect(together.status == 0, "\(together.stderr)")
    // Split the input by name: a name-only line becomes a blank line (a reset) of that stream.
    var parts: [String: [String]] = [:]
    var expectedOrder: [String] = []
    for line in text.split(separator: "\n", omittingEmptySubsequences: false).dropLast() where !line.isEmpty {
      let name = String(line.prefix { $0 != " " && $0 != "," })
      let rest = String(line.dropFirst(name.count).drop { $0 == " " || $0 == "," })
      parts[name, default: []].append(rest)
      let steps = c.file.inputSize == 1 ? rest.split(separator: " ").count : (rest.isEmpty ? 0 : 1)
      expectedOrder += Array(repeating: name, count: steps)
    }
    var byName: [String: [String]] = [:]
    var order: [String] = []
    for line in together.stdout.split(separator: "\n") {
      let name = String(line.prefix { $0 != " " })
      byName[name, default: []].append(String(line.dropFirst(name.count + 1)))
      order.append(name)
    }
    #expect(order == expectedOrder, "answers are not in input order")
    #expect(parts.count > BatchCell.lanes * 2)  // more streams than two SIMD groups, not a multiple of 16
    for (name, lines) in parts {
      let alone = try CLI.run(["stream", "--model", model] + flags, stdin: lines.joined(separator: "\n") + "\n")
      #expect(alone.status == 0, "\(alone.stderr)")
      let expected = alone.stdout.split(separator: "\n").map(String.init)
      #expect(byName[name, default: []] == expected, "\(c.name): stream \(name) differs from running it alone")
    }
  }

  /// Streams written one after another in blocks, over more lines than the answer window holds (65,536 entries):
  /// the same answers as each stream alone.
  @Test func blocksOfStreamsBeyondTheWindow() throws {
    let model = try CLI.writeModel(
      stackModel(Architecture(kind: .lstm, hiddenSize: 16), seed: 8), name: "named-blocks.recur")
    var lines: [String] = []
    var parts: [String: [String]] = [:]
    for k in 0..<90_000 {
      let name = "b\((k / 2_500) % 20)"
      let line = k % 997 == 0 ? name : "\(name) \(Float(k % 37) / 10 - 1.5)"
      lines.append(line)
      parts[name, default: []].append(String(line.dropFirst(name.count + (line == name ? 0 : 1))))
    }
    let together = try CLI.run(["stream", "--streams", "--model", model], stdin: lines.joined(separator: "\n") + "\n")
    #expect(together.status == 0, "\(together.stderr)")
    var byName: [String: [String]] = [:]
    for line in together.stdout.split(separator: "\n") {
      let name = String(line.prefix { $0 != " " })
      byName[name, default: []].append(String(line.dropFirst(name.count + 1)))
    }
    for (name, input) in parts {
      let alone = try CLI.run(["stream", "--model", model], stdin: input.joined(separator: "\n") + "\n")
      #expect(byName[name, default: []] == alone.stdout.split(separator: "\n").map(String.init), "stream \(name)")
    }
  }

  @Test func badInputIsReportedAfterEveryEarlierAnswer() throws {
    let model = try CLI.writeModel(sampleModel(hidden: 16, seed: 3), name: "named-errors.recur")
    let alone = try CLI.run(["stream", "--model", model], stdin: "1\n3\n")
    let a = alone.stdout.split(separator: "\n")
    let r = try CLI.run(["stream", "--streams", "--model", model], stdin: "a 1\nb 2\na 3 x\n")
    #expect(r.status == 1)
    #expect(r.stdout.hasPrefix("a \(a[0])\nb "))
    #expect(r.stdout.split(separator: "\n").count == 3)  // a, b, and a's second value: answered before the error
    #expect(r.stderr == "error: line 3, column 5: 'x' is not a number\n")

    let three = try CLI.writeModel(
      stackModel(Architecture(kind: .lstm, inputSize: 3, hiddenSize: 8, outputSize: 3)), name: "named-three.recur")
    let short = try CLI.run(["stream", "--streams", "--model", three], stdin: "a 1 2 3\nb 1 2\n")
    #expect(short.status == 1)
    #expect(short.stdout.split(separator: "\n").count == 1)
    #expect(short.stderr == "error: line 2, column 6: expected 3 values on the line, found 2\n")
    let long = try CLI.run(["stream", "--streams", "--model", three], stdin: "a 1 2 3 4\n")
    #expect(long.stderr == "error: line 1, column 9: more than 3 values on a line (the model reads 3 per time step)\n")

    let name = String(repeating: "n", count: 65)
    let overlong = try CLI.run(["stream", "--streams", "--model", model], stdin: "a 1\n\(name) 2\n")
    #expect(overlong.status == 1)
    #expect(overlong.stdout.hasPrefix("a "))
    #expect(overlong.stderr == "error: line 2, column 1: name is longer than 64 characters\n")

    let comma = try CLI.run(["stream", "--streams", "--model", model], stdin: "a,,1\n")
    #expect(comma.stderr == "error: line 1, column 3: empty value before ','\n")

    // A byte outside printable ASCII: in the name it is not allowed there; after it, not a number.
    let inName = try CLI.run(["stream", "--streams", "--model", model], stdin: "a 1\nb\u{7F} 2\n")
    #expect(inName.stderr == "error: line 2, column 2: unexpected byte 0x7F (not allowed in a name)\n")
    let inValue = try CLI.run(["stream", "--streams", "--model", model], stdin: "a 1\u{7F}\n")
    #expect(inValue.stderr == "error: line 1, column 4: unexpected byte 0x7F (not a number)\n")
  }
}
