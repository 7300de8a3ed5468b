// Hand-written SVG plots: the training loss curve and generated-vs-true small multiples.
//
// Output is deterministic (every coordinate printed with two decimals, every label with a fixed format), so a plot
// can be a golden file. No dependencies: plain SVG 1.1 elements (`g`, `rect`, `line`, `polyline`, `circle`, `text`,
// `clipPath`).
//
// Structure, relied on by tests: `generation` writes one `<g class="panel">` per seed, each with exactly two
// `<polyline>`s (class "truth" and "generated"); `lossCurve` writes one `<polyline class="loss">`. Points a log axis
// cannot show (values ≤ 0) and non-finite values are left out of a polyline (the line joins its neighbours);
// values beyond the panel's range are clipped at the panel's edge.

import Foundation
import RecurIO

public enum SVGPlot {
  static let truthColour = "#555555"
  static let generatedColour = "#d62728"
  static let lossColour = "#1f77b4"

  // MARK: Loss curve

  /// The epoch loss curve on a log-scale y axis.
  public static func lossCurve(_ losses: [Double], title: String) -> String {
    let width = 720.0
    let height = 420.0
    let area = PlotArea(left: 78, top: 44, right: width - 20, bottom: height - 52)
    let positive = losses.filter { $0 > 0 && $0.isFinite }
    let x = PlotAxis.linear(min: 1, max: Double(max(losses.count, 2)), from: area.left, to: area.right)
    let y = PlotAxis.logarithmic(
      min: positive.min() ?? 1e-3, max: positive.max() ?? 1, from: area.bottom, to: area.top)
    var svg = SVGWriter(width: width, height: height)
    svg.text(title, x: width / 2, y: 24, size: 15, anchor: "middle", weight: "bold")
    svg.axes(area: area, x: x, y: y, xLabel: "epoch", yLabel: "training loss (MSE, encoded units, log scale)")
    svg.clip(id: "clip-loss", area: area)
    let points = losses.enumerated().compactMap { i, v -> (Double, Double)? in
      guard let py = y.position(v) else { return nil }
      return (x.position(Double(i + 1))!, py)
    }
    svg.polyline(points, colour: lossColour, cssClass: "loss", clip: "clip-loss")
    if losses.count <= 60 {
      for (px, py) in points { svg.circle(px, py, colour: lossColour, clip: "clip-loss") }
    }
    return svg.finish()
  }

  // MARK: Generation small multiples

  /// One panel per seed: the seed and the family rule's continuation (truth) against the seed and the generated
  /// continuation. Log-scale y for Fibonacci-like runs, linear for odd runs.
  /// `recur-train fit`'s curves on one log axis: the training loss (encoded MSE) and the validation ARV per epoch,
  /// with the best (exported) epoch marked.
  public static func fitLosses(training: [Double], validation: [Double], best: Int, title: String) -> String {
    let width = 720.0
    let height = 420.0
    let area = PlotArea(left: 78, top: 44, right: width - 20, bottom: height - 52)
    let positive = (training + validation).filter { $0 > 0 && $0.isFinite }
    let x = PlotAxis.linear(min: 1, max: Double(max(training.count, 2)), from: area.left, to: area.right)
    let y = PlotAxis.logarithmic(
      min: positive.min() ?? 1e-3, max: positive.max() ?? 1, from: area.bottom, to: area.top)
    var svg = SVGWriter(width: width, height: height)
    svg.text(title, x: width / 2, y: 24, size: 15, anchor: "middle", weight: "bold")
    svg.axes(
      area: area, x: x, y: y, xLabel: "epoch (best, exported: \(best))",
      yLabel: "training MSE (encoded) / validation ARV, log scale")
    svg.clip(id: "clip-fit", area: area)
    for (values, colour, name) in [(training, lossColour, "training"), (validation, "#d62728", "validation")] {
      let points = values.enumerated().compactMap { i, v -> (Double, Double)? in
        guard let py = y.position(v) else { return nil }
        return (x.position(Double(i + 1))!, py)
      }
      svg.polyline(points, colour: colour, cssClass: name, clip: "clip-fit")
    }
    if best >= 1 && best <= validation.count, let px = x.position(Double(best)),
      let py = y.position(validation[best - 1])
    {
      svg.circle(px, py, colour: "#d62728", clip: "clip-fit")
    }
    svg.legendEntry("training loss", colour: lossColour, x: area.right - 140, y: area.top + 16)
    svg.legendEntry("validation ARV", colour: "#d62728", x: area.right - 140, y: area.top + 32)
    return svg.finish()
  }

