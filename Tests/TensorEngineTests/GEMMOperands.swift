@testable import TensorEngine

/// One product C[M,N] = alpha·A·B + beta·C for the GEMM kernel tests: its sizes, which operands
/// are stored transposed (column-major), alpha and beta.
struct GEMMCase: CustomStringConvertible {
    var m, n, k: Int
    var aTransposed, bTransposed: Bool
    var alpha, beta: Float

    var description: String {
        "M\(m) N\(n) K\(k) \(aTransposed ? "Aᵀ" : "A")·\(bTransposed ? "Bᵀ" : "B") alpha \(alpha) beta \(beta)"
    }
}

/// A random [rows, cols] matrix stored inside a larger buffer: row-major with leading dimension
/// cols + 3 (or, transposed, column-major with rows + 5), starting 7 in, so that kernels see
/// leading dimensions, offsets and both layouts.
struct GEMMWindow {
    var storage: [Float]
    var rowStride, colStride: Int
    let offset = 7

    init(rows: Int, cols: Int, transposed: Bool, rng: inout RandomGenerator) {
        let ld = transposed ? rows + 5 : cols + 3
        storage = (0..<(7 + ld * (transposed ? cols : rows) + 2)).map { _ in rng.nextFloat() * 2 - 1 }
        (rowStride, colStride) = transposed ? (1, ld) : (ld, 1)
    }

    func at(_ r: Int, _ c: Int) -> Float { storage[offset + r * rowStride + c * colStride] }

    /// The matrix's values, row-major.
    func logical(rows: Int, cols: Int) -> [Float] {
        (0..<rows).flatMap { r in (0..<cols).map { c in at(r, c) } }
    }

    /// The window as a `MatrixRef` on a pointer to `storage`.
    func matrix(_ base: UnsafeMutablePointer<Float>, rows: Int, cols: Int) -> MatrixRef {
        MatrixRef(pointer: base + offset, rows: rows, cols: cols, rowStride: rowStride, colStride: colStride)
    }
}
