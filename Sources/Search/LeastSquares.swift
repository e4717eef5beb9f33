/// Ordinary least squares for the small systems of the built-in latency model.
///
/// Columns are scaled to unit RMS before solving the normal equations (the regressors span
/// 1 to 10¹⁰), and a column that is constant in the data (HAT's WMT CSVs always have 6 encoder
/// layers) is left out: it cannot be told apart from the intercept, so its weight is 0.
enum LeastSquares {
    static func solve(rows: [[Double]], targets: [Double]) -> [Double] {
        let n = rows[0].count
        // Column 0 is the intercept; others are kept only if they vary.
        var kept: [Int] = [0]
        var scale = [Double](repeating: 1, count: n)
        for j in 1..<n {
            let column = rows.map { $0[j] }
            let mean = column.reduce(0, +) / Double(column.count)
            let spread = column.map { abs($0 - mean) }.max() ?? 0
            let rms = (column.map { $0 * $0 }.reduce(0, +) / Double(column.count)).squareRoot()
            if rms > 0 && spread > 1e-9 * rms {
                kept.append(j)
                scale[j] = rms
            }
        }
        let m = kept.count
        var a = [[Double]](repeating: [Double](repeating: 0, count: m), count: m)
        var rhs = [Double](repeating: 0, count: m)
        for (row, y) in zip(rows, targets) {
            let x = kept.map { row[$0] / scale[$0] }
            for i in 0..<m {
                rhs[i] += x[i] * y
                for j in 0..<m { a[i][j] += x[i] * x[j] }
            }
        }
        // A tiny ridge keeps nearly collinear columns solvable without changing a good fit.
        let trace = (0..<m).map { a[$0][$0] }.reduce(0, +)
        for i in 1..<m { a[i][i] += 1e-10 * trace }
        let solution = gaussianElimination(a, rhs)
        var w = [Double](repeating: 0, count: n)
        for (k, j) in kept.enumerated() { w[j] = solution[k] / scale[j] }
        return w
    }

    /// Solves a·x = b with partial pivoting (a is small and symmetric positive semi-definite).
    static func gaussianElimination(_ a: [[Double]], _ b: [Double]) -> [Double] {
        var a = a, b = b
        let n = b.count
        for col in 0..<n {
            let pivot = (col..<n).max { abs(a[$0][col]) < abs(a[$1][col]) }!
            a.swapAt(col, pivot)
            b.swapAt(col, pivot)
            guard abs(a[col][col]) > 1e-300 else { continue }
            for r in (col + 1)..<n {
                let f = a[r][col] / a[col][col]
                for c in col..<n { a[r][c] -= f * a[col][c] }
                b[r] -= f * b[col]
            }
        }
        var x = [Double](repeating: 0, count: n)
        for r in stride(from: n - 1, through: 0, by: -1) {
            var s = b[r]
            for c in (r + 1)..<n { s -= a[r][c] * x[c] }
            x[r] = abs(a[r][r]) > 1e-300 ? s / a[r][r] : 0
        }
        return x
    }
}
