// `recur-train fit`: trains a model on the user's own data file with early stopping, and reports it beside honest
// baselines.
//
// Order of work: options checked, data read and split, standardisation fitted (GSL) on the training parts, the AR(p)
// baseline fitted, weights initialised like PyTorch from one GSL mt19937 (`--seed`), then per epoch: shuffled
// minibatches (Adam), then the epoch's weights are exported to model bytes, loaded by the runtime and scored one step
// ahead on the validation steps (mean ARV over target columns). The best epoch's bytes are kept; `--patience` epochs
// without a better score stop the run. The exported file is the best epoch's, and the final table is computed from
// those exact bytes through the runtime. Same data, options and seed give the same file, byte for byte.

import Foundation
import RecurRuntime

public struct FitOptions: Sendable, Equatable {
  /// GRU by default: on real series it trains reliably where a vanilla tanh cell's gradients vanish or explode over
  /// long windows, with three quarters of an LSTM's weights per hidden unit.
  public var cell: CellKind = .gru
  public var layers = 1
  public var hiddenSize = 32
  /// Steps of backpropagation through time per example, and the context every prediction reads.
  public var window = 16
  /// An upper bound: early stopping usually ends the run sooner.
  public var epochs = 300
  public var batchSize = 32
  public var learningRate = 0.003
  public var schedule: LearningRateSchedule = .constant
  public var seed: UInt64 = 0
  /// Differences by default: a model of the steps, not of the levels, continues a trend past the training range (the
  /// docs/seed-notebook.md's Q1 lesson), and on a stationary series it loses little.
  public var encoding: Encoding = .standardizeDifferences
  public var validationFraction = 0.2
  public var patience = 40
  public var horizon = 1
  /// Largest AR order tried for the baseline.
  public var maxOrder = 12
  /// The linear part's order: nil chooses from `LinearPart.candidateOrders` by AICc on the training part, 0 leaves
  /// it out.
  public var linearOrder: Int? = nil
  /// Initialisations trained (seeds `seed`, `seed + 1`, ...); the best validation epoch of all of them is kept.
  public var seeds = 3
  /// Horizons of the forecast intervals stored in the file (0: none).
  public var intervalHorizons = 12

  public init() {}

  /// The model for `inputs` data columns in and `outputs` out.
  public func architecture(inputs: Int, outputs: Int) -> Architecture {
    Architecture(kind: cell, layers: layers, inputSize: inputs, hiddenSize: hiddenSize, outputSize: outputs)
  }

  public func validate() throws(TrainerError) {
    func refuse(_ m: String) -> TrainerError { .invalidOption(m) }
    guard (1...Architecture.maxLayers).contains(layers) else {
      throw refuse("--layers \(layers) is out of range 1...\(Architecture.maxLayers)")
    }
    guard (1...Architecture.maxHiddenSize).contains(hiddenSize) else {
      throw refuse("--hidden \(hiddenSize) is out of range 1...\(Architecture.maxHiddenSize)")
    }
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw refuse("--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    guard (1...TrainingOptions.maxEpochs).contains(epochs) else {
      throw refuse("--epochs \(epochs) is out of range 1...\(TrainingOptions.maxEpochs)")
    }
    guard (1...TrainingOptions.maxBatchSize).contains(batchSize) else {
      throw refuse("--batch \(batchSize) is out of range 1...\(TrainingOptions.maxBatchSize)")
    }
    guard learningRate.isFinite, learningRate > 0, Float(learningRate) > 0 else {
      throw refuse("--lr \(learningRate) must be a positive finite number")
    }
    guard encoding.isStandardized else {
      throw refuse("--encoding \(encoding.name) cannot be fitted (expected standardize or standardize-differences)")
    }
    guard validationFraction >= 0 && validationFraction < 1 else {
      throw refuse("--validation \(validationFraction) must be in [0, 1)")
    }
    guard patience >= 1 else { throw refuse("--patience \(patience) must be at least 1") }
    if let p = linearOrder, !(0...LinearTerm.maxOrder).contains(p) {
      throw refuse("--linear \(p) is out of range 0...\(LinearTerm.maxOrder) (or auto)")
    }
    guard (1...100).contains(seeds) else { throw refuse("--seeds \(seeds) is out of range 1...100") }
    guard (0...ForecastIntervals.maxHorizons).contains(intervalHorizons) else {
      throw refuse("--interval-horizons \(intervalHorizons) is out of range 0...\(ForecastIntervals.maxHorizons)")
    }
    try Self.checkScoring(horizon: horizon, maxOrder: maxOrder)
  }

