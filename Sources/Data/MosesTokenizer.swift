/// The Moses tokenizer as sacremoses' `MosesTokenizer(lang).tokenize(text, return_str=True)`
/// writes it, for English, German and French: the text preparation of HAT's and fairseq's
/// translation recipes (`tokenizer.perl -a -l LANG`), with no Python at run time.
///
/// Every regular expression of sacremoses' `tokenize` is one pass over the code points here, in
/// the same order and with the same leftmost, non-overlapping match semantics (a match consumes
/// its characters; a lookahead does not). The character classes are sacremoses' own, generated
/// into `MosesTables` by `scripts/generate_moses_tables.py`. `MosesTokenizerTests` compares the
/// output with sacremoses on every line of Multi30k's training text in all three languages.
///
/// ```swift
/// let tok = try MosesTokenizer(language: "en")
/// tok.tokenize("A well-known man's dog, isn't it?")   // "A well @-@ known man &apos;s dog , isn &apos;t it ?"
/// ```
public struct MosesTokenizer: Sendable {
    /// The languages whose rules and non-breaking prefixes are built in.
    public static let supportedLanguages = ["en", "de", "fr"]

    public let language: String
    /// `aggressive_dash_splits`: "a-b" → "a @-@ b" between alphanumerics (HAT's `-a`; default on).
    public var aggressiveDashSplits: Bool
    /// `escape`: XML-escape `& | < > ' " [ ]` in the output (sacremoses' default; on).
    public var escape: Bool

    private enum ApostropheRules: Sendable { case english, french, other }
    private let apostrophes: ApostropheRules
    /// Prefixes after which a period is kept on the word (in NONBREAKING_PREFIXES, not numeric-only).
    private let nonbreaking: Set<[UInt32]>
    /// Prefixes that keep their period only before a number ("No. 5").
    private let numericOnly: Set<[UInt32]>

    /// - Throws: `DataError.invalidArgument` for a language other than en, de, fr.
    public init(language: String, aggressiveDashSplits: Bool = true, escape: Bool = true) throws {
        guard let lists = MosesTables.nonbreakingPrefixes[language] else {
            throw DataError.invalidArgument(
                "Moses tokenizer: language '\(language)' is not built in; use one of \(Self.supportedLanguages.joined(separator: ", "))")
        }
        self.language = language
        self.aggressiveDashSplits = aggressiveDashSplits
        self.escape = escape
        apostrophes = language == "en" ? .english : language == "fr" ? .french : .other
        func key(_ s: String) -> [UInt32] { s.unicodeScalars.map(\.value) }
        let numeric = Set(lists.numericOnly.map(key))
        numericOnly = numeric
        nonbreaking = Set(lists.prefixes.map(key)).subtracting(numeric)
    }

    /// One line tokenized; tokens separated by single spaces. Like sacremoses, the result can end
    /// in a space (a final `.'` becomes ` . ' `).
    public func tokenize(_ text: String) -> String {
        var a: [UInt32] = [], b: [UInt32] = []
        tokenize(text, into: &a, scratch: &b)
        return PythonText.string(a)
    }

