/// sacreBLEU's `intl` tokenizer (`tokenizers/tokenizer_intl.py`): mteval-v14.pl's
/// international tokenization, which splits on Unicode punctuation and symbols rather than
/// 13a's ASCII list, so it suits scripts 13a leaves alone („Anführungszeichen“, «guillemets»,
/// 「括弧」, €).
///
/// Three substitutions by Unicode general category, then whitespace collapsed:
/// 1. `(\P{N})(\p{P})` → `\1 \2 `: punctuation after a non-number is split off;
/// 2. `(\p{P})(\P{N})` → ` \1 \2`: punctuation before a non-number is split off;
/// 3. `(\p{S})` → ` \1 `: every symbol is split off.
///
/// So `1,000.5` stays whole, and — as in mteval-v14.pl, and unlike 13a, which pads the line —
/// a period right after a number at the end of the line stays attached (`in 2020.`). HTML
/// entities are not unescaped (sacreBLEU issue #138). General categories come from Swift's
/// Unicode tables; sacreBLEU's come from the `regex` package's. They agree on every character
/// both Unicode versions assign.
public struct TokenizerIntl: Sendable {
    public init() {}

    /// The tokenized line, tokens separated by single spaces.
    public func callAsFunction(_ line: String) -> String {
        PythonText.string(tokenize(PythonText.scalars(line)))
    }

    func tokenize(_ line: [Unicode.Scalar]) -> [Unicode.Scalar] {
        let isNotNumber = { (c: Unicode.Scalar) in !Self.isNumber(c) }
        var out = Tokenizer13a.substitutePairs(line, isNotNumber, Self.isPunctuation) { a, b in [a, " ", b, " "] }
        out = Tokenizer13a.substitutePairs(out, Self.isPunctuation, isNotNumber) { a, b in [" ", a, " ", b] }
        var spaced: [Unicode.Scalar] = []
        spaced.reserveCapacity(out.count + out.count / 4)
        for c in out {
            if Self.isSymbol(c) {
                spaced.append(" ")
                spaced.append(c)
                spaced.append(" ")
            } else {
                spaced.append(c)
            }
        }
        return PythonText.normalizeSpaces(spaced)
    }

    /// `\p{N}`: Nd, Nl, No.
    static func isNumber(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: return true
        default: return false
        }
    }

    /// `\p{P}`: Pc, Pd, Ps, Pe, Pi, Pf, Po.
    static func isPunctuation(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation,
            .initialPunctuation, .finalPunctuation, .otherPunctuation:
            return true
        default: return false
        }
    }

    /// `\p{S}`: Sm, Sc, Sk, So.
    static func isSymbol(_ c: Unicode.Scalar) -> Bool {
        switch c.properties.generalCategory {
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return true
        default: return false
        }
    }
}
