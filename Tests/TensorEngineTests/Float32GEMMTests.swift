import CKernels
import Foundation
import Testing

@testable import TensorEngine

/// The engine's float32 GEMM (Sources/CKernels/sgemm.c) against a float64 product: every
/// implementation this CPU runs (portable C, AVX2+FMA, AVX-512), operands that are strided or
/// transposed windows of larger buffers, and the edges of every blocking (M and N not multiples of
/// the 12 × 32, 6 × 16 and 4 × 16 tiles, K over one 256-deep slice, M over one 192-tall block, N
/// over one 2,048-wide slice), alpha and beta; then the same products through `gemm` on whichever
/// kernel this process chose, split over threads.
@Suite("float32 GEMM")
struct Float32GEMMTests {
    static let cases: [GEMMCase] = [
        GEMMCase(m: 1, n: 1, k: 1, aTransposed: false, bTransposed: false, alpha: 1, beta: 0),
        GEMMCase(m: 12, n: 32, k: 1, aTransposed: true, bTransposed: true, alpha: 1, beta: 0),
        GEMMCase(m: 13, n: 33, k: 7, aTransposed: false, bTransposed: false, alpha: 1, beta: 0),
        GEMMCase(m: 37, n: 45, k: 19, aTransposed: false, bTransposed: true, alpha: 0.5, beta: 1),
        GEMMCase(m: 64, n: 96, k: 257, aTransposed: true, bTransposed: false, alpha: 1, beta: -1),
        GEMMCase(m: 193, n: 50, k: 300, aTransposed: false, bTransposed: true, alpha: -2, beta: 0),
        GEMMCase(m: 200, n: 31, k: 513, aTransposed: true, bTransposed: true, alpha: 1, beta: 0.25),
        GEMMCase(m: 7, n: 2100, k: 40, aTransposed: false, bTransposed: true, alpha: 1, beta: 0),
        GEMMCase(m: 390, n: 70, k: 64, aTransposed: true, bTransposed: false, alpha: 1, beta: 1),
    ]

    /// Checks C (inside a buffer of row stride ldc starting at cOffset) against the float64 product:
    /// per element, relative to Σ|a·b|·|alpha| + |beta·c|, the bound of float32 sums in any order.
    /// Nothing outside C's window may change.
    static func check(_ out: [Float], c0: [Float], cOffset: Int, ldc: Int, a: GEMMWindow, b: GEMMWindow, _ c: GEMMCase, label: String) {
        var worst = 0.0
        for r in 0..<c.m {
            for j in 0..<c.n {
                var exact = 0.0, magnitude = 0.0
                for p in 0..<c.k {
                    let x = Double(a.at(r, p)) * Double(b.at(p, j))
                    exact += x
                    magnitude += abs(x)
                }
                let old = Double(c0[cOffset + r * ldc + j])
                let expected = Double(c.alpha) * exact + (c.beta == 0 ? 0 : Double(c.beta) * old)
                let scale = abs(Double(c.alpha)) * magnitude + abs(Double(c.beta) * old) + 1e-30
                worst = max(worst, abs(Double(out[cOffset + r * ldc + j]) - expected) / scale)
            }
        }
        #expect(worst <= 2e-6 * Double(max(c.k, 8)).squareRoot(), "\(label): worst relative error \(worst)")
        for idx in out.indices where idx < cOffset || (idx - cOffset) % ldc >= c.n || idx >= cOffset + c.m * ldc {
            #expect(out[idx].bitPattern == c0[idx].bitPattern, "\(label): wrote outside C at \(idx)")
        }
    }

