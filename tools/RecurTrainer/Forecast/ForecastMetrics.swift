// Forecast error scores for `recur-train fit`: RMSE, MAE, MSE and ARV of predictions against the truths, so that a
// network, the AR(p) baselines of `Autoregressive` and persistence (prediction = previous value, which needs no code)
// are all measured by the same arithmetic on the same held-out steps.
//
// ARV (average relative variance, Weigend et al.) = MSE / variance: 1 is as good as always predicting the mean of the
// truths, 0 is perfect. The variance is the *population* variance (divide by N), not `gsl_stats_variance`'s sample
// variance (divide by N − 1), unless the caller supplies one (e.g. the variance of the whole series).

import CGSL

/// Errors of `count` predictions. Every field but `count` is NaN for an empty sample (so two empty scores are not
/// `==`: NaN ≠ NaN).
public struct ForecastScore: Sendable, Equatable {
  public var count: Int
  /// √MSE.
  public var rmse: Double
  /// mean |prediction − truth|.
  public var mae: Double
  /// mean (prediction − truth)².
  public var mse: Double
  /// MSE / variance; +∞ (or NaN when MSE is 0 too) for a zero variance.
  public var arv: Double

  public init(count: Int, rmse: Double, mae: Double, mse: Double, arv: Double) {
    (self.count, self.rmse, self.mae, self.mse, self.arv) = (count, rmse, mae, mse, arv)
  }

  /// All NaN: "nothing scored".
  public static let empty = ForecastScore(count: 0, rmse: .nan, mae: .nan, mse: .nan, arv: .nan)
}

public enum ForecastMetrics {
  /// RMSE, MAE, MSE of `predictions` against `truths` (`gsl_stats_mean` of the squared and absolute errors), and
  /// ARV = MSE / variance, where `variance` defaults to `populationVariance(truths)` (divide by N; note that
  /// `gsl_stats_variance` would divide by N − 1). NaN fields (`ForecastScore.empty`) for an empty sample.
  ///
  /// Precondition: `predictions.count == truths.count`.
  public static func score(predictions: [Double], truths: [Double], variance: Double? = nil) -> ForecastScore {
    precondition(
      predictions.count == truths.count, "\(predictions.count) predictions but \(truths.count) truths")
    GSL.start()
    guard !truths.isEmpty else { return .empty }
    let squared = zip(predictions, truths).map { ($0 - $1) * ($0 - $1) }  // [N]
    let absolute = zip(predictions, truths).map { abs($0 - $1) }  // [N]
    let mse = squared.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
    let mae = absolute.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
    let denominator = variance ?? populationVariance(truths)
    return ForecastScore(count: truths.count, rmse: mse.squareRoot(), mae: mae, mse: mse, arv: mse / denominator)
  }

  /// (1/N) Σ (x − x̄)², the population variance, as `gsl_stats_variance_with_fixed_mean(x, 1, N, gsl_stats_mean(x))`
  /// (that function divides by N; `gsl_stats_variance` and `gsl_stats_variance_m` divide by N − 1). NaN when empty.
  public static func populationVariance(_ values: [Double]) -> Double {
    GSL.start()
    guard !values.isEmpty else { return .nan }
    return values.withUnsafeBufferPointer { buffer in
      let mean = gsl_stats_mean(buffer.baseAddress, 1, buffer.count)
      return gsl_stats_variance_with_fixed_mean(buffer.baseAddress, 1, buffer.count, mean)
    }
  }
}
