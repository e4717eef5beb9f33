import Foundation
import Latency

/// A self-contained SVG chart for the report: lines and point clouds on linear axes with
/// "nice" ticks, reference lines (a latency constraint), and a legend.
public struct XYChart {
    public struct Series {
        public enum Style { case line(width: Double), points(radius: Double, opacity: Double), stepLine }
        public var name: String
        public var color: String
        public var style: Style
        public var points: [(x: Double, y: Double)]
        /// Per point, an interval around y (mean ± sd over seeds, a confidence interval): a
        /// shaded band under a line, an error bar on a point. Empty: none.
        public var spread: [(low: Double, high: Double)] = []
        /// Per point, a short text written beside it (a scatter of named models). Empty: none.
        public var labels: [String] = []

        public init(_ name: String, color: String, style: Style, points: [(x: Double, y: Double)]) {
            self.name = name
            self.color = color
            self.style = style
            self.points = points.filter { $0.x.isFinite && $0.y.isFinite }
        }

        /// A series whose points carry an interval and/or a label (arrays as long as `points`,
        /// or empty); points with a non-finite coordinate are left out with their extras.
        public init(
            _ name: String, color: String, style: Style, points: [(x: Double, y: Double)], spread: [(low: Double, high: Double)],
            labels: [String] = []
        ) {
            precondition(spread.isEmpty || spread.count == points.count, "one interval per point")
            precondition(labels.isEmpty || labels.count == points.count, "one label per point")
            let kept = points.indices.filter {
                points[$0].x.isFinite && points[$0].y.isFinite && (spread.isEmpty || (spread[$0].low.isFinite && spread[$0].high.isFinite))
            }
            self.name = name
            self.color = color
            self.style = style
            self.points = kept.map { points[$0] }
            self.spread = spread.isEmpty ? [] : kept.map { spread[$0] }
            self.labels = labels.isEmpty ? [] : kept.map { labels[$0] }
        }
    }

    public struct ReferenceLine {
        public var label: String
        public var x: Double?
        public var y: Double?
        public var color: String
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series] = []
    public var references: [ReferenceLine] = []
    public var width = 860.0
    public var height = 420.0

