// The terminal progress bar `recur-train` draws on stderr (only when stderr is a terminal).

public struct ProgressBar: Sendable {
  public let width: Int
  /// Minimum time between redraws.
  public let interval: Duration
  private let start: ContinuousClock.Instant
  private var lastDraw: ContinuousClock.Instant? = nil

  public init(
    width: Int = 30, interval: Duration = .milliseconds(80), start: ContinuousClock.Instant = .now
  ) {
    self.width = width
    self.interval = interval
    self.start = start
  }

  /// The line to draw for `done` of `total` units at `now`, or nil when the last draw was too recent (the final
  /// update is always drawn). The text starts with a carriage return and clears to the end of the line.
  public mutating func update(done: Int, total: Int, now: ContinuousClock.Instant = .now) -> String? {
    if let lastDraw, done < total, now - lastDraw < interval { return nil }
    lastDraw = now
    return "\r\u{1B}[K" + Self.render(done: done, total: total, elapsed: now - start, width: width)
  }

  /// Erases the bar.
  public static let clear = "\r\u{1B}[K"

  /// `[#########.........]  45%  340/756 batches  ETA 0.4s`
  public static func render(done: Int, total: Int, elapsed: Duration, width: Int) -> String {
    let fraction = total > 0 ? min(1, max(0, Double(done) / Double(total))) : 1
    let filled = Int((fraction * Double(width)).rounded(.down))
    let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
    let percent = Int((fraction * 100).rounded(.down))
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let eta = done > 0 ? seconds * Double(total - done) / Double(done) : Double.nan
    let percentText =
      String(repeating: " ", count: 3 - min(3, String(percent).count)) + "\(percent)%"
    return "[\(bar)] \(percentText)  \(done)/\(total) batches  ETA \(formatSeconds(eta))"
  }

  static func formatSeconds(_ s: Double) -> String {
    guard s.isFinite else { return "--" }
    if s < 10 { return "\(Double(Int((s * 10).rounded())) / 10)s" }
    if s < 600 { return "\(Int(s.rounded()))s" }
    return "\(Int(s / 60))m\(Int(s.truncatingRemainder(dividingBy: 60)))s"
  }
}
