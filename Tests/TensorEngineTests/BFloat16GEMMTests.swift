import CKernels
import Foundation
import TestSupport
import Testing

@testable import TensorEngine

/// The bfloat16 products (Sources/CKernels/bf16_gemm.c, `hat train --bf16`) against PyTorch:
/// its float32 → bfloat16 rounding bit for bit, and a float64 product of the operands it rounded,
/// for both kernels (portable C; AVX512-BF16 where the CPU has it), operands that are strided or
/// transposed windows of larger buffers, edges of every blocking (odd K, M and N not multiples
/// of the 8 × 32 tile, K over one 256-deep slice, N over one 2,048-wide slice), alpha and beta.
@Suite("bfloat16 GEMM")
struct BFloat16GEMMTests {
    static let cases: [GEMMCase] = [
        GEMMCase(m: 37, n: 45, k: 19, aTransposed: false, bTransposed: false, alpha: 1, beta: 0),
        GEMMCase(m: 8, n: 32, k: 2, aTransposed: false, bTransposed: false, alpha: 1, beta: 0),
        GEMMCase(m: 1, n: 1, k: 1, aTransposed: true, bTransposed: true, alpha: 1, beta: 0),
        GEMMCase(m: 64, n: 96, k: 64, aTransposed: false, bTransposed: true, alpha: 1, beta: 0),
        GEMMCase(m: 130, n: 70, k: 300, aTransposed: true, bTransposed: false, alpha: 0.5, beta: 1),
        GEMMCase(m: 264, n: 40, k: 517, aTransposed: true, bTransposed: true, alpha: -2, beta: 0),
        GEMMCase(m: 19, n: 2100, k: 33, aTransposed: false, bTransposed: true, alpha: 1, beta: 0.25),
        GEMMCase(m: 200, n: 300, k: 260, aTransposed: false, bTransposed: false, alpha: 1, beta: -1),
    ]

    /// Values that probe the rounding: ties (exactly half way between two bfloat16 neighbours,
    /// both parities), just above and below ties, the extremes, subnormals, infinities, zeros.
    static func roundingProbes(rng: inout RandomGenerator) -> [Float] {
        var v: [Float] = [
            0, -0, 1, -1, .infinity, -.infinity, .greatestFiniteMagnitude, -.greatestFiniteMagnitude,
            .leastNonzeroMagnitude, .leastNormalMagnitude, Float(1e-40 as Double), Float(-3e-39 as Double), 65504, 3.4e38,
        ]
        for base: UInt32 in [0x3F80_0000, 0x3F81_0000, 0x4049_0000, 0xC2C8_0000, 0x0080_0000, 0x7F7F_0000] {
            for low: UInt32 in [0x8000, 0x7FFF, 0x8001, 0x0001, 0xFFFF] { v.append(Float(bitPattern: base | low)) }
        }
        for _ in 0..<2000 { v.append((rng.nextFloat() * 2 - 1) * Float(pow(2.0, Double(rng.nextInt(60)) - 30))) }
        return v
    }

    @Test("rounding to bfloat16 equals PyTorch's, bit for bit; products match a float64 product of PyTorch's rounded operands")
    func matchesPyTorch() throws {
        var rng = RandomGenerator(seed: 11)
        let probes = Self.roundingProbes(rng: &rng)
        var input = SafeTensorsFile()
        try input.add("values", floats: probes, shape: [probes.count])
        var windows: [(GEMMWindow, GEMMWindow)] = []
        for (i, c) in Self.cases.enumerated() {
            let a = GEMMWindow(rows: c.m, cols: c.k, transposed: c.aTransposed, rng: &rng)
            let b = GEMMWindow(rows: c.k, cols: c.n, transposed: c.bTransposed, rng: &rng)
            try input.add("a.\(i)", floats: a.logical(rows: c.m, cols: c.k), shape: [c.m, c.k])
            try input.add("b.\(i)", floats: b.logical(rows: c.k, cols: c.n), shape: [c.k, c.n])
            windows.append((a, b))
        }
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let inURL = dir.appendingPathComponent("in.safetensors"), outURL = dir.appendingPathComponent("out.safetensors")
        try input.write(to: inURL)
        try Oracle.run("bf16_oracle.py", [inURL.path, outURL.path])
        let oracle = try SafeTensorsFile.read(from: outURL)

        let rounded = try oracle.tensor("rounded").floats()
        for (x, expected) in zip(probes, rounded) {
            let ours = hat_bf16_round(x)
            if expected.isNaN {
                #expect(ours.isNaN)
                continue
            }
            #expect(
                ours.bitPattern == expected.bitPattern,
                "bf16(\(x) = 0x\(String(x.bitPattern, radix: 16))): ours 0x\(String(ours.bitPattern, radix: 16)), PyTorch's 0x\(String(expected.bitPattern, radix: 16))"
            )
        }
        #expect(hat_bf16_round(.nan).isNaN)

