// GNU GSL, wrapped: the trainer's only random number generator and its validation statistics.
//
// GSL's default error handler aborts the process. `GSL.start()` switches it off once, after which every GSL entry
// point reports failure through its return value; each wrapper below checks that value (or rules out the failure by
// validating its arguments first, for the functions whose only failure mode is a bad argument).

import CGSL

// MARK: - Error handler

public enum GSL {
  /// Runs `gsl_set_error_handler_off()` exactly once per process (a `static let` initialiser is thread-safe and lazy).
  private static let handlerDisabled: Bool = {
    _ = gsl_set_error_handler_off()
    return true
  }()

  /// Switches off GSL's abort-on-error handler. Idempotent; called by every wrapper that touches GSL.
  public static func start() { _ = handlerDisabled }
}

// MARK: - Random numbers

/// One GSL `mt19937` generator. The trainer makes exactly one per run and draws from it, in this order: the training
/// sequences, the validation sequences, the initial weights, then each epoch's shuffle.
public final class GSLRandom {
  private let rng: UnsafeMutablePointer<gsl_rng>

  /// The largest `n` accepted by `uniformInt(_:)`: mt19937's range (max - min) is 2^32 - 1.
  public static let maxUniformBound = 0xFFFF_FFFF

  /// Allocates an mt19937 generator and seeds it with `gsl_rng_set(r, seed)`.
  /// GSL seeds mt19937 with the low 32 bits of `seed` (and treats 0 as its default seed 4357).
  public init(seed: UInt64) throws(TrainerError) {
    GSL.start()
    guard let type = recur_gsl_rng_mt19937(), let rng = gsl_rng_alloc(type) else {
      throw TrainerError.gsl("gsl_rng_alloc(gsl_rng_mt19937) returned NULL (out of memory)")
    }
    self.rng = rng
    gsl_rng_set(rng, UInt(seed))
  }

  deinit { gsl_rng_free(rng) }

  /// A uniform integer in `0..<n` (`gsl_rng_uniform_int`). `n` must be in `1...maxUniformBound`; GSL would return 0
  /// and raise GSL_EINVAL otherwise, so the bound is a precondition here rather than a silent 0.
  public func uniformInt(_ n: Int) -> Int {
    precondition(n >= 1 && n <= Self.maxUniformBound, "gsl_rng_uniform_int bound \(n) out of range")
    return Int(gsl_rng_uniform_int(rng, UInt(n)))
  }

  /// Python's `random.randint(a, b)` (both ends inclusive), drawn as `a + gsl_rng_uniform_int(r, b - a + 1)`.
  public func randint(_ a: Int, _ b: Int) -> Int {
    precondition(a <= b, "randint(\(a), \(b)): empty range")
    return a + uniformInt(b - a + 1)
  }

  /// Python's `random.choice(list)`, drawn as `list[gsl_rng_uniform_int(r, n)]`.
  public func choice<T>(_ list: [T]) -> T {
    list[uniformInt(list.count)]
  }

  /// `gsl_ran_flat(r, a, b)`: uniform on [a, b).
  public func flat(_ a: Double, _ b: Double) -> Double {
    gsl_ran_flat(rng, a, b)
  }

  /// Shuffles `values` in place with `gsl_ran_shuffle` (Fisher-Yates driven by this generator).
  public func shuffle(_ values: inout [Int]) {
    guard values.count > 1 else { return }
    values.withUnsafeMutableBytes { raw in
      gsl_ran_shuffle(
        rng, raw.baseAddress, raw.count / MemoryLayout<Int>.stride, MemoryLayout<Int>.stride)
    }
  }
}

// MARK: - Statistics

/// Mean, standard deviation, median and 95th percentile of a sample, computed by GSL.
public struct SampleSummary: Sendable, Equatable {
  public var count: Int
  public var mean: Double
  /// Sample standard deviation (n - 1 in the denominator, as `gsl_stats_sd`); NaN for fewer than two values.
  public var sd: Double
  public var median: Double
  public var p95: Double

  /// All NaN: "not measured".
  public static let empty = SampleSummary(count: 0, mean: .nan, sd: .nan, median: .nan, p95: .nan)
}

