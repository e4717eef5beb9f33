import Foundation
import Model
import NN
import TensorEngine
import Testing

@testable import Generate

/// Incremental decoding against the full (teacher-forced) decoder, and beam search against
/// exhaustive enumeration.
@Suite("Incremental decoding and beam search")
struct DecodingTests {
    static let space = SearchSpace(
        encoderEmbedDim: 32, decoderEmbedDim: 32, encoderFFNDim: 48, decoderFFNDim: 48, encoderLayers: 3, decoderLayers: 3,
        encoderAttentionHeads: 4, decoderAttentionHeads: 4, qkvDim: 16, shareAllEmbeddings: true,
        encoderEmbedChoices: [32, 24], decoderEmbedChoices: [32, 24], encoderFFNChoices: [48, 32], decoderFFNChoices: [48, 32],
        encoderLayerChoices: [3], decoderLayerChoices: [3, 2], encoderSelfAttentionHeadChoices: [4, 2],
        decoderSelfAttentionHeadChoices: [4, 2], decoderCrossAttentionHeadChoices: [4, 2],
        decoderArbitraryAttentionChoices: [-1, 1, 2])

    static func model(vocab: Int, seed: UInt64) -> SuperTransformer {
        var rng = RandomGenerator(seed: seed)
        let m = SuperTransformer(space: space, sourceVocabSize: vocab, targetVocabSize: vocab, rates: .none, rng: &rng)
        // Larger random weights than the initialization so the distributions are far from uniform.
        for p in m.parameters() where p.rank == 2 { for i in 0..<p.count { p.storage.data[i] *= 3 } }
        return m
    }

    @Test(
        "incremental steps equal the full decoder on every prefix (arbitrary attention 1 and 2)",
        arguments: [
            [1, 2, -1], [2, 1, 1], [-1, 2, 2],
        ])
    func incrementalMatchesFull(_ arbitrary: [Int]) {
        let config = SubTransformerConfig(
            encoderEmbedDim: 24, encoderLayerNum: 3, encoderFFNDims: [32, 48, 32], encoderSelfAttentionHeads: [2, 4, 4],
            decoderEmbedDim: 32, decoderLayerNum: 3, decoderFFNDims: [48, 32, 48], decoderSelfAttentionHeads: [4, 2, 4],
            decoderCrossAttentionHeads: [2, 4, 4], decoderArbitraryAttention: arbitrary)
        let vocab = 20
        let model = Self.model(vocab: vocab, seed: 5)
        var rng = RandomGenerator(seed: 6)
        // Two sentences of different lengths (the second padded).
        let (b, s, t) = (2, 6, 7)
        var src = (0..<(b * s)).map { _ in Int32(4 + rng.nextInt(vocab - 4)) }
        src[s - 1] = 2
        src[s + 3] = 2
        src[s + 4] = 1
        src[s + 5] = 1
        var prev = (0..<(b * t)).map { _ in Int32(4 + rng.nextInt(vocab - 4)) }
        prev[0] = 2
        prev[t] = 2
        let full = withNoGrad {
            logSoftmax(
                model(
                    source: TokenBatch(tokens: src, batchSize: b, length: s),
                    previousOutput: TokenBatch(tokens: prev, batchSize: b, length: t), config: config,
                    context: .evaluation())
            ).toArray()
        }
        let encoded = withNoGrad { model.encode(TokenBatch(tokens: src, batchSize: b, length: s), config: config, context: .evaluation()) }
        let decoder = IncrementalDecoder(model: model, config: config, encoderOutput: encoded, rowsPerSentence: 1, maxLength: t)
        var worst: Float = 0
        for step in 0..<t {
            let stepProbs = decoder.step([prev[step], prev[t + step]]).toArray()
            for row in 0..<b {
                for v in 0..<vocab {
                    let a = stepProbs[row * vocab + v], e = full[(row * t + step) * vocab + v]
                    worst = max(worst, abs(a - e))
                }
            }
        }
        #expect(worst <= 1e-4, "max |incremental − full| = \(worst)")
    }

