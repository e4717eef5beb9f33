/// A mini-batch of sentence pairs as the model consumes them: row-major `[batchSize, length]`
/// token matrices, right-padded with pad (1).
///
/// Rows follow fairseq's conventions: `targetTokens` row = target pieces + eos;
/// `previousOutputTokens` row = eos + target without its final eos (the decoder input for
/// teacher forcing, `Batch.previousOutputTokens(for:)`).
public struct Batch: Sendable, Equatable {
    /// `[batchSize, sourceLength]`, right-padded with pad.
    public var sourceTokens: [Int32]
    /// Source length of each row, eos included.
    public var sourceLengths: [Int32]
    /// `[batchSize, targetLength]`, right-padded with pad: what the decoder must predict.
    public var targetTokens: [Int32]
    /// `[batchSize, targetLength]`: eos followed by the target without its final eos, right-padded.
    public var previousOutputTokens: [Int32]
    /// Target length of each row, eos included.
    public var targetLengths: [Int32]
    public var batchSize: Int
    /// Longest source in the batch (columns of `sourceTokens`).
    public var sourceLength: Int
    /// Longest target in the batch (columns of `targetTokens` and `previousOutputTokens`).
    public var targetLength: Int
    /// The dataset index of each row.
    public var sentenceIndices: [Int]
    /// The pad id used for padding.
    public var padID: Int32

    /// Non-pad target tokens: the number of predictions the loss averages over.
    public var targetTokenCount: Int { targetLengths.reduce(0) { $0 + Int($1) } }
    /// Non-pad source tokens.
    public var sourceTokenCount: Int { sourceLengths.reduce(0) { $0 + Int($1) } }
    /// Tokens including padding, as the budget counts them: batchSize × max(sourceLength, targetLength).
    public var paddedTokenCount: Int { batchSize * max(sourceLength, targetLength) }

    /// fairseq's decoder input for one target (which ends with eos): `[eos] + target.dropLast()`.
    public static func previousOutputTokens<C: Collection>(for target: C, eosID: Int32 = Vocabulary.eosID) -> [Int32] where C.Element == Int32 {
        guard !target.isEmpty else { return [] }
        return [eosID] + target.dropLast()
    }

    /// Collates the sentences `indices` of `dataset` (in that row order).
    public init(dataset: TranslationDataset, indices: [Int], padID: Int32 = Vocabulary.padID, eosID: Int32 = Vocabulary.eosID) {
        batchSize = indices.count
        sentenceIndices = indices
        self.padID = padID
        sourceLengths = indices.map { Int32(dataset.sourceLength($0)) }
        targetLengths = indices.map { Int32(dataset.targetLength($0)) }
        sourceLength = Int(sourceLengths.max() ?? 0)
        targetLength = Int(targetLengths.max() ?? 0)
        sourceTokens = [Int32](repeating: padID, count: batchSize * sourceLength)
        targetTokens = [Int32](repeating: padID, count: batchSize * targetLength)
        previousOutputTokens = [Int32](repeating: padID, count: batchSize * targetLength)
        for (row, i) in indices.enumerated() {
            for (k, t) in dataset.source(i).enumerated() { sourceTokens[row * sourceLength + k] = t }
            let target = dataset.target(i)
            for (k, t) in target.enumerated() { targetTokens[row * targetLength + k] = t }
            for (k, t) in Self.previousOutputTokens(for: target, eosID: eosID).enumerated() {
                previousOutputTokens[row * targetLength + k] = t
            }
        }
    }

    /// Row `row` of `sourceTokens` without padding.
    public func source(row: Int) -> ArraySlice<Int32> {
        sourceTokens[(row * sourceLength)..<(row * sourceLength + Int(sourceLengths[row]))]
    }

    /// Row `row` of `targetTokens` without padding.
    public func target(row: Int) -> ArraySlice<Int32> {
        targetTokens[(row * targetLength)..<(row * targetLength + Int(targetLengths[row]))]
    }
}
