import CKernels
import Foundation
import Model
import TensorEngine

/// One finished translation: target ids without the final eos, and fairseq's score
/// (sum of token log-probabilities, eos included, divided by length^lengthPenalty).
public struct Hypothesis: Sendable, Equatable {
    public var tokens: [Int32]
    public var score: Double
    /// Log-probability of each token, eos included.
    public var positionalScores: [Double]
}

/// Beam search with fairseq's conventions (HAT tests with beam 4–5, length penalty 0.6):
/// - candidates are the top 2·beam (hypothesis, token) pairs by cumulative log-probability;
///   an eos among the top `beam` finishes a hypothesis, the best `beam` others continue;
/// - a sentence is done once it has `beam` finished hypotheses, or at its maximum length
///   `maxLenA · source length + maxLenB`, where only eos is allowed;
/// - padding (and bos) are never generated; eos not before `minLength`;
/// - at the first step only one beam per sentence is expanded (all beams are identical);
/// - finished scores are normalized by (tokens incl. eos)^lengthPenalty.
/// Greedy search is beam 1.
public struct BeamSearch: Sendable {
    public var beamSize: Int
    public var lengthPenalty: Double
    public var maxLenA: Double
    public var maxLenB: Int
    public var minLength: Int
    public var eos: Int32 = 2
    public var pad: Int32 = 1
    public var bos: Int32 = 0

    public init(beamSize: Int = 5, lengthPenalty: Double = 0.6, maxLenA: Double = 0, maxLenB: Int = 200, minLength: Int = 1) {
        precondition(beamSize >= 1, "beam size must be at least 1")
        precondition(maxLenA.isFinite && maxLenA >= 0 && maxLenB >= 0, "max-len-a and max-len-b must be finite and non-negative")
        self.beamSize = beamSize
        self.lengthPenalty = lengthPenalty
        self.maxLenA = maxLenA
        self.maxLenB = maxLenB
        self.minLength = minLength
    }

    /// Translates a batch of source sentences (ids ending in eos, any lengths); returns each
    /// sentence's finished hypotheses, best first.
    public func translate(model: SuperTransformer, config: SubTransformerConfig, sources: [[Int32]]) -> [[Hypothesis]] {
        translate(ensemble: [EnsembleMember(model: model, config: config)], sources: sources)
    }

