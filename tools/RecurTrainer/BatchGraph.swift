// Forward pass and backpropagation through time for one minibatch, written out by hand: the lanes, the masks, the
// loss, the time loop and the layer loop. The cells themselves (rnn, gru, lstm) are in `Cells/`, one file each with
// the same sections; their shared kernels are in `Cells/CellSupport.swift`.
//
//   (1) h^k_t = cell_k(h^{k-1}_t, state^k_{t-1})    k = 0 ... L−1, h^{-1}_t = x_t [I], state_{-1} = 0 (PyTorch's
//                                                   default h0, c0); the cell files number their own equations
//   (2) y_t = fc.w h^{L-1}_t + fc.b                 [R]  R = O, or a mixture's E expert logits
//   (2m) a mixture readout turns the final step's logits into its prediction ŷ (MixtureHead.swift); y below is ŷ
//   (3) L   = Σ_t Σ_o Σ_b m_tob (y_tob − target_tob)² / n     m = loss mask, n = Σ m (nn.MSELoss, mean reduction)
//
// and, read bottom-up, their derivatives:
//
//   (3') dy_t = 2 m_t (y_t − target_t) / n       (a mixture: dŷ, then MixtureHead's dℓ as the final step's dy)
//   (2') dh^{L-1}_t += fc.wᵀ dy_t                    dfc.w = Σ_t dy_t h^{L-1}_tᵀ      dfc.b = Σ_t Σ_b dy_t
//   (1') per step t from T−1 down to 0, per layer k from L−1 down to 0: cell k's backward(t) turns dh^k_t into its
//        gate gradients, its dh^k_{t-1} (kept for step t−1) and dx (added into dh^{k-1}_t, the layer below's)
//
// Layout: feature-major, batch contiguous. Every activation is `[feature][lane]` with the batch padded to a multiple
// of 8 lanes and stored as SIMD8 vectors, so each operation is "broadcast one weight, multiply-add a row of lanes"
// and vectorises over the batch without horizontal sums. Padded lanes have input 0 and loss mask 0, so their
// gradients are exactly zero. Weight gradients are reduced over lanes once per batch.

import RecurRuntime

public final class BatchGraph<Scalar: TrainingScalar> {
  public typealias Vector = SIMD8<Scalar>

  public let architecture: Architecture
  /// Time steps per example (T).
  public let steps: Int
  /// The most examples one batch may hold.
  public let capacity: Int
  /// SIMD8 blocks per row of lanes: ceil(capacity / 8).
  public let blocks: Int
  /// Examples in the batch currently loaded.
  public private(set) var batchSize = 0
  /// Loss-weighted elements in the loaded batch (the MSE denominator n).
  public private(set) var weightedElements = 0

  private let layout: ParameterLayout
  private var arena: LaneArena<Scalar>
  // Lane rows, each `blocks` vectors long:
  private let x: UnsafeMutablePointer<Vector>  // [T][I][blocks] inputs
  private let target: UnsafeMutablePointer<Vector>  // [T][O][blocks] targets
  private let mask: UnsafeMutablePointer<Vector>  // [T][O][blocks] 1 where the loss counts
  private let y: UnsafeMutablePointer<Vector>  // [T][R][blocks] readouts (R = readoutSize)
  private let dy: UnsafeMutablePointer<Vector>  // [T][R][blocks] ∂L/∂y
  /// A mixture readout's softmax and experts, on the final step (nil for the plain readout).
  private let mixture: MixtureHead<Scalar>?
  /// The stack, bottom-up: layer k reads layer k−1's h. [L]
  private let layers: [TrainingLayer<Scalar>]

  /// The most memory a training graph may take.
  public static var maxBytes: Int { 2 << 30 }

