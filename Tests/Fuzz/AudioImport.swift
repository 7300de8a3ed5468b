// Fuzz harness: `recur-train import` of the audio formats (`ModelImport.modelFile(json:)`: GuitarML, RTNeural Keras /
// AIDA-X, NAM LSTM, and PyTorch state dicts, over the strict JSON reader; tools/RecurTrainer/Import).
//
// Input: the file's text. Seeds: Fixtures/imports (one model of every format and shape).
// Contract:
//   - refused: one line of printable text (an `importFailed`; no control character);
//   - accepted: sizes within the format's limits and the chain's sizes meeting; every tensor of the table present,
//     of its size and finite; the model file written and read back gives the same architecture, metadata and
//     tensors bit for bit; the runtime loads it and steps it 16 times (outputs may overflow to infinity for hostile
//     weights, but nothing traps).

import RecurRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAudioImport(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard let data else { return 0 }
  let bytes = Array(UnsafeBufferPointer(start: data, count: size))
  let file: ModelFile
  do {
    file = try ModelImport.modelFile(json: bytes, window: 4).file
  } catch {
    let m: String
    switch error {
    case .importFailed(let text), .invalidOption(let text): m = text
    default:
      require(false, "unexpected error kind: \(error)")
      return 0
    }
    require(
      !m.isEmpty && !m.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
      "import error is not one line of printable text: \(m)")
    return 0
  }
  let a = file.architecture
  require(a.isWithinLimits, "imported sizes out of bounds: \(a.summary)")
  for (spec, values) in file.tensors {
    require(values.count == spec.count && values.allSatisfy { $0.isFinite }, "tensor \(spec.name(a.kind))")
  }
  let loaded: ModelFile
  do {
    loaded = try ModelFile(bytes: file.encoded())
  } catch {
    require(false, "the runtime refuses the imported model's file: \(error)")
    return 0
  }
  require(loaded.architecture == a && loaded.metadata == file.metadata, "file round trip changed the model")
  require(loaded.sampleRate.bitPattern == file.sampleRate.bitPattern, "file round trip changed the sample rate")
  for (x, y) in zip(loaded.tensors, file.tensors) {
    require(x.values.map(\.bitPattern) == y.values.map(\.bitPattern), "file bytes changed \(x.spec.name(a.kind))")
  }
  let cell = RecurrentCell(model: RecurrentModel(loaded))
  var x = [Float](repeating: 0.5, count: a.inputSize)
  var y = [Float](repeating: 0, count: max(a.readoutSize, 1))
  for t in 0..<16 {
    x[0] = t % 2 == 0 ? 0.5 : -1
    x.withUnsafeBufferPointer { cell.step($0.baseAddress!, into: &y) }
  }
  return 0
}
