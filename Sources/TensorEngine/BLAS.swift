#if canImport(Accelerate)
import Accelerate
#elseif canImport(CBLAS)
import CBLAS
#endif

/// A 2-D strided window onto Float32 memory where one of the two strides is 1.
///
/// This is what lets GEMM run on a top-left block of a larger matrix (a super weight) with no
/// copy: a row-major block of width `cols` inside a matrix of width `ld` is
/// `MatrixRef(ptr, rows, cols, rowStride: ld, colStride: 1)`; its transpose swaps the strides.
struct MatrixRef {
    var pointer: UnsafeMutablePointer<Float>
    var rows: Int
    var cols: Int
    var rowStride: Int
    var colStride: Int

    var transposed: MatrixRef {
        MatrixRef(pointer: pointer, rows: cols, cols: rows, rowStride: colStride, colStride: rowStride)
    }

    /// How CBLAS should read this matrix in row-major mode: (transpose?, leading dimension).
    /// Dimensions of size 1 make one stride meaningless; choose the layout that is legal.
    var blasLayout: (transposed: Bool, ld: Int)? {
        if colStride == 1 || cols == 1 {
            return (false, rows == 1 ? Swift.max(cols, 1) : Swift.max(rowStride, cols, 1))
        }
        if rowStride == 1 || rows == 1 {
            return (true, cols == 1 ? Swift.max(rows, 1) : Swift.max(colStride, rows, 1))
        }
        return nil
    }
}

/// BLAS settings for benchmarks and for tiny decoder-step GEMMs (build-notes.md).
public enum BLAS {
    /// Number of threads OpenBLAS uses (no effect with Accelerate).
    public static func setThreads(_ n: Int) {
        #if canImport(CBLAS)
        openblas_set_num_threads(Int32(n))
        #endif
    }

    /// Uses `n` threads for BLAS and for the engine's own parallel kernels. Decoding runs GEMMs
    /// with a handful of rows, where a second thread costs more in synchronisation than it
    /// gains (build-notes.md; docs/PERFORMANCE.md measures it).
    public static func setComputeThreads(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        setThreads(n)
        ParallelSettings.threads = n
    }

    /// The CPU kernel family OpenBLAS picked (e.g. "Haswell", "SkylakeX").
    public static var coreName: String {
        #if canImport(CBLAS)
        if let p = openblas_get_corename() { return String(cString: p) }
        return "unknown"
        #else
        return "Accelerate"
        #endif
    }
}

/// c = alpha · a·b + beta · c on strided matrices (one unit stride each).
///
/// A column-major `c` is handled as cᵀ = bᵀ·aᵀ, so the caller may accumulate into a gradient
/// region with any of the layouts views produce (a weight corner, a transposed view).
func gemm(_ c: MatrixRef, _ a: MatrixRef, _ b: MatrixRef, alpha: Float = 1, beta: Float) {
    precondition(a.rows == c.rows && b.cols == c.cols && a.cols == b.rows,
                 "gemm shapes: [\(a.rows)x\(a.cols)]·[\(b.rows)x\(b.cols)] -> [\(c.rows)x\(c.cols)]")
    let m = c.rows, n = c.cols, k = a.cols
    if m == 0 || n == 0 { return }
    guard let cl = c.blasLayout else { preconditionFailure("gemm: output has no unit stride") }
    if cl.transposed {
        gemm(c.transposed, b.transposed, a.transposed, alpha: alpha, beta: beta)
        return
    }
    if k == 0 {
        // Nothing to multiply: c = beta · c.
        for i in 0..<m { for j in 0..<n { c.pointer[i * c.rowStride + j * c.colStride] *= beta } }
        return
    }
    guard let al = a.blasLayout, let bl = b.blasLayout else {
        preconditionFailure("gemm: operand has no unit stride (make it contiguous first)")
    }
    cblas_sgemm(CblasRowMajor,
                al.transposed ? CblasTrans : CblasNoTrans,
                bl.transposed ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k),
                alpha, a.pointer, Int32(al.ld),
                b.pointer, Int32(bl.ld),
                beta, c.pointer, Int32(cl.ld))
}

/// y = Σ_rows m[row, :] + beta · y for a row-major `m` (unit column stride): the gradient of a
/// bias added to every row. One threaded SGEMV (mᵀ · ones) instead of a single-threaded loop.
func addColumnSums(of m: MatrixRef, into y: UnsafeMutablePointer<Float>, beta: Float) {
    precondition(m.colStride == 1 || m.cols == 1, "addColumnSums: rows must be contiguous")
    if m.cols == 0 { return }
    if m.rows == 0 {
        if beta == 0 { y.update(repeating: 0, count: m.cols) }
        return
    }
    // A fresh (uninitialized) y is zeroed here rather than trusting SGEMV's beta = 0 with
    // whatever bits the buffer holds.
    if beta == 0 { y.update(repeating: 0, count: m.cols) }
    let ones = [Float](repeating: 1, count: m.rows)
    ones.withUnsafeBufferPointer { o in
        cblas_sgemv(CblasRowMajor, CblasTrans, Int32(m.rows), Int32(m.cols), 1, m.pointer,
                    Int32(Swift.max(m.rowStride, m.cols, 1)), o.baseAddress!, 1, 1, y, 1)
    }
}
