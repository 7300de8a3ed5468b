// Backpropagation through time against central finite differences, in Double, for every cell kind and depth; the
// Float pass (used for training) against the Double pass and against the runtime (used by the exported model).

import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("Gradients")
struct GradientCheckTests {
  struct Case: Sendable, CustomTestStringConvertible {
    var kind: CellKind
    var layers: Int
    var input: Int
    var hidden: Int
    var output: Int
    var steps: Int
    var batch: Int
    var finalStepOnly: Bool

    var architecture: Architecture {
      Architecture(kind: kind, layers: layers, inputSize: input, hiddenSize: hidden, outputSize: output)
    }
    var testDescription: String {
      "\(kind.name) L=\(layers) I=\(input) H=\(hidden) O=\(output) T=\(steps) B=\(batch) "
        + (finalStepOnly ? "final-step loss" : "all-steps loss")
    }
  }

  /// Every kind × depth 1...3, each in three shapes that between them cover I ∈ {1, 3}, O ∈ {1, 2}, T ∈ {1, 4},
  /// H ∈ {2, 3, 5} (none a multiple of 8 or of the kernels' 4-row unrolling), batches of 5, 11 and 3 (padded lanes;
  /// one and two SIMD8 blocks) and both loss modes. Small: the check costs 2 forward passes per parameter, so its
  /// time grows with the square of the parameter count, and it must stay fast in a debug build.
  static let cases: [Case] = CellKind.allCases.flatMap { kind in
    (1...3).flatMap { layers in
      [
        Case(kind: kind, layers: layers, input: 1, hidden: 5, output: 1, steps: 4, batch: 5, finalStepOnly: false),
        Case(kind: kind, layers: layers, input: 3, hidden: 3, output: 2, steps: 4, batch: 11, finalStepOnly: true),
        Case(kind: kind, layers: layers, input: 3, hidden: 2, output: 2, steps: 1, batch: 3, finalStepOnly: false),
      ]
    }
  }

  /// A random problem: weights at PyTorch's init scale times 1.5 (so the activations are in their nonlinear range),
  /// inputs and targets in [-1, 1].
  static func problem(_ c: Case, seed: UInt64 = 1) throws -> (BatchGraph<Double>, Parameters<Double>) {
    let rng = try GSLRandom(seed: seed)
    var p = Parameters<Double>.pytorchDefault(architecture: c.architecture, rng: rng)
    p.values = p.values.map { $0 * 1.5 }
    let inputs = (0..<c.batch).map { _ in (0..<c.steps).map { _ in (0..<c.input).map { _ in rng.flat(-1, 1) } } }
    let targets = (0..<c.batch).map { _ in (0..<c.steps).map { _ in (0..<c.output).map { _ in rng.flat(-1, 1) } } }
    let graph = BatchGraph<Double>(architecture: c.architecture, steps: c.steps, capacity: 16)
    graph.load(inputs: inputs, targets: targets, finalStepOnly: c.finalStepOnly)
    return (graph, p)
  }

