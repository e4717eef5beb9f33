/// The element types of PyTorch storages that a checkpoint may hold, named by their storage class
/// (`torch.FloatStorage`, ...).
public enum TorchScalarType: String, Sendable, CaseIterable {
    case float32 = "FloatStorage"
    case float16 = "HalfStorage"
    case bfloat16 = "BFloat16Storage"
    case float64 = "DoubleStorage"
    case int64 = "LongStorage"
    case int32 = "IntStorage"
    case int16 = "ShortStorage"
    case int8 = "CharStorage"
    case uint8 = "ByteStorage"
    case bool = "BoolStorage"

    public var byteSize: Int {
        switch self {
        case .float64, .int64: return 8
        case .float32, .int32: return 4
        case .float16, .bfloat16, .int16: return 2
        case .int8, .uint8, .bool: return 1
        }
    }

    /// Whether values convert to float32 for the model (integers are kept for version numbers).
    public var isFloatingPoint: Bool { self == .float32 || self == .float16 || self == .bfloat16 || self == .float64 }
}

/// A storage of a checkpoint: its key (the zip's data/KEY record, or the legacy stream's key),
/// element type and element count; for the legacy layout's storage views, the root's key and
/// the view's offset in it.
public struct TorchStorageReference: Sendable, Equatable {
    public let key: String
    public let type: TorchScalarType
    public let count: Int
    /// A view of another storage (torch ≤ 0.4 could save them): the root's key and element offset.
    public let view: (rootKey: String, offset: Int)?

    public static func == (a: Self, b: Self) -> Bool {
        a.key == b.key && a.type == b.type && a.count == b.count && a.view?.rootKey == b.view?.rootKey && a.view?.offset == b.view?.offset
    }
}

/// A tensor as `_rebuild_tensor_v2` describes it: a strided view of a storage.
public struct TorchTensorReference: Sendable, Equatable {
    public let storage: TorchStorageReference
    public let offset: Int
    public let shape: [Int]
    public let strides: [Int]

    public var count: Int { shape.reduce(1, *) }

    /// Whether the view reads elements offset ..< offset + count in order (no gather needed).
    public var isContiguous: Bool {
        var expected = 1
        for (size, stride) in zip(shape, strides).reversed() where size != 1 {
            if stride != expected { return false }
            expected *= size
        }
        return true
    }

    /// The storage elements the view reads: offset ... last index, or nil for an empty tensor.
    public var extent: ClosedRange<Int>? {
        if shape.contains(0) { return nil }
        return offset...(offset + zip(shape, strides).reduce(0) { $0 + ($1.0 - 1) * $1.1 })
    }
}
