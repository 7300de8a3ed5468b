// The training run: options and their validation, data, initialisation, the epoch loop, export and validation.
//
// Every random draw comes from one GSL mt19937 seeded with `--seed`, in this fixed order: training sequences,
// validation sequences, initial weights, then each epoch's shuffle. The same options therefore give the same model
// file, byte for byte.

import Foundation
import RecurRuntime

// MARK: - Options

/// Everything a training run depends on. `init(family:)` fills in the notebook's recipe for the family.
public struct TrainingOptions: Sendable, Equatable {
  public var family: SequenceFamily
  public var encoding: Encoding = .sequenceMaxScale
  public var hiddenSize: Int
  /// Time steps per example (sequence-max-scale) or differences per example (window-differences).
  public var window: Int
  public var epochs: Int
  public var learningRate: Double
  public var batchSize = 128
  public var sequences = 2000
  public var validationSequences = 400
  public var seed: UInt64 = 0
  /// The notebook's constant rate, or cosine annealing to zero over all batches (used for the extrapolating
  /// fixtures: their target is a linear function to be fitted precisely, and a constant Adam rate plateaus on
  /// minibatch noise).
  public var schedule: LearningRateSchedule = .constant

  public init(family: SequenceFamily) {
    self.family = family
    (hiddenSize, window, epochs, learningRate) = family.defaults
  }

  /// Upper bounds that keep a run's memory and the model file's fields in range.
  public static let maxEpochs = 100_000
  public static let maxBatchSize = 65_536
  public static let maxSequences = 1_000_000

  /// Refuses out-of-range options with a message naming the option, the value and the accepted range.
  public func validate() throws(TrainerError) {
    func refuse(_ message: String) -> TrainerError { .invalidOption(message) }
    let maxH = ModelFormat.maxHiddenSize
    guard (1...maxH).contains(hiddenSize) else {
      throw refuse("--hidden \(hiddenSize) is out of range 1...\(maxH)")
    }
    guard learningRate.isFinite, learningRate > 0 else {
      throw refuse("--lr \(learningRate) must be a positive finite number")
    }
    guard Float(learningRate).isFinite, Float(learningRate) > 0 else {
      throw refuse("--lr \(learningRate) is not representable as a positive float32")
    }
    guard (1...Self.maxEpochs).contains(epochs) else {
      throw refuse("--epochs \(epochs) is out of range 1...\(Self.maxEpochs)")
    }
    guard (1...Self.maxBatchSize).contains(batchSize) else {
      throw refuse("--batch \(batchSize) is out of range 1...\(Self.maxBatchSize)")
    }
    let shortest = family.lengthRange.lowerBound
    guard window >= 1 else { throw refuse("--window \(window) must be at least 1") }
    guard window <= shortest else {
      throw refuse(
        "--window \(window) is longer than the shortest \(family.rawValue) sequence (\(shortest) values); "
          + "use 1...\(shortest)")
    }
    guard (1...Self.maxSequences).contains(sequences) else {
      throw refuse("--sequences \(sequences) is out of range 1...\(Self.maxSequences)")
    }
    guard (1...Self.maxSequences).contains(validationSequences) else {
      throw refuse(
        "--validation-sequences \(validationSequences) is out of range 1...\(Self.maxSequences)")
    }
  }
}

// MARK: - Results and progress

/// What a run produced.
public struct TrainingRun: Sendable {
  public var options: TrainingOptions
  /// The finished model file: weights, provenance and validation statistics.
  public var model: ModelFile
  public var parameters: RNNParameters<Float>
  /// Σ(batch loss × batch size) / N per epoch, as the notebook prints it.
  public var epochLosses: [Double]
  public var trainingExamples: Int
  public var validation: ValidationReport
}

/// Progress callbacks, called on the training thread.
public struct TrainingEvents {
  /// Once the data is ready: (training examples, batches per epoch).
  public var started: (Int, Int) -> Void = { _, _ in }
  /// After each epoch: (epoch from 1, epoch loss).
  public var epochFinished: (Int, Double) -> Void = { _, _ in }
  /// After each batch: (batches done so far in the run, total batches in the run).
  public var batchFinished: (Int, Int) -> Void = { _, _ in }
  public init() {}
}

/// The notebook's epoch line: `Epoch 01 | Loss 0.067857`.
public func epochLine(_ epoch: Int, loss: Double) -> String {
  String(format: "Epoch %02d | Loss %.6f", epoch, loss)
}

// MARK: - Training

public enum Trainer {
  /// Trains, exports, reloads the export through the runtime and measures it on held-out data.
  public static func train(_ options: TrainingOptions, events: TrainingEvents = .init())
    throws(TrainerError)
    -> TrainingRun
  {
    try train(options, events: events, lossHook: nil)
  }

