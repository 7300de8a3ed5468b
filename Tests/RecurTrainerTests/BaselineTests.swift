// The feedforward baseline: hand-written gradients against central differences, the samples it cuts from the RNN's
// windows, option validation, and that training reduces the loss.

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("MLP gradients")
struct MLPGradientTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var k: Int
    var width: Int
    var testDescription: String { "k=\(k) W=\(width)" }
  }

  static let cases: [Case] = [1, 2, 6].flatMap { k in [1, 3, 8, 13].map { Case(k: k, width: $0) } }

  /// 11 samples, weights at PyTorch's init scale times 1.5 (tanh in its nonlinear range), inputs and targets in
  /// [-1, 1].
  static func problem(_ c: Case) throws -> (MLPBatch<Double>, MLPParameters<Double>) {
    let rng = try GSLRandom(seed: UInt64(100 * c.k + c.width))
    var p = MLPParameters<Double>.pytorchDefault(inputSize: c.k, width: c.width, rng: rng)
    p.values = p.values.map { $0 * 1.5 }
    let inputs = (0..<11).map { _ in (0..<c.k).map { _ in rng.flat(-1, 1) } }
    let targets = (0..<11).map { _ in rng.flat(-1, 1) }
    let batch = MLPBatch<Double>(inputSize: c.k, width: c.width, capacity: 16)
    batch.load(inputs: inputs, targets: targets)
    return (batch, p)
  }

  static func numericGradient(_ batch: MLPBatch<Double>, _ p: MLPParameters<Double>) -> [Double] {
    let step = 1e-6
    var probe = p
    return p.values.indices.map { i in
      probe.values[i] = p.values[i] + step
      let plus = batch.forward(probe)
      probe.values[i] = p.values[i] - step
      let minus = batch.forward(probe)
      probe.values[i] = p.values[i]
      return (plus - minus) / (2 * step)
    }
  }

  static func worstErrors(analytic: [Double], numeric: [Double], p: MLPParameters<Double>)
    -> [String: Double]
  {
    var worst: [String: Double] = [:]
    for t in MLPParameters<Double>.Tensor.allCases {
      worst[t.name] = p.range(t).map { relativeError(analytic[$0], numeric[$0], floor: 1e-5) }.max() ?? 0
    }
    return worst
  }

  @Test("analytic gradients match central differences (relative error ≤ 1e-4)", arguments: cases)
  func gradientsMatch(_ c: Case) throws {
    let (batch, p) = try Self.problem(c)
    batch.forward(p)
    var gradient = MLPParameters<Double>(zerosWithInputSize: c.k, width: c.width)
    batch.backward(p, into: &gradient)
    let worst = Self.worstErrors(analytic: gradient.values, numeric: Self.numericGradient(batch, p), p: p)
    for (name, error) in worst { #expect(error <= 1e-4, "\(name): relative error \(error)") }
    #expect(gradient.values.map(abs).max()! > 1e-3)
  }

  @Test("the check detects a wrong gradient; backward overwrites rather than accumulates")
  func checkIsSensitive() throws {
    let c = Case(k: 3, width: 5)
    let (batch, p) = try Self.problem(c)
    batch.forward(p)
    var gradient = MLPParameters<Double>(zerosWithInputSize: c.k, width: c.width)
    batch.backward(p, into: &gradient)
    let once = gradient
    batch.backward(p, into: &gradient)
    #expect(gradient == once)
    let numeric = Self.numericGradient(batch, p)
    gradient.values[p.range(.weight1).lowerBound + 4] *= 1.001
    let worst = Self.worstErrors(analytic: gradient.values, numeric: numeric, p: p)
    #expect(worst["0.weight"]! > 1e-4)
    #expect(worst["2.weight"]! <= 1e-4)
  }

  @Test("PyTorch's nn.Linear init: weight and bias within ±1/sqrt(fan_in), drawn in parameters() order")
  func initialisation() throws {
    let p = MLPParameters<Float>.pytorchDefault(inputSize: 4, width: 9, rng: try GSLRandom(seed: 3))
    #expect(p.values.count == MLPParameters<Float>.count(inputSize: 4, width: 9))
    #expect(p.values.count == 9 * 4 + 9 + 9 + 1)
    for t in [MLPParameters<Float>.Tensor.weight1, .bias1] {
      #expect(p.values[p.range(t)].allSatisfy { abs($0) <= 0.5 })
    }
    for t in [MLPParameters<Float>.Tensor.weight2, .bias2] {
      #expect(p.values[p.range(t)].allSatisfy { abs($0) <= Float(1.0 / 3.0) })
    }
    // The first draw is the first weight, from gsl_ran_flat(-1/2, 1/2).
    #expect(p.values[0] == Float(try GSLRandom(seed: 3).flat(-0.5, 0.5)))
  }
}

