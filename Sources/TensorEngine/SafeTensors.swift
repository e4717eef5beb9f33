import Foundation

// Reading and writing the safetensors format (https://github.com/huggingface/safetensors).
//
// Layout: an 8-byte little-endian unsigned header length N, then N bytes of UTF-8 JSON (possibly
// padded with trailing spaces), then the data buffer. The JSON object maps each tensor name to
// {"dtype", "shape", "data_offsets": [begin, end]} (offsets relative to the data buffer) and may
// hold an optional "__metadata__" string-to-string map.
//
// Files come from outside the program, so parsing treats every byte as untrusted: each defect is
// reported as a `SafeTensorsError` that names the file, the tensor and the problem, never a trap or
// an out-of-bounds read. This file depends on Foundation only, so it can be lifted out on its own.

/// Element types this reader and writer understand, spelled as in the safetensors header.
///
/// The raw values are the header strings, so a dtype round-trips through JSON without a table.
/// Only the types a numeric engine meets in practice are listed; the format also defines e.g.
/// U16/U32/U64 and FP8 types, which are rejected with a message listing the supported ones.
public enum SafeTensorsDType: String, Sendable, CaseIterable {
    case F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL

    /// Bytes per element; the header's byte ranges are checked against `elements * byteSize`.
    public var byteSize: Int {
        switch self {
        case .F64, .I64: return 8
        case .F32, .I32: return 4
        case .F16, .BF16, .I16: return 2
        case .I8, .U8, .BOOL: return 1
        }
    }

    /// Whether `floats()` (rather than `ints()`) is the accessor for this type.
    var isFloatingPoint: Bool {
        switch self {
        case .F64, .F32, .F16, .BF16: return true
        default: return false
        }
    }

    /// "F64, F32, ..." for messages, so a user who meets an unknown dtype sees what would work.
    static var supportedList: String { allCases.map(\.rawValue).joined(separator: ", ") }
}

/// A problem reading, parsing or writing a safetensors file.
///
/// `file` is the path (or `<in memory>`) so that, when a program loads many files, the message
/// says which one is bad; `message` says what is wrong, which tensor, and what to do about it.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let file: String
    public let message: String
    public var description: String { "\(file): \(message)" }

    public init(file: String, message: String) {
        self.file = file
        self.message = message
    }
}

/// Source name used for tensors and files built in memory rather than read from disk.
private let inMemorySource = "<in memory>"

