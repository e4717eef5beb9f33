import Foundation

/// One binarized split of a parallel corpus: for each sentence pair, the source and target
/// token ids as stored (pieces followed by eos = 2), kept flat in two arrays with offsets.
///
/// Loaded from a `.bin` file (file format: docs/ARCHITECTURE.md, "Data files") with one read,
/// no text parsing. Sentence `i` is `source(i)` / `target(i)`.
///
/// ```swift
/// let data = try PreparedDataset(directory: "runs/data/builtin")
/// let train = try data.split("train")
/// train.source(0)   // [71, 9, 412, 2]
/// ```
public struct TranslationDataset: Sendable {
    /// All source tokens, sentence after sentence.
    public let sourceTokens: [Int32]
    /// All target tokens, sentence after sentence.
    public let targetTokens: [Int32]
    /// `sourceOffsets[i] ..< sourceOffsets[i + 1]` is sentence i in `sourceTokens` (count + 1 entries).
    public let sourceOffsets: [Int]
    /// `targetOffsets[i] ..< targetOffsets[i + 1]` is sentence i in `targetTokens`.
    public let targetOffsets: [Int]

    /// Number of sentence pairs.
    public var count: Int { sourceOffsets.count - 1 }
    /// Source tokens of sentence `i` (with its final eos).
    public func source(_ i: Int) -> ArraySlice<Int32> { sourceTokens[sourceOffsets[i]..<sourceOffsets[i + 1]] }
    /// Target tokens of sentence `i` (with its final eos).
    public func target(_ i: Int) -> ArraySlice<Int32> { targetTokens[targetOffsets[i]..<targetOffsets[i + 1]] }
    /// Length of source sentence `i` in tokens, eos included.
    public func sourceLength(_ i: Int) -> Int { sourceOffsets[i + 1] - sourceOffsets[i] }
    /// Length of target sentence `i` in tokens, eos included.
    public func targetLength(_ i: Int) -> Int { targetOffsets[i + 1] - targetOffsets[i] }

    /// A dataset from per-sentence token arrays (each should end with eos, as `prepare` stores them).
    public init(source: [[Int32]], target: [[Int32]]) {
        precondition(source.count == target.count, "source and target need the same number of sentences")
        sourceTokens = source.flatMap { $0 }
        targetTokens = target.flatMap { $0 }
        var so = [0], to = [0]
        so.reserveCapacity(source.count + 1)
        to.reserveCapacity(target.count + 1)
        for s in source { so.append(so.last! + s.count) }
        for t in target { to.append(to.last! + t.count) }
        sourceOffsets = so
        targetOffsets = to
    }

    /// A dataset from flat token arrays and their offsets (`count + 1` entries each, from 0 to the
    /// token count, never decreasing), as a reader of another format holds them.
    public init(sourceTokens: [Int32], sourceOffsets: [Int], targetTokens: [Int32], targetOffsets: [Int]) {
        precondition(sourceOffsets.count == targetOffsets.count, "source and target need the same number of sentences")
        precondition(
            sourceOffsets.first == 0 && sourceOffsets.last == sourceTokens.count
                && targetOffsets.first == 0 && targetOffsets.last == targetTokens.count, "offsets must span the tokens")
        self.sourceTokens = sourceTokens
        self.targetTokens = targetTokens
        self.sourceOffsets = sourceOffsets
        self.targetOffsets = targetOffsets
    }

    /// The pairs whose source and target both have at most `maxLength` tokens (eos included), and
    /// how many were dropped: a model has positions for `maxLength` tokens and no more (fairseq
    /// drops such pairs from training and, with --skip-invalid-size-inputs-valid-test, from validation).
    public func keepingPairs(maxLength: Int) -> (dataset: TranslationDataset, dropped: Int) {
        let keep = (0..<count).filter { sourceLength($0) <= maxLength && targetLength($0) <= maxLength }
        guard keep.count < count else { return (self, 0) }
        return (TranslationDataset(source: keep.map { Array(source($0)) }, target: keep.map { Array(target($0)) }), count - keep.count)
    }

