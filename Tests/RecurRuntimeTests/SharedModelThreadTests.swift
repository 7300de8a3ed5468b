// One `RecurrentModel` shared by several threads, each with its own `SequencePredictor` (and `RecurrentCell`): the
// documented concurrency model (README "Embedding the runtime"). Every thread must get exactly the outputs a
// single-threaded run gets. Run under ThreadSanitizer (docs/hardening-and-testing.md) this also shows the shared model is
// only ever read.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct SharedModelThreadTests {
  static let threads = 6
  static let steps = 2_000

  /// Stream `steps` values of thread `t`'s own sequence through a fresh predictor; then generate 50 steps.
  static func run(_ model: RecurrentModel, thread t: Int) -> [Float] {
    let predictor = SequencePredictor(model: model)
    let width = model.inputSize
    var x = [Float](repeating: 0, count: width)
    var y = [Float](repeating: 0, count: model.outputSize)
    var out: [Float] = []
    out.reserveCapacity(steps * model.outputSize + 50 * width)
    for k in 0..<steps {
      if k % 500 == 499 { predictor.reset() }
      for i in 0..<width { x[i] = sin(Float(k) * 0.05 + Float(t) + Float(i)) }
      predictor.observe(&x, into: &y)
      out += y
    }
    var generated = [Float](repeating: 0, count: 50 * width)
    predictor.begin(steps: &x, count: 1)
    predictor.generate(steps: 50, into: &generated)
    return out + generated
  }

  @Test(
    "several threads, one predictor each, one shared model: the outputs of a single-threaded run",
    arguments: [
      Architecture(kind: .rnn, layers: 1, inputSize: 1, hiddenSize: 17, outputSize: 1),
      Architecture(kind: .gru, layers: 2, inputSize: 3, hiddenSize: 16, outputSize: 3),
      Architecture(kind: .lstm, layers: 3, inputSize: 2, hiddenSize: 9, outputSize: 2),
    ])
  func sharedModel(_ architecture: Architecture) {
    let file = randomModel(
      architecture, seed: 5, gain: 1.5,
      encoding: architecture.inputSize == architecture.outputSize
        ? .standardizeDifferences : .identity)
    let model = RecurrentModel(file)
    let expected = (0..<Self.threads).map { Self.run(model, thread: $0) }
    nonisolated(unsafe) var results = [[Float]](repeating: [], count: Self.threads)
    let lock = NSLock()
    let workers = (0..<Self.threads).map { t in
      Thread {
        let r = Self.run(model, thread: t)
        lock.lock()
        results[t] = r
        lock.unlock()
      }
    }
    workers.forEach { $0.start() }
    while lock.withLock({ results.contains { $0.isEmpty } }) { usleep(1000) }
    for t in 0..<Self.threads {
      #expect(results[t].count == expected[t].count)
      #expect(results[t].map(\.bitPattern) == expected[t].map(\.bitPattern), "thread \(t) differs")
    }
  }
}
