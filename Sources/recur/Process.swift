// `recur process`: an audio file through a model (an amp or pedal model imported with `recur-train import`), sample
// by sample with the state carried across the whole file, into an audio file at the same rate.
//
// Memory is bounded by the block (`blockFrames` frames of every channel), not the file; the loop allocates nothing
// per block (ProcessAllocationTests). The output takes its name only when complete (SoundWriter), so a failed or
// interrupted run leaves nothing behind.

import ArgumentParser
import RecurIO
import RecurRuntimeNative

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension OutputBits: ExpressibleByArgument {}

enum DitherMode: String, ExpressibleByArgument, CaseIterable { case tpdf, none }

/// What to do when the file's rate is not the model's (RateCorrectedCell).
enum RateCorrection: String, ExpressibleByArgument, CaseIterable { case none, integer, linear }

struct ProcessAudio: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "process",
    abstract: "Run an audio file through a model (amp and pedal models), sample by sample, into an audio file.",
    discussion: """
      Reads WAV (PCM 8/16/24/32-bit, float 32/64-bit, WAVE_FORMAT_EXTENSIBLE, RF64), AIFF, FLAC and the other \
      containers libsndfile reads (loaded at run time: apt-get install libsndfile1, brew install libsndfile). \
      Every channel is its own stream through the model, state carried across the whole file. The output has the \
      input's rate and channels; its container follows its name (.wav, .aif/.aiff, .flac), its samples --bits \
      (32: float, the default for WAV and AIFF; 16 or 24: integers, TPDF-dithered unless --dither none; FLAC \
      holds integers only and defaults to 24). Float output keeps values beyond ±1.0; integer output clips them \
      (both counted in a note).

      The model needs one output, and one input per channel sample plus one --condition value for each further \
      input (knobs: the sample first, then the conditions, constant over the file). A model that records its \
      sample rate refuses a file at another rate unless --sample-rate-correction says what to do: none (run it \
      anyway), integer (the file's rate is an integer multiple r of the model's: each recurrent layer reads its \
      state from r steps back), linear (any rate at or above the model's: the state from r steps back, linearly \
      interpolated), as RTNeural's SampleRateCorrectionMode does.

      Examples:
        recur process --model amp.recur guitar.wav -o amped.wav
        recur process --model neuralpi.recur --condition 0.5 di.flac -o out.wav \\
          --bits 24
        recur process --model amp48k.recur take-96k.wav -o out.wav \\
          --sample-rate-correction integer
      """)

  @Option(name: .long, help: "The model: a .recur file (recur-train import makes one from GuitarML, AIDA-X or NAM).")
  var model: String
  @Argument(help: "The audio file to read.") var input: String
  @Option(name: [.customShort("o"), .long], help: "The audio file to write (.wav, .aif, .aiff or .flac).")
  var output: String
  @Option(help: "A conditioning input (a knob), in model input order after the sample; one per extra input.")
  var condition: [Float] = []
  @Option(help: "Output samples: 32 (float), 24 or 16 (integers). Default 32, FLAC 24.") var bits: OutputBits?
  @Option(help: "Dither for 16- and 24-bit output: tpdf or none.") var dither: DitherMode = .tpdf
  @Option(help: "When the file's rate is not the model's: none, integer or linear.")
  var sampleRateCorrection: RateCorrection?
  @Flag(help: "No progress line (it is shown only on a terminal).") var noProgress = false

  static let blockFrames = 4096

  func validate() throws {
    for v in condition where !v.isFinite { throw ValidationError("--condition \(v) is not a finite number") }
    guard SoundWriter.container(of: output) != nil else {
      throw ValidationError("output '\(escaped(output))': name it .wav, .aif, .aiff or .flac")
    }
  }

  func run() throws {
    try runProcess()
  }

  // The work, with typed throws in a helper (Swift 6.3.1's ownership verifier crashes on a typed catch in run()).
  private func runProcess() throws(CLIError) {
    let lib = try LibSndFile.load()
    let model = try ModelSource.load(model)
    let a = model.architecture
    let name = "'\(escaped(self.model))'"
    guard model.file.encoding == .identity, !a.isMixture else {
      throw CLIError(
        "model \(name) uses the \(model.file.encoding.name) encoding\(a.isMixture ? " and a mixture readout" : ""); "
          + "recur process runs sample-to-sample models (identity encoding: recur-train import makes them)")
    }
    guard model.outputSize == 1 else {
      throw CLIError("model \(name) has \(model.outputSize) outputs; recur process needs one per sample")
    }
    guard condition.count == model.inputSize - 1 else {
      let wanted = model.inputSize - 1
      throw CLIError(
        "model \(name) has \(model.inputSize) input\(model.inputSize == 1 ? "" : "s") (the sample"
          + (wanted > 0 ? " and \(wanted) condition\(wanted == 1 ? "" : "s")" : "")
          + "), given \(condition.count) --condition value\(condition.count == 1 ? "" : "s")")
    }
    do {
      try OutputFile.checkDestination(output, inputs: [input])
    } catch {
      throw CLIError(error.message)
    }
    let reader = try SoundReader(input, lib: lib)
    let correction = try rateCorrection(modelRate: Double(model.file.sampleRate), fileRate: reader.sampleRate)
    let container = SoundWriter.container(of: output)!  // validate() refused other names
    let bits = bits ?? (container.name == "FLAC" ? .pcm24 : .float32)
    let writer = try SoundWriter(
      output, lib: lib, bits: bits, sampleRate: reader.sampleRate, channels: reader.channels)
    let processor = AudioProcessor(
      model: model, channels: reader.channels, conditions: condition, correction: correction)
    var quantizer = bits == .float32 ? nil : Quantizer(bits: bits == .pcm16 ? 16 : 24, dither: dither == .tpdf)

    let c = reader.channels
    let block = UnsafeMutablePointer<Float>.allocate(capacity: Self.blockFrames * c)  // [blockFrames][channels]
    let integers = UnsafeMutablePointer<Int32>.allocate(capacity: Self.blockFrames * c)  // the same, quantized
    defer {
      block.deallocate()
      integers.deallocate()
    }
    var progress = ProgressLine(
      enabled: !noProgress && isatty(2) == 1, frames: reader.frames, sampleRate: reader.sampleRate)
    var (done, clipped, beyond) = (0, 0, 0)
    while true {
      let n = try reader.read(into: block, frames: Self.blockFrames)
      if n == 0 { break }
      if let bad = processor.process(block, frames: n) {
        progress.clear()
        let at = reader.position(frame: done + bad.frame, channel: bad.channel)
        throw CLIError(
          bad.input
            ? "'\(escaped(input))': \(at): the sample is not finite"
            : "'\(escaped(input))': \(at): the model's output is not finite (it overflowed)")
      }
      if quantizer != nil {
        clipped += quantizer!.quantize(block, into: integers, count: n * c)
        try writer.write(integers, frames: n)
      } else {
        for i in 0..<(n * c) where abs(block[i]) > 1 { beyond += 1 }
        try writer.write(block, frames: n)
      }
      done += n
      progress.update(frames: done)
    }
    progress.clear()
    try writer.finish()
    if clipped > 0 {
      writeStandardError(
        "note: \(clipped) sample\(clipped == 1 ? "" : "s") clipped to \(bits.rawValue)-bit full scale\n")
    }
    if beyond > 0 {
      writeStandardError("note: \(beyond) float sample\(beyond == 1 ? "" : "s") beyond ±1.0 (kept as they are)\n")
    }
  }

  /// The rate ratio to correct for, or nil; throws when the rates differ and no correction was chosen.
  func rateCorrection(modelRate: Double, fileRate: Int) throws(CLIError) -> (ratio: Double, interpolate: Bool)? {
    let file = Double(fileRate)
    guard modelRate > 0, modelRate != file else { return nil }
    let rates =
      "'\(escaped(input))' is at \(fileRate) Hz, model '\(escaped(model))' at \(shortest(Float(modelRate))) Hz"
    guard let mode = sampleRateCorrection else {
      throw CLIError(
        "\(rates): resample the file (e.g. sox in.wav -r \(shortest(Float(modelRate))) out.wav) or pass "
          + "--sample-rate-correction none|integer|linear")
    }
    let ratio = file / modelRate
    switch mode {
    case .none: return nil
    case .integer, .linear:
      guard ratio >= 1 else {
        throw CLIError("\(rates): correction needs a file rate at or above the model's; resample the file")
      }
      if mode == .integer && abs(ratio - ratio.rounded()) > 1e-9 {
        throw CLIError("\(rates): the ratio \(ratio) is not an integer; use --sample-rate-correction linear")
      }
      return (ratio, mode == .linear)
    }
  }
}

