import Foundation
import Model
import TensorEngine
import Testing

@testable import Search

@Suite("Evolutionary and random search")
struct EvolutionTests {
    @Test("every admitted candidate meets every constraint; rejected ones say why")
    func admittedMeetConstraints() throws {
        let space = Fixtures.tinySpace
        let latency = Fixtures.latencyQuantile(space, 0.5)
        let profile = Fixtures.profiler(space).profile(space.largest)
        let c = SearchConstraints(latencyMs: latency, memoryMB: profile.peakInferenceMB * 0.9, parameters: Double(profile.parameters) * 0.8)
        for strategy in [SearchStrategy.evolution, .random] {
            let observer = RecordingObserver()
            let problem = Fixtures.problem(space, c)
            let outcome =
                strategy == .evolution
                ? try EvolutionarySearch(settings: Fixtures.smallSettings).run(problem, seed: 3, observer: observer)
                : try RandomSearch(settings: Fixtures.smallSettings).run(problem, seed: 3, observer: observer)
            let admitted = observer.candidates.filter(\.admitted)
            let rejected = observer.candidates.filter { !$0.admitted }
            #expect(!rejected.isEmpty, "the constraint should bind")
            for r in admitted {
                #expect(c.admits(r.measures), "\(r.config)")
                #expect(r.loss != nil && r.violations == nil)
                #expect(Fixtures.assessor(space).measures(r.config) == r.measures)
            }
            for r in rejected {
                #expect(!c.admits(r.measures) && r.loss == nil && !(r.violations ?? []).isEmpty)
            }
            #expect(c.admits(outcome.measures))
            // The answer is the lowest loss of the last population (and, parents surviving, of the whole run).
            let last = admitted.filter { $0.iteration == Fixtures.smallSettings.iterations - 1 }
            #expect(outcome.fitness.loss == last.compactMap(\.loss).min())
            #expect(outcome.fitness.loss == admitted.compactMap(\.loss).min())
            #expect(observer.iterations.count == Fixtures.smallSettings.iterations)
            #expect(zip(observer.iterations, observer.iterations.dropFirst()).allSatisfy { $0.bestLoss >= $1.bestLoss })
        }
    }

    @Test("populations have HAT's make-up: 125 random, then 25 parents + 50 mutants + 50 crossovers")
    func populationMakeUp() throws {
        var settings = EvolutionSettings()
        settings.iterations = 3
        let observer = RecordingObserver()
        _ = try EvolutionarySearch(settings: settings).run(Fixtures.problem(Fixtures.tinySpace, SearchConstraints()), seed: 1, observer: observer)
        func origins(_ iteration: Int) -> [String: Int] {
            Dictionary(grouping: observer.candidates.filter { $0.iteration == iteration && $0.admitted }, by: \.origin.rawValue).mapValues(\.count)
        }
        #expect(origins(0) == ["random": 125])
        #expect(origins(1) == ["parent": 25, "mutation": 50, "crossover": 50])
        #expect(origins(2) == ["parent": 25, "mutation": 50, "crossover": 50])
        // Parents of iteration 1 are the 25 best of iteration 0.
        let best0 = observer.candidates.filter { $0.iteration == 0 }.sorted { $0.loss! < $1.loss! }.prefix(25).map(\.loss!)
        #expect(observer.candidates.filter { $0.iteration == 1 && $0.origin == .parent }.map(\.loss!) == Array(best0))
    }

    @Test("the same seed gives the same search; another seed another one")
    func deterministic() throws {
        let space = Fixtures.tinySpace
        let c = SearchConstraints(latencyMs: Fixtures.latencyQuantile(space, 0.6))
        func run(_ seed: UInt64) throws -> ([CandidateRecord], SearchOutcome) {
            let observer = RecordingObserver()
            let outcome = try EvolutionarySearch(settings: Fixtures.smallSettings).run(Fixtures.problem(space, c), seed: seed, observer: observer)
            return (observer.candidates, outcome)
        }
        let (a, oa) = try run(11), (b, ob) = try run(11), (d, _) = try run(12)
        #expect(a == b)
        #expect(oa.gene == ob.gene && oa.state == ob.state)
        #expect(a != d)
    }

    @Test("stopping after an iteration and resuming from its state repeats the straight run")
    func resumeBetweenIterations() throws {
        let space = Fixtures.tinySpace
        let c = SearchConstraints(latencyMs: Fixtures.latencyQuantile(space, 0.5))
        let search = EvolutionarySearch(settings: Fixtures.smallSettings)
        let straight = RecordingObserver()
        let expected = try search.run(Fixtures.problem(space, c), seed: 4, observer: straight)
        for k in 1..<Fixtures.smallSettings.iterations {
            let first = RecordingObserver(stopAfter: k)
            #expect(throws: RecordingObserver.Stop.self) { try search.run(Fixtures.problem(space, c), seed: 4, observer: first) }
            // Round-trip the state through JSON, as the job's state file does.
            let saved = try JSONDecoder().decode(SearchRunState.self, from: JSONEncoder().encode(first.states.last!))
            let second = RecordingObserver()
            let resumed = try search.run(Fixtures.problem(space, c), seed: 4, resuming: saved, observer: second)
            #expect(resumed.gene == expected.gene && resumed.fitness == expected.fitness && resumed.state == expected.state)
            #expect((first.candidates + second.candidates).map(\.reproducible) == straight.candidates.map(\.reproducible))
        }
    }

