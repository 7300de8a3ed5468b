// The AR(p) baselines and forecast scores of `recur-train fit`, against closed forms computed independently here:
// recurrences whose coefficients are known exactly, ordinary least squares by the normal equations in plain Double,
// and hand-computed error scores.

import Foundation
import RecurTestSupport
import Testing

@testable import RecurTrainer

/// x_t = 0.5 + 1.3 x_{t-1} − 0.6 x_{t-2} (+ noise_t), x_0 = 1, x_1 = 2. The characteristic roots have modulus
/// √0.6 ≈ 0.77, so the series is stationary (a damped oscillation around 0.5 / 0.3).
private func ar2Series(count: Int, noise: (Int) -> Double = { _ in 0 }) -> [Double] {
  var x: [Double] = [1, 2]
  while x.count < count {
    let t = x.count
    x.append(0.5 + 1.3 * x[t - 1] - 0.6 * x[t - 2] + noise(t))
  }
  return x
}

/// Deterministic pseudo-noise uniform on [−amplitude/2, amplitude/2): a 64-bit LCG (Knuth's MMIX constants),
/// top 53 bits.
private func lcgNoise(count: Int, amplitude: Double, seed: UInt64 = 12345) -> [Double] {
  var state = seed
  return (0..<count).map { _ in
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (Double(state >> 11) / 9_007_199_254_740_992 - 0.5) * amplitude
  }
}

/// A univariate series as the [time][1] input rows of its own AR model.
private func rows(_ series: [Double]) -> [[Double]] { series.map { [$0] } }

@Suite("Autoregressive")
struct AutoregressiveTests {
  @Test("a noiseless AR(2) is recovered exactly: coefficients, RSS ≈ 0, one-step predictions")
  func noiselessAR2() throws {
    let x = ar2Series(count: 200)
    let model = try Autoregressive.fit(order: 2, sequences: [rows(x)], targets: [x], firstTarget: 0)
    #expect(model.order == 2)
    #expect(model.inputColumns == 1)
    #expect(model.equations == 198)
    #expect(model.coefficients.count == 2)
    #expect(abs(model.intercept - 0.5) < 1e-9, "intercept \(model.intercept)")
    #expect(abs(model.coefficients[0] - 1.3) < 1e-9, "lag 1 \(model.coefficients[0])")
    #expect(abs(model.coefficients[1] + 0.6) < 1e-9, "lag 2 \(model.coefficients[1])")
    #expect(model.residualSumOfSquares < 1e-20, "RSS \(model.residualSumOfSquares)")
    for t in 2..<x.count { #expect(abs(model.predict(rows(x), at: t) - x[t]) < 1e-9) }
    // firstTarget above p drops equations but not the answer.
    let late = try Autoregressive.fit(order: 2, sequences: [rows(x)], targets: [x], firstTarget: 10)
    #expect(late.equations == 190)
    #expect(abs(late.coefficients[0] - 1.3) < 1e-9)
  }

  @Test("select picks p = 2 for a noisy AR(2) with maxOrder 8, on a common sample")
  func selectsOrder2() throws {
    let noise = lcgNoise(count: 600, amplitude: 0.2)
    let x = ar2Series(count: 600) { noise[$0] }
    let sequences = [rows(x)]
    let chosen = try Autoregressive.select(maxOrder: 8, sequences: sequences, targets: [x])
    #expect(chosen.order == 2)
    #expect(chosen.equations == 600 - 8)
    let fits = try (1...8).map {
      try Autoregressive.fit(order: $0, sequences: sequences, targets: [x], firstTarget: 8)
    }
    #expect(fits[1].aic < fits[0].aic, "AIC(2) \(fits[1].aic) vs AIC(1) \(fits[0].aic)")
    #expect(fits.map(\.aic).min() == fits[1].aic)
    #expect(chosen.aic == fits[1].aic)
    #expect(abs(chosen.coefficients[0] - 1.3) < 0.05 && abs(chosen.coefficients[1] + 0.6) < 0.05)
    // AIC and RSS against their definitions, recomputed from the model's own one-step predictions.
    let rss = (8..<x.count).reduce(0.0) { sum, t in
      let e = chosen.predict(sequences[0], at: t) - x[t]
      return sum + e * e
    }
    #expect(abs(rss - chosen.residualSumOfSquares) <= 1e-9 * rss)
    let n = Double(chosen.equations)
    #expect(abs(chosen.aic - (n * log(rss / n) + 2 * 3)) < 1e-6)
  }

  @Test("select clamps maxOrder so the fit has at least 2 × parameters equations")
  func selectClampsMaxOrder() throws {
    // 20 steps: order m leaves 20 − m equations for m + 1 parameters; 20 − m ≥ 2(m + 1) ⇔ m ≤ 6.
    let noise = lcgNoise(count: 20, amplitude: 0.2, seed: 7)
    let x = ar2Series(count: 20) { noise[$0] }
    let chosen = try Autoregressive.select(maxOrder: 8, sequences: [rows(x)], targets: [x])
    #expect(chosen.equations == 14)
    #expect((1...6).contains(chosen.order))
    // 3 steps: even order 1 (2 parameters) would need 4 equations and has 2.
    let error = #expect(throws: TrainerError.self) {
      try Autoregressive.select(maxOrder: 8, sequences: [rows([1, 2, 3])], targets: [[1, 2, 3]])
    }
    #expect(error?.description.contains("at least 4 equations") == true, "\(String(describing: error))")
  }

