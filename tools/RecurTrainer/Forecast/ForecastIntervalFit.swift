// Forecast intervals for `recur-train fit` (format version 6, `ForecastIntervals` in the runtime): per horizon h and
// target column, the empirical quantiles (GSL, `gsl_stats_quantile_from_sorted_data`: linear between order
// statistics) of the validation errors truth − forecast of the exported model's free-running h-step forecasts from
// every validation origin, through the runtime. `recur forecast` adds them to its point forecasts.
//
// Honest limits: the validation steps also chose the epoch and the linear part's order, so these errors are a little
// optimistic; and with n validation origins the outer quantiles are the extreme errors (the 0.5% quantile of 44
// errors is the smallest). docs/training.md reports the coverage measured on held-out test steps.

import CGSL
import RecurRuntime

public enum ForecastIntervalFit {
  /// The probabilities stored: the ends of the 50, 60, 70, 80, 90, 95, 98 and 99% central intervals, and the median.
  public static let probabilities: [Float] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995,
  ]

  /// Fewer validation errors than this at a horizon end the table there: the quantiles of 3 errors are no interval.
  public static let minimumErrors = 20
  /// Budgets: cell steps of the forecasts, and errors held. Past either, every k-th origin is used.
  static let cellStepBudget = 1 << 27
  static let errorBudget = 1 << 24

  /// The interval table for horizons 1...H, H at most `horizons`, ending before the first horizon with fewer than
  /// `minimumErrors` errors per column or a non-finite one (an overflowing forecast); nil when horizon 1 has none.
  /// One free-running forecast of every horizon from each origin (the runtime's `begin(steps:)` and `generate`, as
  /// `ForecastTask.modelForecasts` does horizon by horizon): origins × horizons × window cell steps (each windowed
  /// prediction reruns its window), so on long validation parts every k-th origin is used to stay within
  /// `cellStepBudget` and `errorBudget`.
  static func fit(
    model: RecurrentModel, task: ForecastTask, horizons: Int, probabilities: [Float]
  ) -> ForecastIntervals? {
    GSL.start()
    let O = model.outputSize
    let predictor = SequencePredictor(model: model)
    let needed = predictor.historyCapacity - 1  // steps before the origin that a prediction reads
    var errors = [[[Double]]](repeating: [[Double]](repeating: [], count: O), count: horizons)  // [h][o][origin]
    var seed: [Float] = []
    var forecast = [Float](repeating: 0, count: horizons * O)  // [h][O]
    let origins = task.segments.reduce(0) { $0 + task.origins($1, horizon: 1).count }
    let work = origins.multipliedReportingOverflow(by: horizons * max(model.file.contextLength, 1))
    let held = origins.multipliedReportingOverflow(by: horizons * O)
    let stride = max(
      1, work.overflow ? Int.max / cellStepBudget : (work.partialValue + cellStepBudget - 1) / cellStepBudget,
      held.overflow ? Int.max / errorBudget : (held.partialValue + errorBudget - 1) / errorBudget)
    for seg in task.segments {
      let s = seg.sequence
      let range = task.origins(seg, horizon: 1)
      for t in Swift.stride(from: range.lowerBound, to: range.upperBound, by: stride) {
        let reach = min(horizons, s.steps - 1 - t)  // horizons whose truth is known
        let start = max(0, t - needed)
        seed.removeAll(keepingCapacity: true)
        for u in start...t { for c in task.inputColumns { seed.append(s[u, c]) } }
        predictor.begin(steps: seed, count: t - start + 1)
        predictor.generate(steps: reach, into: &forecast)
        for h in 1...reach {
          for (o, c) in task.targetColumns.enumerated() {
            errors[h - 1][o].append(Double(s[t + h, c]) - Double(forecast[(h - 1) * O + o]))
          }
        }
      }
    }
    var quantiles: [Float] = []  // [H][O][Q]
    var covered = 0
    for h in 0..<horizons {
      guard errors[h].allSatisfy({ $0.count >= minimumErrors && $0.allSatisfy(\.isFinite) }) else { break }
      for o in 0..<O {
        var e = errors[h][o].sorted()
        e.withUnsafeMutableBufferPointer { e in
          for p in probabilities {
            quantiles.append(Float(gsl_stats_quantile_from_sorted_data(e.baseAddress, 1, e.count, Double(p))))
          }
        }
      }
      covered = h + 1
    }
    guard covered > 0 else { return nil }
    return ForecastIntervals(probabilities: probabilities, quantiles: quantiles, horizons: covered)
  }

  /// How many of `task`'s steps the model's stored interval at `level` (e.g. 0.8) covered, forecasting `horizon`
  /// steps ahead, over every target column: (covered, scored). Nil without intervals for that horizon.
  public static func coverage(
    model: RecurrentModel, task: ForecastTask, horizon: Int, level: Float
  ) -> (covered: Int, scored: Int)? {
    guard let intervals = model.file.intervals, horizon <= intervals.horizons, task.canFreeRun || horizon == 1 else {
      return nil
    }
    let O = model.outputSize
    let (truths, forecasts) = (task.truths(horizon: horizon), task.modelForecasts(model, horizon: horizon))
    var (covered, scored) = (0, 0)
    for o in 0..<O {
      // The ends as `recur forecast` computes them: (100 ∓ P) / 200, rounded once.
      let percent = (level * 100).rounded()
      guard
        let low = intervals.quantile((100 - percent) / 200, horizon: horizon, output: o, outputs: O),
        let high = intervals.quantile((100 + percent) / 200, horizon: horizon, output: o, outputs: O)
      else { return nil }
      for (truth, forecast) in zip(truths[o], forecasts[o]) {
        // In Float, as `recur forecast` prints the ends.
        let f = Float(forecast)
        if Double(f + low) <= truth && truth <= Double(f + high) { covered += 1 }
        scored += 1
      }
    }
    return (covered, scored)
  }
}
