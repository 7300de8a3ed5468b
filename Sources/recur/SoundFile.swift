// Audio files for `recur process`, through libsndfile (WAV, RF64, AIFF, FLAC, ...), loaded at run time.
//
// Why `dlopen` and not a SwiftPM system-library target: a system library links into the `recur` executable, so a
// machine without libsndfile's development files could not build `recur` at all, and the README's first command
// (`swift run recur generate ...`) must work on a fresh machine. Loaded at run time, libsndfile is needed only by
// `recur process`, which says in one line what to install when it is missing. The few declarations below mirror
// <sndfile.h> (its ABI has been stable since libsndfile 1.0); SoundFileTests compiles a C probe against the real
// header and checks every constant and the SF_INFO layout. RECUR_LIBSNDFILE names another library file to load.
//
// Reading: a WAV or RF64 file's chunk structure is checked first (RecurIO's WaveLayout: errors with byte offsets),
// then libsndfile decodes it block by block as float (integers scaled to [-1, 1)). Writing goes to an unnamed
// temporary file (RecurIO's PendingFile) that takes the output's name only when every sample is written.

import RecurIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// <sndfile.h>'s SF_INFO.
struct SFInfo {
  var frames: Int64 = 0
  var samplerate: Int32 = 0
  var channels: Int32 = 0
  var format: Int32 = 0
  var sections: Int32 = 0
  var seekable: Int32 = 0
}

/// <sndfile.h>'s constants that `recur process` uses.
enum SF {
  static let read: Int32 = 0x10  // SFM_READ
  static let write: Int32 = 0x20  // SFM_WRITE
  static let wav: Int32 = 0x01_0000  // SF_FORMAT_WAV
  static let aiff: Int32 = 0x02_0000  // SF_FORMAT_AIFF
  static let flac: Int32 = 0x17_0000  // SF_FORMAT_FLAC
  static let rf64: Int32 = 0x22_0000  // SF_FORMAT_RF64
  static let pcm16: Int32 = 0x0002  // SF_FORMAT_PCM_16
  static let pcm24: Int32 = 0x0003  // SF_FORMAT_PCM_24
  static let float: Int32 = 0x0006  // SF_FORMAT_FLOAT
  static let typeMask: Int32 = 0x0FFF_0000  // SF_FORMAT_TYPEMASK
  static let subMask: Int32 = 0x0000_FFFF  // SF_FORMAT_SUBMASK
  static let rf64AutoDowngrade: Int32 = 0x1210  // SFC_RF64_AUTO_DOWNGRADE
}

/// The libsndfile functions, resolved once.
final class LibSndFile {
  // SF_INFO* as a raw pointer: a Swift struct cannot appear in a C function type (SFInfo mirrors its layout).
  typealias OpenFD = @convention(c) (Int32, Int32, UnsafeMutableRawPointer?, Int32) -> OpaquePointer?
  typealias StrError = @convention(c) (OpaquePointer?) -> UnsafePointer<CChar>?
  typealias ReadFloat = @convention(c) (OpaquePointer?, UnsafeMutablePointer<Float>?, Int64) -> Int64
  typealias WriteFloat = @convention(c) (OpaquePointer?, UnsafePointer<Float>?, Int64) -> Int64
  typealias WriteInt = @convention(c) (OpaquePointer?, UnsafePointer<Int32>?, Int64) -> Int64
  typealias Close = @convention(c) (OpaquePointer?) -> Int32
  typealias Command = @convention(c) (OpaquePointer?, Int32, UnsafeMutableRawPointer?, Int32) -> Int32
  typealias FormatCheck = @convention(c) (UnsafeRawPointer?) -> Int32
  typealias Version = @convention(c) () -> UnsafePointer<CChar>?

  let openFD: OpenFD
  let strError: StrError
  let readFloat: ReadFloat
  let writeFloat: WriteFloat
  let writeInt: WriteInt
  let close: Close
  let command: Command
  let formatCheck: FormatCheck
  let version: String

  /// The library names tried in order (RECUR_LIBSNDFILE first when it is set).
  static var candidates: [String] {
    if let named = getenv("RECUR_LIBSNDFILE") { return [String(cString: named)] }
    #if canImport(Darwin)
      return ["libsndfile.1.dylib", "/opt/homebrew/lib/libsndfile.1.dylib", "/usr/local/lib/libsndfile.1.dylib"]
    #else
      return ["libsndfile.so.1"]
    #endif
  }

