// The least-squares polish of a mixture's experts after the epochs (`recur-train train --polish-experts T`).
//
// The experts enter a mixture's prediction linearly: ŷ = Σ_e π_e (A_e · u), with π the softmax of the network's
// logits and u the window's last m differences (`MixtureHead`). With the network frozen, the experts that minimise
// the squared error over a set of windows are therefore the solution of a linear least-squares problem in the E·m
// coefficients a = A flattened [E][m]:
//
//   φ_n[e·m + j] = π_ne · u_nj          one row per window n
//   minimise Σ_n (y_n − φ_n · a)²        y_n the window's target
//
// Why: Adam ends a few learning-rate-sized steps away from that minimum. Measured on the built-in `linear` model, its
// (−2, 2) expert ended 5.8e-6 away from the integers (2, −2) while its weight was 0.9999998. A start on the slower root
// carries that error forward along the faster root (2.7x a step), so those 5.8e-6 decided the last failing grid case.
//
// Only windows the network predicts within `tolerance` (of the window's scale: encoded units) take part, so that a
// few wild misses (a gate that chose the wrong experts) cannot pull experts that the other windows fix. With the
// default, 1, only windows missed by more than their own scale are left out; on `linear`'s training windows that is
// none of the 109,646 (their largest error is far below 1). Measured there, every tolerance from 1e-6 to 1 passes all
// 135 reachable grid cases, while the two lower tiers move by ±2 cases with it (their budgets are float32 ulps).
//
// The problem is solved in Double from its normal equations, G = Σ φφᵀ [E·m][E·m] and b = Σ φ r with r = y − ŷ the
// residual of the trained experts, as the smallest correction Δa (`GSLLinearAlgebra.minimumNormSolve`): directions of
// G below 1e-12 of its largest eigenvalue are left alone, so an expert no kept window weighs keeps its trained values.
// Memory is O((E·m)²) whatever the number of windows; time is two forward passes plus (E·m)²/2 products per kept
// window (under a second for `linear`). The correction is kept only if the Float forward pass, run again, measures a
// lower error on the kept windows; otherwise, and if GSL fails, the trained experts stay and the report says why (an
// hour of training is never lost to the polish).

import Foundation
import RecurRuntime

public struct ExpertPolish: Sendable, Equatable {
  /// The largest |error| of a window that takes part, in encoded units (the option's value).
  public var tolerance: Double
  /// Training windows, and those within `tolerance` (the fit's rows).
  public var windows: Int
  public var kept: Int
  /// E·m, and the rank of G the fit used.
  public var coefficients: Int
  public var rank: Int
  /// Mean squared error of the kept windows before and after, both measured by the Float forward pass (encoded
  /// units); then the same over every window.
  public var keptMSEBefore: Double
  public var keptMSEAfter: Double
  public var mseBefore: Double
  public var mseAfter: Double
  /// The largest change to a coefficient (0 when not applied).
  public var largestChange: Double
  /// Why the experts were left as trained; nil when the correction was applied.
  public var leftBecause: String?
  /// False when the trained experts stay as they were (`leftBecause` says why).
  public var applied: Bool { leftBecause == nil }

  /// The most coefficients (experts × order) a polish takes: G is [E·m][E·m] and each window adds (E·m)²/2 products.
  public static let maxCoefficients = 512
  /// Eigenvalues of G below this fraction of the largest are left out of the correction.
  public static let relativeTolerance = 1e-12

  /// One line for the training log: "Polished the experts: ..." or why they were left as trained.
  public var summary: String {
    let rows = "\(kept) of \(windows) windows within \(tolerance)"
    if let leftBecause { return "Experts left as trained: " + leftBecause }
    return "Polished the experts by least squares on \(rows): rank \(rank) of \(coefficients), their MSE "
      + "\(Self.short(keptMSEBefore)) -> \(Self.short(keptMSEAfter)) (all windows \(Self.short(mseBefore)) -> "
      + "\(Self.short(mseAfter))), largest change \(Self.short(largestChange))"
  }

  private static func short(_ x: Double) -> String { String(format: "%.3g", x) }

