import Foundation

/// One side of a split of a fairseq data-bin folder (`fairseq-preprocess`, HAT's preprocessed
/// downloads): `PREFIX.idx` and `PREFIX.bin`, e.g. `test.en-de.en`. Both index formats fairseq
/// writes:
/// - mmap (`--dataset-impl mmap`): "MMIDIDX\0\0", version u64 = 1, element type u8, count N u64,
///   then N sentence lengths (i32) and N byte offsets into `.bin` (i64); the ids are stored as they are.
/// - legacy (TorchNet, `cached`/`lazy`): "TNTIDX\0\0", version u64 = 1, element type and element
///   size u64, N and the dimension count u64, then dimension offsets, data offsets (elements) and
///   dimensions (i64); ids are stored plus one (Lua's indexing), which reading takes off again.
/// Everything is checked against the files' sizes; errors name the file.
public struct FairseqIndexedDataset: Sendable {
    public enum Format: String, Sendable { case mmap, legacy }

    public let prefix: String
    public let format: Format
    /// Every sentence's ids, back to back; sentence i is `tokens[offsets[i]..<offsets[i+1]]`.
    public let tokens: [Int32]
    public let offsets: [Int]

    public var count: Int { offsets.count - 1 }
    public func sentence(_ i: Int) -> ArraySlice<Int32> { tokens[offsets[i]..<offsets[i + 1]] }

    static let mmapMagic: [UInt8] = Array("MMIDIDX".utf8) + [0, 0]
    static let legacyMagic: [UInt8] = Array("TNTIDX".utf8) + [0, 0]

    public init(prefix: String) throws {
        self.prefix = prefix
        let indexPath = prefix + ".idx", dataPath = prefix + ".bin"
        for path in [indexPath, dataPath] where !FileManager.default.fileExists(atPath: path) {
            throw DataError.io(path: path, reason: "is missing: a fairseq data-bin split needs PREFIX.idx and PREFIX.bin")
        }
        let index = try Self.read(indexPath), data = try Self.read(dataPath)
        func fail(_ reason: String) -> DataError { DataError.io(path: indexPath, reason: reason) }
        var reader = ByteReader(bytes: index, fail: fail)
        if index.starts(with: Self.mmapMagic) {
            format = .mmap
            reader.position = Self.mmapMagic.count
            guard try reader.u64() == 1 else { throw fail("mmap index version is not 1") }
            let element = try Self.elementType(Int(try reader.u8()), path: indexPath)
            let n = try reader.count(bytesEach: 12)
            let sizes = try (0..<n).map { _ in Int(try reader.i32()) }
            let pointers = try (0..<n).map { _ in Int(try reader.i64()) }
            var tokens: [Int32] = [], offsets = [0]
            tokens.reserveCapacity(sizes.reduce(0) { $0 + max($1, 0) })
            for (i, (size, pointer)) in zip(sizes, pointers).enumerated() {
                guard size >= 0, pointer >= 0, pointer <= data.count, size <= (data.count - pointer) / element.size else {
                    throw fail("sentence \(i) (\(size) ids at byte \(pointer)) lies outside \(dataPath) (\(data.count) bytes)")
                }
                try Self.append(data, from: pointer, count: size, element: element, subtract: 0, to: &tokens, path: dataPath)
                offsets.append(tokens.count)
            }
            (self.tokens, self.offsets) = (tokens, offsets)
        } else if index.starts(with: Self.legacyMagic) {
            format = .legacy
            reader.position = Self.legacyMagic.count
            guard try reader.u64() == 1 else { throw fail("legacy index version is not 1") }
            let element = try Self.elementType(Int(try reader.u64()), path: indexPath)
            guard try reader.u64() == UInt64(element.size) else { throw fail("element size does not match its type") }
            let n = try reader.count(bytesEach: 16), dims = try reader.count(bytesEach: 8)
            let dimOffsets = try (0...n).map { _ in Int(try reader.i64()) }
            let dataOffsets = try (0...n).map { _ in Int(try reader.i64()) }
            let sizes = try (0..<dims).map { _ in Int(try reader.i64()) }
            var tokens: [Int32] = [], offsets = [0]
            for i in 0..<n {
                guard dimOffsets[i] >= 0, dimOffsets[i] < dimOffsets[i + 1], dimOffsets[i + 1] <= dims,
                    dataOffsets[i] >= 0, dataOffsets[i] <= dataOffsets[i + 1], dataOffsets[i + 1] <= data.count / element.size
                else {
                    throw fail("sentence \(i)'s offsets are out of order or lie outside \(dataPath)")
                }
                let length = dataOffsets[i + 1] - dataOffsets[i]
                guard sizes[dimOffsets[i]] == length, dimOffsets[i + 1] - dimOffsets[i] == 1 else {
                    throw fail("sentence \(i) is not a vector of \(length) ids (its sizes say \(sizes[dimOffsets[i]..<dimOffsets[i + 1]]))")
                }
                try Self.append(data, from: dataOffsets[i] * element.size, count: length, element: element, subtract: 1, to: &tokens, path: dataPath)
                offsets.append(tokens.count)
            }
            (self.tokens, self.offsets) = (tokens, offsets)
        } else {
            throw fail("is not a fairseq index (neither MMIDIDX nor TNTIDX): written by another tool, or damaged")
        }
    }

