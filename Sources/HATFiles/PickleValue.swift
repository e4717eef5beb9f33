/// What a restricted unpickler builds from a pickle: plain data only.
///
/// Lists, dicts and objects are reference types because a pickle fills them after creating them
/// (APPEND, SETITEMS, BUILD) and may refer to the same one twice through its memo.
public indirect enum PickleValue: CustomStringConvertible {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer beyond 64 bits (LONG1/LONG4), as little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple([PickleValue])
    case list(PickleList)
    case dict(PickleDict)
    /// An instance of an allowed class (argparse.Namespace, fairseq's meters): its attributes.
    case object(PickleObject)
    /// A class or function named by the pickle, allowed but not called (storage types).
    case global(PickleGlobal)
    /// A storage named by a persistent id (raw bytes kept in the checkpoint file).
    case storage(TorchStorageReference)
    /// `torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)`.
    case tensor(TorchTensorReference)

    public var description: String { describe(depth: 3) }

    /// A description that stops at `depth` levels and shows at most 10 items of each container:
    /// error messages must stay short, and hostile data may share one list many times over.
    func describe(depth: Int) -> String {
        func items(_ values: [String], _ total: Int) -> String {
            values.joined(separator: ", ") + (total > values.count ? ", … (\(total) items)" : "")
        }
        let inner = depth - 1
        switch self {
        case .none: return "None"
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .bigInt(let b): return "<\(b.count * 8)-bit integer>"
        case .float(let f): return String(f)
        case .string(let s): return "'\(s.count > 80 ? s.prefix(80) + "…" : s)'"
        case .bytes(let b): return "<\(b.count) bytes>"
        case .tuple(let t):
            guard depth > 0 else { return "(…)" }
            return "(" + items(t.prefix(10).map { $0.describe(depth: inner) }, t.count) + (t.count == 1 ? ",)" : ")")
        case .list(let l):
            guard depth > 0 else { return "[…]" }
            return "[" + items(l.items.prefix(10).map { $0.describe(depth: inner) }, l.items.count) + "]"
        case .dict(let d):
            guard depth > 0 else { return "{…}" }
            return "{" + items(d.items.prefix(10).map { "\($0.key): \($0.value.describe(depth: inner))" }, d.count) + "}"
        case .object(let o):
            guard depth > 0 else { return "\(o.type)(…)" }
            return "\(o.type)(" + items(o.attributes.items.prefix(10).map { "\($0.key)=\($0.value.describe(depth: inner))" }, o.attributes.count) + ")"
        case .global(let g): return g.description
        case .storage(let s): return "<\(s.type) storage \(s.key), \(s.count) elements>"
        case .tensor(let t): return "<tensor \(t.storage.type) \(t.shape)>"
        }
    }

    /// The text of a string (or of bytes that are UTF-8).
    public var string: String? {
        switch self {
        case .string(let s): return s
        case .bytes(let b): return String(bytes: b, encoding: .utf8)
        default: return nil
        }
    }

    public var int: Int? {
        switch self {
        case .int(let i): return i
        case .bool(let b): return b ? 1 : 0
        default: return nil
        }
    }

    public var double: Double? {
        switch self {
        case .float(let f): return f
        case .int(let i): return Double(i)
        default: return nil
        }
    }

    public var bool: Bool? {
        switch self {
        case .bool(let b): return b
        case .int(let i) where i == 0 || i == 1: return i == 1
        default: return nil
        }
    }

    /// The items of a list or a tuple.
    public var elements: [PickleValue]? {
        switch self {
        case .list(let l): return l.items
        case .tuple(let t): return t
        default: return nil
        }
    }

    /// The entries of a dict, or the attributes of an object (an argparse.Namespace).
    public var entries: PickleDict? {
        switch self {
        case .dict(let d): return d
        case .object(let o): return o.attributes
        default: return nil
        }
    }

    /// `value["key"]` on a dict (string keys) or an object's attributes.
    public subscript(key: String) -> PickleValue? { entries?[key] }
}

/// A dictionary key: pickled dicts in checkpoints have string or integer keys (parameter names,
/// optimizer state ids); anything else is kept by its description.
public enum PickleKey: Hashable, CustomStringConvertible {
    case string(String)
    case int(Int)
    case other(String)

    init(_ value: PickleValue) {
        switch value {
        case .string(let s): self = .string(s)
        case .int(let i): self = .int(i)
        case .bool(let b): self = .int(b ? 1 : 0)
        default: self = .other(value.describe(depth: 1))
        }
    }

    public var description: String {
        switch self {
        case .string(let s): return "'\(s)'"
        case .int(let i): return String(i)
        case .other(let s): return s
        }
    }
}

public final class PickleList {
    public internal(set) var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// An insertion-ordered dict (OrderedDict and, since Python 3.7, every dict).
public final class PickleDict {
    public private(set) var keys: [PickleKey] = []
    private var values: [PickleKey: PickleValue] = [:]
    /// Attributes set on the dict object itself (PyTorch's state_dict carries `_metadata`).
    public internal(set) var attributes: [String: PickleValue] = [:]

    init() {}

    public var count: Int { keys.count }
    public var items: [(key: PickleKey, value: PickleValue)] { keys.map { ($0, values[$0]!) } }

    func set(_ key: PickleValue, _ value: PickleValue) {
        let k = PickleKey(key)
        if values.updateValue(value, forKey: k) == nil { keys.append(k) }
    }

    public subscript(key: String) -> PickleValue? { values[.string(key)] }

    func removeAll() {
        keys.removeAll()
        values.removeAll()
        attributes.removeAll()
    }
}

public final class PickleObject {
    public let type: PickleGlobal
    public let attributes = PickleDict()
    init(type: PickleGlobal) { self.type = type }
}

/// `module.name` as a pickle's GLOBAL or STACK_GLOBAL names it.
public struct PickleGlobal: Hashable, CustomStringConvertible, Sendable {
    public let module: String
    public let name: String
    public var description: String { "\(module).\(name)" }
}
