// Fuzz harness: the model loader (`ModelFile(_:)`, format versions 1 to 6, every cell kind, encoding, readout and
// chain).
//
// Contract checked on every input, as given and again with its length field (header offset 16) and CRC-32 (last
// four bytes) fixed up, so that mutations get past the framing and the checksum to the checks behind them:
//   refused:  a `ModelFileError` whose offset lies inside the input (0...count) and whose description is
//             "byte <offset>: <message>" with a non-empty message;
//   accepted: the file is at most `ModelFormat.maxFileSize` bytes; every size is within the format's limits and the
//             file is large enough for header, directory, tensors and checksum; every tensor has its table size and
//             only finite values; normalisation scales are positive; (v6) interval probabilities rise and quantile
//             rows do not fall; no statistic is infinite; the writer's bytes
//             load back to the same model bit for bit and re-encode identically; and when the input has the
//             writer's version and directory, it is the writer's bytes exactly (no byte is ignored by the reader);
//             the runtime builds the model and steps it (a cell step and a stream prediction) without a fault;
//   and read in place (`RecurrentModel(inPlace:)`, from a 64-byte-aligned copy): refused with the same error, or
//   accepted and stepped the same way.

import RecurRuntime

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@_cdecl("LLVMFuzzerInitialize")
public func fuzzInitialize(
  _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>
) -> Int32 {
  if let directory = seedDirectoryRequested() {
    writeLoaderSeeds(directory)
    exit(0)
  }
  return 0
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzLoader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  let raw = UnsafeRawBufferPointer(start: size == 0 ? nil : data, count: size)
  checkLoad(raw)
  if size >= 28 {
    var fixed = Array(raw)
    for i in 0..<8 { fixed[16 + i] = UInt8(truncatingIfNeeded: UInt64(size) >> (8 * UInt64(i))) }
    let crc = fixed.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(size - 4)])) }
    for i in 0..<4 { fixed[size - 4 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    if !fixed.elementsEqual(raw) { fixed.withUnsafeBytes { checkLoad($0) } }
  }
  return 0
}

func u32(_ bytes: UnsafeRawBufferPointer, _ at: Int) -> UInt32 {
  UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: at, as: UInt32.self))
}

