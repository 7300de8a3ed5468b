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

  /// The interval table for horizons 1...min(`horizons`, the longest validation segment's scored steps); nil when
  /// the validation steps give no error at horizon 1.
  static func fit(
    model: RecurrentModel, task: ForecastTask, horizons: Int, probabilities: [Float]
  ) -> ForecastIntervals? {
    GSL.start()
    var quantiles: [Float] = []  // [H][O][Q]
    var covered = 0
    for h in 1...horizons {
      let truths = task.truths(horizon: h)
      guard let first = truths.first, !first.isEmpty else { break }
      let forecasts = task.modelForecasts(model, horizon: h)
      for (truth, forecast) in zip(truths, forecasts) {
        var errors = zip(truth, forecast).map { $0 - $1 }.sorted()
        errors.withUnsafeMutableBufferPointer { e in
          for p in probabilities {
            quantiles.append(Float(gsl_stats_quantile_from_sorted_data(e.baseAddress, 1, e.count, Double(p))))
          }
        }
      }
      covered = h
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
      guard
        let low = intervals.quantile((1 - level) / 2, horizon: horizon, output: o, outputs: O),
        let high = intervals.quantile((1 + level) / 2, horizon: horizon, output: o, outputs: O)
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