    @Test("every implementation this CPU runs against a float64 product, on strided and transposed windows")
    func kernelsMatchFloat64() {
        var rng = RandomGenerator(seed: 21)
        for (i, c) in Self.cases.enumerated() {
            let a = GEMMWindow(rows: c.m, cols: c.k, transposed: c.aTransposed, rng: &rng)
            let b = GEMMWindow(rows: c.k, cols: c.n, transposed: c.bTransposed, rng: &rng)
            let ldc = c.n + 2, cOffset = 4
            let c0 = (0..<(cOffset + c.m * ldc + 3)).map { _ in rng.nextFloat() * 2 - 1 }
            for isa in 0...Int(hat_kernel_isa()) {
                var out = c0
                if c.beta == 0 { for r in 0..<c.m { for j in 0..<c.n { out[cOffset + r * ldc + j] = .nan } } }  // must not be read
                let status = a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        out.withUnsafeMutableBufferPointer { pc in
                            hat_sgemm_isa(
                                Int32(isa), c.m, c.n, c.k, c.alpha, pa.baseAddress! + a.offset, a.rowStride, a.colStride,
                                pb.baseAddress! + b.offset, b.rowStride, b.colStride, c.beta, pc.baseAddress! + cOffset, ldc)
                        }
                    }
                }
                #expect(status == 0)
                Self.check(out, c0: c0, cOffset: cOffset, ldc: ldc, a: a, b: b, c, label: "case \(i) \(c) isa \(isa)")
            }
        }
    }

    @Test("gemm on this process's float32 kernel, split over threads, against a float64 product")
    func enginePath() {
        var rng = RandomGenerator(seed: 22)
        // Large enough for BLAS.productThreads to split them over two threads, by rows and by columns.
        let shapes = [
            GEMMCase(m: 300, n: 90, k: 130, aTransposed: false, bTransposed: true, alpha: 1, beta: 0),
            GEMMCase(m: 70, n: 500, k: 90, aTransposed: true, bTransposed: false, alpha: 1, beta: 1),
        ]
        for c in shapes {
            var a = GEMMWindow(rows: c.m, cols: c.k, transposed: c.aTransposed, rng: &rng)
            var b = GEMMWindow(rows: c.k, cols: c.n, transposed: c.bTransposed, rng: &rng)
            let ldc = c.n + 2, cOffset = 4
            let c0 = (0..<(cOffset + c.m * ldc + 3)).map { _ in rng.nextFloat() * 2 - 1 }
            var out = c0
            let (aw, bw) = (a, b)
            a.storage.withUnsafeMutableBufferPointer { pa in
                b.storage.withUnsafeMutableBufferPointer { pb in
                    out.withUnsafeMutableBufferPointer { pc in
                        let cm = MatrixRef(pointer: pc.baseAddress! + cOffset, rows: c.m, cols: c.n, rowStride: ldc, colStride: 1)
                        gemm(
                            cm, aw.matrix(pa.baseAddress!, rows: c.m, cols: c.k), bw.matrix(pb.baseAddress!, rows: c.k, cols: c.n),
                            alpha: c.alpha, beta: c.beta)
                    }
                }
            }
            Self.check(out, c0: c0, cOffset: cOffset, ldc: ldc, a: a, b: b, c, label: "gemm \(c) on \(BLAS.float32GEMM)")
        }
    }

    @Test("this process runs the kernels its environment asks for (scripts/test.sh reruns the engine tests under each)")
    func environmentTakesEffect() {
        let isa = ProcessInfo.processInfo.environment["HAT_KERNEL_ISA"]
        let gemm = ProcessInfo.processInfo.environment["HAT_GEMM"]
        if isa == "portable" {
            #expect(KernelISA.current == .portable)
            #expect(hat_bf16_gemm_available() == 0)
            if gemm == nil { #expect(BLAS.float32GEMM == .engine(.portable)) }
        }
        if gemm == "blas" { #expect(BLAS.float32GEMM == .blas) }
        if let core = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], core == "Prescott" {
            #expect(BLAS.coreName == "Prescott")
        }
        #expect(BLAS.kernelDescription.contains("float32 GEMM \(BLAS.float32GEMM)"))
    }

    @Test("the kernel choice: engine where the CPU has AVX2 or AVX-512, BLAS otherwise, the environment overriding")
    func kernelChoice() {
        #expect(Float32GEMM.choose(environmentGEMM: nil, isaRequested: -1, isa: .avx512).0 == .engine(.avx512))
        #expect(Float32GEMM.choose(environmentGEMM: nil, isaRequested: -1, isa: .avx2).0 == .engine(.avx2))
        #expect(Float32GEMM.choose(environmentGEMM: nil, isaRequested: -1, isa: .portable).0 == .blas)
        #expect(Float32GEMM.choose(environmentGEMM: nil, isaRequested: 0, isa: .portable).0 == .engine(.portable))
        #expect(Float32GEMM.choose(environmentGEMM: "blas", isaRequested: 0, isa: .portable).0 == .blas)
        #expect(Float32GEMM.choose(environmentGEMM: "engine", isaRequested: -1, isa: .portable).0 == .engine(.portable))
        let bad = Float32GEMM.choose(environmentGEMM: "mkl", isaRequested: -1, isa: .avx2)
        #expect(bad.0 == .engine(.avx2))
        #expect(bad.warning?.contains("HAT_GEMM=mkl") == true)
        let badISA = Float32GEMM.choose(environmentGEMM: nil, isaRequested: -2, isa: .avx512)
        #expect(badISA.0 == .engine(.avx512))
        #expect(badISA.warning?.contains("HAT_KERNEL_ISA") == true)
    }
}
