import Model

/// What a search explores and how it scores: the space, the limits, the measures the limits
/// apply to, and the fitness (shared between runs through its cache).
public struct SearchProblem {
    public var space: SearchSpace
    public var constraints: SearchConstraints
    public var assessor: CandidateAssessor
    public var fitness: FitnessCache

    public init(space: SearchSpace, constraints: SearchConstraints, assessor: CandidateAssessor, fitness: FitnessCache) {
        self.space = space
        self.constraints = constraints
        self.assessor = assessor
        self.fitness = fitness
    }
}

/// The result of one constraint's search: the best SubTransformer of the last iteration.
public struct SearchOutcome: Sendable {
    public var constraints: SearchConstraints
    public var gene: [Int]
    public var config: SubTransformerConfig
    public var fitness: Fitness
    public var measures: CandidateMeasures
    public var state: SearchRunState
}