  /// About the bytes of a graph (its buffers and every layer's: at most 12 vectors per step, hidden unit and block
  /// of 8 lanes, in GRUCell / LSTMCell / RNNCell), saturating instead of overflowing.
  public static func estimatedBytes(architecture a: Architecture, steps: Int, capacity: Int) -> Int {
    let perLane = 12 * a.layers * a.hiddenSize + a.inputSize + 2 * a.outputSize + 2 * a.readoutSize
    let (laneSteps, o1) = steps.multipliedReportingOverflow(by: (capacity + 7) / 8 * 8)
    let (floats, o2) = laneSteps.multipliedReportingOverflow(by: perLane)
    return o1 || o2 || floats > Int.max / 4 ? Int.max : 4 * floats
  }

  /// Refuses, before any work, a batch × window × model whose graph would take more than `maxBytes` (every flag in
  /// range, `--batch 65536 --window 4096 --hidden 1024 --layers 7` asked for 185 GB and died in the allocator).
  public static func checkMemory(architecture a: Architecture, steps: Int, capacity: Int) throws(TrainerError) {
    let bytes = estimatedBytes(architecture: a, steps: steps, capacity: capacity)
    guard bytes <= maxBytes else {
      let size = bytes == Int.max ? "more than 2^63 bytes" : "about \(bytes >> 20) MiB"
      throw .invalidOption(
        "--batch \(capacity) × --window \(steps) of \(a.summary) needs \(size) to train (at most \(maxBytes >> 20) "
          + "MiB): use a smaller --batch, --window, --hidden or --layers")
    }
  }

  public init(architecture: Architecture, steps: Int, capacity: Int) {
    precondition(architecture.isWithinLimits && steps >= 1 && capacity >= 1)
    self.architecture = architecture
    self.steps = steps
    self.capacity = capacity
    let nb = (capacity + 7) / 8
    self.blocks = nb
    let (T, I, O, H) = (steps, architecture.inputSize, architecture.outputSize, architecture.hiddenSize)
    let R = architecture.readoutSize
    let (E, m) = (architecture.experts, architecture.expertOrder)
    precondition(m <= steps, "a mixture weighs at most the window's inputs")
    layout = ParameterLayout(architecture)
    let head = architecture.isMixture ? MixtureHead<Scalar>.vectors(experts: E, order: m, blocks: nb) : 0
    arena = LaneArena(vectors: T * I * nb + 2 * T * O * nb + 2 * T * R * nb + head, scalars: 0)
    x = arena.vectors(T * I * nb)
    target = arena.vectors(T * O * nb)
    mask = arena.vectors(T * O * nb)
    y = arena.vectors(T * R * nb)
    dy = arena.vectors(T * R * nb)
    mixture = architecture.isMixture ? MixtureHead(experts: E, order: m, blocks: nb, arena: &arena) : nil
    var stack: [TrainingLayer<Scalar>] = []
    for k in 0..<architecture.layers {
      // Layer 0 reads x_t = x + t·I·blocks; layer k reads the layer below's h_t = hidden + (t+1)·H·blocks.
      let input = k == 0 ? UnsafePointer(x) : UnsafePointer(stack[k - 1].hidden + H * nb)
      let shape = CellShape<Scalar>(
        layout: layout, layer: k, steps: T, blocks: nb, input: input, inputStride: (k == 0 ? I : H) * nb)
      stack.append(TrainingLayer(architecture.kind, shape))
    }
    layers = stack
  }

  deinit { arena.deallocate() }

  public var hiddenSize: Int { architecture.hiddenSize }

  // MARK: Loading a batch

  /// Gathers the examples `indices` of `examples` into the lanes (at most `capacity` of them). The example set's
  /// input and output sizes must be the architecture's.
  public func load(_ examples: ExampleSet, indices: ArraySlice<Int>) {
    precondition(examples.steps == steps && indices.count <= capacity)
    let (I, O, T) = (architecture.inputSize, architecture.outputSize, steps)
    precondition(examples.inputSize == I && examples.outputSize == O, "example set and model sizes differ")
    examples.inputs.withUnsafeBufferPointer { inputs in
      examples.targets.withUnsafeBufferPointer { targets in
        fill(
          count: indices.count, finalStepOnly: examples.lossOnFinalStepOnly,
          input: { lane, t, i in Scalar(inputs[(indices[indices.startIndex + lane] * T + t) * I + i]) },
          target: { lane, t, o in Scalar(targets[(indices[indices.startIndex + lane] * T + t) * O + o]) })
      }
    }
  }

