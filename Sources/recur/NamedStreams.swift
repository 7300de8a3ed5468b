// `recur stream --streams`: many independent sequences in one process. The first token of every line names the
// line's stream (any token of printable bytes up to 64 long: `sensor-7`, `42`, `a`); the rest of the line is that
// stream's input, read as `recur stream` reads it (one input: each number a time step; I inputs: the line one step).
// A new name starts a new stream from zero state; a line holding only a name ends that stream's sequence (as a
// blank line does in `recur stream`); a line with no token at all is skipped. Every answer is printed in input order
// as `NAME prediction...`, and is exactly what `recur stream` prints for that stream's lines alone.
//
// How: streams run through one BatchCell (16 per SIMD group; bit-identical to one RecurrentCell per stream, see
// BatchCell.swift). Values are gathered into a round (at most one pending time step per stream) and a round is
// stepped, and its answers printed in input order, when a stream already in it gets another value or a reset, when
// input would block (so interactive use sees every answer at once), and at the end. Windowed encodings
// (window-differences, standardize, standardize-differences: each prediction reruns the cell over a window) and
// sequence-max-scale models with several inputs or outputs run one SequencePredictor per stream instead.
// Allocation happens only when a new name appears (tables grow by doubling), never per value.

import RecurRuntimeNative
import RecurText

/// Stream names → indices 0, 1, 2, ... in order of first appearance: open addressing over FNV-1a hashes, the
/// names kept one after another in one byte arena. Lookups never allocate; `add` allocates when a table doubles.
final class StreamNames {
  private(set) var count = 0
  private var slots: UnsafeMutablePointer<Int>  // [slotCount] stream index + 1; 0 = empty
  private var slotCount = 64  // a power of two, at least 2·count
  private var bytes: UnsafeMutablePointer<UInt8>  // [byteCapacity] every name, one after another
  private var byteCapacity = 1024
  private var starts: UnsafeMutablePointer<Int>  // [nameCapacity + 1] where name i starts; starts[count] = end
  private var nameCapacity = 32

  init() {
    slots = .allocate(capacity: slotCount)
    slots.initialize(repeating: 0, count: slotCount)
    bytes = .allocate(capacity: byteCapacity)
    starts = .allocate(capacity: nameCapacity + 1)
    starts[0] = 0
  }

  deinit {
    slots.deallocate()
    bytes.deallocate()
    starts.deallocate()
  }

  func name(_ i: Int) -> UnsafeBufferPointer<UInt8> {
    UnsafeBufferPointer(start: bytes + starts[i], count: starts[i + 1] - starts[i])
  }

  private static func hash(_ name: UnsafeBufferPointer<UInt8>) -> Int {
    var h: UInt64 = 0xcbf2_9ce4_8422_2325
    for b in name { h = (h ^ UInt64(b)) &* 0x100_0000_01b3 }
    return Int(truncatingIfNeeded: h ^ (h >> 29))
  }

  private func equal(_ i: Int, _ name: UnsafeBufferPointer<UInt8>) -> Bool {
    let stored = self.name(i)
    guard stored.count == name.count else { return false }
    for k in 0..<name.count where stored[k] != name[k] { return false }
    return true
  }

  /// The slot holding `name`, or the empty slot where it would go.
  private func slot(of name: UnsafeBufferPointer<UInt8>) -> Int {
    var s = Self.hash(name) & (slotCount - 1)
    while slots[s] != 0 && !equal(slots[s] - 1, name) { s = (s + 1) & (slotCount - 1) }
    return s
  }

  func index(of name: UnsafeBufferPointer<UInt8>) -> Int? {
    let s = slots[slot(of: name)]
    return s == 0 ? nil : s - 1
  }

  /// Adds a name not yet present; returns its index.
  func add(_ name: UnsafeBufferPointer<UInt8>) -> Int {
    if count == nameCapacity {
      let grown = UnsafeMutablePointer<Int>.allocate(capacity: 2 * nameCapacity + 1)
      grown.initialize(from: starts, count: count + 1)
      starts.deallocate()
      (starts, nameCapacity) = (grown, 2 * nameCapacity)
    }
    let end = starts[count]
    if end + name.count > byteCapacity {
      let capacity = max(2 * byteCapacity, end + name.count)
      let grown = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
      grown.initialize(from: bytes, count: end)
      bytes.deallocate()
      (bytes, byteCapacity) = (grown, capacity)
    }
    (bytes + end).initialize(from: name.baseAddress!, count: name.count)
    starts[count + 1] = end + name.count
    count += 1
    if 2 * count > slotCount {
      slots.deallocate()
      slotCount *= 2
      slots = .allocate(capacity: slotCount)
      slots.initialize(repeating: 0, count: slotCount)
      for i in 0..<count { slots[slot(of: self.name(i))] = i + 1 }
    } else {
      slots[slot(of: name)] = count
    }
    return count - 1
  }
}

