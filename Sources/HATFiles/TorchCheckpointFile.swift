/// A checkpoint written by `torch.save`, read without Python and without running anything.
///
/// Two layouts (docs/ARCHITECTURE.md, "HATFiles"):
/// - zip (PyTorch ≥ 1.6): `TOP/data.pkl` (the object, storages as persistent ids) and one
///   record `TOP/data/KEY` per storage. TOP is the name of the file the checkpoint was *first*
///   saved as, so it is found, not assumed.
/// - legacy (PyTorch ≤ 1.5, HAT's published files): five pickles in a row (magic number, protocol
///   version, system info, the object, the list of storage keys), then every storage's raw bytes
///   in that list's order, each after its element count (int64).
///
/// Opening parses the object; tensors are read one at a time (`floats`), so a fairseq
/// checkpoint's optimizer state is never read.
public final class TorchCheckpointFile {
    public enum Layout: String, Sendable { case zip, legacy }

    public let path: String
    public let layout: Layout
    /// The saved object (for fairseq: a dict with `args`, `model`, `optimizer_history`, ...).
    public let object: PickleValue
    private let file: MappedFile
    /// Where each root storage's bytes start in the file, and how many bytes it holds.
    private var storageBytes: [String: (offset: Int, count: Int)] = [:]

    /// The legacy stream's magic number (torch/serialization.py) and protocol version.
    static let legacyMagic: [UInt8] = [0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20, 0x6A, 0xA8, 0x50, 0x19]
    static let legacyProtocol = 1001

