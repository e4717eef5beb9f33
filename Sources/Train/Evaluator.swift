import Cluster
import Datasets
import Foundation
import Model
import NN
import TensorEngine

/// Validation loss of a SubTransformer on a whole split: teacher-forced, no dropout, no tape.
/// Also the fitness of HAT's evolutionary search (hat-reference.md §7).
public struct Evaluator {
    public let batches: [Batch]
    public let labelSmoothing: Float
    /// Pairs left out because a side is longer than the model's positions (`maxLength`).
    public let droppedTooLong: Int

    /// Pre-builds the split's batches (length-sorted, unshuffled) once; reused for every subnet.
    /// Pairs with a side longer than `maxLength` tokens (the model's positions) are left out and
    /// counted in `droppedTooLong`; validation and test splits are never length-filtered when prepared.
    public init(dataset: TranslationDataset, maxTokens: Int, labelSmoothing: Float, maxLength: Int = .max) throws {
        let (kept, dropped) = dataset.keepingPairs(maxLength: maxLength)
        droppedTooLong = dropped
        var it = try BatchIterator(dataset: kept, maxTokens: maxTokens, seed: 0, shuffle: false, skipOversized: true)
        var batches: [Batch] = []
        while let b = it.next() { batches.append(b) }
        self.batches = batches
        self.labelSmoothing = labelSmoothing
    }

    public struct Result: Sendable {
        /// Label-smoothed loss per target token, base 2 (fairseq's `loss`).
        public var loss: Double
        /// NLL per target token, base 2 (fairseq's `nll_loss`); perplexity is 2^nllLoss.
        public var nllLoss: Double
        public var tokens: Int
        public var perplexity: Double { pow(2, nllLoss) }
    }

    public func evaluate(_ model: SuperTransformer, config: SubTransformerConfig) -> Result {
        let (loss, nll, tokens) = sums(model, config: config, batches: batches.indices)
        return Self.result(loss: loss, nll: nll, tokens: tokens)
    }

    /// The same, with the batches shared among the ranks of a data-parallel job (batch i on
    /// rank i mod ranks) and the sums added over the ranks; every rank gets the result.
    public func evaluate(_ model: SuperTransformer, config: SubTransformerConfig, group: DistributedGroup) throws -> Result {
        guard group.size > 1 else { return evaluate(model, config: config) }
        let (loss, nll, tokens) = sums(model, config: config, batches: stride(from: group.rank, to: batches.count, by: group.size))
        let all = try group.allSum([loss, nll, Double(tokens)])
        return Self.result(loss: all[0], nll: all[1], tokens: Int(all[2]))
    }

    private func sums<Indices: Sequence>(_ model: SuperTransformer, config: SubTransformerConfig, batches indices: Indices) -> (Double, Double, Int)
    where Indices.Element == Int {
        withNoGrad {
            var loss = 0.0, nll = 0.0, tokens = 0
            let context = ForwardContext.evaluation()
            for i in indices {
                let b = batches[i]
                let (l, n) = model.loss(
                    source: b.sourceBatch, previousOutput: b.previousOutputBatch, target: b.targetTokens,
                    config: config, labelSmoothing: labelSmoothing, context: context)
                loss += Double(l.item)
                nll += Double(n)
                tokens += b.targetTokenCount
            }
            return (loss, nll, tokens)
        }
    }

    private static func result(loss: Double, nll: Double, tokens: Int) -> Result {
        let perToken = 1 / (Double(Swift.max(tokens, 1)) * log(2.0))
        return Result(loss: loss * perToken, nllLoss: nll * perToken, tokens: tokens)
    }
}

extension Batch {
    /// The source side as the model's token batch [B, S].
    public var sourceBatch: TokenBatch { TokenBatch(tokens: sourceTokens, batchSize: batchSize, length: sourceLength) }
    /// The decoder input (eos + target without its last token) as a token batch [B, T].
    public var previousOutputBatch: TokenBatch {
        TokenBatch(tokens: previousOutputTokens, batchSize: batchSize, length: targetLength)
    }
}