  /// Refits `parameters`' experts on `examples` (window-differences, the final step weighted), as described above.
  public static func refit(
    _ parameters: inout Parameters<Float>, examples: ExampleSet, tolerance: Double, batchSize: Int = 1024
  ) -> ExpertPolish {
    let a = parameters.architecture
    let (E, m) = (a.experts, a.expertOrder)
    let n = E * m
    precondition(a.isMixture && examples.lossOnFinalStepOnly && examples.count > 0 && n <= maxCoefficients)
    precondition(tolerance > 0 && batchSize > 0)
    let graph = BatchGraph<Float>(
      architecture: a, steps: examples.steps, capacity: min(batchSize, examples.count))
    var kept = [Bool](repeating: false, count: examples.count)  // [windows] within tolerance before the fit

    // One pass of the Float forward pass over every window; `visit(window, π [E], u [m], residual r)`.
    func eachWindow(_ p: Parameters<Float>, _ visit: (Int, [Double], [Double], Double) -> Void) {
      var probabilities = [Double](repeating: 0, count: E)  // [E] π of one window
      var inputs = [Double](repeating: 0, count: m)  // [m] u of one window, oldest first
      for start in stride(from: 0, to: examples.count, by: graph.capacity) {
        let indices = Array(start..<min(examples.count, start + graph.capacity))
        graph.load(examples, indices: indices[...])
        graph.forward(p)
        for lane in 0..<indices.count {
          let (prediction, target) = graph.mixtureLane(lane, probabilities: &probabilities, inputs: &inputs)
          visit(start + lane, probabilities, inputs, target - prediction)
        }
      }
    }

    // The normal equations of the kept windows, in Double.
    var gram = [Double](repeating: 0, count: n * n)  // [E·m][E·m] G = Σ φφᵀ, upper triangle, then mirrored
    var rhs = [Double](repeating: 0, count: n)  // [E·m] b = Σ φ r
    var phi = [Double](repeating: 0, count: n)  // [E·m] one window's row
    var (sumAll, sumKept, keptCount) = (0.0, 0.0, 0)
    eachWindow(parameters) { window, probabilities, inputs, r in
      sumAll += r * r
      guard abs(r) <= tolerance else { return }
      kept[window] = true
      keptCount += 1
      sumKept += r * r
      for e in 0..<E { for j in 0..<m { phi[e * m + j] = probabilities[e] * inputs[j] } }
      for i in 0..<n where phi[i] != 0 {
        rhs[i] += phi[i] * r
        for j in i..<n { gram[i * n + j] += phi[i] * phi[j] }
      }
    }
    for i in 0..<n { for j in 0..<i { gram[i * n + j] = gram[j * n + i] } }
    let windows = examples.count
    var report = ExpertPolish(
      tolerance: tolerance, windows: windows, kept: keptCount, coefficients: n, rank: 0,
      keptMSEBefore: keptCount > 0 ? sumKept / Double(keptCount) : .nan, keptMSEAfter: .nan,
      mseBefore: sumAll / Double(windows), mseAfter: .nan, largestChange: 0, leftBecause: nil)
    guard keptCount > 0 else {
      report.leftBecause = "no training window is predicted within \(tolerance) (of its scale) to fit them on"
      return report
    }

    let correction: [Double]
    do {
      (correction, report.rank) = try GSLLinearAlgebra.minimumNormSolve(
        gram: gram, rhs: rhs, relativeTolerance: relativeTolerance)
    } catch {
      report.leftBecause = "the least-squares solve failed (\(error))"
      return report
    }
    var polished = parameters
    let experts = parameters.range(.experts)
    for i in 0..<n {
      polished.values[experts.lowerBound + i] = Float(Double(parameters.values[experts.lowerBound + i]) + correction[i])
    }
    var (afterAll, afterKept) = (0.0, 0.0)
    eachWindow(polished) { window, _, _, r in
      afterAll += r * r
      if kept[window] { afterKept += r * r }
    }
    report.keptMSEAfter = afterKept / Double(keptCount)
    report.mseAfter = afterAll / Double(windows)
    // Only the kept windows judge: the others' error may rise, as they are the ones the fit is meant to ignore.
    guard polished.allFinite, report.keptMSEAfter < report.keptMSEBefore else {
      report.leftBecause =
        "the least-squares correction on \(keptCount) of \(windows) windows within \(tolerance) did not lower their "
        + "float32 error (\(Self.short(report.keptMSEBefore)) -> \(Self.short(report.keptMSEAfter)))"
      return report
    }
    for i in experts {
      report.largestChange = max(report.largestChange, Double(abs(polished.values[i] - parameters.values[i])))
    }
    parameters = polished
    return report
  }
}