/// The state of `recur stream --streams` (see the file comment).
final class NamedStreams {
  /// Most distinct stream names one run accepts.
  static let maxStreams = 1 << 16

  let model: RecurrentModel
  let raw: Bool
  let output: OutputWriter
  let names = StreamNames()
  /// True when streams run through the BatchCell; false: one SequencePredictor per stream.
  let batched: Bool
  /// sequence-max-scale through the BatchCell: inputs divided by the stream's running scale, outputs multiplied.
  let scaled: Bool
  private let batch: BatchCell?
  private var predictors: [SequencePredictor] = []  // [streams] when not batched
  private var capacity = 0  // streams the buffers below hold
  private var inputs: UnsafeMutablePointer<Float>  // [capacity][I] each pending stream's (encoded) time step
  private var outputs: UnsafeMutablePointer<Float>  // [capacity][O] the round's readouts
  private var active: UnsafeMutablePointer<Bool>  // [capacity] stream is in the pending round
  private var scale: UnsafeMutablePointer<Float>  // [capacity] sequence-max-scale: max(1, |v| so far)
  private var order: UnsafeMutablePointer<Int>  // [capacity] the round's streams in input order
  private var orderLine: UnsafeMutablePointer<Int>  // [capacity] line of each, for errors
  private var orderColumn: UnsafeMutablePointer<Int>  // [capacity] column of each
  private var pending = 0
  private let prediction: UnsafeMutablePointer<Float>  // [O] one predictor's answer

  init(model: RecurrentModel, raw: Bool, output: OutputWriter) {
    self.model = model
    self.raw = raw
    self.output = output
    let (I, O) = (model.inputSize, model.outputSize)
    let encoding = model.file.encoding
    scaled = !raw && encoding == .sequenceMaxScale && I == 1 && O == 1
    batched = raw || encoding == .identity || scaled
    batch = batched ? BatchCell(model: model, streams: BatchCell.lanes) : nil
    inputs = .allocate(capacity: 0)
    outputs = .allocate(capacity: 0)
    active = .allocate(capacity: 0)
    scale = .allocate(capacity: 0)
    order = .allocate(capacity: 0)
    orderLine = .allocate(capacity: 0)
    orderColumn = .allocate(capacity: 0)
    prediction = .allocate(capacity: O)
  }

  deinit {
    inputs.deallocate()
    outputs.deallocate()
    active.deallocate()
    scale.deallocate()
    order.deallocate()
    orderLine.deallocate()
    orderColumn.deallocate()
    prediction.deallocate()
  }

  /// The stream named `name`, created (from zero state) if new. Allocates only when the tables grow.
  func stream(named name: UnsafeBufferPointer<UInt8>, line: Int, column: Int) throws(CLIError) -> Int {
    if let s = names.index(of: name) { return s }
    guard names.count < Self.maxStreams else {
      try runRound()
      throw CLIError("line \(line), column \(column): more than \(Self.maxStreams) stream names")
    }
    let s = names.add(name)
    if s == capacity { grow() }
    scale[s] = 1
    if !batched { predictors.append(SequencePredictor(model: model)) }
    return s
  }

  /// Doubles every per-stream buffer, keeping what they hold.
  private func grow() {
    let (I, O) = (model.inputSize, model.outputSize)
    let old = capacity
    let new = max(2 * old, BatchCell.lanes)
    func grown<T>(_ p: UnsafeMutablePointer<T>, _ width: Int, _ fill: T) -> UnsafeMutablePointer<T> {
      let q = UnsafeMutablePointer<T>.allocate(capacity: new * width)
      q.initialize(repeating: fill, count: new * width)
      q.update(from: p, count: old * width)
      p.deallocate()
      return q
    }
    inputs = grown(inputs, I, 0)
    outputs = grown(outputs, O, 0)
    active = grown(active, 1, false)
    scale = grown(scale, 1, 1)
    order = grown(order, 1, 0)
    orderLine = grown(orderLine, 1, 0)
    orderColumn = grown(orderColumn, 1, 0)
    capacity = new
    batch?.reserve(streams: new)
  }

