import Foundation

/// Small dense least-squares solvers in Double for the linear predictors: ridge regression
/// through the normal equations (Cholesky), and Lawson–Hanson non-negative least squares.
/// Designs have a few thousand rows and at most a few dozen columns.
enum LeastSquares {
    /// Solves the symmetric positive-definite system `a x = b` (`a` n×n row-major) by Cholesky;
    /// nil when `a` is not positive definite.
    static func choleskySolve(_ a: [Double], _ b: [Double], n: Int) -> [Double]? {
        var l = [Double](repeating: 0, count: n * n)
        for i in 0..<n {
            for j in 0...i {
                var s = a[i * n + j]
                for k in 0..<j { s -= l[i * n + k] * l[j * n + k] }
                if i == j {
                    guard s > 0 else { return nil }
                    l[i * n + i] = s.squareRoot()
                } else {
                    l[i * n + j] = s / l[j * n + j]
                }
            }
        }
        var y = b
        for i in 0..<n {
            for k in 0..<i { y[i] -= l[i * n + k] * y[k] }
            y[i] /= l[i * n + i]
        }
        for i in stride(from: n - 1, through: 0, by: -1) {
            for k in (i + 1)..<max(n, i + 1) { y[i] -= l[k * n + i] * y[k] }
            y[i] /= l[i * n + i]
        }
        return y
    }

    /// Gram matrix XᵀWX and XᵀWy of the columns `columns` of the row-major design `x` (rows × p).
    static func normalEquations(_ x: [[Double]], _ y: [Double], columns: [Int], weights: [Double]? = nil) -> ([Double], [Double]) {
        let m = columns.count
        var g = [Double](repeating: 0, count: m * m), r = [Double](repeating: 0, count: m)
        for (i, row) in x.enumerated() {
            let w = weights?[i] ?? 1
            for a in 0..<m {
                let va = row[columns[a]] * w
                r[a] += va * y[i]
                for b in 0...a { g[a * m + b] += va * row[columns[b]] }
            }
        }
        for a in 0..<m { for b in 0..<a { g[b * m + a] = g[a * m + b] } }
        return (g, r)
    }

    /// Ridge regression: minimises Σ w_i(y_i − x_i·β)² + penalty·Σ_{j penalised} β_j². Column 0 of `x`
    /// should be the intercept (1s) and is left unpenalised when `penaliseFirst` is false.
    static func ridge(_ x: [[Double]], _ y: [Double], penalty: Double, weights: [Double]? = nil, penaliseFirst: Bool = false) -> [Double] {
        let p = x.first?.count ?? 0
        var (g, r) = normalEquations(x, y, columns: Array(0..<p), weights: weights)
        for j in 0..<p where j > 0 || penaliseFirst { g[j * p + j] += penalty }
        // A tiny jitter keeps exactly collinear designs (penalty 0) solvable.
        if let beta = choleskySolve(g, r, n: p) { return beta }
        for j in 0..<p { g[j * p + j] += 1e-9 * max(1, g[j * p + j]) }
        return choleskySolve(g, r, n: p) ?? [Double](repeating: 0, count: p)
    }

    /// Non-negative least squares (Lawson & Hanson 1974): minimises Σ w_i(y_i − x_i·β)² subject to
    /// β_j ≥ 0 for every column j not in `free` (a free coefficient is split into a positive
    /// and a negative part internally).
    static func nnls(_ x: [[Double]], _ y: [Double], free: Set<Int> = [], weights: [Double]? = nil) -> [Double] {
        let p = x.first?.count ?? 0
        // Free columns become two non-negative ones, +x_j and −x_j.
        let freeColumns = free.sorted()
        let design: [[Double]] = x.map { row in row + freeColumns.map { -row[$0] } }
        let q = p + freeColumns.count
        let (gram, xty) = normalEquations(design, y, columns: Array(0..<q), weights: weights)
        var beta = [Double](repeating: 0, count: q)
        var passive = Set<Int>()
        let tolerance = 1e-10 * max(1, xty.map(abs).max() ?? 1)

        func gradient(_ b: [Double]) -> [Double] {  // Xᵀ(y − Xb) = Xᵀy − G b
            (0..<q).map { i in xty[i] - (0..<q).reduce(0) { $0 + gram[i * q + $1] * b[$1] } }
        }
        func solvePassive(_ set: [Int]) -> [Double] {
            let m = set.count
            var g = [Double](repeating: 0, count: m * m), r = [Double](repeating: 0, count: m)
            for a in 0..<m {
                r[a] = xty[set[a]]
                for b in 0..<m { g[a * m + b] = gram[set[a] * q + set[b]] }
            }
            if let s = choleskySolve(g, r, n: m) { return s }
            for a in 0..<m { g[a * m + a] += 1e-10 * max(1, g[a * m + a]) }
            return choleskySolve(g, r, n: m) ?? [Double](repeating: 0, count: m)
        }

        for _ in 0..<(3 * q + 30) {
            let w = gradient(beta)
            guard let j = (0..<q).filter({ !passive.contains($0) && w[$0] > tolerance }).max(by: { w[$0] < w[$1] }) else { break }
            passive.insert(j)
            while true {
                let set = passive.sorted()
                let s = solvePassive(set)
                if s.allSatisfy({ $0 > 0 }) {
                    for (k, i) in set.enumerated() { beta[i] = s[k] }
                    break
                }
                // Step from beta towards s until a coefficient hits zero; drop those.
                var alpha = 1.0
                for (k, i) in set.enumerated() where s[k] <= 0 {
                    alpha = min(alpha, beta[i] / (beta[i] - s[k]))
                }
                for (k, i) in set.enumerated() { beta[i] += alpha * (s[k] - beta[i]) }
                for i in set where beta[i] <= 1e-14 {
                    beta[i] = 0
                    passive.remove(i)
                }
                if passive.isEmpty { break }
            }
        }
        var out = Array(beta[0..<p])
        for (k, j) in freeColumns.enumerated() { out[j] -= beta[p + k] }
        return out
    }
}
