// Format constants (the tables of `Documentation.docc/ModelFormat.md`) and the reader's typed error.

public enum ModelFormat {
  public static let magic: [UInt8] = [0x52, 0x45, 0x43, 0x55, 0x52, 0x4E, 0x4E, 0x1A]  // "RECURNN" 0x1A
  /// The newest version this code reads and writes. Version 1 (one vanilla layer, input and output 1) is still read,
  /// and still written for models it can describe, so files of that shape stay byte-identical.
  public static let version: UInt32 = 6
  public static let versions: ClosedRange<UInt32> = 1...6
  public static let headerSize = 256
  public static let directoryEntrySize = 32
  public static let tensorAlignment = 64
  public static let checksumSize = 4
  public static let maxHiddenSize = Architecture.maxHiddenSize
  public static let maxContextLength = 4096
  public static let familyNameCapacity = 32
  /// Files larger than this are refused before they are read: 64 MiB holds any one- or two-layer model at
  /// hidden 1024 (an LSTM layer at hidden 1024 is 16.8 MB), and bounds what a hostile file can make a reader hold.
  public static let maxFileSize = 64 << 20

  // Header field offsets.
  static let offVersion = 8, offHeaderSize = 12, offFileLength = 16, offCellKind = 24, offInputSize = 28
  static let offHiddenSize = 32, offOutputSize = 36, offContextLength = 40, offEncoding = 44, offTensorCount = 48
  static let offFlags = 52, offSeed = 56, offEpochs = 64, offBatchSize = 68, offSequences = 72, offLearningRate = 76
  static let offFinalLoss = 80, offValWindows = 84, offValSeeds = 88, offValMSE = 92
  /// Version 2: number of layers. Version 1: reserved, zero.
  static let offLayers = 124
  static let offFamily = 128
  /// Version 4: the mixture readout's expert count and order. Earlier versions: reserved, zero.
  static let offExperts = 160, offExpertOrder = 164
  /// Version 5: chain entries, input skip, sample rate and metadata length. Earlier versions: reserved, zero.
  static let offChainLength = 168, offInputSkip = 172, offSampleRate = 176, offMetadataLength = 180
  /// Version 6: the linear term's order, the interval table's horizons and quantile count. Earlier: reserved, zero.
  static let offLinearOrder = 184, offIntervalHorizons = 188, offIntervalQuantiles = 192
  /// Where the reserved bytes start: the version-5 and version-6 fields above are reserved before their version.
  static func offReserved(version: UInt32) -> Int { version >= 6 ? 196 : version >= 5 ? 184 : 168 }
  /// Version 5: one chain entry (layer type, inputs, outputs, activation or flags).
  public static let chainEntrySize = 16
  /// Version 5: the most bytes of `key=value` metadata lines.
  public static let maxMetadataSize = 4096
  /// Version 5: chain entry layer type of a dense layer (the recurrent ones use their `CellKind` code).
  static let denseLayerType: UInt32 = 0
  /// Version 5: chain entry flag of a recurrent layer with learned initial states.
  static let learnedStateFlag: UInt32 = 1

  /// Where the tensor directory starts: right after the header, or (version 5) after the chain table and the
  /// metadata, rounded up to a multiple of 32.
  public static func directoryStart(version: UInt32, chainLength: Int, metadataLength: Int) -> Int {
    version >= 5 ? roundUp(headerSize + chainEntrySize * chainLength + metadataLength, 32) : headerSize
  }

  /// The version a writer uses for `architecture` and `encoding`: the lowest that describes the model (1: one
  /// vanilla layer, input and output 1, a scaled encoding; 2: any architecture; 3: a standardised encoding; 4: a
  /// mixture-of-experts readout; 5: a chain). Version 6 (a forecasting model's linear term and intervals) is
  /// decided by the file's contents: `ModelFile.formatVersion`.
  public static func version(for architecture: Architecture, encoding: Encoding) -> UInt32 {
    if architecture.isChain { return 5 }
    if architecture.isMixture { return 4 }
    if encoding.isStandardized { return 3 }
    let v1 = architecture == Architecture(hiddenSize: architecture.hiddenSize) && encoding != .identity
    return v1 ? 1 : 2
  }

  /// The encodings a file of `version` may record.
  static func allows(_ encoding: Encoding, version: UInt32) -> Bool {
    switch encoding {
    case .sequenceMaxScale, .windowDifferences: version <= 4
    case .identity: version >= 2
    case .standardize, .standardizeDifferences: version >= 3 && version != 5
    }
  }
}

/// Why a model file was refused, and where. `description` is one line: `byte 40: context length 0 is out of range`.
public struct ModelFileError: Error, Sendable, CustomStringConvertible {
  public enum Kind: Sendable {
    case tooLarge, truncated, badMagic, unsupportedVersion, badHeader, trailingBytes
    case unsupportedCellKind, badSize, unsupportedEncoding, badTensorDirectory, badPadding
    case checksumMismatch, nonFiniteWeight, badMetadata, badChain, badForecast
    /// Reading weights in place (`RecurrentModel(inPlace:)`) from bytes that do not start 4-byte aligned.
    case misaligned
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