  /// `--horizon` and `--ar-order`, as `fit` and `score` accept them.
  public static func checkScoring(horizon: Int, maxOrder: Int) throws(TrainerError) {
    guard (1...10_000).contains(horizon) else {
      throw .invalidOption("--horizon \(horizon) is out of range 1...10000")
    }
    guard (1...64).contains(maxOrder) else { throw .invalidOption("--ar-order \(maxOrder) is out of range 1...64") }
  }
}

/// What a fit produced.
public struct FitRun: Sendable {
  /// The exported model: the best validation epoch's weights.
  public var bytes: [UInt8]
  /// The seed whose run gave the model (`--seed` + k), and its epoch (0: the linear part alone).
  public var bestSeed: UInt64
  public var bestEpoch: Int
  public var epochsRun: Int
  /// Per epoch: training loss (encoded MSE) and validation ARV (one step, through the runtime).
  public var trainingLosses: [Double]
  public var validationScores: [Double]
  /// The final table's rows, horizon 1 first.
  public var table: [(horizon: Int, rows: [ForecastRow])]
  public var autoregressiveOrders: [Int]
  public var trainingExamples: Int
  /// The linear part's orders tried with their validation ARV, the order kept (0: none) and its validation ARV alone.
  public var linearTrials: [LinearPart.Trial]
  public var linearOrder: Int
  public var linearScore: Double?
  /// Per seed trained: its best validation ARV.
  public var seedScores: [(seed: UInt64, score: Double)]
}

public struct FitEvents {
  /// (run index from 0, runs, its seed), before each seed's training.
  public var seedStarted: (Int, Int, UInt64) -> Void = { _, _, _ in }
  /// (examples, batches per epoch).
  public var started: (Int, Int) -> Void = { _, _ in }
  /// (batches done over every seed, the batches expected in all: each seed's run projected to its best epoch +
  /// patience, seeds to come as long as the finished ones).
  public var batchFinished: (Int, Int) -> Void = { _, _ in }
  /// (epoch, training loss, validation ARV, best so far).
  public var epochFinished: (Int, Double, Double, Bool) -> Void = { _, _, _, _ in }
  public init() {}
}

