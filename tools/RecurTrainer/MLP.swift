// The feedforward baseline's network: the last k encoded values → W tanh units → one linear output, i.e. PyTorch's
// `nn.Sequential(nn.Linear(k, W), nn.Tanh(), nn.Linear(W, 1))`, with its forward pass and backpropagation written out
// by hand:
//
//   (1) a = W1 x + b1            [W]
//   (2) h = tanh(a)              [W]
//   (3) y = w2 · h + b2          scalar
//   (4) L = Σ_b (y_b − t_b)² / n  (nn.MSELoss, mean reduction over the n samples of the batch)
//
//   (4') dy_b = 2 (y_b − t_b) / n
//   (3') dw2 = Σ_b dy_b h_b       db2 = Σ_b dy_b       dh_b = dy_b w2
//   (2') da_b = dh_b ⊙ (1 − h_b²)
//   (1') dW1 = Σ_b da_b x_bᵀ      db1 = Σ_b da_b
//
// tanh is `TrainingScalar.tanh8`, as in the RNN trainer: the runtime's rational approximation for Float (training,
// generation and the speed measurement all use it), libm for Double (gradient checks).

import Foundation
import RecurRuntime

// MARK: - Parameters

/// All MLP parameters in one flat array, in PyTorch's `parameters()` order and layout:
/// `0.weight [W][k]`, `0.bias [W]`, `2.weight [1][W]`, `2.bias [1]`.
public struct MLPParameters<Scalar: TrainingScalar>: Sendable, Equatable {
  public enum Tensor: CaseIterable, Sendable {
    case weight1, bias1, weight2, bias2

    public var name: String {
      switch self {
      case .weight1: "0.weight"
      case .bias1: "0.bias"
      case .weight2: "2.weight"
      case .bias2: "2.bias"
      }
    }
  }

  /// k: encoded values per prediction.
  public let inputSize: Int
  /// W: tanh units.
  public let width: Int
  public var values: [Scalar]

  /// Number of parameters: W·k + W (first layer) + W + 1 (readout).
  public static func count(inputSize k: Int, width w: Int) -> Int { w * k + 2 * w + 1 }

  public init(zerosWithInputSize inputSize: Int, width: Int) {
    self.inputSize = inputSize
    self.width = width
    values = [Scalar](repeating: 0, count: Self.count(inputSize: inputSize, width: width))
  }

  public init(inputSize: Int, width: Int, values: [Scalar]) {
    precondition(values.count == Self.count(inputSize: inputSize, width: width), "parameter count mismatch")
    self.inputSize = inputSize
    self.width = width
    self.values = values
  }

  public init<Other: TrainingScalar>(_ other: MLPParameters<Other>) {
    self.init(inputSize: other.inputSize, width: other.width, values: other.values.map { Scalar($0) })
  }

  /// Where tensor `t` lives in `values`.
  public func range(_ t: Tensor) -> Range<Int> {
    let k = inputSize
    let w = width
    switch t {
    case .weight1: return 0..<(w * k)
    case .bias1: return (w * k)..<(w * k + w)
    case .weight2: return (w * k + w)..<(w * k + 2 * w)
    case .bias2: return (w * k + 2 * w)..<(w * k + 2 * w + 1)
    }
  }

  /// PyTorch's default `nn.Linear` initialisation: weight and bias of each layer uniform on ±1/sqrt(fan_in)
  /// (kaiming_uniform(a=√5) reduces to that bound), fan_in = k for the first layer and W for the readout. Drawn with
  /// `gsl_ran_flat` tensor by tensor, element by element, in `parameters()` order.
  public static func pytorchDefault(inputSize: Int, width: Int, rng: GSLRandom) -> Self {
    var p = Self(zerosWithInputSize: inputSize, width: width)
    for t in Tensor.allCases {
      let fanIn = (t == .weight1 || t == .bias1) ? inputSize : width
      let bound = 1.0 / Double(fanIn).squareRoot()
      for i in p.range(t) { p.values[i] = Scalar(rng.flat(-bound, bound)) }
    }
    return p
  }

  public var allFinite: Bool { values.allSatisfy { $0.isFinite } }

  /// Hidden storage needed by `forward`: W rounded up to a multiple of 8.
  public var paddedWidth: Int { (width + 7) / 8 * 8 }