func checkLoad(_ raw: UnsafeRawBufferPointer) {
  // The same bytes at a 64-byte boundary, for the in-place load (as a firmware's flash array).
  let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: max(raw.count, 1), alignment: 64)
  defer { aligned.deallocate() }
  if raw.count > 0 { aligned.copyMemory(from: raw) }
  let inPlaceBytes = UnsafeRawBufferPointer(rebasing: aligned[0..<raw.count])
  let file: ModelFile
  do {
    file = try ModelFile(raw)
  } catch {
    require(
      error.offset >= 0 && error.offset <= raw.count, "error offset \(error.offset) outside 0...\(raw.count): \(error)")
    require(!error.message.isEmpty, "empty error message")
    require(error.description == "byte \(error.offset): \(error.message)", "description \(error.description)")
    do {
      _ = try RecurrentModel(inPlace: inPlaceBytes)
      require(false, "read in place, accepted what the reader refused: \(error)")
    } catch let inPlace {
      require(
        inPlace.kind == error.kind && inPlace.description == error.description,
        "read in place, refused as \(inPlace), not as \(error)")
    }
    return
  }
  let a = file.architecture
  require(raw.count <= ModelFormat.maxFileSize, "accepted a \(raw.count)-byte file")
  require(a.isWithinLimits, "accepted sizes out of bounds: \(a.summary)")
  require((1...ModelFormat.maxContextLength).contains(file.contextLength), "context \(file.contextLength)")
  require(file.encoding.supports(inputSize: a.inputSize, outputSize: a.outputSize), "encoding \(file.encoding)")
  require(file.encoding.isStandardized == (file.normalization != nil), "normalisation presence")
  let tensors = file.tensors
  let table = file.fileTable
  require(tensors.count == table.count, "tensor count \(tensors.count) vs table \(table.count)")
  var needed = ModelFormat.headerSize + table.count * ModelFormat.directoryEntrySize + ModelFormat.checksumSize
  for (spec, values) in tensors {
    require(values.count == spec.count, "tensor \(spec.name(a.kind)) has \(values.count) values, not \(spec.count)")
    require(values.allSatisfy { $0.isFinite }, "tensor \(spec.name(a.kind)) holds a non-finite value")
    if spec.role == .inputScale || spec.role == .outputScale {
      require(values.allSatisfy { $0 > 0 }, "non-positive scale in \(spec.name(a.kind))")
    }
    needed += 4 * values.count
  }
  require(needed <= raw.count, "accepted \(raw.count) bytes for a model that needs \(needed)")
  if let i = file.intervals {  // version 6: probabilities rise inside (0, 1), each row of quantiles does not fall
    let p = i.probabilities
    require(p.allSatisfy { $0 > 0 && $0 < 1 } && zip(p, p.dropFirst()).allSatisfy { $0 < $1 }, "probabilities")
    for row in stride(from: 0, to: i.quantiles.count, by: p.count) {
      let q = i.quantiles[row..<(row + p.count)]
      require(zip(q, q.dropFirst()).allSatisfy { $0 <= $1 }, "interval quantiles fall in the row at \(row)")
    }
  }
  require((file.linearTerm?.order ?? 0) <= LinearTerm.maxOrder, "linear order")
  require(!file.validation.floats.contains { $0.isInfinite }, "infinite statistic accepted")

  // Round trip through the writer.
  let canonical = file.encoded()
  let again: ModelFile
  do { again = try ModelFile(bytes: canonical) } catch {
    require(false, "the writer's bytes of an accepted model are refused: \(error)")
    return
  }
  require(
    again.architecture == a && again.contextLength == file.contextLength && again.encoding == file.encoding,
    "round trip changed the header")
  require(again.provenance == file.provenance, "round trip changed the provenance")
  require(
    again.metadata == file.metadata && again.sampleRate.bitPattern == file.sampleRate.bitPattern,
    "round trip changed the metadata or the sample rate")
  require(again.validation.floats.map(\.bitPattern) == file.validation.floats.map(\.bitPattern), "statistics changed")
  require(
    again.validation.windows == file.validation.windows && again.validation.seeds == file.validation.seeds,
    "statistic counts changed")
  for (x, y) in zip(again.tensors, tensors) {
    require(x.values.map(\.bitPattern) == y.values.map(\.bitPattern), "round trip changed \(x.spec.name(a.kind))")
  }
  require(again.encoded() == canonical, "re-encoding is not a fixed point")
  let metadataLength = file.metadata.reduce(0) { $0 + $1.key.utf8.count + $1.value.utf8.count + 2 }
  let directoryEnd =
    ModelFormat.directoryStart(
      version: file.formatVersion, chainLength: a.chainLength, metadataLength: metadataLength)
    + table.count * ModelFormat.directoryEntrySize
  if raw.count == canonical.count && u32(raw, 8) == file.formatVersion
    && canonical.withUnsafeBytes({ c in
      (ModelFormat.headerSize..<directoryEnd).allSatisfy { raw[$0] == c[$0] }
    })
  {
    let firstDifference = (0..<raw.count).first { raw[$0] != canonical[$0] }
    require(firstDifference == nil, "accepted a file that differs from the writer's at byte \(firstDifference ?? -1)")
  }

  // The runtime runs what the reader accepted.
  let model = RecurrentModel(file)
  let cell = RecurrentCell(model: model)
  var x = [Float](repeating: 0.5, count: a.inputSize)
  var y = [Float](repeating: 0, count: a.readoutSize)  // the cell's readout: a mixture's logits
  for _ in 0..<2 { cell.step(&x, into: &y) }
  if file.contextLength <= 64 {
    let predictor = SequencePredictor(model: model)
    for k in 0..<3 {
      for i in 0..<a.inputSize { x[i] = Float(k + i) }
      predictor.observe(&x, into: &y)
    }
  }

  // The same model read in place (RecurrentModel(inPlace:)) loads and steps too.
  do {
    let inPlace = try RecurrentModel(inPlace: inPlaceBytes)
    require(inPlace.readsInPlace && inPlace.architecture == a, "read in place: another model")
    let inPlaceCell = RecurrentCell(model: inPlace)
    for _ in 0..<2 { inPlaceCell.step(&x, into: &y) }
    if file.contextLength <= 64 {
      let predictor = SequencePredictor(model: inPlace)
      for _ in 0..<3 { predictor.observe(&x, into: &y) }
    }
  } catch {
    require(false, "read in place, refused what the reader accepted: \(error)")
  }
}

