// Serialising a `ModelFile`: the canonical layout of ModelFormat.md (tensors in table order, each at the next 64-byte
// boundary, the CRC-32 right after the last one), in the lowest format version that describes the model.

extension ModelFile {
  /// Byte offset of each tensor in the canonical layout, and the total file length.
  static func canonicalLayout(_ table: [TensorSpec], directoryStart: Int = ModelFormat.headerSize) -> (
    offsets: [Int], length: Int
  ) {
    var cursor = directoryStart + table.count * ModelFormat.directoryEntrySize
    var offsets: [Int] = []
    for spec in table {
      cursor = roundUp(cursor, ModelFormat.tensorAlignment)
      offsets.append(cursor)
      cursor += spec.count * 4
    }
    return (offsets, cursor + ModelFormat.checksumSize)
  }

  /// The format version `encoded()` writes.
  /// Metadata and a sample rate travel in version 5 only, which has the identity encoding: other models' writers
  /// (version 6 included) leave them out.
  public var formatVersion: UInt32 {
    if linearTerm != nil || intervals != nil { return 6 }
    let described = !metadata.isEmpty || sampleRate != 0
    return described && encoding == .identity && !architecture.isMixture
      ? 5 : ModelFormat.version(for: architecture, encoding: encoding)
  }

  /// Version 5's metadata block: the entries as `key=value` lines.
  var metadataBytes: [UInt8] { Array(metadata.map { "\($0.key)=\($0.value)\n" }.joined().utf8) }

