// The kernel plan (Sources/RecurRuntime/Kernels/KernelPlan.swift): the vector width decides speed only, never the
// answers. Every plan width (4, 8, 16 lanes, and the AVX-512 plan's 8 lanes at H ≤ 8) must give bit-identical
// readouts, stepping and free-running, and the many-stream BatchCell must equal a single-stream cell bit for bit under
// every plan. Sizes cover one partial vector, whole vectors of each width, odd sizes between them, and tiles of one to
// eight vectors (vanilla: 40, 48 and 56 are tiles of five, six and seven on AVX2, 32 one of eight on NEON), with one
// and several inputs, stacked layers and several outputs.

import RecurRuntime
import RecurTestSupport
import Testing

@Suite struct PlanTests {
  typealias Case = StackTests.Case
  static let cpus: [CPUDescription] = [.portable, .avx2, .avx512, .neon]

  static let cases: [Case] = CellKind.allCases.flatMap { kind in
    [1, 5, 8, 12, 16, 20, 24, 32, 33, 40, 48, 56, 64].map { hidden in
      Case(architecture: Architecture(kind: kind, inputSize: 1, hiddenSize: hidden, outputSize: 1))
    }
      + [(2, 3, 2, 12), (2, 1, 1, 20), (1, 5, 3, 40)].map { l, i, o, h in
        Case(architecture: Architecture(kind: kind, layers: l, inputSize: i, hiddenSize: h, outputSize: o))
      }
  }

  @Test(arguments: cases)
  func everyWidthGivesTheSameBits(_ c: Case) {
    let a = c.architecture
    let file = randomModel(a, seed: UInt64(a.hiddenSize * 31 + a.layers), gain: 1.5)
    let models = Self.cpus.map { RecurrentModel(file, cpu: $0) }
    #expect(Set(models.map(\.plan.chains)).count == 1)  // the order of the sums is the model's, not the CPU's
    var rng = TestRandom(5)
    let steps = 50
    let inputs = (0..<(steps * a.inputSize)).map { _ in rng.uniform(-1.5, 1.5) }
    func run(_ model: RecurrentModel) -> [Float] {
      let cell = RecurrentCell(model: model)
      var y = [Float](repeating: 0, count: a.outputSize)
      var out: [Float] = []
      for t in 0..<steps {
        inputs.withUnsafeBufferPointer { x in
          y.withUnsafeMutableBufferPointer { cell.step(x.baseAddress! + t * a.inputSize, into: $0.baseAddress!) }
        }
        out += y
      }
      if a.inputSize == 1 && a.outputSize == 1 {  // free-running: the folded feedback path where the plan folds
        var generated = [Float](repeating: 0, count: 40)
        generated.withUnsafeMutableBufferPointer { cell.freeRun(firstInput: 0.25, into: $0) }
        out += generated
      }
      return out
    }
    let reference = run(models[0])
    let finite = reference.allSatisfy { $0.isFinite }
    #expect(finite)
    for (cpu, model) in zip(Self.cpus, models).dropFirst() {
      let got = run(model)
      let differing = zip(got, reference).filter { $0.bitPattern != $1.bitPattern }.count
      #expect(differing == 0, "\(cpu) (plan: \(model.plan)): \(differing) of \(got.count) values differ")
    }
  }