  /// Forecasts against the truth over scored steps: `x` is each step's row number, `series` the forecasters
  /// (name, values), drawn in a fixed palette after the dashed truth.
  public static func forecast(
    x rows: [Double], truth: [Double], series: [(name: String, values: [Double])], title: String, subtitle: String
  ) -> String {
    let width = 760.0
    let height = 440.0
    let area = PlotArea(left: 70, top: 70, right: width - 20, bottom: height - 52)
    let all = (truth + series.flatMap(\.values)).filter(\.isFinite)
    let lo = all.min() ?? 0
    let hi = all.max() ?? 1
    let x = PlotAxis.linear(
      min: rows.first ?? 0, max: max(rows.last ?? 1, (rows.first ?? 0) + 1), from: area.left, to: area.right)
    let y = PlotAxis.linear(min: lo, max: hi > lo ? hi : lo + 1, from: area.bottom, to: area.top)
    var svg = SVGWriter(width: width, height: height)
    svg.text(title, x: width / 2, y: 22, size: 15, anchor: "middle", weight: "bold")
    svg.text(subtitle, x: width / 2, y: 40, size: 11, anchor: "middle")
    let palette = [generatedColour, "#2ca02c", "#9467bd", "#8c564b"]
    svg.legendEntry("actual", colour: truthColour, x: area.left + 10, y: 58, dashed: true)
    for (k, s) in series.enumerated() {
      svg.legendEntry(s.name, colour: palette[k % palette.count], x: area.left + 120 + Double(k) * 170, y: 58)
    }
    svg.axes(area: area, x: x, y: y, xLabel: "row", yLabel: "value")
    svg.clip(id: "clip-forecast", area: area)
    func points(_ values: [Double]) -> [(Double, Double)] {
      zip(rows, values).compactMap { r, v in
        guard let px = x.position(r), let py = y.position(v) else { return nil }
        return (px, py)
      }
    }
    svg.polyline(points(truth), colour: truthColour, cssClass: "actual", clip: "clip-forecast", dashed: true)
    for (k, s) in series.enumerated() {
      let p = points(s.values)
      svg.polyline(p, colour: palette[k % palette.count], cssClass: "forecast", clip: "clip-forecast")
      for (px, py) in p { svg.circle(px, py, colour: palette[k % palette.count], clip: "clip-forecast") }
    }
    return svg.finish()
  }

