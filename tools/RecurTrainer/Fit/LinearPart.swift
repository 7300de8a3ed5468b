// The linear part of a forecasting model (format version 6, `LinearTerm` in the runtime): an AR(p) over the input
// columns' last p values, fitted by least squares (GSL) on the training parts, p chosen by AICc (AIC with the
// small-sample correction) among `candidateOrders` on a common sample. Choosing p on the validation steps instead
// was measured worse on the public series of docs/training.md (it picked 13 where the seasonal series needed 24 or
// 25), and plain AIC picked AR(25) on the sunspot benchmark's 177 training years.
// The network is then trained on what the linear part leaves (`FitData.useLinearTerm`) from a zero readout, so the
// model starts exactly at the linear fit, and that starting point is itself a candidate of the early stopping
// (`Fitter`): the file written is never worse than the linear part on the validation steps.
//
// Why inside the model: a forecaster compares with the best linear model first. A recurrent network that must also
// learn the linear structure (a seasonal lag 12, a trend) from a few hundred steps loses to it on seasonal series
// (measured: 1.9–2.7x AR's error on monthly series, docs/training.md); given the linear part it only has to learn the
// rest.

import RecurRuntime

public enum LinearPart {
  /// The orders tried: short memories, the quarterly and monthly seasons (4, 12) and one step past them (5, 13: the
  /// seasonal difference's partner), two monthly seasons (24, 25).
  public static let candidateOrders = [1, 2, 3, 4, 5, 6, 8, 12, 13, 24, 25]
  /// The most lags × input columns a linear part holds (the AR baseline's `maxAutoregressiveRegressors`).
  public static let maxRegressors = ForecastTask.maxAutoregressiveRegressors

  /// One order tried: its AICc (summed over target columns, common sample) and, for the record, its validation ARV
  /// (one step ahead, the runtime's arithmetic).
  public struct Trial: Sendable, Equatable {
    public var order: Int
    public var aic: Double
    public var validationARV: Double
  }

  /// Fits AR(p) of every target column on the p lags of the input columns (`gsl_multifit_linear`, training parts),
  /// for each order in `orders` that leaves at least 4 equations per parameter, and returns the one with the lowest
  /// AICc (n · ln(RSS / n) + 2k + 2k(k + 1)/(n − k − 1), k parameters, on the common sample of targets from t = the
  /// largest order tried; ties to the lower order), refitted on its own sample (targets from t = p), with every
  /// trial. Throws when no order can be fitted.
  public static func choose(
    _ data: FitData, orders: [Int], variance: Double?
  ) throws(TrainerError) -> (term: LinearTerm, trials: [Trial]) {
    let I = data.inputSize
    let sequences = data.trainingParts.map { p in
      (0..<p.steps).map { t in data.inputColumns.map { Double(p[t, $0]) } }
    }
    let equations = { (p: Int) in data.trainingParts.reduce(0) { $0 + max(0, $1.steps - p) } }
    // At most `maxRegressors` lags × columns, as the AR baseline (a wide least squares costs minutes, and every
    // weight is a multiply-add of every prediction).
    let narrow = orders.filter { $0 >= 1 && $0 <= LinearTerm.maxOrder && $0 * I <= Self.maxRegressors }
    guard !narrow.isEmpty else {
      throw .invalidOption(
        "--linear \(orders.map(String.init).joined(separator: ",")) over \(I) input columns is more than "
          + "\(Self.maxRegressors) lags × columns; use a lower --linear, fewer --inputs or --linear 0")
    }
    let feasible = narrow.filter { equations($0) >= 4 * ($0 * I + 1) }
    guard !feasible.isEmpty else {
      throw .invalidData(
        "the training part is too short for a linear term of order "
          + narrow.map(String.init).joined(separator: ", ") + " (\(equations(narrow.min()!)) equations; AR("
          + "\(narrow.min()!)) over \(I) column\(I == 1 ? "" : "s") needs \(4 * (narrow.min()! * I + 1))): use a lower "
          + "--linear, --linear 0 or more data")
    }
    let task = data.forecastTask
    let truths = task.truths(horizon: 1)
    let common = feasible.max()!
    var best: (term: LinearTerm, aic: Double)? = nil
    var trials: [Trial] = []
    for p in feasible {
      var weight: [Float] = []
      var bias: [Float] = []
      var aic = 0.0
      var failed = false
      for c in data.targetColumns {
        let targets = data.trainingParts.map { part in (0..<part.steps).map { Double(part[$0, c]) } }
        do {
          let ar = try Autoregressive.fit(order: p, sequences: sequences, targets: targets, firstTarget: p)
          let fit = try Autoregressive.fit(order: p, sequences: sequences, targets: targets, firstTarget: common)
          // AICc: AIC + 2k(k + 1)/(n − k − 1), the small-sample correction (plain AIC chose AR(25) on the 177
          // training years of the classic sunspot split, 0.33 validation ARV against AR(8)'s 0.26).
          let (k, n) = (Double(fit.parameterCount), Double(fit.equations))
          aic += fit.aic + (n - k - 1 > 0 ? 2 * k * (k + 1) / (n - k - 1) : .infinity)
          weight += ar.coefficients.map { Float($0) }
          bias.append(Float(ar.intercept))
        } catch {
          failed = true  // rank deficient at this order (a constant column, too high an order): not a candidate
          break
        }
      }
      if failed { continue }
      let term = LinearTerm(order: p, weight: weight, bias: bias)
      let arv = combinedScore(forecasts(term, data), truths, variance: variance).arv
      trials.append(Trial(order: p, aic: aic, validationARV: arv))
      if aic.isFinite && arv.isFinite && (best == nil || aic < best!.aic) { best = (term, aic) }
    }
    guard let best else {
      throw .invalidData(
        "no linear term could be fitted (orders \(feasible.map(String.init).joined(separator: ", ")) are rank "
          + "deficient, fit exactly or score no finite validation error): use --linear 0")
    }
    return (best.term, trials)
  }

  /// The term's one-step predictions of every validation step, per target column, in `ForecastTask`'s order.
  static func forecasts(_ term: LinearTerm, _ data: FitData) -> [[Double]] {
    let task = data.forecastTask
    var out = [[Double]](repeating: [], count: data.outputSize)
    for seg in task.segments {
      let bases = self.bases(term, seg.sequence, inputColumns: data.inputColumns)
      for t in task.origins(seg, horizon: 1) {
        for o in 0..<data.outputSize { out[o].append(Double(bases[t * data.outputSize + o])) }
      }
    }
    return out
  }

  /// base[t][o]: the term's prediction of step t + 1 of `s` from steps ≤ t (lags before step 0 read step 0), through
  /// `LinearTerm.apply`, the runtime's own arithmetic. [steps][O].
  public static func bases(_ term: LinearTerm, _ s: DataSequence, inputColumns: [Int]) -> [Float] {
    let (I, O, p) = (inputColumns.count, term.bias.count, term.order)
    var lags = [Float](repeating: 0, count: p * I)  // [p][I], lag 1 first
    var out = [Float](repeating: 0, count: s.steps * O)
    for t in 0..<s.steps {
      for lag in 1...p {
        let row = max(t + 1 - lag, 0)
        for (i, c) in inputColumns.enumerated() { lags[(lag - 1) * I + i] = s[row, c] }
      }
      lags.withUnsafeBufferPointer { l in
        out.withUnsafeMutableBufferPointer { b in
          term.apply(lags: l.baseAddress!, inputSize: I, into: b.baseAddress! + t * O)
        }
      }
    }
    return out
  }
}
