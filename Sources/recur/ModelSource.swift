// `--model NAME|PATH`: a model built into the binary (from Fixtures/models, see BuiltinModels.swift) or a file.

import RecurIO
import RecurRuntimeNative

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

enum ModelSource {
  static var builtinNames: [String] { BuiltinModels.all.map(\.name) }

  /// Loads `--model`: a built-in name takes precedence; anything else is read as a file path.
  static func load(_ spec: String) throws(CLIError) -> RecurrentModel {
    try loadWithBytes(spec).model
  }

  /// The model and the file bytes it was loaded from (golden directories record their checksum).
  static func loadWithBytes(_ spec: String) throws(CLIError) -> (model: RecurrentModel, bytes: [UInt8]) {
    if let builtin = BuiltinModels.all.first(where: { $0.name == spec }) {
      do {
        let bytes = decodeBase64(builtin.base64)
        return (try RecurrentModel(bytes: bytes, cpu: CPUDetection.current), bytes)
      } catch {
        throw CLIError("built-in model '\(spec)' is damaged: \(error)")  // would be a build bug
      }
    }
    let bytes = try readFile(spec)
    do {
      return (try RecurrentModel(bytes: bytes, cpu: CPUDetection.current), bytes)
    } catch {
      throw CLIError("model file '\(spec)': \(error)")
    }
  }

  /// Reads a whole model file through the one opener (RecurIO): a FIFO, a device or a directory is refused before
  /// it could block, and anything larger than the largest valid model before it is read.
  static func readFile(_ path: String) throws(CLIError) -> [UInt8] {
    let limit = ModelFormat.maxFileSize
    switch readWholeFile(path, limit: limit) {
    case .success(let bytes):
      return bytes
    case .failure(.cannotOpen(ENOENT)) where !path.contains("/") && !path.contains("."):
      let names = builtinNames.joined(separator: ", ")
      throw CLIError("model '\(path)': no built-in model of that name (built in: \(names)) and no such file")
    case .failure(let error):
      throw CLIError("model file '\(path)': \(error.modelFileMessage)")
    }
  }
}
