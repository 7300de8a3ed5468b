// The C API (recur.h): thin `@_cdecl` functions over `RecurrentModel` and `SequencePredictor`, the same code the
// desktop `recur` runs. Built only as Embedded Swift, in one module with Sources/RecurRuntime, by tools/firmware
// (which archives it as librecur.a with recur_memory.c); not a SwiftPM target, because a desktop C caller would also
// need the Swift runtime libraries, which this session did not package (docs/bare-metal.md).
//
// Handles: a `recur_model *` is a retained `CModel`, a `recur_stream *` a retained `CStream` that lives, with
// every buffer of its predictor and cell, inside the caller's memory (recur_memory.c explains how).

/// A loaded model and the caller memory one of its streams needs.
final class CModel {
  let model: RecurrentModel
  /// recur_stream_size: measured by creating and destroying one stream on the heap at load.
  var streamBytes = 0

  init(_ model: RecurrentModel) { self.model = model }
}

/// One stream: the model's encoding around a cell (`SequencePredictor`), and whether a generation was begun.
final class CStream {
  let owner: CModel
  let predictor: SequencePredictor
  let memoryStart: UnsafeMutableRawPointer?
  let memoryBytes: Int
  var generating = false

  init(_ owner: CModel, memory: UnsafeMutableRawPointer?, bytes: Int) {
    self.owner = owner
    predictor = SequencePredictor(model: owner.model)
    memoryStart = memory
    memoryBytes = bytes
  }
}

@inline(__always)
private func model(_ handle: OpaquePointer) -> CModel {
  Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(handle)).takeUnretainedValue()
}

/// Runs `body` on the stream behind `handle` without retaining it (the step calls: a retain and a release per
/// sample cost 79 emulated instructions of odd's 2,214-instruction step on the Cortex-M4F).
@inline(__always)
private func withStream<R>(_ handle: OpaquePointer, _ body: (CStream) -> R) -> R {
  Unmanaged<CStream>.fromOpaque(UnsafeRawPointer(handle))._withUnsafeGuaranteedRef(body)
}

// MARK: Errors

/// recur.h's recur_refusal for each check of the reader (the same order as `ModelFileError.Kind`).
private func refusal(_ kind: ModelFileError.Kind) -> Int32 {
  switch kind {
  case .tooLarge: 1
  case .truncated: 2
  case .badMagic: 3
  case .unsupportedVersion: 4
  case .badHeader: 5
  case .trailingBytes: 6
  case .unsupportedCellKind: 7
  case .badSize: 8
  case .unsupportedEncoding: 9
  case .badTensorDirectory: 10
  case .badPadding: 11
  case .checksumMismatch: 12
  case .nonFiniteWeight: 13
  case .badMetadata: 14
  case .badChain: 15
  case .badForecast: 16
  case .misaligned: 17
  }
}

/// Fills `error` (when given): the refusal, the offset, and `text` NUL-terminated, cut before a UTF-8 lead byte with
/// "..." when it does not fit.
private func report(
  _ error: UnsafeMutablePointer<recur_error>?, refusal: Int32, offset: Int32, _ text: String
) {
  guard let error else { return }
  error.pointee.refusal = refusal
  error.pointee.offset = offset
  withUnsafeMutableBytes(of: &error.pointee.message) { buffer in  // [RECUR_MESSAGE_CAPACITY] bytes
    let capacity = buffer.count
    var copy = text
    copy.withUTF8 { utf8 in
      var n = utf8.count
      if n > capacity - 1 {
        n = capacity - 4
        while n > 0 && utf8[n] & 0xC0 == 0x80 { n -= 1 }  // never split a character
        for i in 0..<3 { buffer[n + i] = UInt8(ascii: ".") }
        for i in 0..<n { buffer[i] = utf8[i] }
        buffer[n + 3] = 0
        return
      }
      for i in 0..<n { buffer[i] = utf8[i] }
      buffer[n] = 0
    }
  }
}

