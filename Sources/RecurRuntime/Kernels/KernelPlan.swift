// The kernel plan: how a model's steps run on one CPU, chosen once at load time and read by every path (the
// single-stream cells, `BatchCell`, the firmware, the tests). Everything about the order of the floating-point
// operations lives here as data, so two paths that read one plan compute the same bits.
//
// MARK: What fixes the answers (the same on every CPU with FMA)
//   Every row r of every affine map (W · v + initial) is summed in `chains` accumulator chains: column j feeds chain
//   j mod chains, chain 0 starts from the row's initial value, and the chains are added as a tree, a + b or
//   (a + b) + (c + d); with one input, the x term is one multiply-add after the tree (GateWeights.swift). `chains`
//   depends on the model only, never on a CPU with a vector unit, and the vector width only decides which rows share
//   a register: so widths 4, 8 and 16 give bit-identical answers (PlanTests). The one
//   exception is a CPU without a vector unit (`CPUDescription.microcontroller`) in an Embedded build: its 4-lane
//   vectors are scalar code over 32 float registers, where the gated cells' two chains (LSTM: 4 gates × 4 lanes × 2
//   = 32 accumulators) spill at every column; it sums each row in one chain, in column order. Its answers differ
//   from the desktop's in the last bits (within the goldens' tolerance: tools/firmware compares the device with them
//   at 1e-5). A desktop build plans that description like any 4-lane CPU (see `init`).
//   The readout is `dot`: eight partial sums (hidden unit mod 8), folded as a tree of halves, plus the bias.
//
// MARK: What the CPU decides (speed only)
//   `width`: lanes per vector, the CPU's widest fast float vector (4 SSE or NEON, 8 AVX2, 16 AVX-512; 8 on AVX-512
//   for H ≤ 8, where a 16-lane vector would be half padding); `tileVectors`: how many hidden vectors of a vanilla
//   cell share one pass over the columns (more independent chains in flight, bounded by the register file).
//
// MARK: What the model decides
//   `foldFeedback`: free-running generation of a one-layer vanilla or LSTM model with one input and one output runs
//   feedback weights with the readout folded into the recurrent matrix (mathematically identical; rounding differs by
//   about one ulp per step); `descending`: from H = 64, where a gated cell's panels outgrow the L1 cache, every other
//   step visits the hidden vectors in descending order so the panels read last are reused first.

/// What a plan needs to know about a CPU: its float vector width and its vector register count. The runtime cannot
/// ask the CPU (standard library only): the embedder passes one, the `recur` CLI detects its own at start-up
/// (`CPUDescription(cpuInfoFlags:)` on Linux), and the default is `.portable`, what a flag-free build runs well on.
public struct CPUDescription: Equatable, Sendable, CustomStringConvertible {
  /// Float lanes of the widest vector worth using: 4, 8 or 16.
  public var vectorLanes: Int
  /// Architectural vector registers: 16 (SSE, AVX2) or 32 (AVX-512, NEON).
  public var vectorRegisters: Int
  /// False for a CPU whose vectors are emulated by scalar float code (a Cortex-M): the plan then sums every row in one
  /// chain, one hidden vector at a time (see the file comment).
  public var hasVectorUnit: Bool

  public init(vectorLanes: Int, vectorRegisters: Int, hasVectorUnit: Bool = true) {
    precondition([4, 8, 16].contains(vectorLanes), "vector lanes must be 4, 8 or 16")
    precondition(vectorRegisters >= 8, "at least 8 vector registers")
    self.vectorLanes = vectorLanes
    self.vectorRegisters = vectorRegisters
    self.hasVectorUnit = hasVectorUnit
  }

  /// Baseline x86-64 (SSE2), and what a build without CPU flags compiles for.
  public static let portable = CPUDescription(vectorLanes: 4, vectorRegisters: 16)
  /// x86-64 with AVX2 and FMA (x86-64-v3: Haswell and later, Zen 1 to 3, every Intel client CPU since Alder Lake).
  public static let avx2 = CPUDescription(vectorLanes: 8, vectorRegisters: 16)
  /// x86-64 with AVX-512 (x86-64-v4: Zen 4 and 5, Intel server CPUs since Skylake-SP).
  public static let avx512 = CPUDescription(vectorLanes: 16, vectorRegisters: 32)
  /// AArch64 with NEON (Apple Silicon, Cortex-A): 4 lanes, 32 registers.
  public static let neon = CPUDescription(vectorLanes: 4, vectorRegisters: 32)
  /// A microcontroller without a vector unit (Cortex-M4F, M7): 4-lane vectors become scalar code over its 32
  /// single-precision registers, eight vectors' worth: one chain per row and one hidden vector per tile, so an LSTM
  /// pass keeps its 16 accumulators in registers with room for the weights.
  public static let microcontroller = CPUDescription(vectorLanes: 4, vectorRegisters: 8, hasVectorUnit: false)