    /// Each row order is applied after a step. Orders that keep equal blocks of rows per sentence
    /// take the batched cross-attention (also after a sentence drops out and its states are
    /// compacted away); any other order the per-row one.
    @Test(
        "reorder (within and across sentences, repeated and dropped rows) equals decoding the new histories",
        arguments: [
            [[2, 0, 1, 5, 3, 4], [0, 1, 2, 3, 4, 5], [3, 0, 0, 5]],  // blocks, identity, then mixed
            [[5, 4, 3], [2, 2, 0], [1, 2, 0]],  // sentence 0 dropped: one block of 3
            [[3, 0, 0, 5], [1, 2, 0, 3], [0, 2]],  // mixed, back to blocks, one row per sentence
        ])
    func reorderFollowsRows(orders: [[Int]]) {
        let config = SubTransformerConfig(
            encoderEmbedDim: 24, encoderLayerNum: 3, encoderFFNDims: [32, 48, 32], encoderSelfAttentionHeads: [2, 4, 4],
            decoderEmbedDim: 32, decoderLayerNum: 2, decoderFFNDims: [48, 32], decoderSelfAttentionHeads: [4, 2],
            decoderCrossAttentionHeads: [2, 4], decoderArbitraryAttention: [1, -1])
        let vocab = 20, beam = 3
        let model = Self.model(vocab: vocab, seed: 8)
        var rng = RandomGenerator(seed: 9)
        let (b, s) = (2, 5)
        var src = (0..<(b * s)).map { _ in Int32(4 + rng.nextInt(vocab - 4)) }
        src[s - 1] = 2
        src[s + 2] = 2
        src[s + 3] = 1
        src[s + 4] = 1
        let encoded = withNoGrad { model.encode(TokenBatch(tokens: src, batchSize: b, length: s), config: config, context: .evaluation()) }
        let decoder = IncrementalDecoder(model: model, config: config, encoderOutput: encoded, rowsPerSentence: beam, maxLength: 4)
        // Each row's history (previous tokens) and sentence, moved along with the rows.
        var histories: [[Int32]] = Array(repeating: [], count: b * beam)
        var sentences = (0..<(b * beam)).map { $0 / beam }
        var last: [Float] = []
        for step in 0..<4 {
            let tokens = histories.indices.map { _ in Int32(step == 0 ? 2 : 4 + rng.nextInt(vocab - 4)) }
            for i in histories.indices { histories[i].append(tokens[i]) }
            last = decoder.step(tokens).toArray()
            if step < 3 {
                decoder.reorder(rows: orders[step])
                histories = orders[step].map { histories[$0] }
                sentences = orders[step].map { sentences[$0] }
            }
        }
        // The full decoder on each final row's sentence and history.
        let rows = histories.count, t = histories[0].count
        let full = withNoGrad {
            logSoftmax(
                model(
                    source: TokenBatch(tokens: sentences.flatMap { src[($0 * s)..<(($0 + 1) * s)] }, batchSize: rows, length: s),
                    previousOutput: TokenBatch(tokens: histories.flatMap { $0 }, batchSize: rows, length: t),
                    config: config, context: .evaluation())
            ).toArray()
        }
        var worst: Float = 0
        for r in 0..<rows {
            for v in 0..<vocab { worst = max(worst, abs(last[r * vocab + v] - full[(r * t + t - 1) * vocab + v])) }
        }
        #expect(worst <= 1e-4, "max |reordered incremental − full| = \(worst)")
    }

