// recur-train: trains the seed notebook's vanilla RNN on a sequence family and exports a `.recur` model file;
// imports PyTorch state dumps. See `recur-train --help`.

import ArgumentParser
import Foundation
import RecurRuntime
import RecurTrainer

// MARK: - Commands

struct RecurTrain: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur-train",
    abstract: "Train small recurrent sequence models offline and export .recur model files.",
    discussion: """
      Every random draw (data, initial weights, shuffles) comes from one GSL mt19937 seeded with --seed, so the \
      same options give the same model file, byte for byte.

      Examples:
        recur-train train --family odd -o odd.recur
        recur-train train --family fib --seed 3 -o fib.recur
        recur-train train --family fib --encoding window-differences -o fib-diff.recur
        recur-train import-torch state.json -o imported.recur --window 6

      Exit status: 0 on success, 64 for invalid options (nothing done), 1 when a run fails (e.g. the loss \
      diverges; no model is written).
      """,
    subcommands: [Train.self, ImportTorch.self])
}

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a vanilla tanh RNN on odd or Fibonacci-like sequences and write a model file.",
    discussion: """
      Reproduces the seed notebook: 2000 generated sequences, sliding windows normalised by each sequence's \
      largest value, nn.RNN + nn.Linear initialised like PyTorch, Adam, MSE, shuffled minibatches. Prints \
      "Epoch 01 | Loss 0.067857" lines (and a progress bar when stderr is a terminal), then validation statistics \
      on held-out sequences (generation is measured through the runtime on the exported model), then writes the \
      model atomically.

      Defaults per family: odd = hidden 16, window 5, 8 epochs, lr 0.01; \
      fib = hidden 32, window 6, 12 epochs, lr 0.005.

      Examples:
        recur-train train --family odd -o odd.recur
        recur-train train --family fib --hidden 64 --epochs 20 --seed 7 -o fib64.recur
        recur-train train --family odd --encoding window-differences --window 4 -o odd-diff.recur
      """)

  @Option(help: "Data family: odd or fib.")
  var family: String?

  @Option(parsing: .unconditional, help: "Hidden size, 1...1024. (default: 16 for odd, 32 for fib)")
  var hidden: Int?

  @Option(
    parsing: .unconditional,
    help:
      "Time steps per training window, 1...shortest sequence length (5 odd, 6 fib). (default: 5 odd, 6 fib)"
  )
  var window: Int?

  @Option(parsing: .unconditional, help: "Training epochs. (default: 8 for odd, 12 for fib)")
  var epochs: Int?

  @Option(
    parsing: .unconditional, help: "Adam learning rate, > 0. (default: 0.01 for odd, 0.005 for fib)"
  )
  var lr: Double?

  @Option(parsing: .unconditional, help: "Minibatch size.")
  var batch: Int = 128

  @Option(parsing: .unconditional, help: "Training sequences to generate.")
  var sequences: Int = 2000

  @Option(
    name: .customLong("validation-sequences"), parsing: .unconditional, help: "Held-out sequences.")
  var validationSequences: Int = 400

  @Option(help: "Seed of the GSL mt19937 generator.")
  var seed: UInt64 = 0

  @Option(
    help:
      "Input encoding: sequence-max-scale (the notebook's) or window-differences (extrapolating).")
  var encoding: String = Encoding.sequenceMaxScale.name

  @Option(
    name: .customLong("lr-schedule"),
    help: "constant (the notebook's) or cosine (annealed to zero over the run).")
  var lrSchedule: String = LearningRateSchedule.constant.rawValue

  @Option(name: [.customShort("o"), .customLong("output")], help: "Model file to write.")
  var output: String?

  func run() throws {
    // Everything is checked before any work.
    let options = try TrainingOptions.fromCommandLine(
      family: family, encoding: encoding, hidden: hidden, window: window, epochs: epochs, lr: lr,
      batch: batch,
      sequences: sequences, validationSequences: validationSequences, seed: seed, schedule: lrSchedule)
    guard let output else { throw TrainerError.invalidOption("missing output path: pass -o MODEL") }
    try AtomicFile.checkDestination(output)

    var events = TrainingEvents()
    var bar: ProgressBar? = isatty(2) == 1 ? ProgressBar() : nil
    events.started = { examples, batches in
      print(
        "Training \(options.family.rawValue) (\(options.encoding.name)): \(options.sequences) sequences, "
          + "\(examples) windows of \(options.window), \(batches) batches of \(options.batchSize), "
          + "hidden \(options.hiddenSize), \(options.epochs) epochs, lr \(options.learningRate), seed \(options.seed)"
      )
      flushOutput()
    }
    events.batchFinished = { done, total in
      if let text = bar?.update(done: done, total: total) { writeStandardError(text) }
    }
    events.epochFinished = { epoch, loss in
      if bar != nil { writeStandardError(ProgressBar.clear) }
      print(epochLine(epoch, loss: loss))
      flushOutput()
    }
    let run = try Trainer.train(options, events: events)
    if bar != nil { writeStandardError(ProgressBar.clear) }
    bar = nil
    print("")
    print(run.validation.table())
    let bytes = run.model.encoded()
    try AtomicFile.write(bytes, to: output)
    print("")
    print(
      "Wrote \(output): \(bytes.count) bytes, hidden \(run.model.hiddenSize), \(run.model.parameterCount) "
        + "parameters, final loss \(String(format: "%.6f", run.epochLosses.last!))")
  }
}

