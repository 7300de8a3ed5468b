// The `.recur` model file, format version 1: an in-memory description, a writer and a hardened reader.
//
// The byte layout is specified in `Documentation.docc/ModelFormat.md`; the constants below are that document's tables.
// Every length in a file is attacker-controlled: the reader checks each count and offset with overflow-safe arithmetic
// against the real byte count before it reads the bytes behind it, and reports the first problem with its byte offset.

// MARK: - What a model file describes

/// The recurrent cell stored in a model file. Values are the on-disk codes.
public enum CellKind: UInt32, Sendable {
  /// Elman RNN: `h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`, then `y = fc.weight h' + fc.bias`.
  case vanillaTanh = 1
  // 2 = GRU and 3 = LSTM are reserved for later versions; a v1 reader rejects them.
}

/// How real-valued sequences are turned into cell inputs and cell outputs back into values.
/// The runtime applies exactly what training applied; see `SequencePredictor`.
public enum Encoding: UInt32, Sendable {
  /// The seed notebook's: values divided by one scale, `max(1, max |v|)` over the known values.
  case sequenceMaxScale = 1
  /// Extrapolating: each prediction reads the last `contextLength` differences, divides them by their largest
  /// magnitude `s`, runs the cell from a zero state over them and predicts `last + s * y`.
  case windowDifferences = 2

  public var name: String {
    switch self {
    case .sequenceMaxScale: "sequence-max-scale"
    case .windowDifferences: "window-differences"
    }
  }
}

/// Where a model came from. Stored verbatim; the runtime never uses it for computation.
public struct Provenance: Sendable {
  public var seed: UInt64 = 0
  public var epochs: UInt32 = 0
  public var batchSize: UInt32 = 0
  public var trainingSequences: UInt32 = 0
  public var learningRate: Float = .nan
  public var finalLoss: Float = .nan
  /// Data family, printable ASCII, at most 31 bytes (e.g. "odd", "fib", "pytorch-import").
  public var family: String = ""
  public init() {}
}

/// Held-out validation statistics computed by the trainer. NaN means "not measured" (e.g. an imported model).
public struct ValidationStats: Sendable {
  public var windows: UInt32 = 0
  public var seeds: UInt32 = 0
  /// Mean squared error over every element of every held-out window, in the encoded (normalised) units.
  public var windowMSE: Float = .nan
  /// Absolute error of the next-value prediction in real units: mean, standard deviation, median, 95th percentile.
  public var absErrorMean: Float = .nan
  public var absErrorSD: Float = .nan
  public var absErrorMedian: Float = .nan
  public var absErrorP95: Float = .nan
  /// Mean absolute error of free-running generation from held-out seeds after 1, 8 and 20 steps, real units.
  public var generationError1: Float = .nan
  public var generationError8: Float = .nan
  public var generationError20: Float = .nan
  public init() {}
}

/// A complete model: sizes, encoding, provenance, validation statistics and float32 tensors in PyTorch's layout.
public struct ModelFile: Sendable {
  public var cellKind: CellKind = .vanillaTanh
  public var inputSize: Int
  public var hiddenSize: Int
  public var outputSize: Int
  /// The training window length (number of time steps per training example; for `windowDifferences`, the number
  /// of differences each prediction reads).
  public var contextLength: Int
  public var encoding: Encoding
  public var provenance = Provenance()
  public var validation = ValidationStats()
  public var weightIH: [Float]  // rnn.weight_ih_l0  [H][I], row-major
  public var weightHH: [Float]  // rnn.weight_hh_l0  [H][H], row-major
  public var biasIH: [Float]  // rnn.bias_ih_l0    [H]
  public var biasHH: [Float]  // rnn.bias_hh_l0    [H]
  public var fcWeight: [Float]  // fc.weight         [O][H], row-major
  public var fcBias: [Float]  // fc.bias           [O]

  public init(
    hiddenSize: Int, contextLength: Int, encoding: Encoding,
    weightIH: [Float], weightHH: [Float], biasIH: [Float], biasHH: [Float], fcWeight: [Float], fcBias: [Float]
  ) {
    self.inputSize = 1
    self.outputSize = 1
    self.hiddenSize = hiddenSize
    self.contextLength = contextLength
    self.encoding = encoding
    self.weightIH = weightIH
    self.weightHH = weightHH
    self.biasIH = biasIH
    self.biasHH = biasHH
    self.fcWeight = fcWeight
    self.fcBias = fcBias
  }

