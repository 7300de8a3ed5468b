// Shared helpers for the trainer tests.

import Foundation

@testable import RecurTrainer

/// A fresh empty directory under the system temporary directory.
func makeTemporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent(
    "recur-trainer-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// Options for a run small enough for a debug build (well under a second).
func smallOptions(_ family: SequenceFamily = .odd, seed: UInt64 = 0) -> TrainingOptions {
  var options = TrainingOptions(family: family)
  options.hiddenSize = 8
  options.sequences = 150
  options.validationSequences = 20
  options.epochs = 1
  options.seed = seed
  return options
}

/// `|a − b| / max(|a|, |b|, floor)`.
func relativeError(_ a: Double, _ b: Double, floor: Double) -> Double {
  abs(a - b) / max(abs(a), abs(b), floor)
}

/// The built `recur-train` executable, next to the test bundle in the build products directory.
func recurTrainExecutable() -> URL {
  let runner = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
  var directory = runner.deletingLastPathComponent()
  // On platforms where the tests live in a bundle, walk up to the products directory.
  while directory.pathExtension == "xctest" || directory.lastPathComponent == "MacOS"
    || directory.lastPathComponent == "Contents"
  {
    directory = directory.deletingLastPathComponent()
  }
  return directory.appendingPathComponent("recur-train")
}

struct ProcessResult {
  var status: Int32
  var stdout: String
  var stderr: String
}

/// Runs `recur-train` with `arguments` and collects its output.
func runRecurTrain(_ arguments: [String]) throws -> ProcessResult {
  let process = Process()
  process.executableURL = recurTrainExecutable()
  process.arguments = arguments
  let out = Pipe()
  let err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  let errData = err.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return ProcessResult(
    status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
    stderr: String(decoding: errData, as: UTF8.self))
}

/// The path of a file under Fixtures/ (e.g. "models/odd.recur").
func fixturePath(_ relative: String) -> String {
  URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/\(relative)").standardized.path
}
