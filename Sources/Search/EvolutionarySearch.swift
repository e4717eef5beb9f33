import Foundation

/// HAT's evolutionary search (hat-reference.md §7) as a value: the settings, and `run`.
///
/// ```swift
/// let search = EvolutionarySearch(settings: EvolutionSettings())   // HAT's 125/25/50/50, 30 iterations, p = 0.3
/// let best = try search.run(problem, seed: 1)
/// print(best.config, best.fitness.loss, best.measures.predictedLatencyMs)
/// ```
public struct EvolutionarySearch {
    public var settings: EvolutionSettings
    public init(settings: EvolutionSettings = EvolutionSettings()) { self.settings = settings }

    /// Runs to the last iteration, or continues a saved `resuming` state. The observer sees
    /// every candidate and, after each iteration, the state to save.
    public func run(
        _ problem: SearchProblem, seed: UInt64, resuming: SearchRunState? = nil,
        observer: any SearchObserver = NoSearchObserver()
    ) throws -> SearchOutcome {
        try PopulationSearch(strategy: .evolution, settings: settings).run(problem, seed: seed, resuming: resuming, observer: observer)
    }
}
