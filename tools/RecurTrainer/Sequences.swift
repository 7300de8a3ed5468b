// The seed notebook's data generators (`make_odd_sequences`, `make_fib_sequences`), drawn from the run's GSL mt19937.
//
// Python's `random.randint(a, b)` becomes `a + gsl_rng_uniform_int(r, b - a + 1)` and `random.choice(xs)` becomes
// `xs[gsl_rng_uniform_int(r, n)]`; the draws per sequence happen in the notebook's order (odd: L, start;
// fib: L, a0, a1), so the distribution is the notebook's exactly (the stream of numbers is GSL's, not CPython's).

/// A family of integer sequences: the seed notebook's two, and every order-2 linear recurrence on a small grid.
public enum SequenceFamily: String, CaseIterable, Sendable {
  /// Runs of odd numbers: `start, start + 2, ...`, start ∈ {1, 3, ..., 13}, length 5...12.
  case odd
  /// Fibonacci-like: a0 ∈ 0...2, a1 ∈ 1...3, a[n] = a[n-1] + a[n-2], length 6...14.
  case fib
  /// Every order-2 linear recurrence a[n+1] = p·a[n] + q·a[n-1] with integers p ∈ -2...3, q ∈ -2...2 (arithmetic
  /// runs of any step are p = 2, q = -1; Fibonacci-like 1, 1; Pell-like 2, 1; geometric 2 or 3, 0; period-2 0, 1;
  /// alternating growth -1, 2), integer starts a0, a1 ∈ -100...100 (not both 0), length 7...14, cut before the
  /// first value of magnitude 10^9 or more. `makeSequences(slowRootStarts:)` can put a fraction of the starts on the
  /// slower root's direction, still integers in -100...100.
  case linear2

  /// "odd, fib or linear2", for messages.
  public static var nameList: String {
    let names = allCases.map(\.rawValue)
    return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
  }

  /// The grid of `linear2`.
  public static let linear2P = -2...3
  public static let linear2Q = -2...2
  public static let linear2Starts = -100...100
  public static let linear2Limit = 1e9

  /// Sequence lengths the generator draws from (the notebook's `min_len...max_len`).
  public var lengthRange: ClosedRange<Int> {
    switch self {
    case .odd: 5...12
    case .fib: 6...14
    case .linear2: 7...14
    }
  }

  /// The training recipe for this family: the notebook's for odd and fib; for linear2 the built-in `linear` model's
  /// (with a GRU, window-differences, batch 64, 20,000 sequences and a cosine rate: `TrainingOptions.init(family:)`).
  public var defaults: (hidden: Int, window: Int, epochs: Int, learningRate: Double) {
    switch self {
    case .odd: (16, 5, 8, 1e-2)
    case .fib: (32, 6, 12, 5e-3)
    case .linear2: (64, 4, 3000, 0.003)
    }
  }

  /// The fewest differences a window-differences example may hold: every difference of the window must be known
  /// for `linear2` (two equations fix p and q), one or two for the notebook's families (see `ExampleSet`).
  public func minimumDifferences(window: Int) -> Int {
    self == .linear2 ? window : min(2, window)
  }

  /// Draws `count` sequences exactly as the notebook's generator does. `slowRootStarts` (linear2 only, 0...1) is the
  /// fraction of the classes with two real roots of different size whose starts are put on the slower root's
  /// direction instead (see `slowRootStart`); 0 draws nothing extra, so the stream of numbers is unchanged.
  public func makeSequences(count: Int, rng: GSLRandom, slowRootStarts: Double = 0) -> [[Int]] {
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
      case .linear2:
        // L, p, q, then a0 and a1 (redrawn while both are 0).
        let length = rng.randint(lengthRange.lowerBound, lengthRange.upperBound)
        let p = rng.randint(Self.linear2P.lowerBound, Self.linear2P.upperBound)
        let q = rng.randint(Self.linear2Q.lowerBound, Self.linear2Q.upperBound)
        var a0 = 0
        var a1 = 0
        if slowRootStarts > 0, let slow = Self.slowerRoot(p: p, q: q), rng.flat(0, 1) < slowRootStarts {
          (a0, a1) = Self.slowRootStart(slow, rng: rng)
        }
        while a0 == 0 && a1 == 0 {
          a0 = rng.randint(Self.linear2Starts.lowerBound, Self.linear2Starts.upperBound)
          a1 = rng.randint(Self.linear2Starts.lowerBound, Self.linear2Starts.upperBound)
        }
        var sequence = [a0, a1]
        while sequence.count < length {
          let next = p * sequence[sequence.count - 1] + q * sequence[sequence.count - 2]
          if Double(abs(next)) >= Self.linear2Limit { break }
          sequence.append(next)
        }
        sequences.append(sequence)
      }
    }
    return sequences
  }

  /// The root of x² = p·x + q of smaller magnitude, when the two roots are real and differ in magnitude (a
  /// sequence started on its direction stays there but for the rounding of its integer starts, which grows along
  /// the faster root); nil for complex, repeated or opposite roots (p = 0).
  public static func slowerRoot(p: Int, q: Int) -> Double? {
    let discriminant = p * p + 4 * q
    guard discriminant > 0, p != 0 else { return nil }
    let root = Double(discriminant).squareRoot()
    let (r1, r2) = ((Double(p) - root) / 2, (Double(p) + root) / 2)
    return abs(r1) < abs(r2) ? r1 : r2
  }

  /// A start on the slower root's direction: a0 ∈ -100...100, a1 = round(slow·a0) + e with e ∈ -1...1, both in
  /// the start range and not both 0. Windows of such a sequence hold only a small component along the faster root
  /// (the uniform starts rarely give one), the shape that decides whether a generated error grows.
  static func slowRootStart(_ slow: Double, rng: GSLRandom) -> (Int, Int) {
    while true {
      let a0 = rng.randint(linear2Starts.lowerBound, linear2Starts.upperBound)
      let a1 = Int((slow * Double(a0)).rounded()) + rng.randint(-1, 1)
      if linear2Starts.contains(a1) && (a0 != 0 || a1 != 0) { return (a0, a1) }
    }
  }

  /// The (p, q) of the `linear2` grid that `values` follow exactly (the first in grid order when several do: they
  /// then continue it alike), or nil. Needs at least three values to test anything.
  public static func linear2Rule(of values: [Double]) -> (p: Int, q: Int)? {
    for p in linear2P {
      for q in linear2Q {
        let fits = (2..<values.count).allSatisfy {
          values[$0] == Double(p) * values[$0 - 1] + Double(q) * values[$0 - 2]
        }
        if fits { return (p, q) }
      }
    }
    return nil
  }

  /// The family rule: the `count` values that follow `values` (odd: +2; fib: sum of the previous two; linear2: the
  /// grid's recurrence that `values` follow, NaN when none does). Requires at least one value for `odd` and two for
  /// `fib` and `linear2`.
  public func continuation(of values: [Double], count: Int) -> [Double] {
    var all = values
    let rule = self == .linear2 ? Self.linear2Rule(of: values) : nil
    for _ in 0..<count {
      switch self {
      case .odd: all.append(all[all.count - 1] + 2)
      case .fib: all.append(all[all.count - 1] + all[all.count - 2])
      case .linear2:
        guard let (p, q) = rule else { return [Double](repeating: .nan, count: count) }
        all.append(Double(p) * all[all.count - 1] + Double(q) * all[all.count - 2])
      }
    }
    return Array(all.suffix(count))
  }
}
