import Foundation
import Testing

@testable import Datasets

/// BPE-dropout against SentencePiece: with probability 0 it must reproduce SentencePiece's
/// deterministic encoding exactly; with p > 0 it must produce as many pieces as SentencePiece's own
/// sampler (`enable_sampling`, alpha = p), decode to the same text, and depend only on (seed, epoch).
@Suite("BPE-dropout")
struct BPEDropoutTests {
    /// A built-in corpus prepared with a BPE vocabulary.
    static func builtinData(in dir: URL) throws -> PreparedDataset {
        let prep = try DataTestSupport.builtinPreparation(in: dir, vocabularySize: 400)
        _ = try prep.run()
        return try PreparedDataset(directory: prep.output)
    }

    /// Pieces per pass over the first `count` training pairs at p = 0.1, ours (epochs 1...passes)
    /// against SentencePiece's sampler (5 passes each): the means must agree within 1 %.
    static func expectPieceCountsMatchSentencePiece(_ data: PreparedDataset, pairs count: Int, in dir: URL) throws {
        let vocab = data.sourceVocabulary, train = try data.split("train")
        let sample = 0..<min(count, train.count), passes = 5
        let lines = try Array(data.sourceText("train")[sample]) + Array(data.targetText("train")[sample])
        let oracle = try DataTestSupport.bpeDropoutOracle(model: vocab.modelPath, lines: lines, probability: 0.1, passes: passes, in: dir)
        let stored = sample.reduce(0) { $0 + train.sourceLength($1) + train.targetLength($1) - 2 }
        #expect(oracle.deterministic == stored)
        let dropout = try BPEDropout(vocabulary: vocab, probability: 0.1)
        var ours: [Int] = []
        for epoch in 1...passes {
            let segmented = dropout.apply(to: train, seed: 5, epoch: epoch)
            ours.append(sample.reduce(0) { $0 + segmented.sourceLength($1) + segmented.targetLength($1) - 2 })
        }
        let meanOurs = Double(ours.reduce(0, +)) / Double(passes), meanOracle = Double(oracle.sampled.reduce(0, +)) / Double(passes)
        print("BPE-dropout 0.1, \(sample.count) pairs: stored \(stored) pieces; ours \(ours); SentencePiece \(oracle.sampled)")
        // Many more pieces than stored; one pass varies by ~0.5 %, so 1 % apart is a real difference.
        #expect(meanOracle > 1.05 * Double(stored))
        #expect(abs(meanOurs / meanOracle - 1) < 0.01, "ours \(ours) vs SentencePiece \(oracle.sampled) pieces (deterministic \(stored))")
    }

    @Test func zeroProbabilityIsSentencePiecesSegmentationAndSamplingMatchesIt() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = try Self.builtinData(in: dir)
        let vocab = data.sourceVocabulary
        let train = try data.split("train")

        let exact = try BPEDropout(vocabulary: vocab, probability: 0).apply(to: train, seed: 1, epoch: 1)
        #expect(exact.sourceTokens == train.sourceTokens && exact.targetTokens == train.targetTokens)
        #expect(exact.sourceOffsets == train.sourceOffsets && exact.targetOffsets == train.targetOffsets)

        let dropout = try BPEDropout(vocabulary: vocab, probability: 0.1)
        let epoch1 = dropout.apply(to: train, seed: 1, epoch: 1)
        #expect(epoch1.count == train.count)
        #expect(epoch1.sourceTokens.count > train.sourceTokens.count && epoch1.targetTokens.count > train.targetTokens.count)
        var changed = 0
        for i in 0..<train.count {
            #expect(epoch1.source(i).last == Vocabulary.eosID && epoch1.target(i).last == Vocabulary.eosID)
            #expect(vocab.decode(epoch1.source(i)) == vocab.decode(train.source(i)), "sentence \(i)")
            #expect(vocab.decode(epoch1.target(i)) == vocab.decode(train.target(i)), "sentence \(i)")
            #expect(!epoch1.source(i).contains(vocab.unkID))
            if !epoch1.target(i).elementsEqual(train.target(i)) { changed += 1 }
        }
        #expect(changed > train.count / 10, "only \(changed) of \(train.count) targets were segmented differently")
        // A function of (seed, epoch): the same again, another epoch differs.
        let again = dropout.apply(to: train, seed: 1, epoch: 1), epoch2 = dropout.apply(to: train, seed: 1, epoch: 2)
        #expect(again.sourceTokens == epoch1.sourceTokens && again.targetTokens == epoch1.targetTokens)
        #expect(epoch2.sourceTokens != epoch1.sourceTokens)
        // One side only: the other keeps its stored pieces.
        let sourceOnly = dropout.apply(to: train, seed: 1, epoch: 1, sides: .source)
        let targetOnly = dropout.apply(to: train, seed: 1, epoch: 1, sides: .target)
        #expect(sourceOnly.targetTokens == train.targetTokens && sourceOnly.sourceTokens.count > train.sourceTokens.count)
        #expect(targetOnly.sourceTokens == train.sourceTokens && targetOnly.targetTokens.count > train.targetTokens.count)
        // A word holding <unk> is kept as stored; the rest of the sentence still resamples.
        var rng = SeededGenerator(seed: 3)
        let withUnknown = vocab.encode("the dog ж runs")
        #expect(withUnknown.contains(vocab.unkID))
        let resampled = dropout.resegment(withUnknown, rng: &rng)
        #expect(resampled.filter { $0 == vocab.unkID }.count == 1)
        #expect(vocab.decode(resampled) == vocab.decode(withUnknown))

        try Self.expectPieceCountsMatchSentencePiece(data, pairs: 1500, in: dir)

        #expect(throws: DataError.self) { try BPEDropout(vocabulary: vocab, probability: 1) }
        #expect(throws: DataError.self) { try BPEDropout(vocabulary: vocab, probability: -0.1) }
    }

    /// On Multi30k's joint 8,000-piece vocabulary: p = 0 gives back all 58,000 stored training
    /// sentences exactly, and p = 0.1 produces the same number of pieces as SentencePiece's own
    /// sampler (averaged over passes; the two differ only in their random numbers).
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func multi30kMatchesSentencePiecesSampler() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try Multi30k.localFiles(.enDe, in: DataTestSupport.multi30kDirectory)
        let prep = DatasetPreparation(splits: files, sourceLanguage: "en", targetLanguage: "de", output: dir.appendingPathComponent("m30k").path)
        _ = try prep.run()
        let data = try PreparedDataset(directory: prep.output)
        let vocab = data.sourceVocabulary
        let train = try data.split("train")
        let exact = try BPEDropout(vocabulary: vocab, probability: 0).apply(to: train, seed: 1, epoch: 1)
        #expect(exact.sourceTokens == train.sourceTokens && exact.targetTokens == train.targetTokens)

        try Self.expectPieceCountsMatchSentencePiece(data, pairs: 2000, in: dir)
    }
}
