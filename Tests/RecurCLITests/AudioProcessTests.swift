// `recur process`: audio files through a model, as a user runs it. Expected answers come from outside the code under
// test: the import fixtures' float64 references (Fixtures/imports), the WAV fixtures' own sample values
// (Fixtures/audio/*.samples.txt, written by tools/audio/make_wav_fixtures.py from the encodings' definitions) run
// through the runtime library, `recur stream` for the same inputs, and the error table Fixtures/audio/broken.tsv.
// Needs libsndfile (tools/test installs libsndfile1-dev).

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

@testable import recur

@Suite struct AudioProcessTests {
  static let audio = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures/audio").standardized
  static let imports = ImportedModelCLITests.fixtures

  /// A path of its own in the temporary directory (tests run in parallel).
  static func scratch(_ name: String) -> String {
    CLI.temporaryDirectory.appendingPathComponent("\(UUID().uuidString)-\(name)").path
  }

  /// A WAV file of float32 samples ([frames][channels] interleaved), written here byte by byte.
  static func writeFloatWAV(_ samples: [Float], channels: Int, rate: Int, name: String) throws -> String {
    var data = Data()
    for v in samples { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
    func u32(_ v: Int) -> Data { withUnsafeBytes(of: UInt32(v).littleEndian) { Data($0) } }
    func u16(_ v: Int) -> Data { withUnsafeBytes(of: UInt16(v).littleEndian) { Data($0) } }
    let fmt = u16(3) + u16(channels) + u32(rate) + u32(rate * 4 * channels) + u16(4 * channels) + u16(32)
    let body = Data("WAVE".utf8) + Data("fmt ".utf8) + u32(16) + fmt + Data("data".utf8) + u32(data.count) + data
    let path = scratch(name)
    try (Data("RIFF".utf8) + u32(body.count) + body).write(to: URL(fileURLWithPath: path))
    return path
  }

  /// The samples of a WAV file `recur process` wrote: (channels, rate, float32 or integer samples as floats).
  static func readWAV(_ path: String) throws -> (channels: Int, rate: Int, samples: [Float], bits: Int) {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    func u16(_ i: Int) -> Int { Int(bytes[i]) | Int(bytes[i + 1]) << 8 }
    func u32(_ i: Int) -> Int { u16(i) | u16(i + 2) << 16 }
    #expect(String(decoding: bytes[0..<4], as: UTF8.self) == "RIFF")
    var (offset, channels, rate, bits) = (12, 0, 0, 0)
    while offset + 8 <= bytes.count {
      let id = String(decoding: bytes[offset..<offset + 4], as: UTF8.self)
      let size = u32(offset + 4)
      if id == "fmt " { (channels, rate, bits) = (u16(offset + 10), u32(offset + 12), u16(offset + 22)) }
      if id == "data" {
        let body = Array(bytes[(offset + 8)..<(offset + 8 + size)])
        let width = bits / 8
        let samples = stride(from: 0, to: body.count, by: width).map { i -> Float in
          switch bits {
          case 32:
            return Float(
              bitPattern: UInt32(body[i]) | UInt32(body[i + 1]) << 8 | UInt32(body[i + 2]) << 16 | UInt32(body[i + 3])
                << 24)
          case 24:
            return Float(
              Int32(bitPattern: UInt32(body[i]) << 8 | UInt32(body[i + 1]) << 16 | UInt32(body[i + 2]) << 24) >> 8)
          default: return Float(Int16(bitPattern: UInt16(body[i]) | UInt16(body[i + 1]) << 8))
          }
        }
        return (channels, rate, samples, bits)
      }
      offset += 8 + size + (size & 1)
    }
    Issue.record("no data chunk in \(path)")
    return (0, 0, [], 0)
  }

  static func process(_ arguments: [String], environment: [String: String] = [:]) throws -> ProcessResult {
    try CLI.run(["process"] + arguments, environment: environment)
  }

  /// The library's answers for each channel alone (RecurrentCell from the model's bytes).
  static func expected(_ model: String, _ samples: [Float], channels: Int, conditions: [Float] = []) throws -> [Float] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))
    let m = try RecurrentModel(bytes: bytes)
    var out = samples
    for ch in 0..<channels {
      let cell = RecurrentCell(model: m)
      var x = [0] + conditions
      var y: Float = 0
      for f in 0..<(samples.count / channels) {
        x[0] = samples[f * channels + ch]
        cell.step(x, into: &y)
        out[f * channels + ch] = y
      }
    }
    return out
  }

  static func worst(_ a: [Float], _ b: [Float]) -> Float {
    #expect(a.count == b.count)
    return zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
  }

  // MARK: Amp models against their formats' references

  @Test(arguments: [("keras-lstm12-skip.json", 48000), ("nam-lstm16.nam", 44100)])
  func ampModelFollowsTheReference(fixture: String, rate: Int) throws {
    let model = try ImportedModelCLITests.imported(fixture)
    let stem = Self.imports.appendingPathComponent(fixture).deletingPathExtension().path
    let input = try String(contentsOfFile: stem + ".input.txt", encoding: .utf8).split(separator: "\n").map {
      Float(String($0))!
    }
    let reference = try String(contentsOfFile: stem + ".expected.txt", encoding: .utf8).split(separator: "\n").map {
      Float(String($0))!
    }
    let wav = try Self.writeFloatWAV(input, channels: 1, rate: rate, name: "amp-in.wav")
    let out = Self.scratch("amp-out.wav")
    let result = try Self.process(["--model", model, wav, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let written = try Self.readWAV(out)
    #expect(written.channels == 1 && written.rate == rate && written.bits == 32)
    let scale = max(1, reference.map(abs).max()!)
    #expect(Self.worst(written.samples, reference) / scale <= 2e-5)
  }

  // MARK: Encodings and channels

  static let goodFiles = [
    "pcm8-mono", "pcm16-mono", "pcm16-stereo", "pcm24-stereo", "pcm32-mono", "float32-stereo", "float64-mono",
    "extensible-pcm24-stereo", "extensible-float32-mono", "rf64-float32-stereo",
  ]

  @Test(arguments: goodFiles)
  func everyEncodingReadsAsItsSamples(name: String) throws {
    let a = Architecture(kind: .lstm, layers: 1, inputSize: 1, hiddenSize: 12, outputSize: 1)
    let model = try CLI.writeModel(stackModel(a, seed: 3), name: "audio-lstm12-\(name).recur")
    let rows = try String(
      contentsOfFile: Self.audio.appendingPathComponent(name + ".samples.txt").path, encoding: .utf8
    )
    .split(separator: "\n").map { $0.split(separator: " ").map { Float(Double(String($0))!) } }
    let channels = rows[0].count
    let out = Self.scratch("\(name)-out.wav")
    let result = try Self.process(["--model", model, Self.audio.appendingPathComponent(name + ".wav").path, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let written = try Self.readWAV(out)
    #expect(written.channels == channels && written.rate == 48000)
    let want = try Self.expected(model, Array(rows.joined()), channels: channels)
    #expect(Self.worst(written.samples, want) <= 1e-5, "\(name)")
  }

  /// Each channel is its own stream: its output is, bit for bit, the one it has alone, whether the channels run
  /// through a RecurrentCell each (3 channels) or together through one BatchCell (13: AudioProcessor.batchFromChannels).
  @Test func channelsAreEachTheirOwnStream() throws {
    #expect(AudioProcessor.batchFromChannels > 3 && AudioProcessor.batchFromChannels <= 13)
    let chain = try ImportedModelCLITests.imported("keras-lstm12-skip.json")
    let gru = try CLI.writeModel(
      stackModel(Architecture(kind: .gru, layers: 2, inputSize: 1, hiddenSize: 20, outputSize: 1)),
      name: "audio-gru20.recur")
    let frames = 700
    for channels in [3, 13] {
      var samples = [Float](repeating: 0, count: frames * channels)
      for f in 0..<frames {
        for c in 0..<channels { samples[f * channels + c] = sin(Float(f) * (0.01 + 0.013 * Float(c))) * 0.8 }
      }
      let multi = try Self.writeFloatWAV(samples, channels: channels, rate: 48000, name: "multi.wav")
      for model in [chain, gru] {
        let out = Self.scratch("multi-out.wav")
        let result = try Self.process(["--model", model, multi, "-o", out])
        #expect(result.status == 0, "\(result.stderr)")
        let together = try Self.readWAV(out).samples
        for c in [0, 1, channels - 1] {
          let alone = (0..<frames).map { samples[$0 * channels + c] }
          let mono = try Self.writeFloatWAV(alone, channels: 1, rate: 48000, name: "alone.wav")
          let monoOut = Self.scratch("alone-out.wav")
          #expect(try Self.process(["--model", model, mono, "-o", monoOut]).status == 0)
          let single = try Self.readWAV(monoOut).samples
          let column = (0..<frames).map { together[$0 * channels + c] }
          #expect(column.map(\.bitPattern) == single.map(\.bitPattern), "\(channels) channels, channel \(c)")
        }
      }
    }
  }

  // MARK: Conditioning

  @Test func conditionsFollowTheSample() throws {
    let model = try ImportedModelCLITests.imported("guitarml-gru12-cond.json")
    let input = (0..<500).map { sin(Float($0) * 0.05) * 0.7 }
    let wav = try Self.writeFloatWAV(input, channels: 1, rate: 48000, name: "cond.wav")
    let out = Self.scratch("cond-out.wav")
    let result = try Self.process(["--model", model, "--condition", "0.25", "--condition", "0.75", wav, "-o", out])
    #expect(result.status == 0, "\(result.stderr)")
    let text = input.map { "\($0) 0.25 0.75\n" }.joined()
    let streamed = try CLI.run(["stream", "--model", model], stdin: text).stdout.split(separator: "\n").map {
      Float(String($0))!
    }
    #expect(try Self.readWAV(out).samples.map(\.bitPattern) == streamed.map(\.bitPattern))

    for given in [[String](), ["--condition", "0.1"], ["--condition", "1", "--condition", "2", "--condition", "3"]] {
      let refused = try Self.process(["--model", model, wav, "-o", Self.scratch("x.wav")] + given)
      #expect(refused.status == 1)
      #expect(refused.stderr.contains("has 3 inputs (the sample and 2 conditions)"), "\(refused.stderr)")
    }
  }

  // MARK: Sample rates

  @Test func aModelsRateIsEnforcedOrCorrected() throws {
    var file = stackModel(Architecture(kind: .lstm, layers: 2, inputSize: 1, hiddenSize: 8, outputSize: 1), seed: 9)
    file.sampleRate = 48000
    let model = try CLI.writeModel(file, name: "audio-lstm-48k.recur")
    let input = (0..<400).map { sin(Float($0) * 0.03) * 0.9 }
    func run(rate: Int, _ extra: [String]) throws -> (ProcessResult, [Float]) {
      let wav = try Self.writeFloatWAV(input, channels: 1, rate: rate, name: "rate-\(rate).wav")
      let out = Self.scratch("rate-out.wav")
      let result = try Self.process(["--model", model, wav, "-o", out] + extra)
      return (result, result.status == 0 ? try Self.readWAV(out).samples : [])
    }
    let (refused, _) = try run(rate: 96000, [])
    #expect(refused.status == 1)
    #expect(refused.stderr.contains("is at 96000 Hz, model") && refused.stderr.contains("at 48000 Hz"))
    #expect(refused.stderr.split(separator: "\n").count == 1)

    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))
    let m = try RecurrentModel(bytes: bytes)
    func corrected(_ ratio: Double, interpolate: Bool) -> [Float] {
      let cell = RateCorrectedCell(model: m, ratio: ratio, interpolate: interpolate)
      var y: Float = 0
      return input.map { x in
        var x = x
        cell.step(&x, into: &y)
        return y
      }
    }
    let (integer, twice) = try run(rate: 96000, ["--sample-rate-correction", "integer"])
    #expect(integer.status == 0, "\(integer.stderr)")
    #expect(Self.worst(twice, corrected(2, interpolate: false)) <= 1e-5)
    let (linear, threeHalves) = try run(rate: 72000, ["--sample-rate-correction", "linear"])
    #expect(linear.status == 0, "\(linear.stderr)")
    #expect(Self.worst(threeHalves, corrected(1.5, interpolate: true)) <= 1e-5)
    #expect(Self.worst(threeHalves, twice) > 1e-3)  // the corrections differ from each other
    let (asIs, plain) = try run(rate: 96000, ["--sample-rate-correction", "none"])
    #expect(asIs.status == 0)
    #expect(Self.worst(plain, try Self.expected(model, input, channels: 1)) <= 1e-5)
    let (notInteger, _) = try run(rate: 72000, ["--sample-rate-correction", "integer"])
    #expect(notInteger.status == 1 && notInteger.stderr.contains("not an integer"))
    let (below, _) = try run(rate: 44100, ["--sample-rate-correction", "linear"])
    #expect(below.status == 1 && below.stderr.contains("at or above the model's"))
  }

  // MARK: Integer output

  @Test func integerOutputIsTheFloatOutputRoundedOrDithered() throws {
    // An amp model with a skip: loud input gives answers beyond ±1, which integer output clips.
    let model = try ImportedModelCLITests.imported("keras-lstm12-skip.json")
    let input = (0..<3000).map { sin(Float($0) * 0.02) * 1.5 }
    let wav = try Self.writeFloatWAV(input, channels: 1, rate: 48000, name: "int.wav")
    let floatOut = Self.scratch("f.wav")
    #expect(try Self.process(["--model", model, wav, "-o", floatOut]).status == 0)
    let reference = try Self.readWAV(floatOut).samples
    for (bits, dither) in [(16, "none"), (24, "none"), (16, "tpdf"), (24, "tpdf")] {
      let out = Self.scratch("i\(bits).wav")
      let result = try Self.process(["--model", model, wav, "-o", out, "--bits", "\(bits)", "--dither", dither])
      #expect(result.status == 0, "\(result.stderr)")
      let written = try Self.readWAV(out)
      #expect(written.bits == bits)
      let scale = Float(1 << (bits - 1))
      var clipped = 0
      for (q, v) in zip(written.samples, reference) {
        let ideal = min(max((v * scale).rounded(), -scale), scale - 1)
        if abs(v * scale) > scale - 1 { clipped += 1 }
        if dither == "none" {
          #expect(q == ideal)
        } else {
          #expect(abs(q - ideal) <= 1 || abs(v * scale) > scale - 2)
        }
      }
      if dither == "none" { #expect(clipped > 0 && result.stderr.contains("note: \(clipped) samples clipped")) }
    }
  }

  // MARK: Bad input

  @Test func brokenFilesNameTheByteOffset() throws {
    let model = try CLI.writeModel(sampleModel(hidden: 8, encoding: .identity), name: "audio-broken.recur")
    let table = try String(contentsOfFile: Self.audio.appendingPathComponent("broken.tsv").path, encoding: .utf8)
    var checked = 0
    for line in table.split(separator: "\n") where !line.hasPrefix("#") {
      let fields = line.split(separator: "\t").map(String.init)
      let out = Self.scratch("broken-out.wav")
      let result = try Self.process(["--model", model, Self.audio.appendingPathComponent(fields[0]).path, "-o", out])
      #expect(result.status == 1, "\(fields[0])")
      #expect(
        result.stderr.hasPrefix("error: '") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      #expect(result.stderr.contains("\(fields[0])': byte \(fields[1]): "), "\(result.stderr)")
      #expect(result.stderr.contains(fields[2]), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out))
      checked += 1
    }
    #expect(checked >= 19)
  }

  @Test func aSampleThatIsNotFiniteStopsTheRunAndLeavesNothing() throws {
    let model = try CLI.writeModel(sampleModel(hidden: 8, encoding: .identity), name: "audio-nan.recur")
    var input = [Float](repeating: 0.1, count: 10_000)
    input[9_001] = .nan
    let wav = try Self.writeFloatWAV(input, channels: 1, rate: 48000, name: "nan.wav")
    let out = Self.scratch("nan-out.wav")
    let result = try Self.process(["--model", model, wav, "-o", out])
    #expect(result.status == 1)
    #expect(result.stderr.contains("byte \(44 + 9_001 * 4) (frame 9001, channel 1): the sample is not finite"))
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test func refusalsBeforeAnyWork() throws {
    let model = try CLI.writeModel(sampleModel(hidden: 8, encoding: .identity), name: "audio-refuse.recur")
    let wav = Self.audio.appendingPathComponent("pcm16-mono.wav").path
    let mp3 = try Self.process(["--model", model, wav, "-o", Self.scratch("out.mp3")])
    #expect(mp3.status == 2 && mp3.stderr.contains("name it .wav"))
    let scaled = try CLI.writeModel(sampleModel(hidden: 8), name: "audio-scaled.recur")
    let encoding = try Self.process(["--model", scaled, wav, "-o", Self.scratch("o.wav")])
    #expect(encoding.status == 1 && encoding.stderr.contains("sequence-max-scale encoding"))
    let missing = try Self.process(
      ["--model", model, wav, "-o", Self.scratch("o.wav")],
      environment: ["RECUR_LIBSNDFILE": "/nonexistent/libsndfile.so.1"])
    #expect(missing.status == 1 && missing.stderr.contains("libsndfile, which is not installed"))
    let directory = try Self.process(["--model", model, CLI.temporaryDirectory.path, "-o", Self.scratch("o.wav")])
    #expect(directory.status == 1 && directory.stderr.contains("not a regular file"))
    let flacFloat = try Self.process(["--model", model, wav, "-o", Self.scratch("o.flac"), "--bits", "32"])
    #expect(flacFloat.status == 1 && flacFloat.stderr.contains("FLAC: --bits 16 or 24"))
    let same = try Self.process(["--model", model, wav, "-o", wav])
    #expect(same.status == 1 && same.stderr.contains("is also an input"))
  }

  /// FLAC out (24-bit by default) and back in: libsndfile's other containers work end to end.
  @Test func flacRoundTrip() throws {
    let model = try CLI.writeModel(sampleModel(hidden: 8, encoding: .identity), name: "audio-flac.recur")
    let flac = Self.scratch("out.flac")
    let first = try Self.process([
      "--model", model, Self.audio.appendingPathComponent("pcm16-stereo.wav").path, "-o", flac,
    ])
    #expect(first.status == 0, "\(first.stderr)")
    let back = Self.scratch("back.wav")
    let second = try Self.process(["--model", model, flac, "-o", back])
    #expect(second.status == 0, "\(second.stderr)")
    let written = try Self.readWAV(back)
    #expect(written.channels == 2 && written.samples.count == 400)
  }

  /// The progress line appears on a terminal (run under `script`, which gives the child a pseudo-terminal) and not
  /// through a pipe; it is erased before the process ends.
  @Test(
    .enabled(
      if: runningOnLinux && FileManager.default.fileExists(atPath: "/usr/bin/script"), "needs util-linux's script"))
  func progressOnATerminalOnly() throws {
    let model = try CLI.writeModel(
      stackModel(Architecture(kind: .gru, layers: 1, inputSize: 1, hiddenSize: 8, outputSize: 1), seed: 2),
      name: "audio-progress.recur")
    let input = (0..<(48000 * 3)).map { Float($0 % 200) / 400 }
    let wav = try Self.writeFloatWAV(input, channels: 1, rate: 48000, name: "progress.wav")
    let out = Self.scratch("progress-out.wav")
    let command = [CLI.recur, "process", "--model", model, wav, "-o", out].joined(separator: " ")
    let terminal = try CLI.run(["-q", "-e", "-c", command, "/dev/null"], executable: "/usr/bin/script")
    #expect(terminal.status == 0, "\(terminal.stderr)")
    #expect(terminal.stdout.contains("x real time") && terminal.stdout.contains(" of 0:03 audio"), "\(terminal.stdout)")
    #expect(terminal.stdout.hasSuffix("\r\u{1B}[K"))
    let piped = try Self.process(["--model", model, wav, "-o", Self.scratch("progress-out2.wav")])
    #expect(piped.status == 0 && !piped.stderr.contains("real time") && piped.stdout.isEmpty)
  }

  // MARK: The libsndfile declarations against the real header

  @Test(.enabled(if: FileManager.default.fileExists(atPath: "/usr/include/sndfile.h"), "needs libsndfile1-dev"))
  func declarationsMatchTheHeader() throws {
    let source = CLI.temporaryDirectory.appendingPathComponent("sf-probe.c")
    let binary = CLI.temporaryDirectory.appendingPathComponent("sf-probe")
    try """
    #include <stdio.h>
    #include <stddef.h>
    #include <sndfile.h>
    int main(void) {
      printf("%zu %zu %zu %zu %zu %zu %zu\\n", sizeof(SF_INFO), offsetof(SF_INFO, frames), offsetof(SF_INFO, samplerate),
        offsetof(SF_INFO, channels), offsetof(SF_INFO, format), offsetof(SF_INFO, sections), offsetof(SF_INFO, seekable));
      printf("%d %d %d %d %d %d %d %d %d %d %d %d %d\\n", SFM_READ, SFM_WRITE, SF_FORMAT_WAV, SF_FORMAT_AIFF,
        SF_FORMAT_FLAC, SF_FORMAT_RF64, SF_FORMAT_PCM_16, SF_FORMAT_PCM_24, SF_FORMAT_FLOAT, SF_FORMAT_TYPEMASK,
        SF_FORMAT_SUBMASK, SFC_RF64_AUTO_DOWNGRADE, (int)sizeof(sf_count_t));
      return 0;
    }
    """.write(to: source, atomically: true, encoding: .utf8)
    let cc = try CLI.run(["cc", "-o", binary.path, source.path], executable: "/usr/bin/env")
    #expect(cc.status == 0, "\(cc.stderr)")
    let printed = try CLI.run([], executable: binary.path).stdout.split(separator: "\n")
    // C's sizeof is Swift's stride (the struct's 28 bytes padded to the Int64's alignment).
    let layout = MemoryLayout<SFInfo>.self
    let offsets = [\SFInfo.frames, \.samplerate, \.channels, \.format, \.sections, \.seekable].map {
      layout.offset(of: $0)!
    }
    #expect(printed[0] == ([layout.stride] + offsets).map(String.init).joined(separator: " "))
    let constants = [
      SF.read, SF.write, SF.wav, SF.aiff, SF.flac, SF.rf64, SF.pcm16, SF.pcm24, SF.float, SF.typeMask, SF.subMask,
      SF.rf64AutoDowngrade, 8,
    ]
    #expect(printed[1] == constants.map(String.init).joined(separator: " "))
  }
}