    /// The best output of at most `maxLength` tokens from {3, 4, 5, 6} (then eos) under `score`,
    /// by enumerating them all. fairseq's min_len 1: eos is not allowed as the first token, so
    /// outputs have ≥ 1 token.
    static func exhaustiveBest(maxLength: Int, score: ([Int32]) -> Double) -> ([Int32], Double) {
        var best: ([Int32], Double) = ([], -.infinity)
        func enumerate(_ prefix: [Int32]) {
            if !prefix.isEmpty {
                let s = score(prefix + [2])
                if s > best.1 { best = (prefix, s) }
            }
            if prefix.count < maxLength { for t: Int32 in [3, 4, 5, 6] { enumerate(prefix + [t]) } }
        }
        enumerate([])
        return best
    }

    @Test("beam search finds the best hypothesis that exhaustive enumeration finds", arguments: [0.0, 0.6, 1.0])
    func beamIsExactOnTinyModel(_ lengthPenalty: Double) {
        // Vocabulary: 0 bos, 1 pad, 2 eos, 3 unk, and 4, 5, 6: every output of ≤ 3 tokens (+ eos) is enumerable.
        let vocab = 7
        let model = Self.model(vocab: vocab, seed: 11)
        var configRNG = RandomGenerator(seed: 3)
        let config = Self.space.sample(rng: &configRNG)
        let source: [Int32] = [4, 6, 5, 2]
        let maxLen = 3
        // Score of a full output y (ending in eos) by teacher forcing: Σ log p, / (|y|)^lp.
        func score(_ y: [Int32]) -> Double {
            let prev = [Int32(2)] + y.dropLast()
            let lp = withNoGrad {
                logSoftmax(
                    model(
                        source: TokenBatch(tokens: source, batchSize: 1, length: source.count),
                        previousOutput: TokenBatch(tokens: prev, batchSize: 1, length: prev.count), config: config,
                        context: .evaluation())
                ).toArray()
            }
            var sum = 0.0
            for (i, tok) in y.enumerated() { sum += Double(lp[i * vocab + Int(tok)]) }
            return sum / pow(Double(y.count), lengthPenalty)
        }
        let best = Self.exhaustiveBest(maxLength: maxLen, score: score)
        // A beam wide enough to hold every prefix is exact: 4³ = 64 prefixes of length 3.
        let search = BeamSearch(beamSize: 64, lengthPenalty: lengthPenalty, maxLenA: 0, maxLenB: maxLen)
        let result = search.translate(model: model, config: config, sources: [source])[0][0]
        #expect(result.tokens == best.0, "beam \(result.tokens) (\(result.score)) vs exhaustive \(best.0) (\(best.1))")
        #expect(abs(result.score - best.1) < 1e-4)
        // Greedy (beam 1) and beam 5 return valid hypotheses whose scores do not beat the optimum.
        for k in [1, 5] {
            let h = BeamSearch(beamSize: k, lengthPenalty: lengthPenalty, maxLenA: 0, maxLenB: maxLen)
                .translate(model: model, config: config, sources: [source])[0][0]
            #expect(h.score <= best.1 + 1e-6 && abs(h.score - score(h.tokens + [2])) < 1e-4)
        }
    }

