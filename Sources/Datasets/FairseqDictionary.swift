/// fairseq's `Dictionary` as `dict.LANG.txt` files define it: the token ↔ id map of a fairseq
/// (and so HAT) model, so that a model trained by fairseq can be fed and read by `hat`.
///
/// Ids 0–3 are the special symbols `<s>`, `<pad>`, `</s>`, `<unk>`, which the file does not list;
/// the file's first line is id 4. Each line is "TOKEN COUNT", optionally followed by the flag
/// `#fairseq:overwrite`; a token that is already present (a special symbol included) without the
/// flag is an error, as in fairseq. With the flag the token gets a new id and keeps its old one
/// as a name only (fairseq's `add_symbol(overwrite=True)`).
///
/// ```swift
/// let dict = try FairseqDictionary(path: "data-bin/dict.de.txt")
/// let ids = dict.encodeLine("ein Hund@@ e")          // [..., 2]: the tokens' ids, then </s>
/// dict.string(ids, bpeSymbol: .subwordNMT)          // "ein Hunde"
/// ```
public struct FairseqDictionary: Sendable {
    public static let bosWord = "<s>", padWord = "<pad>", eosWord = "</s>", unkWord = "<unk>"
    public static let bos: Int32 = 0, pad: Int32 = 1, eos: Int32 = 2, unk: Int32 = 3
    /// Number of special symbols before the file's first line.
    public static let specialCount = 4

    /// Every symbol by id (specials first); an overwritten token appears twice.
    public private(set) var symbols: [String]
    /// The counts of the file's lines (1 for each special symbol, as fairseq keeps them).
    public private(set) var counts: [Int]
    private var indices: [CodePointString: Int32]

    /// The specials only.
    public init() {
        symbols = [Self.bosWord, Self.padWord, Self.eosWord, Self.unkWord]
        counts = [1, 1, 1, 1]
        indices = [:]
        for (i, s) in symbols.enumerated() { indices[CodePointString(s)] = Int32(i) }
    }

    /// Reads `dict.LANG.txt`.
    /// - Throws: `TextFormatError` (file and line) for a line that is not "TOKEN COUNT [#fairseq:overwrite]"
    ///   or a duplicate token without the flag; `DataError` when the file cannot be read.
    public init(path: String) throws {
        try self.init(contents: UniversalNewlineText.read(path: path), path: path)
    }