  /// Number of trainable parameters (the sum of all tensor element counts).
  public var parameterCount: Int {
    weightIH.count + weightHH.count + biasIH.count + biasHH.count + fcWeight.count + fcBias.count
  }

  /// The tensors in file order with their PyTorch state_dict names and shapes.
  public var tensors: [(id: TensorID, rows: Int, cols: Int, values: [Float])] {
    [
      (.weightIH, hiddenSize, inputSize, weightIH), (.weightHH, hiddenSize, hiddenSize, weightHH),
      (.biasIH, hiddenSize, 1, biasIH), (.biasHH, hiddenSize, 1, biasHH),
      (.fcWeight, outputSize, hiddenSize, fcWeight), (.fcBias, outputSize, 1, fcBias),
    ]
  }
}

/// Tensor identifiers in the tensor directory.
public enum TensorID: UInt32, Sendable, CaseIterable {
  case weightIH = 1
  case weightHH = 2
  case biasIH = 3
  case biasHH = 4
  case fcWeight = 5
  case fcBias = 6

  /// The seed model's PyTorch state_dict key.
  public var stateDictName: String {
    switch self {
    case .weightIH: "rnn.weight_ih_l0"
    case .weightHH: "rnn.weight_hh_l0"
    case .biasIH: "rnn.bias_ih_l0"
    case .biasHH: "rnn.bias_hh_l0"
    case .fcWeight: "fc.weight"
    case .fcBias: "fc.bias"
    }
  }
  /// True for 1-D tensors (biases), whose directory entry has `cols == 1` and which PyTorch stores as vectors.
  public var isVector: Bool { self == .biasIH || self == .biasHH || self == .fcBias }
}

// MARK: - Format constants (see ModelFormat.md)

public enum ModelFormat {
  public static let magic: [UInt8] = [0x52, 0x45, 0x43, 0x55, 0x52, 0x4E, 0x4E, 0x1A]  // "RECURNN" 0x1A
  public static let version: UInt32 = 1
  public static let headerSize = 256
  public static let directoryEntrySize = 32
  public static let tensorAlignment = 64
  public static let checksumSize = 4
  public static let maxHiddenSize = 1024
  public static let maxContextLength = 4096
  public static let familyNameCapacity = 32
  /// No valid v1 file is larger than this (hidden 1024: about 4.2 MB); bigger inputs are refused before reading.
  public static let maxFileSize = 8 << 20

  // Header field offsets.
  static let offVersion = 8, offHeaderSize = 12, offFileLength = 16, offCellKind = 24, offInputSize = 28
  static let offHiddenSize = 32, offOutputSize = 36, offContextLength = 40, offEncoding = 44, offTensorCount = 48
  static let offFlags = 52, offSeed = 56, offEpochs = 64, offBatchSize = 68, offSequences = 72, offLearningRate = 76
  static let offFinalLoss = 80, offValWindows = 84, offValSeeds = 88, offValMSE = 92, offAbsMean = 96, offAbsSD = 100
  static let offAbsMedian = 104, offAbsP95 = 108, offGen1 = 112, offGen8 = 116, offGen20 = 120, offReserved1 = 124
  static let offFamily = 128, offReserved2 = 160
}

// MARK: - Errors

/// Why a model file was refused, and where. `description` is one line: `byte 40: context length 0 is out of range`.
public struct ModelFileError: Error, Sendable, CustomStringConvertible {
  public enum Kind: Sendable {
    case tooLarge, truncated, badMagic, unsupportedVersion, badHeader, lengthMismatch, trailingBytes
    case unsupportedCellKind, badSize, unsupportedEncoding, badTensorDirectory, badPadding
    case checksumMismatch, nonFiniteWeight, badMetadata
  }
  public let kind: Kind
  /// Byte offset in the file where the problem is.
  public let offset: Int
  public let message: String
  public init(_ kind: Kind, at offset: Int, _ message: String) {
    self.kind = kind
    self.offset = offset
    self.message = message
  }
  public var description: String { "byte \(offset): \(message)" }
}

// MARK: - Writer

