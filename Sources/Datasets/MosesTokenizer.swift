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
    /// The prefixes, looked up by a hash of their code points (no allocation per candidate):
    /// `prefixByHash` maps the hash to an index into `prefixes`, whose kind says whether the
    /// period is kept always (in NONBREAKING_PREFIXES, not numeric-only) or only before a number
    /// ("No. 5"); the code points are compared to rule out a collision.
    private let prefixByHash: UInt64Table
    private let prefixes: [(scalars: [UInt32], numericOnly: Bool)]
    /// No longer candidate needs a lookup.
    private let longestPrefix: Int

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
        let always = Set(lists.prefixes.map(key)).subtracting(numeric)
        let all = always.map { ($0, false) } + numeric.map { ($0, true) }
        var table = UInt64Table(capacity: all.count)
        for (i, entry) in all.enumerated() {
            let added = entry.0.withUnsafeBufferPointer { table.insertIfAbsent(Self.prefixHash($0), Int64(i)) }
            precondition(added, "MosesTokenizer: two prefixes share a hash")
        }
        prefixes = all.map { (scalars: $0.0, numericOnly: $0.1) }
        prefixByHash = table
        longestPrefix = all.map(\.0.count).max() ?? 0
    }

    /// FNV-1a over the code points.
    @inline(__always)
    private static func prefixHash(_ s: UnsafeBufferPointer<UInt32>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for c in s { h = (h ^ UInt64(c)) &* 0x100000001b3 }
        return h & 0x7FFF_FFFF_FFFF_FFFF  // never UInt64Table's reserved key
    }

    /// Whether `prefix` is a prefix that keeps its period always (false) or before numbers only (true); nil if neither.
    @inline(__always)
    private func prefixKind(_ prefix: UnsafeBufferPointer<UInt32>) -> Bool? {
        guard prefix.count <= longestPrefix, let i = prefixByHash.value(Self.prefixHash(prefix)) else { return nil }
        let entry = prefixes[Int(i)]
        return entry.scalars.elementsEqual(prefix) ? entry.numericOnly : nil
    }

    /// One line tokenized; tokens separated by single spaces. Like sacremoses, the result can end
    /// in a space (a final `.'` becomes ` . ' `).
    public func tokenize(_ text: String) -> String {
        // Each pass reads one buffer and writes the other; no pass more than sextuples the text.
        var a = ScalarBuffer(capacity: text.utf8.count * 4 + 16)
        var b = ScalarBuffer(capacity: text.utf8.count * 4 + 16)
        defer {
            a.deallocate()
            b.deallocate()
        }
        tokenize(text, &a, &b)
        return a.string()
    }

    /// The passes; the result is in `a`.
    private func tokenize(_ text: String, _ a: inout ScalarBuffer, _ b: inout ScalarBuffer) {
        let table = MosesCharacterTable.shared
        a.reset(reserving: text.utf8.count + 16)

        // DEDUPLICATE_SPACE (\s+ → " "), then ASCII_JUNK ([\000-\037] removed). Fused: a junk
        // character ends a whitespace run, because the first regex ran before it was removed.
        // The hot passes below write through local pointers: stores through a buffer's pointer
        // could alias its own count, so appending through `inout` buffers reloads everything.
        var inSpace = false
        var k = 0
        let text0 = a.base
        for s in text.unicodeScalars {
            let c = s.value
            if PythonText.isPythonWhitespace(c) {
                if !inSpace {
                    text0[k] = 0x20
                    k += 1
                    inSpace = true
                }
                continue
            }
            inSpace = false
            if c < 0x20 { continue }
            text0[k] = c
            k += 1
        }
        a.count = k
        // text.strip(): only spaces are left as whitespace.
        var first = 0, last = a.count
        while last > 0 && text0[last - 1] == 0x20 { last -= 1 }
        while first < last && text0[first] == 0x20 { first += 1 }

        // PAD_NOT_ISALNUM: " c " around every character outside IsAlnum, whitespace and . ' ` , -
        var hasDash = false, hasDot = false, hasComma = false, hasQuote = false
        b.reset(reserving: 3 * a.count + 8)
        do {
            let src = a.base, dst = b.base, flags = table.flags
            let pad = MosesCharacterClass.pad.rawValue
            var k = 0
            for i in first..<max(first, last) {
                let c = src[i]
                if flags[Int(c)] & pad != 0 {
                    dst[k] = 0x20
                    dst[k + 1] = c
                    dst[k + 2] = 0x20
                    k += 3
                } else {
                    switch c {
                    case 0x2D: hasDash = true
                    case 0x2E: hasDot = true
                    case 0x2C: hasComma = true
                    case 0x27: hasQuote = true
                    default: break
                    }
                    dst[k] = c
                    k += 1
                }
            }
            b.count = k
        }
        swap(&a, &b)

        // AGGRESSIVE_HYPHEN_SPLIT: ([IsAlnum])\-(?=[IsAlnum]) → "\1 @-@ "
        if aggressiveDashSplits && hasDash {
            let n = a.count
            b.reset(reserving: 3 * n + 8)
            var i = 0
            while i < n {
                let c = a[i]
                if i + 2 < n && a[i + 1] == 0x2D && table.isIn(c, .alnum) && table.isIn(a[i + 2], .alnum) {
                    b.append(c)
                    b.append(0x20, 0x40, 0x2D)
                    b.append(0x40)
                    b.append(0x20)  // " @-@ "
                    i += 2  // the lookahead's character is not consumed
                } else {
                    b.append(c)
                    i += 1
                }
            }
            swap(&a, &b)
        }

        // replace_multidots: a run of k ≥ 2 dots → " " + "DOT"×k + "MULTI" (+ " " unless at the end)
        if hasDot { replaceMultidots(&a, &b) }

        if hasComma {
            // COMMA_SEPARATE_1: ([^IsN])[,] → "\1 , "
            var n = a.count
            b.reset(reserving: 2 * n + 8)
            var i = 0
            while i < n {
                if i + 1 < n && a[i + 1] == 0x2C && !table.isIn(a[i], .number) {
                    b.append(a[i])
                    b.append(0x20, 0x2C, 0x20)
                    i += 2
                } else {
                    b.append(a[i])
                    i += 1
                }
            }
            swap(&a, &b)
            // COMMA_SEPARATE_2: [,]([^IsN]) → " , \1"
            n = a.count
            b.reset(reserving: 2 * n + 8)
            i = 0
            while i < n {
                if a[i] == 0x2C && i + 1 < n && !table.isIn(a[i + 1], .number) {
                    b.append(0x20, 0x2C, 0x20)
                    b.append(a[i + 1])
                    i += 2
                } else {
                    b.append(a[i])
                    i += 1
                }
            }
            swap(&a, &b)
            // COMMA_SEPARATE_3: ([IsN])[,]$ → "\1 , "
            n = a.count
            if n >= 2 && a[n - 1] == 0x2C && table.isIn(a[n - 2], .number) {
                a.reserve(n + 2)
                a.count = n - 1
                a.append(0x20, 0x2C, 0x20)
            }
        }

        if hasQuote {
            switch apostrophes {
            case .english:
                // EN_SPECIFIC_1..5
                substituteApostrophe(&a, &b, .alpha, false, .alpha, false, .spaceBoth)
                substituteApostrophe(&a, &b, .alphaOrNumber, false, .alpha, true, .spaceBoth)
                substituteApostrophe(&a, &b, .alpha, true, .alpha, false, .spaceBoth)
                substituteApostrophe(&a, &b, .alpha, true, .alpha, true, .spaceBefore)
                substituteApostrophe(&a, &b, .number, true, [], true, .spaceBefore)  // ([IsN])[']([s])
            case .french:
                // FR_IT_SPECIFIC_1..4
                substituteApostrophe(&a, &b, .alpha, false, .alpha, false, .spaceBoth)
                substituteApostrophe(&a, &b, .alpha, false, .alpha, true, .spaceBoth)
                substituteApostrophe(&a, &b, .alpha, true, .alpha, false, .spaceBoth)
                substituteApostrophe(&a, &b, .alpha, true, .alpha, true, .spaceAfter)
            case .other:
                // NON_SPECIFIC_APOSTROPHE: ' → " ' "
                let n = a.count
                b.reset(reserving: 3 * n + 8)
                for i in 0..<n {
                    let c = a[i]
                    if c == 0x27 { b.append(0x20, 0x27, 0x20) } else { b.append(c) }
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
            a.reserve(n + 4)
            a.count = n - 2
            a.append(0x20, 0x2E, 0x20)
            a.append(0x27)
            a.append(0x20)
        }

        // restore_multidots: (?:DOT)+MULTI → as many dots (also where the input itself spelled it).
        restoreMultidots(&a, &b)

        if escape { escapeXML(&a, &b) }
    }

    // MARK: - The passes

    private enum ApostropheSpacing { case spaceBoth, spaceBefore, spaceAfter }

    /// `(L)[']( R)` → "\1 ' \2", "\1 '\2" or "\1' \2": all three characters consumed. `left` and
    /// `right` are a class and whether it must hold (true) or not hold (false, a negated class);
    /// an empty `right` class with true means the letter "s".
    @inline(__always)
    private func substituteApostrophe(
        _ a: inout ScalarBuffer, _ b: inout ScalarBuffer,
        _ left: MosesCharacterClass, _ leftIn: Bool,
        _ right: MosesCharacterClass, _ rightIn: Bool,
        _ spacing: ApostropheSpacing
    ) {
        let table = MosesCharacterTable.shared
        let n = a.count
        b.reset(reserving: 2 * n + 8)
        var i = 0
        while i < n {
            if i + 2 < n && a[i + 1] == 0x27 && table.isIn(a[i], left) == leftIn
                && (right.isEmpty ? a[i + 2] == 0x73 : table.isIn(a[i + 2], right) == rightIn)
            {
                b.append(a[i])
                switch spacing {
                case .spaceBoth: b.append(0x20, 0x27, 0x20)
                case .spaceBefore:
                    b.append(0x20)
                    b.append(0x27)
                case .spaceAfter:
                    b.append(0x27)
                    b.append(0x20)
                }
                b.append(a[i + 2])
                i += 3
            } else {
                b.append(a[i])
                i += 1
            }
        }
        swap(&a, &b)
    }

    private func replaceMultidots(_ a: inout ScalarBuffer, _ b: inout ScalarBuffer) {
        let n = a.count
        // A run of k dots becomes 3k + 7 code points at most.
        b.reset(reserving: 5 * n + 8)
        var i = 0
        while i < n {
            if a[i] == 0x2E {
                var j = i
                while j < n && a[j] == 0x2E { j += 1 }
                if j - i >= 2 {
                    b.append(0x20)
                    for _ in 0..<(j - i) { b.append(0x44, 0x4F, 0x54) }  // DOT
                    b.append(0x4D, 0x55, 0x4C)
                    b.append(0x54)
                    b.append(0x49)  // MULTI
                    if j < n { b.append(0x20) }
                } else {
                    b.append(0x2E)
                }
                i = j
            } else {
                b.append(a[i])
                i += 1
            }
        }
        swap(&a, &b)
    }

    private func restoreMultidots(_ a: inout ScalarBuffer, _ b: inout ScalarBuffer) {
        let n = a.count
        // Fast exit: no "DOT" anywhere (the shortest marker, DOTMULTI, has 8 characters).
        var found = false
        var p = 0
        while p + 7 < n {
            if a[p] == 0x44 && a[p + 1] == 0x4F && a[p + 2] == 0x54 {
                found = true
                break
            }
            p += 1
        }
        if !found { return }
        b.reset(reserving: n + 8)
        var i = 0
        while i < n {
            // (?:DOT)+ greedily, then MULTI; fewer DOTs would be followed by "DOT", not "MULTI".
            var j = i, dots = 0
            while j + 2 < n && a[j] == 0x44 && a[j + 1] == 0x4F && a[j + 2] == 0x54 {
                j += 3
                dots += 1
            }
            if dots > 0 && j + 4 < n && a[j] == 0x4D && a[j + 1] == 0x55 && a[j + 2] == 0x4C && a[j + 3] == 0x54 && a[j + 4] == 0x49 {
                for _ in 0..<dots { b.append(0x2E) }
                i = j + 5
            } else {
                b.append(a[i])
                i += 1
            }
        }
        swap(&a, &b)
    }

    /// handles_nonbreaking_prefixes: a token `X.` keeps its period when X contains a period and a
    /// letter, X is a non-breaking prefix, or the next token starts with a lowercase letter; a
    /// numeric-only prefix keeps it before a token starting with a digit; otherwise the period
    /// is split off. Tokens are rejoined with single spaces.
    private func handleNonbreakingPrefixes(_ a: inout ScalarBuffer, _ b: inout ScalarBuffer) {
        let table = MosesCharacterTable.shared
        let n = a.count
        b.reset(reserving: 2 * n + 8)
        let src = a.base, dst = b.base
        var k = 0
        var i = 0
        while i < n && src[i] == 0x20 { i += 1 }
        // The text's only whitespace is the space by now. Tokens are copied as they are; only
        // one that ends in a period may get a space before it.
        while i < n {
            if k > 0 {
                dst[k] = 0x20
                k += 1
            }
            let s = i
            while i < n && src[i] != 0x20 {
                dst[k] = src[i]
                k += 1
                i += 1
            }
            let e = i
            while i < n && src[i] == 0x20 { i += 1 }
            // ^(\S+)\.$ : at least one character before the final period.
            guard e - s >= 2 && src[e - 1] == 0x2E else { continue }
            let next = i  // start of the next token, or n
            let prefix = UnsafeBufferPointer(start: src + s, count: e - 1 - s)
            let kind = prefixKind(prefix)
            var keep = false
            if prefix.contains(0x2E) && prefix.contains(where: { table.isIn($0, .alphaSet) }) {
                keep = true
            } else if kind == false {
                keep = true
            } else if next < n && table.isIn(src[next], .lowerSet) {
                keep = true
            } else if next < n && kind == true {
                keep = src[next] >= 0x30 && src[next] <= 0x39
            }
            if !keep {
                dst[k - 1] = 0x20
                dst[k] = 0x2E
                k += 1
            }
        }
        b.count = k
        swap(&a, &b)
    }

    /// escape_xml: & first, so a single pass that maps each character is the same.
    private func escapeXML(_ a: inout ScalarBuffer, _ b: inout ScalarBuffer) {
        let n = a.count
        var needs = false
        for i in 0..<n {
            switch a[i] {
            case 0x26, 0x7C, 0x3C, 0x3E, 0x27, 0x22, 0x5B, 0x5D: needs = true
            default: continue
            }
            break
        }
        guard needs else { return }
        b.reset(reserving: 6 * n + 8)
        for i in 0..<n {
            let c = a[i]
            switch c {
            case 0x26:
                b.append(0x26, 0x61, 0x6D)
                b.append(0x70)
                b.append(0x3B)  // &amp;
            case 0x7C:
                b.append(0x26, 0x23, 0x31)
                b.append(0x32, 0x34, 0x3B)  // &#124;
            case 0x3C:
                b.append(0x26, 0x6C, 0x74)
                b.append(0x3B)  // &lt;
            case 0x3E:
                b.append(0x26, 0x67, 0x74)
                b.append(0x3B)  // &gt;
            case 0x27:
                b.append(0x26, 0x61, 0x70)
                b.append(0x6F, 0x73, 0x3B)  // &apos;
            case 0x22:
                b.append(0x26, 0x71, 0x75)
                b.append(0x6F, 0x74, 0x3B)  // &quot;
            case 0x5B:
                b.append(0x26, 0x23, 0x39)
                b.append(0x31)
                b.append(0x3B)  // &#91;
            case 0x5D:
                b.append(0x26, 0x23, 0x39)
                b.append(0x33)
                b.append(0x3B)  // &#93;
            default: b.append(c)
            }
        }
        swap(&a, &b)
    }
}