  /// Ends stream `s`'s sequence: its state and scale start again from zero.
  func reset(_ s: Int) throws(CLIError) {
    if batched {
      if active[s] { try runRound() }
      batch!.reset(stream: s)
      scale[s] = 1
    } else {
      predictors[s].reset()
    }
  }

  /// Feeds one time step (`inputSize` values) to stream `s`; its answer is printed in input order.
  func observe(_ s: Int, _ values: UnsafePointer<Float>, line: Int, column: Int) throws(CLIError) {
    let I = model.inputSize
    guard batched else {
      if raw {
        predictors[s].cell.step(values, into: prediction)
      } else {
        predictors[s].observe(values, into: prediction)
      }
      try write(s, prediction, line: line, column: column)
      return
    }
    if active[s] { try runRound() }
    let x = inputs + s * I
    if scaled {
      scale[s] = max(scale[s], abs(values[0]))
      x[0] = values[0] / scale[s]
    } else {
      x.update(from: values, count: I)
    }
    active[s] = true
    (order[pending], orderLine[pending], orderColumn[pending]) = (s, line, column)
    pending += 1
  }

  /// Steps the pending round and prints its answers in input order.
  func runRound() throws(CLIError) {
    guard pending > 0, let batch else { return }
    batch.step(inputs, into: outputs, active: active)
    let count = pending
    pending = 0
    for e in 0..<count { active[order[e]] = false }
    let O = model.outputSize
    for e in 0..<count {
      let s = order[e]
      let y = outputs + s * O
      if scaled { y[0] *= scale[s] }
      try write(s, y, line: orderLine[e], column: orderColumn[e])
    }
  }

  /// `NAME p1 ... pO` for stream `s`, as `recur stream` writes its line (a non-finite value ends the run there).
  private func write(_ s: Int, _ y: UnsafePointer<Float>, line: Int, column: Int) throws(CLIError) {
    for o in 0..<model.outputSize {
      guard y[o].isFinite else {
        if o > 0 { output.byte(UInt8(ascii: "\n")) }
        throw Stream.nonFinite(line: line, column: column, inputs: model.inputSize)
      }
      if o == 0 { output.bytes(names.name(s)) }
      output.byte(UInt8(ascii: " "))
      output.float(y[o])
    }
    output.byte(UInt8(ascii: "\n"))
  }

  /// Reads every line of `input` (see the file comment). Throws a `line L, column C: ...` error after writing every
  /// answer to the values before it.
  func run(_ input: InputScanner) throws(CLIError) {
    let I = model.inputSize
    let step = UnsafeMutablePointer<Float>.allocate(capacity: I)  // [I] the time step being read
    defer { step.deallocate() }
    var filled = 0
    var firstColumn = 0
    precondition(input.namesFirst, "a scanner reading names")
    while true {
      let event: ScanEvent
      do {
        event = try input.next()
      } catch {
        try runRound()  // the answers before the bad token come first
        throw CLIError(error.description)
      }
      switch event {
      case .number(let v):
        if I == 1 {
          step[0] = v
          let s = try stream(named: input.lineName, line: input.currentLine, column: input.nameColumn)
          try observe(s, step, line: input.currentLine, column: input.lastNumberColumn)
          continue
        }
        guard filled < I else {
          try runRound()
          throw Stream.tooManyValues(input, inputs: I)
        }
        if filled == 0 { firstColumn = input.lastNumberColumn }
        step[filled] = v
        filled += 1
      case .endOfLine(let blank):
        let name = input.lineName
        if blank {
          if !name.isEmpty, let s = names.index(of: name) { try reset(s) }
        } else if I > 1 {
          guard filled == I else {
            try runRound()
            throw Stream.wrongCount(input, inputs: I, found: filled)
          }
          filled = 0
          let s = try stream(named: name, line: input.endedLine, column: input.nameColumn)
          try observe(s, step, line: input.endedLine, column: firstColumn)
        }
      case .endOfInput:
        try runRound()
        return
      }
    }
  }
}
