/// K-means on scalars (Lloyd's algorithm), the clustering of Deep Compression's weight sharing,
/// which HAT applies to its SubTransformers (§4, "quantization friendly").
///
/// Initialization is Deep Compression's linear one: k centroids evenly spaced over [min, max]
/// (it keeps the few large weights represented, which density-based initializations lose). In
/// one dimension the clusters are runs of the sorted values, so an iteration is k binary searches
/// and k prefix-sum differences instead of n·k distances; the result is what the textbook
/// algorithm computes: each value joins the nearest centroid (the lower-numbered one on a tie),
/// each centroid moves to its members' mean, a centroid without members stays where it is, and
/// the iterations stop when no value changes cluster or after `maxIterations`.
///
/// ```swift
/// let fit = KMeans1D.fit([0.1, 0.2, 0.9, 1.0], clusters: 2)
/// fit.centroids    // [0.15, 0.95]
/// fit.assignments  // [0, 0, 1, 1]
/// ```
public struct KMeans1D: Sendable {
    /// Ascending (linear initialization and Lloyd's steps keep them ordered in one dimension).
    public var centroids: [Float]
    /// The centroid of each input value, in input order.
    public var assignments: [UInt8]
    /// Lloyd iterations run (an iteration whose assignment did not change ends the fit).
    public var iterations: Int
    /// Σ (value − centroid)² over all values.
    public var sumSquaredError: Double

    public static let defaultMaxIterations = 100

    public static func fit(_ values: [Float], clusters k: Int, maxIterations: Int = defaultMaxIterations) -> KMeans1D {
        precondition((1...256).contains(k), "KMeans1D: \(k) clusters (1 to 256)")
        precondition(!values.isEmpty, "KMeans1D: no values")
        let sorted = values.map(Double.init).sorted()
        let n = sorted.count
        var prefix = [Double](repeating: 0, count: n + 1), prefixSquares = [Double](repeating: 0, count: n + 1)
        for i in 0..<n {
            prefix[i + 1] = prefix[i] + sorted[i]
            prefixSquares[i + 1] = prefixSquares[i] + sorted[i] * sorted[i]
        }
        let low = sorted[0], high = sorted[n - 1]
        // numpy.linspace(low, high, k): start + j·step, the last one exactly high.
        let step = k > 1 ? (high - low) / Double(k - 1) : 0
        var centroids = (0..<k).map { low + Double($0) * step }
        if k > 1 { centroids[k - 1] = high }

        // ends[j]: one past the last sorted value in cluster j (clusters are consecutive runs).
        func runEnds(_ c: [Double]) -> [Int] {
            (0..<k).map { j in
                j == k - 1 ? n : firstIndex(in: sorted) { !closerToLower($0, c[j], c[j + 1]) }
            }
        }
        var ends = runEnds(centroids)
        var iterations = 0
        while iterations < maxIterations {
            iterations += 1
            var start = 0
            for j in 0..<k {
                if ends[j] > start { centroids[j] = (prefix[ends[j]] - prefix[start]) / Double(ends[j] - start) }
                start = Swift.max(start, ends[j])
            }
            let next = runEnds(centroids)
            if next == ends { break }
            ends = next
        }
        var sse = 0.0, start = 0
        for j in 0..<k where ends[j] > start {
            let count = Double(ends[j] - start), sum = prefix[ends[j]] - prefix[start]
            sse += (prefixSquares[ends[j]] - prefixSquares[start]) - 2 * centroids[j] * sum + count * centroids[j] * centroids[j]
            start = ends[j]
        }
        let assignments = values.map { v -> UInt8 in
            let x = Double(v)
            // The first centroid j whose boundary with j + 1 keeps x on its side.
            var lo = 0, hi = k - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if closerToLower(x, centroids[mid], centroids[mid + 1]) { hi = mid } else { lo = mid + 1 }
            }
            return UInt8(lo)
        }
        return KMeans1D(centroids: centroids.map(Float.init), assignments: assignments, iterations: iterations, sumSquaredError: Swift.max(0, sse))
    }
}

/// Whether x belongs to the lower of two ascending centroids: nearer, or as near (argmin's first).
private func closerToLower(_ x: Double, _ lower: Double, _ upper: Double) -> Bool {
    abs(x - lower) <= abs(x - upper)
}

/// The first index whose value satisfies `isPast` (monotone: false…false true…true), or the count.
private func firstIndex(in sorted: [Double], where isPast: (Double) -> Bool) -> Int {
    var lo = 0, hi = sorted.count
    while lo < hi {
        let mid = (lo + hi) / 2
        if isPast(sorted[mid]) { hi = mid } else { lo = mid + 1 }
    }
    return lo
}