    public init(path: String) throws {
        self.path = path
        file = try MappedFile(path: path)
        let bytes = file.bytes
        // Every storage the object names, by root key: its element type and element count.
        final class Seen { var roots: [String: (type: TorchScalarType, count: Int)] = [:] }
        let seen = Seen()
        let persistentLoad = { [path] (pid: PickleValue) throws -> PickleValue in
            let reference = try Self.storageReference(pid, file: path)
            if let known = seen.roots[reference.root], known.type != reference.storage.type || known.count != reference.rootCount {
                throw TorchCheckpointError(path, "storage \(reference.root) is named with two types or sizes")
            }
            seen.roots[reference.root] = (reference.storage.type, reference.rootCount)
            return .storage(reference.storage)
        }
        let unpickler = RestrictedUnpickler(file: path, persistentLoad: persistentLoad)
        if ZipDirectory.isZip(bytes) {
            layout = .zip
            let zip = try ZipDirectory(bytes, file: path)
            let pickles = zip.records.keys.filter { $0.hasSuffix("/data.pkl") && $0.split(separator: "/", omittingEmptySubsequences: false).count == 2 }
            guard pickles.count == 1, let pickleName = pickles.first, let pickle = zip.records[pickleName] else {
                throw TorchCheckpointError(
                    path,
                    pickles.isEmpty
                        ? "a zip archive without a TOP/data.pkl record: not a PyTorch checkpoint"
                        : "a zip archive with \(pickles.count) data.pkl records")
            }
            if let order = zip.records[String(pickleName.dropLast("data.pkl".count)) + "byteorder"],
                String(decoding: UnsafeRawBufferPointer(rebasing: bytes[order.offset..<(order.offset + order.size)]), as: UTF8.self) != "little"
            {
                throw TorchCheckpointError(path, "written on a big-endian machine; only little-endian checkpoints are read")
            }
            let region = UnsafeRawBufferPointer(rebasing: bytes[pickle.offset..<(pickle.offset + pickle.size)])
            object = try unpickler.load(region).value
            let top = pickleName.dropLast("data.pkl".count)
            for (key, root) in seen.roots {
                guard let record = zip.records[top + "data/" + key] else {
                    throw TorchCheckpointError(path, "storage \(key) has no record \(top)data/\(key) in the archive")
                }
                guard record.size == root.count * root.type.byteSize else {
                    throw TorchCheckpointError(path, "storage \(key) should hold \(root.count) × \(root.type.byteSize) bytes; its record holds \(record.size)")
                }
                storageBytes[key] = (record.offset, record.size)
            }
        } else {
            layout = .legacy
            guard bytes.count >= 2, bytes[0] == 0x80 else {
                throw TorchCheckpointError(
                    path,
                    bytes.isEmpty
                        ? "an empty file (truncated download?)"
                        : "not a PyTorch checkpoint (neither a zip archive nor a pickle stream)")
            }
            var at = 0
            let magic = try unpickler.load(bytes, from: at)
            guard case .bigInt(let m) = magic.value, m == Self.legacyMagic else {
                if bytes.count >= 262, String(decoding: UnsafeRawBufferPointer(rebasing: bytes[257..<262]), as: UTF8.self) == "ustar" {
                    throw TorchCheckpointError(path, "a tar checkpoint of PyTorch ≤ 0.3; load and save it again with a newer PyTorch")
                }
                throw TorchCheckpointError(path, "not a PyTorch checkpoint (neither a zip archive nor the legacy stream's magic number)")
            }
            at = magic.end
            let version = try unpickler.load(bytes, from: at)
            guard version.value.int == Self.legacyProtocol else {
                throw TorchCheckpointError(path, "legacy protocol version \(version.value), expected \(Self.legacyProtocol)")
            }
            let info = try unpickler.load(bytes, from: version.end)
            if let little = info.value["little_endian"]?.bool, !little {
                throw TorchCheckpointError(path, "written on a big-endian machine; only little-endian checkpoints are read")
            }
            let loaded = try unpickler.load(bytes, from: info.end)
            object = loaded.value
            let keys = try unpickler.load(bytes, from: loaded.end)
            guard let keyList = keys.value.elements?.map(\.string), keyList.allSatisfy({ $0 != nil }) else {
                throw TorchCheckpointError(path, "the legacy stream's storage keys are not a list of strings")
            }
            at = keys.end
            for key in keyList.map({ $0! }) {
                guard let root = seen.roots[key] else { throw TorchCheckpointError(path, "storage \(key) is listed but never used") }
                guard at <= bytes.count - 8 else { throw TorchCheckpointError(path, "the file ends before storage \(key) (truncated file)") }
                var count: UInt64 = 0
                for i in (0..<8).reversed() { count = count << 8 | UInt64(bytes[at + i]) }
                guard count == UInt64(root.count) else {
                    throw TorchCheckpointError(path, "storage \(key) has \(count) elements in the file, \(root.count) in the object")
                }
                let size = root.count * root.type.byteSize
                guard size <= bytes.count - at - 8 else { throw TorchCheckpointError(path, "storage \(key) runs past the end of the file (truncated file)") }
                storageBytes[key] = (at + 8, size)
                at += 8 + size
            }
            if let missing = seen.roots.keys.first(where: { storageBytes[$0] == nil }) {
                throw TorchCheckpointError(path, "storage \(missing) is used but not in the file")
            }
        }
    }

    /// A persistent id: zip `('storage', type, key, location, numel)`; legacy
    /// `('storage', type, root key, location, root numel, view)` with view None or
    /// `(view key, offset, view numel)`.
    private static func storageReference(_ pid: PickleValue, file: String) throws -> (storage: TorchStorageReference, root: String, rootCount: Int) {
        guard case .tuple(let t) = pid, t.count == 5 || t.count == 6, t[0].string == "storage" else {
            throw TorchCheckpointError(file, "a persistent id that is not a storage: \(pid)")
        }
        guard case .global(let g) = t[1], g.module == "torch", let type = TorchScalarType(rawValue: g.name) else {
            throw TorchCheckpointError(file, "a storage of an unsupported type \(t[1])")
        }
        guard let key = t[2].string ?? t[2].int.map(String.init), let count = t[4].int, count >= 0 else {
            throw TorchCheckpointError(file, "a storage id without a key and an element count: \(pid)")
        }
        guard count <= Int.max / 8 else { throw TorchCheckpointError(file, "storage \(key) claims \(count) elements") }
        if t.count == 6, let view = t[5].elements {
            guard view.count == 3, let viewKey = view[0].string, let offset = view[1].int, let viewCount = view[2].int,
                offset >= 0, viewCount >= 0, offset <= count, viewCount <= count - offset
            else {
                throw TorchCheckpointError(file, "storage view \(t[5]) lies outside its storage \(key) of \(count) elements")
            }
            return (TorchStorageReference(key: viewKey, type: type, count: viewCount, view: (key, offset)), key, count)
        }
        return (TorchStorageReference(key: key, type: type, count: count, view: nil), key, count)
    }

