// Shared helpers for the trainer tests.

import Foundation
import RecurTestSupport

@testable import RecurTrainer

/// A fresh empty directory under the test process's scratch directory.
func makeTemporaryDirectory() throws -> URL { try TestDirectory.make("trainer") }

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

/// Runs `recur-train` with `arguments` and collects its output (RecurTestSupport's runner).
func runRecurTrain(_ arguments: [String]) throws -> ProcessResult {
  try ChildProcess.run(Products.path("recur-train"), arguments)
}
