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
  /// The recurrent cell of every layer: the seed notebook's vanilla tanh RNN, a GRU or an LSTM.
  public var cell: CellKind = .rnn
  /// Stacked layers, 1...`Architecture.maxLayers`.
  public var layers = 1
  public var hiddenSize: Int
  /// Linear experts of a mixture readout (0: the plain Linear readout; window-differences only). See `ExpertMixture`.
  public var experts = 0
  /// Differences each expert weighs (the latest ones), 1...`window`; used when `experts` > 0.
  public var expertOrder = 2
  /// Time steps per example (sequence-max-scale) or differences per example (window-differences).
  public var window: Int
  public var epochs: Int
  public var learningRate: Double
  public var batchSize = 128
  public var sequences = 2000
  public var validationSequences = 400
  /// linear2 only: the fraction of sequences with two real roots of different size that start on the slower root's
  /// direction (`SequenceFamily.slowRootStart`), 0...1.
  public var slowRootStarts = 0.0
  /// A mixture only: after the epochs, refit the experts by least squares on the training windows predicted within
  /// this |error| (encoded units: a fraction of the window's scale); 0 leaves them as trained. See `ExpertPolish`.
  public var polishExperts = 0.0
  public var seed: UInt64 = 0
  /// The notebook's constant rate, or cosine annealing to zero over all batches (used for the extrapolating
  /// fixtures: their target is a linear function to be fitted precisely, and a constant Adam rate plateaus on
  /// minibatch noise).
  public var schedule: LearningRateSchedule = .constant

  public init(family: SequenceFamily) {
    self.family = family
    (hiddenSize, window, epochs, learningRate) = family.defaults
    if family == .linear2 {
      // The built-in `linear` model's recipe (docs/builtin-models.md, the `linear` section): the class is only learnable through
      // window-differences, and needs a gated cell, ten times the notebook's data and an annealed rate.
      encoding = .windowDifferences
      cell = .gru
      batchSize = 64
      sequences = 20_000
      schedule = .cosine
      experts = 32
      slowRootStarts = 0.3
      polishExperts = 1
    }
  }

  /// Upper bounds that keep a run's memory and the model file's fields in range.
  public static let maxEpochs = 100_000
  public static let maxBatchSize = 65_536
  public static let maxSequences = 1_000_000
  /// The range `experts.weight` is drawn from, uniformly: it spreads the experts over the coefficients of the order-2
  /// recurrences the window-differences families hold (|p|, |q| ≤ 3), so every class has experts near it from the start.
  public static let expertInitBound = 3.0

  /// The model trained: `layers` cells of `cell`, input and output 1 (the sequence families are univariate).
  public var architecture: Architecture {
    Architecture(
      kind: cell, layers: layers, inputSize: 1, hiddenSize: hiddenSize, outputSize: 1, experts: experts,
      expertOrder: experts > 0 ? expertOrder : 0)
  }

  /// "hidden 16" for the seed notebook's one vanilla layer, "gru, 2 layers, hidden 16" otherwise.
  public var modelLabel: String { Self.label(architecture) }

  /// The label of `architecture` (also for a warm start's model).
  static func label(_ a: Architecture) -> String {
    let mixture = a.isMixture ? ", \(a.experts) experts of order \(a.expertOrder)" : ""
    if a.kind == .rnn && a.layers == 1 { return "hidden \(a.hiddenSize)" + mixture }
    return "\(a.kind.name), \(a.layers) layer\(a.layers == 1 ? "" : "s"), hidden \(a.hiddenSize)" + mixture
  }

  /// An upper bound on the bytes of the model file for `architecture`: header, directory, tensors each padded to the
  /// format's alignment, checksum.
  static func fileSizeBound(_ architecture: Architecture) -> Int {
    let n = architecture.tensorCount
    return ModelFormat.headerSize + n * (ModelFormat.directoryEntrySize + ModelFormat.tensorAlignment)
      + 4 * architecture.parameterCount + ModelFormat.checksumSize
  }

  /// `--polish-experts`' own range, 0...1 (checked before a warm start's model is read, as the other flags' are).
  public static func checkPolishExpertsRange(_ value: Double) throws(TrainerError) {
    guard value.isFinite, (0...1).contains(value) else {
      throw .invalidOption("--polish-experts \(value) is out of range 0...1 (an error, in units of the window's scale)")
    }
  }

  /// Refuses out-of-range options with a message naming the option, the value and the accepted range.
  public func validate() throws(TrainerError) {
    func refuse(_ message: String) -> TrainerError { .invalidOption(message) }
    let maxH = ModelFormat.maxHiddenSize
    guard (1...maxH).contains(hiddenSize) else {
      throw refuse("--hidden \(hiddenSize) is out of range 1...\(maxH)")
    }
    let maxLayers = Architecture.maxLayers
    guard (1...maxLayers).contains(layers) else {
      throw refuse("--layers \(layers) is out of range 1...\(maxLayers)")
    }
    // The mixture's sizes first: the file-size bound below multiplies them.
    guard (0...Architecture.maxExperts).contains(experts) else {
      throw refuse("--experts \(experts) is out of range 0...\(Architecture.maxExperts)")
    }
    guard (1...ModelFormat.maxContextLength).contains(expertOrder) else {
      throw refuse("--expert-order \(expertOrder) is out of range 1...\(window) (the window)")
    }
    // Readers refuse files above ModelFormat.maxFileSize: refuse a model that could not be written rather than
    // train it for nothing.
    guard Self.fileSizeBound(architecture) <= ModelFormat.maxFileSize else {
      throw refuse(
        "--cell \(cell.name) --layers \(layers) --hidden \(hiddenSize) has \(architecture.parameterCount) "
          + "parameters, more than a model file holds (\(ModelFormat.maxFileSize >> 20) MiB); use a smaller --hidden "
          + "or fewer --layers")
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
    if experts > 0 {
      guard encoding == .windowDifferences else {
        throw refuse(
          "--experts \(experts) needs --encoding window-differences (a mixture weighs the window's differences); "
            + "use --experts 0 with \(encoding.name)")
      }
      guard expertOrder <= window else {
        throw refuse("--expert-order \(expertOrder) is out of range 1...\(window) (the window)")
      }
    }
    guard (1...Self.maxSequences).contains(sequences) else {
      throw refuse("--sequences \(sequences) is out of range 1...\(Self.maxSequences)")
    }
    guard (1...Self.maxSequences).contains(validationSequences) else {
      throw refuse(
        "--validation-sequences \(validationSequences) is out of range 1...\(Self.maxSequences)")
    }
    try Self.checkPolishExpertsRange(polishExperts)
    if polishExperts > 0 {
      guard experts > 0 else {
        throw refuse(
          "--polish-experts \(polishExperts) needs a mixture readout (--experts 1 or more, with --encoding "
            + "window-differences)")
      }
      guard experts * expertOrder <= ExpertPolish.maxCoefficients else {
        throw refuse(
          "--polish-experts needs at most \(ExpertPolish.maxCoefficients) expert coefficients; --experts \(experts) "
            + "--expert-order \(expertOrder) has \(experts * expertOrder) (use --polish-experts 0)")
      }
    }
    guard (0...1).contains(slowRootStarts) else {
      throw refuse("--slow-root-starts \(slowRootStarts) is out of range 0...1 (a fraction)")
    }
    guard slowRootStarts == 0 || family == .linear2 else {
      throw refuse(
        "--slow-root-starts \(slowRootStarts) needs --family linear2 (the other families have one start rule)")
    }
    try BatchGraph<Float>.checkMemory(architecture: architecture, steps: window, capacity: batchSize)
  }
}

