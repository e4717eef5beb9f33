import CKernels
import Foundation
import Testing

@testable import TensorEngine

/// The small-M kernels (Sources/CKernels) against CBLAS: every implementation this CPU runs
/// (portable C, AVX2, AVX-512), many shapes, operands that are windows of larger matrices
/// (leading dimensions, offsets), alpha/beta, and the paths through `gemm`, `linear`, `matmul`.
@Suite("Small-M GEMM")
struct SmallGEMMTests {
    /// The implementations to check: 0 (portable) up to the best this CPU has.
    static let isas = Array(0...Int(hat_kernel_isa()))

    /// A row-major buffer of `rows` × `ld` random values; the window is its [rows, cols] corner
    /// starting `offset` elements in.
    struct Buffer {
        var values: [Float]
        init(count: Int, rng: inout RandomGenerator) {
            values = (0..<count).map { _ in rng.nextFloat() * 2 - 1 }
        }
    }

    /// |ours − reference| ≤ 1e-5 · (Σ_k |a_mk·b_kn| · |alpha| + |beta · c_mn|) + tiny, per element:
    /// a relative bound that holds for any summation order.
    static func check(_ ours: [Float], _ reference: [Float], scale: [Float], label: String) {
        var worst: Float = 0
        for i in ours.indices {
            let err = abs(ours[i] - reference[i]) / (scale[i] + 1e-30)
            if scale[i] == 0 { #expect(ours[i] == reference[i], "\(label) [\(i)]: \(ours[i]) vs \(reference[i])") }
            worst = max(worst, err)
        }
        #expect(worst <= 1e-5, "\(label): worst relative error \(worst)")
    }

    /// C[M,N] = alpha·A·B + beta·C with B in either layout, on windows of larger buffers.
    /// `bTransposed`: B[k,n] = b[n·ldb + k] (a weight [N, K], as `linear` reads it).
    func runCase(m: Int, n: Int, k: Int, bTransposed: Bool, alpha: Float, beta: Float, rng: inout RandomGenerator) {
        let lda = k + 3, ldc = n + 2, ldb = (bTransposed ? k : n) + 5
        let aOff = 7, bOff = 11, cOff = 4
        let a = Buffer(count: aOff + max(m, 1) * lda, rng: &rng).values
        let b = Buffer(count: bOff + (bTransposed ? n : k) * ldb + 1, rng: &rng).values
        var c0 = Buffer(count: cOff + m * ldc + 3, rng: &rng).values
        if beta == 0 { for i in 0..<m { for j in 0..<n { c0[cOff + i * ldc + j] = .nan } } }  // must not be read
        var scale = [Float](repeating: 0, count: c0.count)
        for i in 0..<m {
            for j in 0..<n {
                var s: Float = 0
                for p in 0..<k {
                    let bv = bTransposed ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j]
                    s += abs(a[aOff + i * lda + p] * bv)
                }
                scale[cOff + i * ldc + j] = abs(alpha) * s + (beta == 0 ? 0 : abs(beta * c0[cOff + i * ldc + j])) + 1e-6
            }
        }
        func matrices(
            _ pa: UnsafeMutablePointer<Float>, _ pb: UnsafeMutablePointer<Float>, _ pc: UnsafeMutablePointer<Float>
        )
            -> (MatrixRef, MatrixRef, MatrixRef)
        {
            let am = MatrixRef(pointer: pa + aOff, rows: m, cols: k, rowStride: lda, colStride: 1)
            let bm =
                bTransposed
                ? MatrixRef(pointer: pb + bOff, rows: k, cols: n, rowStride: 1, colStride: ldb)
                : MatrixRef(pointer: pb + bOff, rows: k, cols: n, rowStride: ldb, colStride: 1)
            let cm = MatrixRef(pointer: pc + cOff, rows: m, cols: n, rowStride: ldc, colStride: 1)
            return (am, bm, cm)
        }
        var aCopy = a, bCopy = b
        // Reference: CBLAS (beta = 0 with NaN in C is BLAS's documented "C need not be set").
        var reference = c0
        aCopy.withUnsafeMutableBufferPointer { pa in
            bCopy.withUnsafeMutableBufferPointer { pb in
                reference.withUnsafeMutableBufferPointer { pc in
                    let (am, bm, cm) = matrices(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    gemm(cm, am, bm, alpha: alpha, beta: beta, smallM: false)
                }
            }
        }
        let label = "M\(m) N\(n) K\(k) \(bTransposed ? "NT" : "NN") alpha \(alpha) beta \(beta)"
        for isa in Self.isas {
            var c = c0
            aCopy.withUnsafeMutableBufferPointer { pa in
                bCopy.withUnsafeMutableBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        let p = pc.baseAddress! + cOff
                        if bTransposed {
                            hat_sgemm_small_nt_isa(Int32(isa), m, n, k, alpha, pa.baseAddress! + aOff, lda, pb.baseAddress! + bOff, ldb, beta, p, ldc)
                        } else {
                            hat_sgemm_small_nn_isa(Int32(isa), m, n, k, alpha, pa.baseAddress! + aOff, lda, pb.baseAddress! + bOff, ldb, beta, p, ldc)
                        }
                    }
                }
            }
            Self.check(c, reference, scale: scale, label: "\(label) isa \(isa)")
            // Outside the window nothing changes.
            for i in c.indices {
                let row = (i - cOff) / ldc, col = (i - cOff) % ldc
                let inside = i >= cOff && row < m && col < n
                if !inside { #expect(c[i] == c0[i] || (c[i].isNaN && c0[i].isNaN), "\(label) isa \(isa): wrote outside C at \(i)") }
            }
        }
        // And through `gemm` (the engine's dispatch, best implementation).
        var viaGEMM = c0
        aCopy.withUnsafeMutableBufferPointer { pa in
            bCopy.withUnsafeMutableBufferPointer { pb in
                viaGEMM.withUnsafeMutableBufferPointer { pc in
                    let (am, bm, cm) = matrices(pa.baseAddress!, pb.baseAddress!, pc.baseAddress!)
                    gemm(cm, am, bm, alpha: alpha, beta: beta, smallM: true)
                }
            }
        }
        Self.check(viaGEMM, reference, scale: scale, label: "\(label) via gemm")
    }