  /// One prediction from `x` [k], with `hidden` [paddedWidth] as scratch (left holding h, zero-padded).
  /// A plain Swift loop: no allocation, no SIMD beyond the eight-lane tanh.
  @inline(__always)
  public func forward(_ x: UnsafePointer<Scalar>, hidden: UnsafeMutablePointer<Scalar>) -> Scalar {
    let k = inputSize
    let w = width
    return values.withUnsafeBufferPointer { buffer in
      let p = buffer.baseAddress!
      let w1 = p
      let b1 = p + w * k
      let w2 = p + w * k + w
      let b2 = p[w * k + 2 * w]
      for i in 0..<w {
        var a = b1[i]
        let row = w1 + i * k
        for j in 0..<k { a += row[j] * x[j] }
        hidden[i] = a
      }
      for i in w..<paddedWidth { hidden[i] = 0 }
      let raw = UnsafeMutableRawPointer(hidden)
      for block in 0..<(paddedWidth / 8) {
        let v = raw.loadUnaligned(fromByteOffset: block * 8 * MemoryLayout<Scalar>.stride, as: SIMD8<Scalar>.self)
        raw.storeBytes(
          of: Scalar.tanh8(v), toByteOffset: block * 8 * MemoryLayout<Scalar>.stride, as: SIMD8<Scalar>.self)
      }
      var y = b2
      for i in 0..<w { y += w2[i] * hidden[i] }
      return y
    }
  }

  /// One prediction from `x` (allocates its scratch; for tests and one-off use).
  public func predict(_ x: [Scalar]) -> Scalar {
    precondition(x.count == inputSize)
    let hidden = UnsafeMutablePointer<Scalar>.allocate(capacity: paddedWidth)
    defer { hidden.deallocate() }
    return x.withUnsafeBufferPointer { forward($0.baseAddress!, hidden: hidden) }
  }
}

// MARK: - Training samples

/// (last k encoded values → next encoded value) pairs cut from an `ExampleSet`, so the baseline trains on exactly
/// the RNN's windows:
/// - every-step loss (sequence-max-scale): from each window of T steps, every position t ≥ k − 1 gives the sample
///   inputs[t−k+1...t] → targets[t] (with k = T, only the final step);
/// - final-step loss (window-differences): the final step only, inputs = the window's last k normalised differences.
public struct MLPSamples: Sendable {
  public let inputSize: Int
  /// `[count][k]`, float32 as in the example set.
  public private(set) var inputs: [Float] = []
  public private(set) var targets: [Float] = []
  /// For window `e` of the example set, the index of its final-step sample: the prediction of the value after the
  /// window, `examples.offsets[e] + examples.scales[e] * y`.
  public private(set) var finalSample: [Int] = []

  public var count: Int { targets.count }

  public init(examples: ExampleSet, inputSize k: Int) {
    precondition(k >= 1 && k <= examples.steps, "k must be in 1...window")
    inputSize = k
    let steps = examples.steps
    let first = examples.lossOnFinalStepOnly ? steps - 1 : k - 1
    for e in 0..<examples.count {
      for t in first..<steps {
        inputs += examples.inputs[(e * steps + t - k + 1)...(e * steps + t)]
        targets.append(examples.targets[e * steps + t])
      }
      finalSample.append(targets.count - 1)
    }
  }
}

// MARK: - A minibatch

/// Forward and backward passes over a minibatch of samples. Allocates at `init` only.
public final class MLPBatch<Scalar: TrainingScalar> {
  public let inputSize: Int
  public let width: Int
  public let capacity: Int
  public private(set) var count = 0
  private let paddedWidth: Int
  private var x: [Scalar]  // [capacity][k]
  private var target: [Scalar]  // [capacity]
  private var hidden: [Scalar]  // [capacity][paddedWidth]
  private var y: [Scalar]  // [capacity]

  public init(inputSize: Int, width: Int, capacity: Int) {
    precondition(inputSize >= 1 && width >= 1 && capacity >= 1)
    self.inputSize = inputSize
    self.width = width
    self.capacity = capacity
    paddedWidth = (width + 7) / 8 * 8
    x = [Scalar](repeating: 0, count: capacity * inputSize)
    target = [Scalar](repeating: 0, count: capacity)
    hidden = [Scalar](repeating: 0, count: capacity * paddedWidth)
    y = [Scalar](repeating: 0, count: capacity)
  }

  /// Gathers samples `indices` of `samples`.
  public func load(_ samples: MLPSamples, indices: ArraySlice<Int>) {
    precondition(samples.inputSize == inputSize && indices.count <= capacity)
    let k = inputSize
    count = indices.count
    for (b, s) in indices.enumerated() {
      for j in 0..<k { x[b * k + j] = Scalar(samples.inputs[s * k + j]) }
      target[b] = Scalar(samples.targets[s])
    }
  }

