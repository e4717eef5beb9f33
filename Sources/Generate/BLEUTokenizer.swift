/// The tokenizers BLEU can run before counting n-grams, named as in sacreBLEU's `--tokenize`
/// and its signature's `tok:` field.
///
/// `none` leaves the line as it is, so BLEU counts the words between whitespace: use it for
/// text that is already tokenized ("tokenized BLEU", `BLEU.tokenized`). sacreBLEU's language
/// specific tokenizers (`zh`, `ja-mecab`, `ko-mecab`, `char`, `spm`, `flores*`) are not provided.
public enum BLEUTokenizer: String, CaseIterable, Sendable, Codable {
    case thirteenA = "13a"
    case intl
    case none

    /// The signature name (`tok:13a`), which is also the command-line value.
    public var name: String { rawValue }

    /// The tokenized line.
    public func callAsFunction(_ line: String) -> String {
        PythonText.string(tokenize(PythonText.scalars(line)))
    }

    func tokenize(_ line: [Unicode.Scalar]) -> [Unicode.Scalar] {
        switch self {
        case .thirteenA: return Tokenizer13a().tokenize(line)
        case .intl: return TokenizerIntl().tokenize(line)
        case .none: return line
        }
    }
}
