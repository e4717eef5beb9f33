import Foundation
import Model
import TensorEngine

/// The iteration both searches share (hat-reference.md §7): fill a population with admitted
/// candidates, score each by its fitness (cached), keep the best `parentSize` as parents, and
/// repeat; the answer is the best candidate of the last iteration. Only how the population is
/// refilled differs: evolution breeds mutants and crossovers of the parents, random search
/// draws fresh random SubTransformers (the same number, so the same budget).
struct PopulationSearch {
    let strategy: SearchStrategy
    let settings: EvolutionSettings

    func run(
        _ problem: SearchProblem, seed: UInt64, resuming: SearchRunState?,
        observer: any SearchObserver
    ) throws -> SearchOutcome {
        try settings.validate()
        var state = resuming ?? SearchRunState(strategy: strategy, constraints: problem.constraints, seed: seed)
        guard state.strategy == strategy, state.constraints == problem.constraints else {
            throw SearchError.badSettings(
                "the saved state is a \(state.strategy.rawValue) search for \(state.constraints), "
                    + "not a \(strategy.rawValue) search for \(problem.constraints)")
        }
        while state.completedIterations < settings.iterations {
            try iterate(&state, problem, observer: observer)
        }
        let gene = state.parents[0]
        let config = problem.space.config(fromGene: gene)
        guard let fitness = problem.fitness[config] ?? state.bestLoss.map({ Fitness(loss: $0, nllLoss: .nan) }) else {
            throw SearchError.badSettings("the search finished without a scored candidate")
        }
        return SearchOutcome(
            constraints: problem.constraints, gene: gene, config: config, fitness: fitness,
            measures: problem.assessor.measures(config), state: state)
    }

    /// One iteration: refill, score, select, report.
    func iterate(_ state: inout SearchRunState, _ problem: SearchProblem, observer: any SearchObserver) throws {
        let started = Date()
        let iteration = state.completedIterations
        let label = problem.constraints.label
        let space = problem.space
        var rng = RandomGenerator(state: state.rngState)
        let evaluationsBefore = problem.fitness.evaluations, hitsBefore = problem.fitness.hits
        let strategy = self.strategy
        var admission = CandidateAdmission(problem: problem, limit: settings.maxConsecutiveRejections, observer: observer) {
            gene, config, measures, origin, violations in
            CandidateRecord(
                search: strategy, constraint: label, iteration: iteration, origin: origin, gene: gene, config: config,
                measures: measures, violations: violations, fitness: nil, cached: nil)
        }

        // 1. The population: random at first; later the parents and their offspring.
        var population: [(gene: [Int], origin: CandidateOrigin)] = []
        func admit(_ origin: CandidateOrigin, _ draw: () -> [Int]) throws { population.append((try admission.next(origin: origin, draw).gene, origin)) }
        if iteration == 0 {
            for _ in 0..<settings.populationSize { try admit(.random) { space.gene(of: space.sample(rng: &rng)) } }
        } else {
            population = state.parents.map { ($0, .parent) }
            let parents = state.parents
            switch strategy {
            case .evolution:
                let operators = GeneticOperators(space: space, mutationProbability: settings.mutationProbability)
                // With repairOffspring, a child that breaks a limit is shrunk first; one that
                // cannot be repaired goes to admission as it is and is rejected there.
                let repair = settings.repairOffspring
                func fits(_ gene: [Int]) -> Bool {
                    problem.constraints.violations(of: problem.assessor.measures(space.config(fromGene: gene))).isEmpty
                }
                for _ in 0..<settings.mutationSize {
                    try admit(.mutation) {
                        let child = operators.mutate(parents[rng.nextInt(parents.count)], rng: &rng)
                        return repair ? operators.repair(child, rng: &rng, fits: fits) ?? child : child
                    }
                }
                for _ in 0..<settings.crossoverSize {
                    try admit(.crossover) {
                        // Two different parents, as HAT's random.sample(parents, 2).
                        let i = rng.nextInt(parents.count)
                        var j = rng.nextInt(parents.count - 1)
                        if j >= i { j += 1 }
                        let child = operators.crossover(parents[i], parents[j], rng: &rng)
                        return repair ? operators.repair(child, rng: &rng, fits: fits) ?? child : child
                    }
                }
            case .random:
                for _ in 0..<settings.offspringSize { try admit(.random) { space.gene(of: space.sample(rng: &rng)) } }
            }
        }

        // 2. Fitness of every member (the cache answers for parents and repeats; under MPI the
        // new members are evaluated on all ranks first).
        try problem.fitness.prefetch(population.map { space.config(fromGene: $0.gene) })
        var scored: [(gene: [Int], loss: Double, measures: CandidateMeasures)] = []
        for (gene, origin) in population {
            let config = space.config(fromGene: gene)
            let measures = problem.assessor.measures(config)
            let (fitness, cached) = try problem.fitness.fitness(of: config)
            try observer.record(
                CandidateRecord(
                    search: strategy, constraint: label, iteration: iteration, origin: origin, gene: gene,
                    config: config, measures: measures, violations: [], fitness: fitness, cached: cached))
            scored.append((gene, fitness.loss.isNaN ? .infinity : fitness.loss, measures))
        }

        // 3. Selection: the lowest losses survive; ties keep population order, so runs repeat exactly.
        let order = scored.indices.sorted { (scored[$0].loss, $0) < (scored[$1].loss, $1) }
        let survivors = order.prefix(settings.parentSize)
        state.parents = survivors.map { scored[$0].gene }
        state.parentLosses = survivors.map { scored[$0].loss }
        state.completedIterations = iteration + 1
        state.rngState = rng.state
        let evaluations = problem.fitness.evaluations - evaluationsBefore
        state.rejected += admission.rejected

        let best = scored[order[0]]
        try observer.iterationFinished(
            IterationRecord(
                search: strategy, constraint: label, iteration: iteration, bestLoss: best.loss, bestGene: best.gene,
                bestPredictedLatencyMs: best.measures.predictedLatencyMs, population: population.count,
                evaluations: evaluations, cacheHits: problem.fitness.hits - hitsBefore, rejected: admission.rejected,
                seconds: Date().timeIntervalSince(started)),
            state: state)
    }
}
