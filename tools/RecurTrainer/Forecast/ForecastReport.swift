// Scoring forecasts on held-out steps, side by side: the model (through the runtime, on the exported bytes), persistence
// (next = last) and a least-squares AR(p) fitted on the training parts (GSL, p by AIC). One step ahead and,
// with a horizon N, free-running N steps ahead. The figures are RMSE and MAE in the data's units and ARV (mean squared
// error over the variance of the scored values, averaged over target columns; or over a given variance).

import Foundation
import RecurRuntime

/// Which columns a model reads and predicts, and the segments to score.
public struct ForecastTask: Sendable {
  public var inputColumns: [Int]
  public var targetColumns: [Int]
  public var segments: [ScoredSegment]
  /// The training parts the AR baseline is fitted on.
  public var trainingParts: [DataSequence]

  public init(inputColumns: [Int], targetColumns: [Int], segments: [ScoredSegment], trainingParts: [DataSequence]) {
    (self.inputColumns, self.targetColumns, self.segments, self.trainingParts) =
      (inputColumns, targetColumns, segments, trainingParts)
  }

  /// True when free-running forecasts are defined (every prediction can be fed back: targets = inputs).
  public var canFreeRun: Bool { inputColumns == targetColumns }

  /// The scored truths per target column at `horizon`: the values at origin + horizon (see `origins`).
  func truths(horizon: Int) -> [[Double]] {
    targetColumns.map { c in
      var out: [Double] = []
      for seg in segments {
        for t in origins(seg, horizon: horizon) { out.append(Double(seg.sequence[t + horizon, c])) }
      }
      return out
    }
  }

  /// The last observed steps t whose forecast `horizon` steps ahead lands on a scored step.
  func origins(_ seg: ScoredSegment, horizon: Int) -> Range<Int> {
    let first = seg.scoredFrom - 1
    let last = seg.sequence.steps - 1 - horizon
    return first <= last ? first..<(last + 1) : first..<first
  }

  /// The model's forecasts, through the runtime. One step: the whole sequence is streamed and the prediction after
  /// step t is read. N steps: the history up to t is observed (its last k + 1 steps suffice for the windowed
  /// encodings) and N steps are generated.
  public func modelForecasts(_ model: RecurrentModel, horizon: Int) -> [[Double]] {
    let predictor = SequencePredictor(model: model)
    let (I, O) = (model.inputSize, model.outputSize)
    var out = [[Double]](repeating: [], count: O)
    var step = [Float](repeating: 0, count: I)
    var prediction = [Float](repeating: 0, count: max(I, O) * horizon)
    for seg in segments {
      let s = seg.sequence
      let origins = origins(seg, horizon: horizon)
      if horizon == 1 {
        predictor.reset()
        for t in 0..<s.steps - 1 {
          for (i, c) in inputColumns.enumerated() { step[i] = s[t, c] }
          predictor.observe(step, into: &prediction)
          if origins.contains(t) { for o in 0..<O { out[o].append(Double(prediction[o])) } }
        }
      } else {
        let windowed = model.file.encoding.isWindowed
        for t in origins {
          // A windowed prediction reads at most the last `historyCapacity` steps; any other encoding needs the
          // whole history.
          let start = windowed ? max(0, t - (predictor.historyCapacity - 1)) : 0
          var seed: [Float] = []
          for u in start...t { for c in inputColumns { seed.append(s[u, c]) } }
          predictor.begin(steps: seed, count: t - start + 1)
          predictor.generate(steps: horizon, into: &prediction)
          for o in 0..<O { out[o].append(Double(prediction[(horizon - 1) * O + o])) }
        }
      }
    }
    return out
  }

