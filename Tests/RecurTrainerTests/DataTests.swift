// Generators, the notebook's to_batches, and the window-differences examples.

import RecurRuntime
import RecurTestSupport
import Testing

@testable import RecurTrainer

@Suite("Data")
struct DataTests {
  @Test("odd sequences: lengths 5...12, odd starts 1...13, step +2, every length and start drawn")
  func oddGenerator() throws {
    let sequences = SequenceFamily.odd.makeSequences(count: 2000, rng: try GSLRandom(seed: 1))
    #expect(sequences.count == 2000)
    for s in sequences {
      #expect((5...12).contains(s.count))
      #expect([1, 3, 5, 7, 9, 11, 13].contains(s[0]))
      for i in 1..<s.count { #expect(s[i] == s[i - 1] + 2) }
    }
    #expect(Set(sequences.map(\.count)) == Set(5...12))
    #expect(Set(sequences.map { $0[0] }) == [1, 3, 5, 7, 9, 11, 13])
  }

  @Test("fib sequences: lengths 6...14, a0 in 0...2, a1 in 1...3, a[n] = a[n-1] + a[n-2]")
  func fibGenerator() throws {
    let sequences = SequenceFamily.fib.makeSequences(count: 2000, rng: try GSLRandom(seed: 1))
    for s in sequences {
      #expect((6...14).contains(s.count))
      #expect((0...2).contains(s[0]))
      #expect((1...3).contains(s[1]))
      for i in 2..<s.count { #expect(s[i] == s[i - 1] + s[i - 2]) }
    }
    #expect(Set(sequences.map(\.count)) == Set(6...14))
    #expect(Set(sequences.map { $0[0] }) == [0, 1, 2])
    #expect(Set(sequences.map { $0[1] }) == [1, 2, 3])
  }

  @Test("linear2 sequences: every (p, q) of the grid follows its rule, starts in -100...100, |values| < 10^9")
  func linear2Generator() throws {
    let sequences = SequenceFamily.linear2.makeSequences(count: 3000, rng: try GSLRandom(seed: 1))
    var rules = Set<[Int]>()
    for s in sequences {
      #expect(s.count >= 2 && s.count <= 14)
      #expect((-100...100).contains(s[0]) && (-100...100).contains(s[1]) && (s[0] != 0 || s[1] != 0))
      #expect(s.allSatisfy { abs($0) < 1_000_000_000 })
      // The rule the sequence follows, checked against the grid by brute force in Int arithmetic.
      var fitting: [[Int]] = []
      for p in -2...3 {
        for q in -2...2 {
          var fits = true
          for i in 2..<s.count where s[i] != p * s[i - 1] + q * s[i - 2] { fits = false }
          if fits { fitting.append([p, q]) }
        }
      }
      #expect(!fitting.isEmpty, "\(s) follows no rule of the grid")
      if s.count >= 7, let rule = SequenceFamily.linear2Rule(of: s.map(Double.init)) {
        #expect(fitting.contains([rule.p, rule.q]))
        rules.insert([rule.p, rule.q])
      }
      // Short sequences are the ones cut before 10^9.
      if s.count < 7 {
        let r = fitting[0]
        #expect(abs(r[0] * s[s.count - 1] + r[1] * s[s.count - 2]) >= 1_000_000_000)
      }
    }
    #expect(rules.count >= 25, "only \(rules.count) rules identified")
    // The continuation follows the rule: Pell-like 2, 1 from 1, 2.
    #expect(SequenceFamily.linear2.continuation(of: [1, 2, 5, 12, 29], count: 3) == [70, 169, 408])
    let unknown = SequenceFamily.linear2.continuation(of: [1, 2, 4, 9], count: 2)
    #expect(unknown.count == 2 && unknown[0].isNaN && unknown[1].isNaN)
  }

  @Test("linear2 slow-root starts: the slower root by closed form; starts on its direction, in range, at the fraction")
  func linear2SlowRootStarts() throws {
    // Closed forms of the root of x² = p·x + q of smaller magnitude.
    let expected: [(p: Int, q: Int, root: Double?)] = [
      (1, 1, (1 - 5.0.squareRoot()) / 2), (2, 1, 1 - 2.0.squareRoot()), (-2, 2, -1 + 3.0.squareRoot()),
      (3, -1, (3 - 5.0.squareRoot()) / 2), (3, -2, 1), (1, 2, -1), (2, 0, 0),
      (0, 1, nil), (1, -1, nil), (2, -1, nil), (0, 0, nil), (-2, -1, nil),
    ]
    for (p, q, root) in expected {
      let found = SequenceFamily.slowerRoot(p: p, q: q)
      if let root {
        #expect(found.map { abs($0 - root) < 1e-12 } == true, "(\(p), \(q)): \(String(describing: found))")
      } else {
        #expect(found == nil, "(\(p), \(q)): \(String(describing: found))")
      }
    }
    // Fraction 0 draws nothing extra: the plain generator's stream, replayed here by hand (L, p, q, then a0 and a1
    // redrawn while both are 0), so that one extra draw anywhere would shift every later sequence.
    let plain = SequenceFamily.linear2.makeSequences(count: 500, rng: try GSLRandom(seed: 3), slowRootStarts: 0)
    let replay = try GSLRandom(seed: 3)
    for s in plain {
      let length = 7 + replay.uniformInt(8)
      let (p, q) = (-2 + replay.uniformInt(6), -2 + replay.uniformInt(5))
      var (a0, a1) = (0, 0)
      while a0 == 0 && a1 == 0 { (a0, a1) = (-100 + replay.uniformInt(201), -100 + replay.uniformInt(201)) }
      #expect(s[0] == a0 && s[1] == a1 && s.count <= length)
      #expect(s.count < 3 || s[2] == p * a1 + q * a0)
    }
    for fraction in [1.0, 0.3] {
      let sequences = SequenceFamily.linear2.makeSequences(
        count: 4000, rng: try GSLRandom(seed: 4), slowRootStarts: fraction)
      var eligible = 0
      var onRoot = 0
      for s in sequences {
        #expect((-100...100).contains(s[0]) && (-100...100).contains(s[1]) && (s[0] != 0 || s[1] != 0))
        guard s.count >= 4, let rule = SequenceFamily.linear2Rule(of: s.map(Double.init)),
          let slow = SequenceFamily.slowerRoot(p: rule.p, q: rule.q)
        else { continue }
        eligible += 1
        if abs(Double(s[1]) - slow * Double(s[0])) <= 1.5 { onRoot += 1 }
      }
      #expect(eligible > 1000)
      let share = Double(onRoot) / Double(eligible)
      if fraction == 1 {
        #expect(onRoot == eligible, "\(eligible - onRoot) eligible sequences off the slower root")
      } else {
        // 0.3 drawn, plus the uniform starts that land within 1.5 of the root by chance (about 1% of these).
        #expect(share > 0.27 && share < 0.36, "share \(share)")
      }
    }
  }

  @Test("the same seed draws the same sequences; draws are in the notebook's order")
  func drawOrder() throws {
    let a = SequenceFamily.fib.makeSequences(count: 50, rng: try GSLRandom(seed: 9))
    let b = SequenceFamily.fib.makeSequences(count: 50, rng: try GSLRandom(seed: 9))
    #expect(a == b)
    // Replay the first sequence by hand: L, then a0, then a1.
    let rng = try GSLRandom(seed: 9)
    let length = 6 + rng.uniformInt(9)
    let a0 = rng.uniformInt(3)
    let a1 = 1 + rng.uniformInt(3)
    #expect(a[0].count == length && a[0][0] == a0 && a[0][1] == a1)
  }

  @Test("family rules continue a sequence")
  func continuation() {
    #expect(SequenceFamily.odd.continuation(of: [1, 3, 5], count: 3) == [7, 9, 11])
    #expect(SequenceFamily.fib.continuation(of: [1, 1, 2, 3, 5, 8], count: 4) == [13, 21, 34, 55])
  }

  @Test("to_batches: window count and per-sequence max normalisation on a hand example")
  func sequenceMaxScale() {
    // [1..11 odd] has 6 values: 6 − 5 = 1 window; [0,1,1,2,3,5,8] with window 5: 2 windows;
    // a length-5 sequence gives none; an all-zero sequence is divided by 1.
    let set = ExampleSet.sequenceMaxScale(
      [[1, 3, 5, 7, 9, 11], [0, 1, 1, 2, 3, 5, 8], [1, 3, 5, 7, 9], [0, 0, 0, 0, 0, 0]], window: 5)
    #expect(set.count == 1 + 2 + 0 + 1)
    #expect(set.steps == 5 && !set.lossOnFinalStepOnly)
    let expectedInputs: [Float] = [
      0.090909091, 0.27272727, 0.45454545, 0.63636364, 0.81818182,  // [1,3,5,7,9] / 11
      0, 0.125, 0.125, 0.25, 0.375,  // [0,1,1,2,3] / 8
      0.125, 0.125, 0.25, 0.375, 0.625,  // [1,1,2,3,5] / 8
      0, 0, 0, 0, 0,
    ]
    let expectedTargets: [Float] = [
      0.27272727, 0.45454545, 0.63636364, 0.81818182, 1,
      0.125, 0.125, 0.25, 0.375, 0.625,
      0.125, 0.25, 0.375, 0.625, 1,
      0, 0, 0, 0, 0,
    ]
    for (a, b) in zip(set.inputs, expectedInputs) { #expect(abs(a - b) < 1e-7) }
    for (a, b) in zip(set.targets, expectedTargets) { #expect(abs(a - b) < 1e-7) }
    #expect(set.scales == [11, 8, 8, 1])
    #expect(set.truths == [11, 5, 8, 0])
    #expect(set.offsets == [0, 0, 0, 0])
  }

  @Test("window-differences: one example per t in min(2, k)...L-2, left-zero-padded normalised differences")
  func windowDifferences() {
    let set = ExampleSet.windowDifferences([[1, 1, 2, 3, 5]], window: 3)
    #expect(set.count == 2)
    #expect(set.lossOnFinalStepOnly)
    // t = 1 (one difference) is skipped: it does not determine the next difference.
    // t = 2: differences [0, 1] → [0, 0, 1], scale 1, target (3 − 2) / 1 = 1
    // t = 3: differences [0, 1, 1] → scale 1, target (5 − 3) / 1 = 2
    #expect(set.inputs == [0, 0, 1, 0, 1, 1])
    #expect(set.targets == [0, 0, 1, 0, 0, 2])
    #expect(set.offsets == [2, 3] && set.truths == [3, 5] && set.scales == [1, 1])

    let odd = ExampleSet.windowDifferences([[5, 7, 9, 11]], window: 2)
    // t = 2: [2, 2] / 2 = [1, 1], target 2 / 2 = 1
    #expect(odd.inputs == [1, 1] && odd.targets == [0, 1] && odd.scales == [2])

    let single = ExampleSet.windowDifferences([[5, 7, 9, 11]], window: 1)
    // window 1: examples from t = 1: [2] / 2 = [1] → 1, twice
    #expect(single.inputs == [1, 1] && single.targets == [1, 1] && single.scales == [2, 2])
  }

}
