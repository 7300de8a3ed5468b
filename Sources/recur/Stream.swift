// `recur stream`: one prediction of the next time step out for every time step in, hidden state carried.

import ArgumentParser
import RecurRuntimeNative
import RecurText

struct Stream: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Predict the next value for every value on stdin, carrying the hidden state.",
    discussion: """
      Models with one input: numbers are separated by spaces, tabs, commas or newlines; one prediction per line out \
      for each number in. Models with I inputs: each line is one time step of exactly I numbers (separated by \
      spaces, tabs or commas), and each step gives one line of O predictions. A blank line ends the sequence and \
      resets the state. Normalisation is causal: for sequence-max-scale models the scale after value v_t is \
      max(1, |v_1|, ..., |v_t|); window-differences models read only the values seen so far; identity models feed \
      values as they are: a model imported from GuitarML, AIDA-X or NAM (`recur-train import`) reads one line per \
      sample (the sample, then any conditioning values) and prints its output, the input skip included. --raw \
      feeds values to the cell unchanged and prints its readout: a pure function of the \
      weights, for every kind of model.

      --streams runs many independent sequences in one process: the first token of every line names its stream \
      (any token up to 64 printable characters without spaces, tabs or commas; up to 65536 names), the rest of the \
      line is that stream's input as above, and each answer line is 'NAME prediction...', in input order. A new \
      name starts from the initial state (zero; a learned one for imported NAM models); a line holding only a \
      name resets that stream; a line with no token is skipped. \
      Each stream's answers are exactly those `recur stream` prints for its lines alone (the streams run through \
      one BatchCell, 16 per SIMD vector; windowed encodings run one predictor per stream).

      --binary f32 (or f64) reads and writes raw little-endian floats instead of text: I values per time step in, O \
      values per answer out, one sequence with no resets, for pipelines such as \
      `sox in.wav -t f32 -c 1 - | recur stream --binary f32 --model amp.recur | sox -t f32 -r 48000 -c 1 - out.wav`. \
      Errors name the byte offset (a trailing partial value or time step, a value that is not finite); every \
      answer before it is written first.

      Examples:
        seq 1 2 39 | recur stream
        printf '1 1 2 3 5 8\\n\\n2 3 5\\n' | recur stream --model fib
        printf '0.1,0.2,0.3\\n0.2,0.1,0.0\\n' | recur stream --model three-inputs.recur
        printf 'a 1\\nb 10\\na 3\\nb 20\\n' | recur stream --streams
        sox in.wav -t f32 -c 1 - | recur stream --binary f32 --model amp.recur \\
          > out.f32
      """)

  @OptionGroup var options: ModelOption
  @Flag(help: "No normalisation: output = readout after feeding the raw values.") var raw = false
  @Flag(help: "Many streams: the first token of each line names the line's stream.") var streams = false
  @Option(
    help: """
      Raw little-endian floats in and out instead of text (f32 or f64): inputSize values per time step, outputSize \
      values per answer, one sequence. For audio pipelines (sox -t f32).
      """)
  var binary: BinaryFormat?

  func validate() throws {
    if binary != nil && streams {
      throw ValidationError("--binary reads one sequence; --streams needs text (a name on every line)")
    }
  }

  func run() throws {
    let model = try ModelSource.load(options.model)
    if raw { try Self.refuseRaw(model, name: "'\(options.model)'") }
    let output = OutputWriter(fd: 1)
    if let binary {
      do throws(CLIError) {
        try BinaryStream.run(model: model, raw: raw, format: binary, fd: 0, output: output)
      } catch {
        fail(output, error.message)
      }
      output.flush()
      return
    }
    let input = InputScanner(fd: 0, namesFirst: streams)
    input.beforeBlocking = { output.flush() }
    let runner = streams ? NamedStreams(model: model, raw: raw, output: output) : nil
    if let runner {  // answer the pending round before blocking, so interactive use sees every answer at once
      input.beforeBlocking = { [unowned runner] in
        do throws(CLIError) { try runner.runPending() } catch { fail(output, error.message) }
        output.flush()
      }
    }
    do throws(CLIError) {
      if let runner {
        try runner.run(input)
      } else {
        try Self.stream(model: model, raw: raw, input: input, output: output)
      }
    } catch {
      fail(output, error.message)
    }
    output.flush()
  }

  /// The error for a value beyond the model's `inputs` on a line.
  static func tooManyValues(_ input: InputScanner, inputs: Int) -> CLIError {
    CLIError(
      "line \(input.currentLine), column \(input.lastNumberColumn): more than \(inputs) values on a line "
        + "(the model reads \(inputs) per time step)")
  }

  /// The error for a line that ended with `found` of the model's `inputs` values.
  static func wrongCount(_ input: InputScanner, inputs: Int, found: Int) -> CLIError {
    CLIError(
      "line \(input.endedLine), column \(input.lineEndColumn): expected \(inputs) values on the line, found \(found)")
  }

  /// The error for a prediction that overflowed.
  static func nonFinite(line: Int, column: Int, inputs: Int) -> CLIError {
    CLIError(
      "line \(line), column \(column): the prediction after this \(inputs == 1 ? "value" : "step") is not finite "
        + "(overflow)")
  }

  /// `--raw` prints the cell's readout, which for a mixture model is one logit per expert, not a prediction.
  static func refuseRaw(_ model: RecurrentModel, name: String = "the model") throws(CLIError) {
    guard model.architecture.isMixture else { return }
    throw CLIError(
      "--raw prints the cell's readout, and \(name) has a mixture readout (the logits of its "
        + "\(model.architecture.experts) experts, not a prediction): drop --raw")
  }

  /// Reads every time step from `input` and writes one prediction line per step to `output` (the whole of `recur
  /// stream`; `recur golden` runs it on files). Throws a `line L, column C: ...` error after writing every earlier
  /// answer to `output` (unflushed).
  static func stream(model: RecurrentModel, raw: Bool, input: InputScanner, output: OutputWriter) throws(CLIError) {
    if raw { try refuseRaw(model) }
    let predictor = SequencePredictor(model: model)
    let inputs = model.inputSize
    let outputs = model.outputSize
    let step = UnsafeMutablePointer<Float>.allocate(capacity: inputs)  // [I] the time step being read
    let prediction = UnsafeMutablePointer<Float>.allocate(capacity: outputs)  // [O] its prediction
    defer {
      step.deallocate()
      prediction.deallocate()
    }
    var filled = 0  // values of the current time step read so far
    var firstColumn = 0

    /// Runs one complete time step and prints its prediction.
    func answer(line: Int, column: Int) throws(CLIError) {
      predictor.answer(step, into: prediction, raw: raw)
      for o in 0..<outputs {
        guard prediction[o].isFinite else {
          if o > 0 { output.byte(UInt8(ascii: "\n")) }
          throw nonFinite(line: line, column: column, inputs: inputs)
        }
        if o > 0 { output.byte(UInt8(ascii: " ")) }
        output.float(prediction[o])
      }
      output.byte(UInt8(ascii: "\n"))
    }

    while true {
      let event: ScanEvent
      do { event = try input.next() } catch { throw CLIError(error.description) }
      switch event {
      case .number(let v):
        if inputs == 1 {  // every value is a time step
          step[0] = v
          try answer(line: input.currentLine, column: input.lastNumberColumn)
          continue
        }
        guard filled < inputs else { throw tooManyValues(input, inputs: inputs) }
        if filled == 0 { firstColumn = input.lastNumberColumn }
        step[filled] = v
        filled += 1
      case .endOfLine(let blank):
        if blank {
          predictor.reset()
        } else if inputs > 1 {  // a line is one time step: answered once it is complete and whole
          guard filled == inputs else { throw wrongCount(input, inputs: inputs, found: filled) }
          filled = 0
          try answer(line: input.endedLine, column: firstColumn)
        }
      case .endOfInput:
        return
      }
    }
  }
}

extension SequencePredictor {
  /// One time step's answer as `recur stream` prints it (text, binary, named streams): with `--raw` the cell's
  /// readout, else the prediction.
  @inline(__always)
  func answer(_ values: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, raw: Bool) {
    if raw { cell.step(values, into: out) } else { observe(values, into: out) }
  }
}
