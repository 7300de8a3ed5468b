// The one writer: every file any `recur` or `recur-train` command writes (model files, predictions, SVG plots, golden
// directories) goes through `OutputFile` or `OutputDirectory`.
//
// Rules:
//   - The destination must be a regular file or not exist. A symbolic link, a directory, a FIFO or a device is
//     refused before any work (a rename over `/dev/null` would replace the system's, as root), and checked again
//     just before the new file takes its place.
//   - An output never replaces one of the same run's inputs (same device and inode), nor another output of the
//     same run (same directory and name): `fit d -o d` is refused, not a lost data file.
//   - The new bytes go to a file that has no name yet (Linux `O_TMPFILE`) or one created by `mkstemp` (O_EXCL, an
//     unpredictable name, never through a symbolic link), are fsync'd, then renamed over the destination, and the
//     directory is fsync'd. A run that fails (a full disk: ENOSPC from `write` or `fsync`) or is killed at any
//     point before the rename leaves the destination as it was and no temporary file: an unnamed file disappears
//     with its last descriptor. The one window in which a kill leaves a file behind is between `linkat` and `rename`;
//     that file is complete, named `.<name>.tmp-<pid>-<random>`, and the next `checkDestination` of the same
//     destination removes it once its process is gone. Without `O_TMPFILE` (other file systems, macOS): `mkstemp` +
//     rename, removed on every failure path but left by a SIGKILL until the next `checkDestination`.
//   - A directory of several files (`OutputDirectory`) is written complete as a new directory beside the destination,
//     then swapped in (Linux `renameat2(RENAME_EXCHANGE)`, macOS `renamex_np(RENAME_SWAP)`, else two renames), so a
//     failure part-way leaves the old directory exactly as it was, never a mix of new and old files.
// Tests: ExportFaultTests (kills at every stage, a full tmpfs), HostileInputTests (one table of bad destinations).
//
// Test hook: RECUR_TRAIN_FAULT=<stage> makes the process SIGKILL itself at that stage of the next file write
// (created, half-written, written, synced, linked, renamed), exactly as an outside `kill -9` landing there would.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Why an output cannot be written. `beforeWork` errors are found by the checks before any work (a bad command
/// line: callers exit 2); the others happen while writing (exit 1).
public struct OutputError: Error, CustomStringConvertible {
  public let message: String
  public let beforeWork: Bool
  public var description: String { message }
}

