import Foundation

/// Random search with the evolution's budget: the same first population, then as many fresh
/// random candidates per iteration as evolution breeds, keeping the best — the baseline HAT
/// compares against.
public struct RandomSearch {
    public var settings: EvolutionSettings
    public init(settings: EvolutionSettings = EvolutionSettings()) { self.settings = settings }

    public func run(
        _ problem: SearchProblem, seed: UInt64, resuming: SearchRunState? = nil,
        observer: any SearchObserver = NoSearchObserver()
    ) throws -> SearchOutcome {
        try PopulationSearch(strategy: .random, settings: settings).run(problem, seed: seed, resuming: resuming, observer: observer)
    }
}
