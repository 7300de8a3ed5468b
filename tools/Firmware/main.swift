// The firmware's `main`: loads the model embedded in flash through the runtime's own reader and validation
// (`RecurrentModel(bytes:retainingTensors: false)` over the flash bytes: afterwards only the kernel layout stays in
// RAM), then either
//   - runs every golden case embedded in the image (stream, stream --raw, generate: the same calls as `recur stream`
//     and `recur generate`) and prints the outputs in their text format between `@@case NAME` / `@@end` lines, with
//     the malloc calls counted around every step loop, and the budget (heap, stack) at the end; or, with the
//     semihosting argument `icount`,
//   - runs a fixed number of stream and generate steps between the instruction-count markers, printing nothing in
//     between, so tools/firmware can count the instructions QEMU executes per step.
// Compiled in one module with Sources/RecurRuntime (unchanged) as Embedded Swift; the C side is Firmware.h.

/// Writes text to the semihosting console.
func write(_ text: StaticString) {
  fw_write(text.utf8Start, Int32(text.utf8CodeUnitCount))
}

func write(_ text: String) {
  var copy = text
  copy.withUTF8 { fw_write($0.baseAddress, Int32($0.count)) }
}

func write(_ value: Int) { write(String(value)) }

/// A value as `recur stream` prints it: the shortest decimal that reads back as the same Float.
func write(_ value: Float) { write(value.description) }

func fail(_ message: String) -> Never {
  write("error: ")
  write(message)
  write("\n")
  fw_exit(2)
}

@main
struct Firmware {
  static func main() {
    let allocationsAtReset = Int(fw_allocations())
    let bytes = UnsafeRawBufferPointer(start: fw_model_bytes(), count: Int(fw_model_size()))
    let model: RecurrentModel
    do {
      model = try RecurrentModel(bytes: bytes, retainingTensors: false, cpu: .microcontroller)
    } catch {
      fail("model in flash refused: \(error.description)")
    }
    let heapModel = Int(fw_heap_live())  // the kernel layout: weights, biases and readout, padded to SIMD8
    guard model.inputSize == 1 && model.outputSize == 1 else {
      fail("the firmware runs models with one input and one output")
    }
    let predictor = SequencePredictor(model: model)
    let heapAfterLoad = Int(fw_heap_live())
    let heapPeakAtLoad = Int(fw_heap_peak())
    let stackPeakAtLoad = Int(fw_stack_peak())
    fw_stack_repaint()  // from here on, `stack-peak` is the deepest use of the cases (steps and printing)
    let loadAllocations = Int(fw_allocations()) - allocationsAtReset

    // The outputs of one sequence or seed, written by the step loop and printed after it.
    var capacity = 1
    for c in 0..<fw_case_count() {
      let spec = fw_case_at(c)!.pointee
      for s in 0..<Int(spec.sequences) {
        capacity = max(capacity, Int(Int(spec.kind) == FW_GENERATE ? spec.steps : spec.counts[s]))
      }
    }
    let out = UnsafeMutableBufferPointer<Float>.allocate(capacity: capacity)  // [capacity]
    out.initialize(repeating: 0)
    let x = UnsafeMutablePointer<Float>.allocate(capacity: 1)  // [I = 1] one time step
    x.initialize(to: 0)

    if isIcountRun() {
      icount(predictor: predictor, out: out, x: x)
      return
    }

    write("@@model ")
    write(String(cString: fw_model_name()))
    write(" bytes=")
    write(bytes.count)
    write("\n")
    var stepAllocations = 0  // malloc calls inside the step loops: must stay 0
    for c in 0..<fw_case_count() {
      let spec = fw_case_at(c)!.pointee
      write("@@case ")
      write(String(cString: spec.name))
      write("\n")
      var values = spec.values!
      var caseAllocations = 0
      for s in 0..<Int(spec.sequences) {
        let n = Int(spec.counts[s])
        let before = Int(fw_allocations())
        var produced = n
        switch Int(spec.kind) {
        case FW_GENERATE:
          predictor.begin(seed: UnsafeBufferPointer(start: values, count: n))
          produced = Int(spec.steps)
          predictor.generate(into: UnsafeMutableBufferPointer(rebasing: out[0..<produced]))
        case FW_STREAM:
          predictor.reset()
          for i in 0..<n { predictor.observe(values + i, into: out.baseAddress! + i) }
        default:  // FW_STREAM_RAW: the cell alone, as `recur stream --raw`
          // A mixture's readout is its experts' logits (more than the one value per step `out` holds).
          if model.architecture.isMixture { fail("--raw prints the cell's readout; a mixture model has no such case") }
          predictor.reset()
          for i in 0..<n { predictor.cell.step(values + i, into: out.baseAddress! + i) }
        }
        caseAllocations += Int(fw_allocations()) - before
        values += n
        for i in 0..<produced {  // generate: one line per seed; stream: one line per value
          write(out[i])
          write(Int(spec.kind) != FW_GENERATE || i == produced - 1 ? "\n" : " ")
        }
      }
      stepAllocations += caseAllocations
      write("@@end allocations=")
      write(caseAllocations)
      write(" heap-peak=")
      write(Int(fw_heap_peak()))
      write("\n")
    }
    write("@@budget load-allocations=")
    write(loadAllocations)
    write(" heap-model=")
    write(heapModel)
    write(" heap-after-load=")
    write(heapAfterLoad)
    write(" heap-peak-load=")
    write(heapPeakAtLoad)
    write(" heap-peak=")
    write(Int(fw_heap_peak()))
    write(" stack-peak-load=")
    write(stackPeakAtLoad)
    write(" stack-peak=")
    write(Int(fw_stack_peak()))
    write(" step-allocations=")
    write(stepAllocations)
    write("\n")
    fw_flush()
    if stepAllocations != 0 { fw_exit(4) }
  }