public enum OutputFile {
  /// The directory part of `path` ("." for a bare file name).
  public static func directory(of path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return "." }
    let dir = String(path[..<slash])
    return dir.isEmpty ? "/" : dir
  }

  static func fileName(of path: String) -> String {
    path.split(separator: "/").last.map(String.init) ?? "output"
  }

  /// The prefix of every temporary name for `path`: `<dir>/.<name>.tmp-`.
  static func temporaryPrefix(for path: String) -> String { "\(directory(of: path))/.\(fileName(of: path)).tmp-" }

  /// The identity of an output that may not exist yet: its directory's device and inode, and its name.
  public struct Destination: Hashable {
    let directory: FileIdentity?
    let name: String
    public init(_ path: String) {
      (directory, name) = (FileIdentity.of(OutputFile.directory(of: path)), OutputFile.fileName(of: path))
    }
  }

  /// Checks, before any work, that `path` can be written (see the file comment); `what` names it in messages
  /// (`output`, `--predictions`). `inputs` are the run's input files (`-` for standard input): the destination may
  /// not be one of them.
  /// Removes temporary files that a killed earlier write to the same path left behind.
  public static func checkDestination(_ path: String, what: String = "output", inputs: [String] = [])
    throws(OutputError)
  {
    func refuse(_ text: String) -> OutputError {
      OutputError(message: "\(what) '\(escaped(path))' \(text)", beforeWork: true)
    }
    guard !path.isEmpty, !path.hasSuffix("/") else { throw refuse("is not a file name") }
    if let why = replaceRefusal(path) { throw refuse(why) }
    if let mine = FileIdentity.of(path) {
      for input in inputs where FileIdentity.ofInput(input) == mine {
        let name = input == "-" ? "standard input" : "'\(escaped(input))'"
        throw refuse("is also an input of this run (\(name)); refusing to replace it")
      }
    }
    let dir = directory(of: path)
    var info = stat()
    guard stat(dir, &info) == 0 else {
      throw OutputError(
        message: "output directory '\(escaped(dir))' does not exist (\(errnoText()))", beforeWork: true)
    }
    guard (info.st_mode & S_IFMT) == S_IFDIR else {
      throw OutputError(message: "output directory '\(escaped(dir))' is not a directory", beforeWork: true)
    }
    // The probe is an unnamed file where the file system has them, so a kill during the probe leaves nothing.
    let unnamed = openUnnamed(in: dir)
    if unnamed >= 0 {
      close(unnamed)
    } else {
      let (fd, temp) = makeTemporary(for: path)
      guard fd >= 0 else {
        throw OutputError(
          message: "cannot write to output directory '\(escaped(dir))': \(errnoText())", beforeWork: true)
      }
      close(fd)
      unlink(temp)
    }
    removeStaleTemporaries(for: path)
  }

  /// Refuses two outputs of one run that name the same file (`fit -o x --predictions x`): (option, path) pairs.
  public static func checkDistinct(_ outputs: [(what: String, path: String)]) throws(OutputError) {
    var seen: [Destination: String] = [:]
    for (what, path) in outputs {
      if let other = seen[Destination(path)] {
        throw OutputError(
          message: "\(what) '\(escaped(path))' is the same file as \(other); each output needs its own",
          beforeWork: true)
      }
      seen[Destination(path)] = what
    }
  }

  /// Nil when `path` may be replaced (absent or a regular file); otherwise why not.
  static func replaceRefusal(_ path: String) -> String? {
    var info = stat()
    guard lstat(path, &info) == 0 else { return nil }
    switch info.st_mode & S_IFMT {
    case S_IFREG: return nil
    case S_IFLNK: return "is a symbolic link; refusing to replace it (name the file itself)"
    default: return "is \(fileKind(info.st_mode)), not a regular file; refusing to replace it"
    }
  }

  /// Writes `bytes` to `path` atomically, with permissions 0644. `what` names the file in messages (`model`).
  public static func write(_ bytes: [UInt8], to path: String, what: String = "output") throws(OutputError) {
    let file = try PendingFile(path, what: what)
    var failure: OutputError? = nil
    bytes.withUnsafeBytes { raw in
      do throws(OutputError) { try file.write(raw) } catch { failure = error }
    }
    if let failure { throw failure }
    try file.commit()
  }

  /// An output being written: a file with no name yet (or a temporary name) that becomes `path` only in `commit`.
  /// For outputs written piece by piece (`recur process` streams audio through it; libsndfile writes to `fd`).
  /// Dropped without `commit` (an error, a thrown exception), it leaves nothing behind.
  public final class PendingFile {
    /// Open for writing (and reading and seeking: libsndfile rewrites a WAV header at the end).
    public let fd: Int32
    let path: String
    let what: String
    let unnamed: Bool
    var temp: String?  // the name the new bytes have, while they have one that is not `path`
    var finished = false
    let fault = Fault.current

    /// Creates the file in `path`'s directory. Call `checkDestination` first.
    public init(_ path: String, what: String = "output") throws(OutputError) {
      (self.path, self.what) = (path, what)
      var fd = openUnnamed(in: directory(of: path))
      unnamed = fd >= 0
      if !unnamed {
        let made = makeTemporary(for: path)
        (fd, temp) = (made.0, made.1)
        guard fd >= 0 else {
          throw OutputError(
            message: "cannot write \(what) '\(escaped(path))': cannot create a temporary file in "
              + "'\(escaped(directory(of: path)))': \(errnoText())", beforeWork: false)
        }
      }
      self.fd = fd
      fault.reached(.created)
    }

    deinit { if !finished { abandon() } }

    func failure(_ text: String) -> OutputError {
      OutputError(message: "cannot write \(what) '\(escaped(path))': \(text)", beforeWork: false)
    }

    /// Appends `raw` at the file's current offset.
    public func write(_ raw: UnsafeRawBufferPointer) throws(OutputError) {
      var done = 0
      while done < raw.count {
        let chunk = fault.stage == .halfWritten && done == 0 ? max(raw.count / 2, 1) : raw.count - done
        let n = writeBytes(fd, raw.baseAddress! + done, chunk)
        if n < 0 {
          if errno == EINTR { continue }
          throw failure("write failed: \(errnoText())")
        }
        done += n
        fault.reached(.halfWritten)
      }
    }

    /// Makes the written bytes `path`: permissions 0644, fsync, then the name (see the file comment).
    public func commit() throws(OutputError) {
      precondition(!finished, "a pending file is committed once")
      fault.reached(.written)
      if fchmod(fd, 0o644) != 0 { throw failure("fchmod failed: \(errnoText())") }
      if fsync(fd) != 0 { throw failure("fsync failed: \(errnoText())") }
      fault.reached(.synced)
      if let why = replaceRefusal(path) { throw failure("the destination \(why)") }
      if unnamed {
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
          if !linked { throw failure("cannot name the new file: \(errnoText())") }
        } else {
          // No /proc to link through (or linkat refused): copy the bytes into a named temporary file.
          try copyToNamedTemporary()
        }
      }
      finished = true
      if close(fd) != 0 {
        if let temp { unlink(temp) }
        throw failure("close failed: \(errnoText())")
      }
      fault.reached(.linked)
      if let name = temp, rename(name, path) != 0 {
        unlink(name)
        throw failure("rename to '\(escaped(path))' failed: \(errnoText())")
      }
      fault.reached(.renamed)
      syncDirectory(directory(of: path))
    }

    /// The unnamed file's bytes into a `mkstemp` file (`temp`), fsync'd.
    private func copyToNamedTemporary() throws(OutputError) {
      let (named, name) = makeTemporary(for: path)
      guard named >= 0 else { throw failure("cannot create a temporary file: \(errnoText())") }
      temp = name
      var buffer = [UInt8](repeating: 0, count: 1 << 16)
      var offset = 0
      var error: String? = nil
      buffer.withUnsafeMutableBytes { raw in
        while error == nil {
          let n = pread(fd, raw.baseAddress!, raw.count, off_t(offset))
          if n < 0 && errno == EINTR { continue }
          if n < 0 { error = "read back failed: \(errnoText())" }
          if n <= 0 { break }
          var done = 0
          while done < n && error == nil {
            let m = writeBytes(named, raw.baseAddress! + done, n - done)
            if m < 0 && errno != EINTR { error = "write failed: \(errnoText())" }
            if m > 0 { done += m }
          }
          offset += n
        }
      }
      if error == nil, fchmod(named, 0o644) != 0 || fsync(named) != 0 { error = "fsync failed: \(errnoText())" }
      close(named)
      if let error { throw failure(error) }
    }

    /// Closes and removes the file (nothing of it remains).
    public func abandon() {
      guard !finished else { return }
      finished = true
      close(fd)
      if let temp { unlink(temp) }
    }
  }

  /// Makes a rename in `dir` durable (best effort: some file systems refuse fsync on directories).
  static func syncDirectory(_ dir: String) {
    let dirFD = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    if dirFD >= 0 {
      _ = fsync(dirFD)
      close(dirFD)
    }
  }

  /// An unnamed regular file in `directory` (`O_TMPFILE`), or -1 where the system or file system has none.
  /// Darwin has no `O_TMPFILE` (nor /proc to name such a file through): there every write takes the `mkstemp` +
  /// rename path, as on a Linux file system without unnamed files.
  static func openUnnamed(in directory: String) -> Int32 {
    #if os(Linux)
      // O_TMPFILE is __O_TMPFILE | O_DIRECTORY; Glibc's module does not export the macro.
      let tmpfile: Int32 = 0o20_000_000 | O_DIRECTORY
      return open(directory, tmpfile | O_WRONLY | O_CLOEXEC, 0o644)
    #else
      return -1
    #endif
  }

  /// Gives the unnamed file open as `fd` the name `path` (fails with EEXIST when `path` exists).
  static func linkProc(_ fd: Int32, to path: String) -> Bool {
    #if os(Linux)
      return linkat(AT_FDCWD, "/proc/self/fd/\(fd)", AT_FDCWD, path, AT_SYMLINK_FOLLOW) == 0
    #else
      return false  // never called: `openUnnamed` makes no unnamed file off Linux
    #endif
  }

  /// `mkstemp` on "<dir>/.<name>.tmp-<pid>-XXXXXX"; returns (fd, path), fd < 0 on failure (errno set).
  static func makeTemporary(for path: String) -> (Int32, String) {
    var template = Array("\(temporaryPrefix(for: path))\(getpid())-XXXXXX".utf8CString)
    let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
    let temp = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    return (fd, temp)
  }

  /// Removes `<dir>/.<name>.tmp-<pid>-*` regular files whose process `pid` no longer exists.
  static func removeStaleTemporaries(for path: String) {
    let prefix = "." + fileName(of: path) + ".tmp-"
    let dir = directory(of: path)
    for name in directoryEntries(dir) ?? [] where name.hasPrefix(prefix) {
      let digits = name.utf8.dropFirst(prefix.utf8.count).prefix { $0 >= 0x30 && $0 <= 0x39 }
      guard let pid = Int32(String(decoding: digits, as: UTF8.self)), pid > 0 else { continue }
      var info = stat()
      let full = dir + "/" + name
      if kill(pid, 0) != 0 && errno == ESRCH && lstat(full, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG {
        unlink(full)
      }
    }
  }

  /// The fault-injection hook (RECUR_TRAIN_FAULT), read once per write.
  struct Fault {
    enum Stage: String { case created, halfWritten = "half-written", written, synced, linked, renamed }
    var stage: Stage?
    static var current: Fault {
      Fault(stage: getenv("RECUR_TRAIN_FAULT").map { String(cString: $0) }.flatMap(Stage.init(rawValue:)))
    }
    func reached(_ s: Stage) {
      if s == stage { kill(getpid(), SIGKILL) }
    }
  }
}

