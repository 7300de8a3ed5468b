// Zero heap allocations per step, counted on the calling thread by the test-only MallocCounter target.
// Run in both `swift test` and `swift test -c release` (tools/test does both).

import MallocCounter
import RecurRuntime
import RecurTestSupport
import Testing

@Suite(
  .enabled(
    if: recur_allocation_counter_available(),
    "the malloc counter needs glibc and no --sanitize (MallocCounter.c)"))
struct AllocationTests {
  /// Warms up (first calls allocate runtime metadata), then counts the allocations of `body`.
  func allocations(_ body: () -> Void) -> UInt64 {
    body()
    let before = recur_thread_allocation_count()
    body()
    return recur_thread_allocation_count() - before  // read before #expect, which allocates
  }

  @Test(arguments: [1, 16, 32, 33, 256])
  func stepGenerateAndStreamDoNotAllocate(hidden: Int) {
    for encoding in [Encoding.sequenceMaxScale, .windowDifferences] {
      let model = RecurrentModel(randomModel(hidden: hidden, seed: 3, encoding: encoding, context: 6))
      let predictor = SequencePredictor(model: model)
      let cell = predictor.cell
      let seed = UnsafeMutableBufferPointer<Float>.allocate(capacity: 6)
      let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: 1000)
      defer {
        seed.deallocate()
        out.deallocate()
      }
      for i in 0..<6 { seed[i] = Float(2 * i + 1) }
      var sink: Float = 0
      let count = allocations {
        cell.reset()
        for i in 0..<1000 { sink += cell.step(Float(i % 7) * 0.1) }
        cell.prime(UnsafeBufferPointer(seed))
        predictor.begin(seed: UnsafeBufferPointer(seed))
        for _ in 0..<5 { predictor.generate(into: out) }
        predictor.reset()
        for i in 0..<1000 { sink += predictor.observe(Float(i)) }
      }
      #expect(count == 0, "H=\(hidden) \(encoding): \(count) allocations (sink \(sink))")
    }
  }

  /// A mixture readout (format version 4): streaming and generation of every kind, 33 experts.
  @Test(arguments: CellKind.allCases)
  func aMixtureReadoutDoesNotAllocate(kind: CellKind) {
    let model = RecurrentModel(randomMixture(kind: kind, hidden: 16, experts: 33, order: 2, context: 4, seed: 2))
    let predictor = SequencePredictor(model: model)
    let seed = UnsafeMutableBufferPointer<Float>.allocate(capacity: 5)
    let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: 100)
    defer {
      seed.deallocate()
      out.deallocate()
    }
    for i in 0..<5 { seed[i] = Float(3 * i + 1) }
    var sink: Float = 0
    let count = allocations {
      predictor.begin(seed: UnsafeBufferPointer(seed))
      for _ in 0..<5 { predictor.generate(into: out) }
      predictor.reset()
      for i in 0..<500 { sink += predictor.observe(Float(i % 17)) }
    }
    #expect(count == 0, "\(kind) mixture: \(count) allocations (sink \(sink))")
  }

  /// Every kind and depth, several inputs and outputs: step, readout, free-running generation and streaming.
  @Test(arguments: CellKind.allCases)
  func everyKindAndDepthStepsWithoutAllocating(kind: CellKind) {
    for layers in [1, 3] {
      for (inputs, hidden) in [(1, 16), (3, 33)] {
        let a = Architecture(kind: kind, layers: layers, inputSize: inputs, hiddenSize: hidden, outputSize: inputs)
        let model = RecurrentModel(randomModel(a, seed: 9))
        let predictor = SequencePredictor(model: model)
        let cell = predictor.cell
        let x = UnsafeMutablePointer<Float>.allocate(capacity: 3)
        let y = UnsafeMutablePointer<Float>.allocate(capacity: 3 * 100)
        defer {
          x.deallocate()
          y.deallocate()
        }
        x.initialize(repeating: 0.25, count: 3)
        var sink: Float = 0
        let count = allocations {
          cell.reset()
          for _ in 0..<500 {
            cell.step(x, into: y)
            sink += y[0]
          }
          if inputs == 1 { sink += cell.step(0.5) }
          predictor.begin(steps: x, count: 1)
          predictor.generate(steps: 100, into: y)
          predictor.observe(x, into: y)
          sink += y[0]
        }
        #expect(count == 0, "\(kind) L=\(layers) I=\(inputs): \(count) allocations (sink \(sink))")
      }
    }
  }

  /// A chain (format version 5: dense layers, skip, learned initial states): step, reset, streaming, a BatchCell.
  @Test(arguments: CellKind.allCases)
  func aChainStepsWithoutAllocating(kind: CellKind) {
    let model = RecurrentModel(chainModel(kind, hidden: 12))
    let predictor = SequencePredictor(model: model)
    let cell = predictor.cell
    let batch = BatchCell(model: model, streams: 16)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 3)
    let y = UnsafeMutablePointer<Float>.allocate(capacity: 16 * 2)
    let active = UnsafeMutablePointer<Bool>.allocate(capacity: 16)
    defer {
      x.deallocate()
      y.deallocate()
      active.deallocate()
    }
    x.initialize(repeating: 0.25, count: 16 * 3)
    active.initialize(repeating: true, count: 16)
    active[3] = false
    var sink: Float = 0
    let count = allocations {
      cell.reset()
      for _ in 0..<500 {
        cell.step(x, into: y)
        sink += y[0]
      }
      predictor.observe(x, into: y)
      batch.reset()
      batch.reset(stream: 5)
      for _ in 0..<50 {
        batch.step(UnsafeBufferPointer(start: x, count: 48), into: UnsafeMutableBufferPointer(start: y, count: 32))
        batch.step(x, into: y, active: active)
      }
      sink += y[0]
    }
    #expect(count == 0, "\(kind) chain: \(count) allocations (sink \(sink))")
  }

  /// The standardised encodings (`recur-train fit` models): windowed streaming and generation, one and two columns.
  @Test(arguments: [Encoding.standardize, .standardizeDifferences])
  func standardizedPredictorsDoNotAllocate(encoding: Encoding) {
    for (inputs, linearOrder) in [(1, 0), (2, 0), (1, 9), (2, 3)] {
      let a = Architecture(kind: .gru, layers: 2, inputSize: inputs, hiddenSize: 16, outputSize: inputs)
      var file = randomModel(a, seed: 4, encoding: encoding, context: 6)
      if linearOrder > 0 {  // a linear term (format version 6), longer than the context when 9
        file.linearTerm = LinearTerm(
          order: linearOrder, weight: .init(repeating: 0.1, count: inputs * linearOrder * inputs),
          bias: .init(repeating: 0.5, count: inputs))
      }
      let predictor = SequencePredictor(model: RecurrentModel(file))
      let x = UnsafeMutablePointer<Float>.allocate(capacity: 2)
      let y = UnsafeMutablePointer<Float>.allocate(capacity: 2 * 50)
      let seed = UnsafeMutablePointer<Float>.allocate(capacity: 8)
      defer {
        x.deallocate()
        y.deallocate()
        seed.deallocate()
      }
      x.initialize(repeating: 0.5, count: 2)
      seed.initialize(repeating: 1.5, count: 8)
      var sink: Float = 0
      predictor.observe(x, into: y)  // warm up
      let count = allocations {
        for i in 0..<300 {
          x[0] = Float(i)
          predictor.observe(x, into: y)
          sink += y[0]
        }
        predictor.begin(steps: seed, count: 4 / inputs)
        predictor.record(steps: seed, count: 4 / inputs)  // `recur forecast`'s way of reading a history
        predictor.generate(steps: 50, into: y)
        if inputs == 1 { sink += predictor.observe(2) }
        sink += y[0]
      }
      #expect(count == 0, "\(encoding) I=\(inputs) p=\(linearOrder): \(count) allocations (sink \(sink))")
    }
  }

  @Test(arguments: CellKind.allCases)
  func batchStepDoesNotAllocate(kind: CellKind) {
    for (layers, inputs) in [(1, 1), (2, 3)] {
      let a = Architecture(kind: kind, layers: layers, inputSize: inputs, hiddenSize: 32, outputSize: inputs)
      let batch = BatchCell(model: RecurrentModel(randomModel(a, seed: 2)), streams: 64)
      let x = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64 * inputs)
      let y = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64 * inputs)
      let active = UnsafeMutableBufferPointer<Bool>.allocate(capacity: 64)
      defer {
        x.deallocate()
        y.deallocate()
        active.deallocate()
      }
      x.initialize(repeating: 0.5)
      for s in 0..<64 { active[s] = s % 3 == 0 }
      let count = allocations {
        for _ in 0..<100 { batch.step(UnsafeBufferPointer(x), into: y) }
        batch.step(x.baseAddress!, into: y.baseAddress!, active: active.baseAddress!)
        batch.reset(stream: 3)
        batch.reset()
      }
      #expect(count == 0, "\(kind) L=\(layers) I=\(inputs): \(count) allocations")
    }
  }

  @Test func counterSeesAllocations() {
    // The counter must be able to fail: an Array growth is counted.
    let count = allocations {
      var a: [Int] = []
      for i in 0..<100 { a.append(i) }
      precondition(a.count == 100)
    }
    #expect(count > 0)
  }
}
