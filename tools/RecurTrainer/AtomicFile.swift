// Atomic model export. The new bytes are written in full to a file in the destination's directory that has no name
// yet (Linux `O_TMPFILE`), fsync'd, given a name (`linkat`), renamed over the destination, and the directory is
// fsync'd. A run that fails (a full disk: ENOSPC from `write` or `fsync`) or is killed (SIGKILL, power loss) at any
// point before the rename leaves the previous model untouched and byte-identical, and no temporary file: an unnamed
// file disappears with its last descriptor. The only window in which a kill can leave a file behind is between
// `linkat` and `rename` (two system calls); that file is complete, named `.<model>.tmp-<pid>-<random>`, and the next
// `checkDestination` of the same destination removes it once its process is gone. When the destination does not
// exist yet, the file is linked under the destination's name directly (no window at all). File systems without
// `O_TMPFILE` (and macOS) get `mkstemp` + rename, removed on every failure path but left behind by a SIGKILL until
// the next `checkDestination`. Tests: `ExportFaultTests` (kills at every stage, a full tmpfs, bad destinations).
//
// Test hook: RECUR_TRAIN_FAULT=<stage> makes the process SIGKILL itself at that stage of the next model write
// (created, half-written, written, synced, linked, renamed), exactly as an outside `kill -9` landing there would.

import Foundation

