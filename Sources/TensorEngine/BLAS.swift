import CKernels
import Dispatch

#if canImport(Accelerate)
    import Accelerate
#elseif canImport(CBLAS)
    import CBLAS
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
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

    /// The block of rows `r` (same strides).
    func rows(_ r: Range<Int>) -> MatrixRef {
        MatrixRef(pointer: pointer + r.lowerBound * rowStride, rows: r.count, cols: cols, rowStride: rowStride, colStride: colStride)
    }

    /// The block of columns `r` (same strides).
    func columns(_ r: Range<Int>) -> MatrixRef {
        MatrixRef(pointer: pointer + r.lowerBound * colStride, rows: rows, cols: r.count, rowStride: rowStride, colStride: colStride)
    }

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

/// The instruction set of the engine's own kernels (CKernels/cpu_features.c): what the CPU
/// reports it can do, capped by `HAT_KERNEL_ISA=portable|avx2|avx512` when set.
public enum KernelISA: Int, Sendable, Comparable, CustomStringConvertible {
    case portable = 0
    case avx2 = 1
    case avx512 = 2

    /// This process's: read once, at the first kernel call.
    public static var current: KernelISA { KernelISA(rawValue: Int(hat_kernel_isa())) ?? .portable }

    public var description: String {
        switch self {
        case .portable: return "portable"
        case .avx2: return "avx2"
        case .avx512: return "avx512"
        }
    }

    public static func < (a: KernelISA, b: KernelISA) -> Bool { a.rawValue < b.rawValue }
}

/// Which code runs the float32 products too large for the small-M kernels (every product of a
/// training step, an encoder's, batched beam steps).
public enum Float32GEMM: Sendable, Equatable, CustomStringConvertible {
    /// CKernels/sgemm.c at this instruction set.
    case engine(KernelISA)
    /// The platform BLAS: OpenBLAS with the kernel it picked for this CPU, or Accelerate.
    case blas

    /// The engine's own kernel wherever the CPU has AVX2+FMA or AVX-512: there its speed does not
    /// depend on whether the BLAS recognizes the CPU (on a Xeon that Debian's OpenBLAS runs on its
    /// generic kernels it is 3–6× faster, and about as fast as OpenBLAS's best kernel for that CPU;
    /// docs/PERFORMANCE.md, "Every CPU"). Elsewhere (ARM, Apple) the platform BLAS, whose NEON/AMX
    /// kernels a portable C loop does not reach.
    /// `HAT_GEMM=engine|blas` overrides the choice (comparisons, CI); `HAT_KERNEL_ISA` set forces
    /// the engine's kernel at that instruction set.
    static func choose(environmentGEMM: String?, isaRequested: Int32, isa: KernelISA) -> (Float32GEMM, warning: String?) {
        switch environmentGEMM {
        case "blas": return (.blas, nil)
        case "engine": return (.engine(isa), nil)
        case nil, "": break
        case let other?:
            let fallback = choose(environmentGEMM: nil, isaRequested: isaRequested, isa: isa).0
            return (fallback, "hat: ignoring HAT_GEMM=\(other) (use engine or blas); float32 products run on \(fallback)")
        }
        var warning: String?
        if isaRequested == -2 {
            warning = "hat: ignoring HAT_KERNEL_ISA (use portable, avx2 or avx512); kernels use \(isa)"
        } else if isaRequested >= 0 {
            return (.engine(isa), nil)
        }
        return (isa >= .avx2 ? .engine(isa) : .blas, warning)
    }

    public var description: String {
        switch self {
        case .engine(let isa): return "hat sgemm \(isa)"
        case .blas: return BLAS.blasName
        }
    }
}

/// The number format of GEMM operands (products always sum in float32).
public enum ProductPrecision: String, Sendable, Codable {
    case float32
    case bfloat16
}

/// BLAS settings for benchmarks and for tiny decoder-step GEMMs (build-notes.md).
public enum BLAS {
    /// Number of threads OpenBLAS uses (no effect with Accelerate).
    public static func setThreads(_ n: Int) {
        #if canImport(CBLAS)
            openblas_set_num_threads(Int32(n))
        #endif
    }

