import CKernels

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
            for j in 0..<width {
                let e = expf(xr[j] - m)
                yr[j] = e
                s += e
            }
            let inv = 1 / s
            for j in 0..<width { yr[j] *= inv }
        }
    }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        let (gx, store) = x.gradientDestination
        softmaxBackward(y: py, gradient: g, into: gx, store: store, rows: rows, width: width)
    }
}

/// dx += y ⊙ (dy − Σ dy⊙y) per row: the backward of softmax (masked entries have y = 0).
/// `store` overwrites dx instead (a fresh gradient buffer).
private func softmaxBackward(
    y py: UnsafeMutablePointer<Float>, gradient g: UnsafeMutablePointer<Float>,
    into gx: UnsafeMutablePointer<Float>, store: Bool, rows: Int, width: Int
) {
    parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
        for r in range {
            let yr = py + r * width, gr = g + r * width, dr = gx + r * width
            var dot: Float = 0
            for j in 0..<width { dot += gr[j] * yr[j] }
            emitGradient(dr, store: store, 0..<width) { yr[$0] * (gr[$0] - dot) }
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
        hat_log_softmax_rows(px + range.lowerBound * width, py + range.lowerBound * width, range.count, width)
    }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        // dx = dy − softmax(x) · Σ dy
        let (gx, store) = x.gradientDestination
        parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(width, 1))) { range in
            for r in range {
                let yr = py + r * width, gr = g + r * width, dr = gx + r * width
                var s: Float = 0
                for j in 0..<width { s += gr[j] }
                emitGradient(dr, store: store, 0..<width) { gr[$0] - expf(yr[$0]) * s }
            }
        }
    }
}

/// Which attention scores to exclude before the softmax.
public struct AttentionMask: Sendable {
    /// Batch × key-length flags, true where the key is padding (fairseq's key_padding_mask).
    public var keyPadding: [Bool]?
    /// Whether query t may only attend to keys 0...t (decoder self-attention, teacher forcing).
    public var causal: Bool
    /// For incremental decoding: the position of the first query, so query i is at `queryOffset + i`.
    public var queryOffset: Int

    public init(keyPadding: [Bool]? = nil, causal: Bool = false, queryOffset: Int = 0) {
        self.keyPadding = keyPadding
        self.causal = causal
        self.queryOffset = queryOffset
    }
}

/// Softmax over the last axis of attention scores [B, H, T, S] with masked keys excluded.
///
/// Equivalent to `softmax(scores + additiveMask)` with −∞ at masked keys, without building the
/// mask tensor or a broadcast pass. A row whose keys are all masked gives zeros (not NaN).
public func maskedSoftmax(_ scores: Tensor, mask: AttentionMask) -> Tensor {
    precondition(scores.rank == 4, "maskedSoftmax expects [batch, heads, queries, keys], got \(scores.shape)")
    let x = scores.contiguous()
    let (b, h, t, s) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    if let pad = mask.keyPadding { precondition(pad.count == b * s, "maskedSoftmax: key padding mask has \(pad.count) flags for \(b)×\(s)") }
    let out = TensorStorage(count: x.count)
    let px = x.dataPointer, py = out.data
    let rows = b * h * t
    let padding = mask.keyPadding
    let causal = mask.causal, offset = mask.queryOffset
    parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(s, 1))) { range in
        for r in range {
            let batch = r / (h * t), query = r % t
            let xr = px + r * s, yr = py + r * s
            // Keys allowed for this row: [0, limit) minus padding.
            let limit = causal ? Swift.min(s, offset + query + 1) : s
            var m = -Float.infinity
            for j in 0..<limit where padding?[batch * s + j] != true { m = Swift.max(m, xr[j]) }
            if m == -Float.infinity {
                for j in 0..<s { yr[j] = 0 }
                continue
            }
            var sum: Float = 0
            for j in 0..<s {
                let masked = j >= limit || padding?[batch * s + j] == true
                let e = masked ? 0 : expf(xr[j] - m)
                yr[j] = e
                sum += e
            }
            let inv = 1 / sum
            for j in 0..<s { yr[j] *= inv }
        }
    }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        let (gx, store) = x.gradientDestination
        softmaxBackward(y: py, gradient: g, into: gx, store: store, rows: rows, width: s)
    }
}
