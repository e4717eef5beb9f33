/// Looks up rows of `table` [V, D] for integer `indices` of shape `indexShape` → [indexShape..., D].
///
/// `table` may be the first D columns of a wider super table (`superTable.corner([V, d])`,
/// hat-reference.md §2). The gradient is a scatter-add into those rows and columns.
public func embedding(_ table: Tensor, indices: [Int32], shape indexShape: [Int]) -> Tensor {
    precondition(table.rank == 2, "embedding: table must be [vocab, dim], got \(table.shape)")
    precondition(indices.count == shapeCount(indexShape), "embedding: \(indices.count) indices for shape \(indexShape)")
    if let quantized = table.quantizedWindow { return quantizedEmbedding(quantized, indices: indices, shape: indexShape) }
    let table = table.strides[1] == 1 ? table : table.contiguous()
    let vocab = table.shape[0], d = table.shape[1], rowStride = table.strides[0]
    for i in indices { precondition(i >= 0 && Int(i) < vocab, "embedding: index \(i) outside vocabulary of \(vocab)") }
    let out = TensorStorage(count: indices.count * d)
    let pt = table.dataPointer
    for (n, i) in indices.enumerated() {
        (out.data + n * d).update(from: pt + Int(i) * rowStride, count: d)
    }
    return Tensor.result(out, shape: indexShape + [d], inputs: [table]) { g in
        let gt = table.gradPointer
        for (n, i) in indices.enumerated() {
            let dst = gt + Int(i) * rowStride, src = g + n * d
            for j in 0..<d { dst[j] += src[j] }
        }
    }
}
