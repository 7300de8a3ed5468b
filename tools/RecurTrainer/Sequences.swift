// The seed notebook's data generators (`make_odd_sequences`, `make_fib_sequences`), drawn from the run's GSL mt19937.
//
// Python's `random.randint(a, b)` becomes `a + gsl_rng_uniform_int(r, b - a + 1)` and `random.choice(xs)` becomes
// `xs[gsl_rng_uniform_int(r, n)]`; the draws per sequence happen in the notebook's order (odd: L, start;
// fib: L, a0, a1), so the distribution is the notebook's exactly (the stream of numbers is GSL's, not CPython's).

/// A family of integer sequences from the seed notebook.
public enum SequenceFamily: String, CaseIterable, Sendable {
  /// Runs of odd numbers: `start, start + 2, ...`, start ∈ {1, 3, ..., 13}, length 5...12.
  case odd
  /// Fibonacci-like: a0 ∈ 0...2, a1 ∈ 1...3, a[n] = a[n-1] + a[n-2], length 6...14.
  case fib

  /// Sequence lengths the generator draws from (the notebook's `min_len...max_len`).
  public var lengthRange: ClosedRange<Int> {
    switch self {
    case .odd: 5...12
    case .fib: 6...14
    }
  }

  /// The notebook's training recipe for this family.
  public var defaults: (hidden: Int, window: Int, epochs: Int, learningRate: Double) {
    switch self {
    case .odd: (16, 5, 8, 1e-2)
    case .fib: (32, 6, 12, 5e-3)
    }
  }

  /// Draws `count` sequences exactly as the notebook's generator does.
  public func makeSequences(count: Int, rng: GSLRandom) -> [[Int]] {
    var sequences: [[Int]] = []
    sequences.reserveCapacity(count)
    for _ in 0..<count {
      switch self {
      case .odd:
        // L = random.randint(min_len, max_len); start = random.choice([1,3,5,7,9,11,13])
        let length = rng.randint(lengthRange.lowerBound, lengthRange.upperBound)
        let start = rng.choice([1, 3, 5, 7, 9, 11, 13])
        sequences.append((0..<length).map { start + 2 * $0 })
      case .fib:
        // L = random.randint(min_len, max_len); a0 = random.randint(0,2); a1 = random.randint(1,3)
        let length = rng.randint(lengthRange.lowerBound, lengthRange.upperBound)
        let a0 = rng.randint(0, 2)
        let a1 = rng.randint(1, 3)
        var sequence = [a0, a1]
        for _ in 0..<(length - 2) {
          sequence.append(sequence[sequence.count - 1] + sequence[sequence.count - 2])
        }
        sequences.append(sequence)
      }
    }
    return sequences
  }

  /// The family rule: the `count` values that follow `values` (odd: +2; fib: sum of the previous two).
  /// Requires at least one value for `odd` and two for `fib`.
  public func continuation(of values: [Double], count: Int) -> [Double] {
    var all = values
    for _ in 0..<count {
      switch self {
      case .odd: all.append(all[all.count - 1] + 2)
      case .fib: all.append(all[all.count - 1] + all[all.count - 2])
      }
    }
    return Array(all.suffix(count))
  }
}
