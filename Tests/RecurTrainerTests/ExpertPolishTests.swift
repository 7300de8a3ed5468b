// The experts' least-squares polish (`ExpertPolish`): the reference is a known set of experts. The targets are made in
// Double from the network's softmax weights and those experts, the experts are then perturbed, and the polish must
// find them again.

import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("Expert polish")
struct ExpertPolishTests {
  static let architecture = Architecture(
    kind: .gru, layers: 1, inputSize: 1, hiddenSize: 8, outputSize: 1, experts: 4, expertOrder: 2)
  static let window = 4
  /// The experts the targets follow, [E][m] (q, p), as the order-2 classes' maps are.
  static let known: [Float] = [2, -1, 1, 1, -2, 2, 0, 3]

  /// `count` random windows whose targets are Σ π_e (known_e · u) computed in Double (π from the network's Float
  /// forward pass, which does not depend on the experts), plus `outliers` more whose targets are 0.5 off.
  static func examples(
    _ parameters: Parameters<Float>, count: Int, outliers: Int = 0, seed: UInt64 = 5
  ) throws -> ExampleSet {
    let rng = try GSLRandom(seed: seed)
    let (E, m) = (architecture.experts, architecture.expertOrder)
    let inputs = (0..<(count + outliers)).map { _ in (0..<window).map { _ in Float(rng.flat(-1, 1)) } }
    let graph = BatchGraph<Float>(architecture: architecture, steps: window, capacity: inputs.count)
    graph.load(
      inputs: inputs.map { $0.map { [$0] } }, targets: inputs.map { $0.map { _ in [0] } }, finalStepOnly: true)
    graph.forward(parameters)
    var set = ExampleSet(steps: window, lossOnFinalStepOnly: true)
    var probabilities = [Double](repeating: 0, count: E)
    var u = [Double](repeating: 0, count: m)
    for (n, x) in inputs.enumerated() {
      _ = graph.mixtureLane(n, probabilities: &probabilities, inputs: &u)
      #expect(u == x.suffix(m).map(Double.init), "u is the window's last m inputs")
      var y = 0.0
      for e in 0..<E { for j in 0..<m { y += probabilities[e] * Double(known[e * m + j]) * u[j] } }
      if n >= count { y += 0.5 + abs(y) }  // an outlier: its residual is at least 0.5
      set.append(
        inputs: x, targets: [Float](repeating: 0, count: window - 1) + [Float(y)], offset: 0, scale: 1, truth: 0)
    }
    return set
  }

  static func network(seed: UInt64 = 3) throws -> Parameters<Float> {
    var p = Parameters<Float>.pytorchDefault(architecture: architecture, rng: try GSLRandom(seed: seed))
    let experts = p.range(.experts)
    for (i, value) in known.enumerated() { p.values[experts.lowerBound + i] = value }
    return p
  }

  /// The experts of `p`, with every coefficient moved by ±`size`.
  static func perturbed(_ p: Parameters<Float>, by size: Float) -> Parameters<Float> {
    var q = p
    for (k, i) in p.range(.experts).enumerated() { q.values[i] += k % 2 == 0 ? size : -size }
    return q
  }

  static func largestError(_ p: Parameters<Float>, experts: Range<Int> = 0..<4) -> Float {
    let r = p.range(.experts)
    let m = architecture.expertOrder
    return experts.flatMap { e in (0..<m).map { j in abs(p.values[r.lowerBound + e * m + j] - known[e * m + j]) } }
      .max()!
  }

  @Test func recoversTheExpertsTheTargetsFollow() throws {
    let exact = try Self.network()
    let set = try Self.examples(exact, count: 300)
    var p = Self.perturbed(exact, by: 1e-3)
    #expect(abs(Self.largestError(p) - 1e-3) < 1e-6)
    let report = ExpertPolish.refit(&p, examples: set, tolerance: 0.1, batchSize: 64)
    #expect(report.applied && report.kept == 300 && report.windows == 300)
    #expect(report.coefficients == 8 && report.rank == 8)
    #expect(Self.largestError(p) < 1e-5, "\(p[.experts])")
    #expect(report.keptMSEAfter < 1e-3 * report.keptMSEBefore, "\(report)")
    #expect(abs(report.largestChange - 1e-3) < 1e-5)
    #expect(report.summary.hasPrefix("Polished the experts by least squares on 300 of 300 windows within 0.1: rank 8"))
    // The network itself is not touched.
    for i in p.values.indices where !exact.range(.experts).contains(i) { #expect(p.values[i] == exact.values[i]) }
  }

  @Test func windowsBeyondTheToleranceTakeNoPart() throws {
    let exact = try Self.network()
    let set = try Self.examples(exact, count: 300, outliers: 30)
    var trimmed = Self.perturbed(exact, by: 1e-3)
    let report = ExpertPolish.refit(&trimmed, examples: set, tolerance: 0.05)
    #expect(report.applied && report.kept == 300 && report.windows == 330)
    #expect(Self.largestError(trimmed) < 1e-5, "\(trimmed[.experts])")
    // With every window in the fit the outliers pull the experts away: the trim is what keeps them exact.
    var all = Self.perturbed(exact, by: 1e-3)
    let loose = ExpertPolish.refit(&all, examples: set, tolerance: 100)
    #expect(loose.applied && loose.kept == 330)
    #expect(Self.largestError(all) > 1e-2, "\(all[.experts])")
  }

  @Test func anExpertNoWindowWeighsKeepsItsTrainedValues() throws {
    var exact = try Self.network()
    // Expert 3's logit 200 below the others: its softmax weight underflows to 0 in every window.
    exact.values[exact.range(.fcBias).lowerBound + 3] = -200
    let set = try Self.examples(exact, count: 300)
    var p = Self.perturbed(exact, by: 1e-3)
    let before = Array(p[.experts])
    let report = ExpertPolish.refit(&p, examples: set, tolerance: 0.1)
    #expect(report.applied && report.rank == 6)
    #expect(Self.largestError(p, experts: 0..<3) < 1e-5)
    #expect(Array(p[.experts]).suffix(2) == before.suffix(2), "expert 3 is left exactly as it was")
  }

  @Test func nothingWithinTheToleranceChangesNothing() throws {
    let exact = try Self.network()
    let set = try Self.examples(exact, count: 100)
    var p = Self.perturbed(exact, by: 1e-3)
    let before = p
    let report = ExpertPolish.refit(&p, examples: set, tolerance: 1e-9)
    #expect(!report.applied && report.kept == 0 && p == before)
    #expect(
      report.summary
        == "Experts left as trained: no training window is predicted within 1e-09 (of its scale) to fit them on")
  }

