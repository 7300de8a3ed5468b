// A child process with its own peak RSS. Neither `getrusage(RUSAGE_CHILDREN)` (the largest of every child of this
// test process) nor wait4 on a child this process spawns (posix_spawn's child shares this process's memory until it
// execs, and Linux carries that high-water mark into the child's ru_maxrss: every child then "peaks" at the test
// process's own size) measures it; GNU time, itself small, does: `/usr/bin/time -f %M` (KiB), from the `time`
// package (tools/test installs it when missing). Runs that must be killed or kill themselves skip the measurement.

import Foundation
import RecurTestSupport

struct MeasuredRun {
  var exitStatus: Int32?  // nil when a signal ended it
  var signal: Int32?
  var stdout: [UInt8]
  var stderr: String
  /// Peak resident set size of the child, in KiB (0 when not measured).
  var peakRSSKiB: Int
  var peakRSSMiB: Double { Double(peakRSSKiB) / 1024 }
}

enum Measured {
  /// Runs `executable` with `arguments`, stdin from `stdinPath`. `stdoutLimit`: read at most that many bytes of
  /// stdout, then close the pipe (like `| head -c N`). `killAfter`: SIGKILL the child after that many seconds.
  /// `timeout`: SIGKILL it only if it is still running then (a hang guard: `signal` is SIGKILL; not measured).
  /// `stdoutPath`: stdout goes to that file (e.g. /dev/full) instead of the returned bytes.
  static func run(
    _ executable: String, _ arguments: [String], stdinPath: String = "/dev/null", environment: [String: String] = [:],
    stdoutLimit: Int? = nil, killAfter: Double? = nil, measure: Bool = true, timeout: Double? = nil,
    stdoutPath: String? = nil
  ) -> MeasuredRun {
    let rssPath = FileManager.default.temporaryDirectory.appendingPathComponent("rss-\(UUID().uuidString)").path
    defer { unlink(rssPath) }
    let measuring = measure && runningOnLinux && killAfter == nil && timeout == nil  // GNU time: Linux
    let program = measuring ? "/usr/bin/time" : executable
    let programArguments = measuring ? ["-f", "%M", "-o", rssPath, executable] + arguments : arguments
    var env = ProcessInfo.processInfo.environment
    for (k, v) in environment { env[k] = v }
    let argv = ([program] + programArguments).map { strdup($0) } + [nil]
    let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
    defer {
      argv.forEach { free($0) }
      envp.forEach { free($0) }
    }
    let errPath = FileManager.default.temporaryDirectory.appendingPathComponent("measured-\(UUID().uuidString)").path
    defer { unlink(errPath) }
    var pipeFDs: [Int32] = [0, 0]
    precondition(pipe(&pipeFDs) == 0)
    #if canImport(Darwin)
      var actions: posix_spawn_file_actions_t? = nil  // an opaque pointer there
    #else
      var actions = posix_spawn_file_actions_t()
    #endif
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_addopen(&actions, 0, stdinPath, O_RDONLY, 0)
    if let stdoutPath {
      posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY, 0)
    } else {
      posix_spawn_file_actions_adddup2(&actions, pipeFDs[1], 1)
    }
    posix_spawn_file_actions_addopen(&actions, 2, errPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    posix_spawn_file_actions_addclose(&actions, pipeFDs[0])
    posix_spawn_file_actions_addclose(&actions, pipeFDs[1])
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, program, &actions, nil, argv, envp)
    close(pipeFDs[1])
    precondition(spawned == 0, "posix_spawn \(program): \(String(cString: strerror(spawned)))")
    var killer: Thread? = nil
    if let killAfter {
      let target = pid
      killer = Thread {
        usleep(useconds_t(killAfter * 1_000_000))
        kill(target, SIGKILL)
      }
      killer!.start()
    }
    let finished = Latch()
    if let timeout {
      let target = pid
      killer = Thread {
        var waited = 0.0
        while waited < timeout && !finished.isSet {
          usleep(10_000)
          waited += 0.01
        }
        if !finished.isSet { kill(target, SIGKILL) }
      }
      killer!.start()
    }
    var out: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      if let stdoutLimit, out.count >= stdoutLimit { break }
      let n = buffer.withUnsafeMutableBytes { read(pipeFDs[0], $0.baseAddress!, $0.count) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      out += buffer[0..<n]
    }
    close(pipeFDs[0])
    var status: Int32 = 0
    var usage = rusage()
    while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
    finished.set()
    if let killer { while !killer.isFinished { usleep(1000) } }
    let termSignal = status & 0x7F
    let exited = termSignal == 0
    return MeasuredRun(
      exitStatus: exited ? (status >> 8) & 0xFF : nil, signal: exited ? nil : termSignal, stdout: out,
      stderr: readText(errPath),
      peakRSSKiB: measuring
        ? Int(readText(rssPath).split(separator: "\n").last ?? "") ?? -1
        : 0)
  }

  /// A small text file, read with POSIX calls (`String(contentsOfFile:)` leaks its buffer under LeakSanitizer in
  /// this toolchain's FoundationEssentials).
  static func readText(_ path: String) -> String {
    let fd = open(path, O_RDONLY)
    guard fd >= 0 else { return "" }
    defer { close(fd) }
    var bytes: [UInt8] = []
    var buffer = [UInt8](repeating: 0, count: 4096)
    while true {
      let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
      if n <= 0 { break }
      bytes += buffer[0..<n]
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
