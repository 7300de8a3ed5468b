// Running the built `recur` and `recur-train` as real processes (RecurTestSupport's runner), and models built with
// the native runtime's types (RecurRuntimeNative: the `recur` binary's compile, so that in-test answers match its
// output bit for bit) from RecurTestSupport's random draws.

import Foundation
import RecurRuntimeNative
import RecurTestSupport

/// True when this test binary carries AddressSanitizer's or ThreadSanitizer's runtime (`swift test --sanitize=...`
/// builds `recur` and `recur-train` alike), whose allocators a malloc-counting LD_PRELOAD library cannot wrap.
let builtWithAllocatorSanitizer: Bool = {
  #if canImport(Darwin)
    let everyImage = UnsafeMutableRawPointer(bitPattern: -2)  // RTLD_DEFAULT, a macro Swift does not import
  #else
    let everyImage: UnsafeMutableRawPointer? = nil  // RTLD_DEFAULT on glibc
  #endif
  return dlsym(everyImage, "__asan_init") != nil || dlsym(everyImage, "__tsan_init") != nil
}()

enum CLI {
  static let recur = Products.path("recur")
  static let recurTrain = Products.path("recur-train")
  static var temporaryDirectory: URL { TestDirectory.shared }

  /// Runs `recur` (or `executable`) with `arguments`, feeding `input` on stdin (ChildProcess: stdout and stderr
  /// drained together).
  static func run(
    _ arguments: [String], input: Data = Data(), environment: [String: String] = [:], executable: String? = nil,
    directory: URL? = nil
  ) throws -> ProcessResult {
    try ChildProcess.run(
      executable ?? recur, arguments, input: input, environment: environment, directory: directory)
  }

  static func run(_ arguments: [String], stdin: String, executable: String? = nil) throws -> ProcessResult {
    try run(arguments, input: Data(stdin.utf8), executable: executable)
  }

  /// Writes a model file into the temporary directory and returns its path.
  static func writeModel(_ file: ModelFile, name: String) throws -> String {
    let url = temporaryDirectory.appendingPathComponent(name)
    try Data(file.encoded()).write(to: url)
    return url.path
  }
}

/// A small deterministic vanilla RNN (PyTorch's initialisation scale) for CLI behaviour tests.
func sampleModel(hidden: Int = 8, encoding: Encoding = .sequenceMaxScale, context: Int = 4, seed: UInt64 = 1)
  -> ModelFile
{
  var file = stackModel(Architecture(kind: .rnn, hiddenSize: hidden), seed: seed, encoding: encoding, context: context)
  file.provenance.family = "cli-test"
  return file
}

/// A random model of any architecture (every tensor uniform on ±1/sqrt(H), PyTorch's scale), written for the CLI.
func stackModel(_ a: Architecture, seed: UInt64 = 1, encoding: Encoding = .identity, context: Int = 4) -> ModelFile {
  var rng = TestRandom(seed)
  let tensors = rng.tensors(a.tensors.map(\.count), bound: 1 / Float(a.hiddenSize).squareRoot())
  var file = ModelFile(architecture: a, contextLength: context, encoding: encoding, tensors: tensors)
  file.provenance.family = "cli-test"
  return file
}

/// Parses a line of space-separated floats.
func floats(_ line: Substring) -> [Float] { line.split(separator: " ").map { Float(String($0))! } }