  /// The model's one-step predictions of every scored step as text: one line of O values per step (Swift's
  /// shortest round-trip decimal, as `recur stream` prints), a blank line between segments.
  public func predictionText(_ model: RecurrentModel) -> String {
    let forecasts = modelForecasts(model, horizon: 1)
    var lines: [String] = []
    var k = 0
    for (n, seg) in segments.enumerated() {
      if n > 0 { lines.append("") }
      for _ in origins(seg, horizon: 1) {
        lines.append(forecasts.map { "\(Float($0[k]))" }.joined(separator: " "))
        k += 1
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// An SVG of the first target column over the scored steps of the first segment: actual, the model, AR(p) and
  /// persistence, one step ahead. `firstRow` numbers the segment's step 0.
  public func forecastPlot(_ model: RecurrentModel, maxOrder: Int, firstRow: Int, title: String) throws(TrainerError)
    -> String
  {
    guard let seg = segments.first else { return "" }
    let n = origins(seg, horizon: 1).count
    let ar = try fitAutoregressive(maxOrder: maxOrder)
    let rows = (0..<n).map { Double(firstRow + seg.scoredFrom + $0) }
    return SVGPlot.forecast(
      x: rows, truth: Array(truths(horizon: 1)[0].prefix(n)),
      series: [
        ("recur (model)", Array(modelForecasts(model, horizon: 1)[0].prefix(n))),
        ("AR(\(ar[0].order))", Array(autoregressiveForecasts(ar, horizon: 1)[0].prefix(n))),
        ("persistence", Array(persistenceForecasts(horizon: 1)[0].prefix(n))),
      ], title: title, subtitle: "one step ahead, each forecast from the true values before it")
  }

  /// Persistence: the forecast of every later step is the last observed value.
  func persistenceForecasts(horizon: Int) -> [[Double]] {
    targetColumns.map { c in
      var out: [Double] = []
      for seg in segments { for t in origins(seg, horizon: horizon) { out.append(Double(seg.sequence[t, c])) } }
      return out
    }
  }

  /// The columns AR(p) regresses target column `c` on: the inputs, plus the target itself when it is not one of
  /// them (an ARX model: its own past is the first thing a linear baseline should see).
  /// The columns whose lags the AR baseline of target `c` regresses on: every input (and `c`), or `c` alone when
  /// there are more than `maxAutoregressiveRegressors` of them (the least-squares fits cost the square of the
  /// regressors per row and per order tried: 32 columns at order 12 took minutes on 1,000 rows).
  public func autoregressiveColumns(_ c: Int) -> [Int] {
    let all = inputColumns.contains(c) ? inputColumns : inputColumns + [c]
    return all.count > Self.maxAutoregressiveRegressors ? [c] : all
  }

  /// The most regressors (columns × order) the AR baseline fits.
  public static let maxAutoregressiveRegressors = 64

  /// The largest order the AR baseline tries for `maxOrder`: lower when the columns × order would exceed
  /// `maxAutoregressiveRegressors` (the CLIs say so in a note).
  public func autoregressiveOrderLimit(_ maxOrder: Int) -> Int {
    let widest = targetColumns.map { autoregressiveColumns($0).count }.max() ?? 1
    return min(maxOrder, max(1, Self.maxAutoregressiveRegressors / max(widest, 1)))
  }

  /// AR(p) per target column on the lags of `autoregressiveColumns`, order by AIC over 1...maxOrder (at most
  /// `autoregressiveOrderLimit`) on the training parts (common sample).
  public func fitAutoregressive(maxOrder requested: Int) throws(TrainerError) -> [AutoregressiveModel] {
    let maxOrder = autoregressiveOrderLimit(requested)
    var models: [AutoregressiveModel] = []
    for c in targetColumns {
      let columns = autoregressiveColumns(c)
      let inputs = trainingParts.map { p in (0..<p.steps).map { t in columns.map { Double(p[t, $0]) } } }
      let targets = trainingParts.map { p in (0..<p.steps).map { Double(p[$0, c]) } }
      models.append(try Autoregressive.select(maxOrder: maxOrder, sequences: inputs, targets: targets))
    }
    return models
  }

  /// AR forecasts: one step from the true lags; N steps (targets = inputs only, so every regressor is forecast)
  /// by feeding the AR's own forecasts back.
  func autoregressiveForecasts(_ models: [AutoregressiveModel], horizon: Int) -> [[Double]] {
    precondition(horizon == 1 || canFreeRun, "multi-step AR forecasts need targets = inputs")
    var out = [[Double]](repeating: [], count: targetColumns.count)
    for seg in segments {
      let s = seg.sequence
      for (o, c) in targetColumns.enumerated() {
        let m = models[o]
        let columns = autoregressiveColumns(c)
        let rows = (0..<s.steps).map { t in columns.map { Double(s[t, $0]) } }
        for t in origins(seg, horizon: horizon) {
          if horizon == 1 {
            out[o].append(t + 1 >= m.order ? m.predict(rows, at: t + 1) : .nan)
            continue
          }
          // Every column forecast jointly (columns = inputs = targets here).
          var history = Array(rows[0...t])
          var next: [Double] = []
          for _ in 0..<horizon {
            let n = history.count
            next = models.map { n >= $0.order ? $0.predict(history, at: n) : .nan }
            history.append(next)
          }
          out[o].append(next[o])
        }
      }
    }
    return out
  }
}

extension ForecastTask {
  /// The table's rows for each horizon: persistence, AR(p) (orders by AIC, fitted here on `trainingParts`) and the
  /// model through the runtime, scored on the same steps.
  public func report(
    model: RecurrentModel, maxOrder: Int, horizons: [Int], variance: Double?
  ) throws(TrainerError) -> [(horizon: Int, rows: [ForecastRow])] {
    report(
      model: model, autoregressive: try fitAutoregressive(maxOrder: maxOrder), horizons: horizons, variance: variance)
  }

  /// The same with the AR(p) baselines already fitted (`fitAutoregressive`).
  public func report(
    model: RecurrentModel, autoregressive: [AutoregressiveModel], horizons: [Int], variance: Double?
  ) -> [(horizon: Int, rows: [ForecastRow])] {
    let a = model.architecture
    let label =
      "\(a.kind.name)\(a.layers > 1 ? " \(a.layers)x" : "") h\(a.hiddenSize)"
      + (model.file.linearTerm.map { " + linear AR(\($0.order))" } ?? "")
    return horizons.map { h in
      let truth = truths(horizon: h)
      return (
        h,
        [
          ForecastRow(
            name: "persistence", score: combinedScore(persistenceForecasts(horizon: h), truth, variance: variance)),
          ForecastRow(
            name: "AR(\(autoregressive.map { String($0.order) }.joined(separator: ",")))",
            score: combinedScore(autoregressiveForecasts(autoregressive, horizon: h), truth, variance: variance)),
          ForecastRow(
            name: "recur \(label)", score: combinedScore(modelForecasts(model, horizon: h), truth, variance: variance)),
        ]
      )
    }
  }
}

/// One row of the final table.
public struct ForecastRow: Sendable {
  public var name: String
  public var score: ForecastScore
}

/// Scores `predictions` against `truths` column by column: RMSE and MAE over every value, ARV the mean over columns
/// of MSE / variance (the scored values' population variance, or `variance` when given).
public func combinedScore(_ predictions: [[Double]], _ truths: [[Double]], variance: Double?) -> ForecastScore {
  var all = ForecastScore(count: 0, rmse: 0, mae: 0, mse: 0, arv: 0)
  var sse = 0.0
  var sae = 0.0
  var arv = 0.0
  for (p, t) in zip(predictions, truths) {
    let s = ForecastMetrics.score(predictions: p, truths: t, variance: variance)
    all.count += s.count
    sse += s.mse * Double(s.count)
    sae += s.mae * Double(s.count)
    arv += s.arv
  }
  guard all.count > 0 else { return ForecastScore(count: 0, rmse: .nan, mae: .nan, mse: .nan, arv: .nan) }
  all.mse = sse / Double(all.count)
  all.rmse = all.mse.squareRoot()
  all.mae = sae / Double(all.count)
  all.arv = arv / Double(predictions.count)
  return all
}

/// The markdown table: one row per forecaster and horizon, the model's rows flagged when persistence does better.
public func forecastTable(_ rows: [(horizon: Int, rows: [ForecastRow])]) -> String {
  var lines = [
    "| forecaster | horizon | steps scored | RMSE | MAE | ARV |",
    "|---|---:|---:|---:|---:|---:|",
  ]
  func f(_ x: Double) -> String {
    guard x.isFinite else { return "n/a" }
    let magnitude = abs(x)
    if magnitude != 0 && (magnitude < 1e-3 || magnitude >= 1e6) { return String(format: "%.4e", x) }
    return String(format: "%.4f", x)
  }
  for group in rows {
    for row in group.rows {
      lines.append(
        "| \(row.name) | \(group.horizon) | \(row.score.count) | \(f(row.score.rmse)) | \(f(row.score.mae)) | "
          + "\(f(row.score.arv)) |")
    }
  }
  return lines.joined(separator: "\n")
}
