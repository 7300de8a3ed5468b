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
