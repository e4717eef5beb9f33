import ArgumentParser
import Cluster
import Foundation
import Model
import Search
import TensorEngine

/// `hat search`: HAT's evolutionary search (or random search) for the SubTransformer with the
/// lowest supernet validation loss under latency, memory, size and FLOPs constraints.
struct SearchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Search the SubTransformer with the lowest validation loss that meets latency/memory/size constraints.",
        discussion: """
            HAT's evolutionary search (hat-reference.md §7): population 125 = 25 parents + 50 mutants + 50 \
            crossovers, 30 iterations, mutation probability 0.3, fitness = the supernet's validation loss. \
            Several latencies (--latency-constraint 100ms,150ms,200ms) give one SubTransformer each, a \
            latency/loss front, sharing the fitness cache. Writes OUT/subtransformer@LABEL.yml, \
            OUT/pareto.json and OUT/history.jsonl; rerunning the same command resumes after the last \
            finished iteration.
            """
    )

    @Option(help: "Trained SuperTransformer checkpoint (hat train).") var supernet: String
    @Option(help: "Search space YAML (default: the supernet's own; a narrower choice list over the same SuperTransformer is allowed).")
    var space: String?
    @Option(help: "Prepared dataset whose validation split is the fitness (default: the one the supernet was trained on).")
    var data: String?
    @Option(
        help:
            "Latency predictor: a file from `hat latency train-predictor`/`adapt`, a HAT latency CSV (ridge trained on it; the cost model below 30 rows), or 'measure[:N]' to calibrate on this machine."
    )
    var predictor: String
    @Option(name: .customLong("latency-constraint"), help: "Latency limit(s): 200ms, 1.5s; a comma-separated list gives a Pareto front.")
    var latencyConstraint: String?
    @Option(name: .customLong("memory-constraint"), help: "Peak inference memory limit (model included): 64MB, 1.5GB.")
    var memoryConstraint: String?
    @Option(
        name: .customLong("memory-predictor"),
        help: ArgumentHelp(
            "Predict the peak inference memory with this predictor file instead of the profiler's estimate.",
            discussion:
                "A predictor trained with hat latency train-predictor --target memory on a dataset measured with hat latency dataset --memory; a latency predictor is refused."
        ))
    var memoryPredictor: String?
    @Option(name: .customLong("params-constraint"), help: "#Params limit (HAT's count): 30M.") var paramsConstraint: String?
    @Option(name: .customLong("flops-constraint"), help: "FLOPs limit (HAT's count): 2G.") var flopsConstraint: String?
    @Option(
        name: .customLong("weight-bits"),
        help: ArgumentHelp(
            "The model ships K-means-quantized at this many bits (hat quantize): memory constraints count its weights so, and the winners are measured so.",
            discussion: "Give a latency predictor trained on a dataset measured with hat latency dataset --bits N."))
    var weightBits: Int?
    @Option(name: .customLong("evo-config"), help: "HAT evolution YAML (evo-iter, population-size, ..., latency-constraint, write-config-path).")
    var evoConfig: String?
    @Option(name: .customLong("evo-iter"), help: ArgumentHelp(EvolutionSettings.keyTable.help(for: "evo-iter"))) var iterations: Int?
    @Option(name: .customLong("population-size"), help: ArgumentHelp(EvolutionSettings.keyTable.help(for: "population-size"))) var populationSize: Int?
    @Option(name: .customLong("parent-size"), help: ArgumentHelp(EvolutionSettings.keyTable.help(for: "parent-size"))) var parentSize: Int?
    @Option(name: .customLong("mutation-size"), help: ArgumentHelp(EvolutionSettings.keyTable.help(for: "mutation-size"))) var mutationSize: Int?
    @Option(name: .customLong("crossover-size"), help: ArgumentHelp(EvolutionSettings.keyTable.help(for: "crossover-size"))) var crossoverSize: Int?
    @Option(name: .customLong("mutation-prob"), help: ArgumentHelp(EvolutionSettings.keyTable.help(for: "mutation-prob"))) var mutationProb: Double?
    @Option(name: .customLong("max-rejections"), help: "Rejected candidates in a row before a constraint is declared infeasible.")
    var maxRejections: Int?
    @Flag(help: "Random search with the same budget (the baseline HAT compares against).") var random = false
    @Flag(
        name: .customLong("repair-offspring"),
        help: "Shrink a mutant or crossover that breaks a constraint before rejecting it (beyond HAT; helps under tight limits).")
    var repairOffspring = false
    @Option(help: "Random seed.") var seed: UInt64 = 1
    @Option(help: "Output folder (history, state, results).") var out: String = "runs/search"
    @Option(name: .customLong("write-config"), help: "Also write the best SubTransformer here (HAT's write-config-path; one constraint only).")
    var writeConfig: String?
    @Option(name: .customLong("valid-subset"), help: "Score on the first N validation pairs (HAT's valid-cnt-max; default: all, as HAT).") var validSubset: Int?
    @Option(name: .customLong("max-tokens"), help: "Tokens per evaluation batch (default: the supernet's training max-tokens).")
    var maxTokens: Int?
    @Option(help: "Sentence length for latency, FLOPs and memory (HAT: 30 for WMT, 23 for IWSLT).") var length: Int = 30
    @Option(help: "Beam size for latency and memory.") var beam: Int = 5
    @Flag(name: .customLong("no-measure"), help: "Do not measure the found SubTransformers on this machine (the predictor describes another device).")
    var noMeasure = false
    @Option(name: .customLong("measure-iterations"), help: "Timed runs when measuring the found SubTransformers.") var measureIterations: Int = 20
    @Option(help: "Compute threads of the fitness evaluation (default: the cores available, shared among the ranks an MPI launcher put on this machine).")
    var threads: Int = Swift.max(1, ParallelSettings.availableCores / DistributedGroup.ranksOnThisNode)
    @Option(
        name: .customLong("measure-threads"),
        help: "Compute threads when measuring, as the latency data was measured (default: the cores available, as hat latency dataset's).")
    var measureThreads: Int = ParallelSettings.availableCores

    @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

    func validate() throws {
        if threads < 1 || measureThreads < 1 { throw ValidationError("--threads and --measure-threads must be at least 1") }
        try MeasurementLimits.check(length: length, beam: beam)
        if measureIterations < 1 { throw ValidationError("--measure-iterations must be at least 1") }
        if let m = maxTokens, m < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if let v = validSubset, v < 1 { throw ValidationError("--valid-subset must be at least 1") }
        if let b = weightBits, !(1...8).contains(b) { throw ValidationError("--weight-bits \(b): give 1 to 8 bits per weight") }
        if memoryPredictor != nil && weightBits != nil {
            throw ValidationError(
                "--memory-predictor predicts float32 models' memory (hat latency dataset --memory measures float32); with --weight-bits leave it out")
        }
    }

    func run() throws {
        let group = try DistributedGroup.world()
        try group.runJob { try search(group) }
    }

    /// Rank 0 (or the only process) searches; under mpirun the other ranks evaluate fitness for it.
    private func search(_ group: DistributedGroup) throws {
        try OutputPath.checkFolder(out, option: "--out")
        lineBufferStandardOutput()
        let evo = try evoConfig.map { path -> EvolutionConfigFile in
            let file = try HATConfigFile(path: path)
            if group.isMain { warnAboutUnknownKeys(in: file) }
            return try EvolutionConfigFile(file: file)
        }
        var settings = evo?.settings ?? EvolutionSettings()
        let options: [String: String?] = [
            "evo-iter": iterations.map { "\($0)" }, "population-size": populationSize.map { "\($0)" },
            "parent-size": parentSize.map { "\($0)" }, "mutation-size": mutationSize.map { "\($0)" },
            "crossover-size": crossoverSize.map { "\($0)" }, "mutation-prob": mutationProb.map { "\($0)" },
            "repair-offspring": repairOffspring ? "true" : nil,
        ]
        try EvolutionSettings.keyTable.apply(
            options.compactMapValues { $0.map { ConfigKeySource(text: $0, location: "<command line>") } },
            to: &settings, keyPrefix: "--")
        if let v = maxRejections { settings.maxConsecutiveRejections = v }
        try settings.validate()
        let constraints = try SearchConstraints.list(
            latencies: latencyConstraint ?? evo?.latencyConstraint, memory: memoryConstraint ?? evo?.memoryConstraint,
            parameters: paramsConstraint ?? evo?.parametersConstraint, flops: flopsConstraint ?? evo?.flopsConstraint)
        let writeConfigPath = writeConfig ?? evo?.writeConfigPath
        if writeConfigPath != nil && constraints.count > 1 {
            throw SearchError.badSettings("--write-config takes one constraint; with several, the results are OUT/subtransformer@LABEL.yml")
        }
        var runner = SearchRunner(
            supernet: supernet, predictor: try LatencyPredictorSource(predictor), constraints: constraints,
            directory: URL(fileURLWithPath: out))
        runner.memoryPredictor = memoryPredictor.map { MemoryPredictorSource(path: $0) }
        runner.spaceFile = space
        runner.data = data
        runner.settings = settings
        runner.strategy = random ? .random : .evolution
        runner.seed = seed
        runner.validSubset = validSubset ?? evo?.validSubset
        runner.maxTokens = maxTokens
        runner.length = length
        runner.beam = beam
        runner.measureWinners = !noMeasure
        runner.measureIterations = measureIterations
        runner.measureThreads = measureThreads
        runner.weightBits = weightBits
        let output = ResultOutput(json: json)
        runner.log = output.say
        runner.group = group
        BLAS.setComputeThreads(threads)
        guard group.isMain else { return try runner.serveFitness() }
        let result = try runner.run()
        if let writeConfigPath, let best = result.outcomes.first {
            try best.hatYAML(strategy: runner.strategy, seed: seed).write(toFile: writeConfigPath, atomically: true, encoding: .utf8)
            output.say("wrote \(writeConfigPath)")
        }
        for p in result.front {
            let label = String(repeating: " ", count: Swift.max(0, 10 - p.constraint.count)) + p.constraint
            let measured = p.measuredLatencyMs.map { String(format: "  measured %8.2f ms", $0) } ?? ""
            output.say(
                String(
                    format: "%@  loss %.4f  predicted %8.2f ms%@  params %@  peak memory %.1f MB%@  %@", label, p.loss,
                    p.predictedLatencyMs, measured, SearchConstraints.formatCount(Double(p.parameters)), p.peakMemoryMB,
                    p.dominated ? "  (dominated)" : "", p.subtransformer))
        }
        try output.emit(SearchOutput(directory: out, seconds: result.seconds, front: result.front, writtenConfig: writeConfigPath))
    }

    /// `--json`: the Pareto front (pareto.json's points: one per constraint, best first) and the run.
    struct SearchOutput: Encodable {
        var directory: String
        var seconds: Double
        var front: [ParetoPoint]
        var writtenConfig: String?
    }
}