public enum Fitter {
  public static func fit(
    _ options: FitOptions, data original: FitData, variance: Double? = nil, events: FitEvents = .init()
  ) throws(TrainerError) -> FitRun {
    try options.validate()
    var data = original
    let architecture = options.architecture(inputs: data.inputSize, outputs: data.outputSize)
    guard TrainingOptions.fileSizeBound(architecture) <= ModelFormat.maxFileSize else {
      throw .invalidOption(
        "--cell \(options.cell.name) --layers \(options.layers) --hidden \(options.hiddenSize) is larger than a "
          + "model file holds (\(ModelFormat.maxFileSize >> 20) MiB)")
    }
    try BatchGraph<Float>.checkMemory(architecture: architecture, steps: options.window, capacity: options.batchSize)
    let task = data.forecastTask
    if options.horizon > 1 && !task.canFreeRun {
      throw .invalidOption("--horizon \(options.horizon) needs --target equal to --inputs (forecasts are fed back)")
    }
    let autoregressive = try task.fitAutoregressive(maxOrder: options.maxOrder)  // before training: fails early
    // The linear part (LinearPart.swift): fitted and chosen first; the network learns what it leaves.
    var linearTrials: [LinearPart.Trial] = []
    if options.linearOrder != 0 {
      let orders = options.linearOrder.map { [$0] } ?? LinearPart.candidateOrders
      let chosen = try LinearPart.choose(data, orders: orders, variance: variance)
      data.useLinearTerm(chosen.term)
      linearTrials = chosen.trials
    }
    let examples = data.examples(window: options.window)
    let graph = BatchGraph<Float>(
      architecture: architecture, steps: options.window, capacity: min(options.batchSize, examples.count))
    let truths = task.truths(horizon: 1)

    /// The model file of `parameters` (provenance filled in; statistics added at the end).
    func export(_ parameters: Parameters<Float>, seed: UInt64, epochs: Int, loss: Double) -> ModelFile {
      var file = parameters.modelFile(contextLength: options.window, encoding: data.encoding)
      file.normalization = data.normalization
      file.linearTerm = data.linearTerm
      file.provenance.seed = seed
      file.provenance.epochs = UInt32(epochs)
      file.provenance.batchSize = UInt32(options.batchSize)
      file.provenance.trainingSequences = UInt32(data.trainingParts.count)
      file.provenance.learningRate = Float(options.learningRate)
      file.provenance.finalLoss = Float(loss)
      file.provenance.family = "fit"
      return file
    }
    func validationScore(_ bytes: [UInt8]) throws(TrainerError) -> Double {
      let model: RecurrentModel
      do { model = try RecurrentModel(bytes: bytes) } catch { throw .io("the exported model does not load: \(error)") }
      return combinedScore(task.modelForecasts(model, horizon: 1), truths, variance: variance).arv
    }
    /// PyTorch's initialisation from `seed`; with a linear part the readout starts at zero, so the model starts
    /// exactly at the linear part (a residual network's usual zero-initialised last layer).
    func initialParameters(_ rng: GSLRandom) -> Parameters<Float> {
      var p = Parameters<Float>.pytorchDefault(architecture: architecture, rng: rng)
      if data.linearTerm != nil {
        for role in [TensorRole.fcWeight, .fcBias] { for i in p.range(role) { p.values[i] = 0 } }
      }
      return p
    }

    // Candidates: the linear part alone (epoch 0: the zero readout), then every epoch of every seed.
    var best: (seed: UInt64, epoch: Int, score: Double, file: ModelFile)? = nil
    var linearScore: Double? = nil
    if data.linearTerm != nil {
      let file = export(initialParameters(try GSLRandom(seed: options.seed)), seed: options.seed, epochs: 0, loss: .nan)
      let score = try validationScore(file.encoded())
      linearScore = score
      if score.isFinite { best = (options.seed, 0, score, file) }
    }
    let loop = EpochLoop(
      count: examples.count, batchSize: options.batchSize, epochs: options.epochs, learningRate: options.learningRate,
      schedule: options.schedule)
    var runs: [(seed: UInt64, losses: [Double], scores: [Double])] = []
    for run in 0..<options.seeds {
      let seed = options.seed &+ UInt64(run)
      events.seedStarted(run, options.seeds, seed)
      let rng = try GSLRandom(seed: seed)
      var parameters = initialParameters(rng)
      var gradient = Parameters<Float>(zeros: architecture)
      var adam = Adam<Float>(parameterCount: parameters.values.count, learningRate: options.learningRate)
      var validationScores: [Double] = []
      var seedBest: (epoch: Int, score: Double)? = nil
      var loopEvents = TrainingEvents()
      loopEvents.started = events.started
      // Progress with early stopping in view: this seed runs at most to its best epoch + patience (at most --epochs),
      // and each seed still to come is expected to run as long as the finished ones did on average.
      let finishedEpochs = runs.reduce(0) { $0 + $1.losses.count }
      let perEpoch = loop.batchesPerEpoch
      loopEvents.batchFinished = { done, _ in
        let epochsNow = (done + perEpoch - 1) / perEpoch
        let projected = min(options.epochs, max(epochsNow, (seedBest?.epoch ?? 0) + options.patience))
        let later = options.seeds - run - 1
        let perSeed = runs.isEmpty ? projected : (finishedEpochs + runs.count / 2) / runs.count
        events.batchFinished(
          finishedEpochs * perEpoch + done, (finishedEpochs + projected + later * perSeed) * perEpoch)
      }
      let trainingLosses = try loop.run(
        rng: rng, events: loopEvents,
        forward: { _, _, indices in
          graph.load(examples, indices: indices)
          return graph.forward(parameters)
        },
        backwardAndStep: { rate in
          graph.backward(parameters, into: &gradient)
          adam.learningRate = rate
          adam.update(&parameters, gradient: gradient)
        },
        afterEpoch: { epoch, loss throws(TrainerError) in
          guard parameters.allFinite else { throw .nonFiniteWeights(epoch: epoch) }
          let file = export(parameters, seed: seed, epochs: epoch, loss: loss)
          let score = try validationScore(file.encoded())
          validationScores.append(score)
          let improved = score.isFinite && (best == nil || score < best!.score)
          if improved { best = (seed, epoch, score, file) }
          if score.isFinite && (seedBest == nil || score < seedBest!.score) { seedBest = (epoch, score) }
          events.epochFinished(epoch, loss, score, improved)
          guard let b = seedBest else { return false }
          return epoch - b.epoch >= options.patience
        })
      runs.append((seed, trainingLosses, validationScores))
    }
    guard let best else {
      throw .invalidData(
        "no epoch gave a finite validation ARV (\(runs.reduce(0) { $0 + $1.scores.count }) epochs): the scored "
          + "values may be constant (variance 0); pass --arv-variance")
    }

    // The final table, from the best candidate's bytes through the runtime.
    var file = best.file
    var bytes = file.encoded()
    let model: RecurrentModel
    do { model = try RecurrentModel(bytes: bytes) } catch { throw .io("the exported model does not load: \(error)") }
    let table = task.report(
      model: model, autoregressive: autoregressive, horizons: options.horizon > 1 ? [1, options.horizon] : [1],
      variance: variance)
    // Statistics in the file: the one-step validation figures (ARV as the "window MSE" slot, encoded units), then the
    // absolute errors.
    let oneStep = table[0].rows[2].score
    var stats = ValidationStats()
    stats.windows = UInt32(clamping: oneStep.count)
    stats.seeds = UInt32(clamping: data.validation.count)
    stats.windowMSE = Float(oneStep.arv)
    stats.absErrorMean = Float(oneStep.mae)
    file.validation = stats
    if options.intervalHorizons > 0 && task.canFreeRun {
      file.intervals = ForecastIntervalFit.fit(
        model: model, task: task, horizons: options.intervalHorizons, probabilities: ForecastIntervalFit.probabilities)
    }
    bytes = file.encoded()
    // The file written must load (the reader's every check, the 64 MiB limit included) before the CLI writes it.
    do { _ = try ModelFile(bytes: bytes) } catch {
      throw .io("the final model does not load (\(error)); nothing written")
    }
    let bestRun = runs.first { $0.seed == best.seed } ?? runs[0]
    return FitRun(
      bytes: bytes, bestSeed: best.seed, bestEpoch: best.epoch, epochsRun: bestRun.losses.count,
      trainingLosses: bestRun.losses, validationScores: bestRun.scores, table: table,
      autoregressiveOrders: autoregressive.map(\.order), trainingExamples: examples.count,
      linearTrials: linearTrials, linearOrder: data.linearTerm?.order ?? 0, linearScore: linearScore,
      seedScores: runs.map { r in (r.seed, r.scores.filter(\.isFinite).min() ?? .nan) })
  }
}
