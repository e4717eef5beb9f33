import Datasets
import Foundation

/// A self-contained SVG scatter plot of predicted against measured latency: square axes with
/// ticks and labels, the y = x line, the ±10 % band, and a title with the metrics.
public struct ScatterPlot {
    public var title: String
    public var measured: [Double]
    public var predicted: [Double]
    public var metrics: PredictionMetrics?
    /// What the axes show: latency (ms) or peak memory (MB).
    public var target: PredictorTarget

    public init(title: String, measured: [Double], predicted: [Double], metrics: PredictionMetrics? = nil, target: PredictorTarget = .latency) {
        precondition(measured.count == predicted.count, "\(measured.count) measurements, \(predicted.count) predictions")
        self.title = title
        self.measured = measured
        self.predicted = predicted
        self.metrics = metrics
        self.target = target
    }

    public func write(to path: String) throws { try AtomicFile.write(Data(svg.utf8), to: path) }

    /// "Nice" tick positions (1, 2 or 5 × 10^k apart) covering lo...hi.
    public static func ticks(_ lo: Double, _ hi: Double, target: Int = 6) -> [Double] {
        let raw = (hi - lo) / Double(target)
        let magnitude = pow(10, floor(log10(raw)))
        let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
        var out: [Double] = []
        var t = ceil(lo / step) * step
        while t <= hi + step * 1e-9 {
            out.append(t)
            t += step
        }
        return out
    }

    public static func label(_ v: Double) -> String {
        if v == v.rounded() && abs(v) < 1e9 { return String(Int(v)) }
        return String(format: abs(v) < 1 ? "%.3g" : "%.1f", v)
    }

    public static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }

    public var svg: String {
        let width = 640.0, height = 660.0
        let left = 90.0, right = 30.0, top = 96.0, bottom = 70.0
        let plot = min(width - left - right, height - top - bottom)
        let values = (measured + predicted).filter(\.isFinite)
        var lo = values.min() ?? 0, hi = values.max() ?? 1
        if hi <= lo { hi = lo + 1 }
        let pad = 0.04 * (hi - lo)
        lo = max(0, lo - pad)
        hi += pad
        func x(_ v: Double) -> Double { left + (v - lo) / (hi - lo) * plot }
        func y(_ v: Double) -> Double { top + plot - (v - lo) / (hi - lo) * plot }
        func f(_ v: Double) -> String { String(format: "%.2f", v) }

        var s = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" viewBox="0 0 \(Int(width)) \(Int(height))" font-family="Helvetica, Arial, sans-serif">
            <rect width="100%" height="100%" fill="white"/>
            <defs><clipPath id="plot"><rect x="\(f(left))" y="\(f(top))" width="\(f(plot))" height="\(f(plot))"/></clipPath></defs>
            <text x="\(f(width / 2))" y="28" text-anchor="middle" font-size="17" font-weight="bold">\(Self.escape(title))</text>

            """
        if let m = metrics {
            let line1 = String(format: "RMSE %.3g \(target.unit)   MAPE %.2f %%   within ±10 %%: %.1f %%", m.rmse, m.mape, m.within10)
            let line2 = String(format: "Spearman %.4f   Kendall τ-b %.4f   (%d SubTransformers)", m.spearman, m.kendall, m.count)
            s += "<text x=\"\(f(width / 2))\" y=\"52\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(line1))</text>\n"
            s += "<text x=\"\(f(width / 2))\" y=\"70\" text-anchor=\"middle\" font-size=\"13\">\(Self.escape(line2))</text>\n"
        }
        // Grid and ticks.
        for t in Self.ticks(lo, hi) {
            s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(top))\" x2=\"\(f(x(t)))\" y2=\"\(f(top + plot))\" stroke=\"#e6e6e6\"/>\n"
            s += "<line x1=\"\(f(left))\" y1=\"\(f(y(t)))\" x2=\"\(f(left + plot))\" y2=\"\(f(y(t)))\" stroke=\"#e6e6e6\"/>\n"
            s += "<line x1=\"\(f(x(t)))\" y1=\"\(f(top + plot))\" x2=\"\(f(x(t)))\" y2=\"\(f(top + plot + 6))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(x(t)))\" y=\"\(f(top + plot + 22))\" text-anchor=\"middle\" font-size=\"12\">\(Self.label(t))</text>\n"
            s += "<line x1=\"\(f(left - 6))\" y1=\"\(f(y(t)))\" x2=\"\(f(left))\" y2=\"\(f(y(t)))\" stroke=\"black\"/>\n"
            s += "<text x=\"\(f(left - 10))\" y=\"\(f(y(t) + 4))\" text-anchor=\"end\" font-size=\"12\">\(Self.label(t))</text>\n"
        }
        // ±10 % band and y = x, clipped to the plot area.
        s += "<g clip-path=\"url(#plot)\">\n"
        s +=
            "<polygon points=\"\(f(x(lo))),\(f(y(0.9 * lo))) \(f(x(hi))),\(f(y(0.9 * hi))) \(f(x(hi))),\(f(y(1.1 * hi))) \(f(x(lo))),\(f(y(1.1 * lo)))\" fill=\"#2ca02c\" fill-opacity=\"0.13\"/>\n"
        s +=
            "<line x1=\"\(f(x(lo)))\" y1=\"\(f(y(lo)))\" x2=\"\(f(x(hi)))\" y2=\"\(f(y(hi)))\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
        for (m, p) in zip(measured, predicted) where m.isFinite && p.isFinite {
            s += "<circle cx=\"\(f(x(m)))\" cy=\"\(f(y(p)))\" r=\"2.6\" fill=\"#1f77b4\" fill-opacity=\"0.55\"/>\n"
        }
        s += "</g>\n"
        // Frame, axis labels, legend.
        s += "<rect x=\"\(f(left))\" y=\"\(f(top))\" width=\"\(f(plot))\" height=\"\(f(plot))\" fill=\"none\" stroke=\"black\"/>\n"
        s += "<text x=\"\(f(left + plot / 2))\" y=\"\(f(top + plot + 50))\" text-anchor=\"middle\" font-size=\"14\">measured \(target.quantity)</text>\n"
        s +=
            "<text transform=\"translate(\(f(left - 62)),\(f(top + plot / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"14\">predicted \(target.quantity)</text>\n"
        let lx = left + 14, ly = top + 18
        s += "<rect x=\"\(f(lx - 6))\" y=\"\(f(ly - 14))\" width=\"120\" height=\"46\" fill=\"white\" fill-opacity=\"0.85\" stroke=\"#bbbbbb\"/>\n"
        s +=
            "<line x1=\"\(f(lx))\" y1=\"\(f(ly - 4))\" x2=\"\(f(lx + 24))\" y2=\"\(f(ly - 4))\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n"
        s += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly))\" font-size=\"12\">y = x</text>\n"
        s += "<rect x=\"\(f(lx))\" y=\"\(f(ly + 8))\" width=\"24\" height=\"10\" fill=\"#2ca02c\" fill-opacity=\"0.25\"/>\n"
        s += "<text x=\"\(f(lx + 32))\" y=\"\(f(ly + 18))\" font-size=\"12\">±10 % band</text>\n"
        s += "</svg>\n"
        return s
    }
}
