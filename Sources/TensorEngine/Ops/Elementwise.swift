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

/// An elementwise binary op with its partial derivatives. Ops are types, not enum cases,
/// so that each kernel loop is specialized and vectorized by the compiler.
protocol BinaryKernel {
    static func apply(_ x: Float, _ y: Float) -> Float
    /// ∂(x op y)/∂x
    static func dx(_ x: Float, _ y: Float) -> Float
    /// ∂(x op y)/∂y
    static func dy(_ x: Float, _ y: Float) -> Float
}

enum AddKernel: BinaryKernel {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x + y }
    @inline(__always) static func dx(_ x: Float, _ y: Float) -> Float { 1 }
    @inline(__always) static func dy(_ x: Float, _ y: Float) -> Float { 1 }
}
enum SubKernel: BinaryKernel {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x - y }
    @inline(__always) static func dx(_ x: Float, _ y: Float) -> Float { 1 }
    @inline(__always) static func dy(_ x: Float, _ y: Float) -> Float { -1 }
}
enum MulKernel: BinaryKernel {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x * y }
    @inline(__always) static func dx(_ x: Float, _ y: Float) -> Float { y }
    @inline(__always) static func dy(_ x: Float, _ y: Float) -> Float { x }
}
enum DivKernel: BinaryKernel {
    @inline(__always) static func apply(_ x: Float, _ y: Float) -> Float { x / y }
    @inline(__always) static func dx(_ x: Float, _ y: Float) -> Float { 1 / y }
    @inline(__always) static func dy(_ x: Float, _ y: Float) -> Float { -x / (y * y) }
}

/// Walks the broadcast output in row-major order: body(outIndex, aOffset, bOffset).
@inline(__always)
private func forEachBroadcast(_ shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = shape.count
    let total = shapeCount(shape)
    if total == 0 { return }
    if rank == 0 {
        body(0, 0, 0)
        return
    }
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
            oa += sa[d]
            ob += sb[d]
            if index[d] < shape[d] { break }
            oa -= sa[d] * shape[d]
            ob -= sb[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

func binary<Op: BinaryKernel>(_ op: Op.Type, _ a: Tensor, _ b: Tensor) -> Tensor {
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
        if sameShape {
            // Fetched in the order written below: for x + x the first store, the second adds.
            let da = a.requiresGrad ? a.gradientDestination : nil
            let db = b.requiresGrad ? b.gradientDestination : nil
            parallelFor(n) { r in
                if let da { emitGradient(da.pointer, store: da.store, r) { g[$0] * op.dx(pa[$0], pb[$0]) } }
                if let db { emitGradient(db.pointer, store: db.store, r) { g[$0] * op.dy(pa[$0], pb[$0]) } }
            }
            return
        }
        let ga = a.requiresGrad ? a.gradPointer : nil
        let gb = b.requiresGrad ? b.gradPointer : nil
        // Broadcast axes sum their gradient: accumulate through the 0-strides, single-threaded.
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        forEachBroadcast(shape, sa, sb) { o, ia, ib in
            if let ga { ga[ia] += g[o] * op.dx(pa[ia], pb[ib]) }
            if let gb { gb[ib] += g[o] * op.dy(pa[ia], pb[ib]) }
        }
    }
}

public func + (a: Tensor, b: Tensor) -> Tensor { binary(AddKernel.self, a, b) }
public func - (a: Tensor, b: Tensor) -> Tensor { binary(SubKernel.self, a, b) }
public func * (a: Tensor, b: Tensor) -> Tensor { binary(MulKernel.self, a, b) }
public func / (a: Tensor, b: Tensor) -> Tensor { binary(DivKernel.self, a, b) }

// MARK: Unary

/// A pointwise function with its derivative, given input x and output y. Types, not closures,
/// so each kernel loop is specialized (a closure call per element costs several times more).
protocol UnaryKernel {
    associatedtype Parameter
    static func apply(_ x: Float, _ p: Parameter) -> Float
    static func derivative(_ x: Float, _ y: Float, _ p: Parameter) -> Float
}

func unary<K: UnaryKernel>(_ kernel: K.Type, _ x: Tensor, _ p: K.Parameter) -> Tensor {
    let x = x.contiguous()
    let n = x.count
    let out = TensorStorage(count: n)
    let px = x.dataPointer, po = out.data
    parallelFor(n) { r in for i in r { po[i] = K.apply(px[i], p) } }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        let (gx, store) = x.gradientDestination
        parallelFor(n) { r in emitGradient(gx, store: store, r) { g[$0] * K.derivative(px[$0], po[$0], p) } }
    }
}

enum ScaleKernel: UnaryKernel {
    @inline(__always) static func apply(_ x: Float, _ s: Float) -> Float { x * s }
    @inline(__always) static func derivative(_ x: Float, _ y: Float, _ s: Float) -> Float { s }
}
enum ShiftKernel: UnaryKernel {
    @inline(__always) static func apply(_ x: Float, _ s: Float) -> Float { x + s }
    @inline(__always) static func derivative(_ x: Float, _ y: Float, _ s: Float) -> Float { 1 }
}
enum ReLUKernel: UnaryKernel {
    @inline(__always) static func apply(_ x: Float, _ p: Void) -> Float { x > 0 ? x : 0 }
    @inline(__always) static func derivative(_ x: Float, _ y: Float, _ p: Void) -> Float { x > 0 ? 1 : 0 }
}
/// GELU, the exact form x·Φ(x) = ½x(1 + erf(x/√2)) (PyTorch's default, approximate="none").
enum GELUKernel: UnaryKernel {
    static let invSqrt2: Float = 0.70710678118654752
    static let invSqrt2Pi: Float = 0.39894228040143268
    @inline(__always) static func apply(_ x: Float, _ p: Void) -> Float { 0.5 * x * (1 + erff(x * invSqrt2)) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float, _ p: Void) -> Float {
        0.5 * (1 + erff(x * invSqrt2)) + x * invSqrt2Pi * expf(-0.5 * x * x)
    }
}
enum ExpKernel: UnaryKernel {
    @inline(__always) static func apply(_ x: Float, _ p: Void) -> Float { expf(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float, _ p: Void) -> Float { y }
}
enum LogKernel: UnaryKernel {
    @inline(__always) static func apply(_ x: Float, _ p: Void) -> Float { logf(x) }
    @inline(__always) static func derivative(_ x: Float, _ y: Float, _ p: Void) -> Float { 1 / x }
}

public func * (a: Tensor, s: Float) -> Tensor { unary(ScaleKernel.self, a, s) }
public func * (s: Float, a: Tensor) -> Tensor { a * s }
public func + (a: Tensor, s: Float) -> Tensor { unary(ShiftKernel.self, a, s) }
public prefix func - (a: Tensor) -> Tensor { a * -1 }

/// max(x, 0).
public func relu(_ x: Tensor) -> Tensor { unary(ReLUKernel.self, x, ()) }

/// GELU, exact erf form (PyTorch's default).
public func gelu(_ x: Tensor) -> Tensor { unary(GELUKernel.self, x, ()) }

public func exp(_ x: Tensor) -> Tensor { unary(ExpKernel.self, x, ()) }
public func log(_ x: Tensor) -> Tensor { unary(LogKernel.self, x, ()) }