  public static func generation(_ evaluation: GenerationEvaluation, title: String, subtitle: String = "") -> String {
    let logScale = evaluation.family == .fib
    let columns = min(3, max(evaluation.rows.count, 1))
    let rows = (evaluation.rows.count + columns - 1) / columns
    let panelWidth = 330.0
    let panelHeight = 250.0
    let header = 78.0
    let width = 10 + Double(columns) * panelWidth + 10
    let height = header + Double(rows) * panelHeight + 10
    var svg = SVGWriter(width: width, height: height)
    svg.text(title, x: width / 2, y: 22, size: 15, anchor: "middle", weight: "bold")
    if !subtitle.isEmpty { svg.text(subtitle, x: width / 2, y: 40, size: 11, anchor: "middle") }
    // Legend.
    let legendX = width / 2 - 190
    svg.legendEntry("truth (\(evaluation.family.rawValue) rule)", colour: truthColour, x: legendX, y: 60, dashed: true)
    svg.legendEntry("generated (model)", colour: generatedColour, x: legendX + 200, y: 60)

    for (index, row) in evaluation.rows.enumerated() {
      let originX = 10 + Double(index % columns) * panelWidth
      let originY = header + Double(index / columns) * panelHeight
      let area = PlotArea(
        left: originX + 62, top: originY + 30, right: originX + panelWidth - 14, bottom: originY + panelHeight - 44)
      let seed = row.seed.values
      let truth = seed + row.truth
      let generated = [seed[seed.count - 1]] + row.generated
      let firstGenerated = seed.count  // 0-based index of the first generated value
      let n = truth.count

      // y range: the truth, widened to the generated values but not beyond ten spans (linear) or four decades (log)
      // past the truth, so a runaway generation shows as leaving the panel without flattening the truth to a line.
      let y: PlotAxis
      if logScale {
        let t = truth.filter { $0 > 0 }
        let g = row.generated.filter { $0 > 0 && $0.isFinite }
        let tMin = t.min() ?? 1
        let tMax = t.max() ?? 10
        let lo = min(tMin, max(g.min() ?? tMin, tMin / 10_000))
        let hi = max(tMax, min(g.max() ?? tMax, tMax * 10_000))
        y = PlotAxis.logarithmic(min: lo, max: hi, from: area.bottom, to: area.top)
      } else {
        let g = row.generated.filter { $0.isFinite }
        let tMin = truth.min()!
        let tMax = truth.max()!
        let span = max(tMax - tMin, 1)
        let lo = min(tMin, max(g.min() ?? tMin, tMin - 10 * span))
        let hi = max(tMax, min(g.max() ?? tMax, tMax + 10 * span))
        y = PlotAxis.linear(min: lo, max: hi, from: area.bottom, to: area.top)
      }
      let x = PlotAxis.linear(min: 1, max: Double(n), from: area.left, to: area.right)

      svg.open("<g class=\"panel\">")
      svg.text(
        "\(row.seed.label) (\(row.seed.region.rawValue))", x: (area.left + area.right) / 2, y: originY + 20,
        size: 12, anchor: "middle", weight: "bold")
      svg.axes(
        area: area, x: x, y: y, xLabel: "position in sequence", yLabel: logScale ? "value (log scale)" : "value")
      // Where generation starts.
      let boundary = x.position(Double(firstGenerated) + 0.5)!
      svg.element(
        "<line x1=\"\(f(boundary))\" y1=\"\(f(area.top))\" x2=\"\(f(boundary))\" y2=\"\(f(area.bottom))\" "
          + "stroke=\"#999999\" stroke-dasharray=\"4 3\"/>")
      let clip = "clip-\(index)"
      svg.clip(id: clip, area: area)
      func points(_ values: [Double], firstPosition: Int) -> [(Double, Double)] {
        values.enumerated().compactMap { i, v in
          guard let py = y.position(v) else { return nil }
          return (x.position(Double(firstPosition + i))!, py)
        }
      }
      let truthPoints = points(truth, firstPosition: 1)
      let generatedPoints = points(generated, firstPosition: firstGenerated)
      svg.polyline(truthPoints, colour: truthColour, cssClass: "truth", clip: clip, dashed: true)
      for (px, py) in truthPoints { svg.circle(px, py, colour: truthColour, clip: clip) }
      svg.polyline(generatedPoints, colour: generatedColour, cssClass: "generated", clip: clip)
      for (px, py) in generatedPoints.dropFirst() { svg.circle(px, py, colour: generatedColour, clip: clip) }
      svg.close("</g>")
    }
    return svg.finish()
  }
}

// MARK: - Files

