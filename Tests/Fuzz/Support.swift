// Shared by every fuzz harness: a contract check that stops the process with a message libFuzzer records next to
// the crashing input, and the writer of generated seed files.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// A broken contract: print what broke (and where in the harness), then trap so libFuzzer saves the input.
func require(
  _ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String, line: UInt = #line
) {
  if condition() { return }
  let text = "fuzz contract broken (harness line \(line)): \(message())\n"
  _ = text.withCString { fputs($0, stderr) }
  fflush(stderr)
  abort()
}

/// Writes `bytes` to `directory/name` (seed corpora; see `RECUR_FUZZ_WRITE_SEEDS` in each harness).
func writeSeed(_ bytes: [UInt8], _ directory: String, _ name: String) {
  guard let f = fopen(directory + "/" + name, "wb") else {
    require(false, "cannot create seed \(directory)/\(name)")
    return
  }
  _ = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, f) }
  fclose(f)
}

/// When the environment names a seed directory, the harness writes its generated seeds there and exits: the
/// committed seeds under `Fixtures/fuzz/` were made this way (`tools/fuzz --write-seeds`).
func seedDirectoryRequested() -> String? {
  guard let p = getenv("RECUR_FUZZ_WRITE_SEEDS") else { return nil }
  return String(cString: p)
}

/// A small deterministic generator for seed weights.
struct SeedRandom {
  var state: UInt64
  mutating func next() -> Float {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return Float(state >> 40) / Float(1 << 24) * 2 - 1
  }
  mutating func values(_ n: Int, scale: Float = 0.5) -> [Float] { (0..<n).map { _ in next() * scale } }
}
