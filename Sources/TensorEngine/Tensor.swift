/// A strided view of Float32 numbers: the one array type of the engine.
///
/// A `Tensor` is a window (shape, strides, offset) onto a `TensorStorage`. Views — `narrow`,
/// `corner`, `transposed`, `permuted`, `reshaped` of a contiguous tensor — share storage and
/// cost nothing; that is how a SubTransformer reads the top-left corner of a super weight
/// (hat-reference.md §2). Tensors produced by operations are contiguous and row-major.
///
/// Autograd follows PyTorch's model: a tensor that `requiresGrad` and was produced by an op
/// remembers that op in `gradNode`; `backward()` walks the recorded graph in reverse.
///
/// ```swift
/// var rng = RandomGenerator(seed: 0)
/// let w = Tensor.randn([4, 3], rng: &rng).requiringGrad()
/// let x = Tensor.randn([2, 3], rng: &rng)
/// let loss = linear(x, weight: w).sum()
/// loss.backward()
/// print(w.grad!.toArray())
/// ```
public final class Tensor: @unchecked Sendable {
    public let storage: TensorStorage
    public let shape: [Int]
    public let strides: [Int]
    public let offset: Int
    /// Whether gradients flow to this tensor. Set it on leaves (parameters) with `requiringGrad()`.
    public internal(set) var requiresGrad: Bool = false
    /// The operation that produced this tensor, when it is part of a recorded graph.
    var gradNode: GradNode?

    public init(storage: TensorStorage, shape: [Int], strides: [Int], offset: Int = 0) {
        precondition(shape.count == strides.count, "shape \(shape) and strides \(strides) differ in rank")
        self.storage = storage
        self.shape = shape
        self.strides = strides
        self.offset = offset
    }

    /// A new contiguous tensor over a fresh storage (uninitialized unless `zeroed`).
    public convenience init(shape: [Int], zeroed: Bool = true) {
        self.init(
            storage: TensorStorage(count: shapeCount(shape), zeroed: zeroed),
            shape: shape, strides: contiguousStrides(shape))
    }

    /// A new contiguous tensor holding `values` in row-major order.
    public convenience init(_ values: [Float], shape: [Int]) {
        precondition(values.count == shapeCount(shape), "\(values.count) values do not fill shape \(shape)")
        self.init(shape: shape, zeroed: false)
        values.withUnsafeBufferPointer { storage.data.update(from: $0.baseAddress!, count: values.count) }
    }

    /// A 0-dimensional tensor.
    public convenience init(scalar: Float) { self.init([scalar], shape: []) }

    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, zeroed: true) }

    public static func full(_ shape: [Int], _ value: Float) -> Tensor {
        let t = Tensor(shape: shape, zeroed: false)
        t.storage.data.update(repeating: value, count: t.count)
        return t
    }

    public static func ones(_ shape: [Int]) -> Tensor { full(shape, 1) }

    /// Normal(0, std²) samples, drawn in row-major order from `rng`.
    public static func randn(_ shape: [Int], std: Float = 1, rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(shape: shape, zeroed: false)
        for i in 0..<t.count { t.storage.data[i] = rng.normal() * std }
        return t
    }

    /// Uniform(low, high) samples, drawn in row-major order from `rng`.
    public static func uniform(_ shape: [Int], low: Float, high: Float, rng: inout RandomGenerator) -> Tensor {
        let t = Tensor(shape: shape, zeroed: false)
        for i in 0..<t.count { t.storage.data[i] = low + (high - low) * rng.nextFloat() }
        return t
    }

    // MARK: Geometry

    public var rank: Int { shape.count }
    public var count: Int { shapeCount(shape) }
    public var isContiguous: Bool { isContiguousLayout(shape: shape, strides: strides) }

    /// Pointer to the first element of this view.
    public var dataPointer: UnsafeMutablePointer<Float> {
        precondition(storage.quantized == nil, "this tensor holds quantized weights: only linear and embedding read them")
        return storage.data + offset
    }

    /// Pointer to the first element of this view's gradient region (allocating the buffer).
    public var gradPointer: UnsafeMutablePointer<Float> { storage.gradBuffer() + offset }

    /// Where a backward closure puts this tensor's gradient: `store` is true when the region is
    /// a fresh, uninitialized buffer that the closure must overwrite completely (this tensor
    /// spans its whole storage and no gradient reached it yet); otherwise it adds as usual.
    /// Fetch the destinations of several inputs in the order the closure writes them.
    public var gradientDestination: (pointer: UnsafeMutablePointer<Float>, store: Bool) {
        if offset == 0 && count == storage.count && isContiguous {
            let (g, fresh) = storage.gradBufferForFullWrite()
            return (g, fresh)
        }
        return (gradPointer, false)
    }

    /// Resolves a negative axis (-1 = last).
    public func axis(_ a: Int) -> Int {
        let r = a < 0 ? a + rank : a
        precondition(r >= 0 && r < rank, "axis \(a) out of range for rank \(rank)")
        return r
    }

    // MARK: Reading values

    /// The values in row-major (logical) order.
    public func toArray() -> [Float] {
        var out = [Float](repeating: 0, count: count)
        out.withUnsafeMutableBufferPointer { copyStrided(from: dataPointer, shape: shape, strides: strides, to: $0.baseAddress!) }
        return out
    }

    /// The single value of a one-element tensor.
    public var item: Float {
        precondition(count == 1, "item needs exactly one element, shape is \(shape)")
        return dataPointer[0]
    }

    /// A contiguous copy of this view's gradient, or nil if no gradient reached it.
    public var grad: Tensor? {
        guard let g = storage.grad else { return nil }
        let out = Tensor(shape: shape, zeroed: false)
        copyStrided(from: g + offset, shape: shape, strides: strides, to: out.storage.data)
        return out
    }

    /// Marks a leaf tensor as a parameter whose gradient is accumulated; returns self.
    @discardableResult
    public func requiringGrad(_ flag: Bool = true) -> Tensor {
        precondition(gradNode == nil, "requiringGrad is for leaf tensors (parameters and inputs)")
        requiresGrad = flag
        return self
    }

    /// A tensor sharing this one's storage that is not part of any graph (like PyTorch's `detach`).
    public func detached() -> Tensor {
        Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
    }
}

