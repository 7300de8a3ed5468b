// recur-train: trains recurrent models (the seed notebook's vanilla RNN, GRU, LSTM, stacked) on a sequence family and
// exports `.recur` model files; imports PyTorch state dumps. See `recur-train --help`.

import ArgumentParser
import Foundation
import RecurIO
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
        recur-train train --family fib --cell lstm --layers 2 -o fib-lstm.recur
        recur-train fit readings.csv -o readings.recur
        recur-train import-torch state.json -o imported.recur --window 6
        recur-train eval --model odd.recur --family odd --plots plots/odd
        recur-train baseline --family fib --encoding window-differences --plots plots/fib-mlp

      Exit status: 0 on success, 2 for invalid options or a bad command line (nothing done; as `recur`), 1 when a run fails (e.g. the loss \
      diverges; no model is written).
      """,
    subcommands: [Train.self, Fit.self, Score.self, Eval.self, Baseline.self, Import.self, ImportTorch.self])
}

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
      fib = hidden 32, window 6, 12 epochs, lr 0.005 (both the notebook's vanilla RNN, sequence-max-scale, \
      batch 128, 2000 sequences, constant rate); linear2 = the built-in 'linear' model's recipe: GRU hidden 64, \
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
        recur-train train --family fib --hidden 64 --epochs 20 --seed 7 -o fib64.recur
        recur-train train --family odd --encoding window-differences --window 4 -o odd-diff.recur
        recur-train train --family fib --cell gru -o fib-gru.recur
        recur-train train --family fib --cell lstm --layers 2 --hidden 16 -o fib-lstm2.recur
      """)

  @Option(help: "Data family: odd, fib or linear2.")
  var family: String?

  @Option(help: "Recurrent cell of every layer. (default: rnn, the notebook's; gru for linear2)")
  var cell: CellKind?

  @Option(parsing: .unconditional, help: "Stacked recurrent layers, 1...8. (default: 1)")
  var layers: Int?

  @Option(parsing: .unconditional, help: "Hidden size, 1...1024. (default: 16 for odd, 32 for fib, 64 for linear2)")
  var hidden: Int?

  @Option(
    parsing: .unconditional,
    help:
      "Time steps per training window, 1...shortest sequence length (5 odd, 6 fib, 7 linear2). (default: 5 odd, 6 fib, 4 linear2)"
  )
  var window: Int?

  @Option(parsing: .unconditional, help: "Training epochs. (default: 8 for odd, 12 for fib, 3000 for linear2)")
  var epochs: Int?

  @Option(
    parsing: .unconditional,
    help: "Adam learning rate, > 0. (default: 0.01 for odd, 0.005 for fib, 0.003 for linear2)"
  )
  var lr: Double?

  @Option(parsing: .unconditional, help: "Minibatch size. (default: 128; 64 for linear2)")
  var batch: Int?

  @Option(parsing: .unconditional, help: "Training sequences to generate. (default: 2000; 20000 for linear2)")
  var sequences: Int?

  @Option(
    name: .customLong("validation-sequences"), parsing: .unconditional, help: "Held-out sequences.")
  var validationSequences: Int = 400

  @Option(help: "Seed of the GSL mt19937 generator.")
  var seed: UInt64 = 0

  @Option(help: "Input encoding. (default: sequence-max-scale; window-differences for linear2)")
  var encoding: TrainingEncoding?

  @Option(
    name: .customLong("lr-schedule"),
    help: "constant (the notebook's) or cosine (annealed to zero over the run). (default: constant; cosine for linear2)"
  )
  var lrSchedule: LearningRateSchedule?

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

  @Option(name: [.customShort("o"), .customLong("output")], help: "Model file to write.")
  var output: String?

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
        family: family, encoding: encoding?.encoding, cell: cell ?? .rnn, layers: layers, hidden: hidden,
        window: window, epochs: epochs, lr: lr, batch: batch, sequences: sequences,
        validationSequences: validationSequences, seed: seed, schedule: lrSchedule, slowRootStarts: slowRootStarts)
      if let polishExperts { try TrainingOptions.checkPolishExpertsRange(polishExperts) }
      guard output != nil else { throw TrainerError.invalidOption("missing output path: pass -o MODEL") }
      start = try readModelFile(initial, option: "--init").file
    }
    let options = try TrainingOptions.fromCommandLine(
      family: family, encoding: encoding?.encoding, cell: cell, layers: layers, hidden: hidden, window: window,
      epochs: epochs, lr: lr, batch: batch, sequences: sequences, validationSequences: validationSequences,
      seed: seed, schedule: lrSchedule, experts: experts, expertOrder: expertOrder,
      slowRootStarts: slowRootStarts, polishExperts: polishExperts, initial: start.map { ($0, initial!) })
    guard let output else { throw TrainerError.invalidOption("missing output path: pass -o MODEL") }
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

