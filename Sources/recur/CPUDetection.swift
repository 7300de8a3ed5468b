// Which CPU the kernels plan for (Sources/RecurRuntime/Kernels/KernelPlan.swift): detected once at start-up, or
// named by RECUR_CPU (portable, avx2, avx512, neon) to run and test any plan on any machine. A portable build
// (RECUR_PORTABLE=1 at build time: its runtime compiled for baseline x86-64) plans for 4 lanes whatever the CPU has,
// since wider vectors would compile to several baseline instructions each.

import RecurIO
import RecurRuntimeNative

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

enum CPUDetection {
  /// The CPU every model of this process is planned for (set by `Recur.main` before any command runs).
  nonisolated(unsafe) static var current: CPUDescription = .portable

  /// RECUR_CPU's names.
  static let named: [(name: String, cpu: CPUDescription)] = [
    ("portable", .portable), ("avx2", .avx2), ("avx512", .avx512), ("neon", .neon),
  ]

  /// RECUR_CPU if set, else what this build and this machine support; nil with the error line for an unknown name.
  static func detect() -> Result<CPUDescription, CLIError> {
    if let raw = getenv("RECUR_CPU") {
      let name = String(cString: raw)
      if let entry = named.first(where: { $0.name == name }) { return .success(entry.cpu) }
      let names = named.map(\.name).joined(separator: ", ")
      return .failure(CLIError("RECUR_CPU must be one of \(names), got '\(escaped(name))'"))
    }
    return .success(machine())
  }

  /// What this build and this machine support.
  /// - arm64 (Linux, and Apple Silicon Macs): NEON is part of the architecture, nothing to detect.
  /// - x86-64 Linux: the `flags` line of /proc/cpuinfo.
  /// - Anything else, Intel Macs included: `.portable`. Off Linux the manifest compiles RecurRuntimeNative without
  ///   `-target-cpu native` (Package.swift), i.e. for baseline x86-64, where a plan for 8 or 16 lanes would only run
  ///   as several 4-lane instructions per vector; so reading the CPU's features (sysctl `machdep.cpu.leaf7_features`)
  ///   would not make this build faster. RECUR_CPU still names any plan.
  static func machine() -> CPUDescription {
    #if RECUR_PORTABLE
      return .portable
    #elseif arch(arm64)
      return .neon
    #elseif os(Linux) && arch(x86_64)
      return CPUDescription(cpuInfoFlags: cpuInfoFlags())
    #else
      return .portable
    #endif
  }

  /// The words of the first `flags` line of /proc/cpuinfo (empty if it cannot be read: then `.portable`; called on
  /// x86-64 Linux only, though it compiles everywhere: elsewhere the open fails and the answer is empty). Reads
  /// only as far as that line (the first processor's block; the kernel generates the file as it is read, one block per
  /// processor), at most 64 KiB.
  static func cpuInfoFlags() -> [Substring] {
    let fd = open("/proc/cpuinfo", O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { return [] }
    defer { close(fd) }
    var bytes = [UInt8](repeating: 0, count: 65_536)
    var filled = 0
    var line: Substring? = nil
    while filled < bytes.count && line == nil {
      let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
      if n < 0 && errno == EINTR { continue }
      if n <= 0 { break }
      filled += n
      line = flagsLine(String(decoding: bytes[0..<filled], as: UTF8.self))
    }
    guard let line, let colon = line.firstIndex(of: ":") else { return [] }
    return line[line.index(after: colon)...].split(whereSeparator: { $0 == " " || $0 == "\t" })
  }

  /// The first complete line starting with "flags" in `text`, if one has arrived (a newline after it).
  static func flagsLine(_ text: String) -> Substring? {
    var rest = Substring(text)
    while let newline = rest.firstIndex(of: "\n") {
      if rest.hasPrefix("flags") { return rest[..<newline] }
      rest = rest[rest.index(after: newline)...]
    }
    return nil
  }
}
