/// The Python `str` operations sacreBLEU's metrics are made of, on Unicode scalars.
///
/// sacreBLEU (https://github.com/mjpost/sacrebleu) works on Python strings, which are
/// sequences of code points compared code point by code point. Swift's `String` compares by
/// canonical equivalence ("é" equals "e\u{301}") and its `split`/`lowercased` differ in details, so
/// every metric here runs on `[Unicode.Scalar]` through these functions, which copy CPython's
/// definitions exactly. That is what makes our BLEU and chrF equal sacreBLEU's on any input.
enum PythonText {
    /// Characters for which CPython's `str.isspace()` is true (Zs, or bidi class WS, B or S);
    /// the separators of `str.split()` and what `str.rstrip()` removes.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// `str.split()` with no arguments: runs of whitespace separate, no empty pieces.
    static func split(_ text: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        var pieces: [ArraySlice<Unicode.Scalar>] = []
        var start: Int? = nil
        for i in text.indices {
            if isSpace(text[i]) {
                if let s = start {
                    pieces.append(text[s..<i])
                    start = nil
                }
            } else if start == nil {
                start = i
            }
        }
        if let s = start { pieces.append(text[s...]) }
        return pieces
    }

    /// `' '.join(line.split())`: whitespace runs become one space, none at either end.
    static func normalizeSpaces(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for piece in split(text) {
            if !out.isEmpty { out.append(" ") }
            out.append(contentsOf: piece)
        }
        return out
    }

    /// `''.join(line.split())`: the text with all whitespace removed (chrF's character stream).
    static func removeSpaces(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        text.filter { !isSpace($0) }
    }

    /// `str.rstrip()`.
    static func rstrip(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var end = text.count
        while end > 0 && isSpace(text[end - 1]) { end -= 1 }
        return Array(text[..<end])
    }

    /// `str.lower()`: each code point's full lowercase mapping (İ → i̇), with CPython's
    /// context rule for capital sigma (Σ → ς at the end of a word, σ elsewhere). Swift's
    /// `lowercased()` has no final-sigma rule, hence this.
    static func lower(_ text: [Unicode.Scalar]) -> [Unicode.Scalar] {
        var out: [Unicode.Scalar] = []
        out.reserveCapacity(text.count)
        for i in text.indices {
            let scalar = text[i]
            if scalar.value < 0x80 {
                if scalar.value >= 0x41 && scalar.value <= 0x5A {
                    out.append(Unicode.Scalar(scalar.value + 0x20)!)
                } else {
                    out.append(scalar)
                }
            } else if scalar.value == 0x3A3 {
                out.append(isFinalSigma(text, at: i) ? "\u{3C2}" : "\u{3C3}")
            } else {
                out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
            }
        }
        return out
    }

    /// CPython's `handle_capital_sigma`: Σ is final when a cased letter precedes it (skipping
    /// case-ignorable characters) and no cased letter follows it (likewise).
    private static func isFinalSigma(_ text: [Unicode.Scalar], at index: Int) -> Bool {
        var j = index - 1
        while j >= 0 && text[j].properties.isCaseIgnorable { j -= 1 }
        guard j >= 0 && text[j].properties.isCased else { return false }
        j = index + 1
        while j < text.count && text[j].properties.isCaseIgnorable { j += 1 }
        return j == text.count || !text[j].properties.isCased
    }

    /// The scalars of a Swift string, unchanged (no normalization).
    static func scalars(_ text: String) -> [Unicode.Scalar] {
        Array(text.unicodeScalars)
    }

    /// A Swift string holding exactly these scalars.
    static func string(_ scalars: [Unicode.Scalar]) -> String {
        var view = String.UnicodeScalarView()
        view.append(contentsOf: scalars)
        return String(view)
    }
}
