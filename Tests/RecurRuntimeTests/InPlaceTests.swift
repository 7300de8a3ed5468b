// `RecurrentModel(inPlace:)`: the recurrent layers read their weights in the model's bytes (the firmware's flash
// load, recur.h's recur_model_load_in_place). Checked against the float64 reference (ReferenceStack), against the
// copying load, for the same refusals, and for zero allocations per step. (On the device, tools/firmware also checks
// the two loads bit for bit: there both sum in one chain.)

import Foundation
import MallocCounter
import RecurRuntime
import RecurTestSupport
import Testing

/// The bytes of `file` in memory of their own (64-byte aligned, as a firmware's flash array), alive for `body`.
func withBytesInPlace<R>(
  of bytes: [UInt8], offset: Int = 0, _ body: (UnsafeRawBufferPointer) throws -> R
) rethrows -> R {
  let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count + offset, alignment: 64)
  defer { memory.deallocate() }
  for (i, b) in bytes.enumerated() { memory[offset + i] = b }
  return try body(UnsafeRawBufferPointer(rebasing: memory[offset...]))
}

func loadInPlace(_ raw: UnsafeRawBufferPointer) throws(ModelFileError) -> RecurrentModel {
  try RecurrentModel(inPlace: raw)
}

/// The error of reading `raw` in place, or nil when it loads.
func inPlaceRefusal(_ raw: UnsafeRawBufferPointer) -> ModelFileError? {
  do throws(ModelFileError) {
    _ = try loadInPlace(raw)
    return nil
  } catch { return error }
}

@Suite struct InPlaceTests {
  /// Every kind, one and three inputs, one and two layers, H with and without a partial last vector: each step's
  /// outputs within 1e-5 (relative, floor 1) of the float64 reference, over 300 steps.
  @Test(arguments: CellKind.allCases, [1, 3])
  func stepsMatchTheFloat64Reference(kind: CellKind, inputs: Int) throws {
    for (layers, hidden) in [(1, 16), (2, 13), (1, 5)] {
      let file = randomModel(
        Architecture(kind: kind, layers: layers, inputSize: inputs, hiddenSize: hidden, outputSize: 2), seed: 21,
        gain: 1.3)
      try withBytesInPlace(of: file.encoded()) { raw in
        let model = try loadInPlace(raw)
        #expect(model.readsInPlace && model.file.tensorValues.isEmpty)
        let cell = RecurrentCell(model: model)
        var reference = ReferenceStack(file)
        var worst = 0.0
        var x = [Float](repeating: 0, count: inputs)
        var y = [Float](repeating: 0, count: 2)
        for t in 0..<300 {
          for i in 0..<inputs { x[i] = Float(((t * 7 + i * 3) % 19) - 9) / 6 }
          cell.step(x, into: &y)
          let expected = reference.step(x.map(Double.init))
          for o in 0..<2 { worst = max(worst, relativeError(Double(y[o]), expected[o], floor: 1)) }
        }
        #expect(worst < 1e-5, "\(kind) I=\(inputs) layers=\(layers) H=\(hidden): worst \(worst)")
      }
    }
  }

  /// A format-5 chain of every piece (dense layers around the stack, learned initial states, a readout with an
  /// activation, the skip): the copying load's answers within 1e-5, and its generation too.
  @Test(arguments: CellKind.allCases)
  func aChainMatchesTheCopyingLoad(kind: CellKind) throws {
    let file = chainModel(kind)
    let bytes = file.encoded()
    let copied = RecurrentCell(model: try RecurrentModel(bytes: bytes, cpu: .microcontroller))
    try withBytesInPlace(of: bytes) { raw in
      let cell = RecurrentCell(model: try loadInPlace(raw))
      let (I, O) = (file.architecture.inputSize, file.architecture.outputSize)
      var x = [Float](repeating: 0, count: I)
      var (a, b) = ([Float](repeating: 0, count: O), [Float](repeating: 0, count: O))
      var worst = 0.0
      for t in 0..<200 {
        for i in 0..<I { x[i] = Float(((t * 5 + i) % 13) - 6) / 4 }
        cell.step(x, into: &a)
        copied.step(x, into: &b)
        for o in 0..<O { worst = max(worst, relativeError(Double(a[o]), Double(b[o]), floor: 1)) }
      }
      #expect(worst < 1e-5, "\(kind): worst \(worst)")
    }
  }