  /// `lossHook(epoch, batch, loss)` may replace a batch loss before it is checked (tests inject NaN with it).
  static func train(
    _ options: TrainingOptions, events: TrainingEvents, lossHook: ((Int, Int, Double) -> Double)?
  ) throws(TrainerError) -> TrainingRun {
    try options.validate()
    let rng = try GSLRandom(seed: options.seed)

    // Data: training sequences first, then the held-out ones, from the same generator.
    let trainingSequences = options.family.makeSequences(count: options.sequences, rng: rng)
    let validationSequences = options.family.makeSequences(
      count: options.validationSequences, rng: rng)
    let examples = ExampleSet(
      sequences: trainingSequences, encoding: options.encoding, window: options.window)
    guard examples.count > 0 else {
      throw .noTrainingExamples(
        "the \(options.sequences) training sequences produced no \(options.encoding.name) examples with window "
          + "\(options.window); use more sequences or a shorter window")
    }

    // Model and optimiser.
    var parameters = RNNParameters<Float>.pytorchDefault(hiddenSize: options.hiddenSize, rng: rng)
    var gradient = RNNParameters<Float>(zerosWithHiddenSize: options.hiddenSize)
    var adam = Adam<Float>(
      parameterCount: parameters.values.count, learningRate: options.learningRate)
    let graph = RNNBatchGraph<Float>(
      hiddenSize: options.hiddenSize, steps: options.window,
      capacity: min(options.batchSize, examples.count))

    let loop = EpochLoop(
      count: examples.count, batchSize: options.batchSize, epochs: options.epochs,
      learningRate: options.learningRate, schedule: options.schedule)
    let epochLosses = try loop.run(
      rng: rng, events: events,
      forward: { epoch, batch, indices in
        graph.load(examples, indices: indices)
        let loss = graph.forward(parameters)
        return lossHook?(epoch, batch, loss) ?? loss
      },
      backwardAndStep: { rate in
        graph.backward(parameters, into: &gradient)
        adam.learningRate = rate
        adam.update(&parameters, gradient: gradient)
      })
    guard parameters.allFinite else { throw .nonFiniteWeights(epoch: options.epochs) }

    // Export, then measure the export through the runtime.
    var file = parameters.modelFile(contextLength: options.window, encoding: options.encoding)
    file.provenance.seed = options.seed
    file.provenance.epochs = UInt32(options.epochs)
    file.provenance.batchSize = UInt32(options.batchSize)
    file.provenance.trainingSequences = UInt32(options.sequences)
    file.provenance.learningRate = Float(options.learningRate)
    file.provenance.finalLoss = Float(epochLosses[epochLosses.count - 1])
    file.provenance.family = options.family.rawValue
    let validation = try ValidationReport.measure(
      parameters: parameters, file: file, sequences: validationSequences, family: options.family)
    file.validation = validation.stats
    return TrainingRun(
      options: options, model: file, parameters: parameters, epochLosses: epochLosses,
      trainingExamples: examples.count,
      validation: validation)
  }
}

/// How the learning rate moves over a run.
public enum LearningRateSchedule: String, Sendable, CaseIterable {
  case constant
  /// lr · (1 + cos(π · batch / total batches)) / 2, batch counted from 0.
  case cosine

  public func rate(base: Double, batch: Int, totalBatches: Int) -> Double {
    switch self {
    case .constant: base
    case .cosine: base * 0.5 * (1 + cos(Double.pi * Double(batch) / Double(totalBatches)))
    }
  }
}

// MARK: - Command-line values

extension TrainingOptions {
  /// The accepted `--encoding` names.
  public static let encodingNames = [Encoding.sequenceMaxScale, .windowDifferences].map(\.name)

  /// Options from command-line values (nil means "the family's default"), validated.
  public static func fromCommandLine(
    family: String?, encoding: String? = nil, hidden: Int? = nil, window: Int? = nil,
    epochs: Int? = nil,
    lr: Double? = nil, batch: Int? = nil, sequences: Int? = nil, validationSequences: Int? = nil,
    seed: UInt64? = nil, schedule: String? = nil
  ) throws(TrainerError) -> TrainingOptions {
    let names = SequenceFamily.allCases.map(\.rawValue).joined(separator: " or ")
    guard let familyName = family else { throw .invalidOption("missing --family (\(names))") }
    guard let parsedFamily = SequenceFamily(rawValue: familyName) else {
      throw .invalidOption("unknown family '\(familyName)' (expected \(names))")
    }
    var options = TrainingOptions(family: parsedFamily)
    if let encoding {
      guard
        let parsed = [Encoding.sequenceMaxScale, .windowDifferences].first(where: {
          $0.name == encoding
        })
      else {
        throw .invalidOption(
          "unknown encoding '\(encoding)' (expected \(encodingNames.joined(separator: " or ")))")
      }
      options.encoding = parsed
    }
    if let hidden { options.hiddenSize = hidden }
    if let window { options.window = window }
    if let epochs { options.epochs = epochs }
    if let lr { options.learningRate = lr }
    if let batch { options.batchSize = batch }
    if let sequences { options.sequences = sequences }
    if let validationSequences { options.validationSequences = validationSequences }
    if let seed { options.seed = seed }
    if let schedule {
      guard let parsed = LearningRateSchedule(rawValue: schedule) else {
        throw .invalidOption("unknown learning-rate schedule '\(schedule)' (expected constant or cosine)")
      }
      options.schedule = parsed
    }
    try options.validate()
    return options
  }
}