/// One named tensor: dtype, shape and its raw little-endian bytes, exactly as stored in the file.
///
/// Bytes are kept raw (not decoded) so that round trips are bit-exact and so that callers choose
/// the conversion (`floats()` / `ints()`) they need. `bytes` is always a zero-based `Data` whose
/// count equals `elementCount * dtype.byteSize`; the initializer enforces this.
public struct SafeTensorsEntry: Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Raw element data, little-endian, row-major; zero-based indices.
    public let bytes: Data
    /// File the tensor came from, so conversion errors can name it.
    let source: String

    /// Creates an entry, checking that the shape is valid and `bytes` holds exactly its elements.
    ///
    /// Throws rather than trapping so that a wrong shape supplied by a caller is a clear error.
    public init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: Data) throws {
        try self.init(name: name, dtype: dtype, shape: shape, bytes: bytes, source: inMemorySource)
    }

    init(name: String, dtype: SafeTensorsDType, shape: [Int], bytes: Data, source: String) throws {
        guard name != "__metadata__" else {
            throw SafeTensorsError(file: source, message: "the name \"__metadata__\" is reserved for file metadata and cannot name a tensor")
        }
        guard let count = SafeTensorsEntry.checkedElementCount(shape) else {
            throw SafeTensorsError(file: source, message: "tensor '\(name)': shape \(shape) must have non-negative dimensions whose product fits in Int")
        }
        let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow, bytes.count == needed else {
            throw SafeTensorsError(
                file: source,
                message:
                    "tensor '\(name)': \(bytes.count) bytes given but shape \(shape) of dtype \(dtype.rawValue) needs \(overflow ? "more than Int.max" : String(needed)) bytes"
            )
        }
        self.name = name
        self.dtype = dtype
        self.shape = shape
        // Rebase slices so `bytes[0]` is always the first byte (Data slices keep their parent's indices).
        self.bytes = bytes.startIndex == 0 ? bytes : Data(bytes)
        self.source = source
    }

    /// Product of the dimensions (1 for a scalar `[]`), or nil if a dimension is negative or the
    /// product overflows; used wherever a shape comes from outside.
    static func checkedElementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for dim in shape {
            guard dim >= 0 else { return nil }
            let (product, overflow) = count.multipliedReportingOverflow(by: dim)
            guard !overflow else { return nil }
            count = product
        }
        return count
    }

    /// Number of elements: the product of `shape`, 1 for a scalar.
    public var elementCount: Int { bytes.count / dtype.byteSize }

    /// Values as `Float`, converting from F32, F64 (rounded), F16 and BF16 (exact).
    ///
    /// Integer tensors throw instead of converting silently, because reading token ids or
    /// masks as weights (or the reverse) is almost always a bug at the call site.
    public func floats() throws -> [Float] {
        switch dtype {
        case .F32: return loadLittleEndian(UInt32.self).map { Float(bitPattern: $0) }
        case .F64: return loadLittleEndian(UInt64.self).map { Float(Double(bitPattern: $0)) }
        case .F16: return loadLittleEndian(UInt16.self).map(SafeTensorsEntry.halfToFloat)
        case .BF16: return loadLittleEndian(UInt16.self).map { Float(bitPattern: UInt32($0) << 16) }
        default:
            throw SafeTensorsError(
                file: source, message: "tensor '\(name)' has integer dtype \(dtype.rawValue); floats() reads only F32, F64, F16 and BF16 — use ints() instead")
        }
    }

    /// Values as `Int`, from I64, I32, I16, I8, U8 and BOOL (false = 0, true = 1).
    ///
    /// Float tensors throw rather than truncating, for the same reason as `floats()`.
    public func ints() throws -> [Int] {
        switch dtype {
        case .I64: return loadLittleEndian(UInt64.self).map { Int(Int64(bitPattern: $0)) }
        case .I32: return loadLittleEndian(UInt32.self).map { Int(Int32(bitPattern: $0)) }
        case .I16: return loadLittleEndian(UInt16.self).map { Int(Int16(bitPattern: $0)) }
        case .I8: return bytes.map { Int(Int8(bitPattern: $0)) }
        case .U8: return bytes.map { Int($0) }
        case .BOOL: return bytes.map { $0 == 0 ? 0 : 1 }
        default:
            throw SafeTensorsError(
                file: source,
                message: "tensor '\(name)' has floating-point dtype \(dtype.rawValue); ints() reads only I64, I32, I16, I8, U8 and BOOL — use floats() instead")
        }
    }

    /// Reads the buffer as little-endian integers of type `T` (unaligned loads: Data gives no alignment).
    private func loadLittleEndian<T: FixedWidthInteger>(_: T.Type) -> [T] {
        let size = MemoryLayout<T>.size
        let count = bytes.count / size
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * size, as: T.self)) }
        }
    }

    /// IEEE 754 binary16 to binary32, done by hand (exact), because `Float16` is unavailable on
    /// some supported platforms (macOS on Intel).
    static func halfToFloat(_ h: UInt16) -> Float {
        let sign = UInt32(h & 0x8000) << 16
        let exponent = UInt32(h >> 10) & 0x1F
        let mantissa = UInt32(h & 0x3FF)
        switch exponent {
        case 0:
            // Zero or subnormal: mantissa * 2^-24, exact in Float.
            let magnitude = Float(mantissa) * Float(bitPattern: 0x3380_0000)
            return Float(bitPattern: sign | magnitude.bitPattern)
        case 0x1F:
            // Infinity or NaN (payload kept).
            return Float(bitPattern: sign | 0x7F80_0000 | (mantissa << 13))
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }
}

