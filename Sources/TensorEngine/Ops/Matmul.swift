/// Matrix products: `matmul` (batched, any views with a unit stride in the last two axes)
/// and `linear` (y = x·Wᵀ + b with W possibly the corner of a super weight).

extension Tensor {
    /// The last two axes as a GEMM operand for the batch element at `batchOffset`.
    fileprivate func matrix(at batchOffset: Int, base: UnsafeMutablePointer<Float>) -> MatrixRef {
        MatrixRef(
            pointer: base + batchOffset, rows: shape[rank - 2], cols: shape[rank - 1],
            rowStride: strides[rank - 2], colStride: strides[rank - 1])
    }

    /// Whether GEMM can read the last two axes in place.
    fileprivate var hasGEMMLayout: Bool {
        let r = shape[rank - 2], c = shape[rank - 1]
        return strides[rank - 1] == 1 || strides[rank - 2] == 1 || r == 1 || c == 1
    }
}

/// Offsets of every batch element of `shape[..<batchRank]` with `strides`, in row-major order.
private func batchOffsets(_ shape: ArraySlice<Int>, _ strides: ArraySlice<Int>) -> [Int] {
    var offsets = [0]
    for (n, s) in zip(shape, strides) {
        var next: [Int] = []
        next.reserveCapacity(offsets.count * n)
        for o in offsets { for i in 0..<n { next.append(o + i * s) } }
        offsets = next
    }
    return offsets
}

/// Matrix product over the last two axes: `a` [..., M, K] · `b` [..., K, N] → [..., M, N].
///
/// The batch axes of `a` and `b` must be equal, or `b` may be a plain matrix. Views whose
/// last two axes have a unit stride (corners, transposes such as `k.transposed(-1, -2)`,
/// heads split by `permuted`) are read in place: attention needs no copies.
public func matmul(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.rank >= 2 && b.rank >= 2, "matmul needs matrices, got shapes \(a.shape) and \(b.shape)")
    let a = a.hasGEMMLayout ? a : a.contiguous()
    let b = b.hasGEMMLayout ? b : b.contiguous()
    let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1]
    let k2 = b.shape[b.rank - 2], n = b.shape[b.rank - 1]
    precondition(k == k2, "matmul: inner sizes differ, \(a.shape) · \(b.shape)")
    let batchShape = Array(a.shape.dropLast(2))
    let bBatched = b.rank > 2
    if bBatched {
        precondition(Array(b.shape.dropLast(2)) == batchShape, "matmul: batch shapes differ, \(a.shape) · \(b.shape)")
    }
    let aOffsets = batchOffsets(a.shape.dropLast(2), a.strides.dropLast(2))
    let bOffsets = bBatched ? batchOffsets(b.shape.dropLast(2), b.strides.dropLast(2)) : [Int](repeating: 0, count: aOffsets.count)
    let outShape = batchShape + [m, n]
    let out = TensorStorage(count: shapeCount(outShape))
    let smallM = !GradMode.isEnabled
    for (i, (ao, bo)) in zip(aOffsets, bOffsets).enumerated() {
        let c = MatrixRef(pointer: out.data + i * m * n, rows: m, cols: n, rowStride: n, colStride: 1)
        gemm(c, a.matrix(at: ao, base: a.dataPointer), b.matrix(at: bo, base: b.dataPointer), beta: 0, smallM: smallM)
    }
    return Tensor.result(out, shape: outShape, inputs: [a, b]) { g in
        // A fresh destination is written once per batch element (beta 0); a plain matrix `b`
        // shared by every batch element is stored by the first product only.
        // Operands sharing one storage (x·xᵀ) may overlap across batch elements: add only.
        let shared = a.storage === b.storage
        let da = a.requiresGrad ? (shared ? (pointer: a.gradPointer, store: false) : a.gradientDestination) : nil
        let db = b.requiresGrad ? (shared ? (pointer: b.gradPointer, store: false) : b.gradientDestination) : nil
        for (i, (ao, bo)) in zip(aOffsets, bOffsets).enumerated() {
            let gc = MatrixRef(pointer: g + i * m * n, rows: m, cols: n, rowStride: n, colStride: 1)
            if let da {  // dA += dC · Bᵀ
                gemm(
                    a.matrix(at: ao, base: da.pointer), gc, b.matrix(at: bo, base: b.dataPointer).transposed,
                    beta: da.store ? 0 : 1)
            }
            if let db {  // dB += Aᵀ · dC
                gemm(
                    b.matrix(at: bo, base: db.pointer), a.matrix(at: ao, base: a.dataPointer).transposed, gc,
                    beta: db.store && (bBatched || i == 0) ? 0 : 1)
            }
        }
    }
}

/// A fully connected layer, y = x·Wᵀ + b, over the last axis of `x`.
///
/// `weight` is [out, in] like PyTorch and MLX; it may be the top-left corner of a larger
/// super weight (`superWeight.corner([out, in])`): GEMM reads it with the super leading
/// dimension and the backward pass accumulates dW straight into the corner of the super
/// gradient (hat-reference.md §2). `bias` is [out] (e.g. `superBias.narrow(0, 0, out)`).
public func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(weight.rank == 2, "linear: weight must be [out, in], got \(weight.shape)")
    if let quantized = weight.quantizedWindow { return quantizedLinear(x, weight: quantized, bias: bias) }
    let outFeatures = weight.shape[0], inFeatures = weight.shape[1]
    precondition(x.shape.last == inFeatures, "linear: input \(x.shape) does not end in \(inFeatures) features")
    let weight = weight.hasGEMMLayout ? weight : weight.contiguous()
    let x = x.contiguous()
    let bias = bias.map { $0.contiguous() }
    if let bias { precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) for \(outFeatures) outputs") }
    let rows = x.count / Swift.max(inFeatures, 1)
    let outShape = Array(x.shape.dropLast()) + [outFeatures]
    let out = TensorStorage(count: rows * outFeatures)
    let xm = MatrixRef(pointer: x.dataPointer, rows: rows, cols: inFeatures, rowStride: inFeatures, colStride: 1)
    let om = MatrixRef(pointer: out.data, rows: rows, cols: outFeatures, rowStride: outFeatures, colStride: 1)
    let wm = { (p: UnsafeMutablePointer<Float>) in
        MatrixRef(pointer: p, rows: outFeatures, cols: inFeatures, rowStride: weight.strides[0], colStride: weight.strides[1])
    }
    if let bias {
        let b = bias.dataPointer
        for r in 0..<rows { (out.data + r * outFeatures).update(from: b, count: outFeatures) }
    }
    gemm(om, xm, wm(weight.dataPointer).transposed, beta: bias == nil ? 0 : 1, smallM: !GradMode.isEnabled)
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tensor.result(out, shape: outShape, inputs: inputs) { g in
        let gm = MatrixRef(pointer: g, rows: rows, cols: outFeatures, rowStride: outFeatures, colStride: 1)
        if x.requiresGrad {  // dX += dY · W
            let (gx, store) = x.gradientDestination
            var gxm = xm
            gxm.pointer = gx
            gemm(gxm, gm, wm(weight.dataPointer), beta: store ? 0 : 1)
        }
        if weight.requiresGrad {  // dW += dYᵀ · X, into the (corner of the) weight gradient
            let (gw, store) = weight.gradientDestination
            gemm(wm(gw), gm.transposed, xm, beta: store ? 0 : 1)
        }
        if let bias, bias.requiresGrad {  // db += Σ_rows dY
            let (gb, store) = bias.gradientDestination
            addColumnSums(of: gm, into: gb, beta: store ? 0 : 1)
        }
    }
}
