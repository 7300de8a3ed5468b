// `recur-train train`: a recurrent model trained on a generated sequence family (the seed notebook's odd and
// Fibonacci-like runs, order-2 linear recurrences), written as a model file.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurTrainer

struct Train: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract:
      "Train a recurrent model on a sequence family (odd, Fibonacci-like, order-2 linear) and write a model file.",
    discussion: """
      Reproduces the seed notebook: 2000 generated sequences, sliding windows normalised by each sequence's \
      largest value, nn.RNN + nn.Linear initialised like PyTorch, Adam, MSE, shuffled minibatches. --cell gru or \
      --cell lstm trains nn.GRU or nn.LSTM instead, and --layers N stacks N of them (each layer reads the hidden \
      state of the one below; the readout reads the top one), all initialised like PyTorch. Prints \
      "Epoch 01 | Loss 0.067857" lines (and a progress bar when stderr is a terminal), then validation statistics \
      on held-out sequences (generation is measured through the runtime on the exported model), then writes the \
      model atomically.

      Defaults per family: odd = hidden 16, window 5, 8 epochs, lr 0.01; \
      fib = hidden 32, window 6, 12 epochs, lr 0.005 (both the notebook's: one vanilla RNN layer, \
      sequence-max-scale, batch 128, 2000 sequences, constant rate, seed 0); linear2 = the built-in 'linear' model's recipe: GRU hidden 64, \
      window-differences over 4 differences, a readout mixing 32 linear experts of order 2, 20000 sequences (30% \
      of those with two real roots started on the slower root's direction), batch 64, 3000 epochs, lr 0.003 \
      annealed by cosine (about an hour here), then the experts polished by least squares (--polish-experts 1).

      --experts E (window-differences only) replaces the Linear readout by a mixture of E linear experts: the \
      readout gives one logit per expert, each expert is a learned linear map of the last --expert-order \
      differences of the window, and the prediction is their softmax-weighted sum (format version 4). \
      --experts 0 is the plain readout. --polish-experts T then refits the experts by least squares after the \
      epochs, the network frozen, on the training windows already predicted within T of their scale (the experts \
      enter the prediction linearly, so this is a linear least-squares problem, solved with GSL).

      Examples:
        recur-train train --family odd -o odd.recur
        recur-train train --family fib --hidden 64 --epochs 20 --seed 7 -o f64.recur
        recur-train train --family odd --encoding window-differences --window 4 \\
          -o odd-diff.recur
        recur-train train --family fib --cell gru -o fib-gru.recur
        recur-train train --family fib --cell lstm --layers 2 --hidden 16 -o fl.recur
      """)

  @Option(help: "Data family.")
  var family: SequenceFamily?

  @OptionGroup var shape: ModelShapeOptions

  @Option(
    parsing: .unconditional,
    help: "Time steps per training window, 1...shortest sequence length (5 odd, 6 fib, 7 linear2).")
  var window: Int?

  @OptionGroup var optimizer: OptimizerOptions

  @Option(parsing: .unconditional, help: "Minibatch size.")
  var batch: Int?

  @Option(parsing: .unconditional, help: "Training sequences to generate.")
  var sequences: Int?

  @Option(
    name: .customLong("validation-sequences"), parsing: .unconditional, help: "Held-out sequences.")
  var validationSequences: Int = 400

  @Option(help: "Input encoding.")
  var encoding: TrainingEncoding?

  @Option(
    parsing: .unconditional,
    help: "Linear experts of a mixture readout, 0...256 (window-differences only). (default: 0; 32 for linear2)")
  var experts: Int?

  @Option(
    name: .customLong("expert-order"), parsing: .unconditional,
    help: "Differences each expert weighs (the latest), 1...window. (default: 2)")
  var expertOrder: Int?

  @Option(
    name: .customLong("slow-root-starts"), parsing: .unconditional,
    help: ArgumentHelp(
      "linear2 only: the fraction, 0...1, of the sequences with two real roots of different size that start on the "
        + "slower root's direction (a1 = round(r·a0) + e, e ∈ -1...1). (default: 0.3 for linear2, the only family that accepts it)",
      valueName: "fraction"))
  var slowRootStarts: Double?

  @Option(
    name: .customLong("polish-experts"), parsing: .unconditional,
    help: ArgumentHelp(
      "A mixture only: after the epochs, refit the experts by least squares, the network frozen, on the training "
        + "windows already predicted within this error (a fraction of the window's scale, 0...1); 0 keeps them as "
        + "trained. (default: 1 for linear2's mixture, else 0)", valueName: "error"))
  var polishExperts: Double?

  @Option(
    name: .customLong("init"),
    help: ArgumentHelp(
      "Warm start: continue training from this model file's weights (its cell, layers, hidden size, encoding and "
        + "window are the run's; flags may repeat them, not change them).", valueName: "model"))
  var initial: String?

  @OptionGroup var output: ModelOutputOption

  @Option(help: "Directory for SVG plots (created if missing): loss.svg, the epoch loss curve.")
  var plots: String?

  func run() throws {
    // Everything is checked before any work.
    var start: ModelFile? = nil
    if let initial {
      // The command line first (exit 2): the flags' own ranges (with the smallest cell where none is given, as the
      // model's cell is not known yet) and -o; then the file (exit 1); then the two together. The mixture flags wait
      // for the model: whether they fit depends on its encoding and readout.
      _ = try TrainingOptions.fromCommandLine(
        family: family, encoding: encoding?.encoding, cell: shape.cell ?? .rnn, layers: shape.layers,
        hidden: shape.hidden, window: window, epochs: optimizer.epochs, lr: optimizer.lr, batch: batch,
        sequences: sequences, validationSequences: validationSequences, seed: optimizer.seed,
        schedule: optimizer.lrSchedule, slowRootStarts: slowRootStarts)
      if let polishExperts { try TrainingOptions.checkPolishExpertsRange(polishExperts) }
      _ = try self.output.required()
      start = try readModelFile(initial, option: "--init").file
    }
    let options = try TrainingOptions.fromCommandLine(
      family: family, encoding: encoding?.encoding, cell: shape.cell, layers: shape.layers, hidden: shape.hidden,
      window: window, epochs: optimizer.epochs, lr: optimizer.lr, batch: batch, sequences: sequences,
      validationSequences: validationSequences, seed: optimizer.seed, schedule: optimizer.lrSchedule,
      experts: experts, expertOrder: expertOrder, slowRootStarts: slowRootStarts, polishExperts: polishExperts,
      initial: start.map { ($0, initial!) })
    let output = try self.output.required()
    let inputs = initial.map { [$0] } ?? []
    try AtomicFile.checkDestination(output, inputs: inputs)
    if let plots {
      try PlotDirectory.check(plots, names: ["loss.svg"], inputs: inputs)
      try AtomicFile.checkDistinct([("-o", output), ("--plots file", plots + "/loss.svg")])
    }

    var events = TrainingEvents()
    var bar: ProgressBar? = isatty(2) == 1 ? ProgressBar() : nil
    let from: String = initial.map { " from " + escaped($0) } ?? ""
    events.started = { examples, batches in
      print(
        "Training \(options.family.rawValue) (\(options.encoding.name))"
          + from + ": \(options.sequences) sequences, "
          + "\(examples) windows of \(options.window), \(batches) batches of \(options.batchSize), "
          + "\(options.modelLabel), \(options.epochs) epochs, lr \(options.learningRate), seed \(options.seed)"
          + (options.slowRootStarts > 0 ? ", slow-root starts \(options.slowRootStarts)" : "")
          + (options.polishExperts > 0 ? ", experts polished within \(options.polishExperts)" : "")
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
    let run = try Trainer.train(options, initial: start, events: events)
    if bar != nil { writeStandardError(ProgressBar.clear) }
    bar = nil
    if let polish = run.polish { print(polish.summary) }
    print("")
    print(run.validation.table())
    let bytes = run.model.encoded()
    if let plots { try PlotDirectory.makeDirectories(plots) }
    try AtomicFile.write(bytes, to: output)
    print("")
    print(
      "Wrote \(escaped(output)): \(bytes.count) bytes, \(options.modelLabel), \(run.model.parameterCount) "
        + "parameters, final loss \(String(format: "%.6f", run.epochLosses.last!))")
    if let plots {
      let title =
        "Training loss: \(options.family.rawValue), \(options.encoding.name), \(options.modelLabel), "
        + "window \(options.window), seed \(options.seed)"
      print(
        "Wrote "
          + (try PlotDirectory.write(SVGPlot.lossCurve(run.epochLosses, title: title), named: "loss.svg", in: plots)))
    }
  }
}