/// The `--plots DIR` directory.
public enum PlotDirectory {
  /// Checks, before any work, that `path` can hold plots: an existing directory, or a path whose nearest existing
  /// ancestor is a directory (the missing ones are created only when the first plot is written, so a run refused
  /// later, e.g. for its data, creates nothing). `names`: the plots the run will write; none may be an input.
  public static func check(_ path: String, names: [String] = [], inputs: [String] = []) throws(TrainerError) {
    guard !path.isEmpty else { throw .invalidOption("--plots is an empty path") }
    var info = stat()
    if stat(path, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw .invalidOption("--plots '\(escaped(path))' exists and is not a directory")
      }
      for name in names {
        try AtomicFile.checkDestination(file(name, in: path), what: "--plots file", inputs: inputs)
      }
      return
    }
    var ancestor = OutputFile.directory(of: path)
    while stat(ancestor, &info) != 0 {
      let next = OutputFile.directory(of: ancestor)
      if next == ancestor { break }
      ancestor = next
    }
    guard stat(ancestor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR else {
      throw .invalidOption("--plots '\(escaped(path))': '\(escaped(ancestor))' is not a directory")
    }
  }

  /// Writes `svg` to `directory/name` atomically, creating `directory` (and missing parents) first; returns the
  /// path written.
  @discardableResult
  public static func write(_ svg: String, named name: String, in directory: String) throws(TrainerError) -> String {
    try makeDirectories(directory)
    let path = file(name, in: directory)
    try AtomicFile.write(Array(svg.utf8), to: path, what: "plot")
    return path
  }

  static func file(_ name: String, in directory: String) -> String {
    directory.hasSuffix("/") ? directory + name : directory + "/" + name
  }

  /// `mkdir -p`. `train` and `fit` call it before they write the model, so a plots directory that cannot be made
  /// fails the run before its model replaces anything.
  public static func makeDirectories(_ path: String) throws(TrainerError) {
    var info = stat()
    if stat(path, &info) == 0 {
      guard (info.st_mode & S_IFMT) == S_IFDIR else {
        throw .io("--plots '\(escaped(path))' exists and is not a directory")
      }
      return
    }
    let parent = OutputFile.directory(of: path)
    if parent != path { try makeDirectories(parent) }
    guard mkdir(path, 0o755) == 0 || errno == EEXIST else {
      throw .io("--plots '\(escaped(path))': cannot create the directory (\(String(cString: strerror(errno))))")
    }
  }
}

// MARK: - Axes

struct PlotArea {
  var left: Double
  var top: Double
  var right: Double
  var bottom: Double
}

/// A linear or base-10 logarithmic axis: a data range mapped onto a pixel range, with labelled ticks.
struct PlotAxis {
  var lo: Double
  var hi: Double
  var log: Bool
  var from: Double
  var to: Double
  var ticks: [(value: Double, label: String)]
  /// Unlabelled minor ticks (2...9 × 10^e on log axes spanning few decades).
  var minorTicks: [Double] = []