extension ModelFile {
  /// Byte offset of each tensor in the canonical layout, and the total file length.
  static func canonicalLayout(_ shapes: [(rows: Int, cols: Int)]) -> (offsets: [Int], length: Int) {
    var cursor = ModelFormat.headerSize + shapes.count * ModelFormat.directoryEntrySize
    var offsets: [Int] = []
    for shape in shapes {
      cursor = roundUp(cursor, ModelFormat.tensorAlignment)
      offsets.append(cursor)
      cursor += shape.rows * shape.cols * 4
    }
    return (offsets, cursor + ModelFormat.checksumSize)
  }

  /// Serialises the model (version 1, canonical layout: tensors in id order, each at the next 64-byte boundary).
  /// Precondition: the tensor arrays match the sizes (the writer is fed by the trainer, not by untrusted input).
  public func encoded() -> [UInt8] {
    let tensors = self.tensors
    for t in tensors { precondition(t.values.count == t.rows * t.cols, "tensor \(t.id.stateDictName) has wrong size") }
    let (offsets, length) = Self.canonicalLayout(tensors.map { ($0.rows, $0.cols) })
    var out = [UInt8](repeating: 0, count: length)
    func put32(_ value: UInt32, _ at: Int) {
      for i in 0..<4 { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    func put64(_ value: UInt64, _ at: Int) {
      for i in 0..<8 { out[at + i] = UInt8(truncatingIfNeeded: value >> (8 * i)) }
    }
    func putF(_ value: Float, _ at: Int) { put32(value.bitPattern, at) }
    typealias F = ModelFormat
    for (i, b) in F.magic.enumerated() { out[i] = b }
    put32(F.version, F.offVersion)
    put32(UInt32(F.headerSize), F.offHeaderSize)
    put64(UInt64(length), F.offFileLength)
    put32(cellKind.rawValue, F.offCellKind)
    put32(UInt32(inputSize), F.offInputSize)
    put32(UInt32(hiddenSize), F.offHiddenSize)
    put32(UInt32(outputSize), F.offOutputSize)
    put32(UInt32(contextLength), F.offContextLength)
    put32(encoding.rawValue, F.offEncoding)
    put32(UInt32(tensors.count), F.offTensorCount)
    put64(provenance.seed, F.offSeed)
    put32(provenance.epochs, F.offEpochs)
    put32(provenance.batchSize, F.offBatchSize)
    put32(provenance.trainingSequences, F.offSequences)
    putF(provenance.learningRate, F.offLearningRate)
    putF(provenance.finalLoss, F.offFinalLoss)
    put32(validation.windows, F.offValWindows)
    put32(validation.seeds, F.offValSeeds)
    let stats = [
      validation.windowMSE, validation.absErrorMean, validation.absErrorSD, validation.absErrorMedian,
      validation.absErrorP95, validation.generationError1, validation.generationError8, validation.generationError20,
    ]
    for (i, s) in stats.enumerated() { putF(s, F.offValMSE + 4 * i) }
    let family = Array(provenance.family.utf8.prefix(F.familyNameCapacity - 1))
    for (i, b) in family.enumerated() { out[F.offFamily + i] = b }
    for (index, t) in tensors.enumerated() {
      let entry = F.headerSize + index * F.directoryEntrySize
      put32(t.id.rawValue, entry)
      put32(1, entry + 4)  // dtype 1 = float32, little-endian
      put32(UInt32(t.rows), entry + 8)
      put32(UInt32(t.cols), entry + 12)
      put64(UInt64(offsets[index]), entry + 16)
      put64(UInt64(t.values.count * 4), entry + 24)
      for (k, v) in t.values.enumerated() { putF(v, offsets[index] + 4 * k) }
    }
    let crc = out.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[0..<(length - 4)])) }
    put32(crc, length - 4)
    return out
  }
}

@inline(__always) func roundUp(_ value: Int, _ multiple: Int) -> Int { (value + multiple - 1) / multiple * multiple }

// MARK: - Reader

extension ModelFile {
  /// Parses and validates a model file. Never reads outside `bytes`; never allocates more than the validated
  /// tensor sizes (bounded by `ModelFormat.maxHiddenSize`).
  public init(bytes: [UInt8]) throws(ModelFileError) {
    // `withUnsafeBytes` is untyped-rethrows: carry the typed error out in a Result.
    let parsed = bytes.withUnsafeBytes { raw in Result { () throws(ModelFileError) in try ModelFile(raw) } }
    self = try parsed.get()
  }