/// A whole safetensors file in memory: named tensors plus the optional string metadata.
///
/// Parsing validates the header completely (see `parse`), so every entry obtained from a file is
/// consistent with its bytes. Writing is deterministic (sorted names, sorted keys), so the same
/// tensors always give the same bytes, which keeps checkpoints diffable and hashes stable.
public struct SafeTensorsFile: Sendable {
    /// The "__metadata__" map; empty means the key is omitted when writing.
    public var metadata: [String: String]
    /// Tensors by name.
    public private(set) var entries: [String: SafeTensorsEntry]
    /// Where the file came from (its path, or `<in memory>`), used to name it in errors.
    public private(set) var source: String

    /// Tensor names in sorted order, the order in which they are written.
    public var names: [String] { entries.keys.sorted() }

    public init(metadata: [String: String] = [:]) {
        self.metadata = metadata
        self.entries = [:]
        self.source = inMemorySource
    }

    // MARK: Building

    /// Adds (or replaces) an F32 tensor; throws if `shape` does not hold exactly `floats.count` elements.
    public mutating func add(_ name: String, floats: [Float], shape: [Int]) throws {
        try addEncoded(name, dtype: .F32, shape: shape, count: floats.count) { raw in
            for (i, v) in floats.enumerated() { raw.storeBytes(of: v.bitPattern.littleEndian, toByteOffset: i * 4, as: UInt32.self) }
        }
    }

