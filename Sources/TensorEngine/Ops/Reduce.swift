/// Sums and means.

extension Tensor {
    /// Sum of all elements (a 0-dimensional tensor). Accumulates in Double for accuracy.
    public func sum() -> Tensor {
        let x = contiguous()
        let n = x.count
        let p = x.dataPointer
        var s: Double = 0
        for i in 0..<n { s += Double(p[i]) }
        let out = TensorStorage(count: 1)
        out.data[0] = Float(s)
        return Tensor.result(out, shape: [], inputs: [x]) { g in
            let (gx, store) = x.gradientDestination
            let gv = g[0]
            parallelFor(n) { r in emitGradient(gx, store: store, r) { _ in gv } }
        }
    }

    /// Mean of all elements.
    public func mean() -> Tensor { sum() * (1 / Float(Swift.max(count, 1))) }

    /// Sum along `axis`; `keepDims` keeps it with size 1.
    public func sum(axis: Int, keepDims: Bool = false) -> Tensor {
        let ax = self.axis(axis)
        let x = contiguous()
        let outer = shape[..<ax].reduce(1, *), n = shape[ax], inner = shape[(ax + 1)...].reduce(1, *)
        var outShape = shape
        if keepDims { outShape[ax] = 1 } else { outShape.remove(at: ax) }
        let out = TensorStorage(count: outer * inner, zeroed: true)
        let px = x.dataPointer, po = out.data
        for o in 0..<outer {
            for k in 0..<n {
                let src = px + (o * n + k) * inner, dst = po + o * inner
                for i in 0..<inner { dst[i] += src[i] }
            }
        }
        return Tensor.result(out, shape: outShape, inputs: [x]) { g in
            let gx = x.gradPointer
            for o in 0..<outer {
                for k in 0..<n {
                    let dst = gx + (o * n + k) * inner, src = g + o * inner
                    for i in 0..<inner { dst[i] += src[i] }
                }
            }
        }
    }

    /// Mean along `axis`.
    public func mean(axis: Int, keepDims: Bool = false) -> Tensor {
        sum(axis: axis, keepDims: keepDims) * (1 / Float(Swift.max(shape[self.axis(axis)], 1)))
    }
}
