// The fixture models through the library (no process): the same golden outputs as the CLI, and the extrapolation
// targets of the window-differences models checked against the families' closed-form truth.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

enum FixtureModels {
  static func load(_ name: String) throws -> RecurrentModel {
    let bytes = [UInt8](try Data(contentsOf: Golden.root.appendingPathComponent("models/\(name).recur")))
    return try RecurrentModel(bytes: bytes)
  }

  static func lines(_ relative: String) throws -> [[Float]] {
    try Golden.read(relative).split(separator: "\n").map { $0.split(separator: " ").map { Float(String($0))! } }
  }
}

@Suite struct FixtureModelTests {
  /// `SequencePredictor` on the golden seeds reproduces the golden `generate` output (same tolerance as the CLI
  /// goldens: 1e-5 relative, floor 1; see Golden.numericDiff).
  @Test(arguments: Golden.models)
  func libraryReproducesGenerateGolden(model: String) throws {
    let predictor = SequencePredictor(model: try FixtureModels.load(model))
    let family = model.replacingOccurrences(of: "-ext", with: "")
    let seeds = try FixtureModels.lines("golden/seeds-\(family).txt")
    let expected = try FixtureModels.lines("golden/\(model)/generate-1.out")
    #expect(seeds.count == expected.count)
    var out = [Float](repeating: 0, count: 20)
    for (seed, want) in zip(seeds, expected) {
      seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      let worst = zip(out, want).map { abs(Double($0) - Double($1)) / max(abs(Double($1)), 1) }.max()!
      #expect(worst <= 1e-5, "\(model) seed \(seed): deviation \(worst)")
    }
  }

  /// `observe` over the golden stream input (blank lines reset) reproduces the golden `stream` output.
  @Test(arguments: Golden.models)
  func libraryReproducesStreamGolden(model: String) throws {
    let predictor = SequencePredictor(model: try FixtureModels.load(model))
    let family = model.replacingOccurrences(of: "-ext", with: "")
    let input = try Golden.read("golden/stream-\(family).txt").split(separator: "\n", omittingEmptySubsequences: false)
    let expected = try Golden.read("golden/\(model)/stream-1.out").split(separator: "\n").map { Double(String($0))! }
    var predictions: [Double] = []
    for line in input {
      if line.isEmpty {
        predictor.reset()
      } else {
        predictions.append(Double(predictor.observe(Float(String(line))!)))
      }
    }
    #expect(predictions.count == expected.count)
    let worst = zip(predictions, expected).map { abs($0 - $1) / max(abs($1), 1) }.max()!
    #expect(worst <= 1e-5, "\(model): deviation \(worst)")
  }

  /// Issue target: odd runs from every odd start 1, 3, ..., 999 continue within 0.5 of the truth for 20 steps.
  @Test func oddExtContinuesEveryStartUpTo999() throws {
    let predictor = SequencePredictor(model: try FixtureModels.load("odd-ext"))
    var out = [Float](repeating: 0, count: 20)
    var worst: Float = 0
    for start in stride(from: 1, through: 999, by: 2) {
      let seed = (0..<5).map { Float(start + 2 * $0) }
      seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      for (i, v) in out.enumerated() { worst = max(worst, abs(v - Float(start + 8 + 2 * (i + 1)))) }
    }
    print("odd-ext: worst |error| over 500 starts × 20 steps = \(worst)")
    #expect(worst <= 0.5)
  }

  /// Issue target: Fibonacci-like runs from small seeds stay within 1% relative for 10 steps.
  @Test func fibExtStaysWithinOnePercent() throws {
    let predictor = SequencePredictor(model: try FixtureModels.load("fib-ext"))
    let seeds: [[Double]] = [
      [1, 1, 2, 3, 5, 8], [2, 3, 5, 8, 13, 21], [5, 8, 13, 21, 34], [0, 1, 1, 2, 3], [3, 3, 6, 9, 15], [1, 2, 3],
      [2, 1, 3, 4, 7], [0, 3, 3, 6, 9],
    ]
    var out = [Float](repeating: 0, count: 10)
    var worst = 0.0
    for seed in seeds {
      var truth = seed
      for _ in 0..<10 { truth.append(truth[truth.count - 1] + truth[truth.count - 2]) }
      seed.map(Float.init).withUnsafeBufferPointer { predictor.begin(seed: $0) }
      out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      for (i, v) in out.enumerated() {
        let t = truth[seed.count + i]
        worst = max(worst, abs(Double(v) - t) / abs(t))
      }
    }
    print("fib-ext: worst relative error over \(seeds.count) seeds × 10 steps = \(worst)")
    #expect(worst <= 0.01)
  }
}
