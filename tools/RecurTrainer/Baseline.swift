// `recur-train baseline`: a feedforward network trained on exactly the RNN's windows and measured on the same tables.
//
// Data: one GSL mt19937 seeded with `--seed`, drawn in `train`'s order: the training sequences, the validation
// sequences (drawn so the generator's stream matches `train`'s; the baseline's held-out numbers come from the fixed
// evaluation set, `HeldOut`), the MLP's initial weights, then each epoch's shuffle. The `ExampleSet` is built exactly
// as `train` builds it with the family's default window (sequence-max-scale) or with window k (window-differences),
// and cut into samples by `MLPSamples`.

import Foundation
import RecurRuntime

// MARK: - Options

/// Everything a baseline run depends on.
///
/// Defaults: k = the family's window (odd 5, fib 6) and width = the family's hidden size (16, 32), with the family's
/// epochs and learning rate. That gives the MLP the same context the RNN sees in training and as many tanh units as
/// the RNN's state, so the comparison isolates recurrence (parameter sharing across time, unbounded context) from
/// capacity and context. Both families are order-2 linear recurrences, so k ≥ 2 suffices in principle (`--k 2`
/// tests that); a larger k only adds redundant inputs.
public struct BaselineOptions: Sendable, Equatable {
  public var family: SequenceFamily
  public var encoding: Encoding = .sequenceMaxScale
  /// Encoded values per prediction.
  public var k: Int
  /// tanh units.
  public var width: Int
  public var epochs: Int
  public var learningRate: Double
  public var schedule: LearningRateSchedule = .constant
  public var batchSize = 128
  public var sequences = 2000
  public var validationSequences = 400
  public var seed: UInt64 = 0

  public init(family: SequenceFamily) {
    self.family = family
    let d = family.defaults
    (k, width, epochs, learningRate) = (d.window, d.hidden, d.epochs, d.learningRate)
  }

  /// The window of the `ExampleSet` the samples are cut from: `train`'s default window for sequence-max-scale (so
  /// the windows are the RNN's), k for window-differences (the RNN trained with `--window k` reads the same k
  /// differences).
  public var window: Int {
    switch encoding {
    case .sequenceMaxScale, .identity, .standardize, .standardizeDifferences: family.defaults.window
    case .windowDifferences: k
    }
  }

  /// The `train` options whose data this run uses.
  public var trainingOptions: TrainingOptions {
    // Field by field: BaselineOptions is its own public value (tests build it) holding only the fields it shares.
    var t = TrainingOptions(family: family)
    t.encoding = encoding
    t.experts = 0  // the MLP baseline has no readout to mix; linear2's default mixture does not apply
    t.polishExperts = 0  // nor its polish
    t.window = window
    t.epochs = epochs
    t.learningRate = learningRate
    t.schedule = schedule
    t.batchSize = batchSize
    t.sequences = sequences
    t.validationSequences = validationSequences
    t.seed = seed
    return t
  }

  public static let maxWidth = 1024

  /// Refuses out-of-range options with a message naming the option, the value and the accepted range.
  public func validate() throws(TrainerError) {
    let maxK =
      switch encoding {
      case .sequenceMaxScale, .identity, .standardize, .standardizeDifferences: family.defaults.window
      case .windowDifferences: family.lengthRange.lowerBound
      }
    guard k >= 1 else { throw .invalidOption("--k \(k) must be at least 1") }
    guard k <= maxK else {
      switch encoding {
      case .sequenceMaxScale, .identity, .standardize, .standardizeDifferences:
        throw .invalidOption(
          "--k \(k) is longer than the \(family.rawValue) training window (\(maxK) values); use 1...\(maxK)")
      case .windowDifferences:
        throw .invalidOption(
          "--k \(k) is longer than the shortest \(family.rawValue) sequence (\(maxK) values); use 1...\(maxK)")
      }
    }
    guard (1...Self.maxWidth).contains(width) else {
      throw .invalidOption("--width \(width) is out of range 1...\(Self.maxWidth)")
    }
    // Everything else as `train` checks it (epochs, lr, batch, sequence counts).
    var t = trainingOptions
    t.hiddenSize = 1
    try t.validate()
  }

