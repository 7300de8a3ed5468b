// Linear autoregressive baselines for `recur-train fit`: AR(p) models fitted by ordinary least squares in GSL, with
// AIC order selection and free-running forecasts.
//
// Why: a recurrent network's forecast error means little on its own. An AR(p) fit is the honest reference point (the
// best *linear* function of the same p previous steps, in closed form, no training noise): the network earns its
// keep only if it beats it on the same held-out steps, scored by `ForecastMetrics`.
//
// Model: target[t] = intercept + Σ_{lag=1…p} Σ_{c=0…k-1} coefficients[(lag-1)·k + c] · input[t-lag][c], where the k
// input columns may be the target itself (univariate AR) and/or exogenous series. Every equation uses only steps of
// one sequence: no equation straddles the boundary between two sequences.
//
// Fitting: `gsl_multifit_linear` (SVD least squares) on a design matrix with a leading column of ones. That function
// silently truncates singular values below DBL_EPSILON · s_max (it calls `gsl_multifit_linear_tsvd` with that
// tolerance and discards the rank), so rank deficiency is detected separately, after the fit, with
// `gsl_multifit_linear_rank(rankTolerance, workspace)` on the singular values it left in the workspace.

import CGSL
import Foundation

// MARK: - Model

/// An AR(p) model fitted by least squares: one target column predicted from the p previous steps of `inputColumns`
/// input columns.
public struct AutoregressiveModel: Sendable {
  /// p: the number of previous steps each prediction reads.
  public let order: Int
  public let intercept: Double
  /// [order · inputColumns], lag-major: lag 1 of every input column, then lag 2, …, then lag p. The weight of input
  /// column c at lag l (1-based) is `coefficients[(l - 1) * inputColumns + c]`.
  public let coefficients: [Double]
  /// k: values per time step of the input sequences.
  public let inputColumns: Int
  /// Σ (target − fitted)² over the equations of the fit (GSL's χ² with unit weights).
  public let residualSumOfSquares: Double
  /// n: the rows of the design matrix, i.e. the (sequence, t) pairs fitted.
  public let equations: Int
  /// Akaike's criterion for Gaussian errors up to a constant: n · ln(RSS / n) + 2 · (order · inputColumns + 1).
  /// −∞ for an exact fit (RSS = 0).
  public let aic: Double

  /// order · inputColumns + 1 (the intercept).
  public var parameterCount: Int { order * inputColumns + 1 }

  /// One-step prediction of the target at time `t` of `sequence` ([time][inputColumns]) from its steps t-1 … t-p.
  ///
  /// Preconditions: `order <= t <= sequence.count` (t = sequence.count predicts the step after the last one) and
  /// every row read has `inputColumns` values.
  public func predict(_ sequence: [[Double]], at t: Int) -> Double {
    precondition(
      t >= order && t <= sequence.count,
      "AR(\(order)) prediction at t = \(t) needs order ≤ t ≤ \(sequence.count) (the sequence length)")
    var y = intercept
    for lag in 1...order {
      let row = sequence[t - lag]
      precondition(row.count == inputColumns, "row \(t - lag) has \(row.count) values, expected \(inputColumns)")
      let base = (lag - 1) * inputColumns
      for c in 0..<inputColumns { y += coefficients[base + c] * row[c] }
    }
    return y
  }

  /// Free-running forecast: the `steps` values that follow `history`, each predicted from the previous p values with
  /// the model's own earlier outputs standing in for the unknown future (the one-step predictor iterated).
  ///
  /// Only meaningful for a univariate model whose single input column *is* the target (fitted with
  /// `sequences[s][t] == [targets[s][t]]`): an exogenous input has no predicted future to feed back.
  /// Preconditions: `inputColumns == 1`, `history.count >= order` (`history` is [time][1]), `steps >= 0`.
  public func forecast(_ history: [[Double]], steps: Int) -> [Double] {
    precondition(inputColumns == 1, "forecast needs a univariate model (1 input column), this one has \(inputColumns)")
    precondition(history.count >= order, "forecast needs at least \(order) history steps, got \(history.count)")
    precondition(steps >= 0, "forecast steps must be ≥ 0, got \(steps)")
    // [order]: the last p values, oldest first; window[order - lag] is lag `lag` of the next step.
    var window = history.suffix(order).map { row in
      precondition(row.count == 1, "history rows must hold exactly 1 value, got \(row.count)")
      return row[0]
    }
    var out: [Double] = []
    out.reserveCapacity(steps)
    for _ in 0..<steps {
      var y = intercept
      for lag in 1...order { y += coefficients[lag - 1] * window[order - lag] }
      out.append(y)
      window.removeFirst()
      window.append(y)
    }
    return out
  }
}

// MARK: - Fitting

