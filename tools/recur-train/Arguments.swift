// The enums `recur-train` reads from its command line, parsed by ArgumentParser: its "invalid value" errors list the
// accepted names, and `--help` lists them with a description each.

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

extension LearningRateSchedule: ExpressibleByArgument {}
