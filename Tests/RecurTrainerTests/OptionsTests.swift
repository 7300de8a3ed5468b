// Option validation (library) and the CLI's error lines, exit codes and atomic output (process tests).

import Foundation
import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("Options")
struct OptionsTests {
  /// The refusal message for these command-line values, or nil when they are accepted.
  static func refusal(
    family: SequenceFamily? = .odd, encoding: Encoding? = nil, cell: CellKind? = nil, layers: Int? = nil,
    hidden: Int? = nil, window: Int? = nil, epochs: Int? = nil, lr: Double? = nil, batch: Int? = nil,
    sequences: Int? = nil, validationSequences: Int? = nil, experts: Int? = nil, expertOrder: Int? = nil,
    slowRootStarts: Double? = nil, polishExperts: Double? = nil
  ) -> String? {
    do {
      _ = try TrainingOptions.fromCommandLine(
        family: family, encoding: encoding, cell: cell, layers: layers, hidden: hidden, window: window,
        epochs: epochs, lr: lr, batch: batch, sequences: sequences, validationSequences: validationSequences,
        experts: experts, expertOrder: expertOrder, slowRootStarts: slowRootStarts, polishExperts: polishExperts)
      return nil
    } catch {
      guard case .invalidOption(let message) = error else { return "unexpected \(error)" }
      return message
    }
  }

  @Test("family defaults reproduce the notebook")
  func defaults() throws {
    let odd = try TrainingOptions.fromCommandLine(family: .odd)
    #expect(odd.hiddenSize == 16 && odd.window == 5 && odd.epochs == 8 && odd.learningRate == 1e-2)
    let fib = try TrainingOptions.fromCommandLine(family: .fib)
    #expect(fib.hiddenSize == 32 && fib.window == 6 && fib.epochs == 12 && fib.learningRate == 5e-3)
    #expect(fib.batchSize == 128 && fib.sequences == 2000 && fib.validationSequences == 400)
    #expect(fib.seed == 0 && fib.encoding == .sequenceMaxScale)
    #expect(fib.cell == .rnn && fib.layers == 1 && fib.architecture == Architecture(hiddenSize: 32))
    // linear2: the built-in `linear` model's recipe; every part of it can still be overridden.
    let linear = try TrainingOptions.fromCommandLine(family: .linear2)
    #expect(linear.encoding == .windowDifferences && linear.cell == .gru && linear.layers == 1)
    #expect(linear.hiddenSize == 64 && linear.window == 4 && linear.schedule == .cosine)
    #expect(linear.epochs == 3000 && linear.learningRate == 0.003 && linear.batchSize == 64)
    #expect(linear.sequences == 20_000 && linear.validationSequences == 400 && linear.seed == 0)
    #expect(linear.experts == 32 && linear.expertOrder == 2 && linear.architecture.readoutSize == 32)
    #expect(linear.slowRootStarts == 0.3 && odd.slowRootStarts == 0 && fib.slowRootStarts == 0)
    #expect(try TrainingOptions.fromCommandLine(family: .linear2, experts: 0).architecture.isMixture == false)
    let plain = try TrainingOptions.fromCommandLine(
      family: .linear2, encoding: .sequenceMaxScale, cell: .rnn, batch: 128, sequences: 2000, schedule: .constant)
    #expect(plain.encoding == .sequenceMaxScale && plain.cell == .rnn && plain.schedule == .constant)
    #expect(plain.batchSize == 128 && plain.sequences == 2000)
    #expect(plain.experts == 0, "another encoding than window-differences gets the plain readout")
    #expect(linear.polishExperts == 1 && odd.polishExperts == 0 && fib.polishExperts == 0)
    #expect(plain.polishExperts == 0, "the plain readout gets no polish by default")
    #expect(try TrainingOptions.fromCommandLine(family: .linear2, experts: 0).polishExperts == 0)
    let diff = try TrainingOptions.fromCommandLine(family: .odd, encoding: .windowDifferences)
    #expect(diff.encoding == .windowDifferences)
    let lstm = try TrainingOptions.fromCommandLine(family: .odd, cell: .lstm, layers: 3, hidden: 7)
    #expect(lstm.architecture == Architecture(kind: .lstm, layers: 3, hiddenSize: 7))
    #expect(lstm.modelLabel == "lstm, 3 layers, hidden 7" && odd.modelLabel == "hidden 16")
    // The limits themselves are accepted.
    #expect(Self.refusal(hidden: 1) == nil && Self.refusal(hidden: 1024) == nil)
    #expect(Self.refusal(window: 5) == nil && Self.refusal(family: .fib, window: 6) == nil)
    #expect(Self.refusal(lr: 1e30) == nil && Self.refusal(batch: 1) == nil)
    #expect(Self.refusal(layers: 1) == nil && Self.refusal(layers: 8) == nil)
    #expect(Self.refusal(cell: .lstm, layers: 2, hidden: 1024) == nil)
  }

