// `recur bench`: per-step latency and throughput of a model on this machine.

import ArgumentParser
import RecurIO
import RecurRuntimeNative
import RecurText

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

// MARK: - bench

struct Bench: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Measure per-step latency and streaming throughput of a model on this machine.",
    discussion: """
      Prints medians over --repeats runs. 'generate' is single-stream free-running generation (the output fed back \
      as the next input; models with input size = output size), 'step' is RecurrentCell.step with each output fed \
      back as the next input (any model; one input and one output: step(_: Float) -> Float), 'stream' is \
      SequencePredictor.observe over a precomputed sequence (no text parsing; models with one input), 'batch' is \
      BatchCell.step over 64 streams, reported per stream-step (any model). Workloads a model cannot run are \
      omitted (null in --json). Build with release flags for meaningful figures (docs/performance.md).

      --json prints one object: model sizes (and "chain": the layers of a format-5 chain, e.g. an imported amp \
      model; null otherwise), "parameters", "sample_rate" and "real_time_factor" (for a model that records its \
      sample rate: seconds of audio one stream processes per second of CPU, 1e9 / (step_ns · rate); null \
      otherwise), step_ns, generate_ns, stream_ns (median ns per single-stream step), \
      stream_values_per_s, batch_streams, batch_ns (per stream-step) and batch_values_per_s.

      --machine measures the lower bounds of a vanilla step on this machine instead (docs/performance.md): the \
      latency of one multiply-add, add and tanh, the peak multiply-add rate and the read bandwidth, and from them, \
      for H = 16 ... 256, the critical path (multiply-add, log2 H adds, tanh), the compute bound (H² multiply-adds \
      at the peak rate) and the memory bound (the step's weights at the read bandwidth of that working set). It \
      uses no model (--model and --steps do not apply); --repeats sets its timed runs (at least 3).

      Example:
        swift build -c release && .build/release/recur bench --model fib --json
      """)

  @OptionGroup var options: ModelOption
  @Option(
    help: """
      Steps per timed run, 1...100000000. (default: 200000, fewer for a model whose step is costly: about 4·10^9 \
      multiply-adds per run)
      """)
  var steps: Int?
  @Option(help: "Timed runs, 1...1000; the median is reported.") var repeats: Int = 9
  @Flag(help: "Print machine-readable JSON.") var json = false
  @Flag(
    help: """
      Measure this machine's lower bounds for a vanilla step instead of a model (the runtime's own primitives, \
      compiled like the kernels).
      """)
  var machine = false

  static let batchStreams = 64

  /// Bad values are a bad command line (exit 2), refused before the model is loaded.
  func validate() throws {
    if let steps, !(1...100_000_000).contains(steps) {
      throw ValidationError("--steps must be in 1...100000000, got \(steps)")
    }
    guard (1...1000).contains(repeats) else { throw ValidationError("--repeats must be in 1...1000, got \(repeats)") }
  }

  func run() throws {
    if machine {
      MachineBounds.measure(repeats: repeats).print(json: json)
      return
    }
    let model = try ModelSource.load(options.model)
    // A step of a windowed encoding runs the cell over its whole window: a 4096-step window of a GRU-64 made the
    // default 200,000 steps × 9 runs about two hours. The default keeps a run near 4·10^9 multiply-adds.
    let file = model.file
    let cost = max(1, file.parameterCount * (file.encoding.isWindowed ? file.contextLength + 1 : 1))
    let steps = self.steps ?? min(200_000, max(100, 4_000_000_000 / cost))
    let a = model.architecture
    let univariate = a.inputSize == 1 && a.outputSize == 1
    let predictor = SequencePredictor(model: model)
    let cell = predictor.cell
    let width = max(a.inputSize, a.outputSize)
    let chunk = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096 * width)  // [4096][width] generated
    let values = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4096)  // [4096] streamed input
    let x = UnsafeMutablePointer<Float>.allocate(capacity: a.inputSize)  // [I] one step's input
    let y = UnsafeMutablePointer<Float>.allocate(capacity: a.readoutSize)  // [R] one step's readout (a mixture: logits)
    defer {
      chunk.deallocate()
      values.deallocate()
      x.deallocate()
      y.deallocate()
    }
    for i in values.indices { values[i] = Float(1 + 2 * (i % 40)) }  // odd runs of 40, restarting
    x.initialize(repeating: 0.5, count: a.inputSize)
    var sink: Float = 0

    /// Median seconds of `repeats` timed runs, per step.
    func median(_ run: () -> Void) -> Double {
      run()  // warm-up
      var times: [Double] = []
      for _ in 0..<repeats {
        let start = now()
        run()
        times.append(now() - start)
      }
      return times.sorted()[times.count / 2] / Double(steps)
    }

    var generate: Double? = nil
    if univariate {
      let seed: [Float] = [1, 3, 5, 7, 9]
      generate = median {
        seed.withUnsafeBufferPointer { predictor.begin(seed: $0) }
        var remaining = steps
        while remaining > 0 {
          let n = min(remaining, 4096)
          predictor.generate(into: UnsafeMutableBufferPointer(rebasing: chunk[0..<n]))
          sink += chunk[n - 1]
          remaining -= n
        }
      }
    } else if a.inputSize == a.outputSize {
      generate = median {
        cell.reset()
        var remaining = steps
        while remaining > 0 {
          let n = min(remaining, 4096)
          cell.freeRun(first: x, steps: n, into: chunk.baseAddress!)
          sink += chunk[n * width - 1]
          remaining -= n
        }
      }
    }
    // One input and one output: the value API, `step(_: Float) -> Float`, the shape of RTNeural's `forward` (a pointer
    // in, the output returned); through `step(_:into:)`'s two buffers, the output's round trip through memory measured
    // about 10 ns more per step (H = 8, AVX2; docs/performance.md). Otherwise the buffer API.
    let step = median {
      cell.reset()
      if a.inputSize == 1 && a.readoutSize == 1 {
        var value = x[0]
        for _ in 0..<steps { value = cell.step(value) }  // data-dependent: the next step waits for this one
        y[0] = value
      } else {
        for _ in 0..<steps {
          cell.step(x, into: y)
          x[0] = y[0]  // data-dependent: the next step waits for this one
        }
      }
      sink += y[0]
      x[0] = 0.5
    }
    let stream: Double
    if univariate {
      stream = median {
        predictor.reset()
        var remaining = steps
        while remaining > 0 {
          let n = min(remaining, values.count)
          for i in 0..<n { sink += predictor.observe(values[i]) }
          remaining -= n
        }
      }
    } else {
      // Several inputs: one time step of `inputSize` values per observation, the values cycling through `values`.
      stream = median {
        predictor.reset()
        for t in 0..<steps {
          for i in 0..<a.inputSize { x[i] = values[(t + i) % values.count] * 0.01 }
          predictor.observe(x, into: y)
          sink += y[0]
        }
      }
    }
    var batched: Double? = nil
    if BatchCell.supports(model) {
      // Many independent streams vectorised across SIMD lanes; reported per stream-step.
      let streams = Self.batchStreams
      let batch = BatchCell(model: model, streams: streams)
      let batchIn = UnsafeMutableBufferPointer<Float>.allocate(capacity: streams * a.inputSize)  // [streams][I]
      let batchOut = UnsafeMutableBufferPointer<Float>.allocate(capacity: streams * a.outputSize)  // [streams][O]
      defer {
        batchIn.deallocate()
        batchOut.deallocate()
      }
      for i in batchIn.indices { batchIn[i] = Float(i % 9) * 0.1 }
      let batchSteps = max(1, steps / streams)
      batched =
        median {
          batch.reset()
          for _ in 0..<batchSteps { batch.step(UnsafeBufferPointer(batchIn), into: batchOut) }
          sink += batchOut[0]
        } * Double(steps) / Double(batchSteps * streams)
    }

    func ns(_ seconds: Double?) -> String { seconds.map { fixed($0 * 1e9, 1) } ?? "null" }
    // Real time at the model's own rate (imported amp models record it): audio seconds per CPU second, one stream.
    let rate = Double(model.file.sampleRate)
    let realTime: Double? = rate > 0 ? 1 / (step * rate) : nil
    func perSecond(_ seconds: Double?) -> String { seconds.map { fixed(1 / $0, 0) } ?? "null" }
    if json {
      say(
        """
        {"model": \(jsonString(options.model)), "cell": "\(a.kind.name)", "layers": \(a.layers), \
        "input_size": \(a.inputSize), "hidden_size": \(a.hiddenSize), "output_size": \(a.outputSize), \
        "chain": \(a.isChain ? jsonString(a.summary) : "null"), "parameters": \(model.file.parameterCount), \
        "sample_rate": \(rate > 0 ? fixed(rate, 0) : "null"), "real_time_factor": \(realTime.map { fixed($0, 1) } ?? "null"), \
        "encoding": "\(model.file.encoding.name)", "steps": \(steps), "repeats": \(repeats), \
        "step_ns": \(ns(step)), "generate_ns": \(ns(generate)), "stream_ns": \(ns(stream)), \
        "stream_values_per_s": \(perSecond(stream)), "batch_streams": \(batched == nil ? "null" : "\(Self.batchStreams)"), \
        "batch_ns": \(ns(batched)), "batch_values_per_s": \(perSecond(batched)), "checksum": \(shortest(sink))}
        """)
      return
    }
    say(
      "model \(escaped(options.model)): \(a.summary), encoding \(model.file.encoding.name), context \(model.file.contextLength)"
    )
    say("median of \(repeats) runs of \(steps) steps (checksum \(shortest(sink)))")
    if let realTime {
      say("real-time factor at the model's \(fixed(rate, 0)) Hz: \(fixed(realTime, 1))x (one stream, step)")
    }
    say("| workload | ns/step | steps/s |")
    say("|---|---:|---:|")
    for (name, seconds) in [
      ("generate (free-running)", generate), ("step (cell only)", step), ("stream (observe)", Optional(stream)),
      ("batch of \(Self.batchStreams) streams, per stream-step", batched),
    ] {
      guard let seconds else { continue }
      say("| \(name) | \(fixed(seconds * 1e9, 1)) | \(fixed(1 / seconds, 0)) |")
    }
  }
}

/// `text` as the inside of a JSON string.
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
