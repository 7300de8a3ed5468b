// The CLI's streaming loops allocate nothing per value: counted over the whole process with an LD_PRELOAD malloc
// counter, 1,000 values and 1,000,000 values cost the same number of allocations (likewise generate's steps).

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@Suite(
  .serialized,
  .enabled(
    if: runningOnLinux && !builtWithAllocatorSanitizer,
    "an LD_PRELOAD malloc counter over glibc's __libc_malloc: Linux only, not under a sanitizer's allocator"))
struct ProcessAllocationTests {
  static let counterSource = """
    #define _GNU_SOURCE
    #include <stdio.h>
    #include <stdlib.h>
    #include <stddef.h>
    extern void *__libc_malloc(size_t); extern void *__libc_calloc(size_t, size_t);
    extern void *__libc_realloc(void *, size_t); extern void *__libc_memalign(size_t, size_t);
    static unsigned long long count;
    void *malloc(size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_malloc(n); }
    void *calloc(size_t a, size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_calloc(a, n); }
    void *realloc(void *p, size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_realloc(p, n); }
    void *memalign(size_t a, size_t n) { __atomic_fetch_add(&count, 1, __ATOMIC_RELAXED); return __libc_memalign(a, n); }
    void *aligned_alloc(size_t a, size_t n) { return memalign(a, n); }
    int posix_memalign(void **p, size_t a, size_t n) { *p = memalign(a, n); return *p ? 0 : 12; }
    __attribute__((destructor)) static void report(void) {
      const char *path = getenv("RECUR_MALLOC_COUNT_FILE");
      if (!path) return;
      FILE *f = fopen(path, "w"); if (f) { fprintf(f, "%llu\\n", count); fclose(f); }
    }
    """

  static let library: String = {
    let dir = CLI.temporaryDirectory
    let source = dir.appendingPathComponent("malloc_count.c")
    let library = dir.appendingPathComponent("libmalloc_count.so")
    try! counterSource.write(to: source, atomically: true, encoding: .utf8)
    let cc = try! ChildProcess.run("/usr/bin/env", ["cc", "-shared", "-fPIC", "-O2", "-o", library.path, source.path])
    precondition(cc.status == 0, "cc failed: \(cc.stderr)")
    return library.path
  }()

  func allocations(_ arguments: [String], input: Data) throws -> Int {
    let countFile = CLI.temporaryDirectory.appendingPathComponent("count-\(UUID().uuidString)").path
    // Deterministic hashing: with Swift's per-process random hash seeds, start-up dictionaries (argument parsing)
    // grow differently from run to run and the start-up count wobbles by ±2, which would hide nothing but fail.
    let result = try CLI.run(
      arguments, input: input,
      environment: [
        "LD_PRELOAD": Self.library, "RECUR_MALLOC_COUNT_FILE": countFile, "SWIFT_DETERMINISTIC_HASHING": "1",
      ])
    #expect(result.status == 0, "\(result.stderr)")
    let text = try String(contentsOfFile: countFile, encoding: .utf8)
    return Int(text.trimmingCharacters(in: .whitespacesAndNewlines))!
  }

  @Test func streamAllocationsDoNotGrowWithInput() throws {
    let model = try CLI.writeModel(sampleModel(hidden: 16), name: "alloc-stream.recur")
    func numbers(_ n: Int) -> Data { Data((0..<n).map { "\($0 % 1000)\n" }.joined().utf8) }
    let small = try allocations(["stream", "--model", model], input: numbers(1000))
    let large = try allocations(["stream", "--model", model], input: numbers(1_000_000))
    print("recur stream allocations: 1,000 values \(small), 1,000,000 values \(large)")
    #expect(small > 0)  // the counter works: start-up allocates
    #expect(large == small)
  }

