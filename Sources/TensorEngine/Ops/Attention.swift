#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Multi-head scaled dot-product attention in one op: for every batch element b and head h,
///   P = softmax(Q_bh K_bhᵀ / √hd + mask),  P' = dropout(P),  O[b, :, h·hd ..< (h+1)·hd] = P' V_bh
///
///   query [B, T, H·hd], key and value [B, S, H·hd] (views with a unit last stride, such as the
///   column blocks of a packed QKV projection) → [B, T, H·hd], heads already merged.
///
/// The same math as `maskedSoftmax(matmul(q·scale, kᵀ))`, dropout, `matmul(·, v)` and the
/// head-merging copy, which cost a scaling pass, four tensors, a strided copy forward and a
/// strided accumulate backward; here the heads are read and written in place (GEMM leading
/// dimensions), the scale rides on the GEMM's alpha, and the (b, h) products, tiny for
/// training-sized sequences (32×32×64), run on both cores instead of one BLAS call after another.
///
/// The dropout mask is drawn from `rng` over [B, H, T, S] in row-major order, exactly as
/// `dropout(probabilities, p:rng:)` draws it, so seeded runs keep their random stream.
/// `query`, `key` and `value` may share a storage (disjoint column blocks) or be the same tensor.
public func multiHeadAttention(
    query: Tensor, key: Tensor, value: Tensor, heads: Int, mask: AttentionMask,
    dropout p: Float, rng: inout RandomGenerator
) -> Tensor {
    precondition(
        query.rank == 3 && key.rank == 3 && value.rank == 3,
        "multiHeadAttention: query, key and value are [batch, length, features]")
    let q = query.strides[2] == 1 ? query : query.contiguous()
    let k = key.strides[2] == 1 ? key : key.contiguous()
    let v = value.strides[2] == 1 ? value : value.contiguous()
    let (b, t, width) = (q.shape[0], q.shape[1], q.shape[2])
    let s = k.shape[1]
    precondition(
        k.shape == [b, s, width] && v.shape == [b, s, width],
        "multiHeadAttention: query \(q.shape), key \(k.shape), value \(v.shape) do not match")
    precondition(heads > 0 && width % heads == 0, "multiHeadAttention: \(heads) heads do not divide \(width) features")
    precondition(p >= 0 && p < 1, "dropout probability \(p) must be in [0, 1)")
    if let pad = mask.keyPadding { precondition(pad.count == b * s, "multiHeadAttention: key padding mask has \(pad.count) flags for \(b)×\(s)") }
    let hd = width / heads
    let scale = 1 / Float(hd).squareRoot()
    let blocks = b * heads, block = t * s

    // Softmax probabilities P (kept for the backward pass) and, with dropout, P' and the mask.
    let probabilities = TensorStorage(count: blocks * block)
    let dropped: TensorStorage?
    let keep: DropoutMask?
    let keepScale = 1 / (1 - p)
    if p > 0 {
        let mask = DropoutMask(count: blocks * block)
        let threshold = UInt64((Double(p) * 16_777_216.0).rounded())
        for i in 0..<(blocks * block) { mask.keep[i] = (rng.next() >> 40) >= threshold ? 1 : 0 }
        keep = mask
        dropped = TensorStorage(count: blocks * block)
    } else {
        keep = nil
        dropped = nil
    }
    let allowed = AllowedKeys(mask, batch: b, queries: t, keys: s)

    let out = TensorStorage(count: b * t * width)
    let pq = q.dataPointer, pk = k.dataPointer, pv = v.dataPointer
    let pp = probabilities.data, pd = dropped?.data ?? probabilities.data, po = out.data
    // Head h of batch element i in a [B, L, H·hd] view with strides st: its [L, hd] matrix.
    func head(_ base: UnsafeMutablePointer<Float>, _ x: Tensor, _ i: Int, _ h: Int, rows: Int) -> MatrixRef {
        MatrixRef(pointer: base + i * x.strides[0] + h * hd, rows: rows, cols: hd, rowStride: x.strides[1], colStride: 1)
    }
    // Without a tape (decoding) the per-head products, a few rows each, go to the small-M kernels:
    // packing them for the large-product GEMM costs more than the products.
    let smallM = !GradMode.isEnabled
    let parallel = AttentionParallelism(blocks: blocks, t: t, s: s, hd: hd)
    parallel.run { _, range in
        for bh in range {
            let (i, h) = (bh / heads, bh % heads)
            let scores = MatrixRef(pointer: pp + bh * block, rows: t, cols: s, rowStride: s, colStride: 1)
            gemm(scores, head(pq, q, i, h, rows: t), head(pk, k, i, h, rows: s).transposed, alpha: scale, beta: 0, smallM: smallM)
            for row in 0..<t { allowed.softmax(scores.pointer + row * s, batch: i, query: row) }
            if let keep {
                let mk = keep.keep + bh * block, src = pp + bh * block, dst = pd + bh * block
                for j in 0..<block { dst[j] = src[j] * (Float(mk[j]) * keepScale) }
            }
            let weights = MatrixRef(pointer: pd + bh * block, rows: t, cols: s, rowStride: s, colStride: 1)
            let o = MatrixRef(pointer: po + i * t * width + h * hd, rows: t, cols: hd, rowStride: width, colStride: 1)
            gemm(o, weights, head(pv, v, i, h, rows: s), beta: 0, smallM: smallM)
        }
    }

    return Tensor.result(out, shape: [b, t, width], inputs: [q, k, v]) { g in
        _ = (probabilities, dropped)  // kept alive with the graph
        // A fresh destination may be stored into only if no other operand writes the same storage.
        func destination(_ x: Tensor, _ others: [Tensor]) -> (pointer: UnsafeMutablePointer<Float>, store: Bool)? {
            guard x.requiresGrad else { return nil }
            if others.contains(where: { $0.storage === x.storage }) { return (x.gradPointer, false) }
            return x.gradientDestination
        }
        let dq = destination(q, [k, v]), dk = destination(k, [q, v]), dv = destination(v, [q, k])
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: parallel.chunks * block)
        defer { scratch.deallocate() }
        parallel.run { chunk, range in
            let dP = scratch + chunk * block
            let dPm = MatrixRef(pointer: dP, rows: t, cols: s, rowStride: s, colStride: 1)
            for bh in range {
                let (i, h) = (bh / heads, bh % heads)
                let dO = MatrixRef(pointer: g + i * t * width + h * hd, rows: t, cols: hd, rowStride: width, colStride: 1)
                let weights = MatrixRef(pointer: pd + bh * block, rows: t, cols: s, rowStride: s, colStride: 1)
                if let dv {  // dV += P'ᵀ · dO
                    gemm(head(dv.pointer, v, i, h, rows: s), weights.transposed, dO, beta: dv.store ? 0 : 1)
                }
                guard dq != nil || dk != nil else { continue }
                gemm(dPm, dO, head(pv, v, i, h, rows: s).transposed, beta: 0)  // dP' = dO · Vᵀ
                if let keep {  // through the dropout: dP = dP' ⊙ mask / (1 − p)
                    let mk = keep.keep + bh * block
                    for j in 0..<block { dP[j] *= Float(mk[j]) * keepScale }
                }
                // Through the softmax: dS = P ⊙ (dP − Σ_row dP ⊙ P), masked entries have P = 0.
                let prob = pp + bh * block
                for row in 0..<t {
                    let pr = prob + row * s, gr = dP + row * s
                    var dot: Float = 0
                    for j in 0..<s { dot += gr[j] * pr[j] }
                    for j in 0..<s { gr[j] = pr[j] * (gr[j] - dot) }
                }
                if let dq {  // dQ += scale · dS · K
                    gemm(head(dq.pointer, q, i, h, rows: t), dPm, head(pk, k, i, h, rows: s), alpha: scale, beta: dq.store ? 0 : 1)
                }
                if let dk {  // dK += scale · dSᵀ · Q
                    gemm(
                        head(dk.pointer, k, i, h, rows: s), dPm.transposed, head(pq, q, i, h, rows: t), alpha: scale,
                        beta: dk.store ? 0 : 1)
                }
            }
        }
    }
}