  static func load() throws(CLIError) -> LibSndFile {
    guard let handle = candidates.lazy.compactMap({ dlopen($0, RTLD_NOW | RTLD_LOCAL) }).first else {
      #if canImport(Darwin)
        let install = "brew install libsndfile"
      #else
        let install = "apt-get install libsndfile1"
      #endif
      throw CLIError(
        "recur process reads and writes audio through libsndfile, which is not installed "
          + "(tried \(candidates.joined(separator: ", "))): \(install)")
    }
    func symbol<F>(_ name: String, _: F.Type) throws(CLIError) -> F {
      guard let p = dlsym(handle, name) else { throw CLIError("libsndfile has no \(name) (too old?)") }
      return unsafeBitCast(p, to: F.self)
    }
    return LibSndFile(
      openFD: try symbol("sf_open_fd", OpenFD.self), strError: try symbol("sf_strerror", StrError.self),
      readFloat: try symbol("sf_readf_float", ReadFloat.self),
      writeFloat: try symbol("sf_writef_float", WriteFloat.self), writeInt: try symbol("sf_writef_int", WriteInt.self),
      close: try symbol("sf_close", Close.self), command: try symbol("sf_command", Command.self),
      formatCheck: try symbol("sf_format_check", FormatCheck.self),
      version: (try symbol("sf_version_string", Version.self))().map { String(cString: $0) } ?? "libsndfile")
  }

  private init(
    openFD: OpenFD, strError: StrError, readFloat: ReadFloat, writeFloat: WriteFloat, writeInt: WriteInt,
    close: Close, command: Command, formatCheck: FormatCheck, version: String
  ) {
    (self.openFD, self.strError, self.readFloat, self.writeFloat) = (openFD, strError, readFloat, writeFloat)
    (self.writeInt, self.close, self.command, self.formatCheck, self.version) = (
      writeInt, close, command, formatCheck, version
    )
  }

  func open(_ fd: Int32, mode: Int32, _ info: inout SFInfo) -> OpaquePointer? {
    withUnsafeMutablePointer(to: &info) { openFD(fd, mode, UnsafeMutableRawPointer($0), 0) }
  }

  func check(_ info: inout SFInfo) -> Bool {
    withUnsafeMutablePointer(to: &info) { formatCheck(UnsafeRawPointer($0)) } != 0
  }

  /// libsndfile's message for `handle` (or for the last failed open, when nil).
  func message(_ handle: OpaquePointer?) -> String {
    strError(handle).map { escaped(String(cString: $0)) } ?? "unknown error"
  }
}

// MARK: Reading

/// An audio file open for reading, decoded as interleaved float frames.
final class SoundReader {
  let lib: LibSndFile
  let path: String
  let channels: Int
  let sampleRate: Int
  /// Frames the file holds (from its header).
  let frames: Int
  /// The WAV / RF64 structure, for byte offsets in messages (nil for other containers).
  let layout: WaveLayout?
  private let file: InputFile  // the one opener (RecurIO): a regular file, checked before it is opened
  private let handle: OpaquePointer
  private(set) var framesRead = 0

  init(_ path: String, lib: LibSndFile) throws(CLIError) {
    self.lib = lib
    self.path = path
    let name = "'\(escaped(path))'"
    switch InputFile.open(path, limit: Int.max) {
    case .success(let opened): file = opened
    case .failure(.notRegular(let kind)):
      throw CLIError("\(name) is \(kind), not a regular file (for a pipe, use recur stream --binary f32)")
    case .failure(let error): throw CLIError("\(name): \(error.message)")
    }
    let (fd, fileSize) = (file.fd, file.size)
    do {
      layout = try WaveLayout.check(fileSize: fileSize) { offset, count in
        var bytes = [UInt8](repeating: 0, count: count)
        let n = bytes.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, count, off_t(offset)) }
        return Array(bytes.prefix(max(n, 0)))
      }
    } catch {
      throw CLIError("\(name): byte \(error.offset): \(error.problem)")
    }
    var sf = SFInfo()
    guard let handle = lib.open(fd, mode: SF.read, &sf) else {
      let why = lib.message(nil)
      throw CLIError("\(name): not an audio file libsndfile reads (\(why))")
    }
    self.handle = handle  // from here on, a throw runs deinit, which closes it
    (channels, sampleRate, frames) = (Int(sf.channels), Int(sf.samplerate), Int(max(sf.frames, 0)))
    if let layout, layout.channels != channels || layout.frames != frames || layout.sampleRate != sampleRate {
      // Cannot happen for the encodings WaveLayout accepts; a guard against reading one thing and decoding another.
      throw CLIError(
        "\(name): libsndfile reads \(channels) channels, \(frames) frames at \(sampleRate) Hz, the chunks say "
          + "\(layout.channels), \(layout.frames) at \(layout.sampleRate) Hz")
    }
    guard
      channels >= 1 && channels <= WaveLayout.maxChannels && sampleRate >= 1
        && sampleRate <= WaveLayout.maxSampleRate
    else {
      throw CLIError(
        "\(name): \(channels) channels at \(sampleRate) Hz (1 to \(WaveLayout.maxChannels) channels, "
          + "1 to \(WaveLayout.maxSampleRate) Hz)")
    }
  }

  deinit {
    _ = lib.close(handle)  // before `file` closes the descriptor
  }

  /// Where frame `frame` starts, as the message for an error there: a byte offset for WAV, else the frame.
  func position(frame: Int, channel: Int = 0) -> String {
    guard let layout else { return "frame \(frame), channel \(channel + 1)" }
    let bytes = layout.blockAlign / layout.channels
    return "byte \(layout.dataOffset + frame * layout.blockAlign + channel * bytes) (frame \(frame), channel "
      + "\(channel + 1))"
  }

  /// Reads up to `count` frames into `buffer` ([count][channels], interleaved); 0 at the end. A file that ends
  /// before the frames its header promised, or that libsndfile cannot decode, throws.
  func read(into buffer: UnsafeMutablePointer<Float>, frames count: Int) throws(CLIError) -> Int {
    let n = Int(lib.readFloat(handle, buffer, Int64(count)))
    framesRead += max(n, 0)
    if n < count && framesRead < frames {
      throw CLIError(
        "'\(escaped(path))': \(position(frame: framesRead)): the samples end before the \(frames) frames the "
          + "header promises (\(lib.message(handle)))")
    }
    return max(n, 0)
  }
}

