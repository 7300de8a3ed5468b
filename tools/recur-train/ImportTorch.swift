// `recur-train import-torch`: a PyTorch state-dict dump (tools/torch_dump.py) as a model file.

import ArgumentParser
import Foundation
import RecurIO
import RecurRuntime
import RecurTrainer

struct ImportTorch: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import-torch",
    abstract: "Convert a PyTorch state dump (JSON) of the seed model into a model file.",
    discussion: """
      STATE.json is an object keyed by the seed model's state_dict names (rnn.weight_ih_l0, rnn.weight_hh_l0, \
      rnn.bias_ih_l0, rnn.bias_hh_l0, fc.weight, fc.bias) holding nested arrays in PyTorch's shapes, optionally \
      under a top-level "tensors" key. tools/torch_dump.py writes it. Shapes and values are checked; the model is \
      written with the sequence-max-scale encoding (the notebook's generate_sequence), family "pytorch-import".

      Examples:
        python3 tools/torch_dump.py   # see the script for use from a notebook
        recur-train import-torch state.json -o odd.recur
        recur-train import-torch fib_state.json --window 6 -o fib.recur
      """)

  @Argument(help: "The state JSON file.")
  var state: String

  @OptionGroup var output: ModelOutputOption

  @Option(
    parsing: .unconditional, help: "Context length recorded in the model (the training window).")
  var window: Int = 5

  func run() throws {
    let output = try self.output.required()
    guard (1...ModelFormat.maxContextLength).contains(window) else {
      throw TrainerError.invalidOption(
        "--window \(window) is out of range 1...\(ModelFormat.maxContextLength)")
    }
    try AtomicFile.checkDestination(output, inputs: [state])
    let json: [UInt8]
    switch readWholeFile(state, limit: TorchState.maxJSONSize) {
    case .success(let bytes): json = bytes
    case .failure(let error): throw TrainerError.io("'\(escaped(state))': \(error.message)")
    }
    let file: ModelFile
    do {
      file = try TorchState.modelFile(json: json, window: window)
    } catch .importFailed(let message) {
      throw TrainerError.importFailed("'\(escaped(state))': \(message)")  // name the file, as every reader does
    }
    let bytes = file.encoded()
    try AtomicFile.write(bytes, to: output)
    print(
      "Wrote \(escaped(output)): \(bytes.count) bytes, hidden \(file.hiddenSize), \(file.parameterCount) parameters"
    )
  }
}