  /// Central differences for every parameter. Step 1e-5: with 1e-6 the rounding of the loss (~1e-16 / 1e-6) already
  /// shows as 1e-5 relative error on gradients near the floor; the truncation error at 1e-5 is ~1e-10.
  static func numericGradient(_ graph: BatchGraph<Double>, _ p: Parameters<Double>) -> [Double] {
    let step = 1e-5
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

  /// Worst relative error per tensor (keyed by its state_dict name); the floor 1e-5 keeps exactly-zero gradients
  /// (dW_hh when T = 1) meaningful.
  static func worstErrors(analytic: [Double], numeric: [Double], p: Parameters<Double>) -> [(String, Double)] {
    zip(p.architecture.tensors, p.layout.ranges).map { spec, range in
      (
        spec.name(p.architecture.kind),
        range.map { relativeError(analytic[$0], numeric[$0], floor: 1e-5) }.max() ?? 0
      )
    }
  }

  @Test("analytic gradients match central differences (relative error ≤ 1e-4)", arguments: cases)
  func gradientsMatch(_ c: Case) throws {
    let (graph, p) = try Self.problem(c)
    graph.forward(p)
    var gradient = Parameters<Double>(zeros: c.architecture)
    graph.backward(p, into: &gradient)
    let numeric = Self.numericGradient(graph, p)
    let worst = Self.worstErrors(analytic: gradient.values, numeric: numeric, p: p)
    for (name, error) in worst {
      #expect(error <= 1e-4, "\(name): relative error \(error)")
    }
    // Not vacuous: the gradients are not all (near) zero.
    #expect(gradient.values.map(abs).max()! > 1e-3)
  }

  @Test("the check detects a wrong gradient", arguments: CellKind.allCases)
  func checkIsSensitive(_ kind: CellKind) throws {
    let c = Case(kind: kind, layers: 2, input: 1, hidden: 3, output: 1, steps: 4, batch: 11, finalStepOnly: false)
    let (graph, p) = try Self.problem(c)
    graph.forward(p)
    var gradient = Parameters<Double>(zeros: c.architecture)
    graph.backward(p, into: &gradient)
    let numeric = Self.numericGradient(graph, p)
    // Perturb one element of layer 0's W_hh gradient by 0.1 %: the check must flag that tensor and only that one.
    gradient.values[p.range(.weightHH, layer: 0).lowerBound + 4] *= 1.001
    let worst = Dictionary(uniqueKeysWithValues: Self.worstErrors(analytic: gradient.values, numeric: numeric, p: p))
    #expect(worst["\(kind.name).weight_hh_l0"]! > 1e-4)
    #expect(worst["\(kind.name).weight_hh_l1"]! <= 1e-4)
    #expect(worst["fc.weight"]! <= 1e-4)
  }

  @Test("the Float pass (used for training) agrees with the Double pass", arguments: CellKind.allCases)
  func floatMatchesDouble(_ kind: CellKind) throws {
    let a = Architecture(kind: kind, layers: 2, inputSize: 3, hiddenSize: 8, outputSize: 2)
    let rng = try GSLRandom(seed: 42)
    let pF = Parameters<Float>.pytorchDefault(architecture: a, rng: rng)
    let inputs = (0..<11).map { _ in (0..<5).map { _ in (0..<3).map { _ in Float(rng.flat(-1, 1)) } } }
    let targets = (0..<11).map { _ in (0..<5).map { _ in (0..<2).map { _ in Float(rng.flat(-1, 1)) } } }
    let graphF = BatchGraph<Float>(architecture: a, steps: 5, capacity: 16)
    graphF.load(inputs: inputs, targets: targets, finalStepOnly: false)
    let lossF = graphF.forward(pF)
    var gF = Parameters<Float>(zeros: a)
    graphF.backward(pF, into: &gF)

    let pD = Parameters<Double>(pF)
    let graphD = BatchGraph<Double>(architecture: a, steps: 5, capacity: 16)
    graphD.load(
      inputs: inputs.map { $0.map { $0.map(Double.init) } }, targets: targets.map { $0.map { $0.map(Double.init) } },
      finalStepOnly: false)
    let lossD = graphD.forward(pD)
    var gD = Parameters<Double>(zeros: a)
    graphD.backward(pD, into: &gD)

    #expect(relativeError(lossF, lossD, floor: 1e-6) < 1e-5)
    let worst = gD.values.indices.map {
      relativeError(Double(gF.values[$0]), gD.values[$0], floor: 1e-3)
    }.max()!
    #expect(worst < 1e-4)
  }

  /// The trainer's Float forward pass and the runtime on the exported weights compute the same function: every
  /// output of every step of every example within 1e-5 relative (floor 0.1).
  @Test(
    "the trainer's forward pass matches the runtime on the exported model",
    arguments: CellKind.allCases.flatMap { kind in (1...3).map { (kind, $0) } })
  func forwardMatchesRuntime(_ kind: CellKind, _ layers: Int) throws {
    for (input, output) in [(1, 1), (3, 2)] {
      let a = Architecture(kind: kind, layers: layers, inputSize: input, hiddenSize: 5, outputSize: output)
      let (T, batch) = (6, 11)
      let rng = try GSLRandom(seed: UInt64(100 * layers + input))
      var p = Parameters<Float>.pytorchDefault(architecture: a, rng: rng)
      p.values = p.values.map { $0 * 1.5 }
      let inputs = (0..<batch).map { _ in (0..<T).map { _ in (0..<input).map { _ in Float(rng.flat(-1, 1)) } } }
      let targets = (0..<batch).map { _ in [[Float]](repeating: [Float](repeating: 0, count: output), count: T) }
      let graph = BatchGraph<Float>(architecture: a, steps: T, capacity: batch)
      graph.load(inputs: inputs, targets: targets, finalStepOnly: false)
      graph.forward(p)

      let encoding: Encoding = input == 1 && output == 1 ? .sequenceMaxScale : .identity
      let model = RecurrentModel(p.modelFile(contextLength: T, encoding: encoding))
      let cell = RecurrentCell(model: model)
      var y = [Float](repeating: 0, count: output)
      var worst = 0.0
      for lane in 0..<batch {
        cell.reset()
        for t in 0..<T {
          inputs[lane][t].withUnsafeBufferPointer { x in
            y.withUnsafeMutableBufferPointer { cell.step(x.baseAddress!, into: $0.baseAddress!) }
          }
          for o in 0..<output {
            let expected = graph.output(lane: lane, step: t, channel: o)
            worst = max(worst, relativeError(Double(y[o]), Double(expected), floor: 0.1))
          }
        }
      }
      #expect(worst <= 1e-5, "\(a.summary): worst relative difference \(worst)")
    }
  }
}

// MARK: - The mixture-of-experts readout

@Suite("Gradients of the mixture readout")
struct MixtureGradientTests {
  /// A window-differences-shaped problem for a mixture readout: input and output 1, the loss on the final step.
  static func problem(
    _ kind: CellKind, layers: Int, experts: Int, order: Int, steps: Int, batch: Int, seed: UInt64 = 3
  ) throws -> (BatchGraph<Double>, Parameters<Double>) {
    let a = Architecture(
      kind: kind, layers: layers, inputSize: 1, hiddenSize: 3, outputSize: 1, experts: experts, expertOrder: order)
    let rng = try GSLRandom(seed: seed)
    var p = Parameters<Double>.pytorchDefault(architecture: a, rng: rng)
    // Larger readout weights spread the logits, so the softmax is neither uniform nor saturated.
    for i in p.range(.fcWeight) { p.values[i] *= 4 }
    let inputs = (0..<batch).map { _ in (0..<steps).map { _ in [rng.flat(-1, 1)] } }
    let targets = (0..<batch).map { _ in (0..<steps).map { _ in [rng.flat(-1, 1)] } }
    let graph = BatchGraph<Double>(architecture: a, steps: steps, capacity: 16)
    graph.load(inputs: inputs, targets: targets, finalStepOnly: true)
    return (graph, p)
  }

