/// The Moses detokenizer as sacremoses' `MosesDetokenizer(lang).detokenize(tokens)` writes it,
/// for English, German and French: joins "a @-@ b", unescapes `&amp;` and friends, and attaches
/// punctuation, quotes and contractions to their neighbours — the last step of `hat translate`
/// before a sentence is shown or scored.
///
/// `MosesDetokenizerTests` compares the output with sacremoses on sacremoses' own tokenization
/// of Multi30k's training text in all three languages.
///
/// ```swift
/// let detok = try MosesDetokenizer(language: "en")
/// detok.detokenize("A well @-@ known man &apos;s dog , isn &apos;t it ?")  // "A well-known man's dog, isn't it?"
/// ```
public struct MosesDetokenizer: Sendable {
    public let language: String
    /// `unescape`: turn `&amp; &#124; &lt; &gt; &apos; &quot; &#91; &#93;` (and the legacy
    /// `&bar; &bra; &ket;`) back into characters (sacremoses' default; on).
    public var unescape: Bool

    /// - Throws: `DataError.invalidArgument` for a language other than en, de, fr.
    public init(language: String, unescape: Bool = true) throws {
        guard MosesTokenizer.supportedLanguages.contains(language) else {
            throw DataError.invalidArgument(
                "Moses detokenizer: language '\(language)' is not built in; use one of \(MosesTokenizer.supportedLanguages.joined(separator: ", "))")
        }
        self.language = language
        self.unescape = unescape
    }

    /// A tokenized line detokenized: `detokenize(line.split())`. (Joining the line as one token
    /// would not be the same when tokens are separated by more than one space: " @-@ " would
    /// then match across a double space.)
    public func detokenize(_ line: String) -> String {
        // " " + " ".join(line.split()) + " ", without making a String per token.
        var a: [UInt32] = [0x20]
        a.reserveCapacity(line.utf8.count + 2)
        var pendingSpace = false
        for s in line.unicodeScalars {
            if PythonText.isPythonWhitespace(s.value) {
                pendingSpace = a.count > 1
            } else {
                if pendingSpace {
                    a.append(0x20)
                    pendingSpace = false
                }
                a.append(s.value)
            }
        }
        a.append(0x20)
        return detokenize(joined: a)
    }

    /// `detokenize(tokens)`: the tokens joined by spaces and detokenized.
    public func detokenize(tokens: [String]) -> String {
        var a: [UInt32] = [0x20]
        for (i, token) in tokens.enumerated() {
            if i > 0 { a.append(0x20) }
            for s in token.unicodeScalars { a.append(s.value) }
        }
        a.append(0x20)
        return detokenize(joined: a)
    }