  /// Loads explicit examples: `inputs[b][t][i]` (batch, T, I) and `targets[b][t][o]` (batch, T, O) (tests and small
  /// evaluations).
  public func load(inputs: [[[Scalar]]], targets: [[[Scalar]]], finalStepOnly: Bool) {
    precondition(inputs.count == targets.count && inputs.count <= capacity)
    fill(
      count: inputs.count, finalStepOnly: finalStepOnly,
      input: { lane, t, i in inputs[lane][t][i] }, target: { lane, t, o in targets[lane][t][o] })
  }

  private func fill(
    count: Int, finalStepOnly: Bool, input: (Int, Int, Int) -> Scalar, target value: (Int, Int, Int) -> Scalar
  ) {
    let (I, O) = (architecture.inputSize, architecture.outputSize)
    precondition(!architecture.isMixture || finalStepOnly, "a mixture readout predicts the final step only")
    batchSize = count
    weightedElements = count * (finalStepOnly ? 1 : steps) * O
    let xs = lanes(x)
    let ts = lanes(target)
    let ms = lanes(mask)
    let width = blocks * 8
    for t in 0..<steps {
      let weighted: Scalar = (!finalStepOnly || t == steps - 1) ? 1 : 0
      for lane in 0..<width {
        let real = lane < count
        for i in 0..<I { xs[(t * I + i) * width + lane] = real ? input(lane, t, i) : 0 }
        for o in 0..<O {
          let n = (t * O + o) * width + lane
          (ts[n], ms[n]) = real ? (value(lane, t, o), weighted) : (0, 0)
        }
      }
    }
  }

  // MARK: Forward

  /// Runs (1)–(3) and returns the batch's mean squared error.
  @discardableResult
  public func forward(_ p: Parameters<Scalar>) -> Double {
    precondition(p.architecture == architecture && batchSize > 0)
    let (H, R, nb) = (architecture.hiddenSize, architecture.readoutSize, blocks)
    return p.values.withUnsafeBufferPointer { buffer in
      let w = buffer.baseAddress!
      let fcW = w + layout.range(.fcWeight).lowerBound
      let fcB = w + layout.range(.fcBias).lowerBound
      for layer in layers { layer.prepareForward(w) }
      let top = layers[layers.count - 1].hidden
      for t in 0..<steps {
        // (1) the stack, bottom-up.
        for layer in layers { layer.forward(t, w) }
        // (2) y_t = fc.w h_t + fc.b
        let yt = y + t * R * nb
        broadcastRows(fcB, rows: R, blocks: nb, into: yt)
        broadcastAccumulate(fcW, rows: R, cols: H, top + (t + 1) * H * nb, blocks: nb, into: yt)
      }

      // (3) L = Σ m (y − target)² / n
      var sum = Vector()
      if let mixture {
        // (2m) the final step's logits → ŷ; only the final step is weighted.
        let last = steps - 1
        mixture.forward(
          logits: y + last * R * nb, inputs: mixtureInput, weights: w + layout.range(.experts).lowerBound)
        for k in 0..<nb {
          let e = mixture.prediction[k] - target[last * nb + k]
          sum += mask[last * nb + k] * (e * e)
        }
        return Double(horizontalSum(sum)) / Double(weightedElements)
      }
      for n in 0..<(steps * R * nb) {
        let e = y[n] - target[n]
        sum += mask[n] * (e * e)
      }
      return Double(horizontalSum(sum)) / Double(weightedElements)
    }
  }

  /// Output `channel` of lane `lane` at step `t` after `forward` (a mixture: its prediction ŷ, final step only).
  public func output(lane: Int, step t: Int, channel: Int = 0) -> Scalar {
    precondition(lane < batchSize && t < steps && channel < architecture.outputSize)
    if let mixture {
      precondition(t == steps - 1, "a mixture readout predicts the final step only")
      return UnsafeMutableRawPointer(mixture.prediction).assumingMemoryBound(to: Scalar.self)[lane]
    }
    return lanes(y)[(t * architecture.outputSize + channel) * blocks * 8 + lane]
  }

