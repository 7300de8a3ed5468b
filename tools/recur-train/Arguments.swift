// What `recur-train` reads from its command line: the enums, parsed by ArgumentParser (its "invalid value" errors
// list the accepted names, and `--help` lists them with a description each), and the option groups several
// commands share.

import ArgumentParser
import RecurRuntime
import RecurTrainer

/// CellKind's raw values are its on-disk codes, which ArgumentParser would print as an option's default
/// ("(default: 1)"); `--cell` is therefore optional, with its default stated in the help, as for `--hidden`.
extension CellKind: ExpressibleByArgument {
  public init?(argument: String) { self.init(name: argument) }
  public var defaultValueDescription: String { name }
  public static var allValueStrings: [String] { allCases.map(\.name) }
  public static var allValueDescriptions: [String: String] {
    Dictionary(uniqueKeysWithValues: allCases.map { ($0.name, "\($0.title) (nn.\($0.name.uppercased()))") })
  }
}

/// `--encoding` of `train` and `baseline`: the encodings training accepts (`TrainingOptions.trainableEncodings`;
/// the sequence families are univariate), by their format names. Not a conformance of `Encoding` itself, so that
/// other commands can accept every encoding.
enum TrainingEncoding: String, CaseIterable, ExpressibleByArgument {
  case sequenceMaxScale = "sequence-max-scale"
  case windowDifferences = "window-differences"

  var encoding: Encoding {
    switch self {
    case .sequenceMaxScale: .sequenceMaxScale
    case .windowDifferences: .windowDifferences
    }
  }

  var defaultValueDescription: String {
    switch self {
    case .sequenceMaxScale: "each sequence divided by its largest magnitude (the notebook's)"
    case .windowDifferences: "the window's differences, normalised; predicts the next one (extrapolating)"
    }
  }
}

extension LearningRateSchedule: ExpressibleByArgument {
  public static var allValueDescriptions: [String: String] {
    [
      "constant": "the same rate every epoch (the notebook's)",
      "cosine": "annealed to zero by a cosine over the epochs",
    ]
  }
}

/// `--family` of `train`, `baseline` and `eval`: the generated sequence families, by name.
extension SequenceFamily: ExpressibleByArgument {
  public static var allValueDescriptions: [String: String] {
    [
      "odd": "runs of odd numbers (the notebook's first model)",
      "fib": "Fibonacci-like runs (the notebook's second model)",
      "linear2": "every order-2 linear recurrence with small integer coefficients (the built-in 'linear' model)",
    ]
  }
}

// MARK: - Option groups shared by several commands

/// `-o MODEL` of `train`, `fit`, `import` and `import-torch`.
struct ModelOutputOption: ParsableArguments {
  @Option(name: [.customShort("o"), .customLong("output")], help: "Model file to write.")
  var output: String?

  /// The path, or the one refusal every command gives without it.
  func required() throws(TrainerError) -> String {
    guard let output else { throw TrainerError.invalidOption("missing output path: pass -o MODEL") }
    return output
  }
}

/// The optimiser's options of `train`, `baseline` and `fit`. Unset values take the command's defaults, which each
/// command's help states under "Defaults" (they depend on the family for `train` and `baseline`).
struct OptimizerOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Training epochs (fit: the most; early stopping usually ends sooner).")
  var epochs: Int?

  @Option(parsing: .unconditional, help: "Adam learning rate, > 0.")
  var lr: Double?

  @Option(name: .customLong("lr-schedule"), help: "How the learning rate changes over the epochs.")
  var lrSchedule: LearningRateSchedule?

  @Option(help: "Seed of the GSL mt19937 generator (data, initial weights, shuffles).")
  var seed: UInt64 = 0
}

/// The shape of the recurrent stack, for `train` and `fit`; unset values take the command's defaults.
struct ModelShapeOptions: ParsableArguments {
  /// CellKind's raw values are its on-disk codes, which ArgumentParser would print as an option's default
  /// ("(default: 1)"); `--cell` is therefore optional, with its default stated under "Defaults".
  @Option(help: "Recurrent cell of every layer.")
  var cell: CellKind?

  @Option(parsing: .unconditional, help: "Stacked recurrent layers, 1...8.")
  var layers: Int?

  @Option(parsing: .unconditional, help: "Hidden size, 1...1024.")
  var hidden: Int?
}

/// The columns of a data file a model reads and predicts, for `fit` and `score` (use the same ones for both).
struct ColumnOptions: ParsableArguments {
  @Option(help: "Columns the model reads: header names or numbers from 1, comma-separated. (default: every column)")
  var inputs: String?

  @Option(help: "Columns the model predicts (as --inputs). (default: the inputs)")
  var target: String?
}

/// How `fit` and `score` compare the model with the baselines.
struct ScoringOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Also score N steps ahead, free-running.")
  var horizon: Int = 1

  @Option(name: .customLong("ar-order"), parsing: .unconditional, help: "Largest AR order for the baseline.")
  var arOrder: Int = 12

  @Option(
    name: .customLong("arv-variance"), parsing: .unconditional,
    help:
      "Divide MSE by this variance for ARV instead of the scored values' (e.g. a whole series', as the literature does)."
  )
  var arvVariance: Double?

  /// `--arv-variance`, when given, is a positive number.
  func checkVariance() throws(TrainerError) {
    if let arvVariance, !(arvVariance.isFinite && arvVariance > 0) {
      throw TrainerError.invalidOption("--arv-variance \(arvVariance) must be a positive number")
    }
  }
}