// MARK: Models

// The two loads are two C symbols with one signature (recur.h); both are `load` below.
@_cdecl("recur_model_load")
public func recurModelLoad(
  _ bytes: UnsafeRawPointer?, _ count: Int, _ handle: UnsafeMutablePointer<OpaquePointer?>?,
  _ failure: UnsafeMutablePointer<recur_error>?
) -> recur_status {
  load(bytes, count, handle, failure, inPlace: false, "recur_model_load")
}

@_cdecl("recur_model_load_in_place")
public func recurModelLoadInPlace(
  _ bytes: UnsafeRawPointer?, _ count: Int, _ handle: UnsafeMutablePointer<OpaquePointer?>?,
  _ failure: UnsafeMutablePointer<recur_error>?
) -> recur_status {
  load(bytes, count, handle, failure, inPlace: true, "recur_model_load_in_place")
}

private func load(
  _ bytes: UnsafeRawPointer?, _ count: Int, _ handle: UnsafeMutablePointer<OpaquePointer?>?,
  _ failure: UnsafeMutablePointer<recur_error>?, inPlace: Bool, _ name: StaticString
) -> recur_status {
  guard let handle else {
    report(failure, refusal: 0, offset: -1, "\(name): the model pointer is NULL")
    return RECUR_ERROR_ARGUMENT
  }
  handle.pointee = nil
  guard let bytes else {
    report(failure, refusal: 0, offset: -1, "\(name): the bytes are NULL")
    return RECUR_ERROR_ARGUMENT
  }
  let loaded: RecurrentModel
  do {
    let range = UnsafeRawBufferPointer(start: bytes, count: count)
    loaded =
      inPlace
      ? try RecurrentModel(inPlace: range, cpu: .microcontroller)
      : try RecurrentModel(bytes: range, retainingTensors: false, cpu: .microcontroller)
  } catch {
    report(failure, refusal: refusal(error.kind), offset: Int32(clamping: error.offset), error.description)
    return RECUR_ERROR_MODEL
  }
  let owner = CModel(loaded)
  // One stream on the heap, measured, then gone: every later stream makes the same allocations.
  recur_memory_measure()
  do { _ = CStream(owner, memory: nil, bytes: 0) }
  owner.streamBytes = recur_memory_measured()
  recur_memory_use_heap()
  handle.pointee = OpaquePointer(Unmanaged.passRetained(owner).toOpaque())
  report(failure, refusal: 0, offset: -1, "")
  return RECUR_OK
}

@_cdecl("recur_model_destroy")
public func recurModelDestroy(_ handle: OpaquePointer?) {
  guard let handle else { return }
  Unmanaged<CModel>.fromOpaque(UnsafeRawPointer(handle)).release()
}

@_cdecl("recur_model_input_size")
public func recurModelInputSize(_ handle: OpaquePointer) -> Int { model(handle).model.inputSize }

@_cdecl("recur_model_output_size")
public func recurModelOutputSize(_ handle: OpaquePointer) -> Int { model(handle).model.outputSize }

@_cdecl("recur_model_readout_size")
public func recurModelReadoutSize(_ handle: OpaquePointer) -> Int { model(handle).model.readoutSize }

@_cdecl("recur_model_sample_rate")
public func recurModelSampleRate(_ handle: OpaquePointer) -> Double { Double(model(handle).model.file.sampleRate) }

// MARK: Streams

@_cdecl("recur_stream_size")
public func recurStreamSize(_ handle: OpaquePointer) -> Int { model(handle).streamBytes }