    /// Whether large products are split over the engine's own threads, each block a
    /// single-threaded SGEMM, instead of OpenBLAS's threads. OpenBLAS's idle workers spin
    /// (sched_yield) for a while after every call, and on two cores that spinning takes a core
    /// from the engine's own threaded passes that run between the GEMMs of a training step
    /// (docs/PERFORMANCE.md). `HAT_OWN_GEMM_THREADS=0` turns it off (for comparisons).
    nonisolated(unsafe) public static var ownProductThreads: Bool = {
        #if os(Linux)
            if let v = getenv("HAT_OWN_GEMM_THREADS") { return String(cString: v) != "0" }
        #endif
        return true
    }()

    /// The threads a product of these dimensions runs on when it is split by the engine.
    static func productThreads(m: Int, n: Int, k: Int) -> Int {
        guard ownProductThreads, ParallelSettings.threads > 1 else { return 1 }
        _ = openBLASSingleThreaded
        // Below about 2 MFLOP per thread the split costs more than it saves.
        let flopsPerThread = 2 * m * n * k / ParallelSettings.threads
        if flopsPerThread < 2_000_000 || Swift.max(m, n) < 2 * ParallelSettings.threads { return 1 }
        return ParallelSettings.threads
    }

    /// The precision of the large products (every GEMM of a training step but the small
    /// per-head attention products): float32 (the default, SGEMM), or bfloat16 operands with
    /// float32 sums (`hat train --bf16`, PyTorch's CPU autocast precision). Bound for a job with
    /// `BLAS.$productPrecision.withValue(.bfloat16) { ... }` (the trainer does), so concurrent
    /// jobs in one process (tests) keep their own.
    @TaskLocal public static var productPrecision: ProductPrecision = .float32

    /// Whether this CPU multiplies bfloat16 in hardware (AVX512-BF16). Without it bfloat16
    /// products are computed exactly the same way in portable C, several times slower.
    public static var hasBFloat16Hardware: Bool { hat_bf16_gemm_available() != 0 }

    /// Multiply-adds run by products so far in this process, in float32 and in bfloat16 operands
    /// (benchmarks: a step's product work, to set against the best GEMM rate).
    public static var multiplyAddsCounted: (float32: Int, bfloat16: Int) {
        (hat_multiply_adds_counted(0), hat_multiply_adds_counted(1))
    }

    /// Whether a product of these dimensions runs in bfloat16 under `productPrecision`: products
    /// below about 256k multiply-adds (the per-head attention products of a training step) stay
    /// in float32, where packing would cost more than the faster multiplies save.
    static func usesBFloat16(m: Int, n: Int, k: Int) -> Bool {
        productPrecision == .bfloat16 && m * n * k >= 1 << 18 && Swift.min(m, n, k) >= 16
    }

    /// Sets OpenBLAS to one thread, once, the first time the engine splits a product itself.
    private static let openBLASSingleThreaded: Void = { setThreads(1) }()

    /// Uses `n` threads for BLAS and for the engine's own parallel kernels, process-wide: what a
    /// command's `--threads` sets once before its work. Library code that runs a stage on its own
    /// thread count uses `withComputeThreads` instead.
    public static func setComputeThreads(_ n: Int) {
        precondition(n >= 1, "thread count must be at least 1")
        setThreads(ownProductThreads ? 1 : n)
        ParallelSettings.threads = n
    }

    /// Runs `body` with `n` threads for the engine's kernels on this thread (and OpenBLAS's, when
    /// it splits products itself), and restores what was there before.
    public static func withComputeThreads<T>(_ n: Int, _ body: () throws -> T) rethrows -> T {
        precondition(n >= 1, "thread count must be at least 1")
        #if canImport(CBLAS)
            if !ownProductThreads {
                let previous = openblas_get_num_threads()
                openblas_set_num_threads(Int32(n))
                defer { openblas_set_num_threads(previous) }
                return try ParallelSettings.withThreads(n, body)
            }
        #endif
        return try ParallelSettings.withThreads(n, body)
    }