  /// Serialises the model. Precondition: the tensors match the table (`init` checks it; the writer is fed by the
  /// trainer and the importer, which validate their input).
  public func encoded() -> [UInt8] {
    typealias F = ModelFormat
    let table = fileTable
    precondition(tensorValues.count == architecture.tensors.count, "tensor count does not match the architecture")
    precondition(
      encoding.isStandardized == (normalization != nil),
      "the standardised encodings, and only they, need a Normalization")
    precondition(
      !architecture.isMixture
        || (encoding == .windowDifferences && architecture.isWithinLimits
          && architecture.expertOrder <= contextLength),
      "a mixture of experts reads window-differences inputs, at most the context length of them")
    let version = formatVersion
    precondition(
      version < 5
        || ((version == 6 ? encoding.isStandardized && !architecture.isChain : encoding == .identity)
          && architecture.isWithinLimits
          && metadata.allSatisfy { $0.isStorable } && metadataBytes.count <= F.maxMetadataSize && sampleRate.isFinite
          && sampleRate >= 0),
      "a chain (format version 5) has the identity encoding, a forecasting model (6) a standardised one, sizes that "
        + "meet and storable metadata")
    if let linearTerm {
      precondition(
        linearTerm.bias.count == architecture.outputSize
          && linearTerm.weight.count == architecture.outputSize * linearTerm.order * architecture.inputSize,
        "the linear term has [O][p·I] weights and O biases")
    }
    if let intervals {
      precondition(
        intervals.horizons <= ForecastIntervals.maxHorizons
          && intervals.probabilities.count <= ForecastIntervals.maxQuantiles
          && intervals.quantiles.count == intervals.horizons * architecture.outputSize * intervals.probabilities.count,
        "the interval table has [H][O][Q] quantiles")
    }
    let allValues = tensorValues + (normalization?.vectors ?? []) + forecastValues
    precondition(
      table.indices.allSatisfy { i in !table[..<i].contains { $0.id == table[i].id } }, "tensor ids are unique")
    let metadataBlock = version == 5 ? metadataBytes : []  // (dropped with the sample rate outside version 5)
    let directoryStart = F.directoryStart(
      version: version, chainLength: architecture.chainLength, metadataLength: metadataBlock.count)
    let (offsets, length) = Self.canonicalLayout(table, directoryStart: directoryStart)
    var out = [UInt8](repeating: 0, count: length)
    func put32(_ value: UInt32, _ at: Int) {
      for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    func put64(_ value: UInt64, _ at: Int) {
      for i in 0..<8 { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    func putF(_ value: Float, _ at: Int) { put32(value.bitPattern, at) }
    for (i, b) in F.magic.enumerated() { out[i] = b }
    put32(version, F.offVersion)
    put32(UInt32(F.headerSize), F.offHeaderSize)
    put64(UInt64(length), F.offFileLength)
    put32(architecture.kind.rawValue, F.offCellKind)
    put32(UInt32(architecture.inputSize), F.offInputSize)
    put32(UInt32(architecture.hiddenSize), F.offHiddenSize)
    put32(UInt32(architecture.outputSize), F.offOutputSize)
    put32(UInt32(contextLength), F.offContextLength)
    put32(encoding.rawValue, F.offEncoding)
    put32(UInt32(table.count), F.offTensorCount)
    put64(provenance.seed, F.offSeed)
    put32(provenance.epochs, F.offEpochs)
    put32(provenance.batchSize, F.offBatchSize)
    put32(provenance.trainingSequences, F.offSequences)
    putF(provenance.learningRate, F.offLearningRate)
    putF(provenance.finalLoss, F.offFinalLoss)
    put32(validation.windows, F.offValWindows)
    put32(validation.seeds, F.offValSeeds)
    for (i, s) in validation.floats.enumerated() { putF(s, F.offValMSE + 4 * i) }
    if version >= 2 { put32(UInt32(architecture.layers), F.offLayers) }
    if version >= 4 {
      put32(UInt32(architecture.experts), F.offExperts)
      put32(UInt32(architecture.expertOrder), F.offExpertOrder)
    }
    if version >= 5 {
      let a = architecture
      put32(UInt32(a.chainLength), F.offChainLength)
      put32(UInt32(a.inputSkip), F.offInputSkip)
      putF(version == 5 ? sampleRate : 0, F.offSampleRate)
      put32(UInt32(metadataBlock.count), F.offMetadataLength)
      var entry = F.headerSize
      func putEntry(_ type: UInt32, _ inputs: Int, _ outputs: Int, _ flags: UInt32) {
        put32(type, entry)
        put32(UInt32(inputs), entry + 4)
        put32(UInt32(outputs), entry + 8)
        put32(flags, entry + 12)
        entry += F.chainEntrySize
      }
      for d in a.inputLayers { putEntry(F.denseLayerType, d.inputs, d.outputs, d.activation.rawValue) }
      for k in 0..<a.layers {
        putEntry(
          a.kind.rawValue, k == 0 ? a.cellInputSize : a.hiddenSize, a.hiddenSize,
          a.learnedInitialState ? F.learnedStateFlag : 0)
      }
      putEntry(F.denseLayerType, a.hiddenSize, a.fcRows, a.readoutActivation.rawValue)
      for d in a.outputLayers { putEntry(F.denseLayerType, d.inputs, d.outputs, d.activation.rawValue) }
      for (i, b) in metadataBlock.enumerated() { out[entry + i] = b }
    }
    if version >= 6 {
      put32(UInt32(linearTerm?.order ?? 0), F.offLinearOrder)
      put32(UInt32(intervals?.horizons ?? 0), F.offIntervalHorizons)
      put32(UInt32(intervals?.probabilities.count ?? 0), F.offIntervalQuantiles)
    }
    let family = Array(provenance.family.utf8.prefix(F.familyNameCapacity - 1))
    for (i, b) in family.enumerated() { out[F.offFamily + i] = b }
    for (index, spec) in table.enumerated() {
      let values = allValues[index]
      precondition(values.count == spec.count, "tensor \(spec.name(architecture.kind)) has the wrong size")
      let entry = directoryStart + index * F.directoryEntrySize
      put32(spec.id, entry)
      put32(1, entry + 4)  // dtype 1 = float32, little-endian
      put32(UInt32(spec.rows), entry + 8)
      put32(UInt32(spec.cols), entry + 12)
      put64(UInt64(offsets[index]), entry + 16)
      put64(UInt64(spec.count * 4), entry + 24)
      for (k, v) in values.enumerated() { putF(v, offsets[index] + 4 * k) }
    }
    let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(length - 4)])) }
    put32(crc, length - 4)
    return out
  }
}

@inline(__always) func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }
