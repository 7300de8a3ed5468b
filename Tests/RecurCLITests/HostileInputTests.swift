// Hostile input, in one place: one table of (what is hostile, the command, the one-line error it must give, the exit
// status), covering every family of the second security review (issue 23): golden directories (symbolic links,
// paths out of the directory, FIFOs, unbounded work, non-finite and damaged expected values, escape sequences),
// output paths (devices, FIFOs, symbolic links, a run's own inputs, two outputs on one file), the newer parsers
// (import-torch layer suffixes and sizes, fit data too short, a byte-order mark), hangs (FIFOs anywhere a file is
// read, 65,536 seed arguments) and lost output (/dev/full). Every row runs the release or debug product as a real
// process in a fresh directory, with a hang guard (SIGKILL after 60 s fails the row), and checks:
//   - the exit status;
//   - stderr is exactly one line, `error: ` + text containing the expected words, with no control character;
//   - the row's own check (a file left untouched, nothing printed from outside the directory, ...).
// Memory rows (golden check on a 10 MB `.out`, import-torch on a large JSON) are measured separately below.

import Foundation
import RecurRuntimeNative
import RecurTestSupport
import Testing

/// A fresh directory for one row, with helpers to plant hostile files in it.
struct Sandbox {
  let root: String

  init(_ name: String) throws {
    root = CLI.temporaryDirectory.appendingPathComponent("hostile-\(name)-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
  }

  func path(_ name: String) -> String { root + "/" + name }

  @discardableResult
  func write(_ name: String, _ text: String) throws -> String { try write(name, Array(text.utf8)) }

  @discardableResult
  func write(_ name: String, _ bytes: [UInt8]) throws -> String {
    try Data(bytes).write(to: URL(fileURLWithPath: path(name)))
    return path(name)
  }

  func read(_ name: String) -> [UInt8]? { FileManager.default.contents(atPath: path(name)).map { [UInt8]($0) } }

  @discardableResult
  func symlink(_ name: String, to target: String) -> String {
    unlink(path(name))
    try! FileManager.default.createSymbolicLink(atPath: path(name), withDestinationPath: target)
    return path(name)
  }

  @discardableResult
  func fifo(_ name: String) -> String {
    precondition(mkfifo(path(name), 0o644) == 0)
    return path(name)
  }

  /// A character device node (1, 3: the same device as /dev/null) when this process may make one (root).
  func device(_ name: String) -> String? {
    mknod(path(name), S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 ? path(name) : nil
  }

  func isFIFO(_ name: String) -> Bool { kind(name) == S_IFIFO }
  func isCharacterDevice(_ name: String) -> Bool { kind(name) == S_IFCHR }
  func kind(_ name: String) -> mode_t? {
    var info = stat()
    return lstat(path(name), &info) == 0 ? info.st_mode & S_IFMT : nil
  }

  /// A golden directory of the built-in `odd` model, recorded by the product under test: `DIR/g`.
  func golden(_ name: String = "g", model: String = "odd") -> String {
    let run = Measured.run(CLI.recur, ["golden", "record", "--model", model, "-o", path(name)], measure: false)
    precondition(run.exitStatus == 0, run.stderr)
    return path(name)
  }

  /// Rewrites one line of `DIR/g/golden.txt` (the line starting with `key `).
  func setManifest(_ key: String, _ value: String, in dir: String = "g") throws {
    let manifest = path(dir + "/golden.txt")
    let lines = try String(contentsOfFile: manifest, encoding: .utf8).split(separator: "\n").map { line in
      line.hasPrefix(key + " ") ? "\(key) \(value)" : String(line)
    }
    try lines.joined(separator: "\n").appending("\n").write(toFile: manifest, atomically: false, encoding: .utf8)
  }
}

/// One row of the table.
struct HostileCase: CustomTestStringConvertible, Sendable {
  enum Tool: Sendable { case recur, train }
  let family: String
  let what: String
  let tool: Tool
  /// Plants the hostile files; returns the command line.
  let setup: @Sendable (Sandbox) throws -> [String]
  var stdin: String? = nil
  /// A file of the sandbox (made by `setup`) as standard input.
  var stdinFile: String? = nil
  var stdoutPath: String? = nil
  let status: Int32
  /// Words the error line must contain (after `error: `); nil when the command must succeed with no error.
  let error: String?
  /// The row's own check, after the run.
  var check: (@Sendable (Sandbox, MeasuredRun) -> Void)? = nil

  var testDescription: String { "\(family): \(what)" }

  /// Rows that need Linux's /dev/full or /proc (skipped elsewhere: docs/architecture.md, macOS).
  var needsLinux: Bool { stdoutPath == "/dev/full" || what.contains("/proc") }
}

@Suite struct HostileInputTests {
  static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../Fixtures").standardized.path
  static let torchJSON = fixtures + "/torch-parity/rnn-h1.json"
  static let fittedModel = fixtures + "/fit/sunspots-h8-seed3.recur"
  static let secret = "SECRET-KEY-MATERIAL-4242"

  /// A PyTorch state dump of a one-unit RNN whose recurrent keys end in `_l<layerSuffix>`, under `prefixes`.
  static func torchState(layerSuffix: String, prefixes: [String] = ["rnn"]) -> String {
    var members: [String] = []
    for p in prefixes {
      members += [
        "\"\(p).weight_ih_l\(layerSuffix)\": [[0.5]]", "\"\(p).weight_hh_l\(layerSuffix)\": [[0.25]]",
        "\"\(p).bias_ih_l\(layerSuffix)\": [0.0]", "\"\(p).bias_hh_l\(layerSuffix)\": [0.0]",
      ]
    }
    members += ["\"fc.weight\": [[1.0]]", "\"fc.bias\": [0.0]"]
    return "{" + members.joined(separator: ", ") + "}"
  }

  /// A window-differences GRU (input and output 1) whose every prediction reruns the cell over `context` steps.
  static func windowedModel(hidden: Int, context: Int) -> ModelFile {
    let a = Architecture(kind: .gru, layers: 1, inputSize: 1, hiddenSize: hidden, outputSize: 1)
    var file = ModelFile(
      architecture: a, contextLength: context, encoding: .windowDifferences,
      tensors: a.tensors.map { spec in (0..<spec.count).map { Float($0 % 13 - 6) * 1e-3 } })
    file.provenance.family = "hostile"
    return file
  }

  /// A standardize model of 64 inputs and outputs over a window of 64 steps: each stream of `--streams` keeps its
  /// own window (129 steps of 64 values), so far fewer than 65,536 names fit in the state bound.
  static func standardizedModel() -> ModelFile {
    let a = Architecture(kind: .rnn, layers: 1, inputSize: 64, hiddenSize: 1, outputSize: 64)
    var file = ModelFile(
      architecture: a, contextLength: 64, encoding: .standardize,
      tensors: a.tensors.map { spec in (0..<spec.count).map { Float($0 % 13 - 6) * 1e-3 } })
    let zeros = [Float](repeating: 0, count: 64)
    let ones = [Float](repeating: 1, count: 64)
    file.normalization = Normalization(inputShift: zeros, inputScale: ones, outputShift: zeros, outputScale: ones)
    file.provenance.family = "hostile"
    return file
  }

  static let cases: [HostileCase] = [
    // 1. Golden directories: nothing outside the directory is read or shown.
    HostileCase(
      family: "golden: symbolic link", what: "a .out linked to a file outside the directory", tool: .recur,
      setup: { s in
        let g = s.golden()
        s.symlink("g/stream-1.out", to: try s.write("secret", HostileInputTests.secret + "\n"))
        return ["golden", "check", g]
      }, status: 1, error: "g/stream-1.out': a symbolic link, not a regular file",
      check: { _, run in #expect(!String(decoding: run.stdout, as: UTF8.self).contains(HostileInputTests.secret)) }),
    HostileCase(
      family: "golden: symbolic link", what: "a .in linked to a file outside the directory", tool: .recur,
      setup: { s in
        let g = s.golden()
        s.symlink("g/stream-1.in", to: try s.write("secret", HostileInputTests.secret + "\n"))
        return ["golden", "check", g]
      }, status: 1, error: "g/stream-1.in': a symbolic link, not a regular file"),
    HostileCase(
      family: "golden: symbolic link", what: "golden.txt linked elsewhere", tool: .recur,
      setup: { s in
        let g = s.golden()
        let copy = try s.write("manifest", s.read("g/golden.txt")!)
        s.symlink("g/golden.txt", to: copy)
        return ["golden", "check", g]
      }, status: 1,
      error: "is not a golden directory ('\\(placeholder)golden.txt': a symbolic link, not a regular file)"),
    HostileCase(
      family: "golden: path out of the directory", what: "manifest model is an absolute path", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.setManifest("model", "/etc/passwd")
        return ["golden", "check", g]
      }, status: 1,
      error: "line 4: model '/etc/passwd' must be a built-in model's name or a file name in the golden directory"),
    HostileCase(
      family: "golden: path out of the directory", what: "manifest model climbs with ..", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write(
          "odd.recur", Array(FileManager.default.contents(atPath: HostileInputTests.fixtures + "/models/odd.recur")!))
        try s.setManifest("model", "../odd.recur")
        return ["golden", "check", g]
      }, status: 1, error: "model '../odd.recur' must be a built-in model's name or a file name"),
    HostileCase(
      family: "golden: path out of the directory", what: "manifest model is a symbolic link in the directory",
      tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.setManifest("model", "model.recur")
        s.symlink("g/model.recur", to: HostileInputTests.fixtures + "/models/odd.recur")
        return ["golden", "check", g]
      }, status: 1, error: "g/model.recur': a symbolic link, not a regular file"),
    HostileCase(
      family: "golden: path out of the directory", what: "a copied model resolves inside the directory",
      tool: .recur,
      setup: { s in
        let dir = s.path("g")
        let run = Measured.run(
          CLI.recur, ["golden", "record", "--model", HostileInputTests.fixtures + "/models/odd.recur", "-o", dir],
          measure: false)
        precondition(run.exitStatus == 0, run.stderr)
        return ["golden", "check", dir]  // from the test's working directory, which has no model.recur
      }, status: 0, error: nil,
      check: { s, run in
        let manifest = String(decoding: s.read("g/golden.txt") ?? [], as: UTF8.self)
        #expect(manifest.contains("\nmodel model.recur\n"), "\(manifest)")
        #expect(
          s.read("g/model.recur")
            == FileManager.default.contents(atPath: HostileInputTests.fixtures + "/models/odd.recur").map {
              [UInt8]($0)
            })
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("2 cases"))
      }),
    // 2. golden record writes only inside its new directory.
    HostileCase(
      family: "golden record: output", what: "-o a directory holding a symbolic link", tool: .recur,
      setup: { s in
        let g = s.golden()
        let victim = try s.write("victim", "precious\n")
        s.symlink("g/golden.txt.tmp-1", to: victim)
        return ["golden", "record", "--model", "odd", "-o", g]
      }, status: 1, error: "holds 'golden.txt.tmp-1', a symbolic link; a directory this command replaces may hold",
      check: { s, _ in #expect(s.read("victim") == Array("precious\n".utf8)) }),
    HostileCase(
      family: "golden record: output", what: "-o a directory with subdirectories (a home directory)", tool: .recur,
      setup: { s in
        try FileManager.default.createDirectory(atPath: s.path("home/.ssh"), withIntermediateDirectories: true)
        try s.write("home/.ssh/id_rsa", "key\n")
        return ["golden", "record", "--model", "odd", "-o", s.path("home")]
      }, status: 1, error: "holds '.ssh', a directory; a directory this command replaces may hold regular files only",
      check: { s, _ in #expect(s.read("home/.ssh/id_rsa") == Array("key\n".utf8)) }),
    HostileCase(
      family: "golden record: output", what: "-o a symbolic link to a directory", tool: .recur,
      setup: { s in
        try FileManager.default.createDirectory(atPath: s.path("real"), withIntermediateDirectories: true)
        return ["golden", "record", "--model", "odd", "-o", s.symlink("link", to: s.path("real"))]
      }, status: 1, error: "is a symbolic link, not a directory; refusing to replace it"),
    HostileCase(
      family: "golden record: output", what: "re-recording keeps foreign files, drops stale cases", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("g/notes.txt", "kept\n")
        try s.write("g/stream-9.out", "1\n")
        return ["golden", "record", "--model", "odd", "-o", g]
      }, status: 0, error: nil,
      check: { s, _ in
        #expect(s.read("g/notes.txt") == Array("kept\n".utf8))
        #expect(s.read("g/stream-9.out") == nil)
        let left = (try? FileManager.default.contentsOfDirectory(atPath: s.root)) ?? []
        #expect(left.sorted() == ["g"], "temporary directories left: \(left)")
      }),
    // 3. Output paths of recur-train: only regular files are replaced.
    HostileCase(
      family: "output path", what: "import-torch -o a character device (a FIFO where mknod is refused)",
      tool: .train,
      setup: { s in ["import-torch", HostileInputTests.torchJSON, "-o", s.device("n") ?? s.fifo("n")] }, status: 2,
      error: "output path '\\(placeholder)' is a \\(placeholder), not a regular file; refusing to replace it",
      check: { s, _ in #expect(s.isCharacterDevice("n") || s.isFIFO("n")) }),
    HostileCase(
      family: "output path", what: "import-torch -o a FIFO", tool: .train,
      setup: { s in ["import-torch", HostileInputTests.torchJSON, "-o", s.fifo("p")] }, status: 2,
      error: "output path '\\(placeholder)' is a FIFO, not a regular file; refusing to replace it",
      check: { s, _ in #expect(s.isFIFO("p")) }),
    HostileCase(
      family: "output path", what: "train -o a symbolic link", tool: .train,
      setup: { s in
        ["train", "--family", "odd", "--epochs", "1", "-o", s.symlink("m.recur", to: try s.write("target", "x"))]
      }, status: 2, error: "is a symbolic link; refusing to replace it (name the file itself)",
      check: { s, _ in #expect(s.read("target") == Array("x".utf8)) }),
    // 4, 5: escaping (terminal and JSON) have their own tests below; a row for the stderr sink:
    HostileCase(
      family: "escaping", what: "an escape sequence in a path reaches stderr escaped", tool: .recur,
      setup: { s in ["stream", "--model", s.path("\u{1B}[2J\nforged")] }, status: 1,
      error: "\\u001b[2J\\nforged"),
    // 6. Integers from input: checked arithmetic.
    HostileCase(
      family: "import-torch: integers", what: "layer suffix _l9223372036854775807", tool: .train,
      setup: { s in
        [
          "import-torch", try s.write("s.json", HostileInputTests.torchState(layerSuffix: "9223372036854775807")),
          "-o", s.path("m.recur"),
        ]
      }, status: 1, error: "layer 9223372036854775807 is beyond the format's 8 layers"),
    HostileCase(
      family: "import-torch: integers", what: "two modules at layer 2^62", tool: .train,
      setup: { s in
        let state = HostileInputTests.torchState(layerSuffix: "4611686018427387904", prefixes: ["rnn", "rnn2"])
        return ["import-torch", try s.write("s.json", state), "-o", s.path("m.recur")]
      }, status: 1, error: "layer 4611686018427387904 is beyond the format's 8 layers"),
    // 7, 8: traps.
    HostileCase(
      family: "fit: too little data", what: "a one-row sequence", tool: .train,
      setup: { s in ["fit", try s.write("d.txt", "1\n2\n3\n4\n5\n\n6\n"), "-o", s.path("m.recur"), "--window", "1"] },
      status: 1, error: "line 7: sequence 2 has 1 step, 1 held out for validation, so 0 training steps"),
    HostileCase(
      family: "fit: too little data", what: "--validation 0.999", tool: .train,
      setup: { s in
        [
          "fit", try s.write("d.txt", (1...100).map(String.init).joined(separator: "\n")), "--validation", "0.999",
          "-o", s.path("m.recur"),
        ]
      }, status: 1, error: "sequence 1 has 100 steps, 100 held out for validation, so 0 training steps"),
    HostileCase(
      family: "eval: a fitted model", what: "eval --model fitted.recur --family odd", tool: .train,
      setup: { _ in ["eval", "--model", HostileInputTests.fittedModel, "--family", "odd"] }, status: 2,
      error: "eval measures models trained on a sequence family; this model's encoding is standardize"),
    // 9. FIFOs never block: refused before they are opened for reading.
    HostileCase(
      family: "FIFO", what: "recur stream --model FIFO", tool: .recur,
      setup: { s in ["stream", "--model", s.fifo("m.recur")] }, stdin: "1\n", status: 1,
      error: "m.recur': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "recur-train train --init FIFO", tool: .train,
      setup: { s in ["train", "--family", "odd", "--init", s.fifo("m.recur"), "-o", s.path("o.recur")] }, status: 1,
      error: "--init '\\(placeholder)': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "recur-train score --model FIFO", tool: .train,
      setup: { s in ["score", "--model", s.fifo("m.recur"), try s.write("d.txt", "1\n2\n3\n"), "--from", "2"] },
      status: 1, error: "--model '\\(placeholder)': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "recur-train eval --model FIFO", tool: .train,
      setup: { s in ["eval", "--model", s.fifo("m.recur"), "--family", "odd"] }, status: 1,
      error: "a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "a golden .out that is a FIFO", tool: .recur,
      setup: { s in
        let g = s.golden()
        unlink(s.path("g/generate-1.out"))
        s.fifo("g/generate-1.out")
        return ["golden", "check", g]
      }, status: 1, error: "g/generate-1.out': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "the golden manifest's model is a FIFO", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.setManifest("model", "model.recur")
        s.fifo("g/model.recur")
        return ["golden", "check", g]
      }, status: 1, error: "g/model.recur': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "golden record --inputs FIFO", tool: .recur,
      setup: { s in ["golden", "record", "--model", "odd", "--inputs", s.fifo("in.txt"), "-o", s.path("g")] },
      status: 1, error: "in.txt': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "import-torch FIFO", tool: .train,
      setup: { s in ["import-torch", s.fifo("s.json"), "-o", s.path("m.recur")] }, status: 1,
      error: "s.json': a FIFO, not a regular file"),
    HostileCase(
      family: "FIFO", what: "fit on a FIFO", tool: .train,
      setup: { s in ["fit", s.fifo("d.txt"), "-o", s.path("m.recur")] }, status: 1,
      error: "cannot read '\\(placeholder)': a FIFO, not a regular file"),
    HostileCase(
      family: "not a file", what: "import-torch on a directory", tool: .train,
      setup: { s in ["import-torch", s.root, "-o", s.path("m.recur")] }, status: 1,
      error: "a directory, not a regular file"),
    // 10. Seeds as arguments: linear, bounded.
    HostileCase(
      family: "arguments", what: "65,536 seed values (the documented limit)", tool: .recur,
      setup: { _ in ["generate", "--model", "odd", "--steps", "1"] + (1...65536).map(String.init) }, status: 0,
      error: nil,
      check: { _, run in #expect(String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").count == 1) }),
    HostileCase(
      family: "arguments", what: "65,601 arguments", tool: .recur,
      setup: { _ in ["generate"] + (1...65600).map(String.init) }, status: 2, error: "65601 arguments; at most 65600"),
    // 11. Golden work bounded before any case runs.
    HostileCase(
      family: "golden: bounded work", what: "steps=100000 with many seed lines", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("g/generate-1.in", String(repeating: "1 2 3\n", count: 400))
        let text = try String(contentsOfFile: s.path("g/golden.txt"), encoding: .utf8)
        try s.write("g/golden.txt", text.replacingOccurrences(of: "steps=20", with: "steps=100000"))
        return ["golden", "check", g]
      }, status: 1, error: "up to 401 seeds × 100000 steps would take the directory past 20000000 generated values"),
    HostileCase(
      family: "golden: bounded work", what: "more than 1000 cases", tool: .recur,
      setup: { s in
        let g = s.golden()
        let text = try String(contentsOfFile: s.path("g/golden.txt"), encoding: .utf8)
        try s.write("g/golden.txt", text + (0...1000).map { "case c\($0) stream\n" }.joined())
        return ["golden", "check", g]
      }, status: 1, error: "more than 1000 cases"),
    // 14. Non-finite expected values are an error, never a pass.
    HostileCase(
      family: "golden: expected values", what: "nan as an expected value", tool: .recur,
      setup: { s in
        let g = s.golden()
        var out = String(decoding: s.read("g/stream-1.out")!, as: UTF8.self)
        out = "nan" + out.drop { $0 != "\n" }
        try s.write("g/stream-1.out", out)
        return ["golden", "check", g]
      }, status: 1, error: "stream-1.out, line 1, value 1: expected value 'nan' is not a finite number"),
    HostileCase(
      family: "golden: expected values", what: "inf as an expected value, --exact", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("g/stream-1.out", "inf\n")
        return ["golden", "check", g, "--exact"]
      }, status: 1, error: "expected value 'inf' is not a finite number"),
    HostileCase(
      family: "golden: expected values", what: "a value longer than 64 bytes", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("g/stream-1.out", String(repeating: "1", count: 100) + "\n")
        return ["golden", "check", g]
      }, status: 1, error: "a value longer than 64 bytes"),
    HostileCase(
      family: "golden: expected values", what: "terminal escapes in a .out are reported escaped", tool: .recur,
      setup: { s in
        let g = s.golden()
        var out = String(decoding: s.read("g/stream-1.out")!, as: UTF8.self)
        out = "1\u{1B}[31m" + out.drop { $0 != "\n" }
        try s.write("g/stream-1.out", out)
        return ["golden", "check", g]
      }, status: 1, error: "line 1, value 1: expected value '1\\u001b[31m' is not a finite number",
      check: { _, run in #expect(!run.stdout.contains(0x1B)) }),
    // The second look (a hostile review of the fixes above).
    HostileCase(
      family: "golden: expected values", what: "a NUL byte after a valid number", tool: .recur,
      setup: { s in
        let g = s.golden()
        var out = s.read("g/stream-1.out")!
        out.insert(contentsOf: [0, 0x1B, 0x5B, 0x32, 0x4A], at: out.firstIndex(of: 0x0A)!)
        try s.write("g/stream-1.out", out)
        return ["golden", "check", g]
      }, status: 1, error: "line 1, value 1: expected value '\\(placeholder)\\u0000\\u001b[2J' is not a finite number"),
    HostileCase(
      family: "golden: manifest", what: "a NUL byte in the tolerance", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.setManifest("tolerance", "1e-05\u{0}junk")
        return ["golden", "check", g]
      }, status: 1, error: "golden.txt, line 9: bad tolerance (a finite number >= 0)"),
    HostileCase(
      family: "golden: bounded work", what: "two 33 MiB .out files (sparse)", tool: .recur,
      setup: { s in
        let g = s.golden()
        for name in ["stream-1.out", "generate-1.out"] {
          let fd = open(s.path("g/" + name), O_WRONLY | O_TRUNC)
          precondition(fd >= 0 && ftruncate(fd, off_t(33 << 20)) == 0)
          close(fd)
        }
        return ["golden", "check", g]
      }, status: 1, error: "the outputs come to more than 67108864 bytes (a golden directory's limit)"),
    HostileCase(
      family: "golden: hard link", what: "a .out hard-linked to a file outside the directory", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("secret", HostileInputTests.secret + "\n")
        unlink(s.path("g/stream-1.out"))
        precondition(link(s.path("secret"), s.path("g/stream-1.out")) == 0)
        return ["golden", "check", g]
      }, status: 1, error: "g/stream-1.out': a file with 2 hard links, not read here",
      check: { _, run in #expect(!run.stderr.contains(HostileInputTests.secret) && !run.stdout.contains(0x53)) }),
    HostileCase(
      family: "golden record: output", what: "an input inside the directory it replaces", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("g/mine.txt", "5\n7\n9\n")
        return ["golden", "record", "--model", "odd", "--inputs", s.path("g/mine.txt"), "-o", g]
      }, status: 1, error: "is inside -o '\\(placeholder)', which is replaced whole; refusing to lose an input",
      check: { s, _ in #expect(s.read("g/mine.txt") == Array("5\n7\n9\n".utf8)) }),
    HostileCase(
      family: "outputs and inputs", what: "fit - --validation-data - (stdin twice)", tool: .train,
      setup: { s in ["fit", "-", "--validation-data", "-", "-o", s.path("m.recur")] }, stdin: "1\n2\n", status: 2,
      error: "standard input can be read once: give --validation-data a file"),
    HostileCase(
      family: "golden: bounded work", what: "a large model in the directory", tool: .recur,
      setup: { s in
        let g = s.golden()
        let a = Architecture(kind: .gru, layers: 1, inputSize: 1, hiddenSize: 1024, outputSize: 1)
        try s.write("g/model.recur", HostileSizeTests.model(a).encoded())
        try s.setManifest("model", "model.recur")
        try s.write("g/stream-1.in", String(repeating: "1\n", count: 5000))
        return ["golden", "check", g]
      }, status: 1, error: "parameters would take the directory past 10000000000 step-parameters of work"),
    HostileCase(
      family: "arguments", what: "30,000 seed values, an option, 30,000 more", tool: .recur,
      setup: { _ in
        ["generate", "--model", "odd"] + (1...30000).map(String.init) + ["--steps", "1"] + (1...30000).map(String.init)
      }, status: 0, error: nil,
      check: { _, run in #expect(String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").count == 1) }),
    HostileCase(
      family: "stream --streams", what: "65,536 names, then 100,000 lines of one stream", tool: .recur,
      setup: { _ in ["stream", "--streams", "--model", "odd"] },
      stdin: (0..<65536).map { "n\($0) 1\n" }.joined() + String(repeating: "n0 1\n", count: 100_000), status: 0,
      error: nil,
      check: { _, run in #expect(run.stdout.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) } == 165_536) }),
    HostileCase(
      family: "outputs and inputs", what: "fit - -o d < d (standard input is the output)", tool: .train,
      setup: { s in
        let d = try s.write("d.txt", (1...60).map(String.init).joined(separator: "\n"))
        return ["fit", "-", "-o", d]
      }, stdinFile: "d.txt", status: 2, error: "is also an input of this run (standard input); refusing to replace it",
      check: { s, _ in #expect(s.read("d.txt")?.first == UInt8(ascii: "1")) }),
    HostileCase(
      family: "fit: format limits", what: "257 columns", tool: .train,
      setup: { s in
        let rows = (0..<40).map { r in (0..<257).map { "\(($0 + r) % 7)" }.joined(separator: " ") }
        return ["fit", try s.write("d.txt", rows.joined(separator: "\n")), "--target", "1", "-o", s.path("m.recur")]
      }, status: 2, error: "--inputs selects 257 columns; a model reads at most 256"),
    HostileCase(
      family: "fit: bounded memory", what: "65,537 one-row sequences", tool: .train,
      setup: { s in ["fit", try s.write("d.txt", String(repeating: "1\n\n", count: 65537)), "-o", s.path("m.recur")] },
      status: 1, error: "line 131073: more than 65536 sequences (a blank line ends one)"),
    HostileCase(
      family: "fit: bounded memory", what: "--window 4096 over 90,000 steps", tool: .train,
      setup: { s in
        let d = try s.write("d.txt", (0..<90_000).map { "\($0 % 17)" }.joined(separator: "\n"))
        return ["fit", d, "--window", "4096", "--hidden", "4", "--epochs", "1", "-o", s.path("m.recur")]
      }, status: 1, error: "--window 4096 makes 67904 training windows of 4096 steps: more than 512 MiB"),
    HostileCase(
      family: "stdout", what: "recur --help > /dev/full", tool: .recur, setup: { _ in ["--help"] },
      stdoutPath: "/dev/full", status: 1, error: "cannot write to standard output: No space left on device"),
    HostileCase(
      family: "stdout", what: "recur golden --help > /dev/full", tool: .recur, setup: { _ in ["golden", "--help"] },
      stdoutPath: "/dev/full", status: 1, error: "cannot write to standard output: No space left on device"),
    HostileCase(
      family: "stdout", what: "recur-train fit --help > /dev/full", tool: .train, setup: { _ in ["fit", "--help"] },
      stdoutPath: "/dev/full", status: 1, error: "cannot write to standard output: No space left on device"),
    // The third look (a second hostile review, of the second look's fixes).
    HostileCase(
      family: "golden: bounded work", what: "a windowed model (4096 steps) over 20,000 values", tool: .recur,
      setup: { s in
        let g = s.golden()
        try s.write("g/model.recur", HostileInputTests.windowedModel(hidden: 64, context: 4096).encoded())
        try s.setManifest("model", "model.recur")
        try s.write("g/stream-1.in", String(repeating: "1\n", count: 20_000))
        return ["golden", "check", g]
      }, status: 1, error: "would take the directory past 10000000000 step-parameters of work"),
    HostileCase(
      family: "golden: bounded work", what: "256 outputs a step: the formatting counts", tool: .recur,
      setup: { s in
        let g = s.golden()
        let a = Architecture(kind: .rnn, layers: 1, inputSize: 1, hiddenSize: 1, outputSize: 256)
        try s.write("g/model.recur", HostileSizeTests.model(a).encoded())
        try s.setManifest("model", "model.recur")
        try s.write("g/stream-1.in", String(repeating: "1\n", count: 100_000))
        return ["golden", "check", g]
      }, status: 1, error: "would take the directory past 10000000000 step-parameters of work"),
    HostileCase(
      family: "golden: path", what: "an empty directory argument", tool: .recur,
      setup: { _ in ["golden", "check", ""] }, status: 1, error: "the golden directory is an empty path"),
    HostileCase(
      family: "stream --streams", what: "a windowed model: names bounded by their state", tool: .recur,
      setup: { s in
        ["stream", "--streams", "--model", try s.write("w.recur", HostileInputTests.standardizedModel().encoded())]
      },
      stdin: (0..<8000).map { "n\($0)" + String(repeating: " 1", count: 64) + "\n" }.joined(), status: 1,
      error:
        "line 7989, column 1: more than 7988 stream names for this model (each stream's state takes about 67208 bytes"),
    HostileCase(
      family: "import-torch: bounded memory", what: "a million numbers, then a string", tool: .train,
      setup: { s in
        let json = "{\"a\": [" + String(repeating: "1,", count: 1 << 20) + "\"x\"]}"
        return ["import-torch", try s.write("s.json", json), "-o", s.path("m.recur")]
      }, status: 1, error: "more than 262144 values outside arrays of numbers"),
    HostileCase(
      family: "arguments", what: "recur stream with 3,000 --raw", tool: .recur,
      setup: { _ in ["stream"] + Array(repeating: "--raw", count: 3000) }, status: 2,
      error: "3001 options and arguments; at most 2200"),
    HostileCase(
      family: "arguments", what: "recur-train with 300 arguments", tool: .train,
      setup: { _ in ["train", "--family", "odd"] + Array(repeating: "--epochs=1", count: 297) }, status: 2,
      error: "300 arguments; at most 256"),
    HostileCase(
      family: "arguments", what: "generate with an unknown option", tool: .recur,
      setup: { _ in ["generate", "1", "2", "--stepz", "4"] }, status: 2, error: "unknown option '--stepz'"),
    HostileCase(
      family: "train: bounded memory", what: "--batch 65536 --hidden 1024 --layers 7", tool: .train,
      setup: { s in
        ["train", "--family", "fib", "--hidden", "1024", "--layers", "7", "--batch", "65536", "-o", s.path("m.recur")]
      }, status: 2, error: "needs about 129031 MiB to train (at most 2048 MiB)"),
    HostileCase(
      family: "outputs and inputs", what: "a plots directory that cannot be made: the old model stays", tool: .train,
      setup: { s in
        try s.write("m.recur", "old")
        return ["train", "--family", "odd", "--epochs", "1", "-o", s.path("m.recur"), "--plots", "/proc/recur-plots"]
      }, status: 1, error: "--plots '/proc/recur-plots': cannot create the directory",
      check: { s, _ in #expect(s.read("m.recur") == Array("old".utf8)) }),
    HostileCase(
      family: "escaping", what: "recur-train prints a data file's name escaped", tool: .train,
      setup: { s in
        let d = try s.write("d\u{1B}]0;pwned\u{07}.csv", (1...40).map { "\($0 % 7)" }.joined(separator: "\n"))
        return ["fit", d, "--epochs", "1", "--hidden", "2", "--window", "2", "-o", s.path("m.recur")]
      }, status: 0, error: nil,
      check: { _, run in
        #expect(!run.stdout.contains(0x1B) && !run.stdout.contains(0x07), "a control character reached stdout")
        #expect(String(decoding: run.stdout, as: UTF8.self).contains("d\\u001b]0;pwned\\u0007.csv"))
      }),
    HostileCase(
      family: "fit: bounded work", what: "32 columns: the AR baseline is narrowed, with a note", tool: .train,
      setup: { s in
        // Pseudo-random columns (an affine pattern would make the AR design matrix rank deficient).
        let rows = (0..<200).map { r in
          (0..<32).map { c in "\(((r * 32 + c) &* 2_654_435_761) % 1000)" }.joined(separator: " ")
        }
        return [
          "fit", try s.write("d.txt", rows.joined(separator: "\n")), "--epochs", "1", "--hidden", "2",
          "--window", "2", "-o", s.path("m.recur"),
        ]
      }, status: 0, error: nil,
      check: { _, run in
        #expect(
          String(decoding: run.stdout, as: UTF8.self).contains(
            "note: the AR baseline tries orders up to 2, not --ar-order 12"))
      }),
    // 15. A byte-order mark is not data.
    HostileCase(
      family: "byte-order mark", what: "recur stream input starting with EF BB BF", tool: .recur,
      setup: { _ in ["stream", "--model", "odd"] }, stdin: "\u{FEFF}1\n3\n", status: 0, error: nil,
      check: { _, run in #expect(String(decoding: run.stdout, as: UTF8.self).split(separator: "\n").count == 2) }),
    HostileCase(
      family: "byte-order mark", what: "fit data with a BOM and a header names the columns", tool: .train,
      setup: { s in
        let rows = (1...40).map { "\($0),\($0 * 2)" }.joined(separator: "\n")
        return ["fit", try s.write("d.csv", "\u{FEFF}a,b\n" + rows), "--inputs", "c", "-o", s.path("m.recur")]
      }, status: 2, error: "--inputs 'c': no such column in \\(placeholder) (columns: a, b)"),
    // 16. An output never replaces an input or another output.
    HostileCase(
      family: "outputs and inputs", what: "fit d -o d", tool: .train,
      setup: { s in
        let d = try s.write("d.txt", (1...60).map(String.init).joined(separator: "\n"))
        return ["fit", d, "-o", d]
      }, status: 2, error: "is also an input of this run",
      check: { s, _ in #expect(s.read("d.txt")?.count == (1...60).map(String.init).joined(separator: "\n").utf8.count) }
    ),
    HostileCase(
      family: "outputs and inputs", what: "fit --predictions X -o X", tool: .train,
      setup: { s in
        [
          "fit", try s.write("d.txt", (1...60).map(String.init).joined(separator: "\n")), "-o", s.path("x"),
          "--predictions", s.path("./x"),
        ]
      }, status: 2, error: "--predictions '\\(placeholder)' is the same file as -o; each output needs its own"),
    HostileCase(
      family: "outputs and inputs", what: "import-torch state.json -o state.json", tool: .train,
      setup: { s in
        let state = try s.write("s.json", String(contentsOfFile: HostileInputTests.torchJSON, encoding: .utf8))
        return ["import-torch", state, "-o", state]
      }, status: 2, error: "is also an input of this run"),
    HostileCase(
      family: "outputs and inputs", what: "fit --plots a/b/c creates nothing when the data is refused", tool: .train,
      setup: { s in ["fit", try s.write("d.txt", "1\n2\n\n3\n"), "-o", s.path("m.recur"), "--plots", s.path("a/b/c")] },
      status: 1, error: "training step",
      check: { s, _ in #expect(s.kind("a") == nil, "--plots created directories for a refused run") }),
    // 18. Output errors.
    HostileCase(
      family: "stdout", what: "recur bench --json > /dev/full", tool: .recur,
      setup: { _ in ["bench", "--model", "odd", "--json", "--steps", "1000", "--repeats", "1"] },
      stdoutPath: "/dev/full", status: 1, error: "cannot write to standard output: No space left on device"),
    HostileCase(
      family: "stdout", what: "recur golden check > /dev/full", tool: .recur,
      setup: { s in ["golden", "check", s.golden()] }, stdoutPath: "/dev/full", status: 1,
      error: "cannot write to standard output: No space left on device"),
    HostileCase(
      family: "stdout", what: "recur inspect > /dev/full", tool: .recur, setup: { _ in ["inspect", "--model", "odd"] },
      stdoutPath: "/dev/full", status: 1, error: "cannot write to standard output: No space left on device"),
    HostileCase(
      family: "stdout", what: "recur-train eval > /dev/full", tool: .train,
      setup: { _ in ["eval", "--model", HostileInputTests.fixtures + "/models/odd.recur"] }, stdoutPath: "/dev/full",
      status: 1, error: "cannot write to standard output: No space left on device"),
    // Minor: CRLF files, counts that add up.
    HostileCase(
      family: "CRLF", what: "a CRLF golden directory checks like an LF one", tool: .recur,
      setup: { s in
        let g = s.golden()
        for name in ["golden.txt", "stream-1.out", "generate-1.out"] {
          let text = String(decoding: s.read("g/\(name)")!, as: UTF8.self)
          try s.write("g/\(name)", text.replacingOccurrences(of: "\n", with: "\r\n"))
        }
        return ["golden", "check", g]
      }, status: 0, error: nil),
    HostileCase(
      family: "report", what: "a line of another length: counts add up", tool: .recur,
      setup: { s in
        let g = s.golden()
        let lines = String(decoding: s.read("g/generate-1.out")!, as: UTF8.self).split(separator: "\n")
        try s.write("g/generate-1.out", ([lines[0] + " 1 2"] + lines.dropFirst()).joined(separator: "\n") + "\n")
        return ["golden", "check", g]
      }, status: 1, error: nil,
      check: { _, run in
        let out = String(decoding: run.stdout, as: UTF8.self)
        #expect(out.contains("generate-1.out: 2 of 62 values differ"), "\(out)")
        #expect(out.contains("line 1: expected 22 values, actual 20"), "\(out)")
      }),
  ]

  @Test(arguments: cases.filter { runningOnLinux || !$0.needsLinux })
  func hostile(_ row: HostileCase) throws {
    let sandbox = try Sandbox(row.what.filter { $0.isLetter }.prefix(24).lowercased())
    defer { try? FileManager.default.removeItem(atPath: sandbox.root) }
    let arguments = try row.setup(sandbox)
    var stdinPath = "/dev/null"
    if let stdin = row.stdin { stdinPath = try sandbox.write("stdin", stdin) }
    if let name = row.stdinFile { stdinPath = sandbox.path(name) }
    let executable = row.tool == .recur ? CLI.recur : CLI.recurTrain
    let run = Measured.run(
      executable, arguments, stdinPath: stdinPath, measure: false, timeout: 60, stdoutPath: row.stdoutPath)
    #expect(run.signal == nil, "killed by signal \(run.signal ?? 0) (a hang?); stderr: \(run.stderr)")
    #expect(run.exitStatus == row.status, "exit \(run.exitStatus.map(String.init) ?? "-"); stderr: \(run.stderr)")
    if let words = row.error {
      // `\(placeholder)` stands for any text (a path in the sandbox): the words around it must appear in order.
      let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
      #expect(lines.count == 2 && lines[1].isEmpty, "not one line: \(run.stderr.debugDescription)")
      #expect(run.stderr.hasPrefix("error: "), "\(run.stderr)")
      var rest = Substring(run.stderr)
      for part in words.components(separatedBy: "\\(placeholder)") where !part.isEmpty {
        guard let found = rest.range(of: part) else {
          Issue.record("stderr lacks '\(part)': \(run.stderr.debugDescription)")
          break
        }
        rest = rest[found.upperBound...]
      }
      #expect(
        !run.stderr.dropLast().unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) },
        "a control character reached stderr: \(run.stderr.debugDescription)")
    } else if row.status == 0 {
      #expect(run.stderr.isEmpty || !run.stderr.contains("error:"), "\(run.stderr)")
    }
    row.check?(sandbox, run)
  }

  // MARK: Escaping

  /// A model whose family holds quotes, a backslash and JSON syntax (the family field allows printable ASCII).
  static func injectingModel() throws -> String {
    var file = sampleModel()
    file.provenance.family = "\"},\"parameters\":1,\"z\":{\"a\":\"\\"
    return try CLI.writeModel(file, name: "injecting-\(UUID().uuidString).recur")
  }

  @Test("inspect --json writes a model's strings escaped: the document parses and the family reads back as stored")
  func inspectJSONEscapesStrings() throws {
    let path = try Self.injectingModel()
    let run = try CLI.run(["inspect", "--model", path, "--json"], stdin: "")
    #expect(run.status == 0, "\(run.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
    let provenance = object?["provenance"] as? [String: Any]
    #expect(provenance?["family"] as? String == "\"},\"parameters\":1,\"z\":{\"a\":\"\\")
    #expect(object?["z"] == nil)
    #expect((object?["parameters"] as? Int).map { $0 > 1 } == true)
  }

  @Test("a closed stdout (EPIPE, `| head -c 10`) ends quietly: exit 0, nothing on stderr")
  func closedPipeIsQuiet() throws {
    let run = Measured.run(CLI.recur, ["generate", "--model", "odd", "--steps", "1000000", "1"], stdoutLimit: 10)
    #expect(run.exitStatus == 0 && run.stderr.isEmpty, "\(run.exitStatus.map(String.init) ?? "-") \(run.stderr)")
  }

  // MARK: Memory

  @Test(
    "golden check streams a 10 MB .out: bounded memory (was 56 times the file)",
    .enabled(if: runningOnLinux, "peak RSS through GNU time"))
  func goldenCheckMemory() throws {
    let sandbox = try Sandbox("memory")
    defer { try? FileManager.default.removeItem(atPath: sandbox.root) }
    let g = sandbox.golden()
    try sandbox.write("g/stream-1.out", [UInt8](repeating: 0x0A, count: 10_000_000))
    let run = Measured.run(CLI.recur, ["golden", "check", g])
    #expect(run.exitStatus == 1)
    #expect(String(decoding: run.stdout, as: UTF8.self).contains("line count: expected 10000000, actual 50"))
    #expect(run.peakRSSMiB < 48, "golden check on a 10 MB .out took \(run.peakRSSMiB) MiB")
    print("hostile sizes: golden check, 10 MB .out of newlines: peak RSS \(String(format: "%.1f", run.peakRSSMiB)) MiB")
  }

  @Test(
    "import-torch: a JSON over 256 MiB is refused before it is read; a 3 MB one takes at most 8x its size",
    .enabled(if: runningOnLinux, "peak RSS through GNU time"))
  func importTorchMemory() throws {
    let sandbox = try Sandbox("import-memory")
    defer { try? FileManager.default.removeItem(atPath: sandbox.root) }
    let big = sandbox.path("big.json")
    let fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    #expect(ftruncate(fd, off_t((256 << 20) + 1)) == 0)  // sparse
    close(fd)
    let refused = Measured.run(CLI.recurTrain, ["import-torch", big, "-o", sandbox.path("m.recur")])
    #expect(refused.exitStatus == 1)
    #expect(refused.stderr.contains("file is 268435457 bytes (at most 268435456)"), "\(refused.stderr)")
    #expect(refused.peakRSSMiB < 64, "\(refused.peakRSSMiB) MiB")

    // A GRU of hidden 512 with short numbers ("0.25"): 3 × 512 × 513 values, about 3.5 bytes of text each.
    let h = 512
    func matrix(_ rows: Int, _ cols: Int) -> String {
      "["
        + (0..<rows).map { r in "[" + (0..<cols).map { c in "0.\((r + c) % 10)" }.joined(separator: ",") + "]" }
        .joined(separator: ",") + "]"
    }
    func vector(_ n: Int) -> String { "[" + Array(repeating: "0.5", count: n).joined(separator: ",") + "]" }
    let json =
      "{\"gru.weight_ih_l0\": \(matrix(3 * h, 1)), \"gru.weight_hh_l0\": \(matrix(3 * h, h)), "
      + "\"gru.bias_ih_l0\": \(vector(3 * h)), \"gru.bias_hh_l0\": \(vector(3 * h)), \"fc.weight\": \(matrix(1, h)), "
      + "\"fc.bias\": [0.0]}"
    let state = try sandbox.write("state.json", json)
    let run = Measured.run(CLI.recurTrain, ["import-torch", state, "-o", sandbox.path("m.recur")])
    #expect(run.exitStatus == 0, "\(run.stderr)")
    let textMiB = Double(json.utf8.count) / 1_048_576
    // Under AddressSanitizer (shadow memory, a quarantine of freed blocks) the bounds do not apply: 214 and 516 MiB.
    #expect(
      builtWithAllocatorSanitizer || run.peakRSSMiB < 24 + 8 * textMiB,
      "\(run.peakRSSMiB) MiB for \(textMiB) MiB of JSON")
    print(
      "hostile sizes: import-torch, \(String(format: "%.1f", textMiB)) MiB of JSON: peak RSS "
        + "\(String(format: "%.1f", run.peakRSSMiB)) MiB")

    // 16 MiB of nested one-element arrays ([[[0]]], 8 bytes of text a number): packed as one tensor, refused for
    // its shape, in bounded memory (as boxed arrays they took 30 times the text).
    let nested = "{\"rnn.weight_ih_l0\": [" + Array(repeating: "[[[0]]]", count: 2 << 20).joined(separator: ",") + "]}"
    let nestedPath = try sandbox.write("nested.json", nested)
    let refusedShape = Measured.run(CLI.recurTrain, ["import-torch", nestedPath, "-o", sandbox.path("n.recur")])
    #expect(refusedShape.exitStatus == 1, "\(refusedShape.stderr)")
    let nestedMiB = Double(nested.utf8.count) / 1_048_576
    #expect(
      builtWithAllocatorSanitizer || refusedShape.peakRSSMiB < 24 + 4 * nestedMiB,
      "\(refusedShape.peakRSSMiB) MiB for \(nestedMiB) MiB")
    print(
      "hostile sizes: import-torch, \(String(format: "%.1f", nestedMiB)) MiB of nested one-element arrays: peak RSS "
        + "\(String(format: "%.1f", refusedShape.peakRSSMiB)) MiB")
  }
}