  /// True when QEMU was started with the semihosting argument `icount`.
  static func isIcountRun() -> Bool {
    withUnsafeTemporaryAllocation(of: CChar.self, capacity: 64) { line in  // [64] the command line
      let n = fw_command_line(line.baseAddress!, 64)
      guard n >= 6 else { return false }
      let word: StaticString = "icount"
      let p = word.utf8Start
      for i in 0..<6 where UInt8(bitPattern: line[Int(n) - 6 + i]) != p[i] { return false }
      return true
    }
  }

  /// Steps measured by tools/firmware: `icountSteps` stream predictions (the first stream case's values, from a
  /// reset state), then a generate of `icountSteps` values from the first seed; each between the two markers.
  static let icountSteps = 16

  static func icount(
    predictor: SequencePredictor, out: UnsafeMutableBufferPointer<Float>, x: UnsafeMutablePointer<Float>
  ) {
    var streamValues: UnsafePointer<Float>? = nil
    var streamCount = 0
    var seed: UnsafeBufferPointer<Float>? = nil
    for c in 0..<fw_case_count() {
      let spec = fw_case_at(c)!.pointee
      if Int(spec.kind) == FW_STREAM && streamValues == nil {
        (streamValues, streamCount) = (spec.values, Int(spec.counts[0]))
      }
      if Int(spec.kind) == FW_GENERATE && seed == nil {
        seed = UnsafeBufferPointer(start: spec.values, count: Int(spec.counts[0]))
      }
    }
    let n = icountSteps
    let result = UnsafeMutableBufferPointer<Float>.allocate(capacity: n)  // [n] generated values
    result.initialize(repeating: 0)
    fw_systick_start()
    /// Runs `body` between the markers, announced by `@@icount KIND steps=N`, followed by the SysTick ticks it took.
    func measure(_ kind: StaticString, _ body: () -> Void) {
      write("@@icount ")
      write(kind)
      write(" steps=")
      write(n)
      write("\n")
      fw_flush()
      let before = fw_systick_read()
      fw_mark_begin()
      body()
      fw_mark_end()
      let ticks = (before &- fw_systick_read()) & 0x00FF_FFFF
      write("@@systick ")
      write(kind)
      write(" ticks=")
      write(Int(ticks))
      write("\n")
    }
    predictor.reset()
    if let values = streamValues {
      measure("stream") { for i in 0..<n { predictor.observe(values + i % streamCount, into: x) } }
    }
    if let seed {
      predictor.begin(seed: seed)
      measure("generate") { predictor.generate(into: result) }
    }
    write("@@icount done\n")
    fw_flush()
  }
}
