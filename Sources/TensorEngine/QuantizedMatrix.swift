import CKernels

/// A weight matrix stored as codebook indices: K-means weight sharing (Deep Compression; HAT §4).
///
/// Every weight of row r is one of the 2^bits centroids of its group's codebook (rows
/// [g·groupRows, (g+1)·groupRows) share codebook g). Only the indices and the codebooks are
/// kept; `CKernels/codebook_gemm.c` multiplies with them directly, so the float32 matrix never
/// exists in memory. In memory the indices are laid out for those kernels (4-bit nibbles for up
/// to 4 bits, bytes above, with byte planes of the codebooks for 8-bit lookups);
/// `packedIndices()` is the file's dense bit-packed form.
///
/// ```swift
/// let q = QuantizedMatrix(rows: 2, columns: 3, bits: 2, groupRows: 2,
///                         codebooks: [-1, 0, 0.5, 2], assignments: [0, 1, 2, 3, 3, 0])
/// q.dequantized()  // [-1, 0, 0.5, 2, 2, -1]
/// ```
public final class QuantizedMatrix: @unchecked Sendable {
    public let rows: Int
    public let columns: Int
    /// Bits per index, 1...8 (2^bits centroids per codebook).
    public let bits: Int
    /// Rows sharing one codebook (`rows` for one codebook per matrix).
    public let groupRows: Int
    /// groupCount × 2^bits centroids, group by group.
    public let codebooks: [Float]

    /// 4 or 8: the kernels' index width.
    let kernelBits: Int
    /// Bytes per row in the kernels' layout (whole 32-index blocks).
    let kernelRowBytes: Int
    let kernelIndices: UnsafeMutablePointer<UInt8>
    /// groupCount × (16 or 256) centroids, zero beyond 2^bits.
    let kernelCodebooks: UnsafeMutablePointer<Float>
    /// 8 bits: the codebooks' byte planes (1 KiB per group) for the AVX512-VBMI lookups.
    let kernelPlanes: UnsafeMutablePointer<UInt8>?

    public var groupCount: Int { (rows + groupRows - 1) / groupRows }
    public var centroidCount: Int { 1 << bits }

    /// `assignments` holds one centroid index per weight, row-major (rows × columns, each < 2^bits).
    public init(rows: Int, columns: Int, bits: Int, groupRows: Int, codebooks: [Float], assignments: [UInt8]) {
        precondition(rows > 0 && columns > 0, "QuantizedMatrix: empty matrix \(rows)×\(columns)")
        precondition((1...8).contains(bits), "QuantizedMatrix: \(bits) bits per index (1 to 8)")
        precondition(groupRows > 0, "QuantizedMatrix: group of \(groupRows) rows")
        precondition(assignments.count == rows * columns, "QuantizedMatrix: \(assignments.count) indices for \(rows)×\(columns)")
        self.rows = rows
        self.columns = columns
        self.bits = bits
        self.groupRows = groupRows
        self.codebooks = codebooks
        let groups = (rows + groupRows - 1) / groupRows
        precondition(codebooks.count == groups << bits, "QuantizedMatrix: \(codebooks.count) centroids for \(groups) codebooks of \(1 << bits)")
        kernelBits = bits <= 4 ? 4 : 8
        // 4 bits: 32-index blocks of 16 bytes; 8 bits: a byte each, rows padded to 64 (codebook_gemm.c).
        kernelRowBytes = kernelBits == 4 ? (columns + 31) / 32 * 16 : (columns + 63) / 64 * 64
        kernelIndices = .allocate(capacity: rows * kernelRowBytes)
        kernelIndices.initialize(repeating: 0, count: rows * kernelRowBytes)
        let limit = UInt8(truncatingIfNeeded: (1 << bits) - 1)
        for r in 0..<rows {
            let row = kernelIndices + r * kernelRowBytes
            for c in 0..<columns {
                let index = assignments[r * columns + c]
                precondition(index <= limit, "QuantizedMatrix: index \(index) at (\(r), \(c)) for \(bits) bits")
                if kernelBits == 8 {
                    row[c] = index
                } else {
                    // Block b's byte j: index 32b + j low, 32b + 16 + j high (codebook_gemm.c).
                    let (block, within) = c.quotientAndRemainder(dividingBy: 32)
                    let byte = block * 16 + within % 16
                    row[byte] |= within < 16 ? index : index << 4
                }
            }
        }
        let stride = kernelBits == 4 ? 16 : 256
        kernelCodebooks = .allocate(capacity: groups * stride)
        kernelCodebooks.initialize(repeating: 0, count: groups * stride)
        for g in 0..<groups {
            for j in 0..<(1 << bits) { kernelCodebooks[g * stride + j] = codebooks[(g << bits) + j] }
        }
        if kernelBits == 8 {
            let planes = UnsafeMutablePointer<UInt8>.allocate(capacity: groups * 1024)
            hat_codebook_planes(kernelCodebooks, groups, planes)
            kernelPlanes = planes
        } else {
            kernelPlanes = nil
        }
    }

    deinit {
        kernelIndices.deallocate()
        kernelCodebooks.deallocate()
        kernelPlanes?.deallocate()
    }

    /// How this CPU multiplies with quantized weights, for benchmark output and `hat --version`.
    public static var kernelDescription: String {
        let isa = KernelISA.current
        let eight = isa == .avx512 && hat_codebook_byte_lookups_available() != 0 ? "VBMI byte lookups" : isa == .portable ? "table" : "gathers"
        return "codebook \(isa) (4-bit register lookups, 8-bit \(eight))"
    }