  /// Loads explicit samples: `inputs[b]` [k], `targets[b]` (tests).
  public func load(inputs: [[Scalar]], targets: [Scalar]) {
    precondition(inputs.count == targets.count && inputs.count <= capacity)
    count = inputs.count
    for b in 0..<count {
      precondition(inputs[b].count == inputSize)
      for j in 0..<inputSize { x[b * inputSize + j] = inputs[b][j] }
      target[b] = targets[b]
    }
  }

  /// (1)–(4): returns the batch's mean squared error.
  @discardableResult
  public func forward(_ p: MLPParameters<Scalar>) -> Double {
    precondition(p.inputSize == inputSize && p.width == width && count > 0)
    let k = inputSize
    let pw = paddedWidth
    var sum = 0.0
    x.withUnsafeBufferPointer { xs in
      hidden.withUnsafeMutableBufferPointer { hs in
        for b in 0..<count {
          y[b] = p.forward(xs.baseAddress! + b * k, hidden: hs.baseAddress! + b * pw)
          let e = Double(y[b] - target[b])
          sum += e * e
        }
      }
    }
    return sum / Double(count)
  }

  /// The output for sample `b` after `forward`.
  public func output(_ b: Int) -> Scalar {
    precondition(b < count)
    return y[b]
  }

  /// (4')–(1') for the batch `forward` last ran on; overwrites `gradient`.
  public func backward(_ p: MLPParameters<Scalar>, into gradient: inout MLPParameters<Scalar>) {
    precondition(gradient.inputSize == inputSize && gradient.width == width && count > 0)
    let k = inputSize
    let w = width
    let pw = paddedWidth
    let oW1 = p.range(.weight1).lowerBound
    let oB1 = p.range(.bias1).lowerBound
    let oW2 = p.range(.weight2).lowerBound
    let oB2 = p.range(.bias2).lowerBound
    let twoOverN = Scalar(2) / Scalar(count)
    for i in gradient.values.indices { gradient.values[i] = 0 }
    gradient.values.withUnsafeMutableBufferPointer { gb in
      let g = gb.baseAddress!
      p.values.withUnsafeBufferPointer { pb in
        let v = pb.baseAddress!
        for b in 0..<count {
          let dy = twoOverN * (y[b] - target[b])  // (4')
          g[oB2] += dy  // (3')
          for i in 0..<w {
            let h = hidden[b * pw + i]
            g[oW2 + i] += dy * h
            let da = dy * v[oW2 + i] * (1 - h * h)  // (2')
            g[oB1 + i] += da  // (1')
            for j in 0..<k { g[oW1 + i * k + j] += da * x[b * k + j] }
          }
        }
      }
    }
  }
}

// MARK: - Generation

/// The baseline as a sequence generator, in float32 like the runtime.
///
/// - sequence-max-scale: scale = max(1, max |seed|); the working history is seed / scale; each step predicts from the
///   last k normalised values, appends the normalised prediction and outputs it × scale (the notebook's
///   `generate_sequence` with the MLP in place of the cell: the scale is fixed by the seed). A seed shorter than k is
///   left-padded with its first value (a constant prefix: the least informative history that keeps the encoding's
///   units; zero padding would invent a jump from 0 that no training window contains).
/// - window-differences: exactly the runtime's encoding: the last k differences of the last k + 1 known values,
///   left-padded with zeros, divided by s = max |d| (1 if all zero); predicts last + s · y.
public struct MLPGenerator: SequenceGenerator, Sendable {
  public var parameters: MLPParameters<Float>
  public var encoding: Encoding

  public init(parameters: MLPParameters<Float>, encoding: Encoding) {
    self.parameters = parameters
    self.encoding = encoding
  }

  public func continuation(of seed: [Double], count: Int) -> [Double] {
    precondition(!seed.isEmpty, "seed must hold at least one value")
    let k = parameters.inputSize
    var out: [Double] = []
    out.reserveCapacity(count)
    var input = [Float](repeating: 0, count: k)
    switch encoding {
    case .sequenceMaxScale, .identity, .standardize, .standardizeDifferences:
      let scale = encoding == .identity ? 1 : max(1, seed.map { abs($0) }.max()!)
      var history = seed.map { Float($0 / scale) }
      if history.count < k {
        history = [Float](repeating: history[0], count: k - history.count) + history
      }
      for _ in 0..<count {
        for j in 0..<k { input[j] = history[history.count - k + j] }
        let y = parameters.predict(input)
        history.append(y)
        out.append(Double(y) * scale)
      }
    case .windowDifferences:
      var history = seed.suffix(k + 1).map { Float($0) }
      for _ in 0..<count {
        let differences = history.count - 1
        for j in 0..<k { input[j] = 0 }
        for i in 0..<differences { input[k - differences + i] = history[i + 1] - history[i] }
        let scale = input.withUnsafeMutableBufferPointer { WindowDifferences.normalise($0) }
        let next = history[history.count - 1] + scale * parameters.predict(input)
        out.append(Double(next))
        history.append(next)
        if history.count > k + 1 { history.removeFirst() }
      }
    }
    return out
  }
}

