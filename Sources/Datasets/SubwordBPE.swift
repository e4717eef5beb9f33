/// Applying subword-nmt BPE codes (`apply_bpe.py`, Sennrich et al. 2016) exactly as its
/// `BPE.process_line` does with the default options (separator "@@", all merges, no glossaries,
/// no vocabulary filter, no dropout): the BPE step of HAT's/fairseq's data preparation after the
/// Moses tokenizer; and removing it again (fairseq's `--remove-bpe`).
///
/// A word is split into characters and the codes file's merges are applied lowest rank first,
/// every non-overlapping occurrence of the chosen pair left to right, until none applies. The
/// two codes versions differ only in where the end-of-word mark goes: version 0.1 (no header)
/// appends a separate "</w>" symbol, version 0.2 ("#version: 0.2") glues it to the last
/// character ("t</w>"). `SubwordBPETests` checks both against subword-nmt on Multi30k.
///
/// ```swift
/// var bpe = try SubwordBPE(codesPath: "codes.txt")
/// bpe.processLine("the lowest trees")          // e.g. "the low@@ est tre@@ es"
/// SubwordBPE.removeBPE("the low@@ est")        // "the lowest"
/// ```
public struct SubwordBPE: Sendable {
    public enum Version: String, Sendable { case v0_1 = "0.1", v0_2 = "0.2" }

    public let version: Version
    /// Written after every subword but a word's last ("@@").
    public let separator: String
    /// Number of merge operations (codes lines; a repeated pair counts once, at its first rank).
    public let mergeCount: Int

    /// Symbols are interned: a pair is two ids; its value is rank << 32 | the merge result's id.
    private let merges: UInt64Table
    /// Ids of one-character symbols, of "c</w>" (version 0.2's last character) and of "</w>".
    private let characterID: UInt64Table
    private let finalCharacterID: UInt64Table
    private let endOfWordID: Int32
    /// Segmented words (with separators), as subword-nmt caches them: the result is the same.
    private var cache = BPEWordCache()
    /// The output line being built, kept between lines so that a line costs no buffer allocation.
    private var scratch: [UInt8] = []

    /// Reads a codes file written by subword-nmt's `learn_bpe` (any version 0.1 or 0.2 file).
    /// - Throws: `TextFormatError` naming the file and line of an unknown version header or of a
    ///   line that is not two symbols separated by one space; `DataError` when it cannot be read.
    public init(codesPath: String, separator: String = "@@") throws {
        try self.init(codes: UniversalNewlineText.read(path: codesPath), path: codesPath, separator: separator)
    }

