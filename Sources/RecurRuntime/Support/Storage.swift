// Memory for the runtime's load-time allocations, and the pointer views the kernels use. A model or a stream
// allocates only when it is built; a step never allocates.

/// Zeroed, 64-byte-aligned float regions (so a 16-lane vector never straddles a cache line), freed together when the
/// owner (a model or a stream) goes away.
final class FloatStorage {
  private var regions: [UnsafeMutableRawPointer] = []

  init() {}

  /// A new region of `count` floats, zeroed.
  func take(_ count: Int) -> UnsafeMutablePointer<Float> {
    let n = max(count, 1)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: n * 4, alignment: 64)
    regions.append(raw)
    let p = raw.bindMemory(to: Float.self, capacity: n)
    p.initialize(repeating: 0, count: n)
    return p
  }

  deinit { for r in regions { r.deallocate() } }
}

/// Floats viewed as vectors of `V` (the region's start is 64-byte aligned and offsets are whole vectors).
@_transparent
func asVectors<V: FloatVector>(_ p: UnsafeMutablePointer<Float>, _: V.Type) -> UnsafeMutablePointer<V> {
  UnsafeMutableRawPointer(p).assumingMemoryBound(to: V.self)
}

@_transparent @_disfavoredOverload
func asVectors<V: FloatVector>(_ p: UnsafePointer<Float>, _: V.Type) -> UnsafePointer<V> {
  UnsafeRawPointer(p).assumingMemoryBound(to: V.self)
}
