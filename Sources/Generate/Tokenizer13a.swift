/// sacreBLEU's default BLEU tokenizer, `13a`: the tokenization of WMT's official scorer
/// mteval-v13a.pl, as sacreBLEU 2.x implements it (`tokenizers/tokenizer_13a.py` and
/// `tokenizer_re.py`).
///
/// Step by step, on code points (so the result equals sacreBLEU's on any input):
/// 1. language-independent part: drop `<skipped>` and `-\n`, turn `\n` into a space, and when the
///    line holds `&`, unescape `&quot;`, `&amp;`, `&lt;`, `&gt;` — in that order, each over the
///    whole line, so `&amp;lt;` becomes `<` as in sacreBLEU;
/// 2. pad the line with one space on each side (mteval's `" $norm_text "`, which is why a final
///    period after a number is split off here but not by `intl`);
/// 3. put spaces around every ASCII symbol ``{|}~ [\]^_` space!"#$%& ()*+ :;<=>?@ /`` — not
///    around `'`, `-`, `.` or `,`;
/// 4. split off `.` and `,` unless they sit between digits (`1,000.5` stays one token): first
///    where not preceded by a digit, then where not followed by one;
/// 5. split off `-` after a digit (`5-3` → `5 - 3`, but `e-mail` stays);
/// 6. collapse whitespace (Python's `split()`: Unicode spaces too) to single spaces, trimmed.
///
/// Steps 4 and 5 are regex substitutions applied left to right without overlap (`re.sub`), which
/// the scans below reproduce: `a.,b` gives `a . ,b` after the first pass, as in Python.
///
/// ```swift
/// Tokenizer13a()("Hello, world (1,000.5 km)!")  // "Hello , world ( 1,000.5 km ) !"
/// ```
public struct Tokenizer13a: Sendable {
    public init() {}

    /// The tokenized line, tokens separated by single spaces.
    public func callAsFunction(_ line: String) -> String {
        PythonText.string(tokenize(PythonText.scalars(line)))
    }

    func tokenize(_ input: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var line = input
        line = Self.replace(line, "<skipped>", "")
        line = Self.replace(line, "-\n", "")
        line = Self.replace(line, "\n", " ")
        if line.contains("&") {
            line = Self.replace(line, "&quot;", "\"")
            line = Self.replace(line, "&amp;", "&")
            line = Self.replace(line, "&lt;", "<")
            line = Self.replace(line, "&gt;", ">")
        }

        // Step 3 on " line ": ([\{-\~\[-\` -\&\(-\+\:-\@\/]) → " \1 ".
        var padded: [Unicode.Scalar] = [" "]
        padded.reserveCapacity(line.count * 2 + 2)
        for c in line {
            if Self.isSeparatedSymbol(c) {
                padded.append(" ")
                padded.append(c)
                padded.append(" ")
            } else {
                padded.append(c)
            }
        }
        padded.append(" ")

        // ([^0-9])([\.,]) → "\1 \2 "
        var out = Self.substitutePairs(padded, { !Self.isDigit($0) }, Self.isPeriodOrComma) { a, b in [a, " ", b, " "] }
        // ([\.,])([^0-9]) → " \1 \2"
        out = Self.substitutePairs(out, Self.isPeriodOrComma, { !Self.isDigit($0) }) { a, b in [" ", a, " ", b] }
        // ([0-9])(-) → "\1 \2 "
        out = Self.substitutePairs(out, Self.isDigit, { $0 == "-" }) { a, b in [a, " ", b, " "] }
        return PythonText.normalizeSpaces(out)
    }

    /// The ASCII characters mteval-v13a surrounds with spaces: `{`–`~`, `[`–`` ` ``, space–`&`,
    /// `(`–`+`, `:`–`@` and `/`.
    static func isSeparatedSymbol(_ c: Unicode.Scalar) -> Bool {
        switch c.value {
        case 0x7B...0x7E, 0x5B...0x60, 0x20...0x26, 0x28...0x2B, 0x3A...0x40, 0x2F: return true
        default: return false
        }
    }

    /// `[0-9]` in a Python regex: ASCII digits only.
    static func isDigit(_ c: Unicode.Scalar) -> Bool { c.value >= 0x30 && c.value <= 0x39 }

    static func isPeriodOrComma(_ c: Unicode.Scalar) -> Bool { c == "." || c == "," }

    /// `re.sub` of a two-character pattern `(A)(B)`: scanning left to right, each match is
    /// replaced and the scan resumes after it, so matches never overlap.
    static func substitutePairs(
        _ text: [Unicode.Scalar],
        _ first: (Unicode.Scalar) -> Bool,
        _ second: (Unicode.Scalar) -> Bool,
        _ replacement: (Unicode.Scalar, Unicode.Scalar) -> [Unicode.Scalar]
    ) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count + text.count / 2)
        var i = 0
        while i < text.count {
            if i + 1 < text.count && first(text[i]) && second(text[i + 1]) {
                out.append(contentsOf: replacement(text[i], text[i + 1]))
                i += 2
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }

    /// Python's `str.replace(old, new)`: every non-overlapping occurrence, left to right.
    static func replace(_ text: [Unicode.Scalar], _ old: String, _ new: String) -> [Unicode.Scalar] {
        let pattern = Array(old.unicodeScalars), replacement = Array(new.unicodeScalars)
        guard let head = pattern.first, text.contains(head) else { return text }
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        var i = 0
        while i < text.count {
            if text[i] == head && i + pattern.count <= text.count && text[i..<(i + pattern.count)].elementsEqual(pattern) {
                out.append(contentsOf: replacement)
                i += pattern.count
            } else {
                out.append(text[i])
                i += 1
            }
        }
        return out
    }
}