// MARK: - Results and progress

/// What a run produced.
public struct TrainingRun: Sendable {
  public var options: TrainingOptions
  /// The finished model file: weights, provenance and validation statistics.
  public var model: ModelFile
  public var parameters: Parameters<Float>
  /// Σ(batch loss × batch size) / N per epoch, as the notebook prints it.
  public var epochLosses: [Double]
  public var trainingExamples: Int
  /// What `--polish-experts` did (nil when it was 0).
  public var polish: ExpertPolish?
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
  /// `initial`: a warm start, training continues from its weights instead of a fresh PyTorch-like draw (its
  /// architecture, encoding and window must be the options'; `TrainingOptions.fromCommandLine(initial:)` takes them
  /// from it).
  public static func train(
    _ options: TrainingOptions, initial: ModelFile? = nil, events: TrainingEvents = .init()
  )
    throws(TrainerError)
    -> TrainingRun
  {
    try train(options, initial: initial, events: events, lossHook: nil)
  }

  /// `lossHook(epoch, batch, loss)` may replace a batch loss before it is checked (tests inject NaN with it).
  static func train(
    _ options: TrainingOptions, initial: ModelFile? = nil, events: TrainingEvents,
    lossHook: ((Int, Int, Double) -> Double)?
  ) throws(TrainerError) -> TrainingRun {
    try options.validate()
    if let initial { try options.checkWarmStart(initial) }
    let rng = try GSLRandom(seed: options.seed)

    // Data: training sequences first, then the held-out ones, from the same generator.
    let trainingSequences = options.family.makeSequences(
      count: options.sequences, rng: rng, slowRootStarts: options.slowRootStarts)
    let validationSequences = options.family.makeSequences(
      count: options.validationSequences, rng: rng, slowRootStarts: options.slowRootStarts)
    let examples = ExampleSet(
      sequences: trainingSequences, encoding: options.encoding, window: options.window,
      minimumDifferences: options.family.minimumDifferences(window: options.window))
    guard examples.count > 0 else {
      throw .noTrainingExamples(
        "the \(options.sequences) training sequences produced no \(options.encoding.name) examples with window "
          + "\(options.window); use more sequences or a shorter window")
    }

    // Model and optimiser (a warm start draws no weights: the generator then drives only the shuffles).
    var parameters =
      initial.map { Parameters<Float>($0) }
      ?? Parameters<Float>.pytorchDefault(architecture: options.architecture, rng: rng)
    var gradient = Parameters<Float>(zeros: options.architecture)
    var adam = Adam<Float>(
      parameterCount: parameters.values.count, learningRate: options.learningRate)
    let graph = BatchGraph<Float>(
      architecture: options.architecture, steps: options.window,
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
    var polish: ExpertPolish? = nil
    if options.polishExperts > 0 {
      polish = ExpertPolish.refit(&parameters, examples: examples, tolerance: options.polishExperts)
    }

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
      trainingExamples: examples.count, polish: polish,
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
  /// The `--encoding` values `train` and `baseline` accept (the scaled encodings: the families are univariate).
  public static let trainableEncodings: [Encoding] = [.sequenceMaxScale, .windowDifferences]

  /// Options from command-line values (nil means "the family's default"), validated. The enums arrive parsed (the
  /// command line parses them with ArgumentParser, which refuses an unknown name with the accepted ones).
  public static func fromCommandLine(
    family: SequenceFamily?, encoding: Encoding? = nil, cell: CellKind? = nil, layers: Int? = nil, hidden: Int? = nil,
    window: Int? = nil, epochs: Int? = nil, lr: Double? = nil, batch: Int? = nil, sequences: Int? = nil,
    validationSequences: Int? = nil, seed: UInt64? = nil, schedule: LearningRateSchedule? = nil,
    experts: Int? = nil, expertOrder: Int? = nil, slowRootStarts: Double? = nil, polishExperts: Double? = nil,
    initial: (file: ModelFile, name: String)? = nil
  ) throws(TrainerError) -> TrainingOptions {
    guard let parsedFamily = family else { throw .invalidOption("missing --family (\(SequenceFamily.nameList))") }
    var options = TrainingOptions(family: parsedFamily)
    if let encoding {
      guard trainableEncodings.contains(encoding) else {
        let accepted = trainableEncodings.map(\.name).joined(separator: " or ")
        throw .invalidOption("--encoding \(encoding.name) cannot be trained (expected \(accepted))")
      }
      options.encoding = encoding
      // A family's mixture default belongs to its default encoding; another encoding gets the plain readout.
      if encoding != .windowDifferences && experts == nil { options.experts = 0 }
    }
    if let (file, name) = initial {
      // A warm start: the model's shape, encoding and window are the run's; a flag may repeat them, not change them.
      let a = file.architecture
      try checkContinuable(file, name: name)
      func differs(_ flag: String, _ given: String?, _ recorded: String) throws(TrainerError) {
        if let given, given != recorded {
          throw .invalidOption("\(flag) \(given) does not match --init '\(name)' (\(flag) \(recorded))")
        }
      }
      try differs("--cell", cell?.name, a.kind.name)
      try differs("--layers", layers.map(String.init), String(a.layers))
      try differs("--hidden", hidden.map(String.init), String(a.hiddenSize))
      try differs("--window", window.map(String.init), String(file.contextLength))
      try differs("--encoding", encoding?.name, file.encoding.name)
      try differs("--experts", experts.map(String.init), String(a.experts))
      if a.isMixture { try differs("--expert-order", expertOrder.map(String.init), String(a.expertOrder)) }
      options.experts = a.experts
      if a.isMixture { options.expertOrder = a.expertOrder }
      options.cell = a.kind
      options.layers = a.layers
      options.hiddenSize = a.hiddenSize
      options.window = file.contextLength
      options.encoding = file.encoding
    }
    // One line per flag, a list rather than repeated logic: each given flag overrides its own field.
    if let cell { options.cell = cell }
    if let layers { options.layers = layers }
    if let hidden { options.hiddenSize = hidden }
    if let window { options.window = window }
    if let epochs { options.epochs = epochs }
    if let lr { options.learningRate = lr }
    if let batch { options.batchSize = batch }
    if let sequences { options.sequences = sequences }
    if let validationSequences { options.validationSequences = validationSequences }
    if let seed { options.seed = seed }
    if let schedule { options.schedule = schedule }
    if let slowRootStarts { options.slowRootStarts = slowRootStarts }
    if let experts { options.experts = experts }
    if let expertOrder {
      guard options.experts > 0 else {
        throw .invalidOption("--expert-order \(expertOrder) needs a mixture readout (--experts 1 or more)")
      }
      options.expertOrder = expertOrder
    }
    // The family's polish default belongs to its mixture default; a plain readout gets none unless asked (and refused).
    // (Sizes are not range-checked yet: the product may overflow, which also means too large.)
    let (coefficients, overflow) = options.experts.multipliedReportingOverflow(by: options.expertOrder)
    if let polishExperts {
      options.polishExperts = polishExperts
    } else if options.experts == 0 || overflow || coefficients > ExpertPolish.maxCoefficients {
      options.polishExperts = 0  // the default is for a mixture small enough to polish; asked for, it is refused
    }
    if let (file, name) = initial, file.contextLength > options.family.lengthRange.lowerBound {
      let family = options.family
      throw .invalidOption(
        "--init '\(name)' has window \(file.contextLength), longer than the shortest \(family.rawValue) sequence "
          + "(\(family.lengthRange.lowerBound) values)")
    }
    try options.validate()
    if let (file, name) = initial { try options.checkWarmStart(file, name: name) }
    return options
  }

  /// Refuses a model no sequence-family run can continue: several inputs or outputs (a `fit` model), or an encoding
  /// `train` does not train.
  static func checkContinuable(_ file: ModelFile, name: String) throws(TrainerError) {
    let a = file.architecture
    guard a.inputSize == 1, a.outputSize == 1 else {
      throw .invalidOption(
        "--init '\(name)' has input size \(a.inputSize) and output size \(a.outputSize); the sequence families "
          + "train 1 and 1")
    }
    guard trainableEncodings.contains(file.encoding) else {
      throw .invalidOption(
        "--init '\(name)' uses encoding \(file.encoding.name); train continues only "
          + trainableEncodings.map(\.name).joined(separator: " or ") + " models")
    }
  }

  /// Refuses a warm start from a model these options cannot continue: another architecture (the families are
  /// univariate: input and output 1), encoding or window.
  public func checkWarmStart(_ file: ModelFile, name: String = "(model)") throws(TrainerError) {
    try Self.checkContinuable(file, name: name)
    let a = file.architecture
    guard a == architecture else {
      throw .invalidOption("--init '\(name)' is \(Self.label(a)); the run trains \(modelLabel)")
    }
    guard file.encoding == encoding else {
      throw .invalidOption("--init '\(name)' uses encoding \(file.encoding.name); the run's is \(encoding.name)")
    }
    guard file.contextLength == window else {
      throw .invalidOption("--init '\(name)' has window \(file.contextLength); the run's is \(window)")
    }
  }
}