    @Test("NT (x·Wᵀ) matches CBLAS on windows, every implementation", arguments: [1, 2, 3, 5, 6, 7, 10, 13, 16])
    func nt(m: Int) {
        var rng = RandomGenerator(seed: UInt64(100 + m))
        for n in [1, 2, 3, 4, 5, 9, 17, 64, 131] {
            for k in [1, 3, 7, 8, 15, 16, 17, 31, 33, 64, 100, 513] {
                runCase(m: m, n: n, k: k, bTransposed: true, alpha: 1, beta: 0, rng: &rng)
            }
        }
        runCase(m: m, n: 37, k: 45, bTransposed: true, alpha: 1, beta: 1, rng: &rng)
        runCase(m: m, n: 37, k: 45, bTransposed: true, alpha: 0.5, beta: -2, rng: &rng)
        runCase(m: m, n: 5, k: 0, bTransposed: true, alpha: 1, beta: 0.5, rng: &rng)
    }

    @Test("NN (probabilities·V) matches CBLAS on windows, every implementation", arguments: [1, 2, 5, 6, 7, 16])
    func nn(m: Int) {
        var rng = RandomGenerator(seed: UInt64(200 + m))
        for n in [1, 3, 7, 8, 9, 16, 17, 31, 64, 100] {
            for k in [1, 2, 5, 16, 23, 64] {
                runCase(m: m, n: n, k: k, bTransposed: false, alpha: 1, beta: 0, rng: &rng)
            }
        }
        runCase(m: m, n: 33, k: 19, bTransposed: false, alpha: 1, beta: 1, rng: &rng)
        runCase(m: m, n: 33, k: 19, bTransposed: false, alpha: -1.5, beta: 0.25, rng: &rng)
    }

    @Test("a wide product split over two threads matches CBLAS")
    func threaded() {
        ParallelSettings.withThreads(2) {
            var rng = RandomGenerator(seed: 5)
            runCase(m: 5, n: 2051, k: 512, bTransposed: true, alpha: 1, beta: 1, rng: &rng)
            runCase(m: 3, n: 4099, k: 130, bTransposed: true, alpha: 1, beta: 0, rng: &rng)
        }
    }

    /// The public ops: without a tape `linear` and `matmul` take the small-M kernels; with one,
    /// CBLAS. Both must agree on corners of super weights and on attention's permuted views.
    @Test("linear and matmul without a tape agree with the taped (CBLAS) path")
    func ops() {
        var rng = RandomGenerator(seed: 9)
        let superW = Tensor.randn([700, 96], rng: &rng).requiringGrad()
        let superB = Tensor.randn([700], rng: &rng).requiringGrad()
        for rows in [1, 5, 10, 16, 17] {
            let x = Tensor.randn([rows, 1, 80], rng: &rng)
            let taped = linear(x, weight: superW.corner([655, 80]), bias: superB.corner([655])).detached().toArray()
            let fast = withNoGrad { linear(x, weight: superW.corner([655, 80]), bias: superB.corner([655])).toArray() }
            let scale = (0..<(rows * 655)).map { i -> Float in
                let (r, j) = (i / 655, i % 655)
                var s: Float = abs(superB.storage.data[j])
                for p in 0..<80 { s += abs(x.storage.data[r * 80 + p] * superW.storage.data[j * 96 + p]) }
                return s
            }
            Self.check(fast, taped, scale: scale, label: "linear rows \(rows)")
        }
        // Attention of one query per row against a strided cache: [B, H, 1, hd] · [B, H, hd, S], then · V.
        let (b, h, hd, s, maxS) = (5, 4, 16, 9, 12)
        let cache = Tensor.randn([b, maxS, h * hd], rng: &rng).requiringGrad()
        let keys = Tensor(storage: cache.storage, shape: [b, s, h * hd], strides: [maxS * h * hd, h * hd, 1])
            .unflattened(-1, [h, hd]).permuted([0, 2, 1, 3])
        let q = Tensor.randn([b, 1, h * hd], rng: &rng).unflattened(-1, [h, hd]).permuted([0, 2, 1, 3])
        let p = Tensor.randn([b, h, 1, s], rng: &rng)
        func absolute(_ t: Tensor) -> Tensor { Tensor(t.contiguous().toArray().map { abs($0) }, shape: t.shape) }
        for (name, lhs, rhs) in [("q·kᵀ", q, keys.transposed(-1, -2)), ("p·v", p, keys)] {
            let reference = matmul(lhs, rhs).detached().toArray()  // grad mode on: CBLAS
            let fast = withNoGrad { matmul(lhs, rhs).toArray() }
            let scale = matmul(absolute(lhs), absolute(rhs)).detached().toArray()
            Self.check(fast, reference, scale: scale, label: name)
        }
    }