    /// Translates with an ensemble: each step's token distribution is the mean of the members'
    /// probabilities (fairseq's `EnsembleModel`: logsumexp of log-probs − log M). Members share the
    /// target vocabulary; typically checkpoints of one training run (epochs or seeds).
    public func translate(ensemble members: [EnsembleMember], sources: [[Int32]]) -> [[Hypothesis]] {
        guard !sources.isEmpty, !members.isEmpty else { return sources.map { _ in [] } }
        precondition(
            Set(members.map(\.model.targetVocabSize)).count == 1 && Set(members.map(\.model.sourceVocabSize)).count == 1,
            "ensemble members must share the source and target vocabularies")
        let k = beamSize
        let srcLen = sources.map(\.count).max()!
        var padded = [Int32](repeating: pad, count: sources.count * srcLen)
        for (b, s) in sources.enumerated() { for (j, t) in s.enumerated() { padded[b * srcLen + j] = t } }
        let positionsLimit = members.map { $0.model.decoderPositions.maxPositions }.min()! - 1
        // In Double first: a huge `a` must clamp to the positions, not overflow Int.
        let maxLens = sources.map { Int(Swift.max(0, Swift.min(maxLenA * Double($0.count) + Double(maxLenB), Double(positionsLimit)))) }
        let decoders = members.map { member in
            let encoderOutput = withNoGrad {
                member.model.encode(
                    TokenBatch(tokens: padded, batchSize: sources.count, length: srcLen), config: member.config,
                    context: .evaluation())
            }
            return IncrementalDecoder(
                model: member.model, config: member.config, encoderOutput: encoderOutput,
                rowsPerSentence: k, maxLength: maxLens.max()! + 1)
        }
        let decoder = decoders[0]
        var active = Array(0..<sources.count)  // sentence of each block of k rows
        var rows = [LiveHypothesis](repeating: LiveHypothesis(score: 0, tokens: [], positionalScores: [], last: eos), count: sources.count * k)
        var finished = [[Hypothesis]](repeating: [], count: sources.count)
        var step = 0
        while !active.isEmpty {
            let lastTokens = rows.map(\.last)
            let stepLogProbs = decoders.map { $0.step(lastTokens) }
            // One member's log-probabilities are read in place (a copy of rows × vocabulary floats per step costs as much as the scan).
            let lprobs =
                stepLogProbs.count == 1
                ? stepLogProbs[0].contiguous()
                : Tensor(
                    Self.averageProbabilities(stepLogProbs.map { $0.toArray() }),
                    shape: stepLogProbs[0].shape)
            let vocab = lprobs.count / decoder.rows
            var keepRows: [Int] = [], nextActive: [Int] = [], nextRows: [LiveHypothesis] = []
            for (slot, sentence) in active.enumerated() {
                let forceEOS = step >= maxLens[sentence]
                // The best 2k candidates (score, row, token) over this sentence's rows, kept sorted
                // by insertion: a full sort of rows × vocabulary per step would dominate decoding.
                let wanted = 2 * k
                var candidates: [(score: Double, row: Int, token: Int32, logProb: Double)] = []
                candidates.reserveCapacity(wanted + 1)
                let rowRange = step == 0 ? (slot * k)..<(slot * k + 1) : (slot * k)..<(slot * k + k)
                let lp = lprobs.dataPointer
                for row in rowRange {
                    let base = row * vocab, rowScore = rows[row].score
                    if rowScore == -.infinity { continue }
                    func consider(_ t: Int) {
                        let token = Int32(t)
                        if token == pad || token == bos { return }
                        if token == eos && step < minLength { return }
                        let logProb = Double(lp[base + t])
                        if logProb == -.infinity { return }
                        let score = rowScore + logProb
                        if candidates.count == wanted && score <= candidates[wanted - 1].score { return }
                        // Insert keeping descending score; ties keep the earlier (row, token) first.
                        var i = candidates.count
                        while i > 0 && candidates[i - 1].score < score { i -= 1 }
                        candidates.insert((score, row, token, logProb), at: i)
                        if candidates.count > wanted { candidates.removeLast() }
                    }
                    if forceEOS {
                        consider(Int(eos))
                        continue
                    }
                    // Only tokens whose score can enter the candidates are considered: those above
                    // a float bound a little below the exact one (the exact test is `consider`'s).
                    var t = 0
                    while t < vocab {
                        let bound = candidates.count < wanted ? -Float.infinity : Self.floatBelow(candidates[wanted - 1].score - rowScore)
                        t += hat_first_above(lp + base + t, vocab - t, bound)
                        if t < vocab {
                            consider(t)
                            t += 1
                        }
                    }
                }
                var continuing = 0
                for (rank, c) in candidates.enumerated() {
                    if c.token == eos {
                        if rank < k && finished[sentence].count < k {
                            let from = rows[c.row], length = Double(from.tokens.count + 1)
                            finished[sentence].append(
                                Hypothesis(
                                    tokens: from.tokens, score: c.score / pow(length, lengthPenalty),
                                    positionalScores: from.positionalScores + [c.logProb]))
                        }
                    } else if continuing < k {
                        keepRows.append(c.row)
                        nextRows.append(rows[c.row].extended(by: c.token, logProb: c.logProb, score: c.score))
                        continuing += 1
                    }
                }
                let done = finished[sentence].count >= k || forceEOS || continuing == 0
                if done {
                    keepRows.removeLast(continuing)
                    nextRows.removeLast(continuing)
                } else {
                    // Fewer than k continuations (a tiny vocabulary): repeat the best, never to be
                    // chosen again (score -inf), to keep blocks of k rows.
                    for _ in continuing..<k {
                        let i = keepRows.count - continuing
                        keepRows.append(keepRows[i])
                        var filler = nextRows[i]
                        filler.score = -.infinity
                        nextRows.append(filler)
                    }
                    nextActive.append(sentence)
                }
            }
            active = nextActive
            if active.isEmpty { break }
            for d in decoders { d.reorder(rows: keepRows) }
            rows = nextRows
            step += 1
        }
        return finished.map { $0.sorted { $0.score > $1.score } }
    }

    /// A float below every log-probability x with rowScore + x > worst, for `x = worst − rowScore`:
    /// two float steps under the nearest float, which covers the rounding of both conversions.
    static func floatBelow(_ x: Double) -> Float {
        guard x.isFinite else { return -.infinity }
        return Float(x).nextDown.nextDown
    }

    /// log(mean_m exp(lp_m)) elementwise; one member's log-probs are returned as they are.
    static func averageProbabilities(_ logProbs: [[Float]]) -> [Float] {
        guard logProbs.count > 1 else { return logProbs[0] }
        let logM = Float(Foundation.log(Double(logProbs.count)))
        var out = [Float](repeating: 0, count: logProbs[0].count)
        for j in out.indices {
            var top = -Float.infinity
            for lp in logProbs { top = Swift.max(top, lp[j]) }
            if top == -.infinity {
                out[j] = -.infinity
                continue
            }
            var sum: Float = 0
            for lp in logProbs { sum += expf(lp[j] - top) }
            out[j] = top + logf(sum) - logM
        }
        return out
    }
}

/// One row of the beam while decoding: the tokens so far, their log-probabilities and their sum.
struct LiveHypothesis {
    var score: Double
    var tokens: [Int32]
    var positionalScores: [Double]
    /// The token the next decoder step reads (eos at the start, fairseq's convention).
    var last: Int32

    func extended(by token: Int32, logProb: Double, score: Double) -> LiveHypothesis {
        LiveHypothesis(score: score, tokens: tokens + [token], positionalScores: positionalScores + [logProb], last: token)
    }
}

/// One model of a decoding ensemble: a checkpoint's weights and the SubTransformer to run.
public struct EnsembleMember {
    public let model: SuperTransformer
    public let config: SubTransformerConfig
    public init(model: SuperTransformer, config: SubTransformerConfig) {
        self.model = model
        self.config = config
    }
}
