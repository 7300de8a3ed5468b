// Atomic model export: a temporary file in the destination's directory, written in full, fsync'd, then renamed over
// the destination (and the directory fsync'd). A failed or interrupted run never leaves a partial model behind: the
// temporary file is removed on every failure path, and `rename` either happens completely or not at all.

import Foundation

public enum AtomicFile {
  /// The directory part of `path` ("." for a bare file name).
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
  }

  /// Checks, before any work, that `path` can be written: it is not a directory, its directory exists, and a file
  /// can be created there (probed by creating and removing a temporary file).
  public static func checkDestination(_ path: String) throws(TrainerError) {
    guard !path.isEmpty, !path.hasSuffix("/") else {
      throw .invalidOption("output path '\(path)' is not a file name")
    }
    var info = stat()
    if stat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
      throw .invalidOption("output path '\(path)' is a directory")
    }
    let dir = directory(of: path)
    guard stat(dir, &info) == 0 else {
      throw .invalidOption(
        "output directory '\(dir)' does not exist (\(String(cString: strerror(errno))))")
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
      throw .invalidOption("output directory '\(dir)' is not a directory")
    }
    let (fd, temp) = makeTemporary(for: path)
    guard fd >= 0 else {
      throw .invalidOption(
        "cannot write to output directory '\(dir)': \(String(cString: strerror(errno)))")
    }
    close(fd)
    unlink(temp)
  }

  /// Writes `bytes` to `path` atomically, with permissions 0644.
  public static func write(_ bytes: [UInt8], to path: String) throws(TrainerError) {
    let (fd, temp) = makeTemporary(for: path)
    guard fd >= 0 else {
      throw .io("cannot create a temporary file next to '\(path)': \(errnoText())")
    }
    var failure: String? = nil
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let n = Foundation.write(fd, raw.baseAddress! + done, raw.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          failure = "write failed: \(errnoText())"
          return
        }
        done += n
      }
    }
    if failure == nil, fchmod(fd, 0o644) != 0 { failure = "fchmod failed: \(errnoText())" }
    if failure == nil, fsync(fd) != 0 { failure = "fsync failed: \(errnoText())" }
    if close(fd) != 0, failure == nil { failure = "close failed: \(errnoText())" }
    if failure == nil, rename(temp, path) != 0 {
      failure = "rename to '\(path)' failed: \(errnoText())"
    }
    if let failure {
      unlink(temp)
      throw .io("cannot write model '\(path)': \(failure)")
    }
    // Make the rename itself durable (best effort: some file systems refuse fsync on directories).
    let dirFD = open(directory(of: path), O_RDONLY | O_DIRECTORY)
    if dirFD >= 0 {
      _ = fsync(dirFD)
      close(dirFD)
    }
  }

  /// `mkstemp` on "<dir>/.<name>.tmp-XXXXXX"; returns (fd, path), fd < 0 on failure (errno set).
  private static func makeTemporary(for path: String) -> (Int32, String) {
    let name = path.split(separator: "/").last.map(String.init) ?? "model"
    var template = Array("\(directory(of: path))/.\(name).tmp-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return (fd, temp)
  }

  private static func errnoText() -> String { String(cString: strerror(errno)) }
}
