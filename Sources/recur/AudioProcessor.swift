// The sample loop of `recur process`: every channel of a block of interleaved frames through the model, in place,
// with the state carried from block to block. Allocation happens only in `init`; `process` never allocates.
//
// Each channel is its own stream, its outputs bit for bit those of the channel alone (checked by AudioProcessTests):
// up to 11 channels through a RecurrentCell each, from 12 on together through one BatchCell (16 streams per SIMD
// group; BatchCell's guarantee makes each stream a RecurrentCell's answers), with sample-rate correction through a
// RateCorrectedCell each.
//
// Input per step: the sample, then the `--condition` values (constant over the file). Output: the model's one output.

import RecurRuntimeNative

final class AudioProcessor {
  enum Engine {
    case single(RecurrentCell)
    case perChannel([RecurrentCell])
    case batch(BatchCell)
    case corrected([RateCorrectedCell])
  }

  /// From this many channels on, one BatchCell (16 streams per SIMD group) beats a RecurrentCell per channel: a
  /// group costs the same for 2 streams as for 16 (tools/bench-process: stereo through BatchCell ran 6x slower than
  /// two cells, LSTM 12 and 40).
  static let batchFromChannels = 12

  let engine: Engine
  let channels: Int
  let inputSize: Int
  private let inputs: UnsafeMutablePointer<Float>  // [streams][I] each stream's step input, conditions prefilled
  private let outputs: UnsafeMutablePointer<Float>  // [streams][O] each stream's answer
  private let streams: Int

  /// `correction`: the rate ratio (file over model, ≥ 1) and whether to interpolate; nil runs the plain recurrence.
  init(model: RecurrentModel, channels: Int, conditions: [Float], correction: (ratio: Double, interpolate: Bool)?) {
    precondition(conditions.count == model.inputSize - 1 && model.outputSize == 1 && channels >= 1)
    self.channels = channels
    inputSize = model.inputSize
    if let correction {
      engine = .corrected(
        (0..<channels).map { _ in
          RateCorrectedCell(model: model, ratio: correction.ratio, interpolate: correction.interpolate)
        })
      streams = channels
    } else if channels == 1 {
      engine = .single(RecurrentCell(model: model))
      streams = 1
    } else if channels < Self.batchFromChannels {
      engine = .perChannel((0..<channels).map { _ in RecurrentCell(model: model) })
      streams = channels
    } else {
      let batch = BatchCell(model: model, streams: channels)
      engine = .batch(batch)
      streams = batch.streams
    }
    inputs = .allocate(capacity: streams * inputSize)
    outputs = .allocate(capacity: streams * model.readoutSize)
    for s in 0..<streams {
      inputs[s * inputSize] = 0
      for (i, v) in conditions.enumerated() { inputs[s * inputSize + 1 + i] = v }
    }
    outputs.initialize(repeating: 0, count: streams * model.readoutSize)
  }

  deinit {
    inputs.deallocate()
    outputs.deallocate()
  }

  /// Replaces each sample of `frames` interleaved frames ([frames][channels]) by the model's answer. Returns nil, or
  /// the first frame whose input (`input` true) or output is not finite: frames before it are done.
  func process(_ samples: UnsafeMutablePointer<Float>, frames: Int) -> (frame: Int, channel: Int, input: Bool)? {
    // One switch per block, the frame loop inside each case (a switch per frame retained the cell every sample).
    let (c, n) = (channels, inputSize)
    switch engine {
    case .single(let cell):
      for f in 0..<frames {
        guard samples[f].isFinite else { return (f, 0, true) }
        inputs[0] = samples[f]
        cell.step(inputs, into: outputs)
        samples[f] = outputs[0]
        guard outputs[0].isFinite else { return (f, 0, false) }
      }
    case .perChannel(let cells): return processChannels(cells, samples, frames: frames)
    case .batch(let batch):
      let (x, y) = (
        UnsafeBufferPointer(start: inputs, count: streams * n),
        UnsafeMutableBufferPointer(start: outputs, count: streams)
      )
      for f in 0..<frames {
        let frame = samples + f * c
        for ch in 0..<c where !frame[ch].isFinite { return (f, ch, true) }
        for ch in 0..<c { inputs[ch * n] = frame[ch] }
        batch.step(x, into: y)
        for ch in 0..<c { frame[ch] = outputs[ch] }
        for ch in 0..<c where !frame[ch].isFinite { return (f, ch, false) }
      }
    case .corrected(let cells): return processChannels(cells, samples, frames: frames)
    }
    return nil
  }

  /// `process` with one cell per channel (specialised for each cell type: no dynamic dispatch per sample).
  private func processChannels<Cell: ChannelCell>(
    _ cells: [Cell], _ samples: UnsafeMutablePointer<Float>, frames: Int
  ) -> (frame: Int, channel: Int, input: Bool)? {
    let (c, n) = (channels, inputSize)
    for f in 0..<frames {
      let frame = samples + f * c
      for ch in 0..<c where !frame[ch].isFinite { return (f, ch, true) }
      for ch in 0..<c {
        inputs[ch * n] = frame[ch]
        cells[ch].step(inputs + ch * n, into: outputs + ch)
        frame[ch] = outputs[ch]
      }
      for ch in 0..<c where !frame[ch].isFinite { return (f, ch, false) }
    }
    return nil
  }
}

/// A stream's cell: one time step from `x` (the sample, then the conditions) into `y`.
protocol ChannelCell: AnyObject {
  func step(_ x: UnsafePointer<Float>, into y: UnsafeMutablePointer<Float>)
}
extension RecurrentCell: ChannelCell {}
extension RateCorrectedCell: ChannelCell {}

/// Float samples to integer ones for 16- and 24-bit output: full scale ±1.0 maps to ±2^(bits−1), clipped to the
/// integer range, optionally with TPDF dither (the sum of two uniform values, ±1 LSB peak, triangular: it makes the
/// rounding error independent of the signal). The dither's noise comes from a fixed seed, so a run's output is the
/// same every time. Written as libsndfile's int interface wants it: the value shifted into the top bits of an Int32.
struct Quantizer {
  let bits: Int
  let dither: Bool
  private var random: UInt64 = 0x9E37_79B9_7F4A_7C15  // SplitMix64 state

  init(bits: Int, dither: Bool) { (self.bits, self.dither) = (bits, dither) }

  /// A uniform value in [0, 1) (SplitMix64's next output, top 24 bits).
  private mutating func uniform() -> Float {
    random &+= 0x9E37_79B9_7F4A_7C15
    var z = random
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z ^= z >> 31
    return Float(z >> 40) * 0x1p-24
  }

  /// Converts `count` samples; returns how many were clipped.
  mutating func quantize(_ source: UnsafePointer<Float>, into out: UnsafeMutablePointer<Int32>, count: Int) -> Int {
    let scale = Float(1 << (bits - 1))
    let (low, high) = (-scale, scale - 1)
    let shift = Int32(32 - bits)
    var clipped = 0
    for i in 0..<count {
      var v = source[i] * scale
      if dither { v += uniform() + uniform() - 1 }
      v = v.rounded()
      if v < low || v > high {
        clipped += 1
        v = min(max(v, low), high)
      }
      out[i] = Int32(v) << shift
    }
    return clipped
  }
}