// MARK: - Directories of several files

public enum OutputDirectory {
  /// Checks, before any work, that `path` may be replaced by a directory this command writes: it does not exist, or
  /// it is a real directory (not a symbolic link) holding regular files only (so `-o ~`, or any directory with
  /// subdirectories, can never be swapped away).
  public static func checkDestination(_ path: String, what: String) throws(OutputError) {
    func refuse(_ text: String) -> OutputError {
      OutputError(message: "\(what) '\(escaped(path))' \(text)", beforeWork: true)
    }
    guard !path.isEmpty else { throw refuse("is not a directory name") }
    let trimmed = trimmingSlashes(path)
    var info = stat()
    if lstat(trimmed, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw refuse("is \(fileKind(info.st_mode)), not a directory; refusing to replace it")
      }
      guard let names = directoryEntries(trimmed) else { throw refuse("cannot be listed: \(errnoText())") }
      for name in names.sorted() {
        var entry = stat()
        guard lstat(trimmed + "/" + name, &entry) == 0, (entry.st_mode & S_IFMT) == S_IFREG else {
          throw refuse(
            "holds '\(escaped(name))', \(fileKind(entry.st_mode)); a directory this command replaces may hold "
              + "regular files only (use a new directory)")
        }
      }
    }
    let parent = OutputFile.directory(of: trimmed)
    guard stat(parent, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
      throw OutputError(message: "\(what) '\(escaped(path))': its parent directory does not exist", beforeWork: true)
    }
    guard access(parent, W_OK) == 0 else {
      throw OutputError(
        message: "\(what) '\(escaped(path))': cannot write in '\(escaped(parent))': \(errnoText())", beforeWork: true)
    }
  }

  /// Writes `files` (name, bytes) as the directory `path`, replacing it whole (see the file comment): a new
  /// directory beside it, every file created with O_EXCL and fsync'd, then swapped in. Regular files of the old
  /// directory that `files` does not hold and `carry(name)` accepts are carried over unchanged (hard links); the
  /// rest of the old directory is removed. Call `checkDestination` first.
  public static func write(
    _ files: [(name: String, bytes: [UInt8])], to path: String, what: String, carry: (String) -> Bool
  ) throws(OutputError) {
    let target = trimmingSlashes(path)
    let parent = OutputFile.directory(of: target)
    var template = Array("\(parent)/.\(OutputFile.fileName(of: target)).tmp-\(getpid())-XXXXXX".utf8CString)
    guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
      throw OutputError(
        message: "cannot write \(what) '\(escaped(path))': cannot create a directory in '\(escaped(parent))': "
          + errnoText(), beforeWork: false)
    }
    let fresh = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    func removeTree(_ dir: String) {
      for name in directoryEntries(dir) ?? [] { unlink(dir + "/" + name) }
      rmdir(dir)
    }
    func fail(_ text: String) -> OutputError {
      removeTree(fresh)
      return OutputError(message: "cannot write \(what) '\(escaped(path))': \(text)", beforeWork: false)
    }
    for (name, bytes) in files {
      let full = fresh + "/" + name
      let fd = open(full, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
      guard fd >= 0 else { throw fail("cannot create \(escaped(name)): \(errnoText())") }
      var failure: String? = nil
      bytes.withUnsafeBytes { raw in
        var done = 0
        while done < raw.count {
          let n = writeBytes(fd, raw.baseAddress! + done, raw.count - done)
          if n < 0 && errno == EINTR { continue }
          guard n > 0 else {
            failure = "write failed: \(errnoText())"
            return
          }
          done += n
        }
      }
      if failure == nil, fsync(fd) != 0 { failure = "fsync failed: \(errnoText())" }
      if close(fd) != 0, failure == nil { failure = "close failed: \(errnoText())" }
      if let failure { throw fail("\(escaped(name)): \(failure)") }
    }
    var info = stat()
    let exists = lstat(target, &info) == 0
    var mode: mode_t = 0o755
    if exists {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw fail("it became \(fileKind(info.st_mode)) while the run worked; left as it is")
      }
      mode = info.st_mode & 0o7777
      let written = Set(files.map(\.name))
      for name in directoryEntries(target) ?? [] where !written.contains(name) && carry(name) {
        var entry = stat()
        guard lstat(target + "/" + name, &entry) == 0, (entry.st_mode & S_IFMT) == S_IFREG else { continue }
        guard link(target + "/" + name, fresh + "/" + name) == 0 else {
          throw fail("cannot carry over '\(escaped(name))': \(errnoText())")
        }
      }
    }
    OutputFile.syncDirectory(fresh)
    guard chmod(fresh, mode) == 0 else { throw fail("chmod failed: \(errnoText())") }
    guard exists else {
      guard rename(fresh, target) == 0 else { throw fail("rename failed: \(errnoText())") }
      OutputFile.syncDirectory(parent)
      return
    }
    // Swap: afterwards `fresh` names the old directory, which is then removed.
    if exchange(fresh, target) {
      removeTree(fresh)
    } else {
      let aside = fresh + "-old"
      guard rename(target, aside) == 0 else { throw fail("cannot move the old directory aside: \(errnoText())") }
      guard rename(fresh, target) == 0 else {
        let why = errnoText()
        _ = rename(aside, target)
        throw fail("rename failed: \(why)")
      }
      removeTree(aside)
    }
    OutputFile.syncDirectory(parent)
  }

  /// Swaps two paths atomically: Linux `renameat2(..., RENAME_EXCHANGE)`, looked up at run time (the C library's
  /// module does not export it); Darwin `renamex_np(..., RENAME_SWAP)` (<stdio.h>, macOS 10.12). False where it is
  /// missing or refused (e.g. a file system without the swap): then two renames do the job.
  static func exchange(_ a: String, _ b: String) -> Bool {
    #if os(Linux)
      typealias RenameAt2 = @convention(c) (Int32, UnsafePointer<CChar>, Int32, UnsafePointer<CChar>, UInt32) -> Int32
      guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "renameat2") else { return false }
      let renameat2 = unsafeBitCast(symbol, to: RenameAt2.self)
      let renameExchange: UInt32 = 1 << 1
      return renameat2(AT_FDCWD, a, AT_FDCWD, b, renameExchange) == 0
    #elseif canImport(Darwin)
      return renamex_np(a, b, UInt32(RENAME_SWAP)) == 0
    #else
      return false
    #endif
  }

  static func trimmingSlashes(_ path: String) -> String {
    var p = Substring(path)
    while p.count > 1 && p.hasSuffix("/") { p = p.dropLast() }
    return String(p)
  }
}

