import Model

/// The fitness of one SubTransformer: its supernet validation loss (lower is better,
/// hat-reference.md §7), base 2 per target token as fairseq reports it.
public struct Fitness: Codable, Equatable, Sendable {
    /// Label-smoothed loss: what the search minimizes (fairseq's `loss`, which HAT ranks by).
    public var loss: Double
    /// Plain NLL (fairseq's `nll_loss`), for reporting perplexity.
    public var nllLoss: Double

    public init(loss: Double, nllLoss: Double) {
        self.loss = loss
        self.nllLoss = nllLoss
    }
}

/// Fitness values by SubTransformer, so no architecture is evaluated twice: not when it
/// survives as a parent, not when evolution meets it again, not in another constraint's run
/// of the same job, and not after a resume (the cache is refilled from the history file).
///
/// Keyed by `SubTransformerConfig`, not by gene: genes that differ only in unused layer slots
/// are the same network.
public final class FitnessCache {
    public typealias Evaluate = (SubTransformerConfig) throws -> Fitness
    private var values: [SubTransformerConfig: Fitness] = [:]
    private let evaluate: Evaluate
    /// Evaluates many configs at once (on the ranks of an MPI job, DistributedFitness); nil: one by one.
    public var evaluateMany: (([SubTransformerConfig]) throws -> [Fitness])?
    /// Values `prefetch` computed that no lookup has asked for yet: their first lookup counts as
    /// the evaluation (`cached` false), so the history reads as if they were evaluated then.
    private var prefetched: Set<SubTransformerConfig> = []
    /// Fitness evaluations actually run (the expensive part of a search).
    public private(set) var evaluations = 0
    /// Lookups answered from the cache.
    public private(set) var hits = 0

    public init(evaluate: @escaping Evaluate) { self.evaluate = evaluate }

    public var count: Int { values.count }

    /// The known value, without evaluating.
    public subscript(config: SubTransformerConfig) -> Fitness? { values[config] }

    /// The fitness of `config`, evaluated only if unknown; `cached` tells which.
    public func fitness(of config: SubTransformerConfig) throws -> (fitness: Fitness, cached: Bool) {
        if prefetched.remove(config) != nil {
            evaluations += 1
            return (values[config]!, false)
        }
        if let known = values[config] {
            hits += 1
            return (known, true)
        }
        let value = try evaluate(config)
        evaluations += 1
        values[config] = value
        return (value, false)
    }

    /// Evaluates the configs of `configs` the cache does not know in one go when `evaluateMany`
    /// is set (nothing otherwise); later lookups get them as if evaluated then.
    public func prefetch(_ configs: [SubTransformerConfig]) throws {
        guard let evaluateMany else { return }
        var unknown: [SubTransformerConfig] = []
        for c in configs where values[c] == nil && !unknown.contains(c) { unknown.append(c) }
        for (config, value) in zip(unknown, try evaluateMany(unknown)) {
            values[config] = value
            prefetched.insert(config)
        }
    }

    /// Records a value known from elsewhere (a history file), without counting an evaluation.
    public func insert(_ fitness: Fitness, for config: SubTransformerConfig) { values[config] = fitness }
}
