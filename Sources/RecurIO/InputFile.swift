// The one opener: every file any `recur` or `recur-train` command reads goes through `InputFile.open` (model files,
// golden directories, data files, PyTorch state JSON), so all of them refuse the same things with the same words.
//
// Rules, in order, before a byte is read:
//   1. `lstat`/`stat` the path: anything but a regular file (a directory, a FIFO, a device, a socket) is refused
//      here, before `open` could block on it (a FIFO with no writer blocks `open` forever) or act on it (a tape
//      device rewinds when opened). With `followSymlinks: false` (files inside a golden directory) a symbolic link is
//      refused too.
//   2. `open` with O_NONBLOCK (a FIFO swapped in after step 1 cannot block the open) and O_NOFOLLOW where links are
//      refused, then `fstat` the descriptor: it must still be a regular file, the same one step 1 saw.
//   3. The size is bounded before anything is allocated for it (`limit`): every length in a file, and the file's own
//      length, is attacker-controlled.
// Standard library and libc only (no Foundation): the messages never carry a Foundation error domain.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why a file could not be opened or read; callers prefix what the file is (`model file 'x': ...`).
public enum FileReadError: Error, Equatable {
  case cannotOpen(errno: Int32)
  /// Not a regular file: `kind` says what it is ("a directory", "a FIFO", "a symbolic link", ...).
  case notRegular(kind: String)
  case tooLarge(size: Int, limit: Int)
  case readFailed(errno: Int32)
  /// A regular file with more than one name, opened where that is refused (inside a golden directory).
  case hardLinked(links: Int)

  /// `cannot open: No such file or directory`, `a FIFO, not a regular file`, `file is N bytes (at most M)`.
  public var message: String {
    switch self {
    case .cannotOpen(let code): "cannot open: \(String(cString: strerror(code)))"
    case .notRegular(let kind): "\(kind), not a regular file"
    case .tooLarge(let size, let limit): "file is \(size) bytes (at most \(limit))"
    case .readFailed(let code): "read failed: \(String(cString: strerror(code)))"
    case .hardLinked(let links): "a file with \(links) hard links, not read here (it may be another file's name)"
    }
  }

  /// The message without the `cannot open: ` prefix for a file that cannot be opened (callers that already say
  /// `cannot read 'x': `).
  public var reason: String {
    if case .cannotOpen(let code) = self { return String(cString: strerror(code)) }
    return message
  }

  /// The same for a model file, whose size limit reads like the model reader's own error (byte offset first):
  /// `byte 67108864: file is 67108865 bytes; no valid model exceeds 67108864`.
  public var modelFileMessage: String {
    guard case .tooLarge(let size, let limit) = self else { return message }
    return "byte \(limit): file is \(size) bytes; no valid model exceeds \(limit)"
  }
}

/// The identity of a file on this machine (device and inode): an output must never be one of the run's inputs.
public struct FileIdentity: Hashable, Sendable {
  public let device: UInt64
  public let inode: UInt64

  init(_ info: stat) {
    device = UInt64(truncatingIfNeeded: info.st_dev)
    inode = UInt64(truncatingIfNeeded: info.st_ino)
  }

  /// The identity of what `path` names (links followed), or nil when nothing is there.
  public static func of(_ path: String) -> FileIdentity? {
    var info = stat()
    return stat(path, &info) == 0 ? FileIdentity(info) : nil
  }

  /// The identity of an input as the CLIs name inputs: `-` is standard input (`fit - -o data.txt < data.txt` reads
  /// the file that -o names), anything else a path.
  public static func ofInput(_ path: String) -> FileIdentity? {
    guard path == "-" else { return of(path) }
    var info = stat()
    return fstat(0, &info) == 0 ? FileIdentity(info) : nil
  }
}

/// What kind of file `mode` describes, for messages: "a directory", "a FIFO", ...
func fileKind(_ mode: mode_t) -> String {
  switch mode & S_IFMT {
  case S_IFREG: "a regular file"
  case S_IFDIR: "a directory"
  case S_IFIFO: "a FIFO"
  case S_IFCHR: "a character device"
  case S_IFBLK: "a block device"
  case S_IFSOCK: "a socket"
  case S_IFLNK: "a symbolic link"
  default: "not a file"
  }
}

/// An open regular file, checked as the file comment says; closed when released.
public final class InputFile {
  /// The open descriptor (blocking mode restored): read it directly to stream the file.
  public let fd: Int32
  /// The size `fstat` reported when the file was opened (at most the limit it was opened with).
  public let size: Int
  public let identity: FileIdentity

  private init(fd: Int32, size: Int, identity: FileIdentity) {
    (self.fd, self.size, self.identity) = (fd, size, identity)
  }

  deinit { close(fd) }

  /// Opens `path` for reading when it is a regular file of at most `limit` bytes.
  /// `followSymlinks: false` (inside an untrusted directory: golden directories) refuses a path whose last component
  /// is a symbolic link, and a file with more than one hard link (a link planted to another file, e.g. a key, whose
  /// first token an error message would quote).
  public static func open(_ path: String, limit: Int, followSymlinks: Bool = true) -> Result<InputFile, FileReadError> {
    var before = stat()
    let found = followSymlinks ? stat(path, &before) : lstat(path, &before)
    guard found == 0 else { return .failure(.cannotOpen(errno: errno)) }
    guard (before.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular(kind: fileKind(before.st_mode))) }
    var flags = O_RDONLY | O_NONBLOCK | O_CLOEXEC
    if !followSymlinks { flags |= O_NOFOLLOW }
    let fd = openDescriptor(path, flags)
    guard fd >= 0 else {
      return .failure(errno == ELOOP ? .notRegular(kind: "a symbolic link") : .cannotOpen(errno: errno))
    }
    var info = stat()
    guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG,
      FileIdentity(info) == FileIdentity(before)
    else {
      let kind = fileKind(info.st_mode)
      close(fd)
      return .failure(.notRegular(kind: kind == "a regular file" ? "a file replaced while it was opened" : kind))
    }
    if !followSymlinks && info.st_nlink > 1 {
      close(fd)
      return .failure(.hardLinked(links: Int(info.st_nlink)))
    }
    _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
    let size = Int(info.st_size)
    guard size <= limit else {
      close(fd)
      return .failure(.tooLarge(size: size, limit: limit))
    }
    return .success(InputFile(fd: fd, size: size, identity: FileIdentity(info)))
  }

  /// The whole file (at most `size` bytes: a file that grows while it is read is cut at the size it had; one that
  /// shrinks yields the bytes that were there, and a format's reader then reports the truncation).
  public func readAll() -> Result<[UInt8], FileReadError> {
    var bytes = [UInt8](repeating: 0, count: size)
    var filled = 0
    while filled < size {
      let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, size - filled) }
      if n < 0 && errno == EINTR { continue }
      if n < 0 { return .failure(.readFailed(errno: errno)) }
      if n == 0 { break }
      filled += n
    }
    if filled < size { bytes.removeSubrange(filled...) }
    return .success(bytes)
  }
}

/// Reads a whole regular file of at most `limit` bytes (`InputFile.open` + `readAll`).
public func readWholeFile(_ path: String, limit: Int, followSymlinks: Bool = true) -> Result<[UInt8], FileReadError> {
  switch InputFile.open(path, limit: limit, followSymlinks: followSymlinks) {
  case .success(let file): file.readAll()
  case .failure(let error): .failure(error)
  }
}

/// `open(2)` without a mode (never creates); a free function because `InputFile.open` shadows the name.
@inline(__always)
func openDescriptor(_ path: String, _ flags: Int32) -> Int32 { open(path, flags) }
