import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Latency

/// Whether the oracle Python has scipy (scripts/setup.sh installs it).
let scipyAvailable: Bool = {
    guard FileManager.default.isExecutableFile(atPath: Oracle.python) else { return false }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Oracle.python)
    p.arguments = ["-c", "import scipy"]
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return false }
    p.waitUntilExit()
    return p.terminationStatus == 0
}()

@Suite("Metrics: RMSE, MAPE, ±10 %, Spearman, Kendall τ-b")
struct MetricsTests {
    @Test func handComputedCases() {
        // Perfect order, no ties.
        #expect(spearmanCorrelation([1, 2, 3, 4], [10, 20, 30, 40]) == 1)
        #expect(kendallTauB([1, 2, 3, 4], [40, 30, 20, 10]) == -1)
        // Ranks with ties: [1, 2.5, 2.5, 4].
        #expect(averageRanks([3, 7, 7, 9]) == [1, 2.5, 2.5, 4])
        // x = [1,2,3,4,5], y = [2,1,4,3,5]: d² = 1+1+1+1+0 = 4, ρ = 1 − 6·4/(5·24) = 0.8;
        // 10 pairs, 2 discordant ((1,2), (3,4)): τ = (8 − 2)/10 = 0.6.
        #expect(abs(spearmanCorrelation([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.8) < 1e-12)
        #expect(abs(kendallTauB([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) - 0.6) < 1e-12)
        // Ties on both sides, τ-b: x = [1,1,2,3], y = [1,2,2,3]: 6 pairs, one tied in x (rows 1,2),
        // one tied in y (rows 2,3), the other 4 concordant: τ-b = 4/√(5·5) = 0.8.
        #expect(abs(kendallTauB([1, 1, 2, 3], [1, 2, 2, 3]) - 0.8) < 1e-12)
        // ranks x: [1.5,1.5,3,4], y: [1,2.5,2.5,4] → Pearson of the ranks.
        let rx = [1.5, 1.5, 3, 4], ry = [1, 2.5, 2.5, 4.0]
        #expect(abs(spearmanCorrelation([1, 1, 2, 3], [1, 2, 2, 3]) - pearsonCorrelation(rx, ry)) < 1e-12)

        let m = PredictionMetrics(predicted: [110, 95, 300, 80], measured: [100, 100, 200, 100])
        #expect(abs(m.rmse - ((100 + 25 + 10000 + 400) / 4.0).squareRoot()) < 1e-12)
        #expect(abs(m.mape - 100 * (0.1 + 0.05 + 0.5 + 0.2) / 4) < 1e-12)
        #expect(m.within10 == 50)  // 110 (exactly 10 %) and 95 count
    }

    @Test("a one-row split has no rank correlation: JSON null, read back as NaN, printed n/a")
    func undefinedCorrelationsSurviveJSON() throws {
        let m = PredictionMetrics(predicted: [12], measured: [10])
        #expect(m.spearman.isNaN && m.kendall.isNaN)
        let json = String(decoding: try JSONEncoder().encode(m), as: UTF8.self)
        #expect(json.contains("\"spearman\":null") && json.contains("\"kendall\":null"), "\(json)")
        let back = try JSONDecoder().decode(PredictionMetrics.self, from: Data(json.utf8))
        #expect(back == m && back.rmse == 2 && back.count == 1)
        #expect(m.summary.contains("Spearman n/a"))
    }

    @Test(.enabled(if: scipyAvailable, "scipy is not installed in the oracle Python (scripts/setup.sh)"))
    func spearmanAndKendallMatchScipy() throws {
        var rng = RandomGenerator(seed: 7)
        let dir = try Oracle.temporaryDirectory()
        var cases: [(x: [Double], y: [Double])] = []
        for k in 0..<6 {
            let n = [5, 17, 200, 1000, 50, 300][k]
            // Coarse values make many ties (as rounded latencies and repeated features do).
            let levels = k % 2 == 0 ? 7 : 1_000_000
            let x = (0..<n).map { _ in Double(rng.nextInt(levels)) }
            let y = x.map { $0 + Double(rng.nextInt(levels)) * 0.7 }.map { k == 4 ? ($0 * 10).rounded() / 10 : $0 }
            cases.append((x, y))
        }
        cases.append(([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]))
        var paths: [String] = []
        for (i, c) in cases.enumerated() {
            let path = dir.appendingPathComponent("case\(i).json").path
            try JSONSerialization.data(withJSONObject: ["x": c.x, "y": c.y]).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let lines = try Oracle.run("rank_oracle.py", paths).split(separator: "\n")
        #expect(lines.count == cases.count)
        for (c, line) in zip(cases, lines) {
            let ref = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Double])
            #expect(abs(spearmanCorrelation(c.x, c.y) - ref["spearman"]!) < 1e-12)
            #expect(abs(kendallTauB(c.x, c.y) - ref["kendall"]!) < 1e-12)
        }
    }

    @Test func nnlsMatchesBruteForceOverActiveSets() {
        var rng = RandomGenerator(seed: 3)
        for trial in 0..<20 {
            let n = 12, p = 4
            let x = (0..<n).map { _ in [1.0] + (0..<(p - 1)).map { _ in Double(rng.normal()) } }
            let y = x.map { row in 0.5 + row[1] * 2 - row[2] * 1.5 + Double(rng.normal()) * 0.3 }
            let beta = LeastSquares.nnls(x, y, free: [0])
            func sse(_ b: [Double]) -> Double {
                zip(x, y).reduce(0) { s, r in
                    let e = r.1 - zip(r.0, b).reduce(0) { $0 + $1.0 * $1.1 }
                    return s + e * e
                }
            }
            // Brute force: least squares on every subset of the constrained columns, keep feasible.
            var best = Double.infinity
            for mask in 0..<(1 << (p - 1)) {
                let cols = [0] + (1..<p).filter { mask & (1 << ($0 - 1)) != 0 }
                let sub = x.map { row in cols.map { row[$0] } }
                let b = LeastSquares.ridge(sub, y, penalty: 0)
                if b.dropFirst().allSatisfy({ $0 >= 0 }) {
                    var full = [Double](repeating: 0, count: p)
                    for (k, c) in cols.enumerated() { full[c] = b[k] }
                    best = min(best, sse(full))
                }
            }
            #expect(beta.dropFirst().allSatisfy { $0 >= 0 }, "trial \(trial)")
            #expect(abs(sse(beta) - best) < 1e-8 * max(1, best), "trial \(trial)")
        }
    }
}