    /// A dictionary file's text (`path` names it in errors).
    public init(contents: String, path: String = "<dictionary>") throws {
        self.init()
        let text = UniversalNewlineText.normalizeNewlines(contents)
        var lines = text.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false)
        if lines.last?.isEmpty == true { lines.removeLast() }  // readlines(): a final "\n" ends the last line
        for (n, raw) in lines.enumerated() {
            try addLine(String(String.UnicodeScalarView(raw)), path: path, lineNumber: n + 1)
        }
    }

    private mutating func addLine(_ raw: String, path: String, lineNumber: Int) throws {
        func malformed() -> TextFormatError {
            TextFormatError(
                path: path, line: lineNumber,
                message:
                    "incorrect dictionary format, expected '<token> <count> [#fairseq:overwrite]': \"\(raw)\"")
        }
        // line.rstrip().rsplit(" ", 1)
        var (word, field) = try Self.rsplitSpace(PythonText.pythonRStrip(raw)) ?? { throw malformed() }()
        var overwrite = false
        if field == "#fairseq:overwrite" {
            overwrite = true
            (word, field) = try Self.rsplitSpace(word) ?? { throw malformed() }()
        }
        guard let count = Self.pythonInt(field) else { throw malformed() }
        let key = CodePointString(word)
        if indices[key] != nil && !overwrite {
            throw TextFormatError(
                path: path, line: lineNumber,
                message:
                    "duplicate token '\(word)' in the dictionary; a line may replace an earlier one only with the "
                    + "#fairseq:overwrite flag at its end (fairseq's rule)")
        }
        indices[key] = Int32(symbols.count)
        symbols.append(word)
        counts.append(count)
    }

    /// Python's `s.rsplit(" ", 1)` when it gives two parts (split at the last U+0020).
    private static func rsplitSpace(_ s: String) -> (String, String)? {
        let scalars = Array(s.unicodeScalars)
        guard let i = scalars.lastIndex(of: " ") else { return nil }
        return (String(String.UnicodeScalarView(scalars[..<i])), String(String.UnicodeScalarView(scalars[(i + 1)...])))
    }

    /// Python's `int(s)` for ASCII digits: surrounding whitespace, a sign, single underscores
    /// between digits.
    static func pythonInt(_ s: String) -> Int? {
        var t = Array(s.unicodeScalars)
        while let c = t.first, PythonText.isPythonWhitespace(c.value) { t.removeFirst() }
        while let c = t.last, PythonText.isPythonWhitespace(c.value) { t.removeLast() }
        var negative = false
        if let c = t.first, c == "+" || c == "-" {
            negative = c == "-"
            t.removeFirst()
        }
        guard let first = t.first, let last = t.last, first != "_", last != "_" else { return nil }
        var value = 0
        var previousUnderscore = false
        for c in t {
            if c == "_" {
                if previousUnderscore { return nil }
                previousUnderscore = true
                continue
            }
            previousUnderscore = false
            guard c.value >= 0x30 && c.value <= 0x39 else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int(c.value - 0x30))
            if o1 || o2 { return nil }
            value = a
        }
        return negative ? -value : value
    }

    // MARK: - Lookup

    /// Number of symbols, specials included (the model's vocabulary size before padding).
    public var count: Int { symbols.count }

    /// `index(sym)`: the token's id, or 3 (`<unk>`).
    public func index(_ token: String) -> Int32 {
        indices[CodePointString(token)] ?? Self.unk
    }

    /// `self[id]`: the symbol, or `<unk>` past the end (negative ids count from the end, as in Python).
    public subscript(id: Int32) -> String {
        let i = Int(id)
        if i >= symbols.count { return Self.unkWord }
        return i >= 0 ? symbols[i] : symbols[symbols.count + i]
    }

    /// `encode_line(line, add_if_not_exist=False, append_eos=...)`: whitespace runs split the
    /// tokens (fairseq's `tokenize_line`), unknown tokens become 3, then `</s>` (2).
    public func encodeLine(_ line: String, appendEOS: Bool = true) -> [Int32] {
        var ids = PythonText.pythonSplit(line).map(index)
        if appendEOS { ids.append(Self.eos) }
        return ids
    }

    /// How `string` removes BPE separators (fairseq's `post_process` symbols).
    public enum BPESymbol: Sendable {
        /// "@@ " or "subword_nmt": `(s + " ").replace("@@ ", "").rstrip()` (`--remove-bpe`).
        case subwordNMT
        /// "@@": `(s + " ").replace("@@", "").rstrip()`.
        case atAt
    }

    /// `string(ids, bpe_symbol, escape_unk, extra_symbols_to_ignore, unk_string, include_eos)`:
    /// ids to text, dropping `<s>`, `</s>` (unless `includeEOS`) and `extraSymbolsToIgnore` (pass
    /// `[FairseqDictionary.pad]` to drop padding, which fairseq's `string` keeps); `<unk>` is
    /// written `<unk>` (`<<unk>>` with `escapeUnk`) or `unkString`; `bpeSymbol` removes
    /// subword-nmt's separators, nil keeps them.
    public func string(
        _ ids: [Int32], bpeSymbol: BPESymbol? = nil, escapeUnk: Bool = false,
        extraSymbolsToIgnore: Set<Int32> = [], unkString: String? = nil,
        includeEOS: Bool = false, separator: String = " "
    ) -> String {
        var ignore = extraSymbolsToIgnore
        if !includeEOS { ignore.insert(Self.eos) }
        ignore.insert(Self.bos)
        let unkText = unkString ?? (escapeUnk ? "<\(Self.unkWord)>" : Self.unkWord)
        let sentence = ids.filter { !ignore.contains($0) }
            .map { $0 == Self.unk ? unkText : self[$0] }
            .joined(separator: separator)
        switch bpeSymbol {
        case nil: return sentence
        case .subwordNMT?: return SubwordBPE.removeBPE(sentence, marker: "@@ ")
        case .atAt?: return SubwordBPE.removeBPE(sentence, marker: "@@")
        }
    }
}