  @Test func namedStreamsAllocationsDoNotGrowWithInput() throws {
    let a = Architecture(kind: .gru, layers: 2, inputSize: 1, hiddenSize: 16, outputSize: 1)
    let model = try CLI.writeModel(stackModel(a), name: "alloc-named.recur")
    // 40 streams, interleaved; every name is new within the first 40 lines, so both runs grow the tables alike.
    func lines(_ n: Int) -> Data { Data((0..<n).map { "s\(($0 * 7) % 40) \($0 % 1000)\n" }.joined().utf8) }
    let small = try allocations(["stream", "--streams", "--model", model], input: lines(1000))
    let large = try allocations(["stream", "--streams", "--model", model], input: lines(300_000))
    print("recur stream --streams allocations (40 streams): 1,000 values \(small), 300,000 values \(large)")
    #expect(large == small)
  }

  @Test func gatedStackStreamAllocationsDoNotGrowWithInput() throws {
    for kind in [CellKind.gru, .lstm] {
      let a = Architecture(kind: kind, layers: 2, inputSize: 3, hiddenSize: 16, outputSize: 3)
      let model = try CLI.writeModel(stackModel(a), name: "alloc-\(kind.name).recur")
      func steps(_ n: Int) -> Data { Data((0..<n).map { "\($0 % 7),\($0 % 5) \($0 % 3)\n" }.joined().utf8) }
      let small = try allocations(["stream", "--model", model], input: steps(1000))
      let large = try allocations(["stream", "--model", model], input: steps(300_000))
      print("recur stream allocations (\(kind.name), 2 layers, 3 inputs): 1,000 steps \(small), 300,000 steps \(large)")
      #expect(large == small)
      let short = try allocations(["generate", "--model", model, "--steps", "10", "1", "2", "3"], input: Data())
      let long = try allocations(["generate", "--model", model, "--steps", "100000", "1", "2", "3"], input: Data())
      #expect(long == short)
    }
  }

  @Test func generateAllocationsDoNotGrowWithSteps() throws {
    for encoding in [RecurRuntimeNative.Encoding.sequenceMaxScale, .windowDifferences] {
      let model = try CLI.writeModel(sampleModel(hidden: 16, encoding: encoding), name: "alloc-gen-\(encoding).recur")
      let short = try allocations(["generate", "--model", model, "--steps", "10", "1", "3", "5"], input: Data())
      let long = try allocations(["generate", "--model", model, "--steps", "100000", "1", "3", "5"], input: Data())
      print("recur generate allocations (\(encoding)): 10 steps \(short), 100,000 steps \(long)")
      #expect(long == short)
    }
  }

  /// `recur process`: a 1,000-frame and a 100,000-frame file cost the same allocations (libsndfile's
  /// reading and writing included), for one channel (RecurrentCell), two (BatchCell) and a corrected rate.
  @Test func processAllocationsDoNotGrowWithTheFile() throws {
    var file = stackModel(Architecture(kind: .lstm, layers: 1, inputSize: 1, hiddenSize: 12, outputSize: 1))
    file.sampleRate = 24000
    let model = try CLI.writeModel(file, name: "alloc-process.recur")
    for (channels, extra) in [(1, [String]()), (2, []), (2, ["--sample-rate-correction", "integer"])] {
      // Each run in a directory of its own holding the same names: start-up lists the output's directory (stale
      // temporary files) and quotes paths, so different listings or name lengths would change the count.
      func count(_ frames: Int) throws -> Int {
        let dir = CLI.temporaryDirectory.appendingPathComponent("alloc-\(frames == 1000 ? "a" : "b")-\(channels)")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let samples = (0..<(frames * channels)).map { Float($0 % 100) / 100 - 0.5 }
        let wav = try AudioProcessTests.writeFloatWAV(samples, channels: channels, rate: 48000, name: "alloc.wav")
        let input = dir.appendingPathComponent("in.wav").path
        try FileManager.default.moveItem(atPath: wav, toPath: input)
        let correction = extra.isEmpty ? ["--sample-rate-correction", "none"] : extra
        return try allocations(
          ["process", "--model", model, input, "-o", dir.appendingPathComponent("out.wav").path] + correction,
          input: Data())
      }
      let small = try count(1000)
      let large = try count(100_000)  // 25 blocks
      print("recur process allocations (\(channels) channels \(extra)): 1,000 frames \(small), 100,000 frames \(large)")
      #expect(large == small)
    }
  }
}
