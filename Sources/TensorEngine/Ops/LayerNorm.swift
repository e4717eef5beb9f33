/// Layer normalization over the last axis: (x − mean) / √(var + eps) · weight + bias.
///
/// `weight` and `bias` may be the first entries of super parameters
/// (`superWeight.corner([d])`, hat-reference.md §2): gradients land in that prefix.
/// Variance is the biased one (divide by d), as in PyTorch and fairseq.
public func layerNorm(_ x: Tensor, weight: Tensor, bias: Tensor, eps: Float = 1e-5) -> Tensor {
    let d = x.shape.last ?? 1
    precondition(weight.shape == [d] && bias.shape == [d], "layerNorm: weight \(weight.shape) / bias \(bias.shape) for width \(d)")
    let x = x.contiguous(), weight = weight.contiguous(), bias = bias.contiguous()
    let rows = x.count / Swift.max(d, 1)
    let out = TensorStorage(count: x.count)
    let mean = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(rows, 1))
    let rstd = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(rows, 1))
    let px = x.dataPointer, py = out.data, pw = weight.dataPointer, pb = bias.dataPointer
    let minRows = Swift.max(1, 16_384 / Swift.max(d, 1))
    parallelFor(rows, minimumPerThread: minRows) { range in
        for r in range {
            let xr = px + r * d, yr = py + r * d
            var s: Float = 0
            for j in 0..<d { s += xr[j] }
            let m = s / Float(d)
            var v: Float = 0
            for j in 0..<d { let c = xr[j] - m; v += c * c }
            let rs = 1 / (v / Float(d) + eps).squareRoot()
            mean[r] = m
            rstd[r] = rs
            for j in 0..<d { yr[j] = (xr[j] - m) * rs * pw[j] + pb[j] }
        }
    }
    let saved = LayerNormStatistics(mean: mean, rstd: rstd)
    return Tensor.result(out, shape: x.shape, inputs: [x, weight, bias]) { g in
        let mean = saved.mean, rstd = saved.rstd
        if x.requiresGrad {
            // dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)), with dx̂ = dy ⊙ w
            let gx = x.gradPointer
            parallelFor(rows, minimumPerThread: minRows) { range in
                for r in range {
                    let xr = px + r * d, gr = g + r * d, dr = gx + r * d
                    let m = mean[r], rs = rstd[r]
                    var sumG: Float = 0, sumGX: Float = 0
                    for j in 0..<d {
                        let gh = gr[j] * pw[j]
                        sumG += gh
                        sumGX += gh * (xr[j] - m) * rs
                    }
                    let a = sumG / Float(d), b = sumGX / Float(d)
                    for j in 0..<d {
                        let xh = (xr[j] - m) * rs
                        dr[j] += rs * (gr[j] * pw[j] - a - xh * b)
                    }
                }
            }
        }
        if weight.requiresGrad || bias.requiresGrad {
            let gw = weight.requiresGrad ? weight.gradPointer : nil
            let gb = bias.requiresGrad ? bias.gradPointer : nil
            for r in 0..<rows {
                let xr = px + r * d, gr = g + r * d
                let m = mean[r], rs = rstd[r]
                if let gw { for j in 0..<d { gw[j] += gr[j] * (xr[j] - m) * rs } }
                if let gb { for j in 0..<d { gb[j] += gr[j] } }
            }
        }
    }
}

/// Per-row statistics kept for the backward pass; freed with the graph.
private final class LayerNormStatistics {
    let mean: UnsafeMutablePointer<Float>
    let rstd: UnsafeMutablePointer<Float>
    init(mean: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>) {
        self.mean = mean
        self.rstd = rstd
    }
    deinit {
        mean.deallocate()
        rstd.deallocate()
    }
}