// MARK: - Seeds: every version, cell kind, encoding, 1 and 2 layers, one and several channels.

func writeLoaderSeeds(_ directory: String) {
  var random = SeedRandom(state: 7)
  func model(_ a: Architecture, _ encoding: Encoding, context: Int = 4) -> ModelFile {
    var file = ModelFile(
      architecture: a, contextLength: context, encoding: encoding, tensors: a.tensors.map { random.values($0.count) })
    if encoding.isStandardized {
      file.normalization = Normalization(
        inputShift: random.values(a.inputSize), inputScale: random.values(a.inputSize).map { abs($0) + 0.1 },
        outputShift: random.values(a.outputSize), outputScale: random.values(a.outputSize).map { abs($0) + 0.1 })
    }
    file.provenance.family = "fuzz-seed"
    file.provenance.epochs = 3
    file.validation.windowMSE = 0.125
    return file
  }
  var seeds: [(String, ModelFile)] = [
    ("v1-rnn-h3-scale", model(Architecture(hiddenSize: 3), .sequenceMaxScale)),
    ("v1-rnn-h5-wdiff", model(Architecture(hiddenSize: 5), .windowDifferences, context: 3)),
  ]
  for kind in CellKind.allCases {
    for layers in [1, 2] {
      seeds.append(
        (
          "v2-\(kind.name)-l\(layers)-i1-o1",
          model(Architecture(kind: kind, layers: layers, inputSize: 1, hiddenSize: 3, outputSize: 1), .identity)
        ))
      seeds.append(
        (
          "v2-\(kind.name)-l\(layers)-i3-o2",
          model(Architecture(kind: kind, layers: layers, inputSize: 3, hiddenSize: 2, outputSize: 2), .identity)
        ))
    }
    seeds.append(
      (
        "v3-\(kind.name)-standardize",
        model(Architecture(kind: kind, inputSize: 2, hiddenSize: 3, outputSize: 1), .standardize)
      ))
    seeds.append(
      (
        "v3-\(kind.name)-standardize-differences",
        model(Architecture(kind: kind, inputSize: 2, hiddenSize: 2, outputSize: 2), .standardizeDifferences)
      ))
  }
  for kind in CellKind.allCases {
    // Format version 4: a mixture readout of 3 experts of order 2.
    seeds.append(
      (
        "v4-\(kind.name)-mixture",
        model(Architecture(kind: kind, hiddenSize: 3, experts: 3, expertOrder: 2), .windowDifferences)
      ))
  }
  for kind in CellKind.allCases {
    // Format version 5: a chain with every piece (dense layers, readout activation, skip, learned states, metadata).
    var a = Architecture(kind: kind, layers: 2, inputSize: 2, hiddenSize: 3, outputSize: 2)
    a.inputLayers = [DenseLayer(inputs: 2, outputs: 3, activation: .tanh)]
    a.outputLayers = [DenseLayer(inputs: 4, outputs: 2, activation: .softmax)]
    a.readoutActivation = .elu
    a.inputSkip = 1
    a.learnedInitialState = true
    var chain = ModelFile(
      architecture: a, contextLength: 1, encoding: .identity, tensors: a.tensors.map { random.values($0.count) })
    chain.sampleRate = 48000
    chain.metadata = [MetadataEntry("name", "fuzz seed"), MetadataEntry("esr", "0.01")]
    seeds.append(("v5-\(kind.name)-chain", chain))
  }
  for kind in CellKind.allCases {
    // Format version 6: a forecasting model with a linear term of order 3 and intervals for 2 horizons.
    var file = model(Architecture(kind: kind, inputSize: 2, hiddenSize: 3, outputSize: 2), .standardizeDifferences)
    file.linearTerm = LinearTerm(order: 3, weight: random.values(12), bias: random.values(2))
    file.intervals = ForecastIntervals(
      probabilities: [0.1, 0.5, 0.9], quantiles: (0..<4).flatMap { _ in random.values(3).sorted() }, horizons: 2)
    seeds.append(("v6-\(kind.name)-forecast", file))
  }
  for (name, file) in seeds { writeSeed(file.encoded(), directory, name + ".recur") }
}
