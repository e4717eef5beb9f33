#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Softmax over the last axis. Entries of -inf (additive masks) get probability 0.
public func softmax(_ x: Tensor) -> Tensor {
    let x = x.contiguous()
    let width = x.shape.last ?? 1
    let rows = x.count / Swift.max(width, 1)
    let out = TensorStorage(count: x.count)
    let px = x.dataPointer, py = out.data
    parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range {
            let xr = px + r * width, yr = py + r * width
            var m = -Float.infinity
            for j in 0..<width { m = Swift.max(m, xr[j]) }
            var s: Float = 0
            for j in 0..<width { let e = expf(xr[j] - m); yr[j] = e; s += e }
            let inv = 1 / s
            for j in 0..<width { yr[j] *= inv }
        }
    }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        // dx = y ⊙ (dy − Σ dy⊙y)
        let gx = x.gradPointer
        parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
            for r in range {
                let yr = py + r * width, gr = g + r * width, dr = gx + r * width
                var dot: Float = 0
                for j in 0..<width { dot += gr[j] * yr[j] }
                for j in 0..<width { dr[j] += yr[j] * (gr[j] - dot) }
            }
        }
    }
}

/// log(softmax(x)) over the last axis, computed stably as x − max − log Σ exp(x − max).
public func logSoftmax(_ x: Tensor) -> Tensor {
    let x = x.contiguous()
    let width = x.shape.last ?? 1
    let rows = x.count / Swift.max(width, 1)
    let out = TensorStorage(count: x.count)
    let px = x.dataPointer, py = out.data
    parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range {
            let xr = px + r * width, yr = py + r * width
            var m = -Float.infinity
            for j in 0..<width { m = Swift.max(m, xr[j]) }
            var s: Float = 0
            for j in 0..<width { s += expf(xr[j] - m) }
            let lse = m + logf(s)
            for j in 0..<width { yr[j] = xr[j] - lse }
        }
    }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        // dx = dy − softmax(x) · Σ dy
        let gx = x.gradPointer
        parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
            for r in range {
                let yr = py + r * width, gr = g + r * width, dr = gx + r * width
                var s: Float = 0
                for j in 0..<width { s += gr[j] }
                for j in 0..<width { dr[j] += gr[j] - expf(yr[j]) * s }
            }
        }
    }
}