@Suite("MLP kernel")
struct MLPKernelTests {
  @Test("the SIMD8 speed kernel computes the same function as the training forward pass", arguments: [1, 13, 32, 40])
  func kernelMatchesForward(width: Int) throws {
    let rng = try GSLRandom(seed: UInt64(width))
    let p = MLPParameters<Float>.pytorchDefault(inputSize: 6, width: width, rng: rng)
    let kernel = MLPKernel(p)
    var worst = 0.0
    for _ in 0..<50 {
      let x = (0..<6).map { _ in Float(rng.flat(-1, 1)) }
      let a = Double(p.predict(x))
      let b = Double(x.withUnsafeBufferPointer { kernel.predict($0.baseAddress!) })
      worst = max(worst, relativeError(a, b, floor: 1e-2))
    }
    #expect(worst <= 1e-5, "worst relative difference \(worst)")
  }
}

@Suite("Baseline")
struct BaselineTests {
  @Test("samples: every position t ≥ k−1 of a sequence-max-scale window; the final step for window-differences")
  func samples() {
    // One sequence of 7 odd numbers, window 5: two windows; with k = 2 each gives 4 samples.
    let set = ExampleSet.sequenceMaxScale([[1, 3, 5, 7, 9, 11, 13]], window: 5)
    let samples = MLPSamples(examples: set, inputSize: 2)
    #expect(set.count == 2 && samples.count == 8)
    let v = [1, 3, 5, 7, 9, 11, 13].map { Float(Double($0) / 13) }
    // Window 0 = v[0...4] → targets v[1...5]; its first sample is (v[0], v[1]) → v[2].
    #expect(Array(samples.inputs[0..<2]) == [v[0], v[1]])
    #expect(samples.targets[0] == v[2])
    #expect(Array(samples.inputs[6..<8]) == [v[3], v[4]] && samples.targets[3] == v[5])
    #expect(samples.finalSample == [3, 7])
    // With k = window only the final step: exactly the RNN's next-value prediction.
    let full = MLPSamples(examples: set, inputSize: 5)
    #expect(full.count == 2 && Array(full.inputs[0..<5]) == Array(v[0..<5]) && full.targets[0] == v[5])

    let differences = ExampleSet.windowDifferences([[1, 1, 2, 3, 5, 8]], window: 3)
    let d = MLPSamples(examples: differences, inputSize: 3)
    #expect(d.count == differences.count && d.finalSample == Array(0..<d.count))
    #expect(d.inputs == differences.inputs)
    #expect(d.targets == (0..<d.count).map { differences.targets[$0 * 3 + 2] })
  }

  /// The refusal message for these command-line values, or nil when they are accepted.
  static func refusal(
    family: SequenceFamily? = .odd, encoding: Encoding? = nil, k: Int? = nil, width: Int? = nil, epochs: Int? = nil,
    lr: Double? = nil, schedule: LearningRateSchedule? = nil
  ) -> String? {
    do {
      _ = try BaselineOptions.fromCommandLine(
        family: family, encoding: encoding, k: k, width: width, epochs: epochs, lr: lr, schedule: schedule)
      return nil
    } catch {
      guard case .invalidOption(let message) = error else { return "unexpected \(error)" }
      return message
    }
  }

  @Test("defaults: the RNN's window, hidden size, epochs and learning rate")
  func defaults() throws {
    let odd = try BaselineOptions.fromCommandLine(family: .odd)
    #expect(odd.k == 5 && odd.width == 16 && odd.epochs == 8 && odd.learningRate == 1e-2 && odd.window == 5)
    let fib = try BaselineOptions.fromCommandLine(family: .fib, encoding: .windowDifferences)
    #expect(fib.k == 6 && fib.width == 32 && fib.epochs == 12 && fib.learningRate == 5e-3 && fib.window == 6)
    #expect(fib.batchSize == 128 && fib.sequences == 2000 && fib.schedule == .constant)
    let short = try BaselineOptions.fromCommandLine(family: .fib, encoding: .windowDifferences, k: 2)
    #expect(short.window == 2 && short.trainingOptions.window == 2)
    #expect(try BaselineOptions.fromCommandLine(family: .fib, k: 2).window == 6)
    #expect(Self.refusal(k: 1) == nil && Self.refusal(k: 5) == nil && Self.refusal(width: 1024) == nil)
    #expect(Self.refusal(schedule: .cosine) == nil)
    // linear2's default mixture readout is train's; the baseline (an MLP) has none, whatever the encoding or k.
    #expect(Self.refusal(family: .linear2, encoding: .sequenceMaxScale) == nil)
    #expect(Self.refusal(family: .linear2, k: 1) == nil)
    #expect(try BaselineOptions.fromCommandLine(family: .linear2).trainingOptions.experts == 0)
  }

