// Fuzz harness: the golden directory reader of `recur golden check` (Sources/recur/GoldenDirectory.swift): the
// manifest parser and the streaming comparison of an output with its `.out` file. A golden directory arrives in
// someone else's pull request, so both read attacker-controlled bytes.
//
// Input: a mode byte, then the manifest's bytes and an expected `.out` file's bytes separated by the first 0xFF
// byte (no UTF-8 text holds one). Mode bit 0: --exact; bits 1-7: the chunk size (1...128) in which the actual
// output is fed to the comparison.
// Contract:
//   - manifest refused: one line of text naming "golden.txt" (and a line of it where it names one), with no control
//     character; accepted: a format-1 manifest whose model is a plain file name or word (no '/', not hidden), every
//     case name 1...64 of [a-z0-9-] and distinct, at most GoldenLimits.maxCases cases, steps in 1...100000, a
//     finite tolerance >= 0; and its `text` parses back to the same model, checksum, tolerance and cases;
//   - comparison: the `.out` bytes compared with themselves (fed in chunks) either report a damaged file (one
//     line, no control character, naming the file, a line and a value: a token that is not a finite number or is
//     longer than 64 bytes) or find no difference at all; compared with an output of one more value, a damaged
//     file or a difference; never more differing values than values compared.

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzGolden(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
  guard size >= 1, let data else { return 0 }
  let mode = data[0]
  let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
  let split = bytes.firstIndex(of: 0xFF) ?? bytes.count
  checkManifest(Array(bytes[..<split]))
  let expected = split < bytes.count ? Array(bytes[(split + 1)...]) : []
  checkComparison(expected, exact: mode & 1 == 1, chunk: 1 + Int(mode >> 1))
  return 0
}

func hasControl(_ text: String) -> Bool {
  text.unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }
}

func checkManifest(_ bytes: [UInt8]) {
  let manifest: GoldenManifest
  do {
    manifest = try GoldenManifest(parsing: bytes, path: "golden.txt")
  } catch {
    require(!hasControl(error.message), "manifest error holds a control character: \(error.message.debugDescription)")
    require(error.message.hasPrefix("golden.txt"), "manifest error does not name the file: \(error.message)")
    return
  }
  require(
    !manifest.model.isEmpty && !manifest.model.contains("/") && !manifest.model.hasPrefix("."),
    "accepted model '\(manifest.model)' names something outside the directory")
  require(
    !manifest.cases.isEmpty && manifest.cases.count <= GoldenLimits.maxCases, "case count \(manifest.cases.count)")
  require(Set(manifest.cases.map(\.name)).count == manifest.cases.count, "repeated case names")
  for c in manifest.cases {
    require(GoldenLimits.isCaseName(c.name.utf8), "accepted case name '\(c.name)'")
    if case .generate(let steps) = c.kind { require((1...100_000).contains(steps), "accepted steps=\(steps)") }
  }
  require(manifest.tolerance.isFinite && manifest.tolerance >= 0, "accepted tolerance \(manifest.tolerance)")
  do {
    let again = try GoldenManifest(parsing: Array(manifest.text.utf8), path: "golden.txt")
    require(
      again.model == manifest.model && again.crc == manifest.crc && again.tolerance == manifest.tolerance
        && again.cases.map(\.name) == manifest.cases.map(\.name)
        && again.cases.map(\.kind) == manifest.cases.map(\.kind), "manifest round trip changed it")
  } catch {
    require(false, "the manifest written back is refused: \(error.message)")
  }
}

/// Compares `actual` (fed `chunk` bytes at a time) with `expected` read through a pipe.
func compare(_ expected: [UInt8], _ actual: [UInt8], exact: Bool, chunk: Int) -> Result<GoldenDiff, CLIError> {
  var fds: [Int32] = [0, 0]
  require(pipe(&fds) == 0, "pipe failed")
  defer { close(fds[0]) }
  // Inputs are at most a few KiB (max_len), below a pipe's buffer: written whole before reading starts.
  let written = expected.withUnsafeBytes { write(fds[1], $0.baseAddress, $0.count) }
  require(written == expected.count, "short pipe write")
  close(fds[1])
  let comparison = GoldenComparison(fd: fds[0], file: "x.out", tolerance: 1e-5, exact: exact, bufferSize: chunk)
  var start = 0
  while start < actual.count {
    let end = min(start + chunk, actual.count)
    actual[start..<end].withUnsafeBufferPointer { comparison.feed($0) }
    start = end
  }
  do { return .success(try comparison.finish()) } catch { return .failure(error) }
}

func checkComparison(_ expected: [UInt8], exact: Bool, chunk: Int) {
  func checkDamage(_ error: CLIError) {
    require(!hasControl(error.message), "damage message holds a control character: \(error.message.debugDescription)")
    require(error.message.hasPrefix("x.out, line "), "damage message does not name file and line: \(error.message)")
  }
  switch compare(expected, expected, exact: exact, chunk: chunk) {
  case .failure(let error):
    checkDamage(error)
  case .success(let diff):
    require(
      diff.differing == 0 && diff.expectedLines == diff.actualLines,
      "a file differs from itself: \(diff.differing) of \(diff.values), lines \(diff.expectedLines)/\(diff.actualLines)"
    )
    require(diff.report(file: "x.out", tolerance: 1e-5, exact: exact) == nil, "a report for identical outputs")
    // One more value on a new last line must be noticed.
    var longer = expected
    if let last = longer.last, last != 0x0A { longer.append(0x0A) }
    longer += Array("1\n".utf8)
    switch compare(expected, longer, exact: exact, chunk: chunk) {
    case .failure(let error): checkDamage(error)
    case .success(let d):
      require(d.differing > 0 || d.expectedLines != d.actualLines, "an extra value went unnoticed")
      require(d.differing <= d.values, "\(d.differing) of \(d.values) values differ")
    }
  }
}
