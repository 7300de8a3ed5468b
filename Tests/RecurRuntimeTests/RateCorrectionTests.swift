// RateCorrectedCell (sample-rate correction, RTNeural's SampleRateCorrectionMode) against a float64 reference: the
// ReferenceStack of Reference.swift with its own delay line, written from the equations in RateCorrectedCell.swift's
// header (integer r: the state read at step t is s(t − r); fractional r: (1 − f)·s(t − n) + f·s(t − n − 1)).

import Foundation
import MallocCounter
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct RateCorrectionTests {
  /// The reference's outputs for `inputs` with every layer's state read from `ratio` steps back.
  static func reference(_ file: ModelFile, _ inputs: [Double], ratio: Double) -> [Double] {
    var stack = ReferenceStack(file)
    let n = Int(ratio.rounded(.down))
    let f = ratio - Double(n)
    // past[k] = s(t − 1 − k) for the step about to run; states before the first step are the initial state.
    var past = [(h: [[Double]], c: [[Double]])](repeating: (stack.h, stack.c), count: n + 1)
    var outputs: [Double] = []
    for x in inputs {
      let newer = past[n - 1]  // s(t − n)
      let older = past[n]  // s(t − n − 1)
      func mix(_ a: [[Double]], _ b: [[Double]]) -> [[Double]] {
        zip(a, b).map { zip($0, $1).map { (1 - f) * $0 + f * $1 } }
      }
      (stack.h, stack.c) = f == 0 ? (newer.h, newer.c) : (mix(newer.h, older.h), mix(newer.c, older.c))
      outputs.append(stack.step([x])[0])
      past.insert((stack.h, stack.c), at: 0)
      past.removeLast()
    }
    return outputs
  }

  static let inputs: [Double] = (0..<400).map { (t: Int) -> Double in
    let s = Double(t)
    let slow: Double = 0.9 * sin(s * 0.031)
    return slow + 0.3 * sin(s * 0.27 + 1)
  }

  @Test(arguments: CellKind.allCases)
  func followsTheReference(kind: CellKind) {
    let file = randomModel(
      Architecture(kind: kind, layers: 2, inputSize: 1, hiddenSize: 12, outputSize: 1), seed: 41, gain: 1.5)
    let model = RecurrentModel(file)
    for (ratio, interpolate) in [(1.0, false), (2.0, false), (3.0, true), (1.5, true), (2.25, true), (1.0884, true)] {
      let cell = RateCorrectedCell(model: model, ratio: ratio, interpolate: interpolate)
      var y: Float = 0
      let got: [Float] = Self.inputs.map { x in
        var x = Float(x)
        cell.step(&x, into: &y)
        return y
      }
      let want = Self.reference(file, Self.inputs.map { Double(Float($0)) }, ratio: ratio)
      let worst = zip(got, want).map { relativeError(Double($0), $1, floor: 0.1) }.max()!
      #expect(worst <= 1e-4, "\(kind) r = \(ratio): worst relative error \(worst)")
    }
    // The ratios change the answers (the delay line is not a no-op).
    let plain = RecurrentCell(model: model)
    let delayed = RateCorrectedCell(model: model, ratio: 2, interpolate: false)
    var (a, b): (Float, Float) = (0, 0)
    var differ = false
    for x in Self.inputs.prefix(50) {
      var x = Float(x)
      plain.step(&x, into: &a)
      delayed.step(&x, into: &b)
      differ = differ || a != b
    }
    #expect(differ)
  }

  /// r = 1 is the plain recurrence, bit for bit; a reset starts over.
  @Test func ratioOneIsThePlainCell() {
    let model = RecurrentModel(
      randomModel(Architecture(kind: .lstm, layers: 1, inputSize: 1, hiddenSize: 20, outputSize: 1), seed: 5))
    let plain = RecurrentCell(model: model)
    let corrected = RateCorrectedCell(model: model, ratio: 1, interpolate: true)
    var (a, b): (Float, Float) = (0, 0)
    var first: [Float] = []
    for x in Self.inputs {
      var x = Float(x)
      plain.step(&x, into: &a)
      corrected.step(&x, into: &b)
      #expect(a.bitPattern == b.bitPattern)
      first.append(b)
    }
    corrected.reset()
    var again: [Float] = []
    for x in Self.inputs {
      var x = Float(x)
      corrected.step(&x, into: &b)
      again.append(b)
    }
    #expect(again == first)
  }

  @Test(
    .enabled(
      if: recur_allocation_counter_available(), "the malloc counter needs glibc and no --sanitize (MallocCounter.c)"))
  func stepsWithoutAllocating() {
    let model = RecurrentModel(
      randomModel(Architecture(kind: .gru, layers: 2, inputSize: 1, hiddenSize: 16, outputSize: 1), seed: 8))
    let cell = RateCorrectedCell(model: model, ratio: 2.5, interpolate: true)
    var (x, y): (Float, Float) = (0.5, 0)
    func run() {
      for _ in 0..<300 { cell.step(&x, into: &y) }
    }
    run()
    let before = recur_thread_allocation_count()
    run()
    let count = recur_thread_allocation_count() - before
    #expect(count == 0)
  }
}