    @Test("the cache evaluates each SubTransformer once, across iterations and runs")
    func cacheAvoidsReevaluation() throws {
        let space = Fixtures.tinySpace
        var calls: [SubTransformerConfig: Int] = [:]
        let f = Fixtures.syntheticFitness(space)
        let cache = FitnessCache { config in
            calls[config, default: 0] += 1
            return f(config)
        }
        let c = SearchConstraints(latencyMs: Fixtures.latencyQuantile(space, 0.7))
        let observer = RecordingObserver()
        _ = try EvolutionarySearch(settings: Fixtures.smallSettings).run(Fixtures.problem(space, c, cache: cache), seed: 2, observer: observer)
        let distinct = Set(observer.candidates.filter(\.admitted).map(\.config))
        #expect(calls.values.allSatisfy { $0 == 1 })
        #expect(calls.count == distinct.count && cache.evaluations == distinct.count)
        #expect(observer.candidates.filter { $0.cached == false }.count == distinct.count)
        #expect(observer.iterations.map(\.evaluations).reduce(0, +) == distinct.count)
        // Parents are never evaluated again.
        #expect(observer.candidates.filter { $0.origin == .parent }.allSatisfy { $0.cached == true })
        // A second run on the same cache repeats nothing it has seen.
        let before = cache.evaluations
        _ = try EvolutionarySearch(settings: Fixtures.smallSettings).run(Fixtures.problem(space, c, cache: cache), seed: 2)
        #expect(cache.evaluations == before)
    }

    @Test("evolution beats random search with the same budget on a known fitness, across seeds")
    func evolutionBeatsRandom() throws {
        let space = Fixtures.space0
        let c = SearchConstraints(latencyMs: Fixtures.latencyQuantile(space, 0.4))
        var settings = EvolutionSettings()
        settings.iterations = 10
        settings.populationSize = 40
        settings.parentSize = 10
        settings.mutationSize = 20
        settings.crossoverSize = 20
        var wins = 0
        var evolutionTotal = 0.0, randomTotal = 0.0
        for seed in UInt64(1)...6 {
            let e = RecordingObserver(), r = RecordingObserver()
            let evolution = try EvolutionarySearch(settings: settings).run(Fixtures.problem(space, c), seed: seed, observer: e)
            let random = try RandomSearch(settings: settings).run(Fixtures.problem(space, c), seed: seed, observer: r)
            // Same budget: the same number of candidates asked for.
            #expect(e.candidates.filter { $0.admitted && $0.origin != .parent }.count == settings.candidateBudget)
            #expect(r.candidates.filter { $0.admitted && $0.origin != .parent }.count == settings.candidateBudget)
            if evolution.fitness.loss < random.fitness.loss { wins += 1 }
            evolutionTotal += evolution.fitness.loss
            randomTotal += random.fitness.loss
        }
        print("evolution vs random, 6 seeds: wins \(wins), mean best loss \(evolutionTotal / 6) vs \(randomTotal / 6)")
        #expect(wins >= 5)
        #expect(evolutionTotal < randomTotal)
    }

    @Test("an infeasible constraint stops with an error naming it and the smallest latency seen")
    func infeasible() throws {
        let space = Fixtures.tinySpace
        let smallest = Fixtures.latency(space).predictMilliseconds(space.smallest)
        var settings = Fixtures.smallSettings
        settings.maxConsecutiveRejections = 500
        let c = SearchConstraints(latencyMs: smallest * 0.5)
        do {
            _ = try EvolutionarySearch(settings: settings).run(Fixtures.problem(space, c), seed: 1)
            Issue.record("the search should have failed")
        } catch let error as SearchError {
            let text = "\(error)"
            guard case .infeasible(_, let tries, _) = error else {
                Issue.record("wrong error \(error)")
                return
            }
            #expect(tries == 500)
            #expect(text.contains("latency ≤ \(SearchConstraints.formatMs(smallest * 0.5))"), "\(text)")
            #expect(text.contains("the smallest predicted latency seen was"), "\(text)")
            #expect(text.contains(String(format: "the space's smallest SubTransformer: %.4g ms", smallest)), "\(text)")
        }
    }

    @Test("settings that cannot work are refused")
    func badSettings() {
        var s = EvolutionSettings()
        s.parentSize = 200
        #expect(throws: SearchError.self) { try s.validate() }
        s = EvolutionSettings()
        s.mutationProbability = 1.5
        #expect(throws: SearchError.self) { try s.validate() }
        s = EvolutionSettings()
        s.parentSize = 1
        #expect(throws: SearchError.self) { try s.validate() }
        s.crossoverSize = 0
        #expect(throws: Never.self) { try s.validate() }
        #expect(EvolutionSettings().candidateBudget == 125 + 29 * 100)
    }
}
