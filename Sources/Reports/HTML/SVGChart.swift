import Foundation

/// SVG written directly: a chart's frame (size, margins, scales, axes with labelled ticks) and
/// the few elements the report draws. Every value is escaped; nothing refers outside the file.
struct SVGChart {
    static let width = 720.0
    var height: Double
    var left = 64.0, right = 24.0, top = 16.0, bottom = 44.0
    var x: Scale
    var y: Scale
    private(set) var body: [String] = []

    init(height: Double, x: ClosedRange<Double>, y: ClosedRange<Double>, xLog: Bool = false) {
        self.height = height
        self.x = Scale(domain: x, from: left, to: Self.width - right, log: xLog)
        self.y = Scale(domain: y, from: height - bottom, to: top, log: false)
    }

    mutating func add(_ element: String) { body.append(element) }

    /// Axes, grid lines and tick labels; `xLabel`/`yLabel` name the units.
    /// - Parameter yTicks: false for charts whose rows are categories (no y scale to read).
    mutating func axes(
        xLabel: String, yLabel: String, yTicks: Bool = true, xFormat: (Double) -> String = SVGChart.number,
        yFormat: (Double) -> String = SVGChart.number
    ) {
        let (x0, x1) = (x.from, x.to)
        let (yBottom, yTop) = (y.from, y.to)
        var out = "<g class=\"axes\">"
        for tick in yTicks ? y.ticks() : [] {
            let py = y(tick)
            out +=
                "<line class=\"grid\" x1=\"\(Self.n(x0))\" y1=\"\(Self.n(py))\" x2=\"\(Self.n(x1))\" y2=\"\(Self.n(py))\"/>"
            out +=
                "<text class=\"tick\" x=\"\(Self.n(x0 - 6))\" y=\"\(Self.n(py + 4))\" text-anchor=\"end\">\(Self.escape(yFormat(tick)))</text>"
        }
        for tick in x.ticks() {
            let px = x(tick)
            out +=
                "<line class=\"grid\" x1=\"\(Self.n(px))\" y1=\"\(Self.n(yTop))\" x2=\"\(Self.n(px))\" y2=\"\(Self.n(yBottom))\"/>"
            out +=
                "<text class=\"tick\" x=\"\(Self.n(px))\" y=\"\(Self.n(yBottom + 16))\" text-anchor=\"middle\">\(Self.escape(xFormat(tick)))</text>"
        }
        out +=
            "<line class=\"axis\" x1=\"\(Self.n(x0))\" y1=\"\(Self.n(yBottom))\" x2=\"\(Self.n(x1))\" y2=\"\(Self.n(yBottom))\"/>"
        if yTicks {
            out +=
                "<line class=\"axis\" x1=\"\(Self.n(x0))\" y1=\"\(Self.n(yTop))\" x2=\"\(Self.n(x0))\" y2=\"\(Self.n(yBottom))\"/>"
        }
        out +=
            "<text class=\"label\" x=\"\(Self.n((x0 + x1) / 2))\" y=\"\(Self.n(yBottom + 36))\" text-anchor=\"middle\">\(Self.escape(xLabel))</text>"
        out +=
            "<text class=\"label\" transform=\"translate(14 \(Self.n((yTop + yBottom) / 2))) rotate(-90)\" text-anchor=\"middle\">\(Self.escape(yLabel))</text>"
        body.insert(out + "</g>", at: 0)
    }

    func render(id: String, title: String) -> String {
        "<svg id=\"\(id)\" class=\"chart\" viewBox=\"0 0 \(Self.n(Self.width)) \(Self.n(height))\" width=\"\(Self.n(Self.width))\" height=\"\(Self.n(height))\" role=\"img\" aria-label=\"\(Self.escape(title))\"><title>\(Self.escape(title))</title>"
            + body.joined() + "</svg>"
    }

    // MARK: helpers

    /// A coordinate with one decimal.
    static func n(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let rounded = (value * 10).rounded() / 10
        return rounded == rounded.rounded() ? String(Int(rounded)) : String(format: "%.1f", rounded)
    }

    static func number(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String(format: "%g", value)
    }

    /// Text for SVG and HTML: the JUnit writer's XML escaping (which also drops characters XML
    /// forbids).
    static func escape(_ text: String) -> String { JUnitRenderer.xml(text) }

    /// Okabe–Ito colours: told apart with every common colour-vision deficiency, and in print.
    static let palette = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
}

/// A linear or logarithmic map from data to pixels, with ticks people read easily.
struct Scale {
    var domain: ClosedRange<Double>
    /// Pixels of the domain's lower and upper end (a y axis runs upwards: `from` > `to`).
    var from: Double
    var to: Double
    var log: Bool

    init(domain: ClosedRange<Double>, from: Double, to: Double, log: Bool) {
        var lo = domain.lowerBound
        var hi = domain.upperBound
        if log {
            lo = max(lo, 0.001)
            hi = max(hi, lo * 10)
        }
        if hi <= lo { hi = lo + 1 }
        self.domain = lo...hi
        self.from = from
        self.to = to
        self.log = log
    }

    func callAsFunction(_ value: Double) -> Double {
        let (lo, hi) = (domain.lowerBound, domain.upperBound)
        let f =
            log
            ? (Foundation.log10(max(value, lo)) - Foundation.log10(lo)) / (Foundation.log10(hi) - Foundation.log10(lo))
            : (value - lo) / (hi - lo)
        return from + f * (to - from)
    }

    /// About six ticks: multiples of 1, 2 or 5 × 10ᵏ (log: 1, 2, 5 per decade).
    func ticks(count: Int = 6) -> [Double] {
        let (lo, hi) = (domain.lowerBound, domain.upperBound)
        if log {
            var ticks: [Double] = []
            var decade = pow(10, floor(log10(lo)))
            while decade <= hi * 1.0001 {
                for m in [1.0, 2, 5] where decade * m >= lo * 0.9999 && decade * m <= hi * 1.0001 {
                    ticks.append(decade * m)
                }
                decade *= 10
            }
            return ticks
        }
        let raw = (hi - lo) / Double(count)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var ticks: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 {
            ticks.append(abs(t) < step * 1e-9 ? 0 : t)
            t += step
        }
        return ticks
    }

    /// A domain's upper end rounded up to a tick.
    static func niceMax(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        return ([1.0, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10].map { $0 * magnitude }.first { $0 >= value }) ?? value
    }
}