        let kernels = hat_bf16_gemm_available() != 0 ? [0, 1] : [0]
        for (i, c) in Self.cases.enumerated() {
            let product = try oracle.tensor("product.\(i)").floats()
            let (a, b) = windows[i]
            let ldc = c.n + 2, cOffset = 4
            let c0 = (0..<(cOffset + c.m * ldc + 3)).map { _ in rng.nextFloat() * 2 - 1 }
            // Each element's error bound: float32 sums of K exact products, relative to Σ|a·b|.
            let aRounded = a.logical(rows: c.m, cols: c.k).map(hat_bf16_round)
            let bRounded = b.logical(rows: c.k, cols: c.n).map(hat_bf16_round)
            for kernel in kernels {
                var out = c0
                if c.beta == 0 { for r in 0..<c.m { for j in 0..<c.n { out[cOffset + r * ldc + j] = .nan } } }  // must not be read
                let status = a.storage.withUnsafeBufferPointer { pa in
                    b.storage.withUnsafeBufferPointer { pb in
                        out.withUnsafeMutableBufferPointer { pc in
                            hat_sgemm_bf16_isa(
                                Int32(kernel), c.m, c.n, c.k, c.alpha, pa.baseAddress! + a.offset, a.rowStride, a.colStride,
                                pb.baseAddress! + b.offset, b.rowStride, b.colStride, c.beta, pc.baseAddress! + cOffset, ldc)
                        }
                    }
                }
                #expect(status == 0)
                var worst: Float = 0
                for r in 0..<c.m {
                    for j in 0..<c.n {
                        var magnitude: Float = 0
                        for p in 0..<c.k { magnitude += abs(aRounded[r * c.k + p] * bRounded[p * c.n + j]) }
                        let old = c0[cOffset + r * ldc + j]
                        let expected = c.alpha * product[r * c.n + j] + (c.beta == 0 ? 0 : c.beta * old)
                        let scale = abs(c.alpha) * magnitude + abs(c.beta * old) + 1e-30
                        worst = max(worst, abs(out[cOffset + r * ldc + j] - expected) / scale)
                    }
                }
                #expect(worst <= 2e-6 * Float(max(c.k, 8)).squareRoot(), "case \(i) \(c) kernel \(kernel): worst relative error \(worst)")
                // Nothing outside C's window is written.
                for idx in out.indices where idx < cOffset || (idx - cOffset) % ldc >= c.n || idx >= cOffset + c.m * ldc {
                    #expect(out[idx].bitPattern == c0[idx].bitPattern, "case \(i) kernel \(kernel): wrote outside C at \(idx)")
                }
            }
        }
    }

    @Test("gemm under productPrecision bfloat16: the same bits however it is split over threads, and not float32's")
    func enginePathIsBFloat16AndDeterministic() {
        var rng = RandomGenerator(seed: 5)
        let (m, n, k) = (301, 200, 131)  // odd: blocks of unequal size
        var a = (0..<(m * k)).map { _ in rng.nextFloat() * 2 - 1 }
        var b = (0..<(n * k)).map { _ in rng.nextFloat() * 2 - 1 }  // [n, k]: y = x·Wᵀ
        func run(_ precision: ProductPrecision, threads: Int) -> [Float] {
            var c = [Float](repeating: .nan, count: m * n)
            a.withUnsafeMutableBufferPointer { pa in
                b.withUnsafeMutableBufferPointer { pb in
                    c.withUnsafeMutableBufferPointer { pc in
                        ParallelSettings.withThreads(threads) {
                            BLAS.$productPrecision.withValue(precision) {
                                gemm(
                                    MatrixRef(pointer: pc.baseAddress!, rows: m, cols: n, rowStride: n, colStride: 1),
                                    MatrixRef(pointer: pa.baseAddress!, rows: m, cols: k, rowStride: k, colStride: 1),
                                    MatrixRef(pointer: pb.baseAddress!, rows: k, cols: n, rowStride: 1, colStride: k), beta: 0)
                            }
                        }
                    }
                }
            }
            return c
        }
        let one = run(.bfloat16, threads: 1), two = run(.bfloat16, threads: 2), three = run(.bfloat16, threads: 3)
        #expect(one.map(\.bitPattern) == two.map(\.bitPattern))
        #expect(one.map(\.bitPattern) == three.map(\.bitPattern))
        let fp32 = run(.float32, threads: 2)
        #expect(one != fp32, "the bfloat16 setting did not change the product")
        #expect(relativeError(one, fp32) < 1e-2, "bfloat16 operands move a product by about 2^-8 relative, not more")
        #expect(BLAS.productPrecision == .float32, "the setting is scoped to withValue")
    }
}
