// Moving PyTorch-layout tensors into the kernel layout at load time (never during a step).

/// Copies gate block `gate` of a row-major PyTorch matrix `[G·H][cols]` into slot `slot` of the column kernel's
/// panel layout over `rowBlocks` row blocks (ColumnKernel.swift): element (gate·H + i, j) lands in lane i % 8 of row
/// block slot·blocks + i / 8 of column j. Slots are `blocks` SIMD8 vectors (ceil(H / 8)) each; lanes past H stay zero.
func placeGate(
  _ matrix: [Float], hidden: Int, cols: Int, gate: Int,
  into columns: UnsafeMutablePointer<SIMD8<Float>>, rowBlocks: Int, slot: Int, blocks: Int
) {
  let lanes = scalars(columns)
  for j in 0..<cols {
    for i in 0..<hidden {
      let block = panelIndex(block: slot * blocks + i / 8, column: j, rowBlocks: rowBlocks, columns: cols)
      lanes[block * 8 + i % 8] = matrix[(gate * hidden + i) * cols + j]
    }
  }
}

/// Copies gate block `gate` of a PyTorch vector `[G·H]` (or the sum of two) into slot `slot` of padded storage.
func placeGate(
  _ vector: [Float], plus other: [Float]? = nil, hidden: Int, gate: Int,
  into blocksBase: UnsafeMutablePointer<SIMD8<Float>>, slot: Int, blocks: Int
) {
  let lanes = scalars(blocksBase + slot * blocks)
  for i in 0..<hidden {
    let k = gate * hidden + i
    lanes[i] = other.map { vector[k] + $0[k] } ?? vector[k]
  }
}

/// Copies a row-major PyTorch recurrent matrix `[G·H][H]` into gate panels (ColumnKernel.swift): element
/// (gate·H + i, j) lands in lane i % 8 of gate `gate` of hidden block i / 8, column j.
/// With `pairedBlocks`, block-pair panels instead (`pairedPanelIndex`).
func placeGatePanels(
  _ matrix: [Float], hidden: Int, gates: Int, pairedBlocks: Bool = false,
  into panels: UnsafeMutablePointer<SIMD8<Float>>
) {
  let lanes = scalars(panels)
  let nb = (hidden + 7) / 8
  for gate in 0..<gates {
    for i in 0..<hidden {
      for j in 0..<hidden {
        let block =
          pairedBlocks
          ? pairedPanelIndex(gate: gate, block: i / 8, column: j, gates: gates, columns: hidden, blocks: nb)
          : gatePanelIndex(gate: gate, block: i / 8, column: j, gates: gates, columns: hidden)
        lanes[block * 8 + i % 8] = matrix[(gate * hidden + i) * hidden + j]
      }
    }
  }
}

/// Gate panels `[blocks][H][width]` (block-pair panels with `pairedBlocks`) for free-running generation of a one-layer model with one input and one output,
/// where the input is the readout fed back: x = fc.weight · h + fc.bias. Panel gate k holds
///   (hidden gate `sources[k].hidden` of W_hh, or 0) + (input gate `sources[k].input` of W_ih) ⊗ fc.weight,
/// so one pass over h computes what the input would have added, and the readout leaves the step's critical path.
/// The matching biases are `foldedBias`.
func placeFoldedPanels(
  weightHH: [Float], weightIH: [Float], fcWeight: [Float], hidden: Int, width: Int, pairedBlocks: Bool = false,
  sources: [(hidden: Int?, input: Int?)], into panels: UnsafeMutablePointer<SIMD8<Float>>
) {
  let lanes = scalars(panels)
  let nb = (hidden + 7) / 8
  for (k, source) in sources.enumerated() {
    for i in 0..<hidden {
      for j in 0..<hidden {
        var w: Float = 0
        if let g = source.hidden { w = weightHH[(g * hidden + i) * hidden + j] }
        if let g = source.input { w += weightIH[g * hidden + i] * fcWeight[j] }
        let block =
          pairedBlocks
          ? pairedPanelIndex(gate: k, block: i / 8, column: j, gates: width, columns: hidden, blocks: nb)
          : gatePanelIndex(gate: k, block: i / 8, column: j, gates: width, columns: hidden)
        lanes[block * 8 + i % 8] = w
      }
    }
  }
}

/// Slot k of the folded biases: (bias of `sources[k]`) + (input gate weights) · fc.bias, in `width` slots of blocks.
func placeFoldedBias(
  _ bias: (_ slot: Int, _ i: Int) -> Float, weightIH: [Float], fcBias: Float, hidden: Int,
  sources: [(hidden: Int?, input: Int?)], into out: UnsafeMutablePointer<SIMD8<Float>>, blocks: Int
) {
  for (k, source) in sources.enumerated() {
    let lanes = scalars(out + k * blocks)
    for i in 0..<hidden {
      lanes[i] = bias(k, i) + (source.input.map { weightIH[$0 * hidden + i] * fcBias } ?? 0)
    }
  }
}
