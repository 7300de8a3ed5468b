// Running the built products (`recur`, `recur-train`) and other programs as child processes, for every test target:
// one runner that drains stdout and stderr at the same time, and one way to find the products on Linux and macOS.

import Foundation

/// What a child process did.
public struct ProcessResult: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
  /// stdout as bytes (binary output: `stream --binary`, audio).
  public var stdoutBytes: Data
  /// True when the runner's timeout killed the child.
  public var timedOut: Bool
}

public enum ChildProcess {
  /// Runs `executable` with `arguments`, `input` on its stdin, and collects stdout and stderr. Both pipes are read
  /// at the same time, each on its own thread, while the child runs: a child that fills one pipe while the runner
  /// waits on the other cannot deadlock (ProcessRunnerTests writes megabytes to both). stdin comes from a file, so
  /// a huge input cannot block either. `timeout` (seconds) kills a child that is still running then.
  public static func run(
    _ executable: String, _ arguments: [String], input: Data = Data(), environment: [String: String] = [:],
    directory: URL? = nil, timeout: Double? = nil
  ) throws -> ProcessResult {
    let inputURL = TestDirectory.shared.appendingPathComponent("stdin-\(UUID().uuidString)")
    try input.write(to: inputURL)
    defer { try? FileManager.default.removeItem(at: inputURL) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardInput = try FileHandle(forReadingFrom: inputURL)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = PipeDrain(out.fileHandleForReading)
    let stderr = PipeDrain(err.fileHandleForReading)
    let killed = Latch()
    if let timeout {
      let watchdog = Thread {
        let deadline = Date(timeIntervalSinceNow: timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning {
          killed.set()
          kill(process.processIdentifier, SIGKILL)
        }
      }
      watchdog.start()
    }
    let outData = stdout.wait()
    let errData = stderr.wait()
    process.waitUntilExit()
    return ProcessResult(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: outData, timedOut: killed.isSet)
  }
}

/// Reads one pipe to its end on a thread of its own.
private final class PipeDrain: @unchecked Sendable {
  private let done = DispatchSemaphore(value: 0)
  private var data = Data()  // written by the thread before `done` is signalled, read after

  init(_ handle: FileHandle) {
    let thread = Thread { [self] in
      data = handle.readDataToEndOfFile()
      done.signal()
    }
    thread.start()
  }

  func wait() -> Data {
    done.wait()
    return data
  }
}

/// A flag one thread sets and others read.
public final class Latch: @unchecked Sendable {
  private let lock = NSLock()
  private var state = false
  public init() {}
  public func set() { lock.withLock { state = true } }
  public var isSet: Bool { lock.withLock { state } }
}

/// The built products. `swift build` and `swift test` put the executables next to the test runner (Linux:
/// `.build/debug/RecurPackageTests.xctest` is itself an executable there; macOS: a bundle,
/// `.build/debug/RecurPackageTests.xctest/Contents/MacOS/RecurPackageTests`, whose enclosing directory holds them).
public enum Products {
  public static let directory: URL = {
    var url = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
    url.resolveSymlinksInPath()
    var directory = url.deletingLastPathComponent()
    while ["MacOS", "Contents"].contains(directory.lastPathComponent) || directory.pathExtension == "xctest" {
      directory = directory.deletingLastPathComponent()
    }
    return directory
  }()

  /// The path of a built executable, e.g. `Products.path("recur")`.
  public static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}

/// One scratch directory per test process, under the system's temporary directory.
public enum TestDirectory {
  public static let shared: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recur-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }()

  /// A fresh empty directory inside `shared`.
  public static func make(_ prefix: String = "dir") throws -> URL {
    let url = shared.appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

/// The path of a file under the repository's Fixtures/ (e.g. "models/odd.recur").
public func fixturePath(_ relative: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/\(relative)").standardized.path
}

/// True on Linux, where the tests that need Linux-only facilities run (GNU time's peak RSS, /dev/full, LD_PRELOAD,
/// tmpfs mounts, /proc); elsewhere they are skipped with that reason (docs/hardening-and-testing.md).
public let runningOnLinux: Bool = {
  #if os(Linux)
    true
  #else
    false
  #endif
}()
