/// Vectorized exp for the row kernels that call it millions of times per training step
/// (the loss over the vocabulary, attention softmax): libm's `expf` is a scalar call per element.
///
/// Cephes' single-precision method: exp(x) = 2ⁿ · exp(r), n = round(x / ln 2), r = x − n·ln 2
/// (ln 2 split in two for accuracy), exp(r) by a degree-6 polynomial on |r| ≤ ln2/2. Relative
/// error about 2 ulp on the clamped range; x below −87.3 gives ≈ 1e−38 rather than 0, so
/// callers that need exact zeros (masked entries) set them themselves.
@inline(__always)
func exp(_ x: SIMD16<Float>) -> SIMD16<Float> {
    let x = x.clamped(lowerBound: SIMD16(repeating: -87.3), upperBound: SIMD16(repeating: 88.3))
    let n = (x * 1.442_695_04).rounded(.toNearestOrEven)
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p = SIMD16<Float>(repeating: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * (r * r) + r + 1
    let scale = (SIMD16<Int32>(truncatingIfNeeded: SIMD16<Int64>(n, rounding: .towardZero)) &+ 127) &<< 23
    return y * unsafeBitCast(scale, to: SIMD16<Float>.self)
}

/// Scalar version of the same approximation, for the tails of rows (so every element of a row
/// is computed the same way).
@inline(__always)
func exp16Tail(_ x: UnsafePointer<Float>, count: Int, shift: Float) -> SIMD16<Float> {
    var v = SIMD16<Float>(repeating: -100)
    for i in 0..<count { v[i] = x[i] - shift }
    return exp(v)
}

/// max over `n` floats.
@inline(__always)
func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = SIMD16<Float>(repeating: -Float.infinity)
    var j = 0
    while j + 16 <= n {
        m = pointwiseMax(m, UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self))
        j += 16
    }
    var s = m.max()
    while j < n { s = Swift.max(s, x[j]); j += 1 }
    return s
}

/// Σ exp(x − shift) and Σ x over `n` floats.
@inline(__always)
func rowSumExpAndSum(_ x: UnsafePointer<Float>, _ n: Int, shift: Float) -> (sumExp: Float, sum: Float) {
    var e = SIMD16<Float>(repeating: 0), t = SIMD16<Float>(repeating: 0)
    let s = SIMD16<Float>(repeating: shift)
    var j = 0
    while j + 16 <= n {
        let v = UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
        e += exp(v - s)
        t += v
        j += 16
    }
    var sumExp = e.sum(), sum = t.sum()
    if j < n {
        let tail = exp16Tail(x + j, count: n - j, shift: shift)
        for i in 0..<(n - j) { sumExp += tail[i]; sum += x[j + i] }
    }
    return (sumExp, sum)
}

/// out[j] (=, or += when `!store`) a · exp(x[j] − shift) + b over `n` floats.
@inline(__always)
func rowAffineExp(_ x: UnsafePointer<Float>, _ n: Int, shift: Float, a: Float, b: Float,
                  into out: UnsafeMutablePointer<Float>, store: Bool) {
    let s = SIMD16<Float>(repeating: shift), va = SIMD16<Float>(repeating: a), vb = SIMD16<Float>(repeating: b)
    var j = 0
    while j + 16 <= n {
        let v = va * exp(UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self) - s) + vb
        let o = UnsafeMutableRawPointer(out + j)
        o.storeBytes(of: store ? v : v + o.loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
        j += 16
    }
    if j < n {
        let tail = exp16Tail(x + j, count: n - j, shift: shift)
        for i in 0..<(n - j) {
            let v = a * tail[i] + b
            out[j + i] = store ? v : out[j + i] + v
        }
    }
}
