/// The character classes of sacremoses' regular expressions, one bit each, looked up in one flat
/// table over every code point.
///
/// The classes come from `MosesTables` (generated from sacremoses itself); a regex like
/// `([^{IsN}])[,]` becomes "not `.number`" here. The table costs 2.2 MB and is built once, at
/// first use, so that the hot loops of the tokenizer pay one load per character instead of a
/// binary search or a regex engine.
struct MosesCharacterClass: OptionSet, Sendable {
    let rawValue: UInt16

    /// PAD_NOT_ISALNUM's characters (`[^IsAlnum\s.'`,-]`): padded with spaces.
    static let pad = MosesCharacterClass(rawValue: 1 << 0)
    /// `[IsAlnum]` of the tokenizer (aggressive hyphen split).
    static let alnum = MosesCharacterClass(rawValue: 1 << 1)
    /// `[IsN]` (commas inside numbers, "1990's").
    static let number = MosesCharacterClass(rawValue: 1 << 2)
    /// `[IsAlpha]` of the tokenizer (apostrophe rules).
    static let alpha = MosesCharacterClass(rawValue: 1 << 3)
    /// `[IsAlpha IsN]` (EN_SPECIFIC_2's negated class).
    static let alphaOrNumber = MosesCharacterClass(rawValue: 1 << 4)
    /// `set(IsAlpha)`: `isanyalpha` on non-breaking prefix candidates.
    static let alphaSet = MosesCharacterClass(rawValue: 1 << 5)
    /// `set(IsLower)`: `islower` on the first character after a period.
    static let lowerSet = MosesCharacterClass(rawValue: 1 << 6)
    /// The detokenizer's currency class `[IsSc ( [ { ¿ ¡]`.
    static let currency = MosesCharacterClass(rawValue: 1 << 7)
    /// `[IsAlpha]` of the detokenizer (no viramas/nuktas): contractions.
    static let detokenizerAlpha = MosesCharacterClass(rawValue: 1 << 8)
    /// Python's whitespace (`str.isspace`, `\s`, `str.split()`, `str.strip()`).
    static let whitespace = MosesCharacterClass(rawValue: 1 << 9)
    /// `sacremoses.util.is_cjk`.
    static let cjk = MosesCharacterClass(rawValue: 1 << 10)
}

/// The flag table: `flags[c]` holds the classes of code point `c` (0 ... 0x10FFFF).
final class MosesCharacterTable: @unchecked Sendable {
    /// Shared by every tokenizer and detokenizer; immutable once built.
    static let shared = MosesCharacterTable()

    static let codePointCount = 0x110000
    let flags: UnsafeMutablePointer<UInt16>

    private init() {
        flags = .allocate(capacity: Self.codePointCount)
        flags.initialize(repeating: 0, count: Self.codePointCount)
        let tables: [(MosesCharacterClass, [UInt32])] = [
            (.pad, MosesTables.tokenizerPad), (.alnum, MosesTables.tokenizerAlnum),
            (.number, MosesTables.tokenizerNumber), (.alpha, MosesTables.tokenizerAlpha),
            (.alphaOrNumber, MosesTables.tokenizerAlphaOrNumber), (.alphaSet, MosesTables.tokenizerAlphaSet),
            (.lowerSet, MosesTables.tokenizerLowerSet), (.currency, MosesTables.detokenizerCurrency),
            (.detokenizerAlpha, MosesTables.detokenizerAlpha), (.whitespace, MosesTables.pythonWhitespace),
            (.cjk, MosesTables.cjk),
        ]
        for (bit, ranges) in tables {
            precondition(ranges.count % 2 == 0, "MosesTables: odd range list")
            for r in stride(from: 0, to: ranges.count, by: 2) {
                for c in Int(ranges[r])...Int(ranges[r + 1]) { flags[c] |= bit.rawValue }
            }
        }
    }

    /// The classes of one code point (any `Unicode.Scalar` value is in range).
    @inline(__always)
    func classes(_ c: UInt32) -> MosesCharacterClass {
        MosesCharacterClass(rawValue: flags[Int(c)])
    }

    @inline(__always)
    func isIn(_ c: UInt32, _ cls: MosesCharacterClass) -> Bool {
        flags[Int(c)] & cls.rawValue != 0
    }
}
