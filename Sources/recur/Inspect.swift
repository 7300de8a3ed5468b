// `recur inspect`: a readable summary of a model file, or all of it as JSON.

import ArgumentParser
import RecurIO
import RecurRuntimeNative

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - inspect

struct Inspect: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Summarise a model: sizes, parameter count, encoding, provenance, validation statistics.",
    discussion: """
      --json prints the same as one JSON object, plus "tensors": every weight keyed by its PyTorch state_dict name \
      (the recurrent module named after the cell kind: rnn., gru. or lstm.; the readout fc.; a mixture's experts \
      as experts.weight), as nested arrays in PyTorch shapes (statistics that were not measured are null). \
      `recur-train import-torch` reads it back exactly. A chain (format version 5: models imported from GuitarML, \
      AIDA-X / RTNeural or NAM) adds "chain" (its layers in order), "input_skip", "learned_initial_state", \
      "sample_rate" (null: not recorded) and "metadata"; its tensors add dense{j}.weight / dense{j}.bias (j the \
      layer's position in the chain) and KIND.h0_l{k} / KIND.c0_l{k}. import-torch does not read chains back. A \
      forecasting model (format version 6, `recur-train fit`) adds "linear_order" and "interval_horizons", and its \
      tensors linear.weight [O][p*I], linear.bias, interval.probabilities and interval.quantiles [H][O*Q].

      Examples:
        recur inspect --model odd
        recur inspect --model my.recur --json > my.json
      """)

  @OptionGroup var options: ModelOption
  @Flag(help: "Print JSON, including all weights.") var json = false

  func run() throws {
    let file = try ModelSource.load(options.model).file
    let out = OutputWriter(fd: 1)
    if json { writeJSON(file, out) } else { writeSummary(file, out) }
    out.flush()
  }

  func writeSummary(_ f: ModelFile, _ out: OutputWriter) {
    let p = f.provenance
    func num(_ x: Float) -> String { x.isNaN ? "n/a" : shortest(x) }
    if f.formatVersion == 5 {
      // An imported chain: where it came from instead of training statistics it never had.
      let a = f.architecture
      var lines = [
        "model             \(escaped(options.model))",
        "format            Recur model file v\(f.formatVersion), \(f.encoded().count) bytes",
        "layers            \(a.summary)",
        "parameters        \(f.parameterCount)",
        "encoding          \(f.encoding.name): one line of \(a.inputSize) input\(a.inputSize == 1 ? "" : "s") in, "
          + "\(a.outputSize) output\(a.outputSize == 1 ? "" : "s") out per step",
        "source            \(p.family.isEmpty ? "n/a" : escaped(p.family)), sample rate "
          + (f.sampleRate > 0 ? "\(shortest(f.sampleRate)) Hz" : "not recorded"),
      ]
      for entry in f.metadata { lines.append("  \(escaped(entry.key)) = \(escaped(entry.value))") }
      out.text(lines.joined(separator: "\n") + "\n")
      return
    }
    out.text(
      """
      model             \(escaped(options.model))
      format            Recur model file v\(f.formatVersion), \(f.encoded().count) bytes
      cell              \(f.architecture.summary)
      parameters        \(f.parameterCount)
      encoding          \(f.encoding.name), context length \(f.contextLength)
      training          family \(p.family.isEmpty ? "n/a" : escaped(p.family)), seed \(p.seed), \(p.epochs) epochs, \
      batch \(p.batchSize), \(p.trainingSequences) sequences, lr \(num(p.learningRate)), final loss \(num(p.finalLoss))
      \(statistics(f))
      """)
  }

  /// The validation lines: `recur-train fit` models store one-step ARV and MAE on the held-out steps; the family
  /// trainer's models their window and generation statistics.
  func statistics(_ f: ModelFile) -> String {
    let v = f.validation
    func num(_ x: Float) -> String { x.isNaN ? "n/a" : shortest(x) }
    guard let n = f.normalization else {
      return """
        validation        \(v.windows) held-out windows, \(v.seeds) held-out seeds
          window MSE      \(num(v.windowMSE)) (encoded units)
          next value |e|  mean \(num(v.absErrorMean)), sd \(num(v.absErrorSD)), median \(num(v.absErrorMedian)), \
        p95 \(num(v.absErrorP95))
          generation |e|  after 1 step \(num(v.generationError1)), 8 steps \(num(v.generationError8)), \
        20 steps \(num(v.generationError20)) (mean)

        """
    }
    func list(_ values: [Float]) -> String {
      "[" + values.prefix(4).map(shortest).joined(separator: ", ") + (values.count > 4 ? ", ..." : "") + "]"
    }
    return """
      normalization     inputs: shift \(list(n.inputShift)), scale \(list(n.inputScale)); outputs: shift \
      \(list(n.outputShift)), scale \(list(n.outputScale))
      validation        \(v.windows) held-out steps in \(v.seeds) sequence\(v.seeds == 1 ? "" : "s"): one step ahead \
      ARV \(num(v.windowMSE)), MAE \(num(v.absErrorMean)) (data units)
      \(forecastLines(f))
      """
  }

  /// A forecasting model's linear term and intervals (format version 6), one line each, or nothing.
  func forecastLines(_ f: ModelFile) -> String {
    var lines: [String] = []
    if let t = f.linearTerm {
      lines.append(
        "linear part       AR(\(t.order)) over the last \(t.order) step\(t.order == 1 ? "" : "s") of the inputs, "
          + "intercept\(t.bias.count == 1 ? "" : "s") \(t.bias.prefix(4).map(shortest).joined(separator: ", "))")
    }
    if let i = f.intervals {
      lines.append(
        "intervals         \(i.horizons) horizon\(i.horizons == 1 ? "" : "s"), error quantiles at "
          + "\(i.probabilities.count) probabilities from \(shortest(i.probabilities[0])) to "
          + "\(shortest(i.probabilities[i.probabilities.count - 1]))")
    }
    return lines.map { $0 + "\n" }.joined()
  }

  func writeJSON(_ f: ModelFile, _ out: OutputWriter) {
    let p = f.provenance
    let v = f.validation
    func num(_ x: Float) -> String { x.isNaN ? "null" : shortest(x) }
    out.text(
      """
      {
        "format_version": \(f.formatVersion),
        "cell": "\(f.cellKind.name)",
        "layers": \(f.layers),
        "input_size": \(f.inputSize),
        "hidden_size": \(f.hiddenSize),
        "output_size": \(f.outputSize),\(mixtureFields(f))\(chainFields(f))\(forecastFields(f))
        "parameters": \(f.parameterCount),
        "encoding": "\(f.encoding.name)",
        "context_length": \(f.contextLength),
        "provenance": {"family": \(jsonString(p.family)), "seed": \(p.seed), "epochs": \(p.epochs), \
      "batch_size": \(p.batchSize), "training_sequences": \(p.trainingSequences), \
      "learning_rate": \(num(p.learningRate)), "final_loss": \(num(p.finalLoss))},
        "validation": {"windows": \(v.windows), "seeds": \(v.seeds), "window_mse": \(num(v.windowMSE)), \
      "abs_error_mean": \(num(v.absErrorMean)), "abs_error_sd": \(num(v.absErrorSD)), \
      "abs_error_median": \(num(v.absErrorMedian)), "abs_error_p95": \(num(v.absErrorP95)), \
      "generation_error_1": \(num(v.generationError1)), "generation_error_8": \(num(v.generationError8)), \
      "generation_error_20": \(num(v.generationError20))},
        "tensors": {

      """)
    for (index, t) in f.tensors.enumerated() {
      out.text("    \"\(t.spec.name(f.cellKind))\": ")
      writeJSONTensor(
        rows: t.spec.rows, cols: t.spec.cols, isVector: t.spec.role.isVector, text: out.text,
        number: { out.float(t.values[$0]) })
      out.text(index == f.tensors.count - 1 ? "\n" : ",\n")
    }
    out.text("  }\n}\n")
  }
}