// MARK: Writing

/// The output encodings of `--bits`.
enum OutputBits: String, CaseIterable {
  case pcm16 = "16"
  case pcm24 = "24"
  case float32 = "32"
}

/// An audio file being written: nothing exists under its name until `finish`.
final class SoundWriter {
  let lib: LibSndFile
  let path: String
  private let pending: OutputFile.PendingFile
  private var handle: OpaquePointer?

  /// The container comes from the name: .wav (RF64 past 4 GB), .aif / .aiff, .flac.
  static func container(of path: String) -> (format: Int32, name: String)? {
    let lower = path.lowercased()
    if lower.hasSuffix(".wav") || lower.hasSuffix(".wave") { return (SF.rf64, "WAV") }
    if lower.hasSuffix(".aif") || lower.hasSuffix(".aiff") { return (SF.aiff, "AIFF") }
    if lower.hasSuffix(".flac") { return (SF.flac, "FLAC") }
    return nil
  }

  init(_ path: String, lib: LibSndFile, bits: OutputBits, sampleRate: Int, channels: Int) throws(CLIError) {
    (self.lib, self.path) = (lib, path)
    let container = Self.container(of: path)!  // ProcessAudio.validate refused any other name
    let sub: Int32 = bits == .pcm16 ? SF.pcm16 : bits == .pcm24 ? SF.pcm24 : SF.float
    var info = SFInfo(
      frames: 0, samplerate: Int32(sampleRate), channels: Int32(channels), format: container.format | sub)
    guard lib.check(&info) else {
      throw CLIError(
        "output '\(escaped(path))': \(container.name) cannot hold \(bits == .float32 ? "32-bit float" : "\(bits.rawValue)-bit") "
          + "samples of \(channels) channels (FLAC: --bits 16 or 24)")
    }
    do {
      pending = try OutputFile.PendingFile(path)
    } catch {
      throw CLIError(error.message)
    }
    guard let handle = lib.open(pending.fd, mode: SF.write, &info) else {
      throw CLIError("cannot write output '\(escaped(path))': \(lib.message(nil))")
    }
    self.handle = handle
    if container.format == SF.rf64 { _ = lib.command(handle, SF.rf64AutoDowngrade, nil, 1) }  // 1: SF_TRUE
  }

  deinit {
    if let handle { _ = lib.close(handle) }
  }

  private func failure() -> CLIError {
    CLIError("cannot write output '\(escaped(path))': \(lib.message(handle))", afterOutput: true)
  }

  /// Appends `frames` interleaved float frames.
  func write(_ samples: UnsafePointer<Float>, frames: Int) throws(CLIError) {
    guard lib.writeFloat(handle, samples, Int64(frames)) == Int64(frames) else { throw failure() }
  }

  /// Appends `frames` interleaved integer frames, full scale at ±2^31 (libsndfile keeps the top bits).
  func write(_ samples: UnsafePointer<Int32>, frames: Int) throws(CLIError) {
    guard lib.writeInt(handle, samples, Int64(frames)) == Int64(frames) else { throw failure() }
  }

  /// Completes the header, then gives the file its name.
  func finish() throws(CLIError) {
    let status = lib.close(handle)
    handle = nil
    guard status == 0 else { throw CLIError("cannot write output '\(escaped(path))': libsndfile error \(status)") }
    do {
      try pending.commit()
    } catch {
      throw CLIError(error.message)
    }
  }
}