  @Test("invalid options are refused with a message naming the option and the accepted range")
  func refusals() {
    #expect(Self.refusal(k: 0) == "--k 0 must be at least 1")
    #expect(Self.refusal(k: 6) == "--k 6 is longer than the odd training window (5 values); use 1...5")
    #expect(
      Self.refusal(family: .fib, encoding: .windowDifferences, k: 7)
        == "--k 7 is longer than the shortest fib sequence (6 values); use 1...6")
    #expect(Self.refusal(width: 0) == "--width 0 is out of range 1...1024")
    #expect(Self.refusal(width: 1025) == "--width 1025 is out of range 1...1024")
    #expect(Self.refusal(epochs: 0) == "--epochs 0 is out of range 1...100000")
    #expect(Self.refusal(lr: 0) == "--lr 0.0 must be a positive finite number")
    #expect(Self.refusal(family: nil) == "missing --family (odd, fib or linear2)")
  }

  static func smallBaseline(_ family: SequenceFamily = .odd, encoding: Encoding = .sequenceMaxScale)
    -> BaselineOptions
  {
    var o = BaselineOptions(family: family)
    o.encoding = encoding
    o.sequences = 200
    o.validationSequences = 20
    o.width = 8
    o.epochs = 3
    return o
  }

  @Test(
    "a small run reduces its loss, trains on train's windows, and is deterministic",
    arguments: [Encoding.sequenceMaxScale, .windowDifferences])
  func smallRun(_ encoding: Encoding) throws {
    let options = Self.smallBaseline(encoding: encoding)
    let run = try BaselineTrainer.train(options)
    #expect(run.epochLosses.count == 3)
    #expect(run.epochLosses[2] < run.epochLosses[0])

    // The same draws as `train`: training sequences first, from the same seed; the same ExampleSet.
    let rng = try GSLRandom(seed: options.seed)
    let sequences = SequenceFamily.odd.makeSequences(count: options.sequences, rng: rng)
    let examples = ExampleSet(sequences: sequences, encoding: encoding, window: options.window)
    #expect(run.trainingWindows == examples.count)
    let samples = MLPSamples(examples: examples, inputSize: options.k)
    #expect(run.trainingSamples == samples.count)

    // Trained loss on these samples well below the loss at initialisation (draws after the validation sequences).
    _ = SequenceFamily.odd.makeSequences(count: options.validationSequences, rng: rng)
    let initial = MLPParameters<Float>.pytorchDefault(inputSize: options.k, width: options.width, rng: rng)
    let batch = MLPBatch<Float>(inputSize: options.k, width: options.width, capacity: samples.count)
    batch.load(samples, indices: Array(0..<samples.count)[...])
    let initialLoss = batch.forward(initial)
    let trainedLoss = batch.forward(run.parameters)
    #expect(trainedLoss < initialLoss / 4, "initial \(initialLoss), trained \(trainedLoss)")

    let again = try BaselineTrainer.train(options)
    #expect(again.parameters == run.parameters && again.epochLosses == run.epochLosses)
  }

  @Test("the baseline's held-out statistics are finite and its report has both tables")
  func report() throws {
    let run = try BaselineTrainer.train(Self.smallBaseline(.fib, encoding: .windowDifferences))
    let evaluation = try BaselineEvaluation(run: run)
    #expect(evaluation.heldOut.sequences == HeldOut.count)
    #expect(evaluation.heldOut.windowMSE.isFinite && evaluation.heldOut.absoluteError.p95.isFinite)
    let text = evaluation.report()
    #expect(text.contains("| 89, 144, 233, 377 | outside |"))
    #expect(text.contains("| held-out windows | window MSE (encoded) |"))
    #expect(evaluation.modelDescription.contains("\(run.parameters.values.count) parameters"))
  }
}