  /// Options from command-line values (nil means "the family's default"), validated.
  public static func fromCommandLine(
    family: SequenceFamily?, encoding: Encoding? = nil, k: Int? = nil, width: Int? = nil, epochs: Int? = nil,
    lr: Double? = nil, schedule: LearningRateSchedule? = nil, seed: UInt64? = nil
  ) throws(TrainerError) -> BaselineOptions {
    // Family, encoding, epochs, lr, schedule and seed: parsed and checked exactly as `train` does.
    let t = try TrainingOptions.fromCommandLine(
      family: family, encoding: encoding, epochs: epochs, lr: lr, seed: seed, schedule: schedule)
    // The reverse of `trainingOptions`: `train`'s parser checks the shared flags once for both commands.
    var options = BaselineOptions(family: t.family)
    options.encoding = t.encoding
    options.epochs = t.epochs
    options.learningRate = t.learningRate
    options.schedule = t.schedule
    options.seed = t.seed
    if let k { options.k = k }
    if let width { options.width = width }
    try options.validate()
    return options
  }
}

// MARK: - A run

/// What a baseline run produced.
public struct BaselineRun: Sendable {
  public var options: BaselineOptions
  public var parameters: MLPParameters<Float>
  /// Σ(batch loss × batch size) / N per epoch.
  public var epochLosses: [Double]
  /// Training windows (`ExampleSet` count, the RNN's) and the samples cut from them.
  public var trainingWindows: Int
  public var trainingSamples: Int

  public var generator: MLPGenerator { MLPGenerator(parameters: parameters, encoding: options.encoding) }
}

public enum BaselineTrainer {
  /// Trains the MLP (see the top of this file for the data and draw order).
  public static func train(_ options: BaselineOptions, events: TrainingEvents = .init()) throws(TrainerError)
    -> BaselineRun
  {
    try options.validate()
    let rng = try GSLRandom(seed: options.seed)
    let starts = options.trainingOptions.slowRootStarts  // the family's default, as `train` draws it
    let trainingSequences = options.family.makeSequences(
      count: options.sequences, rng: rng, slowRootStarts: starts)
    _ = options.family.makeSequences(count: options.validationSequences, rng: rng, slowRootStarts: starts)
    let examples = ExampleSet(sequences: trainingSequences, encoding: options.encoding, window: options.window)
    let samples = MLPSamples(examples: examples, inputSize: options.k)
    guard samples.count > 0 else {
      throw .noTrainingExamples(
        "the \(options.sequences) training sequences produced no \(options.encoding.name) samples with k "
          + "\(options.k)")
    }

    var parameters = MLPParameters<Float>.pytorchDefault(inputSize: options.k, width: options.width, rng: rng)
    var gradient = MLPParameters<Float>(zerosWithInputSize: options.k, width: options.width)
    var adam = Adam<Float>(parameterCount: parameters.values.count, learningRate: options.learningRate)
    let batch = MLPBatch<Float>(
      inputSize: options.k, width: options.width, capacity: min(options.batchSize, samples.count))

    let n = samples.count
    // The loop is EpochLoop's, as in train and fit; what stays here is the MLP's own forward, backward and step.
    let loop = EpochLoop(
      count: n, batchSize: options.batchSize, epochs: options.epochs, learningRate: options.learningRate,
      schedule: options.schedule)
    let epochLosses = try loop.run(
      rng: rng, events: events,
      forward: { _, _, indices in
        batch.load(samples, indices: indices)
        return batch.forward(parameters)
      },
      backwardAndStep: { rate in
        batch.backward(parameters, into: &gradient)
        adam.learningRate = rate
        adam.update(&parameters.values, gradient: gradient.values)
      })
    guard parameters.allFinite else { throw .nonFiniteWeights(epoch: options.epochs) }
    return BaselineRun(
      options: options, parameters: parameters, epochLosses: epochLosses, trainingWindows: examples.count,
      trainingSamples: n)
  }