struct ImportTorch: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import-torch",
    abstract: "Convert a PyTorch state dump (JSON) of the seed model into a model file.",
    discussion: """
      STATE.json is an object keyed by the seed model's state_dict names (rnn.weight_ih_l0, rnn.weight_hh_l0, \
      rnn.bias_ih_l0, rnn.bias_hh_l0, fc.weight, fc.bias) holding nested arrays in PyTorch's shapes, optionally \
      under a top-level "tensors" key. tools/torch_dump.py writes it. Shapes and values are checked; the model is \
      written with the sequence-max-scale encoding (the notebook's generate_sequence), family "pytorch-import".

      Examples:
        python3 tools/torch_dump.py   # see the script for use from a notebook
        recur-train import-torch state.json -o odd.recur
        recur-train import-torch fib_state.json --window 6 -o fib.recur
      """)

  @Argument(help: "The state JSON file.")
  var state: String

  @Option(name: [.customShort("o"), .customLong("output")], help: "Model file to write.")
  var output: String?

  @Option(
    parsing: .unconditional, help: "Context length recorded in the model (the training window).")
  var window: Int = 5

  func run() throws {
    guard let output else { throw TrainerError.invalidOption("missing output path: pass -o MODEL") }
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw TrainerError.invalidOption(
        "--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    try AtomicFile.checkDestination(output)
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: state))
    } catch {
      throw TrainerError.io("cannot read '\(state)': \(error.localizedDescription)")
    }
    let file = try TorchState.modelFile(json: [UInt8](data), window: window)
    let bytes = file.encoded()
    try AtomicFile.write(bytes, to: output)
    print(
      "Wrote \(output): \(bytes.count) bytes, hidden \(file.hiddenSize), \(file.parameterCount) parameters"
    )
  }
}

// MARK: - Output helpers

func writeStandardError(_ text: String) {
  var bytes = Array(text.utf8)
  bytes.withUnsafeMutableBytes { raw in
    var done = 0
    while done < raw.count {
      let n = write(2, raw.baseAddress! + done, raw.count - done)
      if n <= 0 { return }
      done += n
    }
  }
}

/// Flushes stdout (print is buffered when stdout is a pipe) so epoch lines appear as they happen.
func flushOutput() { fflush(nil) }

// MARK: - Entry point

/// One `error: ...` line on stderr and the exit status: 64 for invalid options, 1 for failed runs.
func runMain(_ arguments: [String]) -> Int32 {
  do {
    var command = try RecurTrain.parseAsRoot(arguments)
    try command.run()
    flushOutput()
    return 0
  } catch let error as TrainerError {
    flushOutput()
    writeStandardError("error: \(error.description)\n")
    if case .invalidOption = error { return 64 }
    return 1
  } catch {
    flushOutput()
    let code = RecurTrain.exitCode(for: error)
    if code == .success {
      // --help and friends.
      print(RecurTrain.fullMessage(for: error))
      return 0
    }
    let message =
      RecurTrain.message(for: error).split(separator: "\n").first.map(String.init)
      ?? "invalid arguments"
    writeStandardError("error: \(message) (see 'recur-train --help')\n")
    return code.rawValue
  }
}

exit(runMain(Array(CommandLine.arguments.dropFirst())))