  @Test(
    "--init: the model's cell, layers, hidden size, encoding and window become the run's; contradicting flags are refused"
  )
  func warmStartOptions() throws {
    var trained = TrainingOptions(family: .fib)
    trained.cell = .lstm
    trained.layers = 2
    trained.hiddenSize = 6
    trained.encoding = .windowDifferences
    trained.window = 3
    let file = Parameters<Float>(zeros: trained.architecture).modelFile(contextLength: 3, encoding: .windowDifferences)
    let adopted = try TrainingOptions.fromCommandLine(family: .odd, initial: (file, "m.recur"))
    #expect(adopted.architecture == trained.architecture && adopted.encoding == .windowDifferences)
    #expect(adopted.window == 3 && adopted.family == .odd && adopted.epochs == 8)
    // Repeating the model's own values is fine; changing one names the flag, the model and its value.
    _ = try TrainingOptions.fromCommandLine(family: .odd, cell: .lstm, hidden: 6, window: 3, initial: (file, "m"))
    func refusal(_ make: () throws(TrainerError) -> TrainingOptions) -> String? {
      do {
        _ = try make()
        return nil
      } catch {
        guard case .invalidOption(let message) = error else { return "unexpected \(error)" }
        return message
      }
    }
    #expect(
      refusal { () throws(TrainerError) in try .fromCommandLine(family: .odd, hidden: 8, initial: (file, "m.recur")) }
        == "--hidden 8 does not match --init 'm.recur' (--hidden 6)")
    #expect(
      refusal { () throws(TrainerError) in try .fromCommandLine(family: .odd, cell: .gru, initial: (file, "m")) }
        == "--cell gru does not match --init 'm' (--cell lstm)")
    #expect(
      refusal { () throws(TrainerError) in
        try .fromCommandLine(family: .odd, encoding: .sequenceMaxScale, initial: (file, "m"))
      } == "--encoding sequence-max-scale does not match --init 'm' (--encoding window-differences)")
    // A mixture readout is part of the shape: adopted from the model, and a flag may not change it.
    var mixed = trained
    (mixed.experts, mixed.expertOrder) = (7, 3)
    let mixture = Parameters<Float>(zeros: mixed.architecture).modelFile(
      contextLength: 3, encoding: .windowDifferences)
    let continued = try TrainingOptions.fromCommandLine(family: .odd, initial: (mixture, "x"))
    #expect(continued.architecture == mixed.architecture && continued.experts == 7 && continued.expertOrder == 3)
    #expect(
      refusal { () throws(TrainerError) in try .fromCommandLine(family: .odd, experts: 0, initial: (mixture, "x")) }
        == "--experts 0 does not match --init 'x' (--experts 7)")
    #expect(
      refusal { () throws(TrainerError) in
        try .fromCommandLine(family: .odd, expertOrder: 2, initial: (mixture, "x"))
      } == "--expert-order 2 does not match --init 'x' (--expert-order 3)")
    // linear2's default mixture does not meet a plain model: the model's readout wins.
    let unmixed = try TrainingOptions.fromCommandLine(family: .linear2, window: 3, initial: (file, "p"))
    #expect(unmixed.experts == 0 && unmixed.architecture == trained.architecture)
    // A model with several inputs (a `fit` model) cannot continue on a univariate family.
    let wide = Parameters<Float>(zeros: Architecture(inputSize: 3, hiddenSize: 4)).modelFile(
      contextLength: 5, encoding: .sequenceMaxScale)
    #expect(
      refusal { () throws(TrainerError) in try .fromCommandLine(family: .odd, initial: (wide, "w")) }
        == "--init 'w' has input size 3 and output size 1; the sequence families train 1 and 1")
  }

  @Test("invalid options are refused with a message naming the option and the accepted range")
  func refusals() {
    #expect(Self.refusal(hidden: 0) == "--hidden 0 is out of range 1...1024")
    #expect(Self.refusal(hidden: 1025) == "--hidden 1025 is out of range 1...1024")
    #expect(Self.refusal(lr: 0) == "--lr 0.0 must be a positive finite number")
    #expect(Self.refusal(lr: -0.1) == "--lr -0.1 must be a positive finite number")
    #expect(Self.refusal(lr: .nan) == "--lr nan must be a positive finite number")
    #expect(Self.refusal(lr: .infinity) == "--lr inf must be a positive finite number")
    #expect(Self.refusal(lr: 1e39) == "--lr 1e+39 is not representable as a positive float32")
    #expect(Self.refusal(lr: 1e-50) == "--lr 1e-50 is not representable as a positive float32")
    #expect(Self.refusal(epochs: 0) == "--epochs 0 is out of range 1...100000")
    #expect(Self.refusal(batch: 0) == "--batch 0 is out of range 1...65536")
    #expect(Self.refusal(window: 0) == "--window 0 must be at least 1")
    #expect(
      Self.refusal(window: 6)
        == "--window 6 is longer than the shortest odd sequence (5 values); use 1...5")
    #expect(
      Self.refusal(family: .fib, window: 7)
        == "--window 7 is longer than the shortest fib sequence (6 values); use 1...6")
    #expect(Self.refusal(sequences: 0) == "--sequences 0 is out of range 1...1000000")
    #expect(
      Self.refusal(validationSequences: 0) == "--validation-sequences 0 is out of range 1...1000000"
    )
    #expect(Self.refusal(family: nil) == "missing --family (odd, fib or linear2)")
    #expect(
      Self.refusal(encoding: .identity)
        == "--encoding identity cannot be trained (expected sequence-max-scale or window-differences)")
    #expect(Self.refusal(layers: 0) == "--layers 0 is out of range 1...8")
    #expect(Self.refusal(layers: 9) == "--layers 9 is out of range 1...8")
    #expect(
      Self.refusal(cell: .lstm, layers: 8, hidden: 1024)
        == "--cell lstm --layers 8 --hidden 1024 has 62985217 parameters, more than a model file holds (64 MiB); "
        + "use a smaller --hidden or fewer --layers")
    // The mixture readout's flags, including sizes that would overflow the parameter count and a window of 0 with
    // linear2's default mixture (each once trapped instead of being refused).
    let diff = Encoding.windowDifferences
    #expect(Self.refusal(family: .linear2, window: 0) == "--window 0 must be at least 1")
    #expect(Self.refusal(experts: 1 << 62, expertOrder: 2) == "--experts 4611686018427387904 is out of range 0...256")
    #expect(
      Self.refusal(encoding: diff, window: 4, experts: 1, expertOrder: .max)
        == "--expert-order 9223372036854775807 is out of range 1...4 (the window)")
    #expect(
      Self.refusal(encoding: diff, window: 4, experts: 1, expertOrder: 5)
        == "--expert-order 5 is out of range 1...4 (the window)")
    #expect(
      Self.refusal(family: .linear2, experts: 0, expertOrder: 3)
        == "--expert-order 3 needs a mixture readout (--experts 1 or more)")
    #expect(
      Self.refusal(experts: 3)
        == "--experts 3 needs --encoding window-differences (a mixture weighs the window's differences); "
        + "use --experts 0 with sequence-max-scale")
    #expect(Self.refusal(encoding: diff, window: 4, experts: 256, expertOrder: 4) == nil)
    // Slow-root starts: a fraction, linear2 only.
    #expect(Self.refusal(family: .linear2, slowRootStarts: 1) == nil)
    #expect(Self.refusal(family: .linear2, slowRootStarts: 0) == nil)
    #expect(
      Self.refusal(family: .linear2, slowRootStarts: 1.5)
        == "--slow-root-starts 1.5 is out of range 0...1 (a fraction)")
    #expect(
      Self.refusal(family: .linear2, slowRootStarts: .nan)
        == "--slow-root-starts nan is out of range 0...1 (a fraction)")
    #expect(
      Self.refusal(family: .fib, slowRootStarts: 0.3)
        == "--slow-root-starts 0.3 needs --family linear2 (the other families have one start rule)")
    // The experts' polish: a mixture only, an error in 0...1, at most 512 coefficients.
    #expect(Self.refusal(family: .linear2, polishExperts: 1) == nil)
    #expect(Self.refusal(family: .linear2, polishExperts: 0) == nil)
    #expect(Self.refusal(encoding: diff, window: 4, experts: 256, expertOrder: 2, polishExperts: 1e-5) == nil)
    #expect(Self.refusal(encoding: diff, window: 4, experts: 256, expertOrder: 4) == nil, "no polish asked: accepted")
    // linear2's default polish is dropped, not refused, for a mixture too large to polish.
    #expect((try? TrainingOptions.fromCommandLine(family: .linear2, experts: 256, expertOrder: 3))?.polishExperts == 0)
    #expect((try? TrainingOptions.fromCommandLine(family: .linear2, experts: 256))?.polishExperts == 1)
    for bad in [-1e-5, 1.5, .nan, .infinity] {
      #expect(
        Self.refusal(family: .linear2, polishExperts: bad)
          == "--polish-experts \(bad) is out of range 0...1 (an error, in units of the window's scale)")
    }
    #expect(
      Self.refusal(family: .linear2, experts: 0, polishExperts: 1e-5)
        == "--polish-experts 1e-05 needs a mixture readout (--experts 1 or more, with --encoding window-differences)")
    #expect(
      Self.refusal(family: .odd, polishExperts: 1e-5)
        == "--polish-experts 1e-05 needs a mixture readout (--experts 1 or more, with --encoding window-differences)")
    #expect(
      Self.refusal(encoding: diff, window: 4, experts: 256, expertOrder: 3, polishExperts: 1e-5)
        == "--polish-experts needs at most 512 expert coefficients; --experts 256 --expert-order 3 has 768 "
        + "(use --polish-experts 0)")
  }

  @Test("the output destination is checked before any work")
  func destination() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try AtomicFile.checkDestination(dir.appendingPathComponent("model.recur").path)
    #expect(
      throws: TrainerError.invalidOption(
        "output path '\(dir.path)' is a directory, not a regular file; refusing to replace it")
    ) {
      try AtomicFile.checkDestination(dir.path)
    }
    #expect {
      try AtomicFile.checkDestination(dir.path + "/missing/model.recur")
    } throws: { error in
      "\(error)".contains("output directory '\(dir.path)/missing' does not exist")
    }
    // The probe leaves nothing behind.
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test("atomic write replaces the destination and leaves no temporary file")
  func atomicWrite() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let path = dir.appendingPathComponent("m.recur").path
    try AtomicFile.write([1, 2, 3], to: path)
    try AtomicFile.write([4, 5], to: path)
    #expect(FileManager.default.contents(atPath: path) == Data([4, 5]))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.recur"])
    #expect(throws: TrainerError.self) {
      try AtomicFile.write([1], to: dir.path + "/missing/m.recur")
    }
  }
}