    /// The tokenized code points of `text` in `result` (`scratch` is reused working space).
    func tokenize(_ text: String, into result: inout [UInt32], scratch: inout [UInt32]) {
        let table = MosesCharacterTable.shared
        var a = result, b = scratch
        a.removeAll(keepingCapacity: true)
        a.reserveCapacity(text.utf8.count + 16)
        defer { result = a; scratch = b }

        // DEDUPLICATE_SPACE (\s+ → " "), then ASCII_JUNK ([\000-\037] removed). Fused: a junk
        // character ends a whitespace run, because the first regex ran before it was removed.
        var inSpace = false
        for s in text.unicodeScalars {
            let c = s.value
            if PythonText.isPythonWhitespace(c) {
                if !inSpace { a.append(0x20); inSpace = true }
                continue
            }
            inSpace = false
            if c < 0x20 { continue }
            a.append(c)
        }
        // text.strip(): only spaces are left as whitespace.
        stripSpaces(&a)

        // PAD_NOT_ISALNUM: " c " around every character outside IsAlnum, whitespace and . ' ` , -
        var hasDash = false, hasDot = false, hasComma = false, hasQuote = false
        b.removeAll(keepingCapacity: true)
        for c in a {
            switch c {
            case 0x2D: hasDash = true
            case 0x2E: hasDot = true
            case 0x2C: hasComma = true
            case 0x27: hasQuote = true
            default: break
            }
            if table.isIn(c, .pad) {
                b.append(0x20); b.append(c); b.append(0x20)
            } else {
                b.append(c)
            }
        }
        swap(&a, &b)

        // AGGRESSIVE_HYPHEN_SPLIT: ([IsAlnum])\-(?=[IsAlnum]) → "\1 @-@ "
        if aggressiveDashSplits && hasDash {
            b.removeAll(keepingCapacity: true)
            let n = a.count
            var i = 0
            while i < n {
                let c = a[i]
                if i + 2 < n && a[i + 1] == 0x2D && table.isIn(c, .alnum) && table.isIn(a[i + 2], .alnum) {
                    b.append(c); b.append(contentsOf: Self.spacedAtDashAt)
                    i += 2  // the lookahead's character is not consumed
                } else {
                    b.append(c); i += 1
                }
            }
            swap(&a, &b)
        }

        // replace_multidots: a run of k ≥ 2 dots → " " + "DOT"×k + "MULTI" (+ " " unless at the end)
        if hasDot { replaceMultidots(&a, &b) }

        if hasComma {
            let notNumber: (UInt32) -> Bool = { !table.isIn($0, .number) }
            // COMMA_SEPARATE_1: ([^IsN])[,] → "\1 , "
            substitutePairs(&a, &b) { x, y in y == 0x2C && notNumber(x) } replacement: { x, _, out in
                out.append(x); out.append(0x20); out.append(0x2C); out.append(0x20)
            }
            // COMMA_SEPARATE_2: [,]([^IsN]) → " , \1"
            substitutePairs(&a, &b) { x, y in x == 0x2C && notNumber(y) } replacement: { _, y, out in
                out.append(0x20); out.append(0x2C); out.append(0x20); out.append(y)
            }
            // COMMA_SEPARATE_3: ([IsN])[,]$ → "\1 , "
            let n = a.count
            if n >= 2 && a[n - 1] == 0x2C && table.isIn(a[n - 2], .number) {
                a.removeLast(); a.append(0x20); a.append(0x2C); a.append(0x20)
            }
        }

        if hasQuote {
            let alpha: (UInt32) -> Bool = { table.isIn($0, .alpha) }
            switch apostrophes {
            case .english:
                // EN_SPECIFIC_1..5
                substituteApostrophe(&a, &b, { !alpha($0) }, { !alpha($0) }, .spaceBoth)
                substituteApostrophe(&a, &b, { !table.isIn($0, .alphaOrNumber) }, alpha, .spaceBoth)
                substituteApostrophe(&a, &b, alpha, { !alpha($0) }, .spaceBoth)
                substituteApostrophe(&a, &b, alpha, alpha, .spaceBefore)
                substituteApostrophe(&a, &b, { table.isIn($0, .number) }, { $0 == 0x73 /* s */ }, .spaceBefore)
            case .french:
                // FR_IT_SPECIFIC_1..4
                substituteApostrophe(&a, &b, { !alpha($0) }, { !alpha($0) }, .spaceBoth)
                substituteApostrophe(&a, &b, { !alpha($0) }, alpha, .spaceBoth)
                substituteApostrophe(&a, &b, alpha, { !alpha($0) }, .spaceBoth)
                substituteApostrophe(&a, &b, alpha, alpha, .spaceAfter)
            case .other:
                // NON_SPECIFIC_APOSTROPHE: ' → " ' "
                b.removeAll(keepingCapacity: true)
                for c in a {
                    if c == 0x27 { b.append(0x20); b.append(0x27); b.append(0x20) } else { b.append(c) }
                }
                swap(&a, &b)
            }
        }

        // handles_nonbreaking_prefixes, which also leaves single spaces and no space at either
        // end, so the DEDUPLICATE_SPACE and strip() after it change nothing.
        handleNonbreakingPrefixes(&a, &b)

        // TRAILING_DOT_APOSTROPHE: \.' ?$ → " . ' " (the text has no trailing space here).
        let n = a.count
        if n >= 2 && a[n - 2] == 0x2E && a[n - 1] == 0x27 {
            a.removeLast(2); a.append(contentsOf: Self.spacedDotQuote)
        }

        // restore_multidots: (?:DOT)+MULTI → as many dots (also where the input itself spelled it).
        restoreMultidots(&a, &b)

        if escape {
            // escape_xml: & first, so a single pass that maps each character is the same.
            var needs = false
            for c in a where c == 0x26 || c == 0x7C || c == 0x3C || c == 0x3E || c == 0x27 || c == 0x22 || c == 0x5B || c == 0x5D {
                needs = true; break
            }
            if needs {
                b.removeAll(keepingCapacity: true)
                for c in a {
                    switch c {
                    case 0x26: b.append(contentsOf: Self.ampersand)
                    case 0x7C: b.append(contentsOf: Self.pipe)
                    case 0x3C: b.append(contentsOf: Self.lessThan)
                    case 0x3E: b.append(contentsOf: Self.greaterThan)
                    case 0x27: b.append(contentsOf: Self.apostrophe)
                    case 0x22: b.append(contentsOf: Self.quote)
                    case 0x5B: b.append(contentsOf: Self.leftBracket)
                    case 0x5D: b.append(contentsOf: Self.rightBracket)
                    default: b.append(c)
                    }
                }
                swap(&a, &b)
            }
        }
    }

