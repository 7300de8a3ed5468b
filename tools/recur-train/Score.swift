// `recur-train score`: a model and the baselines scored on rows of a data file.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurText
import RecurTrainer

struct Score: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Score a model, persistence and AR(p) on rows of a data file, one step and N steps ahead.",
    discussion: """
      Streams the first sequence of DATA through the model and scores the predictions of data rows --from ... --to \
      (numbered from 1, the header not counted; every earlier row is history), beside persistence and an AR(p) \
      fitted by least squares (GSL, p by AIC) on the rows before --from (or the first --baseline-rows rows). --inputs and --target pick the columns as \
      for `fit` (use the same ones). ARV divides by the variance of the scored values, or by --arv-variance. A \
      model with forecast intervals (`fit` stores them) also gets the share of scored steps its 80% and 95% \
      intervals covered, at each horizon scored.

      Example (the classic sunspot split; rows 222-256 are 1921-1955):
        recur-train score --model sunspots.recur Fixtures/data/sunspots.csv \\
          --inputs SUNACTIVITY --from 222 --to 256 --baseline-rows 221 \\
          --arv-variance 1495.593765
      """)

  @Option(help: "The .recur model file.") var model: String
  @Argument(help: "The data file (- for stdin).") var data: String
  @OptionGroup var columns: ColumnOptions
  @Option(parsing: .unconditional, help: "First row scored, from 1.") var from: Int
  @Option(parsing: .unconditional, help: "Last row scored. (default: the last row)") var to: Int?
  @Option(
    name: .customLong("baseline-rows"), parsing: .unconditional,
    help: "Fit the AR baseline on rows 1...N (the model's training rows). (default: the rows before --from)")
  var baselineRows: Int?
  @OptionGroup var scoring: ScoringOptions
  @Option(help: "Directory for SVG plots (created if missing): forecast.svg, predicted vs actual.")
  var plots: String?

  func run() throws {
    if let plots { try PlotDirectory.check(plots, names: ["forecast.svg"], inputs: [model, data]) }
    let bytes = try readModelBytes(model, option: "--model")
    let loaded: RecurrentModel
    do { loaded = try RecurrentModel(bytes: bytes) } catch {
      throw TrainerError.io("--model '\(model)': \(error)")
    }
    let table = try DataTable.read(data)
    let inputColumns = try table.columnIndices(columns.inputs, option: "--inputs")
    let targetColumns =
      columns.target == nil ? inputColumns : try table.columnIndices(columns.target, option: "--target")
    guard inputColumns.count == loaded.inputSize && targetColumns.count == loaded.outputSize else {
      throw TrainerError.invalidOption(
        "the model reads \(loaded.inputSize) and predicts \(loaded.outputSize) columns; --inputs names "
          + "\(inputColumns.count) and --target \(targetColumns.count)")
    }
    let sequence = table.sequences[0]
    let last = to ?? sequence.steps
    guard from >= 2 && from <= last && last <= sequence.steps else {
      throw TrainerError.invalidOption(
        "--from \(from) --to \(last) must satisfy 2 <= from <= to <= \(sequence.steps) (the first sequence's rows)")
    }
    try scoring.checkVariance()
    let (horizon, arOrder) = (scoring.horizon, scoring.arOrder)
    try FitOptions.checkScoring(horizon: horizon, maxOrder: arOrder)
    let scored = DataSequence(
      values: Array(sequence.values[..<(last * sequence.columns)]), columns: sequence.columns,
      firstLine: sequence.firstLine)
    let fitted = baselineRows ?? (from - 1)
    guard fitted >= 2 && fitted < from else {
      throw TrainerError.invalidOption("--baseline-rows \(fitted) must be in 2...\(from - 1) (rows before --from)")
    }
    let history = DataSequence(
      values: Array(sequence.values[..<(fitted * sequence.columns)]), columns: sequence.columns,
      firstLine: sequence.firstLine)
    let task = ForecastTask(
      inputColumns: inputColumns, targetColumns: targetColumns,
      segments: [ScoredSegment(sequence: scored, scoredFrom: from - 1)], trainingParts: [history])
    if horizon > 1 && !task.canFreeRun {
      throw TrainerError.invalidOption("--horizon \(horizon) needs --target equal to --inputs")
    }
    arBaselineNote(task, arOrder)
    let report = try task.report(
      model: loaded, maxOrder: arOrder, horizons: horizon > 1 ? [1, horizon] : [1], variance: scoring.arvVariance)
    print("Rows \(from)-\(last) of \(escaped(data)) (\(last - from + 1) steps), model \(escaped(model)):")
    print(forecastTable(report))
    for h in (horizon > 1 ? [1, horizon] : [1]) {
      for level: Float in [0.8, 0.95] {
        if let c = ForecastIntervalFit.coverage(model: loaded, task: task, horizon: h, level: level) {
          print(
            "Interval \(Int(level * 100))%, horizon \(h): \(c.covered) of \(c.scored) steps covered ("
              + String(format: "%.1f", 100 * Double(c.covered) / Double(max(c.scored, 1))) + "%)")
        }
      }
    }
    if let plots {
      let svg = try task.forecastPlot(
        loaded, maxOrder: arOrder, firstRow: 1,
        title:
          "\(URL(fileURLWithPath: data).lastPathComponent), rows \(from)-\(last): \(URL(fileURLWithPath: model).lastPathComponent)"
      )
      print("Wrote " + (try PlotDirectory.write(svg, named: "forecast.svg", in: plots)))
    }
  }
}

/// The bytes of a model file, or a one-line error naming the option and the file (`--init 'x.recur': not a regular
/// file`), read as `recur` reads models: one regular file, refused above the largest valid model before it is read.