struct Eval: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure a model file: free-running generation error over a fixed seed set, held-out statistics.",
    discussion: """
      Prints two markdown tables. (1) Free-running generation through the runtime (SequencePredictor), 20 steps \
      from each seed of a fixed set, against the family rule: absolute and relative error at steps 1, 8 and 20, \
      one row per seed and the median over seeds. Seeds: odd = five consecutive odd numbers from 1 and 5 \
      (inside the training range, starts 1...13), 13 (edge), 21, 101 and 999 (outside); fib = [1,1,2,3,5,8] and \
      [0,1,1,2,3] (inside: a0 in 0...2, a1 in 1...3), [2,3,5,8,13,21] (edge), [5,8,13,21,34] and \
      [89,144,233,377] (outside); linear2 = five values of eight order-2 recurrences (arithmetic, Fibonacci, \
      alternating growth from starts inside -100...100, an arithmetic run at the edge, then arithmetic, Pell-like, \
      geometric and period-2 runs from starts up to 654321). (2) Next-value statistics on 400 held-out sequences of the family (GSL seed \
      2026) with the model's own encoding and window: window MSE, and mean, sd, median and 95th percentile of \
      the next-value absolute error.

      With --plots DIR, writes DIR/generation.svg: one panel per seed, true against generated values (log-scale \
      y for fib). Output is deterministic.

      Examples:
        recur-train eval --model odd.recur --family odd
        recur-train eval --model fib.recur --family fib --plots plots/fib
      """)

  @Option(help: "The .recur model file.")
  var model: String?

  @Option(help: "Data family: odd, fib or linear2. (default: the family recorded in the model)")
  var family: String?

  @Option(help: "Directory for SVG plots (created if missing): generation.svg.")
  var plots: String?

  func run() throws {
    guard let model else { throw TrainerError.invalidOption("missing --model FILE") }
    if let family, SequenceFamily(rawValue: family) == nil {
      throw TrainerError.invalidOption("unknown family '\(family)' (expected odd, fib or linear2)")
    }
    let (file, bytes) = try readModelFile(model, option: "--model")
    let chosen: SequenceFamily
    if let family {
      chosen = SequenceFamily(rawValue: family)!
    } else {
      guard let recorded = SequenceFamily(rawValue: file.provenance.family) else {
        throw TrainerError.invalidOption(
          "missing --family (odd, fib or linear2): the model records family '\(file.provenance.family)'")
      }
      chosen = recorded
    }
    if let plots { try PlotDirectory.check(plots, names: ["generation.svg"], inputs: [model]) }
    let evaluation = try ModelEvaluation.evaluate(modelBytes: bytes, family: chosen)
    print(evaluation.report(name: escaped(model)))
    if let plots {
      let path = try PlotDirectory.write(
        SVGPlot.generation(
          evaluation.generation, title: "Generated vs true: \(URL(fileURLWithPath: model).lastPathComponent)",
          subtitle: evaluation.modelDescription),
        named: "generation.svg", in: plots)
      print("")
      print("Wrote \(escaped(path))")
    }
  }
}

