// `recur forecast`: the next --steps time steps of a history, with the intervals a `recur-train fit` model stores.

import ArgumentParser
import RecurRuntimeNative
import RecurText

struct Forecast: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Forecast the steps after a history read from stdin, with intervals.",
    discussion: """
      For models written by `recur-train fit` (standardised encodings, input size = output size). Stdin is the \
      history, read as `recur stream` reads it: one number per time step for a one-column model, or one line of I \
      numbers per time step; a blank line starts a new history, and the forecasts continue the last one. The \
      forecasts are free-running: each predicted step is fed back as the next one (exactly `recur generate`).

      Output: a header line, then one line per step: the step number h (1 = the step after the history), then for \
      each output column the forecast and, for each --level L, the interval's lower and upper ends. The interval \
      at level L is forecast + the (1 - L)/2 and (1 + L)/2 quantiles of the errors (truth - forecast) that the \
      model's free-running forecasts h steps ahead made on its validation steps, stored by `recur-train fit` for h \
      up to its --interval-horizons (linear between the stored probabilities, 0.5% to 99.5%). Beyond the stored \
      horizons the interval ends are printed as nan, with a note on stderr. docs/training.md reports the coverage \
      measured on held-out data. Values are printed as the shortest decimal that reads back as the same float.

      Examples:
        recur-train fit Fixtures/data/sunspots.csv --inputs SUNACTIVITY -o sun.recur
        tail -n 40 Fixtures/data/sunspots.csv | cut -d, -f2 \\
          | recur forecast --model sun.recur --steps 11
        recur forecast --model sun.recur --level 50,90 < history.txt
      """)

  @Option(help: "A model file written by `recur-train fit`.") var model: String
  @Option(help: "Time steps to forecast (1...1000000).") var steps: Int = 12
  @Option(help: "Interval levels in percent, comma-separated (default: 80,95 when the model stores intervals).")
  var level: String?

  func validate() throws {
    guard (1...1_000_000).contains(steps) else { throw ValidationError("--steps \(steps) is out of range 1...1000000") }
    if let level { _ = try Self.levels(level) }
  }

  /// `--level`: percentages strictly between 0 and 100.
  static func levels(_ text: String) throws(ValidationError) -> [Float] {
    var out: [Float] = []
    for field in text.split(separator: ",", omittingEmptySubsequences: false) {
      guard let percent = Float(field), percent > 0, percent < 100 else {
        throw ValidationError("--level '\(field)' is not a percentage between 0 and 100 (e.g. --level 80,95)")
      }
      out.append(percent)
    }
    return out
  }

  /// The error probabilities of a central interval of `percent`, each rounded once from (100 ∓ P) / 200, so 50, 80,
  /// 90, 95, 98 and 99 land exactly on the stored probabilities.
  static func ends(_ percent: Float) -> (low: Float, high: Float) { ((100 - percent) / 200, (100 + percent) / 200) }

  func run() throws {
    let output = OutputWriter(fd: 1)
    do throws(CLIError) {
      let model = try ModelSource.load(self.model)
      let file = model.file
      guard file.encoding.isStandardized && model.inputSize == model.outputSize else {
        throw CLIError(
          "model '\(self.model)' is not a forecasting model (encoding \(file.encoding.name), input \(model.inputSize), "
            + "output \(model.outputSize)); recur forecast needs one from recur-train fit (use recur generate)")
      }
      let levels: [Float]
      if let level {
        levels = (try? Self.levels(level)) ?? []  // checked in validate()
        guard levels.isEmpty || file.intervals != nil else {
          throw CLIError(
            "model '\(self.model)' stores no forecast intervals (recur-train fit stores them unless "
              + "--interval-horizons 0): drop --level")
        }
      } else {
        levels = file.intervals == nil ? [] : [80, 95]
      }
      if let intervals = file.intervals {
        let (low, high) = (intervals.probabilities.first!, intervals.probabilities.last!)
        for l in levels where Self.ends(l).low < low || Self.ends(l).high > high {
          throw CLIError(
            "--level \(Self.percentText(l)) needs the error quantiles at \(Self.ends(l).low) and \(Self.ends(l).high); "
              + "the model stores \(low) to \(high)")
        }
      }
      try Self.forecast(model: model, steps: steps, levels: levels, input: InputScanner(fd: 0), output: output)
    } catch {
      fail(output, error.message)
    }
    output.flush()
  }

  /// Reads the history from `input` and writes the header and `steps` forecast lines to `output`.
  static func forecast(
    model: RecurrentModel, steps: Int, levels: [Float], input: InputScanner, output: OutputWriter
  ) throws(CLIError) {
    let n = model.inputSize
    let predictor = SequencePredictor(model: model)  // keeps the last steps a prediction reads, whatever the length
    var step = [Float](repeating: 0, count: n)  // [I] the time step being read
    var (filled, count) = (0, 0)
    var newHistory = false  // a blank line was read: the next number starts a new history
    readLoop: while true {
      let event: ScanEvent
      do { event = try input.next() } catch { throw CLIError(error.description) }
      switch event {
      case .number(let v):
        if newHistory {
          predictor.reset()
          (count, newHistory) = (0, false)
        }
        guard filled < n else { throw Stream.tooManyValues(input, inputs: n) }
        step[filled] = v
        filled += 1
        if n == 1 {
          predictor.record(steps: step, count: 1)
          (count, filled) = (count + 1, 0)
        }
      case .endOfLine(let blank):
        if blank {
          newHistory = true  // (a trailing blank line keeps the last history)
        } else if n > 1 {
          guard filled == n else { throw Stream.wrongCount(input, inputs: n, found: filled) }
          predictor.record(steps: step, count: 1)
          (count, filled) = (count + 1, 0)
        }
      case .endOfInput:
        break readLoop
      }
    }
    guard count > 0 else { throw CLIError("no history on stdin: give at least one time step") }

    var header = "step"
    for o in 0..<n {
      let suffix = n == 1 ? "" : "_\(o + 1)"
      header += " forecast\(suffix)"
      for l in levels {
        let pct = Self.percentText(l)
        header += " lower\(pct)\(suffix) upper\(pct)\(suffix)"
      }
    }
    output.text(header)
    output.byte(UInt8(ascii: "\n"))
    let horizons = model.file.intervals?.horizons ?? 0
    // Generated and printed in blocks: a million steps of 256 columns never sit in memory at once.
    let block = 4096
    var forecasts = [Float](repeating: 0, count: min(steps, block) * n)  // [block][O]
    var h = 0
    while h < steps {
      let count = min(block, steps - h)
      predictor.generate(steps: count, into: &forecasts)
      for k in 0..<count {
        h += 1
        for o in 0..<n where !forecasts[k * n + o].isFinite {
          throw CLIError("the forecast of step \(h) is not finite (overflow); the steps before it are written")
        }
        output.text(String(h))
        for o in 0..<n {
          let f = forecasts[k * n + o]
          output.byte(UInt8(ascii: " "))
          output.float(f)
          for l in levels {
            for p in [Self.ends(l).low, Self.ends(l).high] {
              output.byte(UInt8(ascii: " "))
              if h <= horizons, let q = model.file.intervals?.quantile(p, horizon: h, output: o, outputs: n) {
                output.float(f + q)
              } else {
                output.text("nan")
              }
            }
          }
        }
        output.byte(UInt8(ascii: "\n"))
      }
    }
    if !levels.isEmpty && steps > horizons {
      output.flush()
      writeStandardError(
        "note: the model stores intervals for \(horizons) step\(horizons == 1 ? "" : "s") ahead; steps "
          + "\(horizons + 1)...\(steps) print nan for their ends\n")
    }
  }

  /// 80 for 80, 97.5 for 97.5.
  static func percentText(_ p: Float) -> String { p == p.rounded() ? String(Int(p)) : String(p) }
}
