// `recur inspect` and `recur bench`.

import ArgumentParser
import RecurRuntime

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
      --json prints the same as one JSON object, plus "tensors": every weight keyed by the seed model's PyTorch \
      state_dict names, as nested arrays in PyTorch shapes (statistics that were not measured are null).

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
    let v = f.validation
    func num(_ x: Float) -> String { x.isNaN ? "n/a" : shortest(x) }
    out.text(
      """
      model             \(options.model)
      format            Recur model file v\(ModelFormat.version), \(f.encoded().count) bytes
      cell              vanilla tanh RNN: input \(f.inputSize), hidden \(f.hiddenSize), output \(f.outputSize)
      parameters        \(f.parameterCount)
      encoding          \(f.encoding.name), context length \(f.contextLength)
      training          family \(p.family.isEmpty ? "n/a" : p.family), seed \(p.seed), \(p.epochs) epochs, \
      batch \(p.batchSize), \(p.trainingSequences) sequences, lr \(num(p.learningRate)), final loss \(num(p.finalLoss))
      validation        \(v.windows) held-out windows, \(v.seeds) held-out seeds
        window MSE      \(num(v.windowMSE)) (encoded units)
        next value |e|  mean \(num(v.absErrorMean)), sd \(num(v.absErrorSD)), median \(num(v.absErrorMedian)), \
      p95 \(num(v.absErrorP95))
        generation |e|  after 1 step \(num(v.generationError1)), 8 steps \(num(v.generationError8)), \
      20 steps \(num(v.generationError20)) (mean)

      """)
  }

  func writeJSON(_ f: ModelFile, _ out: OutputWriter) {
    let p = f.provenance
    let v = f.validation
    func num(_ x: Float) -> String { x.isNaN ? "null" : shortest(x) }
    out.text(
      """
      {
        "format_version": \(ModelFormat.version),
        "cell": "vanilla-tanh",
        "input_size": \(f.inputSize),
        "hidden_size": \(f.hiddenSize),
        "output_size": \(f.outputSize),
        "parameters": \(f.parameterCount),
        "encoding": "\(f.encoding.name)",
        "context_length": \(f.contextLength),
        "provenance": {"family": "\(p.family)", "seed": \(p.seed), "epochs": \(p.epochs), \
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
      out.text("    \"\(t.id.stateDictName)\": [")
      for r in 0..<t.rows {
        if r > 0 { out.text(", ") }
        if !t.id.isVector { out.text("[") }
        for c in 0..<t.cols {
          if c > 0 { out.text(", ") }
          out.float(t.values[r * t.cols + c])
        }
        if !t.id.isVector { out.text("]") }
      }
      out.text(index == f.tensors.count - 1 ? "]\n" : "],\n")
    }
    out.text("  }\n}\n")
  }
}

func shortest(_ x: Float) -> String {
  withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { buffer in
    let n = formatShortest(x, into: buffer.baseAddress!)
    return String(decoding: UnsafeBufferPointer(rebasing: buffer[0..<n]), as: UTF8.self)
  }
}

// MARK: - bench

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure per-step latency and streaming throughput of a model on this machine.",
    discussion: """
      Prints medians over --repeats runs. 'generate' is single-stream free-running generation (SequencePredictor), \
      'step' is RecurrentCell.step with a data-dependent input, 'stream' is SequencePredictor.observe over a \
      precomputed sequence (no text parsing), 'batch' is BatchCell.step over 64 streams (time per stream-step). Build with release flags for meaningful figures (README "Performance").

      Example:
        swift build -c release -Xswiftc -target-cpu -Xswiftc znver4 && .build/release/recur bench --model fib
      """)

  @OptionGroup var options: ModelOption
  @Option(help: "Steps per timed run.") var steps: Int = 200_000
  @Option(help: "Timed runs; the median is reported.") var repeats: Int = 9

  func run() throws {
    guard steps >= 1, steps <= 100_000_000 else { throw CLIError("--steps must be in 1...100000000") }
    guard repeats >= 1, repeats <= 1000 else { throw CLIError("--repeats must be in 1...1000") }
    let model = try ModelSource.load(options.model)
    let predictor = SequencePredictor(model: model)
    let chunk = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)  // [4096] generated values
    let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)  // [4096] streamed input
    defer {
      chunk.deallocate()
      values.deallocate()
    }
    for i in values.indices { values[i] = Float(1 + 2 * (i % 40)) }  // odd runs of 40, restarting
    var sink: Float = 0

    func median(_ run: () -> Void) -> Double {
      run()  // warm-up
      var times: [Double] = []
      for _ in 0..<repeats {
        let start = now()
        run()
        times.append(now() - start)
      }
      return times.sorted()[times.count / 2]
    }

    let seed: [Float] = [1, 3, 5, 7, 9]
    let generate = median {
      seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
      var remaining = steps
      while remaining > 0 {
        let n = min(remaining, chunk.count)
        predictor.generate(into: UnsafeMutableBufferPointer(rebasing: chunk[0..<n]))
        sink += chunk[n - 1]
        remaining -= n
      }
    }
    let cell = predictor.cell
    let step = median {
      cell.reset()
      var x: Float = 0.5
      for _ in 0..<steps { x = cell.step(x) }
      sink += x
    }
    let stream = median {
      predictor.reset()
      var remaining = steps
      while remaining > 0 {
        let n = min(remaining, values.count)
        for i in 0..<n { sink += predictor.observe(values[i]) }
        remaining -= n
      }
    }
    // Batch: 64 independent streams vectorised across SIMD lanes; reported per stream-step.
    let batch = BatchCell(model: model, streams: 64)
    let batchIn = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64)  // [64] one input per stream
    let batchOut = UnsafeMutableBufferPointer<Float>.allocate(capacity: 64)  // [64] one readout per stream
    defer {
      batchIn.deallocate()
      batchOut.deallocate()
    }
    for s in 0..<64 { batchIn[s] = Float(s % 9) * 0.1 }
    let batchSteps = max(1, steps / 64)
    let batched =
      median {
        batch.reset()
        for _ in 0..<batchSteps { batch.step(UnsafeBufferPointer(batchIn), into: batchOut) }
        sink += batchOut[0]
      } * Double(steps) / Double(batchSteps * 64)
    let f = model.file
    print("model \(options.model): hidden \(f.hiddenSize), encoding \(f.encoding.name), context \(f.contextLength)")
    print("median of \(repeats) runs of \(steps) steps (checksum \(shortest(sink)))")
    print("| workload | ns/step | steps/s |")
    print("|---|---:|---:|")
    for (name, seconds) in [
      ("generate (free-running)", generate), ("step (cell only)", step), ("stream (observe)", stream),
      ("batch of 64 streams, per stream-step", batched),
    ] {
      let ns = seconds * 1e9 / Double(steps)
      print("| \(name) | \(fixed(ns, 1)) | \(fixed(1e9 / ns, 0)) |")
    }
  }
}

func now() -> Double {
  var t = timespec()
  clock_gettime(CLOCK_MONOTONIC, &t)
  return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
}

/// `x` with `digits` decimals (no Foundation).
func fixed(_ x: Double, _ digits: Int) -> String {
  var scale = 1.0
  for _ in 0..<digits { scale *= 10 }
  let n = (x * scale).rounded()
  let whole = Int(n / scale)
  guard digits > 0 else { return String(whole) }
  let frac = Int(abs(n) - Double(abs(whole)) * scale)
  let text = String(frac)
  return "\(whole).\(String(repeating: "0", count: digits - text.count))\(text)"
}