    /// The centroid index of weight (row, column).
    public func assignment(row: Int, column: Int) -> UInt8 {
        let p = kernelIndices + row * kernelRowBytes
        if kernelBits == 8 { return p[column] }
        let (block, within) = column.quotientAndRemainder(dividingBy: 32)
        let byte = p[block * 16 + within % 16]
        return within < 16 ? byte & 15 : byte >> 4
    }

    /// Every weight's centroid index, row-major.
    public func assignments() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(rows * columns)
        for r in 0..<rows { for c in 0..<columns { out.append(assignment(row: r, column: c)) } }
        return out
    }

    /// The indices as stored in a file: each row's `columns` indices packed densely, `bits` each,
    /// least significant bit first, every row starting on a byte (`packedRowBytes` bytes).
    public func packedIndices() -> [UInt8] {
        Self.pack(assignments(), rows: rows, columns: columns, bits: bits)
    }

    public static func packedRowBytes(columns: Int, bits: Int) -> Int { (columns * bits + 7) / 8 }

    public static func pack(_ assignments: [UInt8], rows: Int, columns: Int, bits: Int) -> [UInt8] {
        let rowBytes = packedRowBytes(columns: columns, bits: bits)
        var out = [UInt8](repeating: 0, count: rows * rowBytes)
        for r in 0..<rows {
            for c in 0..<columns {
                let value = Int(assignments[r * columns + c]), bit = c * bits
                let at = r * rowBytes + bit / 8, shift = bit % 8
                out[at] |= UInt8(truncatingIfNeeded: value << shift)
                if shift + bits > 8 { out[at + 1] |= UInt8(truncatingIfNeeded: value >> (8 - shift)) }
            }
        }
        return out
    }

    /// The inverse of `pack`; `packed` must hold rows × `packedRowBytes` bytes.
    public static func unpack(_ packed: [UInt8], rows: Int, columns: Int, bits: Int) -> [UInt8] {
        let rowBytes = packedRowBytes(columns: columns, bits: bits)
        precondition(packed.count == rows * rowBytes, "unpack: \(packed.count) bytes for \(rows) rows of \(rowBytes)")
        let mask = (1 << bits) - 1
        var out = [UInt8](repeating: 0, count: rows * columns)
        for r in 0..<rows {
            for c in 0..<columns {
                let bit = c * bits, at = r * rowBytes + bit / 8, shift = bit % 8
                var value = Int(packed[at]) >> shift
                if shift + bits > 8 { value |= Int(packed[at + 1]) << (8 - shift) }
                out[r * columns + c] = UInt8(value & mask)
            }
        }
        return out
    }

    /// Bytes this matrix takes in a file: packed indices plus float32 codebooks.
    public var storedBytes: Int {
        rows * Self.packedRowBytes(columns: columns, bits: bits) + codebooks.count * MemoryLayout<Float>.size
    }

    /// The float32 matrix the indices stand for, row-major (for tests, oracles and exports).
    public func dequantized() -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns)
        out.withUnsafeMutableBufferPointer { decodeRows(0..<rows, columns: columns, into: $0.baseAddress!, rowStride: columns) }
        return out
    }

    /// Writes the first `columns` weights of `rowRange` as floats, row i at out[i·rowStride], on
    /// the kernel `isa` names (nil: the CPU's best).
    public func decodeRows(
        _ rowRange: Range<Int>, columns k: Int, into out: UnsafeMutablePointer<Float>, rowStride: Int, isa: KernelISA? = nil
    ) {
        precondition(rowRange.lowerBound >= 0 && rowRange.upperBound <= rows && k <= columns, "decodeRows outside \(rows)×\(columns)")
        hat_codebook_decode_rows_isa(
            Int32((isa ?? KernelISA.current).rawValue), Int32(kernelBits), kernelIndices + rowRange.lowerBound * kernelRowBytes,
            kernelRowBytes, kernelCodebooks, kernelPlanes, rowRange.lowerBound, groupRows, rowRange.count, k, out, rowStride)
    }

    /// c[m, n] = Σ_k a[m, k] · W[firstRow + n, k] (+ beta · c[m, n]) for n < count, on the kernel
    /// `isa` names (nil: the CPU's best). a and c row-major with leading dimensions.
    /// `byteLookups: false` makes 8-bit products gather from the float codebook even where the
    /// CPU has AVX512-VBMI (tests compare both).
    public func multiplyTransposed(
        m: Int, k: Int, a: UnsafePointer<Float>, lda: Int, rows rowRange: Range<Int>, beta: Float,
        c: UnsafeMutablePointer<Float>, ldc: Int, isa: KernelISA? = nil, byteLookups: Bool = true
    ) {
        precondition(rowRange.lowerBound >= 0 && rowRange.upperBound <= rows && k <= columns, "multiplyTransposed outside \(rows)×\(columns)")
        hat_codebook_gemm_nt_isa(
            Int32((isa ?? KernelISA.current).rawValue), m, rowRange.count, k, a, lda,
            kernelIndices + rowRange.lowerBound * kernelRowBytes, kernelRowBytes, Int32(kernelBits), kernelCodebooks,
            byteLookups ? kernelPlanes : nil, rowRange.lowerBound, groupRows, beta, c, ldc)
    }
}
