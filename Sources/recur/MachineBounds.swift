// `recur bench --machine`: this machine's lower bounds for one single-stream vanilla step, measured with the
// runtime's own primitives (`PrimitiveProbe`, compiled with the same flags as the kernels), so that a measured step
// can be read as a ratio to what the hardware allows. Three bounds; a step can be no faster than the largest:
//   latency  h' depends on h through at least one multiply-add, a tree of ceil(log2 H) adds over the H products and
//            one tanh (the runtime's, whose accuracy the models need): fma + ceil(log2 H)·add + tanh. Moving the
//            state between lanes is left out (so the bound is strict, not a model of any one kernel).
//   compute  H² multiply-adds (W_hh h; the input and readout terms are left out) at the peak multiply-add rate
//   memory   the step's recurrent weights, H·ceil(H/8)·32 bytes, at the read bandwidth measured on a working set of
//            that size (L1 for small H, L2 beyond)
// Each is a lower bound on its own (it leaves work out, never adds any), so their maximum is one too.

import RecurRuntimeNative

struct MachineBounds {
  struct Bound {
    let hidden: Int
    let latency: Double  // ns
    let compute: Double  // ns
    let memory: Double  // ns
    var bound: Double { max(latency, compute, memory) }
  }

  static let sizes = [16, 32, 64, 128, 256]

  var multiplyAdd: Double = 0  // ns per dependent multiply-add
  var add: Double = 0  // ns per dependent add
  var tanh: Double = 0  // ns per dependent tanh
  var peakLanesPerNs: Double = 0  // lane multiply-adds per ns, independent chains
  var bandwidth: [Double] = []  // bytes per ns, one per size in `sizes` (its weight bytes as the working set)
  var bounds: [Bound] = []
  var checksum: Float = 0  // of every probe's result, printed so that no probe's work is dead

  static func weightBytes(hidden: Int) -> Int { hidden * ((hidden + 7) / 8) * 32 }

  /// Runs every probe `repeats` times (medians).
  static func measure(repeats: Int) -> MachineBounds {
    var sink: Float = 0
    /// Median nanoseconds of one unit of work: `run(units, &sink)` does `units` units.
    func perUnit(_ units: Int, _ run: (Int, inout Float) -> Void) -> Double {
      run(units / 10, &sink)  // warm-up (and the clock up to speed)
      var times: [Double] = []
      for _ in 0..<max(repeats, 3) {
        let start = now()
        run(units, &sink)
        times.append(now() - start)
      }
      return times.sorted()[times.count / 2] * 1e9 / Double(units)
    }
    var m = MachineBounds()
    let chain = 4_000_000
    m.multiplyAdd = perUnit(chain) { PrimitiveProbe.multiplyAddChain($0, seed: 0.5, into: &$1) }
    m.add = perUnit(chain) { PrimitiveProbe.addChain($0, seed: 0.5, into: &$1) }
    m.tanh = perUnit(chain / 4) { PrimitiveProbe.tanhChain($0, seed: 0.5, into: &$1) }
    m.peakLanesPerNs = 12 * 16 / perUnit(chain / 2) { PrimitiveProbe.independentMultiplyAdds($0, seed: 0.5, into: &$1) }
    for h in sizes {
      let bytes = weightBytes(hidden: h)
      let count = bytes / 64  // 16-lane blocks
      // [count] 16-lane blocks, the size of the weights, 64-byte aligned like the model's arena
      let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 64, alignment: 64)
      let buffer = raw.bindMemory(to: SIMD16<Float>.self, capacity: count)
      buffer.initialize(repeating: SIMD16(repeating: 1e-3), count: count)
      let passes = max(1, 64_000_000 / bytes)
      let nsPerPass = perUnit(passes) { PrimitiveProbe.readSweep(buffer, count: count, passes: $0, into: &$1) }
      raw.deallocate()
      m.bandwidth.append(Double(bytes) / nsPerPass)
    }
    for (i, h) in sizes.enumerated() {
      var levels = 0
      while 1 << levels < h { levels += 1 }
      m.bounds.append(
        Bound(
          hidden: h, latency: m.multiplyAdd + Double(levels) * m.add + m.tanh,
          compute: Double(h * h) / m.peakLanesPerNs, memory: Double(weightBytes(hidden: h)) / m.bandwidth[i]))
    }
    m.checksum = sink
    return m
  }

  func print(json: Bool) {
    if json {
      let rows = bounds.map {
        """
        {"hidden": \($0.hidden), "latency_ns": \(fixed($0.latency, 2)), "compute_ns": \(fixed($0.compute, 2)), \
        "memory_ns": \(fixed($0.memory, 2)), "bound_ns": \(fixed($0.bound, 2))}
        """
      }
      say(
        """
        {"multiply_add_ns": \(fixed(multiplyAdd, 3)), "add_ns": \(fixed(add, 3)), "tanh_ns": \(fixed(tanh, 3)), \
        "peak_lanes_per_ns": \(fixed(peakLanesPerNs, 1)), "checksum": \(shortest(checksum)), \
        "cpu": {"vector_lanes": \(CPUDetection.current.vectorLanes), "vector_registers": \(CPUDetection.current.vectorRegisters)}, "vanilla_bounds": [\(rows.joined(separator: ", "))]}
        """)
      return
    }
    say(
      "latency of one dependent 16-lane operation: multiply-add \(fixed(multiplyAdd, 3)) ns, add \(fixed(add, 3)) ns, tanh \(fixed(tanh, 3)) ns"
    )
    say("peak: \(fixed(peakLanesPerNs, 1)) lane multiply-adds per ns (checksum \(shortest(checksum)))")
    say("kernels planned for: \(CPUDetection.current) (RECUR_CPU names another)")
    say("| H | weights (KiB) | read GB/s | latency (ns) | compute (ns) | memory (ns) | bound (ns) |")
    say("|---:|---:|---:|---:|---:|---:|---:|")
    for (i, b) in bounds.enumerated() {
      say(
        "| \(b.hidden) | \(Self.weightBytes(hidden: b.hidden) / 1024) | \(fixed(bandwidth[i], 1)) | "
          + "\(fixed(b.latency, 1)) | \(fixed(b.compute, 1)) | \(fixed(b.memory, 1)) | \(fixed(b.bound, 1)) |")
    }
  }
}
