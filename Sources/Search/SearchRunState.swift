import TensorEngine

/// Everything one constraint's search needs to continue after the iteration it finished:
/// the surviving parents, the random generator, and how far it got. Saved after every
/// iteration, so an interrupted search resumes between iterations and repeats the straight
/// run exactly (the fitness is deterministic and cached).
public struct SearchRunState: Codable, Equatable, Sendable {
    public var strategy: SearchStrategy
    public var constraints: SearchConstraints
    public var seed: UInt64
    /// Iterations done; the run is finished when this reaches the settings' `iterations`.
    public var completedIterations: Int
    /// Genes of the parents (the best `parentSize` of the last population), best first.
    public var parents: [[Int]]
    /// Their losses, in the same order.
    public var parentLosses: [Double]
    public var rngState: [UInt64]
    /// Candidates the constraints rejected in this run so far. (Fitness evaluations are not
    /// counted here: how many a run needs depends on what the cache already held; the
    /// history's iteration records say.)
    public var rejected: Int

    public init(strategy: SearchStrategy, constraints: SearchConstraints, seed: UInt64) {
        self.strategy = strategy
        self.constraints = constraints
        self.seed = seed
        completedIterations = 0
        parents = []
        parentLosses = []
        rngState = RandomGenerator(seed: seed).state
        rejected = 0
    }

    public var bestGene: [Int]? { parents.first }
    public var bestLoss: Double? { parentLosses.first }
}

/// Receives a search's records as they happen: each candidate as soon as it is measured (and
/// evaluated), then the iteration's summary with the state to save.
public protocol SearchObserver {
    func record(_ candidate: CandidateRecord) throws
    func iterationFinished(_ summary: IterationRecord, state: SearchRunState) throws
}

/// An observer that keeps nothing.
public struct NoSearchObserver: SearchObserver {
    public init() {}
    public func record(_ candidate: CandidateRecord) throws {}
    public func iterationFinished(_ summary: IterationRecord, state: SearchRunState) throws {}
}
