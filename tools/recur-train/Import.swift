// `recur-train import`: amp and pedal models of other tools (GuitarML, RTNeural Keras / AIDA-X, NAM) and PyTorch
// state dumps, converted to model files.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurTrainer

struct Import: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Convert a GuitarML, AIDA-X / RTNeural, NAM LSTM or PyTorch model file into a Recur model file.",
    discussion: """
      The format is detected from the content:
        Automated-GuitarAmpModelling / GuitarML JSON   {"model_data": ..., "state_dict": ...}
        RTNeural's Keras JSON, AIDA-X .json / .aidax   {"in_shape": ..., "layers": [...]}
        Neural Amp Modeler .nam with "architecture": "LSTM"
        a PyTorch state dict JSON                       as import-torch (--window applies)
      The audio formats become a chain (format version 5: dense layers, one recurrent stack, dense layers, the \
      input skip, learned initial states) with the identity encoding: `recur stream --model M` reads one line of \
      inputs per step and prints the outputs. Anything Recur cannot run exactly (convolutions, WaveNet, \
      batchnorm, a GRU without reset_after, ...) is refused with the layer's index and type.

      Examples:
        recur-train import Proteus_Tone.json -o proteus.recur
        recur-train import amp.aidax -o amp.recur
        recur-train import lstm-amp.nam -o lstm-amp.recur
        recur-train import Proteus_Tone.json --sample-rate 44100 -o proteus.recur
      """)

  @Argument(help: "The model file to convert.")
  var source: String

  @OptionGroup var output: ModelOutputOption

  @Option(parsing: .unconditional, help: "Context length recorded for a PyTorch state dict (as import-torch).")
  var window: Int = 5

  @Option(
    parsing: .unconditional,
    help: "The sample rate the model was trained at, in Hz, recorded in the model (replaces the file's own, if any).")
  var sampleRate: Double?

  func run() throws {
    let output = try self.output.required()
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw TrainerError.invalidOption("--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    if let sampleRate, !(sampleRate > 0 && sampleRate <= 10_000_000) {
      throw TrainerError.invalidOption("--sample-rate \(sampleRate) is out of range (0, 10000000] Hz")
    }
    try AtomicFile.checkDestination(output, inputs: [source])
    let json: [UInt8]
    switch readWholeFile(source, limit: TorchState.maxJSONSize) {
    case .success(let bytes): json = bytes
    case .failure(let error): throw TrainerError.io("'\(escaped(source))': \(error.message)")
    }
    let imported = try Self.read(json, window: window, source: source)
    var file = imported.file
    if let sampleRate {
      guard file.encoding == .identity && !file.architecture.isMixture else {
        throw TrainerError.invalidOption(
          "--sample-rate is recorded for models with the identity encoding; this one's is \(file.encoding.name)")
      }
      file.sampleRate = Float(sampleRate)
    }
    let bytes = file.encoded()
    try AtomicFile.write(bytes, to: output)
    print(
      "Wrote \(escaped(output)): \(imported.format.rawValue), \(file.architecture.summary); \(bytes.count) "
        + "bytes, \(file.parameterCount) parameters")
  }
}

extension Import {
  /// The import, its errors naming the source file (as every reader does).
  static func read(_ json: [UInt8], window: Int, source: String) throws(TrainerError) -> (
    file: ModelFile, format: ModelImport.Format
  ) {
    do {
      return try ModelImport.modelFile(json: json, window: window)
    } catch .importFailed(let message) {
      throw .importFailed("'\(escaped(source))': \(message)")
    } catch {
      throw error
    }
  }
}
