// The built-in `linear` model against the closed form of every order-2 recurrence of its class, on a grid of
// (p, q, starts) the training never drew: the issue's target is 10 free-running steps from the first 5 values within
// max(1% relative, 0.5 absolute) of the truth. The truth is computed here in exact integer arithmetic (every value
// is below 10^9) and compared in Double, independently of the trainer and the runtime.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

/// The grid: for each (p, q) with p in -2...3, q in -2...2, the first `perClass` start pairs of `candidates` (then,
/// for real distinct roots, starts on the slow mode) whose 15 values stay below 10^9 in magnitude, whose five seed
/// values are exact in float32 (|v| <= 2^24), and of which at least one start lies outside the training starts
/// -100...100. Training draws starts inside -100...100 only, so no grid sequence was ever drawn.
enum LinearGrid {
  static let candidates: [(Int, Int)] = [
    (123_456, -654_321), (-999_999, 250_001), (31_415, 27_182), (-4_321, 8_765), (500_000, -3), (777, -1_000),
    (-150, 149), (101, 37), (-2_024, -2_025), (60_000, 1),
  ]
  static let perClass = 6
  static let seedCount = 5
  static let steps = 10

  struct Case {
    var p: Int
    var q: Int
    /// The 15 values: 5 seed values, then the 10 the model must continue with.
    var values: [Int]
    var seed: [Float] { values.prefix(LinearGrid.seedCount).map { Float($0) } }
    var truth: ArraySlice<Int> { values.dropFirst(LinearGrid.seedCount) }

    /// max(1% of |truth|, 0.5): the issue's tolerance at each step.
    static func tolerance(_ truth: Int) -> Double { max(0.01 * Double(abs(truth)), 0.5) }

    /// The scale the model works in when it predicts values[n]: the largest of the 4 true differences it reads (1
    /// when they are all 0, as the encoding divides by 1 then).
    func scale(at n: Int) -> Double {
      max((n - 4..<n).map { abs(Double(values[$0] - values[$0 - 1])) }.max()!, 1)
    }

    /// The finest resolution the continuation demands: the smallest ratio, over the 10 steps, of the tolerance to
    /// the scale the model works in there (the largest of the 4 true differences it reads). A model whose one-step
    /// error is a fraction e of that scale can only pass when e is well below this figure.
    var resolution: Double {
      var finest = Double.infinity
      for n in LinearGrid.seedCount..<values.count {
        finest = min(finest, Self.tolerance(values[n]) / scale(at: n))
      }
      return finest
    }

    /// The error budget: the largest one-step error, as a fraction of the window's scale, that the continuation
    /// can absorb. An error e made at step k and then carried by the recurrence itself (as a model that is exact
    /// from there on would carry it) is e·u(n) at every later step n, with u(k) = 1, u(k+1) = p and
    /// u(n) = p·u(n-1) + q·u(n-2); the budget is the smallest, over k, of min over n ≥ k of tolerance(n) / |u(n)|,
    /// divided by the scale at k. Resolution ignores this amplification; along a fast root it can be a factor of
    /// thousands.
    var errorBudget: Double {
      var budget = Double.infinity
      for k in LinearGrid.seedCount..<values.count {
        var (previous, current) = (0.0, 1.0)  // u(k-1), u(k)
        var allowed = Double.infinity
        for n in k..<values.count {
          if current != 0 { allowed = min(allowed, Self.tolerance(values[n]) / abs(current)) }
          (previous, current) = (current, Double(p) * current + Double(q) * previous)
        }
        budget = min(budget, allowed / scale(at: k))
      }
      return budget
    }
  }

  static func sequence(_ p: Int, _ q: Int, _ a0: Int, _ a1: Int) -> [Int] {
    var v = [a0, a1]
    while v.count < seedCount + steps { v.append(p * v[v.count - 1] + q * v[v.count - 2]) }
    return v
  }

  static let cases: [Case] = {
    var all: [Case] = []
    for p in -2...3 {
      for q in -2...2 {
        var starts = candidates
        let discriminant = Double(p * p + 4 * q)
        if discriminant > 0 {
          // The root of smaller magnitude: starts on its eigenvector keep fast growers (3, 2), (3, 1) below 10^9.
          let roots = [(Double(p) - discriminant.squareRoot()) / 2, (Double(p) + discriminant.squareRoot()) / 2]
          let slow = abs(roots[0]) < abs(roots[1]) ? roots[0] : roots[1]
          for m in [1_000, -20_000, 300_000] { starts.append((m, Int((slow * Double(m)).rounded()))) }
        }
        var kept = 0
        for (a0, a1) in starts where kept < perClass && max(abs(a0), abs(a1)) > 100 {
          let v = sequence(p, q, a0, a1)
          guard v.allSatisfy({ abs($0) < 1_000_000_000 }), v.prefix(seedCount).allSatisfy({ abs($0) <= 1 << 24 })
          else { continue }
          all.append(Case(p: p, q: q, values: v))
          kept += 1
        }
      }
    }
    return all
  }()

  /// Resolution tiers (see `Case.resolution`).
  enum Tier: String, CaseIterable {
    case reachable = "resolution >= 1e-3"
    case hard = "1e-4 <= resolution < 1e-3"
    case beyond = "resolution < 1e-4"

    init(_ resolution: Double) {
      self = resolution >= 1e-3 ? .reachable : resolution >= 1e-4 ? .hard : .beyond
    }
  }
}