    /// The tensor's values as float32, contiguous in row-major order (float16, bfloat16 and
    /// float64 converted; integers as floats).
    public func floats(_ tensor: TorchTensorReference) throws -> [Float] {
        let s = tensor.storage
        let root = s.view?.rootKey ?? s.key
        guard let location = storageBytes[root] else { throw TorchCheckpointError(path, "storage \(root) is not in the file") }
        guard let extent = tensor.extent else { return [] }
        let base = s.view?.offset ?? 0
        guard extent.upperBound < s.count, (base + extent.upperBound + 1) * s.type.byteSize <= location.count else {
            throw TorchCheckpointError(path, "a tensor of size \(tensor.shape) reads past its storage \(root)")
        }
        // The elements the view spans, raw, then converted and gathered.
        let first = extent.lowerBound, span = extent.count, width = s.type.byteSize
        let raw = UnsafeMutableRawPointer.allocate(byteCount: span * width, alignment: 16)
        defer { raw.deallocate() }
        file.copy(offset: location.offset + (base + first) * width, count: span * width, to: raw)
        var values = [Float](repeating: 0, count: tensor.count)
        values.withUnsafeMutableBufferPointer { out in
            let convert = Self.converter(s.type, raw)
            if tensor.isContiguous {
                for i in 0..<out.count { out[i] = convert(i) }
                return
            }
            // Strided: walk the index space in row-major order.
            let rank = tensor.shape.count
            var index = [Int](repeating: 0, count: rank), offset = tensor.offset - first
            for i in 0..<out.count {
                out[i] = convert(offset)
                var d = rank - 1
                while d >= 0 {
                    index[d] += 1
                    offset += tensor.strides[d]
                    if index[d] < tensor.shape[d] { break }
                    offset -= tensor.strides[d] * tensor.shape[d]
                    index[d] = 0
                    d -= 1
                }
            }
        }
        return values
    }

    /// Element i of raw little-endian storage bytes, as a float.
    private static func converter(_ type: TorchScalarType, _ raw: UnsafeMutableRawPointer) -> (Int) -> Float {
        switch type {
        case .float32: return { raw.loadUnaligned(fromByteOffset: $0 * 4, as: Float.self) }
        case .float64: return { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Double.self)) }
        case .float16: return { floatFromHalf(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) }
        case .bfloat16: return { Float(bitPattern: UInt32(raw.loadUnaligned(fromByteOffset: $0 * 2, as: UInt16.self)) << 16) }
        case .int64: return { Float(raw.loadUnaligned(fromByteOffset: $0 * 8, as: Int64.self)) }
        case .int32: return { Float(raw.loadUnaligned(fromByteOffset: $0 * 4, as: Int32.self)) }
        case .int16: return { Float(raw.loadUnaligned(fromByteOffset: $0 * 2, as: Int16.self)) }
        case .int8: return { Float(raw.load(fromByteOffset: $0, as: Int8.self)) }
        case .uint8, .bool: return { Float(raw.load(fromByteOffset: $0, as: UInt8.self)) }
        }
    }
}

/// IEEE binary16 → binary32, exactly (subnormals, infinities and NaN included).
func floatFromHalf(_ h: UInt16) -> Float {
    let sign = UInt32(h >> 15) << 31, exponent = UInt32(h >> 10) & 0x1F, mantissa = UInt32(h) & 0x3FF
    if exponent == 0x1F { return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13) }
    if exponent == 0 {
        // Subnormal (or zero): mantissa · 2^-24.
        let magnitude = Float(mantissa) * 0x1p-24
        return sign != 0 ? -magnitude : magnitude
    }
    return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
}