  @Test("select on a noiseless AR(2) stops at the rank deficient AR(3) and returns the exact AR(2)")
  func selectStopsAtRankDeficiency() throws {
    let x = ar2Series(count: 200)
    #expect(throws: TrainerError.self) {
      try Autoregressive.fit(order: 3, sequences: [rows(x)], targets: [x], firstTarget: 0)
    }
    let chosen = try Autoregressive.select(maxOrder: 8, sequences: [rows(x)], targets: [x])
    #expect(chosen.order == 2)
    #expect(abs(chosen.coefficients[0] - 1.3) < 1e-9)
  }

  @Test("two sequences are fitted jointly, no equation straddling the boundary: AR(1) by the normal equations")
  func twoSequencesJointly() throws {
    let a: [Double] = [1, 3, 2, 5, 4]
    let b: [Double] = [10, 7, 8, 6]
    let model = try Autoregressive.fit(order: 1, sequences: [rows(a), rows(b)], targets: [a, b], firstTarget: 0)
    // The 7 within-sequence pairs (x_{t-1}, x_t); (4, 10) across the boundary is not one of them.
    let pairs = zip(a.dropLast(), a.dropFirst()).map { ($0, $1) } + zip(b.dropLast(), b.dropFirst()).map { ($0, $1) }
    #expect(model.equations == 7)
    // y = α + β x: β = Sxy / Sxx, α = ȳ − β x̄.
    let n = Double(pairs.count)
    let xMean = pairs.reduce(0) { $0 + $1.0 } / n
    let yMean = pairs.reduce(0) { $0 + $1.1 } / n
    let sxy = pairs.reduce(0) { $0 + ($1.0 - xMean) * ($1.1 - yMean) }
    let sxx = pairs.reduce(0) { $0 + ($1.0 - xMean) * ($1.0 - xMean) }
    let beta = sxy / sxx
    let alpha = yMean - beta * xMean
    let rss = pairs.reduce(0) { $0 + pow($1.1 - alpha - beta * $1.0, 2) }
    #expect(abs(model.coefficients[0] - beta) < 1e-12, "β \(model.coefficients[0]) vs \(beta)")
    #expect(abs(model.intercept - alpha) < 1e-12, "α \(model.intercept) vs \(alpha)")
    #expect(abs(model.residualSumOfSquares - rss) < 1e-12 * max(rss, 1))
    #expect(abs(model.aic - (n * log(rss / n) + 4)) < 1e-9)
    // The concatenated series (one straddling equation more) gives a different fit.
    let joined = try Autoregressive.fit(order: 1, sequences: [rows(a + b)], targets: [a + b], firstTarget: 0)
    #expect(joined.equations == 8)
    #expect(abs(joined.coefficients[0] - beta) > 1e-3)
  }

  @Test("an exogenous input: target = 2·a_{t-1} + 3 is recovered exactly")
  func exogenousInput() throws {
    let a = (0..<50).map { sin(0.3 * Double($0)) + 0.01 * Double($0) }
    let target = a.indices.map { $0 == 0 ? 0 : 2 * a[$0 - 1] + 3 }
    let model = try Autoregressive.fit(order: 1, sequences: [rows(a)], targets: [target], firstTarget: 0)
    #expect(model.inputColumns == 1)
    #expect(abs(model.intercept - 3) < 1e-9)
    #expect(abs(model.coefficients[0] - 2) < 1e-9)
    #expect(model.residualSumOfSquares < 1e-20)
  }

  @Test("two input columns, order 2: coefficients are lag-major (lag 1 of a, b, then lag 2 of a, b)")
  func lagMajorLayout() throws {
    let a = (0..<60).map { sin(0.3 * Double($0)) }
    let b = (0..<60).map { cos(0.7 * Double($0)) + 0.05 * Double($0) }
    let inputs = zip(a, b).map { [$0, $1] }
    let target = a.indices.map { t in
      t < 2 ? 0 : 1 + 2 * a[t - 1] - b[t - 1] + 0.5 * a[t - 2] + 0.25 * b[t - 2]
    }
    let model = try Autoregressive.fit(order: 2, sequences: [inputs], targets: [target], firstTarget: 0)
    #expect(model.inputColumns == 2)
    #expect(abs(model.intercept - 1) < 1e-9)
    for (got, want) in zip(model.coefficients, [2, -1, 0.5, 0.25]) { #expect(abs(got - want) < 1e-9) }
    for t in 2..<60 { #expect(abs(model.predict(inputs, at: t) - target[t]) < 1e-9) }
  }

  @Test("too few equations throws, naming the order and the counts")
  func tooFewEquations() {
    let x: [Double] = [1, 2, 4, 3]
    let error = #expect(throws: TrainerError.self) {
      try Autoregressive.fit(order: 2, sequences: [rows(x)], targets: [x], firstTarget: 0)
    }
    let message = error?.description ?? ""
    for part in ["order 2", "at least 4 equations", "3 parameters", "give 2"] {
      #expect(message.contains(part), "\(message)")
    }
  }

  @Test("a rank deficient design (a constant input beside the intercept) throws")
  func rankDeficient() {
    let target = (0..<30).map { Double($0 % 7) }
    let error = #expect(throws: TrainerError.self) {
      try Autoregressive.fit(
        order: 1, sequences: [target.map { [$0, 5] }], targets: [target], firstTarget: 0)
    }
    #expect(error?.description.contains("rank deficient") == true, "\(String(describing: error))")
  }

  @Test("shape mismatches and non-finite values throw")
  func badShapes() {
    #expect(throws: TrainerError.self) {
      try Autoregressive.fit(order: 1, sequences: [rows([1, 2, 3])], targets: [[1, 2]], firstTarget: 0)
    }
    #expect(throws: TrainerError.self) {
      try Autoregressive.fit(order: 1, sequences: [rows([1, 2, 3])], targets: [], firstTarget: 0)
    }
    #expect(throws: TrainerError.self) {
      try Autoregressive.fit(order: 0, sequences: [rows([1, 2, 3])], targets: [[1, 2, 3]], firstTarget: 0)
    }
    let nan: [Double] = [1, 2, .nan, 4, 5, 6]
    #expect(throws: TrainerError.self) {
      try Autoregressive.fit(order: 1, sequences: [rows(nan)], targets: [nan], firstTarget: 0)
    }
  }

  @Test("forecast of the noiseless AR(2) reproduces the series for 10 steps")
  func forecastTenSteps() throws {
    let x = ar2Series(count: 200)
    let model = try Autoregressive.fit(order: 2, sequences: [rows(x)], targets: [x], firstTarget: 0)
    let predicted = model.forecast(rows(Array(x[0..<20])), steps: 10)
    #expect(predicted.count == 10)
    for (got, want) in zip(predicted, x[20..<30]) { #expect(abs(got - want) < 1e-9, "\(got) vs \(want)") }
    #expect(model.forecast(rows(x), steps: 0).isEmpty)
  }
}

