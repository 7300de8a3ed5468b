// Format version 6, the forecasting model: a linear term inside the model and stored forecast intervals. Exact round
// trips, the reader's checks of every new field, and the predictor against an independent float64 reference of
// SequencePredictor's documented function (the linear base over clamped lags, plus the network's decoded residual).

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

/// A forecasting model: GRU, I = O = `columns`, standardize-differences, a linear term of `order`, intervals for two
/// horizons at three probabilities.
func forecastingModel(columns: Int = 2, order: Int = 3, context: Int = 4, seed: UInt64 = 6) -> ModelFile {
  let a = Architecture(kind: .gru, layers: 1, inputSize: columns, hiddenSize: 3, outputSize: columns)
  var file = randomModel(a, seed: seed, encoding: .standardizeDifferences, context: context)
  var rng = TestRandom(seed &+ 100)
  file.linearTerm = LinearTerm(
    order: order, weight: (0..<(columns * order * columns)).map { _ in rng.uniform(-0.6, 0.6) },
    bias: (0..<columns).map { _ in rng.uniform(-1, 1) })
  var quantiles: [Float] = []
  for _ in 0..<(2 * columns) {
    let low = rng.uniform(-2, -0.5)
    quantiles += [low, low + rng.uniform(0, 1), low + 1 + rng.uniform(0, 2)]
  }
  file.intervals = ForecastIntervals(probabilities: [0.1, 0.5, 0.9], quantiles: quantiles, horizons: 2)
  return file
}

@Suite struct ForecastModelFileTests {
  static let file = forecastingModel()