  /// Experts already at the optimum: the correction (float32 rounding of the targets, ~1e-8) is below the experts'
  /// ulps, the float32 error does not fall, and the trained experts stay, with the reason.
  @Test func expertsAtTheOptimumAreLeftAsTheyAre() throws {
    let exact = try Self.network()
    let set = try Self.examples(exact, count: 300)
    var p = exact
    let report = ExpertPolish.refit(&p, examples: set, tolerance: 0.1)
    #expect(!report.applied && report.kept == 300 && p == exact, "\(report)")
    #expect(
      report.summary.hasPrefix(
        "Experts left as trained: the least-squares correction on 300 of 300 windows within 0.1 did not lower their "
          + "float32 error"), "\(report.summary)")
  }

  @Test func minimumNormSolveAgainstClosedForms() throws {
    // Diagonal with a zero eigenvalue: the null direction gets no component whatever the right-hand side holds.
    let diagonal = try GSLLinearAlgebra.minimumNormSolve(
      gram: [4, 0, 0, 0, 1, 0, 0, 0, 0], rhs: [8, 3, 5], relativeTolerance: 1e-12)
    #expect(diagonal.rank == 2)
    #expect(zip(diagonal.solution, [2.0, 3.0, 0.0]).allSatisfy { abs($0 - $1) < 1e-12 }, "\(diagonal.solution)")
    // [[2, 1], [1, 2]] x = [3, 3] → x = [1, 1]; [[1, 1], [1, 1]] (rank 1) x = [2, 2] → the smallest x, [1, 1].
    let full = try GSLLinearAlgebra.minimumNormSolve(gram: [2, 1, 1, 2], rhs: [3, 3], relativeTolerance: 1e-12)
    #expect(full.rank == 2 && full.solution.allSatisfy { abs($0 - 1) < 1e-12 }, "\(full.solution)")
    let singular = try GSLLinearAlgebra.minimumNormSolve(gram: [1, 1, 1, 1], rhs: [2, 2], relativeTolerance: 1e-12)
    #expect(singular.rank == 1 && singular.solution.allSatisfy { abs($0 - 1) < 1e-12 }, "\(singular.solution)")
    let empty = try GSLLinearAlgebra.minimumNormSolve(gram: [0, 0, 0, 0], rhs: [0, 0], relativeTolerance: 1e-12)
    #expect(empty.rank == 0 && empty.solution == [0, 0])
  }

  /// Through `Trainer.train`: the polish runs after the epochs on the run's own windows, the exported file and the
  /// stored validation carry the polished experts, and nothing but the experts differs from the same run unpolished.
  @Test func trainExportsThePolishedExperts() throws {
    var options = try TrainingOptions.fromCommandLine(
      family: .linear2, hidden: 8, epochs: 3, sequences: 300, validationSequences: 40, experts: 4,
      polishExperts: 1)
    let polished = try Trainer.train(options)
    options.polishExperts = 0
    let plain = try Trainer.train(options)
    #expect(plain.polish == nil)
    let report = try #require(polished.polish)
    #expect(report.applied && report.windows == polished.trainingExamples && report.kept > 0, "\(report)")
    #expect(report.keptMSEAfter < report.keptMSEBefore)
    let experts = polished.parameters.range(.experts)
    for i in polished.parameters.values.indices where !experts.contains(i) {
      #expect(polished.parameters.values[i] == plain.parameters.values[i])
    }
    #expect(polished.parameters[.experts] != plain.parameters[.experts])
    #expect(Parameters<Float>(polished.model) == polished.parameters, "the file holds the polished experts")
    #expect(
      polished.model.validation.windowMSE != plain.model.validation.windowMSE, "validation measures the polished model")
  }
}