// MARK: - Speed

/// The same float32 network in the runtime's layout, for a like-for-like speed comparison with the RNN cell: W1
/// stored column by column in SIMD8 blocks, so the first layer is "broadcast x[j], multiply-add column j" with no
/// horizontal sums until the readout. Same arithmetic as `MLPParameters.forward` up to summation order.
public final class MLPKernel {
  public let inputSize: Int
  public let blocks: Int
  private let columns: UnsafeMutablePointer<SIMD8<Float>>  // [k][blocks]: column j = W1[:, j], zero-padded
  private let bias: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
  private let readout: UnsafeMutablePointer<SIMD8<Float>>  // [blocks]
  private let readoutBias: Float

  public init(_ p: MLPParameters<Float>) {
    inputSize = p.inputSize
    blocks = p.paddedWidth / 8
    let k = p.inputSize
    columns = .allocate(capacity: k * blocks)
    columns.initialize(repeating: SIMD8(), count: k * blocks)
    bias = .allocate(capacity: blocks)
    bias.initialize(repeating: SIMD8(), count: blocks)
    readout = .allocate(capacity: blocks)
    readout.initialize(repeating: SIMD8(), count: blocks)
    for i in 0..<p.width {
      for j in 0..<k { columns[j * blocks + i / 8][i % 8] = p.values[p.range(.weight1).lowerBound + i * k + j] }
      bias[i / 8][i % 8] = p.values[p.range(.bias1).lowerBound + i]
      readout[i / 8][i % 8] = p.values[p.range(.weight2).lowerBound + i]
    }
    readoutBias = p.values[p.range(.bias2).lowerBound]
  }

  deinit {
    columns.deallocate()
    bias.deallocate()
    readout.deallocate()
  }

  /// One prediction from `x` [k]. Handles up to 4 blocks (W ≤ 32) in registers; wider networks loop over blocks.
  @inline(__always)
  public func predict(_ x: UnsafePointer<Float>) -> Float {
    var sum = SIMD8<Float>()
    // CellSupport's broadcastAccumulate over one window, inline on purpose: this is the timed kernel, its sums in
    // registers rather than in lane rows.
    for b in 0..<blocks {
      var a = bias[b]
      var column = columns + b
      for j in 0..<inputSize {
        a += SIMD8(repeating: x[j]) * column.pointee
        column += blocks
      }
      sum += Float.tanh8(a) * readout[b]
    }
    return horizontalSum(sum) + readoutBias
  }
}

extension MLPParameters where Scalar == Float {
  /// Median wall-clock nanoseconds per prediction: `repetitions` timed passes over `batch` fixed input windows
  /// (deterministic values in [-1, 1]), the median pass divided by `batch`. `simd` selects `MLPKernel.predict`
  /// instead of the plain loop `forward`. Measured in-process; for printing only.
  public func medianNanosecondsPerPrediction(simd: Bool = false, repetitions: Int = 51, batch: Int = 2048) -> Double {
    let k = inputSize
    let inputs = (0..<(batch * k)).map { Float(Foundation.sin(Double($0) * 0.7)) }
    let hidden = UnsafeMutablePointer<Float>.allocate(capacity: paddedWidth)
    defer { hidden.deallocate() }
    let kernel = MLPKernel(self)
    var sink: Float = 0
    var perPass: [Double] = []
    inputs.withUnsafeBufferPointer { xs in
      let base = xs.baseAddress!
      for _ in 0..<(repetitions + 1) {
        let start = ContinuousClock.now
        if simd {
          for b in 0..<batch { sink += kernel.predict(base + b * k) }
        } else {
          for b in 0..<batch { sink += forward(base + b * k, hidden: hidden) }
        }
        let elapsed = ContinuousClock.now - start
        let (seconds, attoseconds) = elapsed.components
        perPass.append(Double(seconds) * 1e9 + Double(attoseconds) * 1e-9)
      }
    }
    perPass.removeFirst()  // warm-up
    // Keep `sink` observable so the loop cannot be optimised away.
    if sink.isNaN { perPass.append(.infinity) }
    return GSLStatistics.summary(perPass).median / Double(batch)
  }
}
