import Model

/// How a search makes its candidates: HAT's evolution, or uniform random sampling with the
/// same budget (the baseline HAT compares against).
public enum SearchStrategy: String, Codable, Sendable {
    case evolution
    case random
}

/// Where a candidate of a population came from (the `origin` of its history line).
public enum CandidateOrigin: String, Codable, Sendable {
    /// Sampled uniformly from the space (the first population; every one of random search's).
    case random
    /// Kept from the previous iteration's best.
    case parent
    /// A parent with genes redrawn (HAT's mutation).
    case mutation
    /// Genes taken from two parents (HAT's crossover).
    case crossover
}

/// One line of the history for one candidate of one iteration (docs/ARCHITECTURE.md, "Search
/// files"): a population member with its fitness, or a candidate the constraints rejected
/// (`admitted` false, no loss, `violations` says why).
public struct CandidateRecord: Codable, Equatable, Sendable {
    public var type = "candidate"
    public var search: SearchStrategy
    /// `SearchConstraints.label` of the run ("200ms").
    public var constraint: String
    public var iteration: Int
    public var origin: CandidateOrigin
    public var gene: [Int]
    public var config: SubTransformerConfig
    public var admitted: Bool
    public var violations: [String]?
    public var loss: Double?
    public var nllLoss: Double?
    /// True when the loss came from the fitness cache rather than a new evaluation.
    public var cached: Bool?
    public var predictedLatencyMs: Double
    public var parameters: Int
    public var flops: Int
    public var modelSizeMB: Double
    public var peakMemoryMB: Double

    enum CodingKeys: String, CodingKey {
        case type, search, constraint, iteration, origin, gene, config, admitted, violations, loss, cached, flops
        case nllLoss = "nll_loss", predictedLatencyMs = "predicted_latency_ms", parameters = "params"
        case modelSizeMB = "model_size_mb", peakMemoryMB = "peak_memory_mb"
    }

    public var measures: CandidateMeasures {
        CandidateMeasures(
            predictedLatencyMs: predictedLatencyMs, parameters: parameters, flops: flops,
            modelSizeMB: modelSizeMB, peakMemoryMB: peakMemoryMB)
    }

    public var fitness: Fitness? { loss.map { Fitness(loss: $0, nllLoss: nllLoss ?? .nan) } }

    init(
        search: SearchStrategy, constraint: String, iteration: Int, origin: CandidateOrigin, gene: [Int], config: SubTransformerConfig,
        measures m: CandidateMeasures, violations: [String], fitness: Fitness?, cached: Bool?
    ) {
        self.search = search
        self.constraint = constraint
        self.iteration = iteration
        self.origin = origin
        self.gene = gene
        self.config = config
        self.admitted = violations.isEmpty
        self.violations = violations.isEmpty ? nil : violations
        self.loss = fitness?.loss
        self.nllLoss = fitness?.nllLoss
        self.cached = cached
        self.predictedLatencyMs = m.predictedLatencyMs
        self.parameters = m.parameters
        self.flops = m.flops
        self.modelSizeMB = m.modelSizeMB
        self.peakMemoryMB = m.peakMemoryMB
    }
}

/// One line of the history at the end of each iteration: the best candidate so far.
public struct IterationRecord: Codable, Equatable, Sendable {
    public var type = "iteration"
    public var search: SearchStrategy
    public var constraint: String
    public var iteration: Int
    /// Lowest loss of any candidate this run has evaluated so far (the first parent).
    public var bestLoss: Double
    public var bestGene: [Int]
    public var bestPredictedLatencyMs: Double
    /// Candidates in this iteration's population.
    public var population: Int
    /// New fitness evaluations this iteration (the rest came from the cache).
    public var evaluations: Int
    public var cacheHits: Int
    /// Candidates the constraints turned away while filling the population.
    public var rejected: Int
    /// Wall-clock seconds of the iteration (not reproducible, unlike everything else).
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case type, search, constraint, iteration, population, evaluations, rejected, seconds
        case bestLoss = "best_loss", bestGene = "best_gene", bestPredictedLatencyMs = "best_predicted_latency_ms"
        case cacheHits = "cache_hits"
    }
}
