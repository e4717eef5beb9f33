import CKernels

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A manually managed Float32 buffer shared by a tensor and all of its views.
///
/// The gradient lives next to the data, in a buffer of the same size that is allocated
/// (zero-filled) the first time any view of the storage receives a gradient. Because a view
/// indexes the gradient buffer with the same offset and strides as the data, the gradient of
/// a view *is* the matching region of its base's gradient: a SubTransformer that reads the
/// top-left corner of a super weight accumulates its weight gradient directly into that
/// corner of the super gradient, with no copy (hat-reference.md §2).
public final class TensorStorage: @unchecked Sendable {
    /// The floats; a one-float placeholder once the storage holds `quantized` weights instead.
    public private(set) var data: UnsafeMutablePointer<Float>
    public let count: Int
    /// Codebook-quantized weights standing in for the floats (inference only): the top-left
    /// corner of a row-major matrix with `rowStride` columns. Only `linear` and `embedding` read
    /// them (`Tensor.quantizedWindow`); reading the floats of such a storage is a programming error.
    public private(set) var quantized: (matrix: QuantizedMatrix, rowStride: Int)?
    /// Gradient buffer (same size as `data`), nil until first needed and after `clearGrad`.
    public private(set) var grad: UnsafeMutablePointer<Float>?
    /// A cleared gradient buffer kept for the next backward pass (no allocation per step).
    private var spareGrad: UnsafeMutablePointer<Float>?

    /// Allocates `count` floats. The memory is uninitialized unless `zeroed`.
    public init(count: Int, zeroed: Bool = false) {
        precondition(count >= 0, "negative storage size \(count)")
        _ = Self.allocatorConfigured
        self.count = count
        data = Self.allocateFloats(count)
        if zeroed { data.initialize(repeating: 0, count: count) }
        hat_tensor_bytes_add(count * MemoryLayout<Float>.stride)
    }

    /// Bytes of tensor data this process holds now (weights, activations, caches; gradients not
    /// counted), and the most it held since `resetPeakTensorBytes`: what an inference allocates,
    /// whatever the C library does with freed memory (`hat latency measure --memory`).
    public static var liveTensorBytes: Int { hat_tensor_bytes_live() }
    public static var peakTensorBytes: Int { hat_tensor_bytes_peak() }
    public static func resetPeakTensorBytes() { hat_tensor_bytes_reset_peak() }

    /// Bytes this storage counts in `liveTensorBytes`.
    private var countedBytes: Int { quantized.map { $0.matrix.storedBytes } ?? count * MemoryLayout<Float>.stride }

    /// glibc returns large blocks to the OS on free and maps fresh zero pages on the next
    /// malloc, so every activation of a training step would pay page faults on first touch.
    /// Keeping freed memory in the heap lets the next step reuse it (llm.c preallocates for
    /// the same reason).
    static let allocatorConfigured: Bool = {
        #if os(Linux)
            _ = glibcMallopt(-3 /* M_MMAP_THRESHOLD */, 1 << 30)
            _ = glibcMallopt(-1 /* M_TRIM_THRESHOLD */, Int32.max)
        #endif
        return true
    }()

    /// Whether new buffers of 2 MiB and more are aligned to 2 MiB and advised as transparent huge
    /// pages (Linux gives them only on request in its default `madvise` mode). Latency
    /// measurement turns this on: a decoder step reads every weight once, and with 4 KiB pages
    /// its TLB misses vary with where the allocator put each weight, from process to process
    /// (docs/PERFORMANCE.md, "Stability"). `HAT_HUGEPAGES=0|1` overrides any setting.
    nonisolated(unsafe) public static var useHugePages: Bool = false

    private static let hugePagesOverride: Bool? = {
        guard let v = getenv("HAT_HUGEPAGES") else { return nil }
        return String(cString: v) == "1"
    }()

