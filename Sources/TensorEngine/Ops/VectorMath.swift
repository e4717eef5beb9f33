/// A fast exp for the row kernels that call it millions of times per training step (the loss
/// over the vocabulary): libm's `expf` is an opaque call per element, this is plain arithmetic
/// that the compiler vectorizes when it is used in a simple elementwise loop.
///
/// Cephes' single-precision method: exp(x) = 2ⁿ · exp(r), n = round(x / ln 2), r = x − n·ln 2
/// (ln 2 split in two for accuracy), exp(r) by a degree-6 polynomial on |r| ≤ ln2/2; relative
/// error about 2 ulp. x below −87.3 gives ≈ 1e−38 rather than 0.
///
/// Written on scalars on purpose: the standard library's SIMD min/max, shifts and float→int
/// conversions are generic per-lane loops here and made a SIMD16 version slower than `expf`.
@inline(__always)
func fastExp(_ x: Float) -> Float {
    let x = Swift.min(Swift.max(x, -87.3), 88.3)
    // Adding 1.5·2²³ rounds x/ln2 to the nearest integer n and leaves n in the low mantissa
    // bits, so 2ⁿ is built from the bit pattern with integer adds and a shift.
    let t = x * 1.442_695_04 + 12_582_912
    let n = t - 12_582_912
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    var p: Float = 1.987_569_15e-4
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    let y = p * (r * r) + r + 1
    return y * Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
}

/// Sum of `n` floats with sixteen independent partial sums (vector adds; a plain running sum
/// is one dependent add per element).
@inline(__always)
func rowSum(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var acc = SIMD16<Float>(repeating: 0)
    var j = 0
    while j + 16 <= n {
        acc += UnsafeRawPointer(x + j).loadUnaligned(as: SIMD16<Float>.self)
        j += 16
    }
    var s = acc.sum()
    while j < n { s += x[j]; j += 1 }
    return s
}

/// max over `n` floats.
@inline(__always)
func rowMax(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
    var m = -Float.infinity
    for j in 0..<n { m = Swift.max(m, x[j]) }
    return m
}

/// out[j] (=, or += when `!store`) a · exp(x[j] − shift) + b over `n` floats.
@inline(__always)
func rowAffineExp(_ x: UnsafePointer<Float>, _ n: Int, shift: Float, a: Float, b: Float,
                  into out: UnsafeMutablePointer<Float>, store: Bool) {
    emitGradient(out, store: store, 0..<n) { a * fastExp(x[$0] - shift) + b }
}
