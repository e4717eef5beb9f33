import CKernels

/// `linear` and `embedding` on codebook-quantized weights (`QuantizedMatrix`): what a view of a
/// quantized storage reads, and the products that read the indices directly.

/// The rows [firstRow, firstRow + rows) and first `columns` columns of a quantized matrix: what a
/// weight view (a SubTransformer's corner, an attention projection's row block) selects.
public struct QuantizedWindow {
    public let matrix: QuantizedMatrix
    public let firstRow: Int
    public let rows: Int
    public let columns: Int
}

extension Tensor {
    /// The quantized weights this view reads, or nil when its storage holds floats.
    public var quantizedWindow: QuantizedWindow? {
        guard let (matrix, rowStride) = storage.quantized else { return nil }
        precondition(
            rank == 2 && (strides[1] == 1 || shape[1] == 1),
            "quantized weights are read as row-major [rows, columns] windows, not \(shape) with strides \(strides)")
        precondition(strides[0] == rowStride || shape[0] == 1, "quantized weights: a window with row stride \(strides[0]) of a matrix of \(rowStride) columns")
        let (row, column) = offset.quotientAndRemainder(dividingBy: rowStride)
        precondition(column == 0, "quantized weights: windows start at column 0 (a SubTransformer's corner), not \(column)")
        precondition(
            row + shape[0] <= matrix.rows && shape[1] <= matrix.columns,
            "quantized weights: window rows \(row)..<\(row + shape[0]) × \(shape[1]) columns outside the stored \(matrix.rows)×\(matrix.columns)")
        return QuantizedWindow(matrix: matrix, firstRow: row, rows: shape[0], columns: shape[1])
    }
}

/// y = x · Wᵀ + b with W quantized. The weight itself takes no gradient; x and b do (dX = dY · W
/// from decoded panels). Up to `quantizedSmallRows` rows of x, the kernels read the indices
/// directly (a decoder step: 4 or 8 bits per weight streamed instead of 32); larger products
/// expand one panel of weight rows at a time into a float buffer and run the float32 kernels on
/// it, so the decode is paid once per weight for all rows of x.
func quantizedLinear(_ x: Tensor, weight w: QuantizedWindow, bias: Tensor?) -> Tensor {
    let outFeatures = w.rows, inFeatures = w.columns
    precondition(x.shape.last == inFeatures, "linear: input \(x.shape) does not end in \(inFeatures) features")
    let x = x.contiguous()
    let rows = x.count / Swift.max(inFeatures, 1)
    let outShape = Array(x.shape.dropLast()) + [outFeatures]
    let out = TensorStorage(count: rows * outFeatures)
    let bias = bias.map { $0.contiguous() }
    if let bias {
        precondition(bias.shape == [outFeatures], "linear: bias \(bias.shape) for \(outFeatures) outputs")
        for r in 0..<rows { (out.data + r * outFeatures).update(from: bias.dataPointer, count: outFeatures) }
    }
    let beta: Float = bias == nil ? 0 : 1
    let xm = MatrixRef(pointer: x.dataPointer, rows: rows, cols: inFeatures, rowStride: inFeatures, colStride: 1)
    let result = Tensor.result(out, shape: outShape, inputs: [x] + (bias.map { [$0] } ?? [])) { g in
        let gm = MatrixRef(pointer: g, rows: rows, cols: outFeatures, rowStride: outFeatures, colStride: 1)
        if x.requiresGrad {  // dX += dY · W, one decoded panel of W's rows at a time
            let (gx, store) = x.gradientDestination
            var gxm = xm
            gxm.pointer = gx
            var first = true
            forEachDecodedPanel(w) { start, panel in
                gemm(gxm, gm.columns(start..<(start + panel.rows)), panel, beta: first && store ? 0 : 1)
                first = false
            }
        }
        if let bias, bias.requiresGrad {  // db += Σ_rows dY
            let (gb, store) = bias.gradientDestination
            addColumnSums(of: gm, into: gb, beta: store ? 0 : 1)
        }
    }
    if rows == 0 || outFeatures == 0 { return result }
    if inFeatures == 0 {
        if bias == nil { out.data.update(repeating: 0, count: rows * outFeatures) }
        return result
    }
    hat_count_multiply_adds(0, rows * outFeatures * inFeatures)
    let a = x.dataPointer
    if rows <= quantizedSmallRows {
        let run = { (columns: Range<Int>) in
            w.matrix.multiplyTransposed(
                m: rows, k: inFeatures, a: a, lda: inFeatures, rows: (w.firstRow + columns.lowerBound)..<(w.firstRow + columns.upperBound),
                beta: beta, c: out.data + columns.lowerBound, ldc: outFeatures)
        }
        let perThread = Swift.max(64, (1 << 17) / inFeatures)
        if ParallelSettings.threads > 1 && outFeatures >= 2 * perThread {
            parallelFor(outFeatures, minimumPerThread: perThread) { run($0) }
        } else {
            run(0..<outFeatures)
        }
        return result
    }
    let om = MatrixRef(pointer: out.data, rows: rows, cols: outFeatures, rowStride: outFeatures, colStride: 1)
    forEachDecodedPanel(w) { start, panel in
        gemm(om.columns(start..<(start + panel.rows)), xm, panel.transposed, beta: beta)
    }
    return result
}

/// Calls `body` with each panel of the window's rows decoded to floats ([count, columns], about
/// a megabyte) and the panel's first row within the window.
private func forEachDecodedPanel(_ w: QuantizedWindow, _ body: (Int, MatrixRef) -> Void) {
    let panelRows = Swift.min(w.rows, Swift.max(64, (1 << 18) / Swift.max(w.columns, 1)))
    let panel = TensorStorage(count: panelRows * w.columns)
    for start in stride(from: 0, to: w.rows, by: panelRows) {
        let count = Swift.min(panelRows, w.rows - start)
        w.matrix.decodeRows((w.firstRow + start)..<(w.firstRow + start + count), columns: w.columns, into: panel.data, rowStride: w.columns)
        body(start, MatrixRef(pointer: panel.data, rows: count, cols: w.columns, rowStride: w.columns, colStride: 1))
    }
}

/// The most rows of x that `quantizedLinear` multiplies on the codebook kernels directly. They
/// decode a weight again for every tile of 6–8 rows, but split over the threads; decoding a panel
/// once on the calling thread and multiplying it from cache was slower for an encoder's 30 rows
/// (HAT's WMT@137.9 encoder at 4 bits: 17–19 ms against 11, docs/PERFORMANCE.md).
let quantizedSmallRows = 32

/// Rows of a quantized table, decoded (`embedding` on quantized weights; no gradient).
func quantizedEmbedding(_ table: QuantizedWindow, indices: [Int32], shape indexShape: [Int]) -> Tensor {
    let d = table.columns
    for i in indices { precondition(i >= 0 && Int(i) < table.rows, "embedding: index \(i) outside vocabulary of \(table.rows)") }
    let out = TensorStorage(count: indices.count * d)
    for (n, i) in indices.enumerated() {
        let row = table.firstRow + Int(i)
        table.matrix.decodeRows(row..<(row + 1), columns: d, into: out.data + n * d, rowStride: d)
    }
    let shape = indexShape + [d]
    return Tensor(storage: out, shape: shape, strides: contiguousStrides(shape))
}