    // MARK: - The passes

    private static let spacedAtDashAt = PythonText.ascii(" @-@ ")
    private static let spacedDotQuote = PythonText.ascii(" . ' ")
    private static let ampersand = PythonText.ascii("&amp;")
    private static let pipe = PythonText.ascii("&#124;")
    private static let lessThan = PythonText.ascii("&lt;")
    private static let greaterThan = PythonText.ascii("&gt;")
    private static let apostrophe = PythonText.ascii("&apos;")
    private static let quote = PythonText.ascii("&quot;")
    private static let leftBracket = PythonText.ascii("&#91;")
    private static let rightBracket = PythonText.ascii("&#93;")

    private func stripSpaces(_ a: inout [UInt32]) {
        var end = a.count
        while end > 0 && a[end - 1] == 0x20 { end -= 1 }
        a.removeSubrange(end...)
        var start = 0
        while start < a.count && a[start] == 0x20 { start += 1 }
        if start > 0 { a.removeSubrange(..<start) }
    }

    /// A two-character pattern `XY` replaced everywhere, scanning left to right and resuming after
    /// each match (both characters consumed), as `re.sub` does.
    @inline(__always)
    private func substitutePairs(_ a: inout [UInt32], _ b: inout [UInt32],
                                 matches: (UInt32, UInt32) -> Bool,
                                 replacement: (UInt32, UInt32, inout [UInt32]) -> Void) {
        b.removeAll(keepingCapacity: true)
        let n = a.count
        var i = 0
        while i < n {
            if i + 1 < n && matches(a[i], a[i + 1]) {
                replacement(a[i], a[i + 1], &b); i += 2
            } else {
                b.append(a[i]); i += 1
            }
        }
        swap(&a, &b)
    }

    private enum ApostropheSpacing { case spaceBoth, spaceBefore, spaceAfter }

    /// `(L)[']( R)` → "\1 ' \2", "\1 '\2" or "\1' \2": all three characters consumed.
    @inline(__always)
    private func substituteApostrophe(_ a: inout [UInt32], _ b: inout [UInt32],
                                      _ left: (UInt32) -> Bool, _ right: (UInt32) -> Bool,
                                      _ spacing: ApostropheSpacing) {
        b.removeAll(keepingCapacity: true)
        let n = a.count
        var i = 0
        while i < n {
            if i + 2 < n && a[i + 1] == 0x27 && left(a[i]) && right(a[i + 2]) {
                b.append(a[i])
                switch spacing {
                case .spaceBoth: b.append(0x20); b.append(0x27); b.append(0x20)
                case .spaceBefore: b.append(0x20); b.append(0x27)
                case .spaceAfter: b.append(0x27); b.append(0x20)
                }
                b.append(a[i + 2])
                i += 3
            } else {
                b.append(a[i]); i += 1
            }
        }
        swap(&a, &b)
    }

