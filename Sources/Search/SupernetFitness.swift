import Datasets
import Foundation
import Model
import Train

/// HAT's fitness (hat-reference.md §7): a SubTransformer's validation loss with the weights it
/// inherits from the trained SuperTransformer — teacher-forced, no dropout, no tape, batched.
public struct SupernetFitness {
    public let model: SuperTransformer
    public let evaluator: Evaluator
    /// Validation sentence pairs the loss is computed on.
    public let sentences: Int
    /// Tokens per evaluation batch (padding included).
    public let maxTokens: Int

    /// - Parameters:
    ///   - validation: the split to score on (HAT: the whole validation set).
    ///   - subset: score on the first `subset` pairs only (quick runs on a small CPU); nil = all.
    public init(
        model: SuperTransformer, validation: TranslationDataset, subset: Int? = nil, maxTokens: Int,
        labelSmoothing: Double
    ) throws {
        var data = validation
        if let subset, subset < validation.count {
            guard subset >= 1 else { throw SearchError.badSettings("--valid-subset must be at least 1, is \(subset)") }
            data = TranslationDataset(
                source: (0..<subset).map { Array(validation.source($0)) },
                target: (0..<subset).map { Array(validation.target($0)) })
        }
        self.model = model
        self.maxTokens = maxTokens
        self.evaluator = try Evaluator(
            dataset: data, maxTokens: maxTokens, labelSmoothing: Float(labelSmoothing),
            maxLength: model.maxSentenceLength)
        self.sentences = data.count - evaluator.droppedTooLong
    }

    public func callAsFunction(_ config: SubTransformerConfig) -> Fitness {
        let r = evaluator.evaluate(model, config: config)
        return Fitness(loss: r.loss, nllLoss: r.nllLoss)
    }
}