    /// Adds (or replaces) an I64 tensor; throws on a shape/count mismatch.
    public mutating func add(_ name: String, int64s: [Int64], shape: [Int]) throws {
        try addEncoded(name, dtype: .I64, shape: shape, count: int64s.count) { raw in
            for (i, v) in int64s.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: i * 8, as: Int64.self) }
        }
    }

    /// Adds (or replaces) an I32 tensor; throws on a shape/count mismatch.
    public mutating func add(_ name: String, int32s: [Int32], shape: [Int]) throws {
        try addEncoded(name, dtype: .I32, shape: shape, count: int32s.count) { raw in
            for (i, v) in int32s.enumerated() { raw.storeBytes(of: v.littleEndian, toByteOffset: i * 4, as: Int32.self) }
        }
    }

    /// Adds (or replaces) an entry built elsewhere (e.g. taken from another file); the entry's
    /// initializer has already validated it, so this cannot fail.
    public mutating func add(_ entry: SafeTensorsEntry) {
        entries[entry.name] = entry
    }

    /// Removes the tensor called `name`, if there is one.
    public mutating func remove(_ name: String) {
        entries[name] = nil
    }

    /// Shared body of the typed `add`s: checks the count against the shape, then lets `encode`
    /// fill a buffer of the right size with little-endian values.
    private mutating func addEncoded(
        _ name: String, dtype: SafeTensorsDType, shape: [Int], count: Int,
        encode: (UnsafeMutableRawBufferPointer) -> Void
    ) throws {
        guard let expected = SafeTensorsEntry.checkedElementCount(shape) else {
            throw SafeTensorsError(file: source, message: "tensor '\(name)': shape \(shape) must have non-negative dimensions whose product fits in Int")
        }
        guard expected == count else {
            throw SafeTensorsError(file: source, message: "tensor '\(name)': shape \(shape) has \(expected) elements but \(count) values were given")
        }
        var bytes = Data(count: count * dtype.byteSize)
        bytes.withUnsafeMutableBytes(encode)
        entries[name] = try SafeTensorsEntry(name: name, dtype: dtype, shape: shape, bytes: bytes, source: source)
    }

    // MARK: Lookup

    public subscript(name: String) -> SafeTensorsEntry? { entries[name] }

    /// The tensor called `name`, or an error naming the file and listing what it does contain,
    /// so a misspelt or missing weight is diagnosed from the message alone.
    public func tensor(_ name: String) throws -> SafeTensorsEntry {
        if let entry = entries[name] { return entry }
        let available = names
        let listed = available.isEmpty ? "none" : available.prefix(20).joined(separator: ", ") + (available.count > 20 ? ", … (\(available.count) in all)" : "")
        throw SafeTensorsError(file: source, message: "no tensor named \(name) (has: \(listed))")
    }

    // MARK: Parsing

    /// Largest header accepted; the reference implementation uses the same limit, which stops a
    /// corrupt length from making us allocate or scan gigabytes.
    static let maxHeaderLength: UInt64 = 100_000_000

    /// Parses a complete file image. `source` (normally the path) is used only in error messages.
    ///
    /// Everything is validated before any tensor is created: the header's length and JSON, every
    /// entry's dtype, shape and offsets (with overflow-checked size arithmetic), and that the
    /// tensors tile the data buffer exactly, with no overlap, gap or trailing bytes, as the
    /// reference implementation requires.
    public static func parse(_ data: Data, source: String) throws -> SafeTensorsFile {
        func fail(_ message: String) -> SafeTensorsError { SafeTensorsError(file: source, message: message) }
        let notSafetensors = "the file is truncated or not a safetensors file"

        guard data.count >= 8 else {
            throw fail("file is \(data.count) bytes, too short for the 8-byte header length: \(notSafetensors)")
        }
        let base = data.startIndex
        let headerLength = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard headerLength <= maxHeaderLength else {
            throw fail("header length \(headerLength) bytes is absurdly large (limit \(maxHeaderLength)): the file is corrupt or not a safetensors file")
        }
        let n = Int(headerLength)
        let afterPrefix = data.count - 8
        guard n <= afterPrefix else {
            throw fail("header length \(n) bytes exceeds the \(afterPrefix) bytes after the length prefix: \(notSafetensors)")
        }
        let headerBytes = data[(base + 8)..<(base + 8 + n)]
        guard String(data: headerBytes, encoding: .utf8) != nil else {
            throw fail("header is not valid UTF-8: the file is corrupt or not a safetensors file")
        }
        let json: Any
        do {
            json = try JSONSerialization.jsonObject(with: Data(headerBytes), options: [])
        } catch {
            let detail = (error as NSError).userInfo[NSDebugDescriptionErrorKey].map { "\($0)" } ?? "\(error)"
            throw fail("header is not valid JSON (\(detail)): the file is corrupt or not a safetensors file")
        }
        guard let header = json as? [String: Any] else {
            throw fail("header must be a JSON object mapping tensor names to entries, found \(describe(json))")
        }

        var file = SafeTensorsFile()
        file.source = source
        if let rawMetadata = header["__metadata__"] {
            file.metadata = try parseMetadata(rawMetadata, fail: fail)
        }

        // First pass: validate each entry and its byte range without touching tensor data.
        let dataBase = base + 8 + n
        let bufferCount = data.count - 8 - n
        var parsed: [(name: String, dtype: SafeTensorsDType, shape: [Int], begin: Int, end: Int)] = []
        for name in header.keys.sorted() where name != "__metadata__" {
            guard let entry = header[name] as? [String: Any] else {
                throw fail("tensor '\(name)': entry must be a JSON object with dtype, shape and data_offsets, found \(describe(header[name]!))")
            }
            for key in ["dtype", "shape", "data_offsets"] where entry[key] == nil {
                throw fail("tensor '\(name)': entry lacks \"\(key)\" (needs dtype, shape and data_offsets)")
            }
            guard let dtypeName = entry["dtype"] as? String else {
                throw fail("tensor '\(name)': dtype must be a string, found \(describe(entry["dtype"]!))")
            }
            guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
                throw fail(
                    "tensor '\(name)': unknown dtype \"\(dtypeName)\" (supported: \(SafeTensorsDType.supportedList)); convert the tensor to a supported dtype before saving"
                )
            }
            guard let shapeArray = entry["shape"] as? [Any] else {
                throw fail("tensor '\(name)': shape must be an array of non-negative integers, found \(describe(entry["shape"]!))")
            }
            var shape: [Int] = []
            for element in shapeArray {
                guard let dim = nonNegativeInteger(element) else {
                    throw fail("tensor '\(name)': shape must be an array of non-negative integers, found \(describe(element))")
                }
                shape.append(dim)
            }
            guard let offsetArray = entry["data_offsets"] as? [Any], offsetArray.count == 2,
                let begin = nonNegativeInteger(offsetArray[0]), let end = nonNegativeInteger(offsetArray[1])
            else {
                throw fail("tensor '\(name)': data_offsets must be two non-negative integers [begin, end], found \(describe(entry["data_offsets"]!))")
            }
            guard begin <= end else {
                throw fail("tensor '\(name)': data_offsets begin \(begin) is greater than end \(end)")
            }
            guard end <= bufferCount else {
                throw fail(
                    "tensor '\(name)': data_offsets end \(end) is beyond the \(bufferCount)-byte data buffer: the file is truncated or its header is corrupt")
            }
            guard let count = SafeTensorsEntry.checkedElementCount(shape) else {
                throw fail("tensor '\(name)': shape \(shape) has too many elements to count (integer overflow); the header is corrupt")
            }
            let (needed, overflow) = count.multipliedReportingOverflow(by: dtype.byteSize)
            guard !overflow else {
                throw fail(
                    "tensor '\(name)': shape \(shape) of dtype \(dtype.rawValue) needs more bytes than can be counted (integer overflow); the header is corrupt"
                )
            }
            guard end - begin == needed else {
                throw fail(
                    "tensor '\(name)': data_offsets span \(end - begin) bytes but shape \(shape) of dtype \(dtype.rawValue) needs \(needed) bytes (\(count) elements × \(dtype.byteSize) bytes)"
                )
            }
            parsed.append((name, dtype, shape, begin, end))
        }

        // Second pass: the ranges, in order, must tile the buffer exactly.
        let ordered = parsed.sorted { ($0.begin, $0.end, $0.name) < ($1.begin, $1.end, $1.name) }
        var covered = 0
        var previous: (name: String, begin: Int, end: Int)?
        for t in ordered {
            if t.begin < covered, let p = previous {
                throw fail(
                    "tensors '\(p.name)' (bytes \(p.begin)..<\(p.end)) and '\(t.name)' (bytes \(t.begin)..<\(t.end)) overlap in the data buffer; each byte must belong to exactly one tensor"
                )
            }
            if t.begin > covered {
                throw fail(
                    "bytes \(covered)..<\(t.begin) of the data buffer (before tensor '\(t.name)') are not covered by any tensor; the reference implementation rejects such files, so re-save it with a safetensors writer"
                )
            }
            covered = t.end
            if t.end > t.begin || previous == nil { previous = (t.name, t.begin, t.end) }
        }
        guard covered == bufferCount else {
            throw fail(
                "trailing bytes \(covered)..<\(bufferCount) of the \(bufferCount)-byte data buffer are not covered by any tensor: the file has extra data or its header is corrupt"
            )
        }

        for t in parsed {
            let bytes = data.subdata(in: (dataBase + t.begin)..<(dataBase + t.end))
            file.entries[t.name] = try SafeTensorsEntry(name: t.name, dtype: t.dtype, shape: t.shape, bytes: bytes, source: source)
        }
        return file
    }

    /// Reads and parses the file at `url` (one read of the whole file).
    ///
    /// A missing or unreadable file becomes a `SafeTensorsError` naming the path, so callers
    /// handle one error type for everything that can go wrong with a weights file.
    public static func read(from url: URL) throws -> SafeTensorsFile {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            let exists = FileManager.default.fileExists(atPath: url.path)
            throw SafeTensorsError(
                file: url.path,
                message: exists
                    ? "cannot read the file (\(error.localizedDescription)); check its permissions"
                    : "cannot read the file: it does not exist; check the path")
        }
        return try parse(data, source: url.path)
    }

    /// Decodes "__metadata__", which the format defines as a string-to-string map.
    private static func parseMetadata(_ raw: Any, fail: (String) -> SafeTensorsError) throws -> [String: String] {
        if raw is NSNull { return [:] }  // serde reads `null` as an absent Option; accept it likewise.
        guard let map = raw as? [String: Any] else {
            throw fail("__metadata__ must map strings to strings, but it is \(describe(raw))")
        }
        var metadata: [String: String] = [:]
        for (key, value) in map {
            guard let string = value as? String else {
                throw fail("__metadata__ must map strings to strings, but key '\(key)' has \(describe(value)); store numbers and lists as strings")
            }
            metadata[key] = string
        }
        return metadata
    }

    /// An integer >= 0 from a JSONSerialization value, or nil.
    ///
    /// JSONSerialization returns NSNumber for numbers *and* booleans, and bridges 1.0 or true to
    /// Int happily, so the NSNumber's stored type is inspected: booleans ("c"), floating-point
    /// values ("d"/"f", including 1.0 and 1e2) and NSDecimalNumber (huge literals) are rejected,
    /// as the reference implementation's unsigned-integer fields would.
    private static func nonNegativeInteger(_ value: Any) -> Int? {
        guard let number = value as? NSNumber, !(number is NSDecimalNumber) else { return nil }
        switch String(cString: number.objCType) {
        case "c", "C", "B", "f", "d": return nil
        case "Q", "L", "I", "S":
            return Int(exactly: number.uint64Value)
        default:
            let v = number.int64Value
            return v >= 0 ? Int(exactly: v) : nil
        }
    }

    /// Short description of a JSON value for error messages ("array", "number -1", ...).
    private static func describe(_ value: Any) -> String {
        switch value {
        case is NSNull: return "null"
        case let s as String: return "string \"\(s.count > 40 ? String(s.prefix(40)) + "…" : s)\""
        case is [Any]:
            if let a = value as? [Any], a.count <= 8 { return "array [\(a.map { compact($0) }.joined(separator: ", "))]" }
            return "array"
        case is [String: Any]: return "object"
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            if type == "c" || type == "B" { return "boolean \(n.boolValue)" }
            return "number \(n)"
        default: return "\(type(of: value))"
        }
    }

    private static func compact(_ value: Any) -> String {
        switch value {
        case let s as String: return "\"\(s)\""
        case let n as NSNumber:
            let type = String(cString: n.objCType)
            return (type == "c" || type == "B") ? "\(n.boolValue)" : "\(n)"
        case is NSNull: return "null"
        case is [Any]: return "[…]"
        default: return "{…}"
        }
    }

    // MARK: Writing

    /// The file image: deterministic, so equal contents always give identical bytes.
    ///
    /// Tensors are laid out back to back in sorted name order; the header lists "__metadata__"
    /// first (omitted when empty), then tensors in sorted order with sorted keys, and is padded
    /// with spaces to a multiple of 8 bytes so the data buffer starts 8-byte aligned, as the
    /// reference writer does.
    public func serialized() -> Data {
        let ordered = names.map { entries[$0]! }
        let header = Self.header(metadata: metadata, tensors: ordered.map { ($0.name, $0.dtype, $0.shape, $0.bytes.count) })
        var out = Data(capacity: header.count + ordered.reduce(0) { $0 + $1.bytes.count })
        out.append(header)
        for entry in ordered { out.append(entry.bytes) }
        return out
    }

    /// The length field and the JSON header (padded to a multiple of 8 bytes) of a file with
    /// these tensors, laid out in the order given.
    static func header(metadata: [String: String], tensors: [(name: String, dtype: SafeTensorsDType, shape: [Int], byteCount: Int)]) -> Data {
        var json = "{"
        var first = true
        if !metadata.isEmpty {
            json += "\"__metadata__\":{"
            json += metadata.keys.sorted().map { "\(jsonString($0)):\(jsonString(metadata[$0]!))" }.joined(separator: ",")
            json += "}"
            first = false
        }
        var offset = 0
        for t in tensors {
            if !first { json += "," }
            first = false
            let end = offset + t.byteCount
            json +=
                "\(jsonString(t.name)):{\"data_offsets\":[\(offset),\(end)],\"dtype\":\"\(t.dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))]}"
            offset = end
        }
        json += "}"
        var header = Data(json.utf8)
        let padding = (8 - header.count % 8) % 8
        header.append(contentsOf: [UInt8](repeating: 0x20, count: padding))
        var out = Data()
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(header)
        return out
    }

    /// Writes float32 tensors one at a time, asking `values` for each in turn, so that a file
    /// larger than memory allows can be written (`hat import` of a WMT SuperTransformer holds
    /// one tensor, not the model twice). The same bytes as `serialized()` would give, written
    /// atomically like `write(to:)`; nothing is left behind when `values` throws.
    public static func writeStreaming(
        to url: URL, metadata: [String: String], float32Tensors: [(name: String, shape: [Int])],
        values: (String) throws -> [Float]
    ) throws {
        let ordered = float32Tensors.sorted { $0.name < $1.name }
        let header = header(metadata: metadata, tensors: ordered.map { ($0.name, .F32, $0.shape, 4 * $0.shape.reduce(1, *)) })
        let temporary = temporaryURL(for: url)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil), let handle = FileHandle(forWritingAtPath: temporary.path) else {
            throw SafeTensorsError(file: url.path, message: "cannot create temporary file \(temporary.path); check that the directory exists and is writable")
        }
        do {
            defer { try? handle.close() }
            try handle.write(contentsOf: header)
            for t in ordered {
                let v = try values(t.name)
                guard v.count == t.shape.reduce(1, *) else {
                    throw SafeTensorsError(file: url.path, message: "tensor \(t.name) has \(v.count) values for shape \(t.shape)")
                }
                try handle.write(contentsOf: v.withUnsafeBytes { Data($0) })
            }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        try moveIntoPlace(temporary, url)
    }

    /// `.NAME.tmp-PID-RANDOM` beside `url`: the pattern of every temporary file `hat` writes, so a
    /// later run can tell a dead process's leftover from a live one's (Data's `TemporaryFiles`).
    static func temporaryURL(for url: URL) -> URL {
        url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
    }

    /// Renames a finished, fsynced temporary file over `url`, then fsyncs the folder, so the
    /// checkpoint survives a power loss once this returns.
    static func moveIntoPlace(_ temporary: URL, _ url: URL) throws {
        if rename(temporary.path, url.path) != 0 {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(at: temporary)
            throw SafeTensorsError(file: url.path, message: "cannot move temporary file \(temporary.path) into place (\(reason))")
        }
        let folder = open(url.deletingLastPathComponent().path, O_RDONLY | O_CLOEXEC)
        if folder >= 0 {
            defer { close(folder) }
            if fsync(folder) != 0 && errno != EINVAL {
                throw SafeTensorsError(file: url.path, message: "cannot sync its folder to disk (\(String(cString: strerror(errno))))")
            }
        }
    }

    /// Writes the file atomically: the bytes go to a temporary file in the same directory, which
    /// is then renamed over `url`, so a crash or a concurrent reader never sees a half-written
    /// checkpoint (rename within one file system is atomic on POSIX).
    public func write(to url: URL) throws {
        let data = serialized()
        let temporary = Self.temporaryURL(for: url)
        do {
            try data.write(to: temporary)
            let handle = try FileHandle(forWritingTo: temporary)
            defer { try? handle.close() }
            try handle.synchronize()
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw SafeTensorsError(
                file: url.path,
                message:
                    "cannot write temporary file \(temporary.path) (\(error.localizedDescription)); check that the directory exists, is writable and has space")
        }
        try Self.moveIntoPlace(temporary, url)
    }

    /// A JSON string literal for `s`: quotes, backslashes and control characters escaped;
    /// other characters (including non-ASCII) written as UTF-8, which JSON allows.
    private static func jsonString(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                out += "\\u" + String(repeating: "0", count: 4 - String(scalar.value, radix: 16).count) + String(scalar.value, radix: 16)
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