@Suite struct LinearModelTests {
  /// The grid is what it claims: every case follows its own rule, starts outside the training range, stays below
  /// 10^9; every class is represented.
  @Test func gridIsOutsideTheTrainingStarts() {
    let cases = LinearGrid.cases
    #expect(cases.count == 177)
    for c in cases {
      #expect(max(abs(c.values[0]), abs(c.values[1])) > 100)
      #expect(c.values.allSatisfy { abs($0) < 1_000_000_000 })
      for n in 2..<c.values.count { #expect(c.values[n] == c.p * c.values[n - 1] + c.q * c.values[n - 2]) }
    }
    #expect(Set(cases.map { "\($0.p),\($0.q)" }).count == 30)
    // The four reachable cases with the smallest error budgets, 7 to 700 times below every other reachable case's
    // (at least 1e-3, the next being 1.000006e-3): the "error budget" paragraph of docs/builtin-models.md.
    let tight = cases.filter { LinearGrid.Tier($0.resolution) == .reachable && $0.errorBudget < 5e-4 }
    #expect(
      tight.map { [$0.p, $0.q, $0.values[0], $0.values[1]] }.sorted { $0.lexicographicallyPrecedes($1) } == [
        [-2, 2, -20_000, -14_641], [-2, 2, 1_000, 732], [1, 2, -150, 149], [2, 2, 1_000, -732],
      ])
  }

  /// The error budget against closed forms: an arithmetic run (p, q) = (2, -1) carries an error e as e·(n - k + 1),
  /// a geometric one (2, 0) as e·2^(n-k), the (0, 0) class forgets it after one step.
  @Test func errorBudgetMatchesClosedForms() {
    // 100, 102, ..., 128: the scale is 2 everywhere; the tightest step is the first (tolerance 1.1 at 110, carried
    // to 128 with tolerance 1.28 over 10 steps: 1.28 / 10 = 0.128, against 1.1 / 1 at n = k).
    let arithmetic = LinearGrid.Case(p: 2, q: -1, values: LinearGrid.sequence(2, -1, 100, 102))
    #expect(abs(arithmetic.errorBudget - 1.28 / 10 / 2) < 1e-12)
    // 1000, 2000, 4000, ...: the error doubles each step and so does the tolerance, 10·2^n at a(n) = 1000·2^n, so
    // step k allows 10·2^k; the scale there is the largest difference read, a(k-1) - a(k-2) = 1000·2^(k-2): 0.04.
    let geometric = LinearGrid.Case(p: 2, q: 0, values: LinearGrid.sequence(2, 0, 1000, 2000))
    #expect(abs(geometric.errorBudget - 0.04) < 1e-12)
    // (0, 0) from (500, 3): every value after the start is 0, so an error is gone one step later (tolerance 0.5);
    // the tightest step is the first, whose window still reads the difference 3 - 500.
    let zero = LinearGrid.Case(p: 0, q: 0, values: LinearGrid.sequence(0, 0, 500, 3))
    #expect(abs(zero.errorBudget - 0.5 / 497) < 1e-12)
  }

  /// The issue's target, measured: 10 free-running steps from the first 5 values of every grid case, within
  /// max(1%, 0.5) at every step. Prints the pass counts per resolution tier and per class (docs/builtin-models.md, "The linear
  /// model"), and holds the shipped model to them.
  @Test func continuesTheGridWithinOnePercent() throws {
    let predictor = SequencePredictor(model: try FixtureModels.load("linear"))
    var out = [Float](repeating: 0, count: LinearGrid.steps)
    var tiers: [LinearGrid.Tier: (cases: Int, passed: Int)] = [:]
    var classes: [(p: Int, q: Int, cases: Int, passed: Int)] = []
    var misses: [String] = []
    for c in LinearGrid.cases {
      c.seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      let ok = zip(out, c.truth).allSatisfy { abs(Double($0) - Double($1)) <= LinearGrid.Case.tolerance($1) }
      let tier = LinearGrid.Tier(c.resolution)
      if !ok && tier != .beyond {
        misses.append(
          "(\(c.p), \(c.q)) from (\(c.values[0]), \(c.values[1])), \(tier == .reachable ? "reachable" : "hard"), "
            + "error budget \(String(format: "%.1e", c.errorBudget))")
      }
      tiers[tier, default: (0, 0)].cases += 1
      tiers[tier, default: (0, 0)].passed += ok ? 1 : 0
      if classes.last?.p != c.p || classes.last?.q != c.q { classes.append((c.p, c.q, 0, 0)) }
      classes[classes.count - 1].cases += 1
      classes[classes.count - 1].passed += ok ? 1 : 0
    }
    for tier in LinearGrid.Tier.allCases {
      let (n, k) = tiers[tier] ?? (0, 0)
      print("linear grid, \(tier.rawValue): \(k)/\(n) within max(1%, 0.5) for 10 steps")
    }
    print("linear grid misses outside the last tier: " + misses.joined(separator: "; "))
    print(
      "linear grid per (p, q): " + classes.map { "(\($0.p), \($0.q)) \($0.passed)/\($0.cases)" }.joined(separator: ", ")
    )
    // Measured with the shipped model; a retrained or changed model must do at least as well in every tier.
    for tier in LinearGrid.Tier.allCases {
      let passed = tiers[tier]?.passed ?? 0
      #expect(passed >= Self.measured[tier]!, "\(tier.rawValue): \(passed) passed, \(Self.measured[tier]!) measured")
    }
  }

  /// Pass counts of the shipped `linear` model (Fixtures/models/linear.recur), per tier.
  static let measured: [LinearGrid.Tier: Int] = [.reachable: 135, .hard: 15, .beyond: 14]
}
