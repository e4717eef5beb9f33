#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: Broadcasting

/// NumPy broadcasting of two shapes (aligned at the last axis).
func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int] {
    let rank = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
        let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
        let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
        precondition(da == db || da == 1 || db == 1, "shapes \(a) and \(b) do not broadcast")
        out[i] = da == 1 ? db : da
    }
    return out
}

/// Strides that read a contiguous tensor of `shape` as if it had `outShape` (0 on broadcast axes).
func broadcastStrides(_ shape: [Int], to outShape: [Int]) -> [Int] {
    let own = contiguousStrides(shape)
    let pad = outShape.count - shape.count
    return (0..<outShape.count).map { i in
        i < pad || shape[i - pad] == 1 ? 0 : own[i - pad]
    }
}

/// The kinds of elementwise binary op, with their value and partial derivatives.
enum BinaryOp {
    case add, sub, mul, div

    @inline(__always) func apply(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: return x + y
        case .sub: return x - y
        case .mul: return x * y
        case .div: return x / y
        }
    }
    /// ∂(x op y)/∂x
    @inline(__always) func dx(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add, .sub: return 1
        case .mul: return y
        case .div: return 1 / y
        }
    }
    /// ∂(x op y)/∂y
    @inline(__always) func dy(_ x: Float, _ y: Float) -> Float {
        switch self {
        case .add: return 1
        case .sub: return -1
        case .mul: return x
        case .div: return -x / (y * y)
        }
    }
}

/// Walks the broadcast output in row-major order: body(outIndex, aOffset, bOffset).
@inline(__always)
private func forEachBroadcast(_ shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = shape.count
    let total = shapeCount(shape)
    if total == 0 { return }
    if rank == 0 { body(0, 0, 0); return }
    var index = [Int](repeating: 0, count: rank)
    var oa = 0, ob = 0
    let inner = shape[rank - 1], ia = sa[rank - 1], ib = sb[rank - 1]
    var o = 0
    while o < total {
        for j in 0..<inner { body(o + j, oa + j * ia, ob + j * ib) }
        o += inner
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            oa += sa[d]; ob += sb[d]
            if index[d] < shape[d] { break }
            oa -= sa[d] * shape[d]; ob -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

func binary(_ op: BinaryOp, _ a: Tensor, _ b: Tensor) -> Tensor {
    let a = a.contiguous(), b = b.contiguous()
    let shape = broadcastShape(a.shape, b.shape)
    let n = shapeCount(shape)
    let out = TensorStorage(count: n)
    let pa = a.dataPointer, pb = b.dataPointer, po = out.data
    let sameShape = a.shape == shape && b.shape == shape
    // A trailing operand (bias [N] for a [..., N]) is common enough for its own fast path.
    let bIsRow = a.shape == shape && b.count > 0 && Array(shape.suffix(b.rank)) == b.shape && b.shape.count <= shape.count
    if sameShape {
        parallelFor(n) { r in for i in r { po[i] = op.apply(pa[i], pb[i]) } }
    } else if bIsRow {
        let w = b.count
        parallelFor(n / w, minimumPerThread: Swift.max(1, 32_768 / w)) { rows in
            for r in rows { for j in 0..<w { po[r * w + j] = op.apply(pa[r * w + j], pb[j]) } }
        }
    } else {
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        forEachBroadcast(shape, sa, sb) { o, ia, ib in po[o] = op.apply(pa[ia], pb[ib]) }
    }
    return Tensor.result(out, shape: shape, inputs: [a, b]) { g in
        let ga = a.requiresGrad ? a.gradPointer : nil
        let gb = b.requiresGrad ? b.gradPointer : nil
        if sameShape {
            parallelFor(n) { r in
                for i in r {
                    if let ga { ga[i] += g[i] * op.dx(pa[i], pb[i]) }
                    if let gb { gb[i] += g[i] * op.dy(pa[i], pb[i]) }
                }
            }
            return
        }
        // Broadcast axes sum their gradient: accumulate through the 0-strides, single-threaded.
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        forEachBroadcast(shape, sa, sb) { o, ia, ib in
            if let ga { ga[ia] += g[o] * op.dx(pa[ia], pb[ib]) }
            if let gb { gb[ib] += g[o] * op.dy(pa[ia], pb[ib]) }
        }
    }
}

public func + (a: Tensor, b: Tensor) -> Tensor { binary(.add, a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { binary(.sub, a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { binary(.mul, a, b) }
public func / (a: Tensor, b: Tensor) -> Tensor { binary(.div, a, b) }

// MARK: Unary

/// Applies a pointwise function; `derivative(x, y)` gives dy/dx from input and output.
func unary(_ x: Tensor, _ f: @escaping (Float) -> Float, derivative: @escaping (Float, Float) -> Float) -> Tensor {
    let x = x.contiguous()
    let n = x.count
    let out = TensorStorage(count: n)
    let px = x.dataPointer, po = out.data
    parallelFor(n) { r in for i in r { po[i] = f(px[i]) } }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        let gx = x.gradPointer
        parallelFor(n) { r in for i in r { gx[i] += g[i] * derivative(px[i], po[i]) } }
    }
}

public func * (a: Tensor, s: Float) -> Tensor { unary(a, { $0 * s }, derivative: { _, _ in s }) }
public func * (s: Float, a: Tensor) -> Tensor { a * s }
public func + (a: Tensor, s: Float) -> Tensor { unary(a, { $0 + s }, derivative: { _, _ in 1 }) }
public prefix func - (a: Tensor) -> Tensor { a * -1 }

/// max(x, 0).
public func relu(_ x: Tensor) -> Tensor {
    unary(x, { $0 > 0 ? $0 : 0 }, derivative: { x, _ in x > 0 ? 1 : 0 })
}

/// GELU, the exact form x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default, approximate="none").
public func gelu(_ x: Tensor) -> Tensor {
    let invSqrt2: Float = 0.70710678118654752
    let invSqrt2Pi: Float = 0.39894228040143268
    return unary(x, { 0.5 * $0 * (1 + erff($0 * invSqrt2)) },
                 derivative: { x, _ in 0.5 * (1 + erff(x * invSqrt2)) + x * invSqrt2Pi * expf(-0.5 * x * x) })
}

public func exp(_ x: Tensor) -> Tensor { unary(x, { expf($0) }, derivative: { _, y in y }) }
public func log(_ x: Tensor) -> Tensor { unary(x, { logf($0) }, derivative: { x, _ in 1 / x }) }
