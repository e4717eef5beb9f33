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
    public var mergeCount: Int { ranks.count }

    /// Symbols are interned: a pair is two ids, its merge result another id.
    private let ranks: [UInt64: Int32]
    private let mergedID: [UInt64: Int32]
    /// Ids of one-character symbols, of "c</w>" (version 0.2's last character) and of "</w>".
    private let characterID: [UInt32: Int32]
    private let finalCharacterID: [UInt32: Int32]
    private let endOfWordID: Int32
    /// Segmented words (with separators), as subword-nmt caches them: the result is the same.
    private var cache: [CodePointString: String] = [:]

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
        var ranks: [UInt64: Int32] = [:], merged: [UInt64: Int32] = [:]
        ranks.reserveCapacity(lines.count)
        for (n, raw) in lines.enumerated() {
            // item.strip('\r\n ').split(' ')
            var item = raw.map(\.value)[...]
            while let c = item.first, c == 0x20 || c == 0x0D || c == 0x0A { item.removeFirst() }
            while let c = item.last, c == 0x20 || c == 0x0D || c == 0x0A { item.removeLast() }
            let parts = item.split(separator: 0x20, omittingEmptySubsequences: false)
            guard parts.count == 2 else {
                throw TextFormatError(path: path, line: n + offset, message:
                    "invalid BPE codes line '\(String(String.UnicodeScalarView(raw)))': a line must be exactly two subword units "
                    + "separated by one space (subword-nmt learn_bpe output)")
            }
            let left = Array(parts[0]), right = Array(parts[1])
            let key = Self.key(intern(left), intern(right))
            if ranks[key] == nil {  // duplicates: only the first counts
                ranks[key] = Int32(ranks.count)
                merged[key] = intern(left + right)
            }
        }
        self.ranks = ranks
        mergedID = merged
        let endOfWord: [UInt32] = "</w>".unicodeScalars.map(\.value)
        var single: [UInt32: Int32] = [:], final: [UInt32: Int32] = [:]
        for (s, id) in ids {
            if s.count == 1 {
                single[s[0]] = id
            } else if s.count == 5 && s[1...].elementsEqual(endOfWord) {
                final[s[0]] = id
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
              v[v.index(after: dot)...].allSatisfy({ $0 == "0" }) {
            v = v[..<dot]
        }
        let numbers = v.split(separator: ".", omittingEmptySubsequences: false).map { Int($0) }
        if numbers == [0, 1] { return .v0_1 }
        if numbers == [0, 2] { return .v0_2 }
        throw TextFormatError(path: path, line: 1, message:
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
        let bytes = Array(line.utf8)
        func isEdge(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D }
        var lead = 0
        while lead < bytes.count && isEdge(bytes[lead]) { lead += 1 }
        if lead == bytes.count { return line }  // only whitespace: kept as it is
        var trail = 0
        while isEdge(bytes[bytes.count - 1 - trail]) { trail += 1 }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 2)
        out.append(contentsOf: bytes[0..<lead])
        segment(bytes[lead..<(bytes.count - trail)], into: &out)
        out.append(contentsOf: bytes[(bytes.count - trail)...])
        return String(decoding: out, as: UTF8.self)
    }

    /// `segment`: the sentence's words (split on single spaces, empty ones dropped) segmented.
    public mutating func segment(_ sentence: String) -> String {
        var out: [UInt8] = []
        let bytes = Array(sentence.utf8)
        func isEdge(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D }
        var s = 0, e = bytes.count
        while s < e && isEdge(bytes[s]) { s += 1 }
        while e > s && isEdge(bytes[e - 1]) { e -= 1 }
        segment(bytes[s..<e], into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private mutating func segment(_ bytes: ArraySlice<UInt8>, into out: inout [UInt8]) {
        var first = true
        var i = bytes.startIndex
        while i < bytes.endIndex {
            var j = i
            while j < bytes.endIndex && bytes[j] != 0x20 { j += 1 }
            if j > i {
                if !first { out.append(0x20) }
                first = false
                let word = String(decoding: bytes[i..<j], as: UTF8.self)
                if let done = cache[CodePointString(word)] {
                    out.append(contentsOf: done.utf8)
                } else {
                    let done = encode(word)
                    cache[CodePointString(word)] = done
                    out.append(contentsOf: done.utf8)
                }
            }
            i = j + 1
        }
    }

    /// The subwords of one word (subword-nmt's `encode`), joined with the separator and a space.
    func encode(_ word: String) -> String {
        let chars = word.unicodeScalars.map(\.value)
        let n = chars.count
        if n <= 1 { return word }
        // Symbols: an id and the index of their first character; a symbol ends where the next
        // starts. Version 0.1's "</w>" starts at n (no characters).
        var ids: [Int32] = [], starts: [Int] = []
        ids.reserveCapacity(n + 1); starts.reserveCapacity(n + 1)
        switch version {
        case .v0_1:
            for (k, c) in chars.enumerated() { ids.append(characterID[c] ?? -1); starts.append(k) }
            ids.append(endOfWordID); starts.append(n)
        case .v0_2:
            for k in 0..<(n - 1) { ids.append(characterID[chars[k]] ?? -1); starts.append(k) }
            ids.append(finalCharacterID[chars[n - 1]] ?? -1); starts.append(n - 1)
        }
        var newIDs: [Int32] = [], newStarts: [Int] = []
        while ids.count > 1 {
            // The pair of lowest rank (the first occurrence decides; equal ranks are equal pairs).
            var best = Int32.max, bestKey: UInt64 = 0
            for k in 0..<(ids.count - 1) where ids[k] >= 0 && ids[k + 1] >= 0 {
                let key = Self.key(ids[k], ids[k + 1])
                if let rank = ranks[key], rank < best { best = rank; bestKey = key }
            }
            if best == Int32.max { break }
            let merged = mergedID[bestKey]!
            // Every occurrence, left to right; a merged pair's right symbol cannot start another.
            newIDs.removeAll(keepingCapacity: true); newStarts.removeAll(keepingCapacity: true)
            var k = 0
            while k < ids.count {
                if k + 1 < ids.count && ids[k] >= 0 && ids[k + 1] >= 0 && Self.key(ids[k], ids[k + 1]) == bestKey {
                    newIDs.append(merged); newStarts.append(starts[k]); k += 2
                } else {
                    newIDs.append(ids[k]); newStarts.append(starts[k]); k += 1
                }
            }
            swap(&ids, &newIDs); swap(&starts, &newStarts)
        }
        // The end-of-word mark is not printed: a lone "</w>" is dropped (no characters), a glued
        // one is not part of the characters anyway.
        var out = String.UnicodeScalarView()
        var pieces = 0
        for k in 0..<ids.count {
            let s = starts[k], e = k + 1 < ids.count ? starts[k + 1] : n
            if s == e { continue }
            if pieces > 0 { out.append(contentsOf: separator.unicodeScalars); out.append(" ") }
            for c in chars[s..<e] { out.append(Unicode.Scalar(c)!) }
            pieces += 1
        }
        return String(out)
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
        var bytes = Array(line.utf8); bytes.append(0x20)
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var i = 0
        while i < bytes.count {
            if bytes[i] == marker[0] && i + marker.count <= bytes.count && bytes[i..<(i + marker.count)].elementsEqual(marker) {
                i += marker.count
            } else {
                out.append(bytes[i]); i += 1
            }
        }
        return PythonText.pythonRStrip(String(decoding: out, as: UTF8.self))
    }
}
