import CSentencePiece
import Foundation

/// Trains a SentencePiece model through libsentencepiece_train with the settings this project
/// relies on: fairseq's special ids (0 `<s>`, 1 `<pad>`, 2 `</s>`, 3 `<unk>`) and the `identity`
/// normalization rule (text is normalized once, by `TextNormalizer`, before training and encoding).
public struct VocabularyTrainer: Sendable {
    /// SentencePiece's segmentation algorithm.
    public enum ModelType: String, Codable, Sendable, CaseIterable {
        case bpe, unigram
    }

    public var modelType: ModelType = .bpe
    /// Total pieces, specials included.
    public var vocabularySize: Int = 8000
    /// Fraction of characters covered; 1.0 keeps every character of the training text, so
    /// every training line encodes without `<unk>` and decodes back exactly.
    public var characterCoverage: Double = 1.0
    /// At most this many sentences are sampled (seeded) for training; 0 uses all of them.
    public var maxTrainingSentences: Int = 2_000_000
    /// Seeds SentencePiece's sampling of training sentences.
    public var seed: UInt32 = 1
    /// Threads for training.
    public var threads: Int = max(1, ProcessInfo.processInfo.activeProcessorCount)
    /// Silences SentencePiece's progress log on stderr.
    public var quiet: Bool = true

    public init(modelType: ModelType = .bpe, vocabularySize: Int = 8000, characterCoverage: Double = 1.0) {
        self.modelType = modelType
        self.vocabularySize = vocabularySize
        self.characterCoverage = characterCoverage
    }

    /// Trains on `inputPath` (one normalized sentence per line) and writes `modelPath`
    /// (SentencePiece also writes its `.vocab` listing next to it, which is removed). The same
    /// text and settings give the same bytes, wherever the files are (`ModelFileStabilizer`).
    /// - Throws: `DataError.vocabularyTraining` with SentencePiece's message and advice.
    public func train(inputPath: String, modelPath: String) throws {
        guard modelPath.hasSuffix(".model") else {
            throw DataError.invalidArgument("model path must end in .model: \(modelPath)")
        }
        guard vocabularySize > 4 else {
            throw DataError.invalidArgument("vocabulary size must be larger than the 4 special pieces, got \(vocabularySize)")
        }
        let prefix = String(modelPath.dropLast(".model".count))
        let options: [(String, String)] = [
            ("input", inputPath),
            ("model_prefix", prefix),
            ("model_type", modelType.rawValue),
            ("vocab_size", String(vocabularySize)),
            ("character_coverage", String(characterCoverage)),
            ("normalization_rule_name", "identity"),
            ("input_sentence_size", String(maxTrainingSentences)),
            ("shuffle_input_sentence", "true"),
            ("num_threads", String(threads)),
            ("bos_id", "0"), ("pad_id", "1"), ("eos_id", "2"), ("unk_id", "3"),
            ("bos_piece", "<s>"), ("pad_piece", "<pad>"), ("eos_piece", "</s>"), ("unk_piece", "<unk>"),
        ]
        let keys = options.map { strdup($0.0) }
        let values = options.map { strdup($0.1) }
        defer {
            keys.forEach { free($0) }
            values.forEach { free($0) }
        }
        let keyPointers = keys.map { UnsafePointer($0) }
        let valuePointers = values.map { UnsafePointer($0) }
        let error = hat_spm_train(keyPointers, valuePointers, Int32(options.count), seed, quiet ? 1 : 0)
        if let error {
            let message = String(cString: error)
            hat_spm_free(error)
            throw DataError.vocabularyTraining(Self.advice(for: message, vocabularySize: vocabularySize))
        }
        try? FileManager.default.removeItem(atPath: prefix + ".vocab")
        try ModelFileStabilizer.stabilize(modelPath: modelPath)
    }

    /// SentencePiece's messages name internal checks; add what to do about the common ones.
    static func advice(for raw: String, vocabularySize: Int) -> String {
        // Drop the internal check's source location and expression: "Internal: f.cc(660) [a == b] Text".
        var message = raw
        if let r = raw.range(of: ")] ") { message = String(raw[r.upperBound...]) }
        if let range = message.range(of: "Please set it to a value <= ") {
            let limit = message[range.upperBound...].prefix { $0.isNumber }
            return "\(message) — the corpus supports at most \(limit) pieces; rerun with --vocab-size \(limit) or less"
        }
        if message.contains("required_chars") || message.contains("Increase vocab_size") {
            return "\(message) — the text has more distinct characters than --vocab-size \(vocabularySize) allows; "
                + "raise --vocab-size or lower --character-coverage"
        }
        if message.contains("vocab_size") {
            return "\(message) — --vocab-size \(vocabularySize) does not fit this corpus; try a smaller one"
        }
        return message
    }
}
