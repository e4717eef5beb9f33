import Foundation

/// A BLEU result: the score and everything sacreBLEU prints and returns with it
/// (`BLEUScore` in sacrebleu/metrics/bleu.py).
public struct BLEUScore: Sendable, Equatable {
    /// BLEU, 0...100.
    public let score: Double
    /// Clipped n-gram matches per order (1-grams first).
    public let counts: [Int]
    /// Hypothesis n-grams per order.
    public let totals: [Int]
    /// N-gram precisions in percent, after smoothing.
    public let precisions: [Double]
    /// Brevity penalty.
    public let bp: Double
    /// Total hypothesis length in tokens (`hyp_len`).
    public let sysLen: Int
    /// Total effective reference length in tokens (`ref_len`).
    public let refLen: Int
    public let signature: MetricSignature

    /// `sys_len / ref_len`, or 0 with no reference tokens.
    public var ratio: Double { refLen > 0 ? Double(sysLen) / Double(refLen) : 0 }

    /// sacreBLEU's verbose part: `65.3/40.1/27.0/18.9 (BP = 0.981 ratio = 0.981 hyp_len = 1234 ref_len = 1258)`.
    public var verbose: String {
        let precisionText = precisions.map { String(format: "%.1f", $0) }.joined(separator: "/")
        return "\(precisionText) (BP = \(String(format: "%.3f", bp)) ratio = \(String(format: "%.3f", ratio)) "
            + "hyp_len = \(sysLen) ref_len = \(refLen))"
    }

    /// sacreBLEU's text line, `BLEU = 34.12 65.3/40.1/27.0/18.9 (BP = ...)`, with the score
    /// rounded to `width` decimals (sacreBLEU's `--width`, default 2).
    public func formatted(width: Int = 2, name: String = "BLEU") -> String {
        "\(name) = \(String(format: "%.\(width)f", score)) \(verbose)"
    }
}