  @Test func version6RoundTripIsExact() throws {
    let bytes = Self.file.encoded()
    #expect(bytes[8] == 6, "a linear term or intervals need version 6")
    let decoded = try ModelFile(bytes: bytes)
    #expect(decoded.linearTerm == Self.file.linearTerm)
    #expect(decoded.intervals == Self.file.intervals)
    #expect(decoded.normalization == Self.file.normalization)
    #expect(decoded.tensorValues == Self.file.tensorValues)
    #expect(decoded.encoded() == bytes)
    #expect(
      decoded.fileTable.suffix(4).map { $0.name(.gru) } == [
        "linear.weight", "linear.bias", "interval.probabilities", "interval.quantiles",
      ])
    #expect(decoded.fileTable.suffix(4).map(\.id) == [14, 15, 160, 161])
    // Either part alone is version 6 too; neither is version 3, as before.
    var linearOnly = Self.file
    linearOnly.intervals = nil
    #expect(try ModelFile(bytes: linearOnly.encoded()).linearTerm == Self.file.linearTerm)
    #expect(linearOnly.encoded()[8] == 6)
    var plain = Self.file
    (plain.linearTerm, plain.intervals) = (nil, nil)
    #expect(plain.encoded()[8] == 3)
  }

  @Test func version6FieldsAreChecked() {
    let bytes = Self.file.encoded()
    func error(_ offset: Int, _ value: UInt64) -> ModelFileError? {
      decodeError(patched(bytes, at: offset, value, width: 4))
    }
    // Orders, horizons and quantile counts out of range, each at its header offset.
    for (offset, value) in [(184, 257), (188, 1025), (192, 1), (192, 256)] as [(Int, UInt64)] {
      let e = error(offset, value)
      #expect(e?.kind == .badForecast && e?.offset == offset, "\(offset) = \(value): \(String(describing: e))")
    }
    // Neither part: version 6 says nothing, refused.
    var neither = patched(bytes, at: 184, 0, width: 4)
    neither = patched(neither, at: 188, 0, width: 4)
    neither = patched(neither, at: 192, 0, width: 4)
    #expect(decodeError(neither)?.kind == .badForecast)
    // A different order: the tensor count and shapes no longer match the directory.
    #expect(error(184, 2)?.kind == .badTensorDirectory)
    // Version 6 is for the standardised encodings only.
    let identity = error(44, UInt64(Encoding.identity.rawValue))
    #expect(identity?.kind == .unsupportedEncoding && identity?.offset == 44)
    // Probabilities must rise strictly inside (0, 1); quantiles must not fall within a row.
    let table = Self.file.fileTable
    let decoded = try! ModelFile(bytes: bytes)
    let directory = ModelFormat.directoryStart(
      version: 6, chainLength: decoded.architecture.chainLength, metadataLength: 0)
    func tensorOffset(_ id: UInt32) -> Int {
      for i in 0..<table.count where table[i].id == id {
        let entry = directory + 32 * i
        return Int(bytes[entry + 16]) | Int(bytes[entry + 17]) << 8 | Int(bytes[entry + 18]) << 16
      }
      fatalError("no tensor \(id)")
    }
    let probabilities = tensorOffset(160)
    for (k, bad) in [(0, Float(0)), (1, Float(0.1)), (2, Float(1))] {
      let e = decodeError(patched(bytes, at: probabilities + 4 * k, UInt64(bad.bitPattern), width: 4))
      #expect(e?.kind == .badForecast && e?.offset == probabilities + 4 * k, "probability \(k) = \(bad)")
    }
    let quantiles = tensorOffset(161)
    let falling = decodeError(patched(bytes, at: quantiles + 4, UInt64(Float(-100).bitPattern), width: 4))
    #expect(falling?.kind == .badForecast && falling?.offset == quantiles + 4)
    // The first quantile of the next row may be anything (rows are independent).
    #expect(decodeError(patched(bytes, at: quantiles + 12, UInt64(Float(-100).bitPattern), width: 4)) == nil)
  }

  @Test("tensor ids are unique for 1 to 8 layers of every kind with every version-6 tensor (an 8-layer file loads)")
  func tensorIdsAreUnique() throws {
    for kind in CellKind.allCases {
      for layers in 1...Architecture.maxLayers {
        var file = forecastingModel()
        file.architecture = Architecture(kind: kind, layers: layers, inputSize: 2, hiddenSize: 2, outputSize: 2)
        let table = file.fileTable
        #expect(Set(table.map(\.id)).count == table.count, "\(kind.name) × \(layers)")
      }
    }
    let deep = Architecture(kind: .lstm, layers: 8, inputSize: 2, hiddenSize: 2, outputSize: 2)
    var file = randomModel(deep, seed: 3, encoding: .standardizeDifferences)
    (file.linearTerm, file.intervals) = (Self.file.linearTerm, Self.file.intervals)
    #expect(try ModelFile(bytes: file.encoded()).intervals == Self.file.intervals)
  }

  @Test("version 6 carries no metadata and no sample rate: both refused at their offsets")
  func noMetadataInVersion6() {
    let bytes = Self.file.encoded()
    let rate = decodeError(patched(bytes, at: 176, UInt64(Float(48000).bitPattern), width: 4))
    #expect(rate?.kind == .badMetadata && rate?.offset == 176, "\(String(describing: rate))")
    let metadata = decodeError(patched(bytes, at: 180, 4, width: 4))
    #expect(metadata != nil)
  }

  @Test func quantilesAreLinearBetweenStoredProbabilities() throws {
    let i = ForecastIntervals(probabilities: [0.1, 0.5, 0.9], quantiles: [-2, 0, 4, 1, 1, 1], horizons: 1)
    #expect(i.quantile(0.1, horizon: 1, output: 0, outputs: 2) == -2)
    #expect(abs(i.quantile(0.3, horizon: 1, output: 0, outputs: 2)! + 1) < 1e-6)
    #expect(abs(i.quantile(0.8, horizon: 1, output: 0, outputs: 2)! - 3) < 1e-6)
    #expect(i.quantile(0.9, horizon: 1, output: 0, outputs: 2) == 4)
    #expect(i.quantile(0.7, horizon: 1, output: 1, outputs: 2) == 1)
    #expect(i.quantile(0.05, horizon: 1, output: 0, outputs: 2) == nil)
    #expect(i.quantile(0.5, horizon: 2, output: 0, outputs: 2) == nil)
  }
}