/// Which keys each query may see (key padding, causality), and the masked softmax of one row.
private struct AllowedKeys {
    /// B × S flags, true where the key is padding; nil when there is none.
    let padding: [Bool]?
    let causal: Bool
    let queryOffset: Int
    let keys: Int

    init(_ mask: AttentionMask, batch: Int, queries: Int, keys: Int) {
        padding = mask.keyPadding.flatMap { $0.contains(true) ? $0 : nil }
        causal = mask.causal
        queryOffset = mask.queryOffset
        self.keys = keys
    }

    /// Softmax in place over row `x` (the scores of query `query` of batch element `batch`);
    /// masked keys get 0, a row with every key masked gets zeros (not NaN).
    @inline(__always)
    func softmax(_ x: UnsafeMutablePointer<Float>, batch: Int, query: Int) {
        let s = keys
        let limit = causal ? Swift.min(s, queryOffset + query + 1) : s
        if let padding {
            padding.withUnsafeBufferPointer { pad in
                let flags = pad.baseAddress! + batch * s
                var m = -Float.infinity
                for j in 0..<limit where !flags[j] { m = Swift.max(m, x[j]) }
                normalize(x, limit: limit, max: m) { !flags[$0] }
            }
        } else {
            var m = -Float.infinity
            for j in 0..<limit { m = Swift.max(m, x[j]) }
            normalize(x, limit: limit, max: m) { _ in true }
        }
    }

    @inline(__always)
    private func normalize(_ x: UnsafeMutablePointer<Float>, limit: Int, max m: Float, _ kept: (Int) -> Bool) {
        if m == -Float.infinity {
            x.update(repeating: 0, count: keys)
            return
        }
        var sum: Float = 0
        for j in 0..<limit {
            let e = kept(j) ? expf(x[j] - m) : 0
            x[j] = e
            sum += e
        }
        for j in limit..<keys { x[j] = 0 }
        let inv = 1 / sum
        for j in 0..<limit { x[j] *= inv }
    }
}

/// How the (batch, head) blocks are spread over the cores. Blocks whose two products are small
/// (m·n·k ≤ 2¹⁸, where splitting a product would cost more than it saves) run side by side, one
/// chunk of blocks per core; larger blocks run one after another and each of their products
/// splits over the cores itself (`BLAS.productThreads`).
private struct AttentionParallelism {
    let blocks: Int
    let chunks: Int
    let minimumPerThread: Int

    init(blocks: Int, t: Int, s: Int, hd: Int) {
        self.blocks = blocks
        let small = t * s * hd <= 262_144 && t * hd * s <= 262_144
        minimumPerThread = small ? 8 : Int.max
        chunks = parallelChunkCount(blocks, minimumPerThread: minimumPerThread)
    }

    func run(_ body: (Int, Range<Int>) -> Void) {
        parallelChunks(blocks, minimumPerThread: minimumPerThread, body)
    }
}
