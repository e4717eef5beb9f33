import Foundation

/// How well predicted latencies match measured ones.
///
/// RMSE is in ms; MAPE and `within10` in percent. Spearman's ρ is Pearson's correlation of the
/// ranks, ties given their average rank (scipy's `spearmanr`); Kendall's τ is τ-b, which
/// corrects for ties on either side (scipy's `kendalltau` default).
public struct PredictionMetrics: Codable, Equatable, Sendable {
    public var count: Int
    public var rmse: Double
    public var mape: Double
    /// Share of rows whose prediction is within ±10 % of the measurement, in percent.
    public var within10: Double
    public var spearman: Double
    public var kendall: Double

    public init(predicted: [Double], measured: [Double]) {
        precondition(predicted.count == measured.count, "\(predicted.count) predictions for \(measured.count) measurements")
        precondition(!measured.isEmpty, "metrics need at least one row")
        let n = Double(measured.count)
        var squared = 0.0, relative = 0.0, inside = 0
        for (p, m) in zip(predicted, measured) {
            squared += (p - m) * (p - m)
            let r = abs(p - m) / m
            relative += r
            if r <= 0.1 { inside += 1 }
        }
        count = measured.count
        rmse = (squared / n).squareRoot()
        mape = 100 * relative / n
        within10 = 100 * Double(inside) / n
        spearman = spearmanCorrelation(predicted, measured)
        kendall = kendallTauB(predicted, measured)
    }

    /// One line: `RMSE 14.62 ms  MAPE 7.29 %  ±10 % 80.0 %  Spearman 0.9389  Kendall 0.7912  (200 rows)`.
    /// A rank correlation of fewer than two distinct rows is undefined and reads `n/a`.
    public var summary: String { summary(unit: "ms") }

    /// `summary` with the RMSE in `unit` (a memory predictor's: MB).
    public func summary(unit: String) -> String {
        func rank(_ v: Double) -> String { v.isFinite ? String(format: "%.4f", v) : "n/a" }
        return String(
            format: "RMSE %.3f \(unit)  MAPE %.2f %%  ±10%% %.1f %%  Spearman %@  Kendall %@  (%d rows)",
            rmse, mape, within10, rank(spearman), rank(kendall), count)
    }

    // JSON has no NaN: an undefined correlation (a one-row split, constant predictions) is
    // written as null and read back as NaN, so reports and pipeline records never fail on it.
    private enum CodingKeys: String, CodingKey { case count, rmse, mape, within10, spearman, kendall }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        count = try c.decode(Int.self, forKey: .count)
        func value(_ key: CodingKeys) throws -> Double { try c.decodeIfPresent(Double.self, forKey: key) ?? .nan }
        rmse = try value(.rmse)
        mape = try value(.mape)
        within10 = try value(.within10)
        spearman = try value(.spearman)
        kendall = try value(.kendall)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(count, forKey: .count)
        for (key, v) in [(CodingKeys.rmse, rmse), (.mape, mape), (.within10, within10), (.spearman, spearman), (.kendall, kendall)] {
            if v.isFinite { try c.encode(v, forKey: key) } else { try c.encodeNil(forKey: key) }
        }
    }

    public static func == (a: PredictionMetrics, b: PredictionMetrics) -> Bool {
        // NaN == NaN here: two undefined correlations describe the same result.
        func same(_ x: Double, _ y: Double) -> Bool { x == y || (x.isNaN && y.isNaN) }
        return a.count == b.count && same(a.rmse, b.rmse) && same(a.mape, b.mape) && same(a.within10, b.within10)
            && same(a.spearman, b.spearman) && same(a.kendall, b.kendall)
    }
}

/// Ranks 1...n, ties sharing their average rank.
public func averageRanks(_ x: [Double]) -> [Double] {
    let order = x.indices.sorted { x[$0] < x[$1] }
    var ranks = [Double](repeating: 0, count: x.count)
    var i = 0
    while i < order.count {
        var j = i
        while j + 1 < order.count && x[order[j + 1]] == x[order[i]] { j += 1 }
        let rank = Double(i + j) / 2 + 1
        for k in i...j { ranks[order[k]] = rank }
        i = j + 1
    }
    return ranks
}

/// Pearson's correlation coefficient (NaN when either side is constant).
public func pearsonCorrelation(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count)
    let n = Double(x.count)
    let mx = x.reduce(0, +) / n, my = y.reduce(0, +) / n
    var sxy = 0.0, sxx = 0.0, syy = 0.0
    for (a, b) in zip(x, y) {
        sxy += (a - mx) * (b - my)
        sxx += (a - mx) * (a - mx)
        syy += (b - my) * (b - my)
    }
    return sxy / (sxx * syy).squareRoot()
}

/// Spearman's rank correlation with average ranks for ties.
public func spearmanCorrelation(_ x: [Double], _ y: [Double]) -> Double {
    pearsonCorrelation(averageRanks(x), averageRanks(y))
}

/// Kendall's τ-b: (concordant − discordant) / √((n₀ − n₁)(n₀ − n₂)), n₁ and n₂ the pairs tied in
/// x and in y. O(n²), which is instant for latency datasets (thousands of rows).
public func kendallTauB(_ x: [Double], _ y: [Double]) -> Double {
    precondition(x.count == y.count)
    var concordant = 0, discordant = 0, tiedX = 0, tiedY = 0
    let n = x.count
    for i in 0..<n {
        for j in (i + 1)..<max(n, i + 1) {
            let dx = x[i] - x[j], dy = y[i] - y[j]
            if dx == 0 && dy == 0 {
                tiedX += 1
                tiedY += 1
            } else if dx == 0 {
                tiedX += 1
            } else if dy == 0 {
                tiedY += 1
            } else if (dx > 0) == (dy > 0) {
                concordant += 1
            } else {
                discordant += 1
            }
        }
    }
    let pairs = n * (n - 1) / 2
    let denominator = (Double(pairs - tiedX) * Double(pairs - tiedY)).squareRoot()
    return Double(concordant - discordant) / denominator
}
