// Backpropagation through time against central finite differences, in Double.

import RecurRuntime
import Testing

@testable import RecurTrainer

@Suite("Gradients")
struct GradientCheckTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var hidden: Int
    var steps: Int
    var finalStepOnly: Bool
    var testDescription: String {
      "H=\(hidden) T=\(steps) \(finalStepOnly ? "final-step loss" : "all-steps loss")"
    }
  }

  static let cases: [Case] = [1, 3, 8, 17].flatMap { h in
    [1, 5].flatMap { t in [false, true].map { Case(hidden: h, steps: t, finalStepOnly: $0) } }
  }

  /// A random problem: 11 examples (so padded lanes are exercised), weights at PyTorch's init scale times 1.5
  /// (so tanh is in its nonlinear range), inputs and targets in [-1, 1].
  static func problem(_ c: Case) throws -> (RNNBatchGraph<Double>, RNNParameters<Double>) {
    let rng = try GSLRandom(
      seed: UInt64(1000 * c.hidden + 10 * c.steps + (c.finalStepOnly ? 1 : 0)))
    var p = RNNParameters<Double>.pytorchDefault(hiddenSize: c.hidden, rng: rng)
    p.values = p.values.map { $0 * 1.5 }
    let batch = 11
    let inputs = (0..<batch).map { _ in (0..<c.steps).map { _ in rng.flat(-1, 1) } }
    let targets = (0..<batch).map { _ in (0..<c.steps).map { _ in rng.flat(-1, 1) } }
    let graph = RNNBatchGraph<Double>(hiddenSize: c.hidden, steps: c.steps, capacity: 16)
    graph.load(inputs: inputs, targets: targets, finalStepOnly: c.finalStepOnly)
    return (graph, p)
  }

  /// Central differences with step 1e-6 for every parameter.
  static func numericGradient(_ graph: RNNBatchGraph<Double>, _ p: RNNParameters<Double>)
    -> [Double]
  {
    let step = 1e-6
    var probe = p
    return p.values.indices.map { k in
      probe.values[k] = p.values[k] + step
      let plus = graph.forward(probe)
      probe.values[k] = p.values[k] - step
      let minus = graph.forward(probe)
      probe.values[k] = p.values[k]
      return (plus - minus) / (2 * step)
    }
  }

  /// Worst relative error per tensor; the floor 1e-5 keeps exactly-zero gradients (dW_hh when T = 1) meaningful.
  static func worstErrors(analytic: [Double], numeric: [Double], p: RNNParameters<Double>)
    -> [TensorRole: Double]
  {
    var worst: [TensorRole: Double] = [:]
    for id in TensorRole.allCases {
      worst[id] =
        p.range(id).map { relativeError(analytic[$0], numeric[$0], floor: 1e-5) }.max() ?? 0
    }
    return worst
  }

  @Test("analytic gradients match central differences (relative error ≤ 1e-4)", arguments: cases)
  func gradientsMatch(_ c: Case) throws {
    let (graph, p) = try Self.problem(c)
    graph.forward(p)
    var gradient = RNNParameters<Double>(zerosWithHiddenSize: c.hidden)
    graph.backward(p, into: &gradient)
    let numeric = Self.numericGradient(graph, p)
    let worst = Self.worstErrors(analytic: gradient.values, numeric: numeric, p: p)
    for id in TensorRole.allCases {
      #expect(worst[id]! <= 1e-4, "\(id.rawValue): relative error \(worst[id]!)")
    }
    // Not vacuous: the gradients are not all (near) zero.
    #expect(gradient.values.map(abs).max()! > 1e-3)
  }

  @Test("the check detects a wrong gradient")
  func checkIsSensitive() throws {
    let c = Case(hidden: 3, steps: 5, finalStepOnly: false)
    let (graph, p) = try Self.problem(c)
    graph.forward(p)
    var gradient = RNNParameters<Double>(zerosWithHiddenSize: c.hidden)
    graph.backward(p, into: &gradient)
    let numeric = Self.numericGradient(graph, p)
    // Drop the (1 − h²) factor's effect on one element by perturbing it by 0.1 %: the check must flag it.
    let k = p.range(.weightHH).lowerBound + 4
    gradient.values[k] *= 1.001
    let worst = Self.worstErrors(analytic: gradient.values, numeric: numeric, p: p)
    #expect(worst[.weightHH]! > 1e-4)
    #expect(worst[.fcWeight]! <= 1e-4)
  }

  @Test("the Float pass (used for training) agrees with the Double pass")
  func floatMatchesDouble() throws {
    let rng = try GSLRandom(seed: 42)
    let pF = RNNParameters<Float>.pytorchDefault(hiddenSize: 8, rng: rng)
    let inputs = (0..<11).map { _ in (0..<5).map { _ in Float(rng.flat(-1, 1)) } }
    let targets = (0..<11).map { _ in (0..<5).map { _ in Float(rng.flat(-1, 1)) } }
    let graphF = RNNBatchGraph<Float>(hiddenSize: 8, steps: 5, capacity: 16)
    graphF.load(inputs: inputs, targets: targets, finalStepOnly: false)
    let lossF = graphF.forward(pF)
    var gF = RNNParameters<Float>(zerosWithHiddenSize: 8)
    graphF.backward(pF, into: &gF)

    let pD = RNNParameters<Double>(pF)
    let graphD = RNNBatchGraph<Double>(hiddenSize: 8, steps: 5, capacity: 16)
    graphD.load(
      inputs: inputs.map { $0.map(Double.init) }, targets: targets.map { $0.map(Double.init) },
      finalStepOnly: false)
    let lossD = graphD.forward(pD)
    var gD = RNNParameters<Double>(zerosWithHiddenSize: 8)
    graphD.backward(pD, into: &gD)

    #expect(relativeError(lossF, lossD, floor: 1e-6) < 1e-5)
    let worst = gD.values.indices.map {
      relativeError(Double(gF.values[$0]), gD.values[$0], floor: 1e-3)
    }.max()!
    #expect(worst < 1e-4)
  }
}
