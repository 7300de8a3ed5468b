// Serialising a `ModelFile`: the canonical layout of ModelFormat.md (tensors in table order, each at the next 64-byte
// boundary, the CRC-32 right after the last one), in the lowest format version that describes the model.

extension ModelFile {
  /// Byte offset of each tensor in the canonical layout, and the total file length.
  static func canonicalLayout(_ table: [TensorSpec]) -> (offsets: [Int], length: Int) {
    var cursor = ModelFormat.headerSize + table.count * ModelFormat.directoryEntrySize
    var offsets: [Int] = []
    for spec in table {
      cursor = roundUp(cursor, ModelFormat.tensorAlignment)
      offsets.append(cursor)
      cursor += spec.count * 4
    }
    return (offsets, cursor + ModelFormat.checksumSize)
  }

  /// The format version `encoded()` writes.
  public var formatVersion: UInt32 { ModelFormat.version(for: architecture, encoding: encoding) }

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
    let allValues = tensorValues + (normalization?.vectors ?? [])
    let (offsets, length) = Self.canonicalLayout(table)
    var out = [UInt8](repeating: 0, count: length)
    func put32(_ value: UInt32, _ at: Int) {
      for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    func put64(_ value: UInt64, _ at: Int) {
      for i in 0..<8 { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    func putF(_ value: Float, _ at: Int) { put32(value.bitPattern, at) }
    let version = formatVersion
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
    let family = Array(provenance.family.utf8.prefix(F.familyNameCapacity - 1))
    for (i, b) in family.enumerated() { out[F.offFamily + i] = b }
    for (index, spec) in table.enumerated() {
      let values = allValues[index]
      precondition(values.count == spec.count, "tensor \(spec.name(architecture.kind)) has the wrong size")
      let entry = F.headerSize + index * F.directoryEntrySize
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
