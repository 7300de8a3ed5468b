// The hardened `.recur` reader, format versions 1 to 6.
//
// Every length in a file is attacker-controlled: the reader checks each count and offset with overflow-safe
// arithmetic against the real byte count before it reads the bytes behind it, refuses header sizes whose tensors
// could not fit in the file before it allocates anything, and reports the first problem with its byte offset.
// Steps: (1) identity and framing, (2) header fields and (version 5) the chain table and metadata, (3) tensor
// directory against the tensor table, (4) zero padding, (5) checksum, (6) finite tensor values.

extension ModelFile {
  /// Parses and validates a model file. Never reads outside `bytes`; allocates only the validated tensors.
  public init(bytes: [UInt8]) throws(ModelFileError) {
    // `withUnsafeBytes` is untyped-rethrows: carry the typed error out in a Result.
    let parsed = bytes.withUnsafeBytes { raw in Result { () throws(ModelFileError) in try ModelFile(raw) } }
    self = try parsed.get()
  }

  public init(_ raw: UnsafeRawBufferPointer) throws(ModelFileError) {
    try self.init(raw, keepingWeights: true)
  }

  /// Parses and validates a model file as `init(_:)` does, every weight included. With `keepingWeights: false` the
  /// trainable tensors are checked (finite) but not copied: `tensorValues` stays empty and `tensorOffsets` says where
  /// each one lies in `raw`, for a model that reads its weights in place (`RecurrentModel(inPlace:)`).
  public init(_ raw: UnsafeRawBufferPointer, keepingWeights: Bool) throws(ModelFileError) {
    typealias F = ModelFormat
    let count = raw.count
    if count > F.maxFileSize {
      throw ModelFileError(
        .tooLarge, at: F.maxFileSize, "file is \(count) bytes; no valid model exceeds \(F.maxFileSize)")
    }
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    func u64(_ at: Int) -> UInt64 { UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt64.self)) }
    func f32(_ at: Int) -> Float { Float(bitPattern: u32(at)) }

    // 1. Identity and framing.
    for i in 0..<F.magic.count {
      guard i < count else {
        throw ModelFileError(.truncated, at: count, "file ends inside the magic (\(count) bytes)")
      }
      guard raw[i] == F.magic[i] else {
        throw ModelFileError(.badMagic, at: i, "not a Recur model file (bad magic; expected \"RECURNN\\x1A\")")
      }
    }
    guard count >= F.offHeaderSize + 4 else {
      throw ModelFileError(.truncated, at: count, "file ends inside the header (\(count) of \(F.headerSize) bytes)")
    }
    let version = u32(F.offVersion)
    guard F.versions.contains(version) else {
      throw ModelFileError(
        .unsupportedVersion, at: F.offVersion,
        "format version \(version) is not supported (this reader reads 1 to 6)")
    }
    guard u32(F.offHeaderSize) == UInt32(F.headerSize) else {
      throw ModelFileError(
        .badHeader, at: F.offHeaderSize, "header size \(u32(F.offHeaderSize)) is not \(F.headerSize)")
    }
    guard count >= F.headerSize else {
      throw ModelFileError(.truncated, at: count, "file ends inside the header (\(count) of \(F.headerSize) bytes)")
    }
    let declared = u64(F.offFileLength)
    if declared < UInt64(count) {
      throw ModelFileError(
        .trailingBytes, at: Int(declared), "\(UInt64(count) - declared) unexpected bytes after the declared end")
    }
    if declared > UInt64(count) {
      throw ModelFileError(
        .truncated, at: count, "file is truncated: header declares \(declared) bytes, found \(count)")
    }

    // 2. Header fields. Version 1 describes one vanilla layer with input and output 1; version 2 the rest.
    let v1 = version == 1
    let kindCode = u32(F.offCellKind)
    guard let kind = CellKind(rawValue: kindCode), !v1 || kind == .rnn else {
      throw ModelFileError(
        .unsupportedCellKind, at: F.offCellKind,
        v1
          ? "cell kind \(kindCode) is not supported by format version 1 (1 = vanilla tanh)"
          : "cell kind \(kindCode) is not supported (1 = vanilla tanh, 2 = GRU, 3 = LSTM)")
    }
    let layers = v1 ? 1 : u32(F.offLayers)
    if v1 && u32(F.offLayers) != 0 {
      throw ModelFileError(.badHeader, at: F.offLayers, "reserved header bytes are not zero")
    }
    guard layers >= 1 && layers <= UInt32(Architecture.maxLayers) else {
      throw ModelFileError(
        .badSize, at: F.offLayers, "layer count \(layers) is out of range 1...\(Architecture.maxLayers)")
    }
    func size(_ at: Int, _ what: String, _ limit: Int) throws(ModelFileError) -> Int {
      let value = u32(at)
      let maximum = v1 && at != F.offHiddenSize ? 1 : limit
      guard value >= 1 && value <= UInt32(maximum) else {
        throw ModelFileError(
          .badSize, at: at,
          maximum == 1
            ? "\(what) \(value) is not supported by format version 1 (must be 1)"
            : "\(what) \(value) is out of range 1...\(maximum)")
      }
      return Int(value)
    }
    let inputSize = try size(F.offInputSize, "input size", Architecture.maxInputSize)
    let hidden = try size(F.offHiddenSize, "hidden size", Architecture.maxHiddenSize)
    let outputSize = try size(F.offOutputSize, "output size", Architecture.maxOutputSize)
    let context = u32(F.offContextLength)
    guard context >= 1 && context <= UInt32(F.maxContextLength) else {
      throw ModelFileError(
        .badSize, at: F.offContextLength, "context length \(context) is out of range 1...\(F.maxContextLength)")
    }
    let encodingCode = u32(F.offEncoding)
    guard let encoding = Encoding(rawValue: encodingCode), F.allows(encoding, version: version) else {
      let known = Encoding.allCases.filter { F.allows($0, version: version) }
      throw ModelFileError(
        .unsupportedEncoding, at: F.offEncoding,
        "encoding \(encodingCode) is not supported by format version \(version) ("
          + known.map { "\($0.rawValue) = \($0.name)" }.joined(separator: ", ") + ")")
    }
    guard encoding.supports(inputSize: inputSize, outputSize: outputSize) else {
      throw ModelFileError(
        .unsupportedEncoding, at: F.offEncoding,
        encoding == .standardizeDifferences
          ? "encoding \(encoding.name) needs input size = output size (found \(inputSize) and \(outputSize))"
          : "encoding \(encoding.name) needs input and output size 1 (found \(inputSize) and \(outputSize))")
    }
    if (version == 3 || version == 6) && !encoding.isStandardized {
      throw ModelFileError(
        .unsupportedEncoding, at: F.offEncoding,
        "format version \(version) is for the standardised encodings; \(encoding.name) is written as version "
          + (version == 3 ? "1 or 2" : "2 or 5"))
    }
    // Version 4: the mixture readout (window-differences only); before it, the two fields are reserved.
    let (experts, expertOrder) = (u32(F.offExperts), u32(F.offExpertOrder))
    if version != 4 {
      for at in [F.offExperts, F.offExpertOrder] where u32(at) != 0 {
        throw ModelFileError(.badHeader, at: at, "reserved header bytes are not zero")
      }
    } else {
      guard encoding == .windowDifferences else {
        throw ModelFileError(
          .unsupportedEncoding, at: F.offEncoding,
          "format version 4 (a mixture of experts) needs encoding window-differences, not \(encoding.name)")
      }
      guard experts >= 1 && experts <= UInt32(Architecture.maxExperts) else {
        throw ModelFileError(
          .badSize, at: F.offExperts, "expert count \(experts) is out of range 1...\(Architecture.maxExperts)")
      }
      guard expertOrder >= 1 && expertOrder <= context else {
        throw ModelFileError(
          .badSize, at: F.offExpertOrder,
          "expert order \(expertOrder) is out of range 1...\(context) (the context length)")
      }
    }
    var architecture = Architecture(
      kind: kind, layers: Int(layers), inputSize: inputSize, hiddenSize: hidden, outputSize: outputSize,
      experts: Int(experts), expertOrder: Int(expertOrder))
    // Version 5: the chain table and the metadata lines, between the header and the directory.
    var directoryStart = F.headerSize
    var sampleRate: Float = 0
    var metadata: [MetadataEntry] = []
    if version >= 5 {
      let chainLength = u32(F.offChainLength)
      guard chainLength >= layers + 1 && chainLength <= UInt32(Architecture.maxChainLength) else {
        throw ModelFileError(
          .badChain, at: F.offChainLength,
          "chain length \(chainLength) is out of range \(layers + 1)...\(Architecture.maxChainLength) for "
            + "\(layers) recurrent layer\(layers == 1 ? "" : "s") and a readout")
      }
      let metadataLength = u32(F.offMetadataLength)
      guard metadataLength <= UInt32(F.maxMetadataSize) else {
        throw ModelFileError(
          .badMetadata, at: F.offMetadataLength,
          "metadata length \(metadataLength) exceeds \(F.maxMetadataSize) bytes")
      }
      let chainStart = F.headerSize
      let metadataStart = chainStart + F.chainEntrySize * Int(chainLength)
      directoryStart = F.directoryStart(
        version: version, chainLength: Int(chainLength), metadataLength: Int(metadataLength))
      guard directoryStart <= count else {
        throw ModelFileError(
          .truncated, at: count, "file ends inside the chain table or the metadata (\(directoryStart) bytes needed)")
      }
      architecture = try Self.chain(
        raw, architecture, entries: Int(chainLength), at: chainStart, learnedFlag: F.learnedStateFlag)
      let skip = u32(F.offInputSkip)
      guard skip <= UInt32(min(inputSize, outputSize)) else {
        throw ModelFileError(
          .badChain, at: F.offInputSkip,
          "input skip \(skip) exceeds min(input size \(inputSize), output size \(outputSize))")
      }
      architecture.inputSkip = Int(skip)
      if version == 6 && (metadataLength != 0 || f32(F.offSampleRate) != 0) {
        throw ModelFileError(
          .badMetadata, at: metadataLength != 0 ? F.offMetadataLength : F.offSampleRate,
          "a forecasting model (format version 6) records no metadata and no sample rate")
      }
      if version == 6 && architecture.isChain {
        throw ModelFileError(
          .badChain, at: F.offChainLength,
          "a forecasting model (format version 6) is a plain recurrent stack and readout, not the chain "
            + architecture.summary)
      }
      sampleRate = f32(F.offSampleRate)
      guard sampleRate.isFinite && sampleRate >= 0 else {
        throw ModelFileError(
          .badMetadata, at: F.offSampleRate, "sample rate \(sampleRate) is not a finite value ≥ 0 (0: not recorded)")
      }
      metadata = try Self.metadata(raw, at: metadataStart, length: Int(metadataLength))
      for at in (metadataStart + Int(metadataLength))..<directoryStart where raw[at] != 0 {
        throw ModelFileError(.badPadding, at: at, "padding byte after the metadata is not zero")
      }
    }
    // Version 6: the linear term's order and the interval table's size (0: absent).
    var (linearOrder, horizons, quantiles) = (0, 0, 0)
    if version >= 6 {
      let (p, h, q) = (u32(F.offLinearOrder), u32(F.offIntervalHorizons), u32(F.offIntervalQuantiles))
      guard p <= UInt32(LinearTerm.maxOrder) else {
        throw ModelFileError(
          .badForecast, at: F.offLinearOrder, "linear term order \(p) is out of range 0...\(LinearTerm.maxOrder)")
      }
      guard h <= UInt32(ForecastIntervals.maxHorizons) else {
        throw ModelFileError(
          .badForecast, at: F.offIntervalHorizons,
          "interval horizons \(h) is out of range 0...\(ForecastIntervals.maxHorizons)")
      }
      guard h == 0 ? q == 0 : (q >= 2 && q <= UInt32(ForecastIntervals.maxQuantiles)) else {
        throw ModelFileError(
          .badForecast, at: F.offIntervalQuantiles,
          "interval quantile count \(q) is out of range "
            + (h == 0 ? "0...0 without horizons" : "2...\(ForecastIntervals.maxQuantiles)"))
      }
      guard p > 0 || h > 0 else {
        throw ModelFileError(
          .badForecast, at: F.offLinearOrder,
          "format version 6 holds a linear term or forecast intervals; this file has neither (write version 3)")
      }
      (linearOrder, horizons, quantiles) = (Int(p), Int(h), Int(q))
    }
    // The trainable tensors, then (standardised encodings) the four normalisation vectors, then (version 6) the
    // linear term and the interval table.
    let trainable = architecture.tensors.count
    let table =
      architecture.tensors + (encoding.isStandardized ? architecture.normalizationTensors : [])
      + architecture.forecastTensors(linearOrder: linearOrder, horizons: horizons, quantiles: quantiles)
    let tensorCount = u32(F.offTensorCount)
    guard tensorCount == UInt32(table.count) else {
      throw ModelFileError(
        .badTensorDirectory, at: F.offTensorCount,
        "tensor count \(tensorCount) is not \(table.count) for "
          + (architecture.isChain
            ? "the chain \(architecture.summary)" : "\(layers) \(kind.name) layer\(layers == 1 ? "" : "s")")
          + (encoding.isStandardized ? " and \(encoding.name)" : "")
          + (architecture.isMixture ? " and a mixture of experts" : "")
          + (linearOrder > 0 ? " and a linear term" : "") + (horizons > 0 ? " and forecast intervals" : ""))
    }
    guard u32(F.offFlags) == 0 else {
      throw ModelFileError(.badHeader, at: F.offFlags, "unknown flags 0x\(String(u32(F.offFlags), radix: 16))")
    }
    var at = F.offReserved(version: version)
    while at < F.headerSize {
      guard u32(at) == 0 else { throw ModelFileError(.badHeader, at: at, "reserved header bytes are not zero") }
      at += 4
    }
    var family = ""
    var familyEnded = false
    for i in 0..<F.familyNameCapacity {
      let b = raw[F.offFamily + i]
      if b == 0 {
        familyEnded = true
      } else if familyEnded || b < 0x20 || b > 0x7E || i == F.familyNameCapacity - 1 {
        throw ModelFileError(.badMetadata, at: F.offFamily + i, "family name is not NUL-padded printable ASCII")
      } else {
        family.unicodeScalars.append(Unicode.Scalar(b))
      }
    }
    var provenance = Provenance()
    provenance.seed = u64(F.offSeed)
    provenance.epochs = u32(F.offEpochs)
    provenance.batchSize = u32(F.offBatchSize)
    provenance.trainingSequences = u32(F.offSequences)
    provenance.learningRate = f32(F.offLearningRate)
    provenance.finalLoss = f32(F.offFinalLoss)
    provenance.family = family
    var stats = ValidationStats()
    stats.windows = u32(F.offValWindows)
    stats.seeds = u32(F.offValSeeds)
    var statValues: [Float] = []
    for i in 0..<8 {
      let v = f32(F.offValMSE + 4 * i)
      guard !v.isInfinite else { throw ModelFileError(.badMetadata, at: F.offValMSE + 4 * i, "statistic is infinite") }
      statValues.append(v)
    }
    stats.floats = statValues

    // 3. Tensor directory. First the sizes as a whole: the tensors the header promises must fit in the file (every
    // count is bounded above, so this sum cannot overflow), so no hostile size reaches an allocation.
    let directoryEnd = directoryStart + table.count * F.directoryEntrySize  // ≤ 4.7 KB + 64 · 32
    let needed = directoryEnd + table.reduce(0) { $0 + $1.count * 4 } + F.checksumSize  // < 2^31
    guard needed <= count else {
      throw ModelFileError(
        .badSize, at: F.offHiddenSize,
        "\(architecture.summary) needs at least \(needed) bytes (header, directory, tensors, checksum); the file "
          + "has \(count)")
    }
    let checksumOffset = count - F.checksumSize
    var ranges: [(start: Int, end: Int, entry: Int)] = []
    var entryOfTensor = [Int](repeating: -1, count: table.count)  // table index -> directory entry offset
    for index in 0..<table.count {
      let entry = directoryStart + index * F.directoryEntrySize
      let id = u32(entry)
      guard let position = table.firstIndex(where: { $0.id == id }), entryOfTensor[position] < 0 else {
        throw ModelFileError(.badTensorDirectory, at: entry, "unknown or repeated tensor id \(id)")
      }
      let spec = table[position]
      let name = spec.name(kind)
      guard u32(entry + 4) == 1 else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 4, "tensor \(name): dtype \(u32(entry + 4)) is not 1 (float32)")
      }
      let rows = u32(entry + 8)
      let cols = u32(entry + 12)
      guard UInt64(rows) == UInt64(spec.rows) && UInt64(cols) == UInt64(spec.cols) else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 8,
          "tensor \(name) has shape [\(rows)][\(cols)], expected [\(spec.rows)][\(spec.cols)]")
      }
      let offset = u64(entry + 16)
      let byteLength = u64(entry + 24)
      guard byteLength == UInt64(spec.count * 4) else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 24, "tensor \(name) byte length \(byteLength) is not \(spec.count * 4)")
      }
      guard offset % UInt64(F.tensorAlignment) == 0 else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 16, "tensor \(name) offset \(offset) is not 64-byte aligned")
      }
      // Overflow-safe: compare with subtraction; checksumOffset ≥ directoryEnd ≥ 0 here.
      guard offset >= UInt64(directoryEnd), offset <= UInt64(checksumOffset),
        byteLength <= UInt64(checksumOffset) - offset
      else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 16,
          "tensor \(name) (\(byteLength) bytes at offset \(offset)) lies outside the data area \(directoryEnd)..<\(checksumOffset)"
        )
      }
      ranges.append((Int(offset), Int(offset) + Int(byteLength), entry))
      entryOfTensor[position] = entry
    }
    ranges.sort { $0.start < $1.start }
    for i in 1..<ranges.count where ranges[i].start < ranges[i - 1].end {
      throw ModelFileError(.badTensorDirectory, at: ranges[i].entry + 16, "tensor data overlaps the previous tensor")
    }

    // 4. Bytes that belong to no tensor (alignment padding) must be zero, so nothing can hide in a model file.
    var cursor = directoryEnd
    for range in ranges + [(checksumOffset, checksumOffset, 0)] {
      while cursor < range.start {
        guard raw[cursor] == 0 else { throw ModelFileError(.badPadding, at: cursor, "padding byte is not zero") }
        cursor += 1
      }
      cursor = max(cursor, range.end)
    }

    // 5. Checksum over everything before it.
    let stored = u32(checksumOffset)
    let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<checksumOffset]))
    guard stored == computed else {
      throw ModelFileError(
        .checksumMismatch, at: checksumOffset,
        "checksum mismatch: stored 0x\(hex8(stored)), computed 0x\(hex8(computed))")
    }

    // 6. Tensor values, in table order: finite float32 only; normalisation scales positive.
    var values: [[Float]] = []
    values.reserveCapacity(table.count)
    var offsets: [Int] = []
    offsets.reserveCapacity(trainable)
    for (position, spec) in table.enumerated() {
      let offset = Int(u64(entryOfTensor[position] + 16))
      if position < trainable { offsets.append(offset) }
      // Read in place, the trainable tensors are checked and not kept (the rest are small and always kept).
      let keep = keepingWeights || position >= trainable
      var tensor = [Float](repeating: 0, count: keep ? spec.count : 0)
      for k in 0..<spec.count {
        let v = f32(offset + 4 * k)
        guard v.isFinite else {
          throw ModelFileError(
            .nonFiniteWeight, at: offset + 4 * k, "tensor \(spec.name(kind)) element \(k) is not finite")
        }
        if (spec.role == .inputScale || spec.role == .outputScale) && !(v > 0) {
          throw ModelFileError(
            .badMetadata, at: offset + 4 * k, "tensor \(spec.name(kind)) element \(k) is \(v); scales must be positive")
        }
        if spec.role == .intervalProbabilities && !(v > 0 && v < 1 && (k == 0 || v > tensor[k - 1])) {
          throw ModelFileError(
            .badForecast, at: offset + 4 * k,
            "tensor interval.probabilities element \(k) is \(v); probabilities rise strictly inside (0, 1)")
        }
        if spec.role == .intervalQuantiles && k % quantiles != 0 && v < tensor[k - 1] {
          throw ModelFileError(
            .badForecast, at: offset + 4 * k,
            "tensor interval.quantiles element \(k) is \(v), below the quantile before it (\(tensor[k - 1]))")
        }
        if keep { tensor[k] = v }
      }
      values.append(tensor)
    }

    if keepingWeights {
      self.init(
        architecture: architecture, contextLength: Int(context), encoding: encoding,
        tensors: Array(values[..<trainable]))
    } else {
      self.init(weightless: architecture, contextLength: Int(context), encoding: encoding)
    }
    tensorOffsets = offsets
    if encoding.isStandardized {
      normalization = Normalization(
        inputShift: values[trainable], inputScale: values[trainable + 1], outputShift: values[trainable + 2],
        outputScale: values[trainable + 3])
    }
    self.provenance = provenance
    self.validation = stats
    self.sampleRate = sampleRate
    self.metadata = metadata
    var next = trainable + 4
    if linearOrder > 0 {
      linearTerm = LinearTerm(order: linearOrder, weight: values[next], bias: values[next + 1])
      next += 2
    }
    if horizons > 0 {
      intervals = ForecastIntervals(probabilities: values[next], quantiles: values[next + 1], horizons: horizons)
    }
  }

  /// Version 5's chain table: `entries` entries of 16 bytes at `start` (layer type, inputs, outputs, activation or
  /// flags), in the one order the runtime runs: dense layers, the header's recurrent stack, the readout (dense), dense
  /// layers. Returns `header` with the chain filled in; every size must meet the one before it.
  static func chain(
    _ raw: UnsafeRawBufferPointer, _ header: Architecture, entries: Int, at start: Int, learnedFlag: UInt32
  ) throws(ModelFileError) -> Architecture {
    func u32(_ at: Int) -> UInt32 { UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)) }
    var a = header
    var width = header.inputSize  // values flowing into the next entry
    var recurrentSeen = 0
    var afterStack: [DenseLayer] = []
    for i in 0..<entries {
      let entry = start + i * ModelFormat.chainEntrySize
      let (type, inputs, outputs, flags) = (u32(entry), u32(entry + 4), u32(entry + 8), u32(entry + 12))
      let what = "chain entry \(i)"
      guard UInt64(inputs) == UInt64(width) else {
        throw ModelFileError(
          .badChain, at: entry + 4, "\(what): reads \(inputs) values, but \(width) flow into it")
      }
      if type == ModelFormat.denseLayerType {
        guard outputs >= 1 && outputs <= UInt32(Architecture.maxHiddenSize) else {
          throw ModelFileError(
            .badChain, at: entry + 8,
            "\(what): dense output size \(outputs) is out of range 1...\(Architecture.maxHiddenSize)")
        }
        guard let activation = Activation(rawValue: flags) else {
          throw ModelFileError(
            .badChain, at: entry + 12,
            "\(what): activation \(flags) is not one of "
              + Activation.allCases.map { "\($0.rawValue) = \($0.name)" }.joined(separator: ", "))
        }
        guard recurrentSeen == 0 || recurrentSeen == header.layers else {
          throw ModelFileError(
            .badChain, at: entry,
            "\(what): a dense layer inside the recurrent stack (\(recurrentSeen) of \(header.layers) layers so far)")
        }
        let layer = DenseLayer(inputs: Int(inputs), outputs: Int(outputs), activation: activation)
        if recurrentSeen == 0 { a.inputLayers.append(layer) } else { afterStack.append(layer) }
        width = Int(outputs)
      } else {
        guard type == header.kind.rawValue else {
          throw ModelFileError(
            .badChain, at: entry,
            "\(what): layer type \(type) is not 0 (dense) or the header's cell kind \(header.kind.rawValue) (\(header.kind.name))"
          )
        }
        guard afterStack.isEmpty && recurrentSeen < header.layers else {
          throw ModelFileError(
            .badChain, at: entry,
            "\(what): more than the header's \(header.layers) recurrent layer\(header.layers == 1 ? "" : "s"), or a second stack"
          )
        }
        guard outputs == UInt32(header.hiddenSize) else {
          throw ModelFileError(
            .badChain, at: entry + 8,
            "\(what): recurrent output size \(outputs) is not the hidden size \(header.hiddenSize)")
        }
        guard flags <= learnedFlag, recurrentSeen == 0 || (flags == learnedFlag) == a.learnedInitialState else {
          throw ModelFileError(
            .badChain, at: entry + 12,
            "\(what): flags \(flags) (0, or 1 = learned initial state, the same for every recurrent layer)")
        }
        if recurrentSeen == 0 {
          guard inputs <= UInt32(Architecture.maxHiddenSize) else {
            throw ModelFileError(
              .badChain, at: entry + 4, "\(what): input size \(inputs) exceeds \(Architecture.maxHiddenSize)")
          }
        }
        a.learnedInitialState = flags == learnedFlag
        recurrentSeen += 1
        width = header.hiddenSize
      }
    }
    guard recurrentSeen == header.layers, let readout = afterStack.first else {
      throw ModelFileError(
        .badChain, at: start,
        "the chain needs the header's \(header.layers) recurrent layer\(header.layers == 1 ? "" : "s") followed by a dense readout"
      )
    }
    guard width == header.outputSize else {
      throw ModelFileError(
        .badChain, at: start + (entries - 1) * ModelFormat.chainEntrySize + 8,
        "chain entry \(entries - 1): outputs \(width) values, but the header's output size is \(header.outputSize)")
    }
    a.readoutActivation = readout.activation
    a.outputLayers = Array(afterStack.dropFirst())
    // The readout's rows are `fcRows`: the first output layer's inputs, or the output size.
    precondition(a.fcRows == readout.outputs)
    return a
  }

  /// Version 5's metadata: `length` bytes of UTF-8 `key=value` lines, each ending in a newline (MetadataEntry).
  static func metadata(_ raw: UnsafeRawBufferPointer, at start: Int, length: Int) throws(ModelFileError)
    -> [MetadataEntry]
  {
    var entries: [MetadataEntry] = []
    var lineStart = start
    let end = start + length
    guard length == 0 || raw[end - 1] == 0x0A else {
      throw ModelFileError(.badMetadata, at: end - 1, "metadata does not end with a newline")
    }
    while lineStart < end {
      var lineEnd = lineStart
      while raw[lineEnd] != 0x0A { lineEnd += 1 }
      let line = Array(UnsafeRawBufferPointer(rebasing: raw[lineStart..<lineEnd]))
      // Decoding replaces invalid UTF-8 with U+FFFD, so a round trip that changes the bytes means invalid UTF-8.
      let text = String(decoding: line, as: UTF8.self)
      guard Array(text.utf8) == line, let equals = line.firstIndex(of: 0x3D) else {
        throw ModelFileError(.badMetadata, at: lineStart, "metadata line is not UTF-8 `key=value`")
      }
      let entry = MetadataEntry(
        String(decoding: line[..<equals], as: UTF8.self), String(decoding: line[(equals + 1)...], as: UTF8.self))
      guard entry.isStorable else {
        throw ModelFileError(
          .badMetadata, at: lineStart,
          "metadata key must be 1 to 64 of a-z 0-9 _ . - and the value free of control characters")
      }
      // Keys are ASCII: compared as bytes (String's == needs Unicode normalisation tables an Embedded image lacks).
      guard !entries.contains(where: { $0.key.utf8.elementsEqual(entry.key.utf8) }) else {
        throw ModelFileError(.badMetadata, at: lineStart, "metadata key \(entry.key) appears twice")
      }
      entries.append(entry)
      lineStart = lineEnd + 1
    }
    return entries
  }
}