    @Test("vectorized log-softmax matches a Double reference, every implementation")
    func logSoftmaxRows() {
        var rng = RandomGenerator(seed: 3)
        for width in [1, 2, 7, 8, 9, 15, 16, 17, 33, 100, 6632, 32768] {
            let rows = 3
            var x = (0..<(rows * width)).map { _ in (rng.nextFloat() - 0.5) * 60 }
            if width > 4 {
                x[1] = -.infinity
                x[width + 2] = -90
            }
            var reference = [Float](repeating: 0, count: x.count)
            for r in 0..<rows {
                let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
                let m = row.max()!
                let lse = m + log(row.reduce(0) { $0 + exp($1 - m) })
                for j in 0..<width { reference[r * width + j] = Float(row[j] - lse) }
            }
            for isa in Self.isas {
                var y = [Float](repeating: .nan, count: x.count)
                hat_log_softmax_rows_isa(Int32(isa), x, &y, rows, width)
                for i in y.indices where reference[i].isFinite {
                    #expect(
                        abs(y[i] - reference[i]) <= 1e-5 * max(1, abs(reference[i])),
                        "width \(width) isa \(isa) [\(i)]: \(y[i]) vs \(reference[i])")
                }
                for i in y.indices where !reference[i].isFinite { #expect(y[i] == -.infinity) }
            }
        }
    }

    @Test("vectorized loss row sums and gradient rows match a Double reference, every implementation")
    func lossRows() {
        var rng = RandomGenerator(seed: 4)
        for width in [1, 7, 8, 9, 16, 17, 33, 6632] {
            let rows = 3
            let x = (0..<(rows * width)).map { _ in (rng.nextFloat() - 0.5) * 60 }
            var lseReference = [Double](), totalReference = [Double]()
            for r in 0..<rows {
                let row = x[(r * width)..<((r + 1) * width)].map(Double.init)
                let m = row.max()!
                lseReference.append(m + log(row.reduce(0) { $0 + exp($1 - m) }))
                totalReference.append(row.reduce(0, +))
            }
            for isa in Self.isas {
                var lse = [Float](repeating: .nan, count: rows), total = [Float](repeating: .nan, count: rows)
                hat_logsumexp_rows_isa(Int32(isa), x, rows, width, &lse, &total)
                for r in 0..<rows {
                    #expect(
                        abs(Double(lse[r]) - lseReference[r]) <= 1e-5 * max(1, abs(lseReference[r])),
                        "width \(width) isa \(isa) row \(r): lse \(lse[r]) vs \(lseReference[r])")
                    #expect(
                        abs(Double(total[r]) - totalReference[r]) <= 1e-5 * Double(width) * 30,
                        "width \(width) isa \(isa) row \(r): total \(total[r]) vs \(totalReference[r])")
                }
                // The gradient row: a·softmax + b, stored, then accumulated onto itself.
                let (a, b) = (Float(0.75), Float(-0.01))
                let shift = Float(lseReference[1])
                var out = [Float](repeating: .nan, count: width)
                x.withUnsafeBufferPointer { px in
                    hat_affine_exp_row_isa(Int32(isa), px.baseAddress! + width, width, shift, a, b, &out, 0)
                }
                let stored = out
                x.withUnsafeBufferPointer { px in
                    hat_affine_exp_row_isa(Int32(isa), px.baseAddress! + width, width, shift, a, b, &out, 1)
                }
                for j in 0..<width {
                    let reference = Double(a) * exp(Double(x[width + j]) - lseReference[1]) + Double(b)
                    #expect(abs(Double(stored[j]) - reference) <= 1e-6, "width \(width) isa \(isa) [\(j)]: \(stored[j]) vs \(reference)")
                    #expect(abs(Double(out[j]) - 2 * reference) <= 2e-6, "width \(width) isa \(isa) [\(j)] accumulated: \(out[j]) vs \(2 * reference)")
                }
            }
        }
    }
}