    /// Loads a `.bin` file written by `write(to:)`, validating its header, sizes and offsets;
    /// with `vocabularySizes`, also that every id is in range and every sentence ends with eos.
    /// - Throws: `DataError.missingFile`, `.corruptDataset` naming the file and what is wrong.
    public init(path: String, vocabularySizes: (source: Int, target: Int)? = nil) throws {
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.missingFile(path: path) }
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        } catch {
            throw DataError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        func corrupt(_ reason: String) -> DataError { .corruptDataset(path: path, reason: reason) }
        let header = BinaryFormat.headerSize
        guard data.count >= header else { throw corrupt("file is \(data.count) bytes, shorter than the header") }
        var so: [Int] = [], to: [Int] = [], st: [Int32] = [], tt: [Int32] = []
        try data.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
            guard raw.prefix(8).elementsEqual(BinaryFormat.magic) else { throw corrupt("bad magic bytes") }
            let version = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt32.self))
            guard version == BinaryFormat.version else { throw corrupt("format version \(version), expected \(BinaryFormat.version)") }
            // Counts are checked against the file size before any arithmetic: a damaged header may
            // hold any 64-bit value, and no count can exceed the bytes that would store it.
            func count(at offset: Int, _ what: String) throws -> Int {
                let v = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                guard v <= UInt64(raw.count) else { throw corrupt("the header gives \(v) \(what), more than the file's \(raw.count) bytes can hold") }
                return Int(v)
            }
            let n = try count(at: 16, "sentences")
            let sourceCount = try count(at: 24, "source tokens")
            let targetCount = try count(at: 32, "target tokens")
            let expected = BinaryFormat.fileSize(sentences: n, sourceTokens: sourceCount, targetTokens: targetCount)
            guard expected == raw.count else {
                throw corrupt("size is \(raw.count) bytes but the header describes \(expected) (truncated?)")
            }
            func offsets(at start: Int, total: Int, side: String) throws -> [Int] {
                var out = [Int](repeating: 0, count: n + 1)
                var previous = 0
                for i in 0...n {
                    let stored = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: start + 8 * i, as: UInt64.self))
                    guard stored <= UInt64(total) else { throw corrupt("\(side) offset \(i) is \(stored), past the \(total) tokens") }
                    let v = Int(stored)
                    if (i == 0 && v != 0) || v < previous {
                        throw corrupt("\(side) offset \(i) is \(v), out of order")
                    }
                    out[i] = v
                    previous = v
                }
                guard previous == total else { throw corrupt("\(side) offsets end at \(previous), expected \(total)") }
                return out
            }
            func tokens(at start: Int, count: Int) -> [Int32] {
                [Int32](unsafeUninitializedCapacity: count) { buffer, initialized in
                    for i in 0..<count { buffer[i] = Int32(littleEndian: raw.loadUnaligned(fromByteOffset: start + 4 * i, as: Int32.self)) }
                    initialized = count
                }
            }
            var at = header
            so = try offsets(at: at, total: sourceCount, side: "source")
            at += 8 * (n + 1)
            to = try offsets(at: at, total: targetCount, side: "target")
            at += 8 * (n + 1)
            st = tokens(at: at, count: sourceCount)
            at += 4 * sourceCount
            tt = tokens(at: at, count: targetCount)
        }
        sourceTokens = st
        targetTokens = tt
        sourceOffsets = so
        targetOffsets = to
        if let sizes = vocabularySizes {
            try validate(tokens: sourceTokens, offsets: sourceOffsets, vocabularySize: sizes.source, side: "source", path: path)
            try validate(tokens: targetTokens, offsets: targetOffsets, vocabularySize: sizes.target, side: "target", path: path)
        }
    }

    private func validate(tokens: [Int32], offsets: [Int], vocabularySize: Int, side: String, path: String) throws {
        for (k, id) in tokens.enumerated() where id < 0 || Int(id) >= vocabularySize {
            throw DataError.corruptDataset(path: path, reason: "\(side) token \(k) is id \(id), outside the vocabulary (size \(vocabularySize))")
        }
        for i in 0..<(offsets.count - 1) where offsets[i + 1] == offsets[i] || tokens[offsets[i + 1] - 1] != Vocabulary.eosID {
            throw DataError.corruptDataset(path: path, reason: "\(side) sentence \(i) does not end with eos (\(Vocabulary.eosID))")
        }
    }

    /// Writes the binarized split to `path` atomically (temporary name, then rename).
    public func write(to path: String) throws {
        var bytes = [UInt8]()
        bytes.reserveCapacity(BinaryFormat.fileSize(sentences: count, sourceTokens: sourceTokens.count, targetTokens: targetTokens.count))
        func put<T: FixedWidthInteger>(_ v: T) {
            withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        }
        bytes.append(contentsOf: BinaryFormat.magic)
        put(BinaryFormat.version)
        put(UInt32(0))
        put(UInt64(count))
        put(UInt64(sourceTokens.count))
        put(UInt64(targetTokens.count))
        for o in sourceOffsets { put(UInt64(o)) }
        for o in targetOffsets { put(UInt64(o)) }
        for t in sourceTokens { put(t) }
        for t in targetTokens { put(t) }
        try AtomicFile.write(Data(bytes), to: path)
    }
}

/// The `.bin` layout (little-endian): docs/ARCHITECTURE.md, "Data files".
enum BinaryFormat {
    static let magic: [UInt8] = Array("HATDATA1".utf8)
    static let version: UInt32 = 1
    /// magic (8) + version u32 + flags u32 + sentence count u64 + source tokens u64 + target tokens u64.
    static let headerSize = 40

    static func fileSize(sentences n: Int, sourceTokens: Int, targetTokens: Int) -> Int {
        headerSize + 2 * 8 * (n + 1) + 4 * (sourceTokens + targetTokens)
    }
}