    /// Codes given as text (`path` names them in errors).
    public init(codes text: String, path: String = "<BPE codes>", separator: String = "@@") throws {
        self.separator = separator
        let text = UniversalNewlineText.normalizeNewlines(text)
        // Code points throughout: Python splits and compares code points, not Characters.
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        var offset = 1
        if let first = lines.first, first.starts(with: "#version:".unicodeScalars) {
            version = try Self.parseVersion(String(String.UnicodeScalarView(first)), path: path)
            lines.removeFirst()
            offset = 2
        } else {
            version = .v0_1
        }
        // codes.read().rstrip('\n').split('\n'): trailing empty lines go, inner ones are errors.
        while lines.count > 1, lines.last!.isEmpty { lines.removeLast() }

        var ids: [[UInt32]: Int32] = [:]
        func intern(_ s: [UInt32]) -> Int32 {
            if let id = ids[s] { return id }
            let id = Int32(ids.count)
            ids[s] = id
            return id
        }
        var merges = UInt64Table(capacity: lines.count)
        for (n, raw) in lines.enumerated() {
            // item.strip('\r\n ').split(' ')
            var item = raw.map(\.value)[...]
            while let c = item.first, c == 0x20 || c == 0x0D || c == 0x0A { item.removeFirst() }
            while let c = item.last, c == 0x20 || c == 0x0D || c == 0x0A { item.removeLast() }
            let parts = item.split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TextFormatError(
                    path: path, line: n + offset,
                    message:
                        "invalid BPE codes line '\(String(String.UnicodeScalarView(raw)))': a line must be exactly two subword units "
                        + "separated by one space (subword-nmt learn_bpe output)")
            }
            let left = Array(parts[0]), right = Array(parts[1])
            let key = Self.key(intern(left), intern(right))
            if merges.value(key) == nil {  // duplicates: only the first counts
                merges.insertIfAbsent(key, Int64(merges.count) << 32 | Int64(intern(left + right)))
            }
        }
        self.merges = merges
        mergeCount = merges.count
        let endOfWord: [UInt32] = "</w>".unicodeScalars.map(\.value)
        var single = UInt64Table(capacity: ids.count), final = UInt64Table(capacity: ids.count)
        for (s, id) in ids {
            if s.count == 1 {
                single.insertIfAbsent(UInt64(s[0]), Int64(id))
            } else if s.count == 5 && s[1...].elementsEqual(endOfWord) {
                final.insertIfAbsent(UInt64(s[0]), Int64(id))
            }
        }
        characterID = single
        finalCharacterID = final
        endOfWordID = ids[endOfWord] ?? -1
    }

    /// `re.sub(r'(\.0+)*$', '', firstline.split()[-1])`, then the dotted integers; 0.1 and 0.2 only.
    private static func parseVersion(_ line: String, path: String) throws -> Version {
        let last = PythonText.pythonSplit(line).last ?? ""
        var v = Substring(last)
        // Strip trailing ".0", ".00", ... groups.
        while let dot = v.lastIndex(of: "."), v.index(after: dot) < v.endIndex,
            v[v.index(after: dot)...].allSatisfy({ $0 == "0" })
        {
            v = v[..<dot]
        }
        let numbers = v.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        if numbers == [0, 1] { return .v0_1 }
        if numbers == [0, 2] { return .v0_2 }
        throw TextFormatError(
            path: path, line: 1,
            message:
                "unknown BPE codes version '\(last)' in header '\(line)': subword-nmt codes are version 0.1 (no header) or 0.2 (#version: 0.2)")
    }

    @inline(__always)
    private static func key(_ a: Int32, _ b: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: a)) << 32 | UInt64(UInt32(bitPattern: b))
    }

    // MARK: - Applying

    /// `process_line`: leading and trailing "\r", "\n" and spaces kept, the words between
    /// segmented and joined by single spaces.
    public mutating func processLine(_ line: String) -> String {
        var line = line
        return line.withUTF8 { bytes in
            func isEdge(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D }
            let n = bytes.count
            var lead = 0
            while lead < n && isEdge(bytes[lead]) { lead += 1 }
            if lead == n { return String(decoding: bytes, as: UTF8.self) }  // only whitespace: kept as it is
            var trail = 0
            while isEdge(bytes[n - 1 - trail]) { trail += 1 }
            var out = scratch
            scratch = []
            defer { scratch = out }
            out.removeAll(keepingCapacity: true)
            out.reserveCapacity(n * 2 + 16)
            out.append(contentsOf: bytes[0..<lead])
            segment(UnsafeBufferPointer(rebasing: bytes[lead..<(n - trail)]), into: &out)
            out.append(contentsOf: bytes[(n - trail)...])
            return String(decoding: out, as: UTF8.self)
        }
    }

    /// `segment`: the sentence's words (split on single spaces, empty ones dropped) segmented.
    public mutating func segment(_ sentence: String) -> String {
        var sentence = sentence
        return sentence.withUTF8 { bytes in
            func isEdge(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D }
            var s = 0, e = bytes.count
            while s < e && isEdge(bytes[s]) { s += 1 }
            while e > s && isEdge(bytes[e - 1]) { e -= 1 }
            var out: [UInt8] = []
            segment(UnsafeBufferPointer(rebasing: bytes[s..<e]), into: &out)
            return String(decoding: out, as: UTF8.self)
        }
    }

    private mutating func segment(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        var first = true
        var i = 0
        let n = bytes.count
        while i < n {
            var j = i
            while j < n && bytes[j] != 0x20 { j += 1 }
            if j > i {
                if !first { out.append(0x20) }
                first = false
                let word = UnsafeBufferPointer(rebasing: bytes[i..<j])
                let hash = BPEWordCache.hash(word)
                if !cache.append(word, hash: hash, to: &out) {
                    let start = out.count
                    encode(word, into: &out)
                    out.withUnsafeBufferPointer {
                        cache.insert(word, hash: hash, segmentation: UnsafeBufferPointer(rebasing: $0[start...]))
                    }
                }
            }
            i = j + 1
        }
    }

    /// The subwords of one word (subword-nmt's `encode`), joined with the separator and a space.
    func encode(_ word: String) -> String {
        var word = word, out: [UInt8] = []
        word.withUTF8 { encode($0, into: &out) }
        return String(decoding: out, as: UTF8.self)
    }

    /// `encode` on a word's UTF-8 bytes, appending the subwords (separator and space between
    /// them) to `out`. Working memory is on the stack; symbols are merged in place.
    func encode(_ word: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: 3 * (word.count + 2)) { memory in
            // Per character: its first byte; per symbol: its id and first character. A symbol
            // ends where the next starts; version 0.1's "</w>" starts at n (no characters).
            let byteStart = memory.baseAddress!
            let ids = byteStart + (word.count + 2)
            let starts = ids + (word.count + 2)
            var n = 0, i = 0
            var lastScalar: UInt32 = 0
            while i < word.count {
                byteStart[n] = Int32(i)
                let b0 = UInt32(word[i])
                var c: UInt32, len: Int
                if b0 < 0x80 {
                    c = b0
                    len = 1
                } else if b0 < 0xE0 {
                    c = b0 & 0x1F
                    len = 2
                } else if b0 < 0xF0 {
                    c = b0 & 0x0F
                    len = 3
                } else {
                    c = b0 & 0x07
                    len = 4
                }
                for k in 1..<max(len, 1) { c = c << 6 | (UInt32(word[i + k]) & 0x3F) }
                ids[n] = Int32(truncatingIfNeeded: characterID.value(UInt64(c)) ?? -1)
                starts[n] = Int32(n)
                lastScalar = c
                n += 1
                i += len
            }
            byteStart[n] = Int32(word.count)
            if n <= 1 {  // subword-nmt returns a one-character word as it is
                out.append(contentsOf: word)
                return
            }
            var count = n
            switch version {
            case .v0_1:
                ids[n] = endOfWordID
                starts[n] = Int32(n)
                count = n + 1
            case .v0_2:
                ids[n - 1] = Int32(truncatingIfNeeded: finalCharacterID.value(UInt64(lastScalar)) ?? -1)
            }
            while count > 1 {
                // The pair of lowest rank (equal ranks are equal pairs).
                var best = Int64.max, bestKey: UInt64 = 0
                for k in 0..<(count - 1) where ids[k] >= 0 && ids[k + 1] >= 0 {
                    let key = Self.key(ids[k], ids[k + 1])
                    if let v = merges.value(key), v < best {
                        best = v
                        bestKey = key
                    }
                }
                if best == Int64.max { break }
                let merged = Int32(truncatingIfNeeded: best & 0xFFFF_FFFF)
                // Every occurrence, left to right; a merged pair's right symbol cannot start another.
                var r = 0, w = 0
                while r < count {
                    if r + 1 < count && ids[r] >= 0 && ids[r + 1] >= 0 && Self.key(ids[r], ids[r + 1]) == bestKey {
                        ids[w] = merged
                        starts[w] = starts[r]
                        r += 2
                    } else {
                        ids[w] = ids[r]
                        starts[w] = starts[r]
                        r += 1
                    }
                    w += 1
                }
                count = w
            }
            // The end-of-word mark is not printed: a lone "</w>" has no characters and is dropped.
            var pieces = 0
            for k in 0..<count {
                let s = Int(starts[k]), e = k + 1 < count ? Int(starts[k + 1]) : n
                if s == e { continue }
                if pieces > 0 {
                    out.append(contentsOf: separator.utf8)
                    out.append(0x20)
                }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: word[Int(byteStart[s])..<Int(byteStart[e])]))
                pieces += 1
            }
        }
    }

    // MARK: - Removing

    /// fairseq's `--remove-bpe` (`post_process(line, "subword_nmt")`):
    /// `(line + " ").replace("@@ ", "").rstrip()`.
    public static func removeBPE(_ line: String, separator: String = "@@") -> String {
        removeBPE(line, marker: separator + " ")
    }

    /// `(line + " ").replace(marker, "").rstrip()`.
    static func removeBPE(_ line: String, marker: String) -> String {
        let marker = Array(marker.utf8)
        var bytes = Array(line.utf8)
        bytes.append(0x20)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == marker[0] && i + marker.count <= bytes.count && bytes[i..<(i + marker.count)].elementsEqual(marker) {
                i += marker.count
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return PythonText.pythonRStrip(String(decoding: out, as: UTF8.self))
    }
}