    private func replaceMultidots(_ a: inout [UInt32], _ b: inout [UInt32]) {
        b.removeAll(keepingCapacity: true)
        let n = a.count
        var i = 0
        while i < n {
            if a[i] == 0x2E {
                var j = i
                while j < n && a[j] == 0x2E { j += 1 }
                if j - i >= 2 {
                    b.append(0x20)
                    for _ in 0..<(j - i) { b.append(0x44); b.append(0x4F); b.append(0x54) }  // DOT
                    b.append(contentsOf: [0x4D, 0x55, 0x4C, 0x54, 0x49])  // MULTI
                    if j < n { b.append(0x20) }
                } else {
                    b.append(0x2E)
                }
                i = j
            } else {
                b.append(a[i]); i += 1
            }
        }
        swap(&a, &b)
    }

    private func restoreMultidots(_ a: inout [UInt32], _ b: inout [UInt32]) {
        let n = a.count
        // Fast exit: no "DOT" anywhere.
        var found = false
        var p = 0
        while p + 7 < n {  // the shortest marker, DOTMULTI, has 8 characters
            if a[p] == 0x44 && a[p + 1] == 0x4F && a[p + 2] == 0x54 { found = true; break }
            p += 1
        }
        if !found { return }
        b.removeAll(keepingCapacity: true)
        var i = 0
        while i < n {
            // (?:DOT)+ greedily, then MULTI; fewer DOTs would be followed by "DOT", not "MULTI".
            var j = i, dots = 0
            while j + 2 < n && a[j] == 0x44 && a[j + 1] == 0x4F && a[j + 2] == 0x54 { j += 3; dots += 1 }
            if dots > 0 && j + 4 < n && a[j] == 0x4D && a[j + 1] == 0x55 && a[j + 2] == 0x4C && a[j + 3] == 0x54 && a[j + 4] == 0x49 {
                for _ in 0..<dots { b.append(0x2E) }
                i = j + 5
            } else {
                b.append(a[i]); i += 1
            }
        }
        swap(&a, &b)
    }

    /// handles_nonbreaking_prefixes: a token `X.` keeps its period when X contains a period and a
    /// letter, X is a non-breaking prefix, or the next token starts with a lowercase letter; a
    /// numeric-only prefix keeps it before a token starting with a digit; otherwise the period
    /// is split off. Tokens are rejoined with single spaces.
    private func handleNonbreakingPrefixes(_ a: inout [UInt32], _ b: inout [UInt32]) {
        let table = MosesCharacterTable.shared
        // Token boundaries (the text's only whitespace is the space by now).
        var starts: [Int] = [], ends: [Int] = []
        let n = a.count
        var i = 0
        while i < n {
            while i < n && a[i] == 0x20 { i += 1 }
            if i == n { break }
            let s = i
            while i < n && a[i] != 0x20 { i += 1 }
            starts.append(s); ends.append(i)
        }
        b.removeAll(keepingCapacity: true)
        let count = starts.count
        for t in 0..<count {
            if t > 0 { b.append(0x20) }
            let s = starts[t], e = ends[t]
            // ^(\S+)\.$ : at least one character before the final period.
            guard e - s >= 2 && a[e - 1] == 0x2E else {
                b.append(contentsOf: a[s..<e]); continue
            }
            let prefix = Array(a[s..<(e - 1)])
            var keep = false
            if prefix.contains(0x2E) && prefix.contains(where: { table.isIn($0, .alphaSet) }) {
                keep = true
            } else if nonbreaking.contains(prefix) {
                keep = true
            } else if t != count - 1 && table.isIn(a[starts[t + 1]], .lowerSet) {
                keep = true
            } else if numericOnly.contains(prefix) && t + 1 < count {
                let first = a[starts[t + 1]]
                keep = first >= 0x30 && first <= 0x39
            }
            b.append(contentsOf: a[s..<(e - 1)])
            if !keep { b.append(0x20) }
            b.append(0x2E)
        }
        swap(&a, &b)
    }
}
