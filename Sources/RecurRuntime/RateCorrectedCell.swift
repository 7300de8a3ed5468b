// Sample-rate correction for recurrent layers: a model trained at rate R run on audio at rate r·R (r ≥ 1), as
// RTNeural's `SampleRateCorrectionMode` does it. Each recurrent layer reads, at step t, not its state after step t − 1
// but the one from r steps back, so the state still evolves once per 1/R seconds of sound:
//
//   integer r:     (h, c) read at step t = s(t − r)
//   fractional r:  with n = ⌊r⌋ and f = r − n,
//                  (h, c) read at step t = (1 − f) · s(t − n) + f · s(t − n − 1)
//
// where s(k) is every layer's (h, c) after step k, and s(k) for k < 0 is the initial state (zero, or the model's
// learned one). r = 1 is the plain recurrence. The dense layers, the readout and the input skip are stateless and
// run unchanged. (RTNeural's LSTMLayerT/GRULayerT keep the same delay line per layer: `prepare(delaySamples)`.)
//
// Allocation happens only in `init`; `step` and `reset` never allocate.

public final class RateCorrectedCell {
  public let cell: RecurrentCell
  /// The rate ratio r (file rate over model rate), ≥ 1.
  public let ratio: Double
  private let whole: Int  // n = ⌊r⌋
  private let fraction: Float  // f = r − n (0 for an integer ratio)
  private let slots: Int  // n + 1 past states: s(t − 1) ... s(t − n − 1)
  private let count: Int  // floats per state: cell.stateCount
  private let storage = FloatStorage()
  private let ring: UnsafeMutablePointer<Float>  // [slots][count]: s(k) at slot k mod slots
  private let blend: UnsafeMutablePointer<Float>  // [count] the interpolated state
  private var t = 0  // the next step's index

  /// `ratio` ≥ 1 and finite; `interpolate` false rounds it to the nearest integer (RTNeural's `NoInterp`, meant
  /// for integer ratios), true keeps its fraction (`LinInterp`).
  public init(model: RecurrentModel, ratio: Double, interpolate: Bool) {
    precondition(ratio.isFinite && ratio >= 1, "rate ratio must be a finite value ≥ 1")
    cell = RecurrentCell(model: model)
    self.ratio = ratio
    let r = interpolate ? ratio : ratio.rounded()
    whole = Int(r.rounded(.down))
    fraction = Float(r - Double(whole))
    slots = whole + 1
    count = cell.stateCount
    ring = storage.take(slots * count)
    blend = storage.take(count)
    reset()
  }

  /// Every layer and every remembered state back to the initial state.
  public func reset() {
    cell.reset()
    for k in 0..<slots { cell.saveState(into: ring + k * count) }
    t = 0
  }

  /// One step: `x` holds `inputSize` values, `y` receives `readoutSize`.
  public func step(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>) {
    // Slot of s(k) for k ≥ −slots: (k mod slots), made non-negative.
    @inline(__always) func slot(_ k: Int) -> UnsafeMutablePointer<Float> {
      ring + (((k % slots) + slots) % slots) * count
    }
    let newer = slot(t - whole)
    if fraction == 0 {
      cell.restoreState(from: newer)
    } else {
      let older = slot(t - whole - 1)
      let (a, b) = (1 - fraction, fraction)
      for i in 0..<count { blend[i] = a * newer[i] + b * older[i] }
      cell.restoreState(from: blend)
    }
    cell.step(x, into: y)
    // s(t) replaces s(t − slots), which no later step reads.
    cell.saveState(into: slot(t))
    t &+= 1
  }
}
