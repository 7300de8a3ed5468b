// Everything the trainer can refuse or fail with. Each `description` is one line, meant to follow "error: ".

public enum TrainerError: Error, Sendable, Equatable, CustomStringConvertible {
  /// A command-line option is out of range or inconsistent; raised before any work is done.
  case invalidOption(String)
  /// The training loss became NaN or infinite; nothing is written.
  case nonFiniteLoss(epoch: Int, batch: Int, loss: Double)
  /// The weights became NaN or infinite although the loss was still finite; nothing is written.
  case nonFiniteWeights(epoch: Int)
  /// The configuration produced no training examples (e.g. every sequence is shorter than the window).
  case noTrainingExamples(String)
  /// Reading or writing a file failed.
  case io(String)
  /// A PyTorch state JSON was refused.
  case importFailed(String)
  /// A GSL call failed.
  case gsl(String)
  /// A training data file was refused; the message names the file, line and column.
  case invalidData(String)

  public var description: String {
    switch self {
    case .invalidOption(let message): message
    case .nonFiniteLoss(let epoch, let batch, let loss):
      "training loss became \(loss) in epoch \(epoch), batch \(batch); the run diverged (try a smaller --lr); "
        + "no model was written"
    case .nonFiniteWeights(let epoch):
      "the weights became non-finite in epoch \(epoch); the run diverged (try a smaller --lr); no model was written"
    case .noTrainingExamples(let message): message
    case .io(let message): message
    case .importFailed(let message): message
    case .gsl(let message): "GSL: \(message)"
    case .invalidData(let message): message
    }
  }
}