  /// After `forward` on a mixture, lane `lane`'s softmax weights π_e into `probabilities` [E], its expert inputs u_j
  /// into `inputs` [m] (oldest first), and returns its prediction ŷ and target (`ExpertPolish` reads them).
  func mixtureLane(
    _ lane: Int, probabilities: inout [Double], inputs: inout [Double]
  ) -> (prediction: Double, target: Double) {
    guard let mixture else { preconditionFailure("mixtureLane needs a mixture readout") }
    precondition(lane < batchSize && probabilities.count == mixture.experts && inputs.count == mixture.order)
    precondition(architecture.inputSize == 1 && architecture.outputSize == 1, "a mixture is univariate")
    let width = blocks * 8
    let pi = lanes(mixture.probability)
    for e in 0..<mixture.experts { probabilities[e] = Double(pi[e * width + lane]) }
    for j in 0..<mixture.order {
      inputs[j] = Double(UnsafeRawPointer(mixtureInput(j)).assumingMemoryBound(to: Scalar.self)[lane])
    }
    let last = (steps - 1) * width  // target [T][O = 1][blocks]: the final step's row
    return (Double(output(lane: lane, step: steps - 1)), Double(lanes(target)[last + lane]))
  }

  /// The lane row of the j-th of the last m inputs of the window (a mixture's u_j, oldest first; input size 1).
  private func mixtureInput(_ j: Int) -> UnsafePointer<Vector> {
    UnsafePointer(x + (steps - architecture.expertOrder + j) * blocks)
  }

  // MARK: Backward

  /// Backpropagation through time for the batch `forward` last ran on; writes ∂L/∂θ into `gradient` (overwriting it).
  public func backward(_ p: Parameters<Scalar>, into gradient: inout Parameters<Scalar>) {
    precondition(p.architecture == architecture && gradient.architecture == architecture && batchSize > 0)
    let (H, O, nb, T) = (architecture.hiddenSize, architecture.readoutSize, blocks, steps)
    let top = layers[layers.count - 1]
    let fcWRange = layout.range(.fcWeight)
    p.values.withUnsafeBufferPointer { buffer in
      let w = buffer.baseAddress!
      let fcW = w + fcWRange.lowerBound
      for layer in layers { layer.prepareBackward(w) }

      // (3') dy = 2 m (y − target) / n
      let twoOverN = Vector(repeating: Scalar(2) / Scalar(weightedElements))
      if let mixture {
        // dŷ, then (M3') and (M2'): the final step's dy are the logits' gradients; earlier steps have none.
        for n in 0..<(T * O * nb) { dy[n] = Vector() }
        let last = T - 1
        for k in 0..<nb {
          mixture.dPrediction[k] =
            twoOverN * (mask[last * nb + k] * (mixture.prediction[k] - target[last * nb + k]))
        }
        gradient.values.withUnsafeMutableBufferPointer { g in
          let dA = g.baseAddress! + layout.range(.experts).lowerBound
          for i in 0..<layout.range(.experts).count { dA[i] = 0 }
          mixture.backward(inputs: mixtureInput, dLogits: dy + last * O * nb, dWeights: dA)
        }
      } else {
        for n in 0..<(T * O * nb) { dy[n] = twoOverN * (mask[n] * (y[n] - target[n])) }
      }

      let dhTop = top.dh
      for t in stride(from: T - 1, through: 0, by: -1) {
        // (2') dh_t (top layer) += fc.wᵀ dy_t, added to what step t+1 sent back.
        let dyt = dy + t * O * nb
        for i in 0..<H {
          for k in 0..<nb {
            var acc = dhTop[i * nb + k]
            for o in 0..<O { acc += Vector(repeating: fcW[o * H + i]) * dyt[o * nb + k] }
            dhTop[i * nb + k] = acc
          }
        }
        // (1') the stack, top-down: each layer passes dx into the dh of the layer below.
        for k in stride(from: layers.count - 1, through: 0, by: -1) {
          layers[k].backward(t, dInput: k > 0 ? layers[k - 1].dh : nil)
        }
      }
    }

    // Parameter gradients: sums over time steps and lanes.
    let oFCW = fcWRange.lowerBound
    let oFCB = layout.range(.fcBias).lowerBound
    gradient.values.withUnsafeMutableBufferPointer { buffer in
      let g = buffer.baseAddress!
      for layer in layers { layer.gradients(into: g) }
      // dfc.w = Σ_t dy_t h_tᵀ                [O][H]   (h_t is hidden[t+1])
      sumOfOuterProducts(
        dy, stride: O * nb, rows: O, top.hidden + H * nb, stride: H * nb, cols: H, steps: T, blocks: nb,
        into: g + oFCW)
      // dfc.b = Σ_t Σ_b dy_t                 [O]
      sumOverStepsAndLanes(dy, stride: O * nb, rows: O, steps: T, blocks: nb, into: g + oFCB)
    }
  }