    /// The detokenizer on `" " + " ".join(tokens) + " "`.
    private func detokenize(joined text: [UInt32]) -> String {
        let table = MosesCharacterTable.shared
        var a = text, b: [UInt32] = []

        // AGGRESSIVE_HYPHEN_SPLIT: " @-@ " → "-"
        if a.contains(0x40) { Self.replaceLiteral(&a, &b, Self.spacedAtDashAt, Self.dash) }
        // unescape_xml: eleven literal replacements, in sacremoses' order (the order matters:
        // "&amp;lt;" becomes "&lt;", not "<").
        if unescape && a.contains(0x26) {
            for (from, to) in Self.unescapes { Self.replaceLiteral(&a, &b, from, to) }
        }

        // text.split()
        var starts: [Int] = [], ends: [Int] = []
        let n = a.count
        var p = 0
        while p < n {
            while p < n && PythonText.isPythonWhitespace(a[p]) { p += 1 }
            if p == n { break }
            let s = p
            while p < n && !PythonText.isPythonWhitespace(a[p]) { p += 1 }
            starts.append(s)
            ends.append(p)
        }
        let count = starts.count
        func token(_ i: Int) -> ArraySlice<UInt32> { a[starts[i]..<ends[i]] }

        var quoteCounts: [[UInt32]: Int] = [:]
        var prependSpace = true
        var out: [UInt32] = []
        out.reserveCapacity(n)
        @inline(__always) func emit(_ t: ArraySlice<UInt32>, spaced: Bool) {
            if spaced { out.append(0x20) }
            out.append(contentsOf: t)
        }
        for i in 0..<count {
            let tok = token(i)
            let first = tok[tok.startIndex]
            if table.isIn(first, .cjk) {
                // Two CJK words in a row are joined (Korean is the exception; not built in).
                if i > 0, let last = token(i - 1).last, table.isIn(last, .cjk) {
                    emit(tok, spaced: false)
                } else {
                    emit(tok, spaced: prependSpace)
                }
                prependSpace = true
            } else if tok.allSatisfy({ table.isIn($0, .currency) }) {
                // IS_CURRENCY_SYMBOL: attach to the next token.
                emit(tok, spaced: prependSpace)
                prependSpace = false
            } else if tok.allSatisfy(Self.isPunctuation) {
                // IS_PUNCT: attach to the previous token; French keeps a space before ? ! : ; \ %
                if language == "fr" && tok.count == 1 && Self.isFrenchSpacedPunctuation(first) {
                    out.append(0x20)
                }
                emit(tok, spaced: false)
                prependSpace = true
            } else if language == "en" && i > 0 && tok.count >= 2 && first == 0x27
                && table.isIn(tok[tok.startIndex + 1], .detokenizerAlpha)
            {
                // IS_ENGLISH_CONTRACTION ('s, 're): attach to the previous token.
                emit(tok, spaced: false)
                prependSpace = true
            } else if language == "fr" && i <= count - 2 && tok.count >= 2 && tok.last == 0x27
                && table.isIn(tok[tok.endIndex - 2], .detokenizerAlpha)
                && table.isIn(a[starts[i + 1]], .detokenizerAlpha)
            {
                // IS_FRENCH_CONRTACTION before a word (l' homme): attach to the next token.
                emit(tok, spaced: prependSpace)
                prependSpace = false
            } else if tok.allSatisfy(Self.isOpenQuote) {
                // Quotes alternate: odd ones open (attach right), even ones close (attach left).
                let normalized: [UInt32] = tok.allSatisfy(Self.isDoubleQuoteMark) ? [0x22] : Array(tok)
                let seen = quoteCounts[normalized, default: 0]
                if seen % 2 == 0 {
                    if language == "en" && tok.count == 1 && first == 0x27 && i > 0 && token(i - 1).last == 0x73 {
                        // A possessive after "s" ("the Jones' house"): attach left, not counted.
                        emit(tok, spaced: false)
                        prependSpace = true
                        quoteCounts[normalized] = seen
                    } else {
                        emit(tok, spaced: prependSpace)
                        prependSpace = false
                        quoteCounts[normalized] = seen + 1
                    }
                } else {
                    emit(tok, spaced: false)
                    prependSpace = true
                    quoteCounts[normalized] = seen + 1
                }
            } else {
                emit(tok, spaced: prependSpace)
                prependSpace = true
            }
        }

        // ONE_SPACE ( {2,} → " "), then strip().
        b.removeAll(keepingCapacity: true)
        var previousSpace = false
        for c in out {
            if c == 0x20 {
                if !previousSpace { b.append(c) }
                previousSpace = true
            } else {
                b.append(c)
                previousSpace = false
            }
        }
        var start = 0, end = b.count
        while start < end && PythonText.isPythonWhitespace(b[start]) { start += 1 }
        while end > start && PythonText.isPythonWhitespace(b[end - 1]) { end -= 1 }
        return PythonText.string(b[start..<end])
    }

    // MARK: - Character tests and literals

    /// IS_PUNCT: `^[,.?!:;\\%}\])]+$`
    private static func isPunctuation(_ c: UInt32) -> Bool {
        switch c {
        case 0x2C, 0x2E, 0x3F, 0x21, 0x3A, 0x3B, 0x5C, 0x25, 0x7D, 0x5D, 0x29: return true
        default: return false
        }
    }

    /// French: `^[?!:;\\%]$`
    private static func isFrenchSpacedPunctuation(_ c: UInt32) -> Bool {
        switch c {
        case 0x3F, 0x21, 0x3A, 0x3B, 0x5C, 0x25: return true
        default: return false
        }
    }

    /// IS_OPEN_QUOTE: `^['"„“`]+$`
    private static func isOpenQuote(_ c: UInt32) -> Bool {
        c == 0x27 || c == 0x22 || c == 0x201E || c == 0x201C || c == 0x60
    }

    /// `^[„“”]+$`: counted as '"'.
    private static func isDoubleQuoteMark(_ c: UInt32) -> Bool {
        c == 0x201E || c == 0x201C || c == 0x201D
    }

    private static let spacedAtDashAt = PythonText.ascii(" @-@ ")
    private static let dash = PythonText.ascii("-")
    private static let unescapes: [([UInt32], [UInt32])] =
        ([
            ("&bar;", "|"), ("&#124;", "|"), ("&lt;", "<"), ("&gt;", ">"), ("&bra;", "["), ("&ket;", "]"),
            ("&quot;", "\""), ("&apos;", "'"), ("&#91;", "["), ("&#93;", "]"), ("&amp;", "&"),
        ] as [(StaticString, StaticString)]).map { (PythonText.ascii($0.0), PythonText.ascii($0.1)) }

    /// `re.sub(literal, replacement)`: leftmost, non-overlapping.
    private static func replaceLiteral(_ a: inout [UInt32], _ b: inout [UInt32], _ from: [UInt32], _ to: [UInt32]) {
        let n = a.count, m = from.count
        guard n >= m else { return }
        b.removeAll(keepingCapacity: true)
        var i = 0, changed = false
        while i < n {
            if a[i] == from[0] && i + m <= n && a[i..<(i + m)].elementsEqual(from) {
                b.append(contentsOf: to)
                i += m
                changed = true
            } else {
                b.append(a[i])
                i += 1
            }
        }
        if changed { swap(&a, &b) }
    }
}