// MARK: - Shared

/// The names in `dir` (without "." and ".."), or nil when it cannot be listed.
public func directoryEntries(_ dir: String) -> [String]? {
  guard let handle = opendir(dir) else { return nil }
  defer { closedir(handle) }
  var names: [String] = []
  while let entry = readdir(handle) {
    let name = withUnsafePointer(to: entry.pointee.d_name) {
      // d_name is char[256] on Linux, char[1024] on Darwin: the whole array, NUL-terminated within it.
      $0.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) {
        String(cString: $0)
      }
    }
    if name != "." && name != ".." { names.append(name) }
  }
  return names
}

func errnoText() -> String { String(cString: strerror(errno)) }

/// `write(2)`; a free function because the writers' own `write` methods shadow the name.
@inline(__always)
func writeBytes(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }

/// Writes all of `text` to `fd` as it is (retrying after interruptions; a closed or failing descriptor ends it
/// quietly): the one stderr writer of `recur` and `recur-train`, which escape what they quote before calling it.
public func writeText(_ text: String, to fd: Int32) {
  var text = text
  text.withUTF8 { bytes in
    var done = 0
    while done < bytes.count {
      let n = writeBytes(fd, bytes.baseAddress! + done, bytes.count - done)
      if n <= 0 {
        if n < 0 && errno == EINTR { continue }
        return
      }
      done += n
    }
  }
}