  /// Free-running generation of the built-in models (folded feedback on the copying load, a plain step loop in
  /// place): the same continuation within 1e-5.
  @Test(arguments: ["odd", "fib", "odd-ext"])
  func generationMatchesTheCopyingLoad(name: String) throws {
    let bytes = try readFixture("models/\(name).recur")
    let copied = SequencePredictor(model: try RecurrentModel(bytes: bytes, cpu: .microcontroller))
    try withBytesInPlace(of: bytes) { raw in
      let predictor = SequencePredictor(model: try loadInPlace(raw))
      let seed: [Float] = [3, 5, 7, 9]
      var (a, b) = ([Float](repeating: 0, count: 40), [Float](repeating: 0, count: 40))
      seed.withUnsafeBufferPointer {
        predictor.begin(seed: $0)
        copied.begin(seed: $0)
      }
      a.withUnsafeMutableBufferPointer { predictor.generate(into: $0) }
      b.withUnsafeMutableBufferPointer { copied.generate(into: $0) }
      for i in 0..<40 { #expect(relativeError(Double(a[i]), Double(b[i]), floor: 1) < 1e-5, "\(name) step \(i)") }
    }
  }

  /// Every deliberately broken file is refused in place with the copying load's error (kind, offset, text): the
  /// same validation, though no weight is copied.
  @Test func brokenFilesAreRefusedAsByTheCopyingLoad() throws {
    let table = try readFixtureText("broken/expected.tsv").split(separator: "\n")
    #expect(table.count >= 20)
    for row in table {
      let name = String(row.split(separator: "\t")[0])
      let bytes = try readFixture("broken/\(name)")
      var copying: ModelFileError? = nil
      do { _ = try RecurrentModel(bytes: bytes) } catch { copying = error }
      let inPlace = withBytesInPlace(of: bytes) { inPlaceRefusal($0) }
      #expect(copying != nil, "\(name)")
      #expect(inPlace?.kind == copying?.kind && inPlace?.description == copying?.description, "\(name)")
    }
  }

  /// Bytes that do not start at a multiple of 4 are refused (`misaligned`, offset 0) before anything is read.
  @Test func misalignedBytesAreRefused() throws {
    let bytes = try readFixture("models/odd.recur")
    for offset in [1, 2, 3] {
      let error = withBytesInPlace(of: bytes, offset: offset) { inPlaceRefusal($0) }
      #expect(error?.kind == .misaligned && error?.offset == 0, "offset \(offset)")
    }
    #expect(withBytesInPlace(of: bytes, offset: 4) { raw in (try? loadInPlace(raw)) != nil })
  }

  /// No allocation per step, stream or generation, of a two-layer GRU and LSTM read in place.
  @Test(
    .enabled(if: recur_allocation_counter_available(), "the malloc counter needs glibc and no --sanitize"),
    arguments: [CellKind.gru, .lstm])
  func stepsDoNotAllocate(kind: CellKind) throws {
    let file = randomModel(
      Architecture(kind: kind, layers: 2, hiddenSize: 12), seed: 4, encoding: .windowDifferences, context: 5)
    try withBytesInPlace(of: file.encoded()) { raw in
      let predictor = SequencePredictor(model: try loadInPlace(raw))
      let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64)
      defer { out.deallocate() }
      var sink: Float = 0
      let run = {
        predictor.reset()
        for i in 0..<300 { sink += predictor.observe(Float(i % 9)) }
        predictor.generate(into: out)
      }
      run()
      let before = recur_thread_allocation_count()
      run()
      let count = recur_thread_allocation_count() - before
      #expect(count == 0, "\(kind): \(count) allocations (sink \(sink))")
    }
  }
}

func readFixture(_ relative: String) throws -> [UInt8] {
  [UInt8](try Data(contentsOf: URL(fileURLWithPath: fixturePath(relative))))
}

func readFixtureText(_ relative: String) throws -> String { String(decoding: try readFixture(relative), as: UTF8.self) }
