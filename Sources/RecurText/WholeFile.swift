// Whole-file reading, shared by every reader of a file as a whole (`recur`'s model files and golden directories,
// `recur-train`'s --init and --model), so all of them refuse the same things with the same words.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why `readWholeFile` failed; callers word the message for what the file is.
public enum FileReadError: Error {
  case cannotOpen(errno: Int32)
  case notRegular
  case tooLarge(size: Int)

  /// `cannot open: No such file or directory`, `not a regular file`, `file is N bytes (at most M)`.
  public func describe(limit: Int) -> String {
    switch self {
    case .cannotOpen(let code): "cannot open: \(String(cString: strerror(code)))"
    case .notRegular: "not a regular file"
    case .tooLarge(let size): "file is \(size) bytes (at most \(limit))"
    }
  }

  /// The same for a model file, whose size limit reads like the model reader's own error (byte offset first):
  /// `byte 67108864: file is 67108865 bytes; no valid model exceeds 67108864`.
  public func describeModelFile(limit: Int) -> String {
    guard case .tooLarge(let size) = self else { return describe(limit: limit) }
    return "byte \(limit): file is \(size) bytes; no valid model exceeds \(limit)"
  }
}

/// Reads a whole regular file, refusing one larger than `limit` before allocating for it. A file that shrinks while
/// it is read yields the bytes that were there (a model's reader then reports the truncation).
public func readWholeFile(_ path: String, limit: Int) -> Result<[UInt8], FileReadError> {
  let fd = open(path, O_RDONLY)
  guard fd >= 0 else { return .failure(.cannotOpen(errno: errno)) }
  defer { close(fd) }
  var info = stat()
  guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { return .failure(.notRegular) }
  let size = Int(info.st_size)
  guard size <= limit else { return .failure(.tooLarge(size: size)) }
  var bytes = [UInt8](repeating: 0, count: size)
  var filled = 0
  while filled < size {
    let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, size - filled) }
    if n < 0 && errno == EINTR { continue }
    guard n > 0 else { break }
    filled += n
  }
  return .success(Array(bytes[0..<filled]))
}