struct Baseline: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a feedforward (MLP) baseline on the RNN's windows and measure it on eval's tables.",
    discussion: """
      An MLP: the last k encoded values -> W tanh units -> 1 linear output, PyTorch's default nn.Linear \
      initialisation, Adam, MSE, shuffled minibatches of 128. Trained on exactly the windows `train` uses with the \
      same --seed (same GSL draws, same ExampleSet): sequence-max-scale = every position t >= k-1 of each window \
      (x[t-k+1...t] -> y[t]); window-differences = the final step (the k normalised differences -> the next one). \
      Defaults: k = the family's window (odd 5, fib 6), width = the family's hidden size (16, 32), the family's \
      epochs and learning rate: the RNN's context and width. Both families are order-2 recurrences, so k >= 2 \
      suffices in principle.

      Prints the epoch losses, eval's generation and held-out tables (generation: sequence-max-scale scales by \
      max(1, max|seed|) and predicts from the last k normalised values, a short seed left-padded with its first \
      value; window-differences is the runtime's encoding), the parameter count and the median time of one \
      forward pass. The MLP is not written as a model file (the format holds RNN cells).

      Examples:
        recur-train baseline --family odd
        recur-train baseline --family fib --encoding window-differences --k 4 --plots plots/fib-mlp
      """)

  @Option(help: "Data family: odd or fib.")
  var family: String?

  @Option(help: "Input encoding.")
  var encoding: TrainingEncoding = .sequenceMaxScale

  @Option(
    name: .customLong("k"), parsing: .unconditional,
    help: "Encoded values per prediction. (default: 5 for odd, 6 for fib)")
  var k: Int?

  @Option(parsing: .unconditional, help: "tanh units, 1...1024. (default: 16 for odd, 32 for fib)")
  var width: Int?

  @Option(
    parsing: .unconditional,
    help: "Training epochs. (default: the family's RNN recipe: 8 for odd, 12 for fib, 3000 for linear2)")
  var epochs: Int?

  @Option(parsing: .unconditional, help: "Adam learning rate, > 0. (default: 0.01 for odd, 0.005 for fib)")
  var lr: Double?

  @Option(name: .customLong("lr-schedule"), help: "constant or cosine.")
  var lrSchedule: LearningRateSchedule = .constant

  @Option(help: "Seed of the GSL mt19937 generator (the same data as `train --seed`).")
  var seed: UInt64 = 0

  @Option(help: "Directory for SVG plots (created if missing): loss.svg and generation.svg.")
  var plots: String?

  func run() throws {
    let options = try BaselineOptions.fromCommandLine(
      family: family, encoding: encoding.encoding, k: k, width: width, epochs: epochs, lr: lr, schedule: lrSchedule,
      seed: seed)
    if let plots { try PlotDirectory.check(plots, names: ["loss.svg", "generation.svg"]) }
    var events = TrainingEvents()
    events.started = { samples, batches in
      print(
        "Training MLP baseline on \(options.family.rawValue) (\(options.encoding.name)): \(options.sequences) "
          + "sequences, \(samples) samples of k \(options.k) from windows of \(options.window), \(batches) batches "
          + "of \(options.batchSize), width \(options.width), \(options.epochs) epochs, lr \(options.learningRate) "
          + "\(options.schedule.rawValue), seed \(options.seed)")
      flushOutput()
    }
    events.epochFinished = { epoch, loss in
      print(epochLine(epoch, loss: loss))
      flushOutput()
    }
    let run = try BaselineTrainer.train(options, events: events)
    let evaluation = try BaselineEvaluation(run: run)
    print("")
    print(evaluation.report())
    print("")
    let ns = run.parameters.medianNanosecondsPerPrediction()
    let nsSIMD = run.parameters.medianNanosecondsPerPrediction(simd: true)
    print(
      "Parameters: \(run.parameters.values.count) (\(options.width)x\(options.k) + \(options.width) + "
        + "\(options.width) + 1)")
    print(
      "Speed: median \(String(format: "%.1f", ns)) ns per prediction, plain Swift loops (the forward pass used "
        + "for training and generation); \(String(format: "%.1f", nsSIMD)) ns in the runtime's SIMD8 "
        + "broadcast-accumulate layout. Measured in-process on this machine, one prediction at a time.")
    if let plots {
      let lossTitle =
        "Training loss: MLP baseline, \(options.family.rawValue), \(options.encoding.name), k \(options.k), "
        + "width \(options.width), seed \(options.seed)"
      print(
        "Wrote "
          + (try PlotDirectory.write(SVGPlot.lossCurve(run.epochLosses, title: lossTitle), named: "loss.svg", in: plots))
      )
      let title = "Generated vs true: MLP baseline, \(options.family.rawValue), \(options.encoding.name)"
      print(
        "Wrote "
          + (try PlotDirectory.write(
            SVGPlot.generation(evaluation.generation, title: title, subtitle: evaluation.modelDescription),
            named: "generation.svg", in: plots)))
    }
  }
}

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Convert a GuitarML, AIDA-X / RTNeural, NAM LSTM or PyTorch model file into a Recur model file.",
    discussion: """
      The format is detected from the content:
        Automated-GuitarAmpModelling / GuitarML JSON   {"model_data": ..., "state_dict": ...}
        RTNeural's Keras JSON, AIDA-X .json / .aidax   {"in_shape": ..., "layers": [...]}
        Neural Amp Modeler .nam with "architecture": "LSTM"
        a PyTorch state dict JSON                       as import-torch (--window applies)
      The audio formats become a chain (format version 5: dense layers, one recurrent stack, dense layers, the \
      input skip, learned initial states) with the identity encoding: `recur stream --model M` reads one line of \
      inputs per step and prints the outputs. Anything Recur cannot run exactly (convolutions, WaveNet, \
      batchnorm, a GRU without reset_after, ...) is refused with the layer's index and type.

      Examples:
        recur-train import Proteus_Tone.json -o proteus.recur
        recur-train import amp.aidax -o amp.recur
        recur-train import lstm-amp.nam -o lstm-amp.recur
        recur-train import Proteus_Tone.json --sample-rate 44100 -o proteus.recur
      """)

  @Argument(help: "The model file to convert.")
  var source: String

  @Option(name: [.customShort("o"), .customLong("output")], help: "Model file to write.")
  var output: String?

  @Option(parsing: .unconditional, help: "Context length recorded for a PyTorch state dict (as import-torch).")
  var window: Int = 5

  @Option(
    parsing: .unconditional,
    help: "The sample rate the model was trained at, in Hz, recorded in the model (replaces the file's own, if any).")
  var sampleRate: Double?

  func run() throws {
    guard let output else { throw TrainerError.invalidOption("missing output path: pass -o MODEL") }
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw TrainerError.invalidOption("--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    if let sampleRate, !(sampleRate > 0 && sampleRate <= 10_000_000) {
      throw TrainerError.invalidOption("--sample-rate \(sampleRate) is out of range (0, 10000000] Hz")
    }
    try AtomicFile.checkDestination(output, inputs: [source])
    let json: [UInt8]
    switch readWholeFile(source, limit: TorchState.maxJSONSize) {
    case .success(let bytes): json = bytes
    case .failure(let error): throw TrainerError.io("'\(escaped(source))': \(error.message)")
    }
    let imported = try Self.read(json, window: window, source: source)
    var file = imported.file
    if let sampleRate {
      guard file.encoding == .identity && !file.architecture.isMixture else {
        throw TrainerError.invalidOption(
          "--sample-rate is recorded for models with the identity encoding; this one's is \(file.encoding.name)")
      }
      file.sampleRate = Float(sampleRate)
    }
    let bytes = file.encoded()
    try AtomicFile.write(bytes, to: output)
    print(
      "Wrote \(escaped(output)): \(imported.format.rawValue), \(file.architecture.summary); \(bytes.count) "
        + "bytes, \(file.parameterCount) parameters")
  }
}