@Suite struct LinearTermPredictorTests {
  /// SequencePredictor's standardised prediction with a linear term, in float64 from the documented equations.
  static func reference(_ file: ModelFile, history: [[Float]]) -> [Double] {
    let (k, I) = (file.contextLength, file.inputSize)
    let n = file.normalization!
    let t = history.count - 1
    var stack = ReferenceStack(file)
    var y: [Double] = []
    for s in max(0, t - k + 1)...t {
      let x = (0..<I).map { c -> Double in
        let u = s == 0 ? 0 : Double(history[s][c]) - Double(history[s - 1][c])
        return (u - Double(n.inputShift[c])) / Double(n.inputScale[c])
      }
      y = stack.step(x)
    }
    let term = file.linearTerm!
    return (0..<file.outputSize).map { o in
      var base = Double(term.bias[o])
      for lag in 1...term.order {
        let row = history[max(t + 1 - lag, 0)]
        for c in 0..<I { base += Double(term.weight[o * term.order * I + (lag - 1) * I + c]) * Double(row[c]) }
      }
      return base + Double(n.outputShift[o]) + Double(n.outputScale[o]) * y[o]
    }
  }

  @Test(arguments: [(1, 1), (1, 9), (2, 3), (2, 7)])
  func streamingMatchesTheReference(columns: Int, order: Int) throws {
    // Orders below and above the context + 1 (= 5): the history keeps max(k + 1, p) steps.
    let file = forecastingModel(columns: columns, order: order, context: 4, seed: UInt64(10 * columns + order))
    let model = try RecurrentModel(bytes: file.encoded())
    let predictor = SequencePredictor(model: model)
    var rng = TestRandom(9)
    var history: [[Float]] = []
    var prediction = [Float](repeating: 0, count: columns)
    var worst = 0.0
    for _ in 0..<30 {
      let step = (0..<columns).map { _ in rng.uniform(-3, 3) }
      history.append(step)
      predictor.observe(step, into: &prediction)
      let expected = Self.reference(file, history: history)
      for o in 0..<columns { worst = max(worst, relativeError(Double(prediction[o]), expected[o], floor: 1)) }
    }
    #expect(worst < 1e-5, "largest relative error \(worst)")
  }

  @Test func generationFeedsForecastsBackThroughTheLinearTerm() throws {
    let file = forecastingModel(columns: 1, order: 9, context: 4, seed: 3)
    let model = try RecurrentModel(bytes: file.encoded())
    let predictor = SequencePredictor(model: model)
    var rng = TestRandom(4)
    var history: [[Float]] = (0..<12).map { _ in [rng.uniform(-2, 2)] }
    predictor.begin(steps: history.flatMap { $0 }, count: history.count)
    var out = [Float](repeating: 0, count: 6)
    predictor.generate(steps: 6, into: &out)
    for h in 0..<6 {
      let expected = Self.reference(file, history: history)[0]
      #expect(relativeError(Double(out[h]), expected, floor: 1) < 1e-5, "step \(h + 1)")
      history.append([out[h]])  // the reference continues from the runtime's own forecast, as generation does
    }
  }

  @Test func aZeroReadoutIsExactlyTheLinearTerm() throws {
    var file = forecastingModel(columns: 1, order: 4, context: 4, seed: 8)
    file.setTensor(.fcWeight, to: [0, 0, 0])
    file.setTensor(.fcBias, to: [0])
    file.normalization!.outputShift = [0]
    let model = try RecurrentModel(bytes: file.encoded())
    let predictor = SequencePredictor(model: model)
    let values: [Float] = [3, -1, 2.5, 7, 0.25, -4, 1]
    var lags = [Float](repeating: 0, count: 4)
    var base: Float = 0
    for (t, v) in values.enumerated() {
      let p = predictor.observe(v)
      for lag in 1...4 { lags[lag - 1] = values[max(t + 1 - lag, 0)] }
      file.linearTerm!.apply(lags: lags, inputSize: 1, into: &base)
      #expect(p == base, "step \(t)")  // bit for bit: 0 + 0 · y adds nothing
    }
  }
}