  /// Pixel position of `v`; nil when the axis cannot show it (non-finite, or ≤ 0 on a log axis).
  func position(_ v: Double) -> Double? {
    guard v.isFinite else { return nil }
    if log {
      guard v > 0 else { return nil }
      return from + (Foundation.log10(v) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo))
        * (to - from)
    }
    return from + (v - lo) / (hi - lo) * (to - from)
  }

  /// A linear axis covering [min, max], widened to multiples of a 1-2-5 step giving about five ticks.
  static func linear(min: Double, max: Double, from: Double, to: Double) -> PlotAxis {
    var a = min
    var b = max
    if !(b > a) {
      let pad = Swift.max(abs(a) * 0.1, 1)
      a -= pad
      b += pad
    }
    let raw = (b - a) / 4
    let magnitude = Foundation.pow(10, Foundation.floor(Foundation.log10(raw)))
    let normalised = raw / magnitude
    let step = (normalised < 1.5 ? 1 : normalised < 3 ? 2 : normalised < 7 ? 5 : 10) * magnitude
    let lo = Foundation.floor(a / step) * step
    let hi = Foundation.ceil(b / step) * step
    let decimals = Swift.max(0, Int(-Foundation.floor(Foundation.log10(step) + 1e-9)))
    var ticks: [(Double, String)] = []
    var i = 0
    while true {
      let v = lo + Double(i) * step
      if v > hi + step * 1e-9 { break }
      ticks.append((v, linearLabel(v, decimals: decimals)))
      i += 1
    }
    return PlotAxis(lo: lo, hi: hi, log: false, from: from, to: to, ticks: ticks)
  }

  /// A log axis covering [min, max] (both > 0), widened to whole decades; ticks at the decades.
  static func logarithmic(min: Double, max: Double, from: Double, to: Double) -> PlotAxis {
    let a = min > 0 && min.isFinite ? min : 1
    let b = max > 0 && max.isFinite ? Swift.max(max, a) : a
    let e0 = Int(Foundation.floor(Foundation.log10(a) + 1e-9))
    var e1 = Int(Foundation.ceil(Foundation.log10(b) - 1e-9))
    if e1 <= e0 { e1 = e0 + 1 }
    let stride = e1 - e0 > 8 ? 2 : 1
    var ticks: [(Double, String)] = []
    var minor: [Double] = []
    for e in e0...e1 {
      let v = Foundation.pow(10, Double(e))
      if (e - e0) % stride == 0 { ticks.append((v, decadeLabel(e))) }
      if e < e1 && e1 - e0 <= 4 { minor += (2...9).map { Double($0) * v } }
    }
    return PlotAxis(
      lo: Foundation.pow(10, Double(e0)), hi: Foundation.pow(10, Double(e1)), log: true, from: from, to: to,
      ticks: ticks, minorTicks: minor)
  }

  static func linearLabel(_ v: Double, decimals: Int) -> String {
    let text = String(format: "%.\(decimals)f", v)
    return text.hasPrefix("-") && Double(text) == 0 ? String(text.dropFirst()) : text
  }

  static func decadeLabel(_ e: Int) -> String {
    switch e {
    case 0...4: String(Int(Foundation.pow(10, Double(e))))
    case -2...(-1): e == -1 ? "0.1" : "0.01"
    default: "1e\(e)"
    }
  }
}

// MARK: - Writing

/// Two decimals, never "-0.00".
func f(_ v: Double) -> String {
  let text = String(format: "%.2f", v)
  return text == "-0.00" ? "0.00" : text
}

func escapeXML(_ text: String) -> String {
  var out = ""
  // Control characters first (RecurIO's escaping function): XML 1.0 allows none of them, even escaped, and a title
  // that quotes a file name may hold any.
  for c in escaped(text, backslashes: false) {
    switch c {
    case "&": out += "&amp;"
    case "<": out += "&lt;"
    case ">": out += "&gt;"
    case "\"": out += "&quot;"
    default: out.append(c)
    }
  }
  return out
}

struct SVGWriter {
  private var lines: [String] = []
  private var depth = 1