public enum Autoregressive {
  /// Singular values s_i ≤ rankTolerance · s_max of the design matrix count as zero: below that the least-squares
  /// coefficients amplify rounding error by more than 1e10 and mean nothing. Exactly collinear columns (a constant
  /// input next to the intercept, a duplicated column, a noiseless AR(2) fitted as AR(3)) land near 1e-16.
  static let rankTolerance = 1e-10

  /// Least squares (`gsl_multifit_linear`, with an intercept column) of `targets[s][t]` on the p previous steps of
  /// all input columns, over every t with t ≥ firstTarget and t ≥ p in every training sequence.
  ///
  /// - Parameters:
  ///   - p: the order, ≥ 1.
  ///   - sequences: `sequences[s]` is [time][inputColumns]; every row has the same number of columns (≥ 1).
  ///   - targets: `targets[s]` is [time], the target column of sequence s (same length as `sequences[s]`).
  ///   - firstTarget: the first time index used as a target (≥ 0); raise it above p to fit several orders on the
  ///     same equations.
  /// - Throws: `.invalidOption` for inconsistent shapes, p < 1 or a non-finite value; `.noTrainingExamples` when
  ///   there are fewer equations than parameters + 1; `.gsl` when GSL fails or the design is rank deficient.
  public static func fit(
    order p: Int, sequences: [[[Double]]], targets: [[Double]], firstTarget: Int
  ) throws(TrainerError) -> AutoregressiveModel {
    let k = try validate(sequences: sequences, targets: targets)
    switch try solve(order: p, inputColumns: k, sequences: sequences, targets: targets, firstTarget: firstTarget) {
    case .fitted(let model): return model
    case .rankDeficient(let error): throw error
    }
  }

  /// Order selection by AIC: fits p = 1 … maxOrder on a *common* sample (targets from t = maxOrder, after clamping,
  /// in every sequence for every p, so the AIC values compare the same equations) and returns the AIC-minimising fit.
  /// The model returned is that common-sample fit itself (refitted on the common sample, not on its own longer sample
  /// from t = p), so its `equations` is the common count. Ties go to the lower order.
  ///
  /// `maxOrder` is first clamped down to the largest order whose fit has at least 2 · (parameters) equations on its
  /// common sample. The search stops at the first order whose design is rank deficient (higher orders only add
  /// columns, so they would be too). Throws if not even p = 1 fits: too few equations (`.noTrainingExamples`), a
  /// rank deficient order-1 design or a GSL failure (`.gsl`), or the shape errors of `fit`.
  public static func select(
    maxOrder: Int, sequences: [[[Double]]], targets: [[Double]]
  ) throws(TrainerError) -> AutoregressiveModel {
    guard maxOrder >= 1 else { throw .invalidOption("the maximum autoregressive order must be ≥ 1, got \(maxOrder)") }
    let k = try validate(sequences: sequences, targets: targets)
    var m = maxOrder
    while m >= 1 && equationCount(targets, from: m) < 2 * (m * k + 1) { m -= 1 }
    guard m >= 1 else {
      throw .noTrainingExamples(
        "AR order selection with \(k) input column(s) needs at least \(2 * (k + 1)) equations for order 1 "
          + "(2 × \(k + 1) parameters), but the \(targets.count) training sequence(s) give "
          + "\(equationCount(targets, from: 1))")
    }
    var best: AutoregressiveModel
    switch try solve(order: 1, inputColumns: k, sequences: sequences, targets: targets, firstTarget: m) {
    case .fitted(let model): best = model
    case .rankDeficient(let error): throw error
    }
    if m >= 2 {
      for p in 2...m {
        guard
          case .fitted(let model) = try solve(
            order: p, inputColumns: k, sequences: sequences, targets: targets, firstTarget: m)
        else { break }
        if model.aic < best.aic { best = model }
      }
    }
    return best
  }

  // MARK: Internals

  enum Outcome {
    case fitted(AutoregressiveModel)
    /// The error `fit` throws; `select` stops its search instead.
    case rankDeficient(TrainerError)
  }

  /// Σ_s max(0, targets[s].count − start): the equations with targets from t = start.
  static func equationCount(_ targets: [[Double]], from start: Int) -> Int {
    targets.reduce(0) { $0 + max(0, $1.count - start) }
  }