    @Test("an ensemble's beam search finds the best hypothesis under the mean of the members' probabilities")
    func ensembleBeamIsExact() {
        // Two members of different weights and SubTransformers; the reference scores every output
        // by teacher forcing each member and averaging probabilities per step (in Double).
        let vocab = 7
        var configRNG = RandomGenerator(seed: 4)
        let members = [
            EnsembleMember(model: Self.model(vocab: vocab, seed: 21), config: Self.space.sample(rng: &configRNG)),
            EnsembleMember(model: Self.model(vocab: vocab, seed: 22), config: Self.space.sample(rng: &configRNG)),
        ]
        let source: [Int32] = [5, 4, 6, 2]
        let maxLen = 3, lengthPenalty = 0.6
        func score(_ y: [Int32]) -> Double {
            let prev = [Int32(2)] + y.dropLast()
            let perMember = members.map { m in
                withNoGrad {
                    logSoftmax(
                        m.model(
                            source: TokenBatch(tokens: source, batchSize: 1, length: source.count),
                            previousOutput: TokenBatch(tokens: prev, batchSize: 1, length: prev.count), config: m.config,
                            context: .evaluation())
                    ).toArray()
                }
            }
            var sum = 0.0
            for (i, tok) in y.enumerated() {
                sum += Foundation.log(perMember.map { exp(Double($0[i * vocab + Int(tok)])) }.reduce(0, +) / Double(members.count))
            }
            return sum / pow(Double(y.count), lengthPenalty)
        }
        let best = Self.exhaustiveBest(maxLength: maxLen, score: score)
        let search = BeamSearch(beamSize: 64, lengthPenalty: lengthPenalty, maxLenA: 0, maxLenB: maxLen)
        let result = search.translate(ensemble: members, sources: [source])[0][0]
        #expect(result.tokens == best.0, "ensemble beam \(result.tokens) (\(result.score)) vs exhaustive \(best.0) (\(best.1))")
        #expect(abs(result.score - best.1) < 1e-4)
        // The ensemble is not just one of its members: their own best outputs score lower under it.
        let alone = members.map { search.translate(model: $0.model, config: $0.config, sources: [source])[0][0].tokens }
        #expect(alone[0] != alone[1] || alone[0] == best.0, "members agree: a weak test case")
        // One member is the member itself, bitwise.
        let single = search.translate(ensemble: [members[0]], sources: [source])[0][0]
        let direct = search.translate(model: members[0].model, config: members[0].config, sources: [source])[0][0]
        #expect(single == direct)
    }

    @Test("a batch of sentences of different lengths translates as each sentence alone")
    func batchEqualsSingles() {
        let model = Self.model(vocab: 15, seed: 8)
        let config = Self.space.largest
        let sources: [[Int32]] = [[4, 5, 6, 7, 2], [8, 2], [9, 10, 11, 2]]
        let search = BeamSearch(beamSize: 3, lengthPenalty: 0.6, maxLenA: 1, maxLenB: 3)
        let batch = search.translate(model: model, config: config, sources: sources)
        for (i, s) in sources.enumerated() {
            let single = search.translate(model: model, config: config, sources: [s])[0]
            #expect(batch[i].first?.tokens == single.first?.tokens)
            #expect(abs((batch[i].first?.score ?? 0) - (single.first?.score ?? 1)) < 1e-4)
        }
    }

    @Test("batches translated in lanes on two threads equal the same batches one after the other")
    func lanesEqualSequentialBatches() {
        let model = Self.model(vocab: 15, seed: 8)
        let config = Self.space.largest
        let batches: [[[Int32]]] = [[[4, 5, 6, 7, 2], [8, 2]], [[9, 10, 11, 2]], [[12, 4, 2], [5, 2], [6, 6, 6, 2]], [[13, 2]]]
        let search = BeamSearch(beamSize: 3, lengthPenalty: 0.6, maxLenA: 1, maxLenB: 3)
        let sequential = batches.map { search.translate(model: model, config: config, sources: $0) }
        var finished: [Int] = []
        let inLanes = ParallelSettings.withThreads(2) {
            mapInLanes(batches.count, finished: { finished.append($0) }) { search.translate(model: model, config: config, sources: batches[$0]) }
        }
        #expect(inLanes == sequential)
        #expect(finished.sorted() == Array(batches.indices), "every batch reported finished once")
    }

    @Test("lanes share the threads out, return results in order and run every item once")
    func lanesShareThreads() {
        for threads in [1, 2, 3, 5] {
            let results = mapInLanes(7, threads: threads) { i in (item: i, threads: ParallelSettings.threads) }
            #expect(results.map(\.item) == Array(0..<7))
            let lanes = min(threads, 7)
            #expect(
                results.allSatisfy { $0.threads == threads / lanes || ($0.threads == threads / lanes + 1 && threads % lanes > 0) },
                "\(threads) threads: \(results)")
        }
        #expect(mapInLanes(0, threads: 2) { $0 }.isEmpty)
    }
}
