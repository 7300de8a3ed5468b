// Whole-file reading and writing for the CLI: model files, golden directories.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why `readWholeFile` failed; callers word the message for what the file is.
enum FileReadError: Error {
  case cannotOpen(errno: Int32)
  case notRegular
  case tooLarge(size: Int)

  /// `cannot open: No such file or directory`, `not a regular file`, `file is N bytes (at most M)`.
  func describe(limit: Int) -> String {
    switch self {
    case .cannotOpen(let code): "cannot open: \(String(cString: strerror(code)))"
    case .notRegular: "not a regular file"
    case .tooLarge(let size): "file is \(size) bytes (at most \(limit))"
    }
  }
}

/// Reads a whole regular file, refusing one larger than `limit` before allocating for it. A file that shrinks while
/// it is read yields the bytes that were there (a model's reader then reports the truncation).
func readWholeFile(_ path: String, limit: Int) -> Result<[UInt8], FileReadError> {
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

/// Writes a whole file: a temporary file in the same directory, then a rename, so a failure leaves no half file.
func writeFile(_ path: String, _ bytes: [UInt8]) throws(CLIError) {
  let temporary = "\(path).tmp-\(getpid())"
  let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  guard fd >= 0 else { throw CLIError("cannot write '\(path)': \(String(cString: strerror(errno)))") }
  var written = 0
  while written < bytes.count {
    let n = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
    if n < 0 && errno == EINTR { continue }
    guard n > 0 else {
      let message = String(cString: strerror(errno))
      close(fd)
      unlink(temporary)
      throw CLIError("cannot write '\(path)': \(message)")
    }
    written += n
  }
  guard close(fd) == 0, rename(temporary, path) == 0 else {
    unlink(temporary)
    throw CLIError("cannot write '\(path)': \(String(cString: strerror(errno)))")
  }
}

func makeDirectory(_ path: String) throws(CLIError) {
  if mkdir(path, 0o755) == 0 { return }
  var info = stat()
  guard errno == EEXIST, stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
    throw CLIError("cannot create directory '\(path)': \(String(cString: strerror(errno)))")
  }
}