  /// Checks the shapes and that every value is finite; returns the number of input columns.
  static func validate(sequences: [[[Double]]], targets: [[Double]]) throws(TrainerError) -> Int {
    guard sequences.count == targets.count else {
      throw .invalidOption("\(sequences.count) input sequences but \(targets.count) target sequences")
    }
    guard let k = sequences.lazy.compactMap({ $0.first?.count }).first else {
      throw .noTrainingExamples("no training sequence has any time steps")
    }
    guard k >= 1 else { throw .invalidOption("input rows have no columns") }
    for (s, (sequence, target)) in zip(sequences, targets).enumerated() {
      guard sequence.count == target.count else {
        throw .invalidOption("sequence \(s) has \(sequence.count) input steps but \(target.count) targets")
      }
      for (t, row) in sequence.enumerated() {
        guard row.count == k else {
          throw .invalidOption("sequence \(s), step \(t) has \(row.count) input columns, expected \(k)")
        }
        guard row.allSatisfy(\.isFinite), target[t].isFinite else {
          throw .invalidOption("sequence \(s), step \(t) holds a non-finite value")
        }
      }
    }
    return k
  }

  /// Builds the design (after `validate`) and solves it with `gsl_multifit_linear`.
  static func solve(
    order p: Int, inputColumns k: Int, sequences: [[[Double]]], targets: [[Double]], firstTarget: Int
  ) throws(TrainerError) -> Outcome {
    GSL.start()
    guard p >= 1 else { throw .invalidOption("the autoregressive order must be ≥ 1, got \(p)") }
    guard firstTarget >= 0 else { throw .invalidOption("the first target index must be ≥ 0, got \(firstTarget)") }
    let start = max(firstTarget, p)
    let n = equationCount(targets, from: start)
    let columns = p * k + 1
    guard n >= columns + 1 else {
      throw .noTrainingExamples(
        "an AR(\(p)) fit (order \(p)) with \(k) input column(s) needs at least \(columns + 1) equations "
          + "(\(columns) parameters + 1), but the \(targets.count) training sequence(s) give \(n) "
          + "(targets from t = \(start))")
    }

    let outOfMemory = TrainerError.gsl(
      "allocating the \(n) × \(columns) AR(\(p)) least-squares problem failed (out of memory)")
    // One guard and one defer per GSL object, as in GSL.swift: each C allocation is freed on every way out.
    guard let design = gsl_matrix_alloc(n, columns) else { throw outOfMemory }
    defer { gsl_matrix_free(design) }
    guard let y = gsl_vector_alloc(n) else { throw outOfMemory }
    defer { gsl_vector_free(y) }
    guard let c = gsl_vector_alloc(columns) else { throw outOfMemory }
    defer { gsl_vector_free(c) }
    guard let cov = gsl_matrix_alloc(columns, columns) else { throw outOfMemory }
    defer { gsl_matrix_free(cov) }
    guard let work = gsl_multifit_linear_alloc(n, columns) else { throw outOfMemory }
    defer { gsl_multifit_linear_free(work) }

    // design: [n][columns] row-major with row stride tda; row r = [1, lag-1 inputs (k), …, lag-p inputs (k)].
    // y: [n] with stride `stride`, the targets in the same (sequence, t) order.
    let x = design.pointee.data!
    let tda = design.pointee.tda
    let yData = y.pointee.data!
    let yStride = y.pointee.stride
    var r = 0
    for (sequence, target) in zip(sequences, targets) where target.count > start {
      for t in start..<target.count {
        let row = x + r * tda
        row[0] = 1
        for lag in 1...p {
          let inputs = sequence[t - lag]
          let base = 1 + (lag - 1) * k
          for column in 0..<k { row[base + column] = inputs[column] }
        }
        yData[r * yStride] = target[t]
        r += 1
      }
    }

    var chisq = 0.0
    let status = gsl_multifit_linear(design, y, c, cov, &chisq, work)
    guard status == 0 else {
      throw .gsl("gsl_multifit_linear failed for AR(\(p)) on \(n) equations: \(String(cString: gsl_strerror(status)))")
    }
    let rank = gsl_multifit_linear_rank(rankTolerance, work)
    guard rank == columns else {
      return .rankDeficient(
        .gsl(
          "the AR(\(p)) design matrix (\(n) equations × \(columns) columns: intercept + \(p) lags × \(k) inputs) is "
            + "rank deficient (rank \(rank), reciprocal condition number \(gsl_multifit_linear_rcond(work))): an "
            + "input is constant or a linear combination of the others, or the order is higher than the data "
            + "supports"))
    }

    let cData = c.pointee.data!
    let cStride = c.pointee.stride
    let solution = (0..<columns).map { cData[$0 * cStride] }
    guard solution.allSatisfy(\.isFinite), chisq.isFinite else {
      throw .gsl("gsl_multifit_linear returned non-finite coefficients for AR(\(p))")
    }
    let rss = max(chisq, 0)
    return .fitted(
      AutoregressiveModel(
        order: p, intercept: solution[0], coefficients: Array(solution[1...]), inputColumns: k,
        residualSumOfSquares: rss, equations: n,
        aic: Double(n) * log(rss / Double(n)) + 2 * Double(columns)))
  }
}