    /// fairseq's element-type codes that token ids use.
    enum Element {
        case uint8, int8, int16, int32, int64, uint16, uint32
        var size: Int {
            switch self {
            case .uint8, .int8: return 1
            case .int16, .uint16: return 2
            case .int32, .uint32: return 4
            case .int64: return 8
            }
        }
    }

    static func elementType(_ code: Int, path: String) throws -> Element {
        switch code {
        case 1: return .uint8
        case 2: return .int8
        case 3: return .int16
        case 4: return .int32
        case 5: return .int64
        case 8: return .uint16
        case 9: return .uint32
        default: throw DataError.io(path: path, reason: "element type \(code) is not an integer type of token ids")
        }
    }

    static func append(_ data: Data, from start: Int, count: Int, element: Element, subtract: Int, to tokens: inout [Int32], path: String) throws {
        try data.withUnsafeBytes { raw in
            for j in 0..<count {
                let at = start + j * element.size
                let v: Int
                switch element {
                case .uint8: v = Int(raw.load(fromByteOffset: at, as: UInt8.self))
                case .int8: v = Int(raw.load(fromByteOffset: at, as: Int8.self))
                case .int16: v = Int(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int16.self)))
                case .uint16: v = Int(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt16.self)))
                case .int32: v = Int(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int32.self)))
                case .uint32: v = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: UInt32.self)))
                case .int64: v = Int(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: at, as: Int64.self)))
                }
                let id = v - subtract
                guard id >= 0, id <= Int(Int32.max) else { throw DataError.io(path: path, reason: "token id \(id) at byte \(at) is not a dictionary index") }
                tokens.append(Int32(id))
            }
        }
    }

    static func read(_ path: String) throws -> Data {
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.io(path: path, reason: "cannot be read") }
        return data
    }

    /// Little-endian fields of an index file, each checked against its length.
    struct ByteReader {
        let bytes: Data
        var position = 0
        let fail: (String) -> DataError

        mutating func take(_ n: Int) throws -> UInt64 {
            guard n <= bytes.count - position else { throw fail("ends inside its header or tables (truncated file)") }
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(bytes[position + i]) }
            position += n
            return v
        }
        mutating func u8() throws -> UInt8 { UInt8(try take(1)) }
        mutating func u64() throws -> UInt64 { try take(8) }
        mutating func i32() throws -> Int32 { Int32(truncatingIfNeeded: try take(4)) }
        mutating func i64() throws -> Int64 { Int64(bitPattern: try take(8)) }
        /// A count whose tables (`bytesEach` per item) must fit in what is left of the file.
        mutating func count(bytesEach: Int) throws -> Int {
            let n = try u64()
            guard n <= UInt64((bytes.count - position) / bytesEach) else { throw fail("claims \(n) entries, more than the file holds") }
            return Int(n)
        }
    }
}
