import Model

/// The knobs of HAT's evolutionary search, with HAT's defaults (hat-reference.md §7):
/// population 125 = 25 parents + 50 mutants + 50 crossovers, 30 iterations, mutation
/// probability 0.3. Random search uses the same numbers to get the same budget.
public struct EvolutionSettings: Codable, Equatable, Sendable {
    public var iterations = 30
    /// Size of the first (random) population.
    public var populationSize = 125
    /// Best candidates kept each iteration; mutants and crossovers are bred from them.
    public var parentSize = 25
    public var mutationSize = 50
    public var crossoverSize = 50
    public var mutationProbability = 0.3
    /// Candidates rejected in a row (by the constraints) before the search gives up with an
    /// error; HAT resamples forever, which hangs on an infeasible constraint.
    public var maxConsecutiveRejections = 10_000
    /// Beyond HAT: a mutant or crossover that breaks a constraint is first shrunk (random live
    /// width, head or attention genes set to smaller choices, its layer counts kept) before it is
    /// rejected. HAT only redraws, so under a tight limit a mutant that adds a layer to a parent
    /// sized for fewer layers almost never survives and the search cannot reach deeper models
    /// (PERFORMANCE.md, "Evolution against random search"). Off by default: HAT's behaviour.
    public var repairOffspring = false

    public init() {}

    enum CodingKeys: String, CodingKey {
        case iterations, populationSize, parentSize, mutationSize, crossoverSize, mutationProbability, maxConsecutiveRejections
        case repairOffspring
    }

    /// Reads saved search states written before `repairOffspring` existed as HAT's behaviour.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        iterations = try c.decode(Int.self, forKey: .iterations)
        populationSize = try c.decode(Int.self, forKey: .populationSize)
        parentSize = try c.decode(Int.self, forKey: .parentSize)
        mutationSize = try c.decode(Int.self, forKey: .mutationSize)
        crossoverSize = try c.decode(Int.self, forKey: .crossoverSize)
        mutationProbability = try c.decode(Double.self, forKey: .mutationProbability)
        maxConsecutiveRejections = try c.decode(Int.self, forKey: .maxConsecutiveRejections)
        repairOffspring = try c.decodeIfPresent(Bool.self, forKey: .repairOffspring) ?? false
    }

    /// HAT's evolution keys, in one place: HAT's evolution YAML files (EvolutionConfigFile), a
    /// pipeline's `search:` section and `hat search`'s options all set them through this table.
    public static var keyTable: [ConfigKey<EvolutionSettings>] {
        [
            .integer("evo-iter", \.iterations, help: "iterations (HAT: 30)"),
            .integer("population-size", \.populationSize, help: "first population (HAT: 125)"),
            .integer("parent-size", \.parentSize, help: "parents kept per iteration (HAT: 25)"),
            .integer("mutation-size", \.mutationSize, min: 0, help: "mutants per iteration (HAT: 50)"),
            .integer("crossover-size", \.crossoverSize, min: 0, help: "crossovers per iteration (HAT: 50)"),
            .probability("mutation-prob", \.mutationProbability, closed: true, help: "probability that mutation redraws a gene (HAT: 0.3)"),
            .flag("repair-offspring", \.repairOffspring, help: "shrink offspring that break a constraint before rejecting them (beyond HAT)"),
        ]
    }

    /// Later populations are the parents plus the offspring (HAT's `popu = parents + mutants + crossovers`).
    public var offspringSize: Int { mutationSize + crossoverSize }

    /// New candidates a run asks the fitness for: the first population, then the offspring of
    /// every later iteration. Evaluations are fewer when candidates repeat (the cache).
    public var candidateBudget: Int { populationSize + (iterations - 1) * offspringSize }

    public func validate() throws {
        func fail(_ m: String) -> SearchError { .badSettings(m) }
        if iterations < 1 { throw fail("evo-iter must be at least 1, is \(iterations)") }
        if populationSize < 1 { throw fail("population-size must be at least 1, is \(populationSize)") }
        if parentSize < 1 || parentSize > populationSize {
            throw fail("parent-size must be between 1 and population-size (\(populationSize)), is \(parentSize)")
        }
        if mutationSize < 0 || crossoverSize < 0 { throw fail("mutation-size and crossover-size cannot be negative") }
        if crossoverSize > 0 && parentSize < 2 { throw fail("crossover needs at least 2 parents (parent-size is \(parentSize))") }
        if !(0...1).contains(mutationProbability) { throw fail("mutation-prob must be between 0 and 1, is \(mutationProbability)") }
        if maxConsecutiveRejections < 1 { throw fail("the rejection limit must be at least 1") }
    }
}

/// A HAT evolution config file (e.g. wmt14ende_raspberrypi.yml): the search settings, the
/// latency constraint (milliseconds in HAT's files) and where to write the result. HAT's
/// predictor keys (`ckpt-path`, `feature-norm`, `lat-norm`) and `restore-file` point at
/// PyTorch files and are not read.
public struct EvolutionConfigFile {
    public var settings: EvolutionSettings
    /// `latency-constraint` as written ("6000" = 6000 ms in HAT's files, or "200ms").
    public var latencyConstraint: String?
    public var memoryConstraint: String?
    public var parametersConstraint: String?
    public var flopsConstraint: String?
    /// `write-config-path`: where HAT writes the best SubTransformer.
    public var writeConfigPath: String?
    /// `valid-cnt-max`: HAT scores the fitness on at most this many validation sentences.
    public var validSubset: Int?

    public init(file: HATConfigFile, defaults: EvolutionSettings = EvolutionSettings()) throws {
        var s = defaults
        try EvolutionSettings.keyTable.apply(file.sources(for: EvolutionSettings.keyTable.names()), to: &s)
        settings = s
        // A value is kept as text and parsed like the command-line option; a YAML list of
        // latencies becomes the comma-separated form ("[100, 200]" → "100,200").
        func text(_ key: String) throws -> String? {
            if let s = file.string(key) { return s }
            return try file.doubles(key).map { $0.map { SearchConstraints.shortNumber($0) }.joined(separator: ",") }
        }
        latencyConstraint = try text("latency-constraint")
        memoryConstraint = try text("memory-constraint")
        parametersConstraint = try text("params-constraint")
        flopsConstraint = try text("flops-constraint")
        writeConfigPath = file.string("write-config-path")
        validSubset = try file.int("valid-cnt-max")
        if let v = validSubset, v < 1 { throw file.error("valid-cnt-max", "must be at least 1 sentence, is \(v)") }
    }

    public init(contentsOf path: String) throws { try self.init(file: HATConfigFile(path: path)) }
}