  public init(_ raw: UnsafeRawBufferPointer) throws(ModelFileError) {
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
    guard version == F.version else {
      throw ModelFileError(
        .unsupportedVersion, at: F.offVersion, "format version \(version) is not supported (this reader reads 1)")
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

    // 2. Header fields.
    guard let kind = CellKind(rawValue: u32(F.offCellKind)) else {
      throw ModelFileError(
        .unsupportedCellKind, at: F.offCellKind, "cell kind \(u32(F.offCellKind)) is not supported (1 = vanilla tanh)")
    }
    let inputSize = u32(F.offInputSize)
    let hidden = u32(F.offHiddenSize)
    let outputSize = u32(F.offOutputSize)
    guard inputSize == 1 else {
      throw ModelFileError(.badSize, at: F.offInputSize, "input size \(inputSize) is not supported (must be 1)")
    }
    guard hidden >= 1 && hidden <= UInt32(F.maxHiddenSize) else {
      throw ModelFileError(
        .badSize, at: F.offHiddenSize, "hidden size \(hidden) is out of range 1...\(F.maxHiddenSize)")
    }
    guard outputSize == 1 else {
      throw ModelFileError(.badSize, at: F.offOutputSize, "output size \(outputSize) is not supported (must be 1)")
    }
    let context = u32(F.offContextLength)
    guard context >= 1 && context <= UInt32(F.maxContextLength) else {
      throw ModelFileError(
        .badSize, at: F.offContextLength, "context length \(context) is out of range 1...\(F.maxContextLength)")
    }
    guard let encoding = Encoding(rawValue: u32(F.offEncoding)) else {
      throw ModelFileError(
        .unsupportedEncoding, at: F.offEncoding,
        "encoding \(u32(F.offEncoding)) is not supported (1 = sequence-max-scale, 2 = window-differences)")
    }
    let tensorCount = u32(F.offTensorCount)
    guard tensorCount == UInt32(TensorID.allCases.count) else {
      throw ModelFileError(
        .badTensorDirectory, at: F.offTensorCount, "tensor count \(tensorCount) is not 6 for a vanilla tanh cell")
    }
    guard u32(F.offFlags) == 0 else {
      throw ModelFileError(.badHeader, at: F.offFlags, "unknown flags 0x\(String(u32(F.offFlags), radix: 16))")
    }
    for at in [F.offReserved1] + Array(stride(from: F.offReserved2, to: F.headerSize, by: 4)) where u32(at) != 0 {
      throw ModelFileError(.badHeader, at: at, "reserved header bytes are not zero")
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
    (stats.windowMSE, stats.absErrorMean, stats.absErrorSD, stats.absErrorMedian) =
      (statValues[0], statValues[1], statValues[2], statValues[3])
    (stats.absErrorP95, stats.generationError1, stats.generationError8, stats.generationError20) =
      (statValues[4], statValues[5], statValues[6], statValues[7])

    // 3. Tensor directory: every entry checked against the real length before any tensor byte is read.
    let H = Int(hidden)
    let directoryEnd = F.headerSize + Int(tensorCount) * F.directoryEntrySize  // ≤ 256 + 6 * 32: cannot overflow
    guard directoryEnd <= count else {
      throw ModelFileError(.truncated, at: count, "file ends inside the tensor directory")
    }
    let checksumOffset = count - F.checksumSize
    var ranges: [(start: Int, end: Int, entry: Int)] = []
    var values: [TensorID: [Float]] = [:]
    for index in 0..<Int(tensorCount) {
      let entry = F.headerSize + index * F.directoryEntrySize
      guard let id = TensorID(rawValue: u32(entry)), values[id] == nil else {
        throw ModelFileError(.badTensorDirectory, at: entry, "unknown or repeated tensor id \(u32(entry))")
      }
      guard u32(entry + 4) == 1 else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 4, "tensor \(id.stateDictName): dtype \(u32(entry + 4)) is not 1 (float32)")
      }
      let expected: (Int, Int) =
        switch id {
        case .weightIH: (H, 1)
        case .weightHH: (H, H)
        case .biasIH, .biasHH: (H, 1)
        case .fcWeight: (1, H)
        case .fcBias: (1, 1)
        }
      let rows = u32(entry + 8)
      let cols = u32(entry + 12)
      guard UInt64(rows) == UInt64(expected.0) && UInt64(cols) == UInt64(expected.1) else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 8,
          "tensor \(id.stateDictName) has shape [\(rows)][\(cols)], expected [\(expected.0)][\(expected.1)]")
      }
      let offset = u64(entry + 16)
      let byteLength = u64(entry + 24)
      let elements = expected.0 * expected.1  // ≤ 1024 * 1024: no overflow
      guard byteLength == UInt64(elements * 4) else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 24,
          "tensor \(id.stateDictName) byte length \(byteLength) is not \(elements * 4)")
      }
      guard offset % UInt64(F.tensorAlignment) == 0 else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 16, "tensor \(id.stateDictName) offset \(offset) is not 64-byte aligned")
      }
      // Overflow-safe: compare with subtraction; checksumOffset ≥ directoryEnd ≥ 0 here.
      guard offset >= UInt64(directoryEnd), offset <= UInt64(checksumOffset),
        byteLength <= UInt64(checksumOffset) - offset
      else {
        throw ModelFileError(
          .badTensorDirectory, at: entry + 16,
          "tensor \(id.stateDictName) (\(byteLength) bytes at offset \(offset)) lies outside the data area \(directoryEnd)..<\(checksumOffset)"
        )
      }
      ranges.append((Int(offset), Int(offset) + Int(byteLength), entry))
      values[id] = []  // placeholder: read after the checksum
    }
    ranges.sort { $0.start < $1.start }
    for i in 1..<ranges.count where ranges[i].start < ranges[i - 1].end {
      throw ModelFileError(.badTensorDirectory, at: ranges[i].entry + 16, "tensor data overlaps the previous tensor")
    }
    // Bytes that belong to no tensor (alignment padding) must be zero, so nothing can hide in a model file.
    var cursor = directoryEnd
    for range in ranges + [(checksumOffset, checksumOffset, 0)] {
      while cursor < range.start {
        guard raw[cursor] == 0 else { throw ModelFileError(.badPadding, at: cursor, "padding byte is not zero") }
        cursor += 1
      }
      cursor = max(cursor, range.end)
    }

    // 4. Checksum over everything before it.
    let stored = u32(checksumOffset)
    let computed = CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<checksumOffset]))
    guard stored == computed else {
      throw ModelFileError(
        .checksumMismatch, at: checksumOffset,
        "checksum mismatch: stored 0x\(hex8(stored)), computed 0x\(hex8(computed))")
    }

    // 5. Tensor values: finite float32 only.
    for index in 0..<Int(tensorCount) {
      let entry = F.headerSize + index * F.directoryEntrySize
      let id = TensorID(rawValue: u32(entry))!
      let offset = Int(u64(entry + 16))
      let elements = Int(u64(entry + 24)) / 4
      var tensor = [Float](repeating: 0, count: elements)
      for k in 0..<elements {
        let v = f32(offset + 4 * k)
        guard v.isFinite else {
          throw ModelFileError(
            .nonFiniteWeight, at: offset + 4 * k, "tensor \(id.stateDictName) element \(k) is not finite")
        }
        tensor[k] = v
      }
      values[id] = tensor
    }

    self.init(
      hiddenSize: H, contextLength: Int(context), encoding: encoding,
      weightIH: values[.weightIH]!, weightHH: values[.weightHH]!, biasIH: values[.biasIH]!,
      biasHH: values[.biasHH]!, fcWeight: values[.fcWeight]!, fcBias: values[.fcBias]!)
    self.cellKind = kind
    self.provenance = provenance
    self.validation = stats
  }
}

func hex8(_ v: UInt32) -> String {
  let s = String(v, radix: 16)
  return String(repeating: "0", count: 8 - s.count) + s
}

// MARK: - CRC-32

/// CRC-32 (IEEE 802.3: reflected polynomial 0xEDB88320, initial value and final XOR 0xFFFFFFFF), as in zlib and PNG.
public enum CRC32 {
  static let table: [UInt32] = (0..<256).map { n in
    var c = UInt32(n)
    for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
    return c
  }

  public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
    var crc: UInt32 = 0xFFFF_FFFF
    table.withUnsafeBufferPointer { t in
      for b in bytes { crc = t[Int((crc ^ UInt32(b)) & 0xFF)] ^ (crc >> 8) }
    }
    return crc ^ 0xFFFF_FFFF
  }
}