public enum GSLStatistics {
  /// `gsl_stats_mean`; NaN for an empty sample (GSL would divide by zero).
  public static func mean(_ values: [Double]) -> Double {
    GSL.start()
    guard !values.isEmpty else { return .nan }
    return values.withUnsafeBufferPointer { gsl_stats_mean($0.baseAddress, 1, $0.count) }
  }

  /// `gsl_stats_mean`, `gsl_stats_sd`, then `gsl_sort` and `gsl_stats_median_from_sorted_data` /
  /// `gsl_stats_quantile_from_sorted_data(…, 0.95)`. GSL's quantile interpolates linearly between order statistics.
  public static func summary(_ values: [Double]) -> SampleSummary {
    GSL.start()
    guard !values.isEmpty else { return .empty }
    var sorted = values
    return sorted.withUnsafeMutableBufferPointer { buffer in
      let data = buffer.baseAddress!
      let n = buffer.count
      let mean = gsl_stats_mean(data, 1, n)
      let sd = n >= 2 ? gsl_stats_sd(data, 1, n) : .nan
      gsl_sort(data, 1, n)
      let median = gsl_stats_median_from_sorted_data(data, 1, n)
      let p95 = gsl_stats_quantile_from_sorted_data(data, 1, n, 0.95)
      return SampleSummary(count: n, mean: mean, sd: sd, median: median, p95: p95)
    }
  }
}

// MARK: - Linear algebra

public enum GSLLinearAlgebra {
  /// The smallest-norm x minimising ‖Φx − y‖², given the normal equations' `gram` = ΦᵀΦ ([n][n], row-major,
  /// symmetric) and `rhs` = Φᵀy [n]: x = Σ_k (v_kᵀ rhs / λ_k) v_k over the eigenpairs of `gram` (`gsl_eigen_symmv`)
  /// whose eigenvalue exceeds `relativeTolerance` × the largest. Directions below it (no data, or data too weak to
  /// fix them) get no component. Returns x and the number of eigenpairs kept (the rank used).
  public static func minimumNormSolve(
    gram: [Double], rhs: [Double], relativeTolerance: Double
  ) throws(TrainerError) -> (solution: [Double], rank: Int) {
    GSL.start()
    let n = rhs.count
    precondition(n >= 1 && gram.count == n * n && relativeTolerance >= 0)
    let outOfMemory = TrainerError.gsl("out of memory for a \(n) x \(n) eigen-decomposition")
    guard let a = gsl_matrix_alloc(n, n) else { throw outOfMemory }
    defer { gsl_matrix_free(a) }
    guard let vectors = gsl_matrix_alloc(n, n) else { throw outOfMemory }
    defer { gsl_matrix_free(vectors) }
    guard let values = gsl_vector_alloc(n) else { throw outOfMemory }
    defer { gsl_vector_free(values) }
    guard let workspace = gsl_eigen_symmv_alloc(n) else { throw outOfMemory }
    defer { gsl_eigen_symmv_free(workspace) }
    for i in 0..<n { for j in 0..<n { gsl_matrix_set(a, i, j, gram[i * n + j]) } }
    let status = gsl_eigen_symmv(a, values, vectors, workspace)  // destroys `a`
    guard status == GSL_SUCCESS else {
      throw .gsl("gsl_eigen_symmv failed: \(String(cString: gsl_strerror(status)))")
    }
    var largest = 0.0
    for k in 0..<n { largest = max(largest, gsl_vector_get(values, k)) }
    var solution = [Double](repeating: 0, count: n)
    var rank = 0
    for k in 0..<n {
      let lambda = gsl_vector_get(values, k)
      guard largest > 0, lambda > relativeTolerance * largest else { continue }
      rank += 1
      var projection = 0.0
      for i in 0..<n { projection += gsl_matrix_get(vectors, i, k) * rhs[i] }
      let coefficient = projection / lambda
      for i in 0..<n { solution[i] += coefficient * gsl_matrix_get(vectors, i, k) }
    }
    return (solution, rank)
  }
}
