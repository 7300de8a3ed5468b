// The trainer's outputs (model files, predictions, SVG plots) through the one writer (RecurIO's `OutputFile`: atomic,
// refuses symbolic links, devices, FIFOs and the run's own inputs), with its errors as `TrainerError`s: a refusal
// found before any work is an invalid option (exit 2), a failure while writing an I/O error (exit 1).

import CGSL
import RecurIO

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

extension TrainerError {
  init(_ error: OutputError) { self = error.beforeWork ? .invalidOption(error.message) : .io(error.message) }
}

public enum AtomicFile {
  /// Checks, before any work, that `path` can be written and is none of `inputs` (see `OutputFile`).
  public static func checkDestination(_ path: String, what: String = "output path", inputs: [String] = [])
    throws(TrainerError)
  {
    do { try OutputFile.checkDestination(path, what: what, inputs: inputs) } catch { throw TrainerError(error) }
  }

  /// Refuses two outputs of one run that name the same file.
  public static func checkDistinct(_ outputs: [(what: String, path: String)]) throws(TrainerError) {
    do { try OutputFile.checkDistinct(outputs) } catch { throw TrainerError(error) }
  }

  /// Writes `bytes` to `path` atomically (permissions 0644).
  public static func write(_ bytes: [UInt8], to path: String, what: String = "model") throws(TrainerError) {
    do { try OutputFile.write(bytes, to: path, what: what) } catch { throw TrainerError(error) }
  }
}

/// Flushes stdout (what `print` buffered) and says whether any write to it failed, with the errno of the flush
/// (0 when only an earlier write failed). A closed pipe is EPIPE: callers stay quiet about it.
public func flushStandardOutput() -> (failed: Bool, code: Int32) {
  errno = 0
  let flushFailed = fflush(recur_stdout()) != 0
  let code = errno
  return (flushFailed || ferror(recur_stdout()) != 0, code)
}