extension Import {
  /// The import, its errors naming the source file (as every reader does).
  static func read(_ json: [UInt8], window: Int, source: String) throws(TrainerError) -> (
    file: ModelFile, format: ModelImport.Format
  ) {
    do {
      return try ModelImport.modelFile(json: json, window: window)
    } catch .importFailed(let message) {
      throw .importFailed("'\(escaped(source))': \(message)")
    } catch {
      throw error
    }
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
    try AtomicFile.checkDestination(output, inputs: [state])
    let json: [UInt8]
    switch readWholeFile(state, limit: TorchState.maxJSONSize) {
    case .success(let bytes): json = bytes
    case .failure(let error): throw TrainerError.io("'\(escaped(state))': \(error.message)")
    }
    let file: ModelFile
    do {
      file = try TorchState.modelFile(json: json, window: window)
    } catch .importFailed(let message) {
      throw TrainerError.importFailed("'\(escaped(state))': \(message)")  // name the file, as every reader does
    }
    let bytes = file.encoded()
    try AtomicFile.write(bytes, to: output)
    print(
      "Wrote \(escaped(output)): \(bytes.count) bytes, hidden \(file.hiddenSize), \(file.parameterCount) parameters"
    )
  }
}

// MARK: - Output helpers

/// Writes `text` to stderr as it is (the progress bar's carriage returns and erase sequences).
func writeStandardError(_ text: String) { writeText(text, to: 2) }

