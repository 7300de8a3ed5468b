// `recur-train fit`: train on your own data (a CSV or whitespace file of one or more columns).

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurText
import RecurTrainer

/// `--encoding` of `fit` and `score`.
enum FitEncoding: String, CaseIterable, ExpressibleByArgument {
  case standardizeDifferences = "standardize-differences"
  case standardize

  var encoding: Encoding { self == .standardize ? .standardize : .standardizeDifferences }

  var defaultValueDescription: String {
    switch self {
    case .standardizeDifferences: "each column's step-to-step differences, standardised (continues trends)"
    case .standardize: "each column's values, standardised (levels inside the training range)"
    }
  }
}

/// `--linear`: the linear part's order, or `auto`.
enum LinearOrderArgument: ExpressibleByArgument, Equatable {
  case auto
  case order(Int)

  init?(argument: String) {
    if argument == "auto" {
      self = .auto
    } else if let p = Int(argument), p >= 0 {
      self = .order(p)
    } else {
      return nil
    }
  }

  var defaultValueDescription: String { "auto" }
  var order: Int? { if case .order(let p) = self { p } else { nil } }
}

struct Fit: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Train a model on your own data file, with early stopping and baselines, and write a model file.",
    discussion: """
      DATA has one time step per line, its values separated by spaces, tabs or commas, and a blank line between \
      sequences (the input of `recur stream`); `-` reads stdin. An optional first line of column names (a CSV \
      header) lets --inputs and --target pick columns by name (or by number from 1, without a header). Without \
      them every column is an input and the model predicts the next step of every column.

      The last --validation fraction of each sequence is held out (or --validation-data FILE holds, for each \
      training sequence in order, its continuation). The standardisation (mean and standard deviation of each \
      column on the training part, GSL) is stored in the model, so `recur stream --model MODEL` takes and prints \
      values in the data's own units. Each prediction reads the last --window steps from a zero state, exactly as \
      trained.

      The model is a linear part plus the network: first an AR(p) over the last p steps of the input columns \
      (least squares on the training part; p from 1, 2, 3, 4, 5, 6, 8, 12, 13, 24, 25 by AICc, or \
      --linear P; --linear 0 leaves it out), then the network, trained from a zero readout on what the linear part \
      leaves, so training starts at the linear fit. --seeds N trains N initialisations (--seed, --seed + 1, ...). \
      After every epoch the weights are exported and scored through the runtime, one step ahead on the validation \
      steps (ARV: mean squared error over the variance of the values scored); the model written is the best of \
      every epoch of every seed and of the linear part alone, and --patience epochs without improvement end a \
      seed's run. The file also stores forecast intervals: the quantiles of the validation errors of free-running \
      forecasts 1 to --interval-horizons steps ahead (`recur forecast` prints them). The final table shows persistence (next \
      = last), AR(p) (least squares, GSL, p by AIC on the training part) and the model on the same steps: RMSE, \
      MAE and ARV, one step ahead and, with --horizon N, N steps ahead free-running.

      Defaults: GRU (trains reliably on real series; 3/4 of an LSTM's weights), 1 layer, hidden 32, window 16, \
      standardize-differences (continues trends past the training range), linear part auto, batch 32, lr 0.003, \
      constant rate, at most 300 epochs, patience 40, seed 0, 3 seeds, intervals for 12 horizons.

      Examples:
        recur-train fit readings.csv -o readings.recur
        recur-train fit Fixtures/data/sunspots.csv --inputs SUNACTIVITY --horizon 4 \\
          -o sunspots.recur
        recur-train fit prices.txt --validation-data prices-2026.txt --cell lstm \\
          --hidden 64 -o prices.recur
      """)

  @Argument(help: "The data file (- for stdin).")
  var data: String

  @OptionGroup var output: ModelOutputOption
  @OptionGroup var columns: ColumnOptions
  @OptionGroup var shape: ModelShapeOptions
  @Option(parsing: .unconditional, help: "Steps per training example and per prediction's context.")
  var window: Int?
  @OptionGroup var optimizer: OptimizerOptions
  @Option(parsing: .unconditional, help: "Minibatch size.") var batch: Int?
  @Option(help: "Input encoding.") var encoding: FitEncoding = .standardizeDifferences
  @Option(parsing: .unconditional, help: "Fraction of each sequence held out for validation, at its end.")
  var validation: Double = 0.2
  @Option(name: .customLong("validation-data"), help: "Held-out continuations, one per training sequence.")
  var validationData: String?
  @Option(parsing: .unconditional, help: "Epochs without a better validation score before a seed's run stops.")
  var patience: Int = 40
  @Option(help: "Order of the linear part: auto, 0 (none) or 1...256.")
  var linear: LinearOrderArgument = .auto
  @Option(parsing: .unconditional, help: "Initialisations to train (seeds --seed, --seed + 1, ...); the best is kept.")
  var seeds: Int = 3
  @Option(
    name: .customLong("interval-horizons"), parsing: .unconditional,
    help: "Horizons of the forecast intervals stored in the model (0: none).")
  var intervalHorizons: Int = 12
  @OptionGroup var scoring: ScoringOptions
  @Option(help: "Directory for SVG plots (created if missing): loss.svg, validation.svg.")
  var plots: String?
  @Option(help: "Write the model's one-step predictions of the validation steps here (one line per step).")
  var predictions: String?

  func run() throws {
    var options = FitOptions()  // its defaults are the ones the help states
    if let cell = shape.cell { options.cell = cell }
    if let layers = shape.layers { options.layers = layers }
    if let hidden = shape.hidden { options.hiddenSize = hidden }
    if let window { options.window = window }
    if let epochs = optimizer.epochs { options.epochs = epochs }
    if let batch { options.batchSize = batch }
    if let lr = optimizer.lr { options.learningRate = lr }
    if let schedule = optimizer.lrSchedule { options.schedule = schedule }
    options.seed = optimizer.seed
    options.encoding = encoding.encoding
    options.validationFraction = validation
    options.patience = patience
    options.linearOrder = linear.order
    options.seeds = seeds
    options.intervalHorizons = intervalHorizons
    options.horizon = scoring.horizon
    options.maxOrder = scoring.arOrder
    try options.validate()
    try scoring.checkVariance()
    let output = try self.output.required()
    let (window, batch, lr, seed, epochs) = (
      options.window, options.batchSize, options.learningRate, options.seed, options.epochs
    )
    let (arOrder, arvVariance) = (scoring.arOrder, scoring.arvVariance)
    guard !(data == "-" && validationData == "-") else {
      throw TrainerError.invalidOption("standard input can be read once: give --validation-data a file")
    }
    // Outputs: none may be an input (`fit d -o d`) or another output (`--predictions x -o x`).
    let inputFiles = [data] + (validationData.map { [$0] } ?? [])
    try AtomicFile.checkDestination(output, inputs: inputFiles)
    if let predictions { try AtomicFile.checkDestination(predictions, what: "--predictions", inputs: inputFiles) }
    if let plots { try PlotDirectory.check(plots, names: ["loss.svg", "validation.svg"], inputs: inputFiles) }
    try AtomicFile.checkDistinct(
      [("-o", output)] + (predictions.map { [("--predictions", $0)] } ?? [])
        + (plots.map { p in ["loss.svg", "validation.svg"].map { ("--plots file", p + "/" + $0) } } ?? []))

    let table = try DataTable.read(data)
    let inputColumns = try table.columnIndices(columns.inputs, option: "--inputs")
    let targetColumns =
      columns.target == nil ? inputColumns : try table.columnIndices(columns.target, option: "--target")
    // The format's limits, before any work (a model of 257 inputs would trap deep in training).
    guard inputColumns.count <= Architecture.maxInputSize else {
      throw TrainerError.invalidOption(
        "--inputs selects \(inputColumns.count) columns; a model reads at most \(Architecture.maxInputSize) "
          + "(name fewer with --inputs)")
    }
    guard targetColumns.count <= Architecture.maxOutputSize else {
      throw TrainerError.invalidOption(
        "\(columns.target == nil ? "--inputs (the default --target)" : "--target") selects \(targetColumns.count) columns; "
          + "a model predicts at most \(Architecture.maxOutputSize) (name fewer with --target)")
    }
    let validationTable = try validationData.map { path throws(TrainerError) in try DataTable.read(path) }
    let fitData = try FitData(
      table: table, inputs: inputColumns, targets: targetColumns, encoding: options.encoding, window: window,
      validationFraction: validation, validationTable: validationTable)

    arBaselineNote(fitData.forecastTask, arOrder)
    let names = { (cols: [Int]) in cols.map(table.columnName).joined(separator: ", ") }
    let trainSteps = fitData.trainingParts.reduce(0) { $0 + $1.steps }
    let validationSteps = fitData.validation.reduce(0) { $0 + $1.sequence.steps - $1.scoredFrom }
    let label =
      "\(options.cell.name), \(options.layers) layer\(options.layers == 1 ? "" : "s"), hidden \(options.hiddenSize)"
    var bar: ProgressBar? = isatty(2) == 1 ? ProgressBar() : nil
    var lastLine = ""
    var events = FitEvents()
    var announced = false
    let seedText: String =
      options.seeds == 1 ? "seed \(seed)" : "seeds \(seed)...\(seed &+ UInt64(options.seeds - 1))"
    events.started = { examples, batches in
      guard !announced else { return }
      announced = true
      print(
        "Fitting \(escaped(data)): inputs \(names(inputColumns)) -> \(names(targetColumns)); "
          + "\(fitData.trainingParts.count) sequence\(fitData.trainingParts.count == 1 ? "" : "s"), "
          + "\(trainSteps) training steps, \(validationSteps) validation steps; \(examples) windows of \(window), "
          + "\(batches) batches of \(batch); \(label), \(options.encoding.name), lr \(lr), "
          + seedText + ", at most \(epochs) epochs, patience \(patience)")
      flushOutput()
    }
    events.seedStarted = { run, runs, seed in
      guard runs > 1 && run > 0 else { return }
      if bar != nil { writeStandardError(ProgressBar.clear) }
      print("Seed \(seed) (\(run + 1) of \(runs))")
      flushOutput()
    }
    events.batchFinished = { done, total in
      guard bar != nil else { return }
      if let text = bar?.update(done: done, total: total) {
        writeStandardError(text + (lastLine.isEmpty ? "" : "  last: \(lastLine)"))
      }
    }
    events.epochFinished = { epoch, loss, score, best in
      lastLine = String(format: "epoch %d train %.6f val ARV %.6f", epoch, loss, score)
      if bar != nil { writeStandardError(ProgressBar.clear) }
      print(
        String(format: "Epoch %03d | train loss %.6f | validation ARV %.6f%@", epoch, loss, score, best ? " *" : ""))
      flushOutput()
    }
    let run = try Fitter.fit(options, data: fitData, variance: arvVariance, events: events)
    if bar != nil { writeStandardError(ProgressBar.clear) }
    bar = nil
    print("")
    if run.linearOrder > 0 {
      print(
        "Linear part: AR(\(run.linearOrder)) over the last \(run.linearOrder) step\(run.linearOrder == 1 ? "" : "s"), "
          + "validation ARV " + String(format: "%.6f", run.linearScore ?? .nan) + " (AICc by order: "
          + run.linearTrials.map { "\($0.order) " + String(format: "%.1f", $0.aic) }.joined(separator: ", ") + ")")
    }
    let kept =
      run.bestEpoch == 0
      ? "Kept the linear part alone (no epoch of \(run.seedScores.count) seed\(run.seedScores.count == 1 ? "" : "s") "
        + "improved on its validation ARV " + String(format: "%.6f", run.linearScore ?? .nan) + ")"
      : "Kept seed \(run.bestSeed), epoch \(run.bestEpoch) of \(run.epochsRun) (validation ARV "
        + String(format: "%.6f", run.validationScores[run.bestEpoch - 1]) + ")"
    print(
      kept + "; figures below from the exported model through the runtime, on the \(validationSteps) validation "
        + "steps\(arvVariance == nil ? "" : " (ARV over --arv-variance)"):")
    print(forecastTable(run.table))
    for group in run.table {
      let rows = group.rows
      if rows[2].score.mse >= rows[0].score.mse {
        print("note: at horizon \(group.horizon) the model does not beat persistence.")
      }
      if rows[2].score.mse > rows[1].score.mse {
        print(
          "note: at horizon \(group.horizon) the model does not beat \(rows[1].name) on the validation steps"
            + (options.linearOrder == 0
              ? "; leave --linear at auto so the model starts from a linear fit"
              : "; try --linear with that order, more --seeds, or --encoding "
                + (options.encoding == .standardize ? "standardize-differences" : "standardize")))
      }
    }
    if run.trainingExamples < 50 || validationSteps < 20 {
      print(
        "note: \(run.trainingExamples) training windows and \(validationSteps) validation steps are too few to tell a "
          + "network of hidden \(options.hiddenSize) from the linear part reliably; try --hidden 4 --window 8, or more "
          + "data")
    }
    if let plots { try PlotDirectory.makeDirectories(plots) }
    try AtomicFile.write(run.bytes, to: output)
    let exported = try RecurrentModel(bytes: run.bytes)
    if let predictions {
      try AtomicFile.write(
        Array(fitData.forecastTask.predictionText(exported).utf8), to: predictions, what: "predictions")
    }
    print("")
    print(
      "Wrote \(escaped(output)): \(run.bytes.count) bytes, \(label)"
        + (run.linearOrder > 0 ? " on a linear AR(\(run.linearOrder))" : "")
        + (run.bestEpoch == 0 ? ", the linear part alone" : ", seed \(run.bestSeed) epoch \(run.bestEpoch)")
        + (exported.file.intervals.map { ", intervals for \($0.horizons) horizon\($0.horizons == 1 ? "" : "s")" } ?? "")
    )
    if let plots {
      let title = "fit \(data): \(label), window \(window), seed \(seed)"
      print(
        "Wrote "
          + (try PlotDirectory.write(
            SVGPlot.fitLosses(
              training: run.trainingLosses, validation: run.validationScores, best: max(run.bestEpoch, 1),
              title: title),
            named: "loss.svg", in: plots)))
      let svg = try fitData.forecastTask.forecastPlot(
        exported, maxOrder: arOrder, firstRow: 1, title: "fit \(data): validation steps of sequence 1")
      print("Wrote " + (try PlotDirectory.write(svg, named: "validation.svg", in: plots)))
    }
  }
}

/// Says when the AR baseline is narrower than asked (`fit` and `score`) (`ForecastTask.maxAutoregressiveRegressors`).
func arBaselineNote(_ task: ForecastTask, _ arOrder: Int) {
  let many = task.targetColumns.contains { task.autoregressiveColumns($0) == [$0] && task.inputColumns != [$0] }
  let limit = task.autoregressiveOrderLimit(arOrder)
  if many {
    print("note: with \(task.inputColumns.count) input columns the AR baseline regresses each target on its own lags")
  }
  if limit < arOrder {
    print(
      "note: the AR baseline tries orders up to \(limit), not --ar-order \(arOrder) (at most "
        + "\(ForecastTask.maxAutoregressiveRegressors) regressors: columns × order)")
  }
}
