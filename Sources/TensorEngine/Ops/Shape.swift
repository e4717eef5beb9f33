/// Views (no copy) and the copies that make views contiguous or join tensors.

extension Tensor {
    /// A view of a leading block: the first `sizes[i]` entries along every axis.
    ///
    /// This is the SubTransformer's window onto a super weight (hat-reference.md §2):
    /// `superWeight.corner([outSub, inSub])` is the top-left block, `superBias.corner([outSub])`
    /// the first entries.
    public func corner(_ sizes: [Int]) -> Tensor {
        precondition(sizes.count == rank, "corner: \(sizes.count) sizes for rank \(rank)")
        for (s, n) in zip(sizes, shape) { precondition(s >= 0 && s <= n, "corner \(sizes) exceeds shape \(shape)") }
        if sizes == shape { return self }
        return view(shape: sizes, strides: strides, offset: offset)
    }

    /// A view of `length` entries starting at `start` along `axis`.
    public func narrow(_ axis: Int, start: Int, length: Int) -> Tensor {
        let ax = self.axis(axis)
        precondition(
            start >= 0 && length >= 0 && start + length <= shape[ax],
            "narrow: \(start)..<\(start + length) outside axis \(ax) of size \(shape[ax])")
        var s = shape
        s[ax] = length
        return view(shape: s, strides: strides, offset: offset + start * strides[ax])
    }

    /// A view with two axes swapped.
    public func transposed(_ a: Int = -2, _ b: Int = -1) -> Tensor {
        var perm = Array(0..<rank)
        perm.swapAt(axis(a), axis(b))
        return permuted(perm)
    }

    /// A view with the axes in the order `dims` (like `torch.permute`).
    public func permuted(_ dims: [Int]) -> Tensor {
        precondition(dims.count == rank && Set(dims.map(axis)).count == rank, "permuted: \(dims) is not a permutation of \(rank) axes")
        let d = dims.map(axis)
        return view(shape: d.map { shape[$0] }, strides: d.map { strides[$0] }, offset: offset)
    }

    /// The same values in another shape (one axis may be -1). A view when contiguous, else a copy.
    public func reshaped(_ newShape: [Int]) -> Tensor {
        var s = newShape
        if let i = s.firstIndex(of: -1) {
            let known = s.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
            precondition(known > 0 && count % known == 0, "reshaped: cannot infer -1 in \(newShape) for \(count) elements")
            s[i] = count / known
        }
        precondition(shapeCount(s) == count, "reshaped: \(newShape) does not hold \(count) elements of \(shape)")
        let base = isContiguous ? self : contiguous()
        return base.view(shape: s, strides: contiguousStrides(s), offset: base.offset)
    }

    /// Splits one axis into several (a view, whatever the strides): [B, T, 512] with
    /// `unflattened(-1, [8, 64])` is [B, T, 8, 64]. How attention splits heads without a copy.
    public func unflattened(_ axis: Int, _ sizes: [Int]) -> Tensor {
        let ax = self.axis(axis)
        precondition(shapeCount(sizes) == shape[ax], "unflattened: \(sizes) does not split axis \(ax) of size \(shape[ax])")
        var newStrides: [Int] = []
        var s = strides[ax]
        for size in sizes.reversed() {
            newStrides.insert(s, at: 0)
            s *= size
        }
        return view(
            shape: Array(shape[..<ax]) + sizes + Array(shape[(ax + 1)...]),
            strides: Array(strides[..<ax]) + newStrides + Array(strides[(ax + 1)...]), offset: offset)
    }

    /// Adds an axis of size 1 at `axis` (a view).
    public func expandedDimensions(_ axis: Int) -> Tensor {
        let ax = axis < 0 ? axis + rank + 1 : axis
        var s = shape, st = strides
        s.insert(1, at: ax)
        st.insert(ax < rank ? strides[ax] * shape[ax] : 1, at: ax)
        return view(shape: s, strides: st, offset: offset)
    }

    /// This tensor in contiguous row-major memory: itself if it already is, else a copy.
    public func contiguous() -> Tensor {
        if isContiguous { return self }
        let out = TensorStorage(count: count)
        copyStrided(from: dataPointer, shape: shape, strides: strides, to: out.data)
        return Tensor.result(out, shape: shape, inputs: [self]) { [self] g in
            accumulateStrided(from: g, into: gradPointer, shape: shape, strides: strides)
        }
    }
}

/// Joins tensors along `axis`; all other axes must agree.
public func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "concatenate: no tensors")
    let first = tensors[0]
    let ax = first.axis(axis)
    for t in tensors {
        precondition(t.rank == first.rank, "concatenate: ranks differ (\(first.shape), \(t.shape))")
        for d in 0..<first.rank where d != ax {
            precondition(t.shape[d] == first.shape[d], "concatenate: shapes \(first.shape) and \(t.shape) differ off axis \(ax)")
        }
    }
    let parts = tensors.map { $0.contiguous() }
    let outer = first.shape[..<ax].reduce(1, *)
    let inner = first.shape[(ax + 1)...].reduce(1, *)
    let total = parts.reduce(0) { $0 + $1.shape[ax] }
    var outShape = first.shape
    outShape[ax] = total
    let out = TensorStorage(count: shapeCount(outShape))
    let outRow = total * inner
    var start = 0
    var starts: [Int] = []
    for p in parts {
        starts.append(start)
        let block = p.shape[ax] * inner
        let src = p.dataPointer
        for o in 0..<outer { (out.data + o * outRow + start).update(from: src + o * block, count: block) }
        start += block
    }
    return Tensor.result(out, shape: outShape, inputs: parts) { g in
        for (p, s) in zip(parts, starts) where p.requiresGrad {
            let block = p.shape[ax] * inner
            let (gp, store) = p.gradientDestination
            for o in 0..<outer {
                let src = g + o * outRow + s, dst = gp + o * block
                emitGradient(dst, store: store, 0..<block) { src[$0] }
            }
        }
    }
}
