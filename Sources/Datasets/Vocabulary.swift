import CSentencePiece
import Foundation

/// A SentencePiece model: text ↔ token ids, with fairseq's special ids
/// (0 = `<s>` bos, 1 = `<pad>`, 2 = `</s>` eos, 3 = `<unk>`), which the models this tool trains
/// use directly (no remapping).
///
/// ```swift
/// let vocab = try Vocabulary(modelPath: "data/spm.model")
/// let ids = vocab.encode("A dog runs.", appendEOS: true)   // [..., 2]
/// vocab.decode(ids)                                      // "A dog runs."
/// ```
/// Encoding and decoding are thread-safe.
public final class Vocabulary: @unchecked Sendable {
    /// fairseq's special ids, which `VocabularyTrainer` configures SentencePiece to use.
    public static let bosID: Int32 = 0
    public static let padID: Int32 = 1
    public static let eosID: Int32 = 2
    public static let unkID: Int32 = 3

    private let handle: OpaquePointer
    /// The model file this vocabulary was loaded from.
    public let modelPath: String
    /// Number of pieces, specials included: ids are `0..<size`.
    public let size: Int
    public let padID: Int32
    public let eosID: Int32
    public let bosID: Int32
    public let unkID: Int32

    /// Loads a SentencePiece model file.
    /// - Throws: `DataError.missingFile` or `DataError.vocabulary` with SentencePiece's message.
    public init(modelPath: String) throws {
        guard FileManager.default.fileExists(atPath: modelPath) else { throw DataError.missingFile(path: modelPath) }
        var error: UnsafeMutablePointer<CChar>?
        guard let h = hat_spm_load(modelPath, &error) else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            hat_spm_free(error)
            throw DataError.vocabulary(
                "cannot load \(modelPath) as a SentencePiece model (\(message)): the file is damaged or not a model; prepare the dataset again (hat data ...)")
        }
        handle = h
        self.modelPath = modelPath
        size = Int(hat_spm_vocab_size(h))
        padID = hat_spm_pad_id(h)
        eosID = hat_spm_eos_id(h)
        bosID = hat_spm_bos_id(h)
        unkID = hat_spm_unk_id(h)
    }

    deinit { hat_spm_processor_free(handle) }

    /// True when the special ids are fairseq's (0 bos, 1 pad, 2 eos, 3 unk), as every model that
    /// `hat data prepare` trains has them; the batching code assumes this.
    public var hasFairseqSpecialIDs: Bool {
        bosID == Self.bosID && padID == Self.padID && eosID == Self.eosID && unkID == Self.unkID
    }

    /// Piece ids of `text` (SentencePiece applies no normalization of its own: pass text through
    /// `TextNormalizer.normalize` first, as `prepare` does), optionally followed by eos.
    public func encode(_ text: String, appendEOS: Bool = false) -> [Int32] {
        var ids: [Int32] = []
        var utf8 = text
        utf8.withUTF8 { bytes in
            var count: Int32 = 0
            var error: UnsafeMutablePointer<CChar>?
            let raw = bytes.withMemoryRebound(to: CChar.self) { chars in
                hat_spm_encode(handle, chars.baseAddress, chars.count, &count, &error)
            }
            // SentencePiece's Encode fails only on a processor that did not load; ours did.
            precondition(error == nil, "SentencePiece encode failed: \(String(cString: error!))")
            if let raw {
                ids = Array(UnsafeBufferPointer(start: raw, count: Int(count)))
                hat_spm_free(raw)
            }
        }
        if appendEOS { ids.append(eosID) }
        return ids
    }

    /// Text of `ids`; control ids (bos, eos, pad) decode to nothing, `<unk>` to " ⁇ ".
    /// - Precondition: every id is in `0..<size`.
    public func decode<C: Collection>(_ ids: C) -> String where C.Element == Int32 {
        let array = Array(ids)
        for id in array { precondition(id >= 0 && Int(id) < size, "token id \(id) is outside the vocabulary (size \(size))") }
        var error: UnsafeMutablePointer<CChar>?
        let text = array.withUnsafeBufferPointer { hat_spm_decode(handle, $0.baseAddress, Int32($0.count), &error) }
        guard let text else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            hat_spm_free(error)
            preconditionFailure("SentencePiece decode failed: \(message)")
        }
        defer { hat_spm_free(text) }
        return String(cString: text)
    }

    /// The piece of `id` (e.g. "▁dog"), or nil when out of range.
    public func piece(for id: Int32) -> String? {
        guard let p = hat_spm_id_to_piece(handle, id) else { return nil }
        defer { hat_spm_free(p) }
        return String(cString: p)
    }

    /// The id of `piece`, or `unkID` when it is not in the vocabulary.
    public func id(for piece: String) -> Int32 { hat_spm_piece_to_id(handle, piece) }

    /// The score SentencePiece stores for `id`: for a BPE model, minus the merge's rank (higher
    /// merges first); for a unigram model, the piece's log-probability.
    public func score(for id: Int32) -> Float { hat_spm_score(handle, id) }

    /// True for a piece that BPE builds by merging characters: not control, unknown, unused or a
    /// byte-fallback piece such as `<0xE2>`.
    public func isMergeable(_ id: Int32) -> Bool { hat_spm_is_mergeable(handle, id) != 0 }

    /// True for control ids (bos, eos, pad).
    public func isControl(_ id: Int32) -> Bool { hat_spm_is_control(handle, id) != 0 }
}