/// The progress line on a terminal: percent, audio time done, speed as a multiple of real time, time left. Written
/// at most ten times a second from a fixed buffer (no allocation in the loop).
struct ProgressLine {
  let enabled: Bool
  let frames: Int
  let sampleRate: Int
  private var started = 0.0
  private var last = 0.0
  private var buffer = [UInt8](repeating: 0, count: 160)

  init(enabled: Bool, frames: Int, sampleRate: Int) {
    (self.enabled, self.frames, self.sampleRate) = (enabled, frames, sampleRate)
    started = Self.now()
    last = started - 1  // the first block's update shows at once; then at most ten a second
  }

  static func now() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_MONOTONIC, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) * 1e-9
  }

  mutating func update(frames done: Int) {
    guard enabled else { return }
    let t = Self.now()
    guard t - last >= 0.1 else { return }
    last = t
    let elapsed = t - started
    let audio = Double(done) / Double(sampleRate)
    let speed = elapsed > 0 ? audio / elapsed : 0
    let left = speed > 0 ? Double(frames - done) / Double(sampleRate) / speed : 0
    var n = 0
    func put(_ s: StaticString) {
      s.withUTF8Buffer {
        for b in $0 where n < 150 {
          buffer[n] = b
          n += 1
        }
      }
    }
    func put(_ v: Int, width: Int = 1) {
      var digits = 0
      var x = max(v, 0)
      repeat {
        digits += 1
        x /= 10
      } while x > 0
      for _ in digits..<max(width, digits) where n < 150 {
        buffer[n] = 0x20
        n += 1
      }
      x = max(v, 0)
      var at = n + digits - 1
      repeat {
        if at < 150 { buffer[at] = UInt8(0x30 + x % 10) }
        at -= 1
        x /= 10
      } while x > 0
      n = min(n + digits, 150)
    }
    func time(_ seconds: Double) {
      let s = Int(seconds.rounded())
      put(s / 60)
      put(":")
      if s % 60 < 10 { put("0") }
      put(s % 60)
    }
    put("\r")
    put(frames > 0 ? done * 100 / frames : 0, width: 3)
    put("%  ")
    time(audio)
    put(" of ")
    time(Double(frames) / Double(sampleRate))
    put(" audio  ")
    put(Int(speed.rounded()))
    put("x real time  ")
    time(left)
    put(" left ")
    buffer.withUnsafeBytes { _ = write(2, $0.baseAddress!, n) }
  }

  /// Erases the line (before an error, a note or the shell's prompt).
  func clear() {
    guard enabled else { return }
    writeText("\r\u{1B}[K", to: 2)  // as it is: writeStandardError escapes control characters
  }
}
