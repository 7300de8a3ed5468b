// `recur stream --streams`: many independent sequences in one process. The first token of every line names the
// line's stream (any token of printable bytes up to 64 long: `sensor-7`, `42`, `a`); the rest of the line is that
// stream's input, read as `recur stream` reads it (one input: each number a time step; I inputs: the line one step).
// A new name starts a new stream from the initial state (zero, or a chain's learned one); a line holding only a name ends that stream's sequence (as a
// blank line does in `recur stream`); a line with no token at all is skipped. Every answer is printed in input order
// as `NAME prediction...`, and is exactly what `recur stream` prints for that stream's lines alone.
//
// How: streams run through one BatchCell (16 per SIMD group; bit-identical to one RecurrentCell per stream, see
// BatchCell.swift). Time steps and resets are gathered in a window (65,536 entries for one input and output, fewer for
// wide models), each stream's entries a queue; the window is answered when it is full, when input would block (so
// interactive use sees every answer at once), before an error and at the end: in rounds that step every stream with
// a queued time step at once (resets applied in their place), so streams written one after another in blocks fill
// the SIMD lanes as well as interleaved ones, and then every answer is printed in input order. Windowed encodings
// (window-differences, standardize, standardize-differences: each prediction reruns the cell over a window) and
// sequence-max-scale models with several inputs or outputs run one SequencePredictor per stream instead, answered at
// once.
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
  /// The most names this model's streams may have (`maxStreams`, or fewer: `maxStateBytes`).
  let maxNames: Int
  /// The most memory all streams' state may take: with a large model or a long window, far fewer than
  /// `maxStreams` names fit (65,536 streams of a window of 4096 steps of 256 values would need 550 GB).
  static let maxStateBytes = 512 << 20

  /// About the bytes one stream holds: its cell state (and an LSTM's cell), its round's input and output, and for a
  /// windowed encoding its own predictor's history and window (2k + 1 steps of I values); doubled for what the
  /// tables and the predictor's scratch add.
  static func stateBytes(of model: RecurrentModel, batched: Bool) -> Int {
    let a = model.architecture
    let file = model.file
    let cells = a.layers * a.hiddenSize * (a.kind == .lstm ? 2 : 1)
    let window = batched ? 0 : (2 * file.contextLength + 1) * a.inputSize
    return 2 * 4 * (cells + a.inputSize + a.outputSize + window) + 128
  }

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
  private let prediction: UnsafeMutablePointer<Float>  // [O] one predictor's answer

  // The window: the time steps and resets read but not yet answered, in input order. Each stream's entries form a
  // queue (linked through `entryNext`), and a round steps every stream whose queue holds a time step, so streams
  // written one after another in blocks still fill the SIMD lanes.
  private let window: Int  // entries it holds: 65,536 values of one input, fewer for wide models (about 4 MB)
  private var entries = 0
  private let entryStream: UnsafeMutablePointer<Int>  // [window]
  private let entryLine: UnsafeMutablePointer<Int>  // [window] for errors
  private let entryColumn: UnsafeMutablePointer<Int>  // [window]
  private let entryNext: UnsafeMutablePointer<Int>  // [window] the stream's next entry, -1 none
  private let entryIsReset: UnsafeMutablePointer<Bool>  // [window] a reset (no answer) rather than a time step
  private let entryInput: UnsafeMutablePointer<Float>  // [window][I]
  private let entryOutput: UnsafeMutablePointer<Float>  // [window][O] its answer, decoded

  // Per stream (capacity streams; doubled when a new name needs room).
  private var capacity = 0
  private var inputs: UnsafeMutablePointer<Float>  // [capacity][I] the round's (encoded) time steps
  private var outputs: UnsafeMutablePointer<Float>  // [capacity][O] the round's readouts
  private var active: UnsafeMutablePointer<Bool>  // [capacity] stream steps in this round
  private var scale: UnsafeMutablePointer<Float>  // [capacity] sequence-max-scale: max(1, |v| so far)
  private var head: UnsafeMutablePointer<Int>  // [capacity] first unanswered entry, -1 none
  private var tail: UnsafeMutablePointer<Int>  // [capacity] last entry, -1 none
  private var stepping: UnsafeMutablePointer<Int>  // [capacity] entry a stream steps in this round
  private var queued: UnsafeMutablePointer<Int>  // [capacity] streams with entries, in no particular order
  private var queuedCount = 0
  private var round: UnsafeMutablePointer<Int>  // [capacity] streams stepping in this round
  private var roundGroups: UnsafeMutablePointer<Int>  // [capacity] BatchCell groups stepping in this round
  private var groupMarked: UnsafeMutablePointer<Bool>  // [capacity] group g listed in roundGroups (g < capacity/16)

  init(model: RecurrentModel, raw: Bool, output: OutputWriter) {
    self.model = model
    self.raw = raw
    self.output = output
    let (I, O) = (model.inputSize, model.outputSize)
    let encoding = model.file.encoding
    scaled = !raw && encoding == .sequenceMaxScale && I == 1 && O == 1
    batched = raw || encoding == .identity || scaled
    batch = batched ? BatchCell(model: model, streams: BatchCell.lanes) : nil
    maxNames = min(Self.maxStreams, max(1, Self.maxStateBytes / Self.stateBytes(of: model, batched: batched)))
    prediction = .allocate(capacity: O)
    window = batched ? max(256, min(1 << 16, (1 << 20) / (I + O))) : 0
    entryStream = .allocate(capacity: window)
    entryLine = .allocate(capacity: window)
    entryColumn = .allocate(capacity: window)
    entryNext = .allocate(capacity: window)
    entryIsReset = .allocate(capacity: window)
    entryInput = .allocate(capacity: window * I)
    entryOutput = .allocate(capacity: window * O)
    inputs = .allocate(capacity: 0)
    outputs = .allocate(capacity: 0)
    active = .allocate(capacity: 0)
    scale = .allocate(capacity: 0)
    head = .allocate(capacity: 0)
    tail = .allocate(capacity: 0)
    stepping = .allocate(capacity: 0)
    queued = .allocate(capacity: 0)
    round = .allocate(capacity: 0)
    roundGroups = .allocate(capacity: 0)
    groupMarked = .allocate(capacity: 0)
  }

  deinit {
    prediction.deallocate()
    entryStream.deallocate()
    entryLine.deallocate()
    entryColumn.deallocate()
    entryNext.deallocate()
    entryIsReset.deallocate()
    entryInput.deallocate()
    entryOutput.deallocate()
    inputs.deallocate()
    outputs.deallocate()
    active.deallocate()
    scale.deallocate()
    head.deallocate()
    tail.deallocate()
    stepping.deallocate()
    queued.deallocate()
    round.deallocate()
    roundGroups.deallocate()
    groupMarked.deallocate()
  }

  /// The stream named `name`, created (from the initial state) if new. Allocates only when the tables grow.
  func stream(named name: UnsafeBufferPointer<UInt8>, line: Int, column: Int) throws(CLIError) -> Int {
    if let s = names.index(of: name) { return s }
    guard names.count < Self.maxStreams else {
      try runPending()
      throw CLIError("line \(line), column \(column): more than \(Self.maxStreams) stream names")
    }
    guard names.count < maxNames else {
      try runPending()
      throw CLIError(
        "line \(line), column \(column): more than \(maxNames) stream names for this model (each stream's state "
          + "takes about \(Self.stateBytes(of: model, batched: batched)) bytes; at most \(Self.maxStateBytes >> 20) "
          + "MiB in all)")
    }
    let s = names.add(name)
    if s == capacity { grow() }
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
    head = grown(head, 1, -1)
    tail = grown(tail, 1, -1)
    stepping = grown(stepping, 1, -1)
    queued = grown(queued, 1, 0)
    round = grown(round, 1, 0)
    roundGroups = grown(roundGroups, 1, 0)
    groupMarked = grown(groupMarked, 1, false)
    capacity = new
    batch?.reserve(streams: new)
  }

  /// Appends an entry for stream `s` to the window (answering the window first when it is full).
  private func enqueue(_ s: Int, reset: Bool, values: UnsafePointer<Float>?, line: Int, column: Int) throws(CLIError) {
    if entries == window { try runPending() }
    let e = entries
    entries += 1
    (entryStream[e], entryLine[e], entryColumn[e], entryNext[e], entryIsReset[e]) = (s, line, column, -1, reset)
    if let values { (entryInput + e * model.inputSize).update(from: values, count: model.inputSize) }
    if tail[s] >= 0 {
      entryNext[tail[s]] = e
    } else {
      head[s] = e
      queued[queuedCount] = s
      queuedCount += 1
    }
    tail[s] = e
  }

  /// Ends stream `s`'s sequence: its state and scale start again from zero (after its earlier time steps).
  func reset(_ s: Int) throws(CLIError) {
    if batched {
      try enqueue(s, reset: true, values: nil, line: 0, column: 0)
    } else {
      predictors[s].reset()
    }
  }

  /// Feeds one time step (`inputSize` values) to stream `s`; its answer is printed in input order.
  func observe(_ s: Int, _ values: UnsafePointer<Float>, line: Int, column: Int) throws(CLIError) {
    guard batched else {
      predictors[s].answer(values, into: prediction, raw: raw)
      try write(s, prediction, line: line, column: column)
      return
    }
    try enqueue(s, reset: false, values: values, line: line, column: column)
  }

  /// Answers every entry of the window: rounds of one time step for every stream with one queued (resets applied on
  /// the way, in their place), then every answer printed in input order.
  func runPending() throws(CLIError) {
    guard entries > 0, let batch else { return }
    let (I, O) = (model.inputSize, model.outputSize)
    while queuedCount > 0 {
      var stepCount = 0
      var k = 0
      while k < queuedCount {
        let s = queued[k]
        var e = head[s]
        while e >= 0 && entryIsReset[e] {
          batch.reset(stream: s)
          scale[s] = 1
          e = entryNext[e]
        }
        guard e >= 0 else {  // drained: off the list (the last one takes its place)
          (head[s], tail[s]) = (-1, -1)
          queuedCount -= 1
          queued[k] = queued[queuedCount]
          continue
        }
        let x = inputs + s * I
        let v = entryInput + e * I
        if scaled {
          scale[s] = max(scale[s], abs(v[0]))
          x[0] = v[0] / scale[s]
        } else {
          x.update(from: v, count: I)
        }
        (active[s], stepping[s], head[s]) = (true, e, entryNext[e])
        round[stepCount] = s
        stepCount += 1
        k += 1
      }
      guard stepCount > 0 else { break }
      // The groups of this round's streams, each once: a round costs what its streams cost.
      var groupCount = 0
      for r in 0..<stepCount {
        let g = round[r] / BatchCell.lanes
        if !groupMarked[g] {
          groupMarked[g] = true
          roundGroups[groupCount] = g
          groupCount += 1
        }
      }
      batch.step(
        inputs, into: outputs, active: active, groups: UnsafeBufferPointer(start: roundGroups, count: groupCount))
      for r in 0..<groupCount { groupMarked[roundGroups[r]] = false }
      for r in 0..<stepCount {
        let s = round[r]
        let y = entryOutput + stepping[s] * O
        y.update(from: outputs + s * O, count: O)
        if scaled { y[0] *= scale[s] }
        active[s] = false
      }
    }
    let count = entries
    entries = 0
    for e in 0..<count where !entryIsReset[e] {
      try write(entryStream[e], entryOutput + e * O, line: entryLine[e], column: entryColumn[e])
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
        try runPending()  // the answers before the bad token come first
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
          try runPending()
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
            try runPending()
            throw Stream.wrongCount(input, inputs: I, found: filled)
          }
          filled = 0
          let s = try stream(named: name, line: input.endedLine, column: input.nameColumn)
          try observe(s, step, line: input.endedLine, column: firstColumn)
        }
      case .endOfInput:
        try runPending()
        return
      }
    }
  }
}