  @Test(arguments: cases.filter { $0.architecture.hiddenSize <= 24 || $0.architecture.layers == 2 })
  func batchEqualsOneStreamUnderEveryPlan(_ c: Case) {
    let a = c.architecture
    let file = randomModel(a, seed: UInt64(a.hiddenSize * 13 + 1), gain: 1.5)
    for cpu in Self.cpus {
      let model = RecurrentModel(file, cpu: cpu)
      let batch = BatchCell(model: model, streams: 16)
      let cells = (0..<16).map { _ in RecurrentCell(model: model) }
      var rng = TestRandom(9)
      var x = [Float](repeating: 0, count: 16 * a.inputSize)
      var y = [Float](repeating: 0, count: 16 * a.outputSize)
      var one = [Float](repeating: 0, count: a.outputSize)
      var differing = 0
      for _ in 0..<30 {
        for i in x.indices { x[i] = rng.uniform(-1.5, 1.5) }
        x.withUnsafeBufferPointer { xs in y.withUnsafeMutableBufferPointer { batch.step(xs, into: $0) } }
        for s in 0..<16 {
          x.withUnsafeBufferPointer { xs in
            one.withUnsafeMutableBufferPointer {
              cells[s].step(xs.baseAddress! + s * a.inputSize, into: $0.baseAddress!)
            }
          }
          for o in 0..<a.outputSize where one[o].bitPattern != y[s * a.outputSize + o].bitPattern { differing += 1 }
        }
      }
      #expect(differing == 0, "\(cpu): \(differing) readouts differ from one stream's")
    }
  }

  @Test func plansFollowTheCPUAndTheModel() {
    let lstm = Architecture(kind: .lstm, hiddenSize: 8)
    #expect(KernelPlan(for: lstm, cpu: .avx512).width == 8)  // a 16-lane vector would be half padding
    #expect(KernelPlan(for: Architecture(kind: .lstm, hiddenSize: 12), cpu: .avx512).width == 16)
    #expect(KernelPlan(for: lstm, cpu: .avx2).width == 8)
    #expect(KernelPlan(for: lstm, cpu: .neon).width == 4)
    #expect(KernelPlan(for: lstm, cpu: .avx2).foldFeedback)
    #expect(!KernelPlan(for: Architecture(kind: .gru, hiddenSize: 8), cpu: .avx2).foldFeedback)
    #expect(!KernelPlan(for: Architecture(kind: .lstm, layers: 2, hiddenSize: 8), cpu: .avx2).foldFeedback)
    #expect(KernelPlan(for: Architecture(kind: .gru, hiddenSize: 64), cpu: .avx2).descending)
    #expect(!KernelPlan(for: Architecture(kind: .gru, hiddenSize: 40), cpu: .avx2).descending)
    for h in [1, 8, 16, 17, 64, 256] {
      for cpu in Self.cpus {
        let p = KernelPlan(for: Architecture(kind: .rnn, hiddenSize: h), cpu: cpu)
        #expect(p.tileVectors >= 1 && p.tileVectors <= 8 && p.tileVectors * p.chains <= cpu.vectorRegisters - 4)
      }
    }
    // One tile when the matrix fits in one (H = 40 on AVX2: five vectors, ten accumulators, not four and one); tiles
    // of four beyond (H = 64, 128, 256 on AVX2).
    #expect(KernelPlan(for: Architecture(kind: .rnn, hiddenSize: 40), cpu: .avx2).tileVectors == 5)
    #expect(KernelPlan(for: Architecture(kind: .rnn, hiddenSize: 48), cpu: .avx2).tileVectors == 6)
    #expect(KernelPlan(for: Architecture(kind: .rnn, hiddenSize: 64), cpu: .avx2).tileVectors == 4)
    #expect(KernelPlan(for: Architecture(kind: .rnn, hiddenSize: 256), cpu: .avx2).tileVectors == 4)
    #expect(KernelPlan(for: Architecture(kind: .rnn, hiddenSize: 128), cpu: .avx512).tileVectors == 8)
  }

  @Test func cpuInfoFlagsNameTheWidth() {
    func cpu(_ flags: String) -> CPUDescription { CPUDescription(cpuInfoFlags: flags.split(separator: " ")) }
    #expect(cpu("fpu sse2 avx avx2 fma avx512f avx512bw") == .avx512)
    #expect(cpu("fpu sse2 avx avx2 fma") == .avx2)
    #expect(cpu("fpu sse2 avx avx2") == .portable)  // AVX2 without FMA (none ship, but the flag decides)
    #expect(cpu("fpu sse2 sse4_2") == .portable)
    #expect(cpu("") == .portable)
  }
}