    /// Whether products with few rows (decoder steps) run on the engine's own small-M kernels
    /// instead of BLAS when no gradient is recorded. On by default; `HAT_SMALL_GEMM=0` turns it off
    /// (for comparisons).
    nonisolated(unsafe) public static var smallMatrixKernel: Bool = {
        #if os(Linux)
            if let v = getenv("HAT_SMALL_GEMM") { return String(cString: v) != "0" }
        #endif
        return true
    }()

    /// The most rows of the left operand that the small-M kernels take: up to there they beat
    /// OpenBLAS (Haswell or its own AVX-512 kernels) on the 2-core development machine, e.g. a
    /// whole encoder of 30 tokens with AVX-512 (docs/PERFORMANCE.md).
    public static let smallMatrixMaxRows = hat_kernel_isa() >= 2 ? 32 : 16

    /// The instruction set the small-M kernels use: "avx512", "avx2" or "portable".
    public static var smallMatrixISA: String { KernelISA.current.description }

    /// The code that runs the large float32 products in this process, chosen once from the CPU's
    /// capabilities and the environment (`Float32GEMM.choose`).
    public static let float32GEMM: Float32GEMM = {
        let requested = getenv("HAT_GEMM").map { String(cString: $0) }
        let (choice, warning) = Float32GEMM.choose(
            environmentGEMM: requested, isaRequested: hat_kernel_isa_requested(),
            isa: KernelISA.current)
        if let warning { writeToStandardError(warning + "\n") }
        return choice
    }()

    /// Every kernel choice of this process in one line, for `hat --version`, `hat self-check`,
    /// benchmark output and latency-dataset provenance: float32 products, the small-M decoder
    /// kernels, bfloat16 products, and the platform BLAS with the kernel it picked.
    public static var kernelDescription: String {
        "float32 GEMM \(float32GEMM), small-M \(smallMatrixISA), bf16 \(hasBFloat16Hardware ? "AVX512-BF16" : "portable C"), BLAS \(blasName)"
    }

