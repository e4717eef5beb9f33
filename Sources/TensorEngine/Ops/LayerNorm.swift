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
    let px = x.dataPointer, py = out.data, gamma = weight.dataPointer, pb = bias.dataPointer
    let minRows = Swift.max(1, 16_384 / Swift.max(d, 1))
    parallelFor(rows, minimumPerThread: minRows) { range in
        for r in range {
            let xr = px + r * d, yr = py + r * d
            var s: Float = 0
            for j in 0..<d { s += xr[j] }
            let m = s / Float(d)
            var v: Float = 0
            for j in 0..<d {
                let c = xr[j] - m
                v += c * c
            }
            let rs = 1 / (v / Float(d) + eps).squareRoot()
            mean[r] = m
            rstd[r] = rs
            for j in 0..<d { yr[j] = (xr[j] - m) * rs * gamma[j] + pb[j] }
        }
    }
    let saved = LayerNormStatistics(mean: mean, rstd: rstd)
    return Tensor.result(out, shape: x.shape, inputs: [x, weight, bias]) { g in
        let mean = saved.mean, rstd = saved.rstd
        let dx = x.requiresGrad ? x.gradientDestination : nil
        let wantParameters = weight.requiresGrad || bias.requiresGrad
        // One pass over x and dy: dx per row, and per-chunk partial sums of the weight and
        // bias gradients (combined below), so both cores share the whole backward.
        let chunks = parallelChunkCount(rows, minimumPerThread: minRows)
        let partial = UnsafeMutablePointer<Float>.allocate(capacity: wantParameters ? chunks * 2 * d : 1)
        defer { partial.deallocate() }
        if wantParameters { partial.initialize(repeating: 0, count: chunks * 2 * d) }
        parallelChunks(rows, minimumPerThread: minRows) { chunk, range in
            let pw = partial + chunk * 2 * d, pbias = pw + d
            for r in range {
                let xr = px + r * d, gr = g + r * d
                let m = mean[r], rs = rstd[r]
                if wantParameters {
                    for j in 0..<d {
                        pw[j] += gr[j] * (xr[j] - m) * rs
                        pbias[j] += gr[j]
                    }
                }
                guard let dx else { continue }
                // dx = rstd · (dx̂ − mean(dx̂) − x̂ · mean(dx̂ ⊙ x̂)), with dx̂ = dy ⊙ w
                var sumG: Float = 0, sumGX: Float = 0
                for j in 0..<d {
                    let gh = gr[j] * gamma[j]
                    sumG += gh
                    sumGX += gh * (xr[j] - m) * rs
                }
                let a = sumG / Float(d), b = sumGX / Float(d)
                emitGradient(dx.pointer + r * d, store: dx.store, 0..<d) { j in
                    rs * (gr[j] * gamma[j] - a - (xr[j] - m) * rs * b)
                }
            }
        }
        if wantParameters {
            for chunk in 1..<chunks {
                let src = partial + chunk * 2 * d
                for j in 0..<(2 * d) { partial[j] += src[j] }
            }
            if weight.requiresGrad {
                let (gw, store) = weight.gradientDestination
                emitGradient(gw, store: store, 0..<d) { partial[$0] }
            }
            if bias.requiresGrad {
                let (gb, store) = bias.gradientDestination
                emitGradient(gb, store: store, 0..<d) { partial[d + $0] }
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
