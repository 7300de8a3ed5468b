// Running the built `recur` binary as a real process with stdin/stdout pipes.

import Foundation
import RecurRuntimeNative

/// True when this test binary carries AddressSanitizer's or ThreadSanitizer's runtime (`swift test --sanitize=...`
/// builds `recur` and `recur-train` alike), whose allocators a malloc-counting LD_PRELOAD library cannot wrap.
let builtWithAllocatorSanitizer: Bool = dlsym(nil, "__asan_init") != nil || dlsym(nil, "__tsan_init") != nil

struct ProcessResult {
  var status: Int32
  var stdout: String
  var stderr: String
  /// stdout as bytes (binary output: `stream --binary`).
  var stdoutBytes = Data()
}

enum CLI {
  /// The directory holding the test binary also holds the built products (`swift test` builds `recur` first).
  static let productsDirectory: URL = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent()
  }()
  static var recur: String { productsDirectory.appendingPathComponent("recur").path }

  static let temporaryDirectory: URL = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recur-cli-tests-\(getpid())")
    try? FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
  }()

  /// Runs `recur` with `arguments`, feeding `input` on stdin (from a file, so huge inputs cannot deadlock).
  static func run(
    _ arguments: [String], input: Data = Data(), environment: [String: String] = [:], executable: String? = nil,
    directory: URL? = nil
  ) throws -> ProcessResult {
    let inputURL = temporaryDirectory.appendingPathComponent("stdin-\(UUID().uuidString)")
    try input.write(to: inputURL)
    defer { try? FileManager.default.removeItem(at: inputURL) }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable ?? recur)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = directory }
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    process.standardInput = try FileHandle(forReadingFrom: inputURL)
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain both pipes concurrently with the process so large outputs cannot block it.
    nonisolated(unsafe) var errData = Data()
    let errThread = Thread { errData = err.fileHandleForReading.readDataToEndOfFile() }
    errThread.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    while !errThread.isFinished { usleep(1000) }
    return ProcessResult(
      status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
      stderr: String(decoding: errData, as: UTF8.self), stdoutBytes: outData)
  }

  static func run(_ arguments: [String], stdin: String) throws -> ProcessResult {
    try run(arguments, input: Data(stdin.utf8))
  }

  /// Writes a model file into the temporary directory and returns its path.
  static func writeModel(_ file: ModelFile, name: String) throws -> String {
    let url = temporaryDirectory.appendingPathComponent(name)
    try Data(file.encoded()).write(to: url)
    return url.path
  }
}

/// A small deterministic model (PyTorch-like initialisation scale) for CLI behaviour tests.
func sampleModel(hidden: Int = 8, encoding: Encoding = .sequenceMaxScale, context: Int = 4, seed: UInt64 = 1)
  -> ModelFile
{
  var state = seed
  func next() -> Float {
    state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
    return (Float(state >> 40) / Float(1 << 24) * 2 - 1) / Float(hidden).squareRoot()
  }
  func tensor(_ n: Int) -> [Float] { (0..<n).map { _ in next() } }
  var file = ModelFile(
    hiddenSize: hidden, contextLength: context, encoding: encoding, weightIH: tensor(hidden),
    weightHH: tensor(hidden * hidden), biasIH: tensor(hidden), biasHH: tensor(hidden), fcWeight: tensor(hidden),
    fcBias: tensor(1))
  file.provenance.family = "cli-test"
  return file
}

/// Parses a line of space-separated floats.
func floats(_ line: Substring) -> [Float] { line.split(separator: " ").map { Float(String($0))! } }