@_cdecl("recur_stream_create")
public func recurStreamCreate(
  _ modelHandle: OpaquePointer?, _ memory: UnsafeMutableRawPointer?, _ bytes: Int,
  _ handle: UnsafeMutablePointer<OpaquePointer?>?
) -> recur_status {
  guard let handle else { return RECUR_ERROR_ARGUMENT }
  handle.pointee = nil
  guard let modelHandle, let memory else { return RECUR_ERROR_ARGUMENT }
  let owner = model(modelHandle)
  guard bytes >= owner.streamBytes else { return RECUR_ERROR_MEMORY }
  recur_memory_use_region(memory, bytes)
  let created = CStream(owner, memory: memory, bytes: bytes)
  handle.pointee = OpaquePointer(Unmanaged.passRetained(created).toOpaque())
  recur_memory_use_heap()
  return RECUR_OK
}

@_cdecl("recur_stream_destroy")
public func recurStreamDestroy(_ handle: OpaquePointer?) {
  guard let handle else { return }
  let s = Unmanaged<CStream>.fromOpaque(UnsafeRawPointer(handle))
  // Frees inside the stream's memory are ignored while it goes; the model's, if this was its last holder, are not.
  let (start, bytes) = s._withUnsafeGuaranteedRef { ($0.memoryStart, $0.memoryBytes) }
  recur_memory_use_region(start, bytes)
  s.release()
  recur_memory_use_heap()
}

@_cdecl("recur_stream_reset")
public func recurStreamReset(_ handle: OpaquePointer) {
  withStream(handle) { s in
    s.generating = false
    s.predictor.reset()
  }
}

@_cdecl("recur_stream_step")
public func recurStreamStep(
  _ handle: OpaquePointer, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>
) {
  withStream(handle) { s in
    s.generating = false
    s.predictor.observe(input, into: output)
  }
}

@_cdecl("recur_stream_process")
public func recurStreamProcess(
  _ handle: OpaquePointer, _ input: UnsafePointer<Float>, _ output: UnsafeMutablePointer<Float>, _ steps: Int
) {
  withStream(handle) { s in
    s.generating = false
    let p = s.predictor
    let (I, O) = (p.model.inputSize, p.model.outputSize)
    for t in 0..<steps { p.observe(input + t * I, into: output + t * O) }
  }
}

@_cdecl("recur_stream_step_cell")
public func recurStreamStepCell(
  _ handle: OpaquePointer, _ input: UnsafePointer<Float>, _ readout: UnsafeMutablePointer<Float>
) {
  withStream(handle) { s in
    s.generating = false
    s.predictor.cell.step(input, into: readout)
  }
}

@_cdecl("recur_stream_generate")
public func recurStreamGenerate(
  _ handle: OpaquePointer?, _ seed: UnsafePointer<Float>?, _ seedSteps: Int, _ output: UnsafeMutablePointer<Float>?,
  _ steps: Int
) -> recur_status {
  guard let handle, seedSteps == 0 || seed != nil, steps == 0 || output != nil else { return RECUR_ERROR_ARGUMENT }
  return withStream(handle) { s in generate(s, seed, seedSteps, output, steps) }
}

private func generate(
  _ s: CStream, _ seed: UnsafePointer<Float>?, _ seedSteps: Int, _ output: UnsafeMutablePointer<Float>?, _ steps: Int
) -> recur_status {
  let p = s.predictor
  let n = p.model.inputSize
  guard p.model.outputSize == n else { return RECUR_ERROR_ARGUMENT }
  if let seed, seedSteps > 0 {
    // One value per step: the univariate path `recur generate` takes; wider steps: the general one.
    if n == 1 {
      p.begin(seed: UnsafeBufferPointer(start: seed, count: seedSteps))
    } else {
      p.begin(steps: seed, count: seedSteps)
    }
    s.generating = true
  }
  guard s.generating else { return RECUR_ERROR_ARGUMENT }
  guard let output, steps > 0 else { return RECUR_OK }
  if n == 1 {
    p.generate(into: UnsafeMutableBufferPointer(start: output, count: steps))
  } else {
    p.generate(steps: steps, into: output)
  }
  return RECUR_OK
}
