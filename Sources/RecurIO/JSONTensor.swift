// A tensor as a JSON array in PyTorch's nesting, for both writers of state-dict JSON: `recur inspect --json` (each
// value the shortest float32 decimal, streamed to stdout) and the trainer's `TorchState.json` (each value the
// shortest decimal of the float32 widened to Double, as Python's `repr(float(x))` prints it). The numbers differ on
// purpose, so each caller writes its own; the brackets and separators are written here once.

/// Writes a row-major `rows` × `cols` tensor as a JSON array: a vector flat (`[1, 2]`), a matrix as a list of its
/// rows (`[[1, 2], [3, 4]]`), elements separated by ", ". `text` receives the brackets and separators, `number` the
/// index of each element in turn (the caller writes its value).
public func writeJSONTensor(rows: Int, cols: Int, isVector: Bool, text: (String) -> Void, number: (Int) -> Void) {
  text("[")
  for r in 0..<rows {
    if r > 0 { text(", ") }
    if !isVector { text("[") }
    for c in 0..<cols {
      if c > 0 { text(", ") }
      number(r * cols + c)
    }
    if !isVector { text("]") }
  }
  text("]")
}