    static func allocateFloats(_ count: Int) -> UnsafeMutablePointer<Float> {
        #if os(Linux)
            let huge = 2 << 20
            let bytes = count * MemoryLayout<Float>.stride
            if hugePagesOverride ?? useHugePages, bytes >= huge {
                var raw: UnsafeMutableRawPointer?
                let rounded = (bytes + huge - 1) / huge * huge
                if posix_memalign(&raw, huge, rounded) == 0, let raw {
                    _ = madvise(raw, rounded, 14 /* MADV_HUGEPAGE */)
                    return raw.bindMemory(to: Float.self, capacity: count)
                }
            }
        #endif
        return .allocate(capacity: Swift.max(count, 1))
    }

    /// Replaces the floats with `matrix`, the quantized top-left corner of a row-major matrix of
    /// `rowStride` columns that this storage held; the float buffer is freed.
    public func replaceWithQuantized(_ matrix: QuantizedMatrix, rowStride: Int) {
        precondition(grad == nil && spareGrad == nil, "quantized weights take no gradient")
        precondition(matrix.columns <= rowStride && matrix.rows * rowStride <= count, "quantized corner larger than the storage")
        hat_tensor_bytes_remove(countedBytes)
        data.deallocate()
        data = .allocate(capacity: 1)
        quantized = (matrix, rowStride)
        hat_tensor_bytes_add(countedBytes)
    }

    deinit {
        hat_tensor_bytes_remove(countedBytes)
        data.deallocate()
        grad?.deallocate()
        spareGrad?.deallocate()
    }

    /// A buffer for a new gradient: the spare one if there is one, else a new allocation.
    private func takeGradBuffer() -> UnsafeMutablePointer<Float> {
        if let g = spareGrad {
            spareGrad = nil
            return g
        }
        return UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(count, 1))
    }

    /// The gradient buffer, allocated (or revived) and zero-filled on first use.
    public func gradBuffer() -> UnsafeMutablePointer<Float> {
        if let g = grad { return g }
        let g = takeGradBuffer()
        g.initialize(repeating: 0, count: count)
        grad = g
        return g
    }

    /// The gradient buffer for a backward step that writes *every* element of this storage.
    ///
    /// When no gradient exists yet the buffer is allocated without zero-filling and `fresh` is
    /// true: the caller must then store its values instead of adding them. Most activations
    /// receive exactly one gradient, so this saves a zero-fill and a read of every gradient
    /// buffer in the backward pass (docs/PERFORMANCE.md).
    public func gradBufferForFullWrite() -> (pointer: UnsafeMutablePointer<Float>, fresh: Bool) {
        if let g = grad { return (g, false) }
        let g = takeGradBuffer()
        grad = g
        return (g, true)
    }

    /// Sets the gradient to zero, keeping it: the tensor still has a gradient.
    public func zeroGrad() {
        if let g = grad { g.update(repeating: 0, count: count) }
    }

    /// Takes the gradient out: the tensor has none afterwards and the caller owns the buffer until
    /// it hands it back with `restoreGrad(adding:)`. Gradient accumulation uses the pair so that
    /// each batch's gradient is computed on its own and then added to the sum of the earlier ones.
    public func takeGrad() -> UnsafeMutablePointer<Float>? {
        let g = grad
        grad = nil
        return g
    }

    /// Gives back a buffer from `takeGrad`, plus the gradient accumulated since:
    /// grad = earlier + new, element by element (the earlier one alone when none came since).
    public func restoreGrad(adding earlier: UnsafeMutablePointer<Float>) {
        guard let g = grad else {
            grad = earlier
            return
        }
        for i in 0..<count { g[i] = earlier[i] + g[i] }
        if spareGrad == nil { spareGrad = earlier } else { earlier.deallocate() }
    }

    /// Sets the gradient to none (PyTorch's `zero_grad(set_to_none=True)`; fairseq's optimizer,
    /// which HAT trains with, sets `p.grad = None`): until a backward pass reaches this tensor
    /// again it has no gradient, and an optimizer leaves it alone. The buffer is kept for reuse.
    public func clearGrad() {
        guard let g = grad else { return }
        if spareGrad == nil { spareGrad = g } else { g.deallocate() }
        grad = nil
    }

    /// Drops the gradient buffers entirely (the memory is freed).
    public func releaseGrad() {
        grad?.deallocate()
        grad = nil
        spareGrad?.deallocate()
        spareGrad = nil
    }
}

#if os(Linux)
    /// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not import).
    @_silgen_name("mallopt")
    private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