public enum AtomicFile {
  /// The directory part of `path` ("." for a bare file name).
  static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
  }

  static func fileName(of path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? "model"
  }

  /// The prefix of every temporary name for `path`: `<dir>/.<name>.tmp-`.
  static func temporaryPrefix(for path: String) -> String { "\(directory(of: path))/.\(fileName(of: path)).tmp-" }

  /// Checks, before any work, that `path` can be written: it is not a directory, its directory exists, and a file
  /// can be created there (probed with an unnamed file, or a temporary one created and removed where the file system
  /// has no unnamed files). Removes temporary files that a killed
  /// earlier export to the same path left behind (their process no longer exists).
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
    // The probe is an unnamed file where the file system has them, so a kill during the probe leaves nothing (a
    // named probe killed between mkstemp and unlink left `.<name>.tmp-...` behind: ExportFaultTests caught it).
    let unnamed = openUnnamed(in: dir)
    if unnamed >= 0 {
      close(unnamed)
    } else {
      let (fd, temp) = makeTemporary(for: path)
      guard fd >= 0 else {
        throw .invalidOption(
          "cannot write to output directory '\(dir)': \(String(cString: strerror(errno)))")
      }
      close(fd)
      unlink(temp)
    }
    removeStaleTemporaries(for: path)
  }

  /// Writes `bytes` to `path` atomically, with permissions 0644.
  public static func write(_ bytes: [UInt8], to path: String) throws(TrainerError) {
    try write(bytes, to: path, unnamed: true)
  }

  private static func write(_ bytes: [UInt8], to path: String, unnamed allowUnnamed: Bool) throws(TrainerError) {
    let fault = Fault.current
    var temp: String? = nil  // the name the new bytes have, while they have one that is not `path`
    var fd = allowUnnamed ? openUnnamed(in: directory(of: path)) : -1
    let unnamed = fd >= 0
    if !unnamed {
      let made = makeTemporary(for: path)
      (fd, temp) = (made.0, made.1)
      guard fd >= 0 else {
        throw .io(
          "cannot write model '\(path)': cannot create a temporary file in '\(directory(of: path))': \(errnoText())")
      }
    }
    fault.reached(.created)
    var failure: String? = nil
    bytes.withUnsafeBytes { raw in
      var done = 0
      while done < raw.count {
        let chunk = fault.stage == .halfWritten && done == 0 ? max(raw.count / 2, 1) : raw.count - done
        let n = Foundation.write(fd, raw.baseAddress! + done, chunk)
        if n < 0 {
          if errno == EINTR { continue }
          failure = "write failed: \(errnoText())"
          return
        }
        done += n
        fault.reached(.halfWritten)
      }
    }
    if failure == nil { fault.reached(.written) }
    if failure == nil, fchmod(fd, 0o644) != 0 { failure = "fchmod failed: \(errnoText())" }
    if failure == nil, fsync(fd) != 0 { failure = "fsync failed: \(errnoText())" }
    if failure == nil { fault.reached(.synced) }
    if failure == nil && unnamed {
      // Name it: under `path` itself when nothing is there yet, else under a temporary name, then rename.
      if linkProc(fd, to: path) {
        temp = nil
      } else if errno == EEXIST {
        var linked = false
        for _ in 0..<8 where !linked {
          let candidate = temporaryPrefix(for: path) + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
          if linkProc(fd, to: candidate) {
            (linked, temp) = (true, candidate)
          } else if errno != EEXIST {
            break
          }
        }
        if !linked { failure = "cannot name the new file: \(errnoText())" }
      } else {
        // No /proc to link through (or linkat refused): write it again the named way.
        close(fd)
        return try write(bytes, to: path, unnamed: false)
      }
    }
    if close(fd) != 0, failure == nil { failure = "close failed: \(errnoText())" }
    if failure == nil { fault.reached(.linked) }
    if failure == nil, let name = temp, rename(name, path) != 0 {
      failure = "rename to '\(path)' failed: \(errnoText())"
    }
    if let failure {
      if let temp { unlink(temp) }
      throw .io("cannot write model '\(path)': \(failure)")
    }
    fault.reached(.renamed)
    // Make the rename itself durable (best effort: some file systems refuse fsync on directories).
    let dirFD = open(directory(of: path), O_RDONLY | O_DIRECTORY)
    if dirFD >= 0 {
      _ = fsync(dirFD)
      close(dirFD)
    }
  }

  /// An unnamed regular file in `directory` (`O_TMPFILE`), or -1 where the system or file system has none.
  private static func openUnnamed(in directory: String) -> Int32 {
    #if os(Linux)
      // O_TMPFILE is __O_TMPFILE | O_DIRECTORY; Glibc's module does not export the macro.
      let tmpfile: Int32 = 0o20_000_000 | O_DIRECTORY
      return open(directory, tmpfile | O_WRONLY | O_CLOEXEC, 0o644)
    #else
      return -1
    #endif
  }

  /// Gives the unnamed file open as `fd` the name `path` (fails with EEXIST when `path` exists).
  private static func linkProc(_ fd: Int32, to path: String) -> Bool {
    linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0
  }

  /// `mkstemp` on "<dir>/.<name>.tmp-<pid>-XXXXXX"; returns (fd, path), fd < 0 on failure (errno set).
  private static func makeTemporary(for path: String) -> (Int32, String) {
    var template = Array("\(temporaryPrefix(for: path))\(getpid())-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return (fd, temp)
  }

  /// Removes `<dir>/.<name>.tmp-<pid>-*` files whose process `pid` no longer exists.
  static func removeStaleTemporaries(for path: String) {
    let prefix = "." + fileName(of: path) + ".tmp-"
    let dir = directory(of: path)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return }
    for name in names where name.hasPrefix(prefix) {
      guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0.isNumber }), pid > 0 else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH { unlink(dir + "/" + name) }
    }
  }

  private static func errnoText() -> String { String(cString: strerror(errno)) }

  /// The fault-injection hook (RECUR_TRAIN_FAULT), read once per write.
  struct Fault {
    enum Stage: String { case created, halfWritten = "half-written", written, synced, linked, renamed }
    var stage: Stage?
    static var current: Fault {
      Fault(stage: ProcessInfo.processInfo.environment["RECUR_TRAIN_FAULT"].flatMap(Stage.init(rawValue:)))
    }
    func reached(_ s: Stage) {
      if s == stage { kill(getpid(), SIGKILL) }
    }
  }
}