    public init(title: String, xLabel: String, yLabel: String) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
    }

    /// A tick label with as many decimals as the tick spacing needs (0.02 apart → 2 decimals).
    static func label(_ v: Double, ticks: [Double]) -> String {
        guard ticks.count > 1 else { return ScatterPlot.label(v) }
        let step = abs(ticks[1] - ticks[0])
        let decimals = Swift.max(0, Int(-floor(log10(step) + 1e-9)))
        var text = String(format: "%.\(decimals)f", v)
        // A tick a rounding error below zero prints as "-0" (seen in the browser check).
        if text.hasPrefix("-"), Double(text) == 0 { text.removeFirst() }
        return text
    }

    static func range(_ values: [Double]) -> (Double, Double) {
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi <= lo {
            lo -= 0.5
            hi += 0.5
        }
        let pad = 0.04 * (hi - lo)
        return (lo - pad, hi + pad)
    }

    public var svg: String {
        let named = series.filter { !$0.name.isEmpty }
        let legendWidth = named.isEmpty ? 0 : 40 + 6.5 * Double(named.map(\.name.count).max() ?? 0)
        let left = 78.0, right = 20.0 + legendWidth, top = 44.0, bottom = 56.0
        let pw = width - left - right, ph = height - top - bottom
        let xs = series.flatMap { $0.points.map(\.x) } + references.compactMap(\.x)
        let ys = series.flatMap { $0.points.map(\.y) + $0.spread.flatMap { [$0.low, $0.high] } } + references.compactMap(\.y)
        let (x0, x1) = Self.range(xs), (y0, y1) = Self.range(ys)
        func X(_ v: Double) -> Double { left + (v - x0) / (x1 - x0) * pw }
        func Y(_ v: Double) -> Double { top + ph - (v - y0) / (y1 - y0) * ph }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        let esc = ScatterPlot.escape
        // A stable id (FNV-1a of the title): Swift's hashValue is seeded per process, and the
        // same inputs must give the same report.html byte for byte.
        let clip = "c" + String(title.utf8.reduce(UInt64(0xcbf2_9ce4_8422_2325)) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 } % 1_000_000_007)
        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <defs><clipPath id="\(clip)"><rect x="\(f(left))" y="\(f(top))" width="\(f(pw))" height="\(f(ph))"/></clipPath></defs>
            <text x="\(f(width / 2))" y="24" text-anchor="middle" font-size="15" font-weight="bold">\(esc(title))</text>

            """
        let xTicks = ScatterPlot.ticks(x0, x1), yTicks = ScatterPlot.ticks(y0, y1)
        for t in xTicks {
            s += "<line x1=\"\(f(X(t)))\" y1=\"\(f(top))\" x2=\"\(f(X(t)))\" y2=\"\(f(top + ph))\" stroke=\"#eeeeee\"/>"
            s += "<text x=\"\(f(X(t)))\" y=\"\(f(top + ph + 18))\" text-anchor=\"middle\" font-size=\"11\">\(Self.label(t, ticks: xTicks))</text>\n"
        }
        for t in yTicks {
            s += "<line x1=\"\(f(left))\" y1=\"\(f(Y(t)))\" x2=\"\(f(left + pw))\" y2=\"\(f(Y(t)))\" stroke=\"#eeeeee\"/>"
            s += "<text x=\"\(f(left - 8))\" y=\"\(f(Y(t) + 4))\" text-anchor=\"end\" font-size=\"11\">\(Self.label(t, ticks: yTicks))</text>\n"
        }
        s += "<g clip-path=\"url(#\(clip))\">\n"
        for r in references {
            if let x = r.x {
                s +=
                    "<line x1=\"\(f(X(x)))\" y1=\"\(f(top))\" x2=\"\(f(X(x)))\" y2=\"\(f(top + ph))\" stroke=\"\(r.color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
                // The label goes right of the line, or left of it when it would run out of the frame.
                let fitsRight = X(x) + 4 + 6.2 * Double(r.label.count) <= left + pw
                s +=
                    "<text x=\"\(f(fitsRight ? X(x) + 4 : X(x) - 4))\" y=\"\(f(top + 14))\" text-anchor=\"\(fitsRight ? "start" : "end")\" "
                    + "font-size=\"11\" fill=\"\(r.color)\">\(esc(r.label))</text>\n"
            }
            if let y = r.y {
                s +=
                    "<line x1=\"\(f(left))\" y1=\"\(f(Y(y)))\" x2=\"\(f(left + pw))\" y2=\"\(f(Y(y)))\" stroke=\"\(r.color)\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
                s += "<text x=\"\(f(left + pw - 4))\" y=\"\(f(Y(y) - 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"\(r.color)\">\(esc(r.label))</text>\n"
            }
        }
        for series in self.series where !series.spread.isEmpty {
            switch series.style {
            case .line, .stepLine:
                // The band: along the upper edge, back along the lower one.
                let upper = zip(series.points, series.spread).map { "\(f(X($0.x))),\(f(Y($1.high)))" }
                let lower = zip(series.points, series.spread).reversed().map { "\(f(X($0.x))),\(f(Y($1.low)))" }
                s += "<polygon points=\"\((upper + lower).joined(separator: " "))\" fill=\"\(series.color)\" fill-opacity=\"0.18\" stroke=\"none\"/>\n"
            case .points:
                for (p, e) in zip(series.points, series.spread) {
                    s +=
                        "<line x1=\"\(f(X(p.x)))\" y1=\"\(f(Y(e.low)))\" x2=\"\(f(X(p.x)))\" y2=\"\(f(Y(e.high)))\" stroke=\"\(series.color)\" stroke-width=\"1.5\"/>"
                }
                s += "\n"
            }
        }
        for series in self.series {
            switch series.style {
            case .line(let w):
                let path = series.points.map { "\(f(X($0.x))),\(f(Y($0.y)))" }.joined(separator: " ")
                s += "<polyline points=\"\(path)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"\(w)\"/>\n"
            case .stepLine:
                var d = ""
                for (i, p) in series.points.enumerated() {
                    d += i == 0 ? "M\(f(X(p.x))),\(f(Y(p.y)))" : " H\(f(X(p.x))) V\(f(Y(p.y)))"
                }
                s += "<path d=\"\(d)\" fill=\"none\" stroke=\"\(series.color)\" stroke-width=\"2\"/>\n"
                for p in series.points { s += "<circle cx=\"\(f(X(p.x)))\" cy=\"\(f(Y(p.y)))\" r=\"3.5\" fill=\"\(series.color)\"/>" }
                s += "\n"
            case .points(let r, let opacity):
                for p in series.points {
                    s += "<circle cx=\"\(f(X(p.x)))\" cy=\"\(f(Y(p.y)))\" r=\"\(r)\" fill=\"\(series.color)\" fill-opacity=\"\(opacity)\"/>"
                }
                s += "\n"
            }
        }
        for series in self.series {
            for (p, text) in zip(series.points, series.labels) where !text.isEmpty {
                // Beside the point, on its left near the frame's right edge and below it near the
                // top, so that the plot area does not clip it.
                let x = X(p.x), y = Y(p.y), leftOfPoint = x > left + 0.75 * pw
                s += "<text x=\"\(f(leftOfPoint ? x - 6 : x + 6))\" y=\"\(f(y - 5 < top + 10 ? y + 14 : y - 5))\" font-size=\"10\" fill=\"#333333\""
                s += (leftOfPoint ? " text-anchor=\"end\"" : "") + ">\(esc(text))</text>"
            }
        }
        s += "</g>\n<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(pw))\" height=\"\(f(ph))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + pw / 2))\" y=\"\(f(height - 14))\" text-anchor=\"middle\" font-size=\"13\">\(esc(xLabel))</text>\n"
        s += "<text transform=\"translate(18,\(f(top + ph / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">\(esc(yLabel))</text>\n"
        // Legend, right of the frame (never over the data).
        if !named.isEmpty {
            let lw = legendWidth - 8, lx = left + pw + 10, ly = top
            s +=
                "<rect x=\"\(f(lx))\" y=\"\(f(ly))\" width=\"\(f(lw))\" height=\"\(f(Double(named.count) * 18 + 8))\" fill=\"white\" fill-opacity=\"0.9\" stroke=\"#bbbbbb\"/>\n"
            for (i, sr) in named.enumerated() {
                let yy = ly + 16 + Double(i) * 18
                s += "<rect x=\"\(f(lx + 8))\" y=\"\(f(yy - 8))\" width=\"16\" height=\"8\" fill=\"\(sr.color)\"/>"
                s += "<text x=\"\(f(lx + 30))\" y=\"\(f(yy))\" font-size=\"11\">\(esc(sr.name))</text>\n"
            }
        }
        s += "</svg>\n"
        return s
    }
}