/// Writes one `error: ...` line to stderr through the one escaping function (RecurIO): whatever the message quotes
/// (a path, a key, a token) cannot drive the terminal or forge a second line.
func writeErrorLine(_ message: String) { writeStandardError("error: " + escaped(message, backslashes: false) + "\n") }

/// `print` for this executable: every line goes through the escaping function's safety net (control characters
/// other than the line breaks escaped; RecurIO), as `recur`'s output does, so a path or a name from input cannot
/// drive the terminal. Values quoted in a line are escaped where they are quoted (`escaped(path)`).
func print(_ text: String = "") {
  Swift.print(
    text.split(separator: "\n", omittingEmptySubsequences: false).map { escaped(String($0), backslashes: false) }
      .joined(separator: "\n"))
}

/// Flushes stdout (print is buffered when stdout is a pipe) so epoch lines appear as they happen.
func flushOutput() { fflush(nil) }

/// The exit status once the command is done: 0, or 1 with a message when stdout could not be written (a full disk,
/// /dev/full); a closed pipe (EPIPE, `| head`) stays quiet, as in `recur`. SIGPIPE is ignored (see the entry point),
/// so a write to a closed pipe fails with EPIPE instead of killing the process.
func finishStandardOutput() -> Int32 {
  let (failed, code) = flushStandardOutput()
  guard failed, code != EPIPE else { return 0 }
  let why = code == 0 ? "an earlier write failed" : String(cString: strerror(code))
  writeErrorLine("cannot write to standard output: \(why)")
  return 1
}

// MARK: - Entry point

/// One `error: ...` line on stderr and the exit status: 2 for invalid options and bad command lines (the convention
/// `recur` uses), 1 for failed runs.
func runMain(_ arguments: [String]) -> Int32 {
  // ArgumentParser's parsing is quadratic in repeated options (8,000 `--epochs 1` took 12 s); no command needs many.
  guard arguments.count <= 256 else {
    writeErrorLine("\(arguments.count) arguments; at most 256 (see 'recur-train --help')")
    return 2
  }
  do {
    var command = try RecurTrain.parseAsRoot(arguments)
    try command.run()
    return finishStandardOutput()
  } catch let error as TrainerError {
    flushOutput()
    writeErrorLine(error.description)
    if case .invalidOption = error { return 2 }
    return 1
  } catch {
    flushOutput()
    let code = RecurTrain.exitCode(for: error)
    if code == .success {
      // --help and friends (a full stdout is an error here too).
      print(RecurTrain.fullMessage(for: error))
      return finishStandardOutput()
    }
    let message =
      RecurTrain.message(for: error).split(separator: "\n").first.map(String.init)
      ?? "invalid arguments"
    writeErrorLine("\(message) (see 'recur-train --help')")
    return 2
  }
}

signal(SIGPIPE, SIG_IGN)
exit(runMain(Array(CommandLine.arguments.dropFirst())))