  /// Every kind, one and two layers, 1, 5 and 9 experts (a partial and more than one SIMD8 block of logits do not
  /// exist here: experts are rows, lanes are the batch), orders 1...3, batches of 5 and 11 (padded lanes).
  @Test(
    "analytic gradients of a mixture readout match central differences (relative error ≤ 1e-4)",
    arguments: CellKind.allCases.flatMap { kind in [(kind, 1, 1, 1, 5), (kind, 1, 5, 2, 11), (kind, 2, 9, 3, 5)] })
  func gradientsMatch(_ kind: CellKind, _ layers: Int, _ experts: Int, _ order: Int, _ batch: Int) throws {
    let (graph, p) = try Self.problem(kind, layers: layers, experts: experts, order: order, steps: 4, batch: batch)
    graph.forward(p)
    var gradient = Parameters<Double>(zeros: p.architecture)
    graph.backward(p, into: &gradient)
    let numeric = GradientCheckTests.numericGradient(graph, p)
    for (name, error) in GradientCheckTests.worstErrors(analytic: gradient.values, numeric: numeric, p: p) {
      #expect(error <= 1e-4, "\(name): relative error \(error)")
    }
    #expect(gradient[.experts].map(abs).max()! > 1e-3)
    // One expert's softmax is 1 whatever its logit, so only a real mixture passes gradients into the readout.
    if experts > 1 { #expect(gradient[.fcWeight].map(abs).max()! > 1e-3) }
  }

  @Test("the check detects a wrong expert gradient")
  func checkIsSensitive() throws {
    let (graph, p) = try Self.problem(.gru, layers: 1, experts: 5, order: 2, steps: 4, batch: 11)
    graph.forward(p)
    var gradient = Parameters<Double>(zeros: p.architecture)
    graph.backward(p, into: &gradient)
    let numeric = GradientCheckTests.numericGradient(graph, p)
    gradient.values[p.range(.experts).lowerBound + 3] *= 1.001
    let worst = Dictionary(
      uniqueKeysWithValues: GradientCheckTests.worstErrors(analytic: gradient.values, numeric: numeric, p: p))
    #expect(worst["experts.weight"]! > 1e-4)
    #expect(worst["fc.weight"]! <= 1e-4)
  }

  /// The Float training pass predicts what the exported model predicts through `SequencePredictor`: the prediction
  /// of a window-differences window is `last + s · ŷ`, within 1e-5 relative (the cells' kernels sum in another
  /// order than the trainer's, so the logits differ in their last bits; measured: a few ulps).
  @Test("the trainer's mixture prediction is the runtime's", arguments: CellKind.allCases)
  func forwardMatchesRuntime(_ kind: CellKind) throws {
    let a = Architecture(
      kind: kind, layers: 1, inputSize: 1, hiddenSize: 13, outputSize: 1, experts: 11, expertOrder: 2)
    let rng = try GSLRandom(seed: 9)
    var p = Parameters<Float>.pytorchDefault(architecture: a, rng: rng)
    for i in p.range(.fcWeight) { p.values[i] *= 4 }
    let k = 4
    // Sequences of 5 values: 4 differences, normalised as the runtime does.
    let sequences = (0..<9).map { _ in (0..<(k + 1)).map { _ in Float(rng.flat(-50, 50)).rounded() } }
    let examples = sequences.map { WindowDifferences.example(values: $0 + [0], t: k, k: k) }
    let graph = BatchGraph<Float>(architecture: a, steps: k, capacity: 16)
    graph.load(
      inputs: examples.map { e in e.inputs.map { [$0] } },
      targets: examples.map { _ in [[Float]](repeating: [0], count: k) }, finalStepOnly: true)
    graph.forward(p)
    let predictor = SequencePredictor(
      model: RecurrentModel(p.modelFile(contextLength: k, encoding: .windowDifferences)))
    for (lane, values) in sequences.enumerated() {
      var out: [Float] = [0]
      values.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      out.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      let expected = values[k] + examples[lane].scale * graph.output(lane: lane, step: k - 1)
      let error = relativeError(Double(out[0]), Double(expected), floor: 1)
      #expect(error <= 1e-5, "lane \(lane): runtime \(out[0]), trainer \(expected)")
      #expect(out[0] != values[k], "a prediction that moved")
    }
  }
}