    /// The platform BLAS and the kernel it picked for this CPU (e.g. "OpenBLAS Prescott").
    static var blasName: String {
        #if canImport(CBLAS)
            return "OpenBLAS \(coreName)"
        #else
            return "Accelerate"
        #endif
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

extension BLAS {
    /// GFLOP/s of one training-sized product (1024 × 1024 × 512, the best of 6 runs on this
    /// process's threads) in float32 and with bfloat16 operands: about 0.1 s, so that `hat train`
    /// can say which precision is faster on this CPU (AVX512-BF16 doubles the multiply rate on AMD
    /// Zen 4 but not on Intel's Xeons, where bfloat16 is AMX's; docs/PERFORMANCE.md).
    public static func measureProductRates() -> (float32GFLOPs: Double, bfloat16GFLOPs: Double) {
        let (m, n, k) = (1024, 1024, 512)
        let a = UnsafeMutablePointer<Float>.allocate(capacity: m * k), b = UnsafeMutablePointer<Float>.allocate(capacity: k * n)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: m * n)
        defer {
            a.deallocate()
            b.deallocate()
            c.deallocate()
        }
        for i in 0..<(m * k) { a[i] = Float(i % 7) * 0.1 }
        for i in 0..<(k * n) { b[i] = Float(i % 5) * 0.1 }
        let am = MatrixRef(pointer: a, rows: m, cols: k, rowStride: k, colStride: 1)
        let bm = MatrixRef(pointer: b, rows: k, cols: n, rowStride: n, colStride: 1)
        let cm = MatrixRef(pointer: c, rows: m, cols: n, rowStride: n, colStride: 1)
        func rate(_ precision: ProductPrecision) -> Double {
            $productPrecision.withValue(precision) {
                var best = Double.infinity
                for _ in 0..<6 {
                    let start = DispatchTime.now().uptimeNanoseconds
                    gemm(cm, am, bm, beta: 0)
                    best = Swift.min(best, Double(DispatchTime.now().uptimeNanoseconds - start))
                }
                return 2 * Double(m * n * k) / best  // FLOP per nanosecond = GFLOP/s
            }
        }
        return (rate(.float32), rate(.bfloat16))
    }
}

/// c = alpha · a·b + beta · c on strided matrices (one unit stride each).
///
/// A column-major `c` is handled as cᵀ = bᵀ·aᵀ, so the caller may accumulate into a gradient
/// region with any of the layouts views produce (a weight corner, a transposed view).
/// `smallM` lets products of at most `BLAS.smallMatrixMaxRows` rows run on the small-M kernels
/// (forward passes without a tape).
func gemm(_ c: MatrixRef, _ a: MatrixRef, _ b: MatrixRef, alpha: Float = 1, beta: Float, smallM: Bool = false) {
    precondition(
        a.rows == c.rows && b.cols == c.cols && a.cols == b.rows,
        "gemm shapes: [\(a.rows)x\(a.cols)]·[\(b.rows)x\(b.cols)] -> [\(c.rows)x\(c.cols)]")
    let m = c.rows, n = c.cols, k = a.cols
    if m == 0 || n == 0 { return }
    guard let cl = c.blasLayout else { preconditionFailure("gemm: output has no unit stride") }
    if cl.transposed {
        gemm(c.transposed, b.transposed, a.transposed, alpha: alpha, beta: beta, smallM: smallM)
        return
    }
    if k == 0 {
        // Nothing to multiply: c = beta · c.
        for i in 0..<m { for j in 0..<n { c.pointer[i * c.rowStride + j * c.colStride] *= beta } }
        return
    }
    if smallM && m <= BLAS.smallMatrixMaxRows && BLAS.smallMatrixKernel && smallGEMM(c, a, b, alpha: alpha, beta: beta) {
        hat_count_multiply_adds(0, m * n * k)
        return
    }
    guard a.blasLayout != nil, b.blasLayout != nil else {
        preconditionFailure("gemm: operand has no unit stride (make it contiguous first)")
    }
    let inBFloat16 = BLAS.usesBFloat16(m: m, n: n, k: k)
    hat_count_multiply_adds(inBFloat16 ? 1 : 0, m * n * k)
    let product = inBFloat16 ? bf16GEMMRowMajor : float32GEMMRowMajor
    let threads = BLAS.productThreads(m: m, n: n, k: k)
    if threads > 1 {
        // Split c into row or column blocks, one per core, each a single-threaded product (see
        // BLAS.productThreads for why not OpenBLAS's own threads).
        // (minimumPerThread rounds down so that an odd count still makes `threads` blocks.)
        if m >= n {
            parallelFor(m, minimumPerThread: m / threads) { rows in
                product(c.rows(rows), a.rows(rows), b, alpha, beta)
            }
        } else {
            parallelFor(n, minimumPerThread: n / threads) { cols in
                product(c.columns(cols), a, b.columns(cols), alpha, beta)
            }
        }
        return
    }
    product(c, a, b, alpha, beta)
}

/// One mixed-precision product on the calling thread (CKernels/bf16_gemm.c): a and b rounded to
/// bfloat16, sums in float32. Falls back to SGEMM if the packing buffers cannot be allocated.
private func bf16GEMMRowMajor(_ c: MatrixRef, _ a: MatrixRef, _ b: MatrixRef, _ alpha: Float, _ beta: Float) {
    let cl = c.blasLayout!
    let status = hat_sgemm_bf16(
        c.rows, c.cols, a.cols, alpha, a.pointer, a.rowStride, a.colStride,
        b.pointer, b.rowStride, b.colStride, beta, c.pointer, cl.ld)
    if status != 0 { sgemmRowMajor(c, a, b, alpha, beta) }
}

/// One float32 product on the calling thread, on the kernel `BLAS.float32GEMM` names.
private func float32GEMMRowMajor(_ c: MatrixRef, _ a: MatrixRef, _ b: MatrixRef, _ alpha: Float, _ beta: Float) {
    guard case .engine(let isa) = BLAS.float32GEMM else { return sgemmRowMajor(c, a, b, alpha, beta) }
    let cl = c.blasLayout!
    let status = hat_sgemm_isa(
        Int32(isa.rawValue), c.rows, c.cols, a.cols, alpha, a.pointer, a.rowStride, a.colStride,
        b.pointer, b.rowStride, b.colStride, beta, c.pointer, cl.ld)
    if status != 0 { sgemmRowMajor(c, a, b, alpha, beta) }
}

/// One CBLAS SGEMM call on row-major c (OpenBLAS runs it on the calling thread).
private func sgemmRowMajor(_ c: MatrixRef, _ a: MatrixRef, _ b: MatrixRef, _ alpha: Float, _ beta: Float) {
    let m = c.rows, n = c.cols, k = a.cols
    let cl = c.blasLayout!, al = a.blasLayout!, bl = b.blasLayout!
    cblas_sgemm(
        CblasRowMajor,
        al.transposed ? CblasTrans : CblasNoTrans,
        bl.transposed ? CblasTrans : CblasNoTrans,
        Int32(m), Int32(n), Int32(k),
        alpha, a.pointer, Int32(al.ld),
        b.pointer, Int32(bl.ld),
        beta, c.pointer, Int32(cl.ld))
}

/// c = alpha · a·b + beta · c on the small-M kernels when the layouts allow (c row-major, a
/// row-major, b either layout); false when they do not. Wide products are split over the
/// engine's threads by columns of c.
private func smallGEMM(_ c: MatrixRef, _ a: MatrixRef, _ b: MatrixRef, alpha: Float, beta: Float) -> Bool {
    let m = c.rows, n = c.cols, k = a.cols
    guard c.colStride == 1 || n == 1, a.colStride == 1 || k == 1 else { return false }
    let ldc = c.rowStride, lda = a.rowStride
    let nt: Bool, ldb: Int
    if b.rowStride == 1 || k == 1 {
        nt = true
        ldb = b.colStride
    } else if b.colStride == 1 || n == 1 {
        nt = false
        ldb = b.rowStride
    } else {
        return false
    }
    let run = { (columns: Range<Int>) in
        let n0 = columns.lowerBound, count = columns.count
        if nt {
            hat_sgemm_small_nt(m, count, k, alpha, a.pointer, lda, b.pointer + n0 * ldb, ldb, beta, c.pointer + n0 * c.colStride, ldc)
        } else {
            hat_sgemm_small_nn(
                m, count, k, alpha, a.pointer, lda, b.pointer + n0 * b.colStride, ldb, beta,
                c.pointer + n0 * c.colStride, ldc)
        }
    }
    // Two threads pay off once each has about half a megabyte of weights to stream (the engine's
    // workers start a job in under a microsecond: Parallel.swift).
    let perThread = Swift.max(64, (1 << 17) / Swift.max(k, 1))
    if ParallelSettings.threads > 1 && n >= 2 * perThread {
        parallelFor(n, minimumPerThread: perThread) { run($0) }
    } else {
        run(0..<n)
    }
    return true
}

/// y = Σ_rows m[row, :] + beta · y for a row-major `m` (unit column stride): the gradient of a
/// bias added to every row. Each column is summed over the rows in order, by one thread, so the
/// result is the same bits whatever the buffers' alignment and the thread count (a BLAS SGEMV
/// sums in an order that depends on alignment, and data-parallel training compares one process's
/// gradients with the ranks', docs/SCALING.md). Columns are split over the threads.
func addColumnSums(of m: MatrixRef, into y: UnsafeMutablePointer<Float>, beta: Float) {
    precondition(m.colStride == 1 || m.cols == 1, "addColumnSums: rows must be contiguous")
    if m.cols == 0 { return }
    // A fresh (uninitialized) y is zeroed here rather than trusting its bits.
    if beta == 0 { y.update(repeating: 0, count: m.cols) }
    if m.rows == 0 { return }
    let rows = m.rows, stride = Swift.max(m.rowStride, m.cols, 1), base = UncheckedSendable(m.pointer), out = UncheckedSendable(y)
    func run(_ columns: Range<Int>) {
        for r in 0..<rows {
            let row = base.value + r * stride
            for c in columns { out.value[c] += row[c] }
        }
    }
    let perThread = Swift.max(64, (1 << 16) / rows)
    if ParallelSettings.threads > 1 && m.cols >= 2 * perThread {
        parallelFor(m.cols, minimumPerThread: perThread) { run($0) }
    } else {
        run(0..<m.cols)
    }
}

/// Writes `text` to the standard error stream (file descriptor 2: the C `stderr` variable is
/// shared mutable state to Swift 6's checker).
func writeToStandardError(_ text: String) {
    var text = text
    text.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
}