// Nested so that `swift test --filter AutoregressiveTests` runs the scores too.
extension AutoregressiveTests {
  @Suite("Forecast metrics")
  struct ForecastMetricsTests {
    @Test("RMSE, MAE, MSE and ARV of a hand-computed 4-value example")
    func handComputed() {
      // errors −1, 0, −2, −3: MSE 14/4, MAE 6/4. Truths' mean 4, population variance (4+4+1+9)/4 = 4.5
      // (the sample variance would be 6, giving ARV 7/12).
      let score = ForecastMetrics.score(predictions: [1, 2, 3, 4], truths: [2, 2, 5, 7])
      #expect(score.count == 4)
      #expect(abs(score.mse - 3.5) < 1e-15)
      #expect(abs(score.rmse - 3.5.squareRoot()) < 1e-15)
      #expect(abs(score.mae - 1.5) < 1e-15)
      #expect(abs(score.arv - 7.0 / 9.0) < 1e-15)
      #expect(abs(ForecastMetrics.populationVariance([2, 2, 5, 7]) - 4.5) < 1e-15)
      let given = ForecastMetrics.score(predictions: [1, 2, 3, 4], truths: [2, 2, 5, 7], variance: 2)
      #expect(abs(given.arv - 1.75) < 1e-15)
    }

    @Test("persistence on a line: ARV = 12 / (M² − 1)")
    func persistenceOnALine() {
      // x_t = 3 + 0.5 t, t = 0…40. Persistence predicts x_{t-1} for t = 1…40: every error is −0.5, MSE 0.25. The
      // M = 40 truths are an arithmetic progression with step 0.5, population variance 0.25 (M² − 1) / 12.
      let x = (0...40).map { 3 + 0.5 * Double($0) }
      let score = ForecastMetrics.score(predictions: Array(x.dropLast()), truths: Array(x.dropFirst()))
      let m = 40.0
      #expect(abs(score.mse - 0.25) < 1e-12)
      #expect(abs(score.mae - 0.5) < 1e-12)
      #expect(abs(score.arv - 12 / (m * m - 1)) < 1e-12, "ARV \(score.arv)")
    }

    @Test("an empty sample scores NaN")
    func empty() {
      let score = ForecastMetrics.score(predictions: [], truths: [])
      #expect(score.count == 0)
      #expect(score.rmse.isNaN && score.mae.isNaN && score.mse.isNaN && score.arv.isNaN)
      #expect(ForecastMetrics.populationVariance([]).isNaN)
    }
  }
}
