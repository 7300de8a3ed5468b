// Model files read by several commands (`train --init`, `eval`, `fit --init`, `score`): one door, one-line errors.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurText
import RecurTrainer

func readModelBytes(_ path: String, option: String) throws(TrainerError) -> [UInt8] {
  let limit = ModelFormat.maxFileSize
  switch readWholeFile(path, limit: limit) {
  case .success(let bytes):
    return bytes
  case .failure(let error):
    throw .io("\(option) '\(escaped(path))': \(error.modelFileMessage)")
  }
}

/// A model file decoded, or a one-line error naming the option, the file and the byte offset.
func readModelFile(_ path: String, option: String) throws(TrainerError) -> (file: ModelFile, bytes: [UInt8]) {
  let bytes = try readModelBytes(path, option: option)
  do {
    return (try ModelFile(bytes: bytes), bytes)
  } catch {
    throw .io("\(option) '\(escaped(path))': \(error)")
  }
}