  /// Next-value statistics of `parameters` on `sequences`, encoded as the run's training data was: window MSE over
  /// every sample (encoded units), |error| of each window's final-step prediction in real units (GSL summary), and
  /// the mean generation error from each sequence's first `window` values (as `ValidationReport` does for the RNN).
  public static func measure(
    parameters: MLPParameters<Float>, options: BaselineOptions, sequences: [[Int]]
  ) -> ValidationReport {
    var report = ValidationReport()
    report.sequences = sequences.count
    report.seedLength = options.window
    let examples = ExampleSet(sequences: sequences, encoding: options.encoding, window: options.window)
    let samples = MLPSamples(examples: examples, inputSize: options.k)
    report.windows = examples.count
    if samples.count > 0 {
      var outputs = [Float](repeating: 0, count: samples.count)
      let hidden = UnsafeMutablePointer<Float>.allocate(capacity: parameters.paddedWidth)
      defer { hidden.deallocate() }
      var squared = 0.0
      samples.inputs.withUnsafeBufferPointer { xs in
        for s in 0..<samples.count {
          outputs[s] = parameters.forward(xs.baseAddress! + s * options.k, hidden: hidden)
          let e = Double(outputs[s] - samples.targets[s])
          squared += e * e
        }
      }
      report.windowMSE = squared / Double(samples.count)
      let errors = (0..<examples.count).map { e in
        abs(examples.offsets[e] + examples.scales[e] * Double(outputs[samples.finalSample[e]]) - examples.truths[e])
      }
      report.absoluteError = GSLStatistics.summary(errors)
    }
    let generator = MLPGenerator(parameters: parameters, encoding: options.encoding)
    let steps = ValidationReport.horizons.max()!
    var perHorizon = [[Double]](repeating: [], count: ValidationReport.horizons.count)
    for s in sequences where s.count >= options.window {
      let seed = s.prefix(options.window).map { Double($0) }
      let generated = generator.continuation(of: seed, count: steps)
      let truth = options.family.continuation(of: seed, count: steps)
      for (i, h) in ValidationReport.horizons.enumerated() {
        perHorizon[i].append(abs(generated[h - 1] - truth[h - 1]))
      }
    }
    report.generationError = perHorizon.map { GSLStatistics.mean($0) }
    return report
  }
}

// MARK: - The baseline's report

/// Everything `recur-train baseline` prints after training.
public struct BaselineEvaluation: Sendable {
  public var run: BaselineRun
  public var generation: GenerationEvaluation
  public var heldOut: ValidationReport

  public init(run: BaselineRun) throws(TrainerError) {
    self.run = run
    generation = GenerationEvaluation(family: run.options.family, generator: run.generator)
    heldOut = BaselineTrainer.measure(
      parameters: run.parameters, options: run.options, sequences: try HeldOut.sequences(run.options.family))
  }

  public var modelDescription: String {
    let o = run.options
    return
      "MLP baseline, k \(o.k) \(o.encoding.name) values -> \(o.width) tanh -> 1, "
      + "\(run.parameters.values.count) parameters; trained on \(o.family.rawValue), seed \(o.seed), \(o.epochs) "
      + "epochs, lr \(formatError(o.learningRate)) \(o.schedule.rawValue)"
  }

  public func report() -> String {
    let o = run.options
    return evaluationReport(
      title: modelDescription, generatorNote: "(MLP in place of the cell)", family: o.family, generation: generation,
      heldOut: heldOut, window: o.window, encoding: o.encoding,
      mseNote: o.encoding == .sequenceMaxScale && o.k < o.window
        ? "positions \(o.k)...\(o.window) of each window" : "the final step of each window")
  }
}