extension Tensor: CustomStringConvertible {
    public var description: String {
        let values = toArray()
        let shown = values.prefix(8).map { String($0) }.joined(separator: ", ")
        return "Tensor(shape: \(shape), [\(shown)\(values.count > 8 ? ", ..." : "")])"
    }
}

// MARK: Layout helpers

@inline(__always)
public func shapeCount(_ shape: [Int]) -> Int { shape.reduce(1, *) }

public func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[i] = s
        s *= shape[i]
    }
    return strides
}

func isContiguousLayout(shape: [Int], strides: [Int]) -> Bool {
    var expected = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) where shape[i] != 1 {
        if strides[i] != expected { return false }
        expected *= shape[i]
    }
    return true
}

/// Calls `body(sourceOffset, destinationIndex, innerCount)` for every innermost row of a strided
/// view, in row-major order. The innermost dimension has stride `strides.last`.
@inline(__always)
func forEachRow(shape: [Int], strides: [Int], _ body: (Int, Int, Int) -> Void) {
    let rank = shape.count
    if rank == 0 {
        body(0, 0, 1)
        return
    }
    let inner = shape[rank - 1]
    let total = shapeCount(shape)
    if total == 0 { return }
    var index = [Int](repeating: 0, count: rank)
    var src = 0
    var dst = 0
    while dst < total {
        body(src, dst, inner)
        dst += inner
        // Increment the multi-index over all but the last axis.
        var d = rank - 2
        while d >= 0 {
            index[d] += 1
            src += strides[d]
            if index[d] < shape[d] { break }
            src -= strides[d] * shape[d]
            index[d] = 0
            d -= 1
        }
    }
}

/// Copies a strided view into contiguous row-major memory.
func copyStrided(from src: UnsafePointer<Float>, shape: [Int], strides: [Int], to dst: UnsafeMutablePointer<Float>) {
    if isContiguousLayout(shape: shape, strides: strides) {
        dst.update(from: src, count: shapeCount(shape))
        return
    }
    let innerStride = strides.last ?? 1
    forEachRow(shape: shape, strides: strides) { s, d, n in
        if innerStride == 1 {
            (dst + d).update(from: src + s, count: n)
        } else {
            for j in 0..<n { dst[d + j] = src[s + j * innerStride] }
        }
    }
}

/// Adds contiguous row-major values into a strided view (the backward of a strided copy).
func accumulateStrided(from src: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>, shape: [Int], strides: [Int]) {
    if isContiguousLayout(shape: shape, strides: strides) {
        let n = shapeCount(shape)
        parallelFor(n) { r in for i in r { dst[i] += src[i] } }
        return
    }
    let innerStride = strides.last ?? 1
    forEachRow(shape: shape, strides: strides) { d, s, n in
        for j in 0..<n { dst[d + j * innerStride] += src[s + j] }
    }
}
