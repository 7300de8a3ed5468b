// Whole-file writing for the CLI: golden directories (reading is `readWholeFile`, RecurText).

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

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