  init(width: Double, height: Double) {
    lines.append("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
    lines.append(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(f(width))\" height=\"\(f(height))\" "
        + "viewBox=\"0 0 \(f(width)) \(f(height))\" font-family=\"Helvetica, Arial, sans-serif\" font-size=\"11\">")
    lines.append("  <rect x=\"0\" y=\"0\" width=\"\(f(width))\" height=\"\(f(height))\" fill=\"#ffffff\"/>")
  }

  mutating func element(_ text: String) {
    lines.append(String(repeating: "  ", count: depth) + text)
  }

  mutating func open(_ text: String) {
    element(text)
    depth += 1
  }

  mutating func close(_ text: String) {
    depth -= 1
    element(text)
  }

  mutating func text(
    _ s: String, x: Double, y: Double, size: Double = 11, anchor: String = "start", weight: String? = nil,
    rotate: Bool = false
  ) {
    var attributes = "x=\"\(f(x))\" y=\"\(f(y))\" font-size=\"\(f(size))\" text-anchor=\"\(anchor)\""
    if let weight { attributes += " font-weight=\"\(weight)\"" }
    if rotate { attributes += " transform=\"rotate(-90 \(f(x)) \(f(y)))\"" }
    element("<text \(attributes)>\(escapeXML(s))</text>")
  }

  mutating func clip(id: String, area: PlotArea) {
    element(
      "<clipPath id=\"\(id)\"><rect x=\"\(f(area.left))\" y=\"\(f(area.top))\" width=\"\(f(area.right - area.left))\" "
        + "height=\"\(f(area.bottom - area.top))\"/></clipPath>")
  }

  mutating func polyline(
    _ points: [(Double, Double)], colour: String, cssClass: String, clip: String, dashed: Bool = false
  ) {
    let list = points.map { "\(f($0.0)),\(f($0.1))" }.joined(separator: " ")
    element(
      "<polyline class=\"\(cssClass)\" points=\"\(list)\" fill=\"none\" stroke=\"\(colour)\" stroke-width=\"1.5\""
        + (dashed ? " stroke-dasharray=\"5 3\"" : "") + " clip-path=\"url(#\(clip))\"/>")
  }

  mutating func circle(_ x: Double, _ y: Double, colour: String, clip: String) {
    element(
      "<circle cx=\"\(f(x))\" cy=\"\(f(y))\" r=\"2.50\" fill=\"\(colour)\" clip-path=\"url(#\(clip))\"/>")
  }

  mutating func legendEntry(_ label: String, colour: String, x: Double, y: Double, dashed: Bool = false) {
    element(
      "<line x1=\"\(f(x))\" y1=\"\(f(y))\" x2=\"\(f(x + 24))\" y2=\"\(f(y))\" stroke=\"\(colour)\" stroke-width=\"1.5\""
        + (dashed ? " stroke-dasharray=\"5 3\"" : "") + "/>")
    element("<circle cx=\"\(f(x + 12))\" cy=\"\(f(y))\" r=\"2.50\" fill=\"\(colour)\"/>")
    text(label, x: x + 30, y: y + 4, size: 12)
  }

  /// Frame, grid lines, ticks with labels, and axis labels.
  mutating func axes(area: PlotArea, x: PlotAxis, y: PlotAxis, xLabel: String, yLabel: String) {
    element(
      "<rect x=\"\(f(area.left))\" y=\"\(f(area.top))\" width=\"\(f(area.right - area.left))\" "
        + "height=\"\(f(area.bottom - area.top))\" fill=\"none\" stroke=\"#333333\"/>")
    for (value, label) in x.ticks {
      guard let px = x.position(value) else { continue }
      element(
        "<line x1=\"\(f(px))\" y1=\"\(f(area.top))\" x2=\"\(f(px))\" y2=\"\(f(area.bottom))\" stroke=\"#e5e5e5\"/>")
      element(
        "<line x1=\"\(f(px))\" y1=\"\(f(area.bottom))\" x2=\"\(f(px))\" y2=\"\(f(area.bottom + 4))\" "
          + "stroke=\"#333333\"/>")
      text(label, x: px, y: area.bottom + 15, size: 10, anchor: "middle")
    }
    for (value, label) in y.ticks {
      guard let py = y.position(value) else { continue }
      element(
        "<line x1=\"\(f(area.left))\" y1=\"\(f(py))\" x2=\"\(f(area.right))\" y2=\"\(f(py))\" stroke=\"#e5e5e5\"/>")
      element(
        "<line x1=\"\(f(area.left - 4))\" y1=\"\(f(py))\" x2=\"\(f(area.left))\" y2=\"\(f(py))\" stroke=\"#333333\"/>")
      text(label, x: area.left - 6, y: py + 3.5, size: 10, anchor: "end")
    }
    for value in y.minorTicks {
      guard let py = y.position(value) else { continue }
      element(
        "<line x1=\"\(f(area.left - 2))\" y1=\"\(f(py))\" x2=\"\(f(area.left))\" y2=\"\(f(py))\" stroke=\"#333333\"/>")
    }
    text(xLabel, x: (area.left + area.right) / 2, y: area.bottom + 32, size: 11, anchor: "middle")
    text(yLabel, x: area.left - 44, y: (area.top + area.bottom) / 2, size: 11, anchor: "middle", rotate: true)
  }

  func finish() -> String {
    (lines + ["</svg>", ""]).joined(separator: "\n")
  }
}
