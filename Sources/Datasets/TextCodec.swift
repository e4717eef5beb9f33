import Foundation

/// One side of a translation model's text: a raw sentence to token ids ending in eos, and ids
/// back to text. Our datasets use SentencePiece (`SentencePieceCodec`); HAT's published models use
/// Moses tokenization, subword-nmt BPE and a fairseq dictionary (`FairseqTextCodec`).
public protocol TextCodec: AnyObject, Sendable {
    /// Token ids the model's embedding has rows for.
    var size: Int { get }
    /// The ids of one raw sentence, eos last.
    func encode(_ text: String) -> [Int32]
    /// The raw text of generated ids (eos and padding dropped).
    func decode(_ ids: [Int32]) -> String
    /// The ids as the tokens that tokenized BLEU counts (HAT's "BLEU"): subwords joined back into
    /// words, not detokenized. For SentencePiece models, the raw text.
    func decodeTokenized(_ ids: [Int32]) -> String
    /// A reference sentence tokenized the way `decodeTokenized` leaves hypotheses.
    func tokenizeReference(_ text: String) -> String
}

/// `hat data prepare`'s text: normalization, then a SentencePiece vocabulary.
public final class SentencePieceCodec: TextCodec {
    public let vocabulary: Vocabulary
    public init(_ vocabulary: Vocabulary) { self.vocabulary = vocabulary }
    public var size: Int { vocabulary.size }
    public func encode(_ text: String) -> [Int32] { vocabulary.encode(TextNormalizer.normalize(text), appendEOS: true) }
    public func decode(_ ids: [Int32]) -> String { vocabulary.decode(ids) }
    public func decodeTokenized(_ ids: [Int32]) -> String { decode(ids) }
    public func tokenizeReference(_ text: String) -> String { text }
}

/// HAT's and fairseq's text (their preparation scripts): Moses tokenization with aggressive
/// hyphen splitting, subword-nmt BPE, a fairseq dictionary; decoding removes the BPE separators
/// ("@@ ", fairseq's `--remove-bpe`) and detokenizes with Moses.
public final class FairseqTextCodec: TextCodec, @unchecked Sendable {
    public let dictionary: FairseqDictionary
    public let language: String
    private let tokenizer: MosesTokenizer?
    private let detokenizer: MosesDetokenizer?
    private var bpe: SubwordBPE?
    /// BPE keeps a cache of segmented words; one sentence at a time.
    private let lock = NSLock()

    /// - Parameters:
    ///   - moses: whether text is Moses-tokenized (and detokenized): a language Moses knows (en, de, fr).
    public init(dictionary: FairseqDictionary, language: String, bpe: SubwordBPE?, moses: Bool) throws {
        self.dictionary = dictionary
        self.language = language
        self.bpe = bpe
        tokenizer = moses ? try MosesTokenizer(language: language) : nil
        detokenizer = moses ? try MosesDetokenizer(language: language) : nil
    }

    public var size: Int { dictionary.count }

    /// Moses-tokenized, BPE-segmented text of a raw sentence (what fairseq's data-bin holds).
    public func preprocess(_ text: String) -> String {
        let tokens = tokenizer?.tokenize(text) ?? text
        return lock.withLock { bpe?.processLine(tokens) ?? tokens }
    }

    public func encode(_ text: String) -> [Int32] { dictionary.encodeLine(preprocess(text), appendEOS: true) }

    public func decode(_ ids: [Int32]) -> String {
        let text = decodeTokenized(ids)
        return detokenizer?.detokenize(text) ?? text
    }

    /// fairseq-generate's hypothesis text: symbols joined, BPE removed, still Moses-tokenized.
    public func decodeTokenized(_ ids: [Int32]) -> String {
        dictionary.string(ids, bpeSymbol: bpe == nil ? nil : .subwordNMT, extraSymbolsToIgnore: [FairseqDictionary.pad])
    }

    public func tokenizeReference(_ text: String) -> String { tokenizer?.tokenize(text) ?? text }
}
