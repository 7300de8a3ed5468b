// Faults during model export (the one writer, Sources/RecurIO/OutputFile.swift): `recur-train` killed with SIGKILL at every
// stage of the write (RECUR_TRAIN_FAULT makes the process kill itself exactly there) and from outside at several
// moments of a run, and a full disk (a 64 KiB tmpfs). Each leaves the previous model byte-identical and no temporary
// file; a `golden record` that fails part-way leaves the old directory as it was. Destinations that cannot be written (a directory, a missing folder, a read-only file system) are refused
// before training starts, by `train` and by `fit`.

// Linux only: the faults are a tmpfs mounted full or read-only (mount(2), umount2), which needs Linux and root.
#if os(Linux)

  import Foundation
  import RecurTestSupport
  import RecurRuntimeNative
  import Testing

  /// Mounting needs root (CAP_SYS_ADMIN): true when a tmpfs can be mounted here.
  let canMountTmpfs: Bool = {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("mount-probe-\(getpid())").path
    mkdir(dir, 0o755)
    defer { rmdir(dir) }
    guard mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0 else { return false }
    umount2(dir, Int32(MNT_DETACH))
    return true
  }()

  @Suite(.serialized) struct ExportFaultTests {
    static let train = ["train", "--family", "odd", "--epochs", "1"]

    static func makeDirectory(_ name: String) throws -> String {
      let dir = CLI.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
      return dir.path
    }

    static func listing(_ dir: String) -> [String] {
      ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).sorted()
    }

    static func contents(_ path: String) -> [UInt8]? { FileManager.default.contents(atPath: path).map { [UInt8]($0) } }

    /// The model an earlier run left: any valid file that the new run would not write.
    static let previous: [UInt8] = sampleModel(hidden: 5, seed: 99).encoded()

    @Test("SIGKILL at every stage of the write: the previous model is intact, no temporary file is left")
    func killedAtEveryStage() throws {
      for stage in ["created", "half-written", "written", "synced", "linked", "renamed"] {
        for hasPrevious in [true, false] {
          let dir = try Self.makeDirectory("kill-\(stage)")
          defer { try? FileManager.default.removeItem(atPath: dir) }
          let path = dir + "/m.recur"
          if hasPrevious { FileManager.default.createFile(atPath: path, contents: Data(Self.previous)) }
          let run = Measured.run(
            CLI.recurTrain, Self.train + ["-o", path], environment: ["RECUR_TRAIN_FAULT": stage], measure: false)
          #expect(run.signal == SIGKILL, "\(stage): \(run.exitStatus.map(String.init) ?? "-") \(run.stderr)")
          let left = Self.listing(dir)
          let file = Self.contents(path)
          switch (stage, hasPrevious) {
          case ("renamed", _), ("linked", false):
            // The new model is in place and complete (for "linked" without a previous file: linked under its name).
            #expect(left == ["m.recur"], "\(stage): \(left)")
            #expect(file != nil && file != Self.previous, "\(stage)")
            #expect(throws: Never.self, "\(stage)") { _ = try ModelFile(bytes: file ?? []) }
          case ("linked", true):
            // Between linkat and rename: the complete new model under its temporary name; the next run removes it.
            #expect(file == Self.previous, "\(stage): the previous model changed")
            let temps = left.filter { $0.hasPrefix(".m.recur.tmp-") }
            #expect(left.count == 2 && temps.count == 1, "\(stage): \(left)")
            if let temp = temps.first {
              #expect(throws: Never.self) { _ = try ModelFile(bytes: Self.contents(dir + "/" + temp) ?? []) }
            }
            let next = Measured.run(CLI.recurTrain, Self.train + ["-o", path])
            #expect(next.exitStatus == 0, "\(next.stderr)")
            #expect(Self.listing(dir) == ["m.recur"], "the next run left \(Self.listing(dir))")
          default:
            #expect(file == (hasPrevious ? Self.previous : nil), "\(stage): the destination changed")
            #expect(left == (hasPrevious ? ["m.recur"] : []), "\(stage), previous \(hasPrevious): \(left)")
          }
        }
      }
    }

    @Test("SIGKILL from outside at several moments of a run: the previous model or the complete new one, nothing else")
    func killedFromOutside() throws {
      let dir = try Self.makeDirectory("kill-outside")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      let path = dir + "/m.recur"
      // 30 epochs: long enough (about 0.2 s in release) that most kills land in the run, export included.
      let train = ["train", "--family", "odd", "--epochs", "30"]
      let finished = Measured.run(CLI.recurTrain, train + ["-o", path])
      #expect(finished.exitStatus == 0, "\(finished.stderr)")
      let new = Self.contents(path)
      var killed = 0
      for delay in [0.0, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32] {
        FileManager.default.createFile(atPath: path, contents: Data(Self.previous))
        let run = Measured.run(CLI.recurTrain, train + ["-o", path], killAfter: delay)
        if run.signal == SIGKILL { killed += 1 }
        let file = Self.contents(path)
        #expect(file == Self.previous || file == new, "killed after \(delay) s: a third file")
        #expect(Self.listing(dir) == ["m.recur"], "killed after \(delay) s: \(Self.listing(dir))")
      }
      #expect(killed >= 3, "only \(killed) of 8 runs were killed before they finished")
    }

    @Test(
      "a full disk: a clear error, exit 1, the previous model intact, no temporary file", .enabled(if: canMountTmpfs))
    func fullDisk() throws {
      let dir = try Self.makeDirectory("full")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      try #require(mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0)
      defer { umount2(dir, Int32(MNT_DETACH)) }
      let path = dir + "/m.recur"
      FileManager.default.createFile(atPath: path, contents: Data(Self.previous))
      // Fill what is left.
      let filler = open(dir + "/filler", O_WRONLY | O_CREAT, 0o644)
      let block = [UInt8](repeating: 7, count: 4096)
      while block.withUnsafeBytes({ write(filler, $0.baseAddress!, $0.count) }) > 0 {}
      #expect(errno == ENOSPC)
      close(filler)
      let data = dir + "/../full-data.txt"
      try (0..<200).map { "\(sin(Double($0) * 0.3))" }.joined(separator: "\n").write(
        toFile: data, atomically: true, encoding: .utf8)
      defer { unlink(data) }
      for command in [Self.train, ["fit", data, "--hidden", "4", "--window", "4", "--epochs", "2"]] {
        let run = Measured.run(CLI.recurTrain, command + ["-o", path])
        #expect(run.exitStatus == 1, "\(command[0]): \(run.stderr)")
        #expect(
          run.stderr.contains("error: cannot write model '\(path)': ")
            && run.stderr.contains("No space left on device"), "\(command[0]): \(run.stderr)")
        #expect(run.stderr.split(separator: "\n").filter { $0.hasPrefix("error:") }.count == 1, "\(run.stderr)")
        #expect(Self.contents(path) == Self.previous, "\(command[0]): the previous model changed")
        #expect(Self.listing(dir) == ["filler", "m.recur"], "\(command[0]): \(Self.listing(dir))")
      }
    }

    @Test(
      "golden record on a full disk: exit 1, the old golden directory byte for byte, no temporary directory",
      .enabled(if: canMountTmpfs))
    func goldenRecordFullDisk() throws {
      let dir = try Self.makeDirectory("golden-full")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      try #require(mount("tmpfs", dir, "tmpfs", 0, "size=64k") == 0)
      defer { umount2(dir, Int32(MNT_DETACH)) }
      let golden = dir + "/g"
      let first = Measured.run(CLI.recur, ["golden", "record", "--model", "odd", "-o", golden])
      try #require(first.exitStatus == 0, "\(first.stderr)")
      let before = Self.listing(golden).map { ($0, Self.contents(golden + "/" + $0)) }
      // A stream input of 40,000 values: its copy and its outputs need far more than the 64 KiB the tmpfs has.
      let input = dir + "/../golden-full-input.txt"
      try (0..<40_000).map { "\($0 % 97)" }.joined(separator: "\n").write(
        toFile: input, atomically: true, encoding: .utf8)
      defer { unlink(input) }
      let run = Measured.run(CLI.recur, ["golden", "record", "--model", "odd", "--inputs", input, "-o", golden])
      #expect(run.exitStatus == 1, "\(run.stderr)")
      #expect(
        run.stderr.hasPrefix("error: cannot write golden directory '\(golden)': ")
          && run.stderr.contains("No space left on device"), "\(run.stderr)")
      let after = Self.listing(golden).map { ($0, Self.contents(golden + "/" + $0)) }
      #expect(after.map(\.0) == before.map(\.0), "\(after.map(\.0))")
      #expect(zip(after, before).allSatisfy { $0.1 == $1.1 }, "a file of the old directory changed")
      #expect(Self.listing(dir) == ["g"], "left behind: \(Self.listing(dir))")
      let check = Measured.run(CLI.recur, ["golden", "check", golden])
      #expect(check.exitStatus == 0, "\(check.stderr)")
    }

    @Test("bad destinations are refused before training starts (train and fit)")
    func badDestinations() throws {
      let dir = try Self.makeDirectory("dest")
      defer { try? FileManager.default.removeItem(atPath: dir) }
      var cases: [(path: String, message: String)] = [
        (dir, "error: output path '\(dir)' is a directory"),
        (dir + "/missing/m.recur", "error: output directory '\(dir)/missing' does not exist"),
        (dir + "/", "error: output path '\(dir)/' is not a file name"),
      ]
      let readOnly = dir + "/ro"
      mkdir(readOnly, 0o755)
      var mounted = false
      if getuid() != 0 {
        chmod(readOnly, 0o555)
      } else if canMountTmpfs {
        mounted = mount("tmpfs", readOnly, "tmpfs", UInt(MS_RDONLY), "size=16k") == 0
      }
      defer {
        if mounted { umount2(readOnly, Int32(MNT_DETACH)) }
        chmod(readOnly, 0o755)
      }
      if getuid() != 0 || mounted {
        cases.append((readOnly + "/m.recur", "error: cannot write to output directory '\(readOnly)': "))
      }
      // fit is given a data file that does not exist: the destination must be refused before the data is read.
      for command in [Self.train, ["fit", dir + "/no-such-data.csv"]] {
        for (path, message) in cases {
          let run = Measured.run(CLI.recurTrain, command + ["-o", path])
          #expect(run.exitStatus == 2, "\(command[0]) -o \(path): \(run.stderr)")
          #expect(run.stderr.hasPrefix(message), "\(command[0]) -o \(path): \(run.stderr)")
          #expect(
            run.stdout.isEmpty, "\(command[0]) -o \(path) started: \(String(decoding: run.stdout, as: UTF8.self))")
        }
      }
      #expect(cases.count == 4 || !canMountTmpfs)
    }
  }
#endif