  /// The description of an x86-64 CPU from the `flags` line of Linux's /proc/cpuinfo (the words after the colon):
  /// AVX-512 needs avx512f; AVX2 needs avx2 and fma; anything else is `.portable`.
  public init(cpuInfoFlags flags: some Sequence<Substring>) {
    // Bytes, not Strings: no Set (hashing pulls a random source into the firmware build) and no String comparison
    // (Unicode tables).
    let words = Array(flags)
    func has(_ name: StaticString) -> Bool {
      words.contains { word in
        name.withUTF8Buffer { word.utf8.elementsEqual($0) }
      }
    }
    if has("avx512f") {
      self = .avx512
    } else if has("avx2") && has("fma") {
      self = .avx2
    } else {
      self = .portable
    }
  }

  public var description: String {
    "\(vectorLanes) lanes, \(vectorRegisters) vector registers" + (hasVectorUnit ? "" : " (scalar code)")
  }
}

/// The plan of one model on one CPU (see the file comment).
public struct KernelPlan: Equatable, Sendable, CustomStringConvertible {
  /// Lanes per vector: 4, 8 or 16.
  public let width: Int
  /// Accumulator chains per row of every affine map: 1, 2 or 4 (column j feeds chain j mod chains).
  public let chains: Int
  /// Hidden vectors per tile of a vanilla cell's matrices (gated cells tile one hidden vector with all its gates).
  public let tileVectors: Int
  /// Every other step visits a gated cell's hidden vectors in descending order.
  public let descending: Bool
  /// Free-running generation runs the folded feedback weights.
  public let foldFeedback: Bool

  /// The plan for `architecture` on `cpu`.
  public init(for architecture: Architecture, cpu: CPUDescription) {
    let a = architecture
    let H = a.hiddenSize
    width = cpu.vectorLanes == 16 && H <= 8 ? 8 : cpu.vectorLanes
    #if hasFeature(Embedded)
      let scalar = !cpu.hasVectorUnit
    #else
      // The one-chain kernels are compiled into Embedded builds only: a desktop build plans a CPU without a vector
      // unit like any 4-lane one (every other desktop kernel path stays the code it was; a third chain count
      // inlined into the GRU's pass made GRU 16 20% slower on AVX-512).
      let scalar = false
    #endif
    chains = scalar ? 1 : Self.chains(kind: a.kind, hidden: H)
    // Vanilla tiles: keeping tileVectors × chains accumulators within the registers (with room for the broadcast
    // columns and the weights). A matrix that fits in one such tile of up to eight vectors is one tile: the tiles run
    // one after the other, each as long as its chains are deep, so AVX2's H = 40 ran as four vectors and then a lone
    // one with chains as deep (76.8 -> 69.8 ns as one tile of five, docs/performance.md). Larger matrices keep tiles
    // of four: tiles of six measured 15% slower at H = 128 and 256 on AVX2. One vector without a vector unit.
    let vectors = (H + width - 1) / width
    let most = max(1, min(8, (cpu.vectorRegisters - 4) / chains))
    tileVectors = scalar ? 1 : vectors <= most ? vectors : min(4, most)
    descending = a.kind != .rnn && H >= 64
    foldFeedback =
      a.layers == 1 && a.inputSize == 1 && a.outputSize == 1 && a.kind != .gru && !a.isMixture && !a.isChain
  }

  /// Chains per row. Vanilla up to H = 24: four (its one to three vectors are the only rows in flight, so the chains
  /// are what hides the multiply-add latency); beyond, and for the gated cells (whose tiles hold three or four gates'
  /// rows), two. The order the notebook models' exact goldens were recorded with (H = 16 and 32). A function of the
  /// model alone, so every CPU sums in the same order.
  static func chains(kind: CellKind, hidden: Int) -> Int {
    kind == .rnn && hidden <= 24 ? 4 : 2
  }

  /// Hidden vectors per gate: ceil(H / width).
  func vectors(hidden: Int) -> Int { (hidden + width - 1) / width }

  /// Floats per hidden vector in state buffers: H padded to a multiple of the width and of 8 (the readout reads
  /// eight lanes at a time). Lanes past H are zero and stay zero.
  func paddedHidden(_ hidden: Int) -> Int {
    let unit = max(width, 8)
    return (hidden + unit - 1) / unit * unit
  }

  public var description: String {
    "width \(width), chains \(chains), vanilla tiles of \(tileVectors) vectors"
      + (descending ? ", descending every other step" : "") + (foldFeedback ? ", folded feedback" : "")
  }
}
