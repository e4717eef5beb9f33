import Cluster
import Compress
import Foundation
import Latency
import Model
import TensorEngine
import Train

/// One `hat search` from its inputs to its result files: loads the supernet and validation
/// split, gets the latency predictor, runs (or resumes) the `SearchJob`, and measures the
/// winners on this machine. The command line and `hat pipeline` both run searches through it.
public struct SearchRunner {
    public var supernet: String
    public var spaceFile: String?
    public var data: String?
    public var predictor: LatencyPredictorSource
    /// Predicts the peak inference memory that memory constraints look at (a float32 model's:
    /// not with `weightBits`); nil: the profiler's analytic estimate.
    public var memoryPredictor: MemoryPredictorSource?
    public var constraints: [SearchConstraints]
    public var settings = EvolutionSettings()
    public var strategy: SearchStrategy = .evolution
    public var seed: UInt64 = 1
    public var directory: URL
    public var validSubset: Int?
    public var maxTokens: Int?
    /// Sentence length and beam of latency, FLOPs and memory (HAT: 30 for WMT, 23 for IWSLT; beam 5).
    public var length = 30
    public var beam = 5
    /// Measure each winner on this machine afterwards (item 3); off when the predictor describes another device.
    public var measureWinners = true
    /// Timed runs of that measurement (HAT's method; the fastest and slowest 10 % dropped).
    public var measureIterations = 20
    /// Compute threads of that measurement: as the latency dataset was measured (`hat latency dataset` uses 1).
    public var measureThreads = 1
    /// Bits per weight of the model that will ship (`hat quantize --bits`): the size and memory
    /// constraints count its weights quantized, and the winners are measured quantized. nil: float32.
    public var weightBits: Int?
    /// The ranks of an MPI job: rank 0 runs this search and the others evaluate fitness with it
    /// (`serveFitness`); one process without MPI.
    public var group: DistributedGroup = .single
    public var log: (String) -> Void = {
        print($0)
        fflush(nil)
    }

    public init(supernet: String, predictor: LatencyPredictorSource, constraints: [SearchConstraints], directory: URL) {
        self.supernet = supernet
        self.predictor = predictor
        self.constraints = constraints
        self.directory = directory
    }

    public struct Result {
        public var outcomes: [SearchOutcome]
        public var front: [ParetoPoint]
        public var measured: [MeasuredLatencyCheck.Result]
        public var seconds: Double
        public var paretoURL: URL
    }

    /// The ranks other than 0 of `mpirun -np N hat search`: load the same supernet and validation
    /// data as rank 0 and evaluate what it sends until its search ends.
    public func serveFitness() throws {
        let inputs = try SearchInputs(supernet: supernet, spaceFile: spaceFile, data: data, validSubset: validSubset, maxTokens: maxTokens)
        try DistributedFitness(group: group, fitness: inputs.fitness).serve()
    }

    @discardableResult
    public func run() throws -> Result {
        try settings.validate()
        let inputs = try SearchInputs(supernet: supernet, spaceFile: spaceFile, data: data, validSubset: validSubset, maxTokens: maxTokens)
        let latency = try predictor.predictor(
            searchDirectory: directory, space: inputs.space, length: length, beam: beam, seed: seed,
            measureModel: { inputs.model }, log: log)
        var profiler = inputs.profiler
        profiler.weightBits = weightBits
        if memoryPredictor != nil, weightBits != nil {
            throw SearchError.badSettings(
                "--memory-predictor learned float32 models' memory (hat latency dataset --memory measures float32); with --weight-bits the profiler counts the quantized weights: leave out one of them"
            )
        }
        let memory = try memoryPredictor?.predictor(searchDirectory: directory, log: log)
        let assessor = CandidateAssessor(
            predictor: TrainedLatencyPredictor(latency), profiler: profiler, length: length, beam: beam, memoryPredictor: memory)
        let fitness = FitnessCache { inputs.fitness($0) }
        let distributed = DistributedFitness(group: group, fitness: inputs.fitness)
        if group.size > 1 {
            fitness.evaluateMany = distributed.evaluate
            log("fitness evaluated on \(group.size) ranks (\(group.library ?? "MPI"))")
        }
        let setup = SearchSetup(
            strategy: strategy, settings: settings, seed: seed, space: inputs.space,
            inputs: inputs.setupInputs(
                predictor: predictor.description, length: length, beam: beam, weightBits: weightBits,
                memoryPredictor: memoryPredictor?.description))
        log(
            "fitness: supernet validation loss on \(inputs.fitness.sentences) pairs of \(inputs.dataDirectory); "
                + "\(strategy == .evolution ? "evolutionary" : "random") search, \(settings.iterations) iterations, population \(settings.populationSize), "
                + "parents \(settings.parentSize), mutation \(settings.mutationSize) (p \(settings.mutationProbability)), crossover \(settings.crossoverSize)")
        let job = SearchJob(
            directory: directory, setup: setup, constraints: constraints, space: inputs.space,
            assessor: assessor, fitness: fitness, log: log)
        let previousFront = (try? ParetoFront.read(job.paretoURL)) ?? []
        let started = Date()
        let outcomes = try job.run()
        if group.size > 1 { try distributed.finish() }
        let seconds = Date().timeIntervalSince(started)
        log(String(format: "search took %.1f s", seconds))
        var measured: [MeasuredLatencyCheck.Result] = []
        if measureWinners {
            log(
                "measuring the found SubTransformers on this machine (HAT's method, \(measureIterations) runs, \(measureThreads) threads; \(BLAS.kernelDescription))"
            )
            measured = try BLAS.withComputeThreads(measureThreads) {
                try MeasuredLatencyCheck.run(
                    paretoURL: job.paretoURL, previous: previousFront, model: { config in quantizedIfAsked(inputs.model, config) },
                    measurer: LatencyMeasurer(length: length, beam: beam, warmup: 5, iterations: measureIterations),
                    log: log)
            }
        }
        return Result(
            outcomes: outcomes, front: try ParetoFront.read(job.paretoURL), measured: measured, seconds: seconds,
            paretoURL: job.paretoURL)
    }

    /// The supernet itself, or (with `weightBits`) a new model holding `config`'s corners of its
    /// weights quantized, as `hat quantize` would write them (one Lloyd iteration: the speed does
    /// not depend on the centroids).
    private func quantizedIfAsked(_ supernet: SuperTransformer, _ config: SubTransformerConfig) -> SuperTransformer {
        guard let weightBits else { return supernet }
        var rng = RandomGenerator(seed: 0)
        let model = SuperTransformer(
            space: supernet.space, sourceVocabSize: supernet.sourceVocabSize, targetVocabSize: supernet.targetVocabSize, rates: .none,
            rng: &rng)
        let (parameters, _) = ModelQuantizer.quantize(supernet, config: config, settings: QuantizationSettings(bits: weightBits, maxIterations: 1))
        QuantizedCheckpoint.install(parameters, into: model)
        return model
    }
}