@Suite("recur-train CLI")
struct CLITests {
  @Test("invalid options: one error line, exit 2, nothing written")
  func invalidOptions() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.recur").path
    let cases: [([String], String)] = [
      (
        ["train", "--family", "odd", "--hidden", "0", "-o", out],
        "error: --hidden 0 is out of range 1...1024"
      ),
      (
        ["train", "--family", "odd", "--lr", "-1", "-o", out],
        "error: --lr -1.0 must be a positive finite number"
      ),
      (
        ["train", "--family", "fib", "--window", "9", "-o", out],
        "error: --window 9 is longer than the shortest fib"
      ),
      (["train", "--family", "odd"], "error: missing output path: pass -o MODEL"),
      (
        ["train", "--family", "even", "-o", out],
        "error: The value 'even' is invalid for '--family <family>'. Please provide one of 'odd', 'fib' or "
          + "'linear2'."
      ),
      (
        ["train", "--family", "odd", "-o", dir.path + "/no/such/dir/m.recur"],
        "error: output directory"
      ),
      (["train", "--family", "odd", "--hidden", "abc", "-o", out], "error: "),
      (["train", "--family", "odd", "--layers", "0", "-o", out], "error: --layers 0 is out of range 1...8"),
      (
        ["train", "--family", "odd", "--cell", "tcn", "-o", out],
        "error: The value 'tcn' is invalid for '--cell <cell>'. Please provide one of 'rnn', 'gru' or 'lstm'."
      ),
      (
        ["train", "--family", "odd", "--encoding", "identity", "-o", out],
        "error: The value 'identity' is invalid for '--encoding <encoding>'. Please provide one of "
          + "'sequence-max-scale' and 'window-differences'."
      ),
      (
        ["train", "--family", "odd", "--init", fixturePath("models/odd.recur"), "--hidden", "8", "-o", out],
        "error: --hidden 8 does not match --init '\(fixturePath("models/odd.recur"))' (--hidden 16)"
      ),
      (  // the flags' ranges are checked before the model
        ["train", "--family", "odd", "--init", fixturePath("models/odd.recur"), "--hidden", "0", "-o", out],
        "error: --hidden 0 is out of range 1...1024"
      ),
      (
        ["train", "--family", "odd", "--init", fixturePath("fit/sunspots-h8-seed3.recur"), "-o", out],
        "error: --init '\(fixturePath("fit/sunspots-h8-seed3.recur"))' uses encoding standardize-differences; train "
          + "continues only sequence-max-scale or window-differences models"
      ),
      (
        ["train", "--family", "odd", "--init", fixturePath("firmware/lstm16x2.recur"), "-o", out],
        "error: --init '\(fixturePath("firmware/lstm16x2.recur"))' has window 8, longer than the shortest odd "
          + "sequence (5 values)"
      ),
      (
        ["train", "--family", "odd", "--lr-schedule", "step", "-o", out],
        "error: The value 'step' is invalid for '--lr-schedule <lr-schedule>'. Please provide one of 'constant' "
          + "and 'cosine'."
      ),
    ]
    for (arguments, expected) in cases {
      let result = try runRecurTrain(arguments)
      #expect(result.status == 2, "\(arguments): status \(result.status)")
      #expect(result.stderr.hasPrefix(expected), "\(arguments): \(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(arguments): \(result.stderr)")
      #expect(result.stdout.isEmpty, "\(arguments): work started: \(result.stdout)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test("--init of a missing or corrupt file: one error line naming it, exit 1, nothing written")
  func badInitialModel() throws {
    let dir = try makeTemporaryDirectory()
    let inputs = try makeTemporaryDirectory()
    defer {
      try? FileManager.default.removeItem(at: dir)
      try? FileManager.default.removeItem(at: inputs)
    }
    let out = dir.appendingPathComponent("m.recur").path
    let corrupt = inputs.appendingPathComponent("corrupt.recur")
    var bytes = try Data(contentsOf: URL(fileURLWithPath: fixturePath("models/odd.recur")))
    bytes[bytes.count / 2] ^= 0xFF
    try bytes.write(to: corrupt)
    let cases: [(String, String)] = [
      (
        inputs.path + "/missing.recur",
        "error: --init '\(inputs.path)/missing.recur': cannot open: No such file or directory"
      ),
      (inputs.path, "error: --init '\(inputs.path)': a directory, not a regular file"),
      (corrupt.path, "error: --init '\(corrupt.path)': byte "),
    ]
    for (model, expected) in cases {
      let result = try runRecurTrain(["train", "--family", "odd", "--init", model, "-o", out])
      #expect(result.status == 1, "\(model): status \(result.status)")
      #expect(result.stderr.hasPrefix(expected), "\(result.stderr)")
      #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test("a diverging run: error line, exit 1, no model and no temporary file")
  func divergingRun() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.recur").path
    let result = try runRecurTrain([
      "train", "--family", "odd", "--lr", "1e30", "--sequences", "200", "--hidden", "4", "-o", out,
    ])
    #expect(result.status == 1)
    #expect(result.stderr.hasPrefix("error: training loss became"), "\(result.stderr)")
    #expect(result.stderr.contains("no model was written"))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  @Test("a small run prints epoch lines and the validation table and writes a loadable model")
  func smallRun() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.recur").path
    let result = try runRecurTrain([
      "train", "--family", "fib", "--sequences", "100", "--validation-sequences", "10", "--epochs",
      "2",
      "--hidden", "4", "--seed", "3", "-o", out,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = result.stdout.split(separator: "\n")
    #expect(lines.filter { $0.hasPrefix("Epoch ") }.count == 2)
    #expect(lines.contains { $0.hasPrefix("Epoch 02 | Loss 0.") })
    #expect(result.stdout.contains("generation |error| at step 20"))
    #expect(result.stderr.isEmpty)  // no progress bar when stderr is not a terminal
    let file = try ModelFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
    #expect(file.hiddenSize == 4 && file.provenance.seed == 3 && file.provenance.family == "fib")
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["m.recur"])
  }

  @Test("train --cell gru --layers 2 writes a 2-layer GRU that eval reads")
  func gatedRun() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("m.recur").path
    let result = try runRecurTrain([
      "train", "--family", "odd", "--cell", "gru", "--layers", "2", "--sequences", "100", "--validation-sequences",
      "10", "--epochs", "1", "--hidden", "4", "-o", out,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.contains("gru, 2 layers, hidden 4"))
    let file = try ModelFile(bytes: [UInt8](try Data(contentsOf: URL(fileURLWithPath: out))))
    #expect(file.cellKind == .gru && file.layers == 2 && file.hiddenSize == 4)
    let eval = try runRecurTrain(["eval", "--model", out])
    #expect(eval.status == 0, "\(eval.stderr)")
    #expect(eval.stdout.contains("GRU, 2 layers, hidden 4, window 5"))
  }

  @Test("--help shows examples, the cells and the layers")
  func help() throws {
    let result = try ChildProcess.run(
      Products.path("recur-train"), ["train", "--help"], environment: ["COLUMNS": "400"])
    #expect(result.status == 0)
    #expect(result.stdout.contains("recur-train train --family odd -o odd.recur"))
    #expect(result.stdout.contains("--cell lstm --layers 2"))
    #expect(result.stdout.contains("--layers <layers>") && result.stdout.contains("Defaults per family"))
    #expect(result.stdout.contains("one vanilla RNN layer") && result.stdout.contains("GRU hidden 64"))
    for name in ["rnn", "gru", "lstm"] { #expect(result.stdout.contains("        \(name) ")) }
  }
}
