// The window-differences encoding's arithmetic (ModelFormat.md, encoding 2), in one place: `SequencePredictor` runs
// it to predict and the trainer (tools/RecurTrainer) to build its examples, so both compute it bit for bit alike.

/// The window-differences encoding as plain functions, shared by the runtime and the trainer so both compute it the
/// same way, bit for bit.
public enum WindowDifferences {
  /// Divides `differences` in place by their largest magnitude and returns that scale (1 if all are zero).
  @inline(__always)
  public static func normalise(_ differences: UnsafeMutableBufferPointer<Float>) -> Float {
    var scale: Float = 0
    for d in differences { scale = max(scale, abs(d)) }
    if !(scale > 0) { scale = 1 }
    for i in differences.indices { differences[i] /= scale }
    return scale
  }

  /// The cell inputs and target for predicting `values[t + 1]` from `values[0...t]` with `k` differences.
  /// Returns `(inputs [k], scale, target)` where target = (values[t+1] - values[t]) / scale. Requires t ≥ 1.
  public static func example(values: [Float], t: Int, k: Int) -> (inputs: [Float], scale: Float, target: Float) {
    var inputs = [Float](repeating: 0, count: k)
    let available = min(t, k)
    for i in 0..<available {
      let index = t - available + 1 + i
      inputs[k - available + i] = values[index] - values[index - 1]
    }
    let scale = inputs.withUnsafeMutableBufferPointer { normalise($0) }
    return (inputs, scale, (values[t + 1] - values[t]) / scale)
  }
}