  // MARK: Helpers

  private func lanes(_ p: UnsafeMutablePointer<Vector>) -> UnsafeMutablePointer<Scalar> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: Scalar.self)
  }
}

// MARK: - The layer loop's dispatch

/// One layer of the stack. An enum over the concrete cells rather than a protocol existential, so every call is
/// direct and, for `Float` training, specialised.
enum TrainingLayer<Scalar: TrainingScalar> {
  case rnn(RNNCell<Scalar>)
  case gru(GRUCell<Scalar>)
  case lstm(LSTMCell<Scalar>)

  init(_ kind: CellKind, _ shape: CellShape<Scalar>) {
    switch kind {
    case .rnn: self = .rnn(RNNCell(shape))
    case .gru: self = .gru(GRUCell(shape))
    case .lstm: self = .lstm(LSTMCell(shape))
    }
  }

  /// [T+1][H][blocks]: the layer's output, hidden[t+1] = h_t.
  var hidden: UnsafeMutablePointer<SIMD8<Scalar>> {
    switch self {
    case .rnn(let c): c.hidden
    case .gru(let c): c.hidden
    case .lstm(let c): c.hidden
    }
  }

  /// [H][blocks]: ∂L/∂h_t, the backward pass's running state.
  var dh: UnsafeMutablePointer<SIMD8<Scalar>> {
    switch self {
    case .rnn(let c): c.dh
    case .gru(let c): c.dh
    case .lstm(let c): c.dh
    }
  }

  @inline(__always) func prepareForward(_ w: UnsafePointer<Scalar>) {
    switch self {
    case .rnn(let c): c.prepareForward(w)
    case .gru(let c): c.prepareForward(w)
    case .lstm(let c): c.prepareForward(w)
    }
  }

  @inline(__always) func forward(_ t: Int, _ w: UnsafePointer<Scalar>) {
    switch self {
    case .rnn(let c): c.forward(t, w)
    case .gru(let c): c.forward(t, w)
    case .lstm(let c): c.forward(t, w)
    }
  }

  @inline(__always) func prepareBackward(_ w: UnsafePointer<Scalar>) {
    switch self {
    case .rnn(let c): c.prepareBackward(w)
    case .gru(let c): c.prepareBackward(w)
    case .lstm(let c): c.prepareBackward(w)
    }
  }

  @inline(__always) func backward(_ t: Int, dInput: UnsafeMutablePointer<SIMD8<Scalar>>?) {
    switch self {
    case .rnn(let c): c.backward(t, dInput: dInput)
    case .gru(let c): c.backward(t, dInput: dInput)
    case .lstm(let c): c.backward(t, dInput: dInput)
    }
  }

  @inline(__always) func gradients(into g: UnsafeMutablePointer<Scalar>) {
    switch self {
    case .rnn(let c): c.gradients(into: g)
    case .gru(let c): c.gradients(into: g)
    case .lstm(let c): c.gradients(into: g)
    }
  }
}