/// A mixture readout's sizes as JSON members (nothing for the plain readout, whose JSON is as before format 4).
func mixtureFields(_ f: ModelFile) -> String {
  let a = f.architecture
  return a.isMixture ? "\n  \"experts\": \(a.experts),\n  \"expert_order\": \(a.expertOrder)," : ""
}

/// A forecasting model's linear order and interval sizes as JSON members (format version 6 only; the tensors follow
/// under "tensors" as linear.weight, linear.bias, interval.probabilities and interval.quantiles).
func forecastFields(_ f: ModelFile) -> String {
  guard f.formatVersion == 6 else { return "" }
  return "\n  \"linear_order\": \(f.linearTerm?.order ?? 0),\n  \"interval_horizons\": \(f.intervals?.horizons ?? 0),"
}

/// A chain's layers, skip, initial-state flag, sample rate and metadata as JSON members (format version 5 only).
func chainFields(_ f: ModelFile) -> String {
  guard f.formatVersion == 5 else { return "" }
  let a = f.architecture
  func dense(_ d: DenseLayer) -> String {
    "{\"type\": \"dense\", \"inputs\": \(d.inputs), \"outputs\": \(d.outputs), \"activation\": \"\(d.activation.name)\"}"
  }
  let recurrent = (0..<a.layers).map { k in
    "{\"type\": \"\(a.kind.name)\", \"inputs\": \(k == 0 ? a.cellInputSize : a.hiddenSize), \"outputs\": \(a.hiddenSize)}"
  }
  let readout = DenseLayer(inputs: a.hiddenSize, outputs: a.fcRows, activation: a.readoutActivation)
  let layers = a.inputLayers.map(dense) + recurrent + ([readout] + a.outputLayers).map(dense)
  let metadata = f.metadata.map { "\(jsonString($0.key)): \(jsonString($0.value))" }
  return """

      "chain": [\(layers.joined(separator: ", "))],
      "input_skip": \(a.inputSkip),
      "learned_initial_state": \(a.learnedInitialState),
      "sample_rate": \(f.sampleRate > 0 ? shortest(f.sampleRate) : "null"),
      "metadata": {\(metadata.joined(separator: ", "))},
    """
}

func shortest(_ x: Float) -> String {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
    let n = formatShortest(x, into: buffer.baseAddress!)
    return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<n]), as: UTF8.self)
  }
}
