import Datasets
import Foundation
import Model

/// A whole `hat search`: one search per constraint set, sharing one fitness cache, in one
/// folder that makes it resumable (docs/ARCHITECTURE.md, "Search files"):
///
/// - `history.jsonl`: every candidate of every iteration of every run, and a summary per iteration;
/// - `search_state.json`: the setup and each run's state, rewritten atomically after every iteration;
/// - `subtransformer@LABEL.yml`: the best SubTransformer per constraint, HAT format;
/// - `pareto.json`: those bests as a latency/loss front.
///
/// Running the same job again continues where it stopped: finished runs are not repeated,
/// an interrupted run continues after its last finished iteration, and no candidate whose
/// loss is in the history is evaluated again. Constraints may be added between runs.
public final class SearchJob {
    public let directory: URL
    public let setup: SearchSetup
    public let constraints: [SearchConstraints]
    public let space: SearchSpace
    public let assessor: CandidateAssessor
    public let fitness: FitnessCache
    public var log: (String) -> Void

    public init(
        directory: URL, setup: SearchSetup, constraints: [SearchConstraints], space: SearchSpace,
        assessor: CandidateAssessor, fitness: FitnessCache, log: @escaping (String) -> Void = { print($0) }
    ) {
        self.directory = directory
        self.setup = setup
        self.constraints = constraints
        self.space = space
        self.assessor = assessor
        self.fitness = fitness
        self.log = log
    }

    public var historyURL: URL { directory.appendingPathComponent(SearchHistory.fileName) }
    public var stateURL: URL { directory.appendingPathComponent(SearchStateFile.fileName) }
    public var paretoURL: URL { directory.appendingPathComponent(ParetoFront.fileName) }
    public func subTransformerURL(_ c: SearchConstraints) -> URL { directory.appendingPathComponent(Self.subTransformerFileName(c)) }
    public static func subTransformerFileName(_ c: SearchConstraints) -> String { "subtransformer@\(c.label).yml" }

    /// Each run's seed comes from the job's seed and its constraints, not from its position in
    /// the list, so a constraint searched alone or beside others gives the same result.
    public static func runSeed(_ seed: UInt64, _ c: SearchConstraints) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325  // FNV-1a
        for byte in c.description.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01B3 }
        return seed ^ hash
    }

    /// Runs (or resumes) every constraint's search, writes the result files, returns the outcomes in constraint order.
    @discardableResult
    public func run() throws -> [SearchOutcome] {
        try setup.settings.validate()
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw SearchError.io(path: directory.path, reason: "cannot create the search folder: \(error.localizedDescription)")
        }
        let lock = try OutputLock(folder: directory, job: "search")
        defer { lock.release() }
        TemporaryFiles.removeLeftovers(in: directory)  // of a run killed while writing its state
        var state = try openState()
        let recorder = try HistoryRecorder(job: self, state: state)
        var outcomes: [SearchOutcome] = []
        for c in constraints {
            let problem = SearchProblem(space: space, constraints: c, assessor: assessor, fitness: fitness)
            let saved = state.run(for: c, strategy: setup.strategy)
            if let saved, saved.completedIterations >= setup.settings.iterations {
                log("[\(c.label)] finished earlier")
            } else if let saved {
                log("[\(c.label)] resuming \(setup.strategy.rawValue) search after iteration \(saved.completedIterations) of \(setup.settings.iterations)")
            } else {
                log("[\(c.label)] \(setup.strategy.rawValue) search, \(c), seed \(Self.runSeed(setup.seed, c)) (job seed \(setup.seed))")
            }
            let search = PopulationSearch(strategy: setup.strategy, settings: setup.settings)
            let outcome = try search.run(problem, seed: Self.runSeed(setup.seed, c), resuming: saved, observer: recorder)
            state = recorder.state
            outcomes.append(outcome)
            try AtomicFile.write(outcome.hatYAML(strategy: setup.strategy, seed: setup.seed), to: subTransformerURL(c))
            log(
                String(
                    format: "[%@] best: loss %.4f, predicted latency %.2f ms, %@ params → %@", c.label, outcome.fitness.loss,
                    outcome.measures.predictedLatencyMs, SearchConstraints.formatCount(Double(outcome.measures.parameters)),
                    subTransformerURL(c).path))
        }
        try ParetoFront.write(ParetoFront.points(outcomes, fileName: Self.subTransformerFileName), to: paretoURL)
        log("\(fitness.evaluations) fitness evaluations in this run, \(fitness.count) SubTransformers scored in all; front in \(paretoURL.path)")
        return outcomes
    }

    /// The saved state if this folder holds the same search, a fresh one if it holds none;
    /// the fitness cache is refilled from the whole history, including an interrupted iteration.
    private func openState() throws -> SearchStateFile {
        guard let saved = try SearchStateFile.read(stateURL) else {
            // A history without its state cannot be resumed safely, and starting over would truncate it.
            let historySize = (try? FileManager.default.attributesOfItem(atPath: historyURL.path)[.size] as? Int) ?? 0
            if historySize > 0 {
                throw SearchError.badState(
                    path: directory.path,
                    reason: "holds \(SearchHistory.fileName) (\(historySize) bytes) but no "
                        + "\(SearchStateFile.fileName): the search cannot resume without its state, and a new one would overwrite the "
                        + "history. Nothing was changed; move the history away (or use another --out) to start a new search")
            }
            let fresh = SearchStateFile(setup: setup, historyBytes: 0, runs: [])
            try fresh.write(to: stateURL)
            return fresh
        }
        let differences = setup.differences(from: saved.setup)
        guard differences.isEmpty else {
            throw SearchError.badState(
                path: directory.path,
                reason: "holds a search with another setup ("
                    + differences.joined(separator: "; ") + "); use another output folder, or delete this one to start over")
        }
        var restored = 0
        for case .candidate(let record) in try SearchHistory.read(historyURL, committedBytes: saved.historyBytes) {
            if let f = record.fitness, fitness[record.config] == nil {
                fitness.insert(f, for: record.config)
                restored += 1
            }
        }
        log("resuming the search in \(directory.path): \(restored) losses restored from the history")
        return saved
    }
}

/// The job's observer: appends each record to the history as it comes, and after each
/// iteration commits the history and saves the state that points at its end.
final class HistoryRecorder: SearchObserver {
    private let writer: SearchHistoryWriter
    private let stateURL: URL
    private let log: (String) -> Void
    private let iterations: Int
    private(set) var state: SearchStateFile

    init(job: SearchJob, state: SearchStateFile) throws {
        writer = try SearchHistoryWriter(url: job.historyURL, truncatingTo: state.historyBytes)
        stateURL = job.stateURL
        log = job.log
        iterations = job.setup.settings.iterations
        self.state = state
    }

    func record(_ candidate: CandidateRecord) throws { try writer.append(candidate) }

    func iterationFinished(_ summary: IterationRecord, state run: SearchRunState) throws {
        try writer.append(summary)
        state.historyBytes = try writer.commit()
        state.store(run)
        try state.write(to: stateURL)
        log(
            String(
                format: "[%@] iteration %d/%d: best loss %.4f (predicted %.2f ms); %d evaluated, %d cached, %d rejected; %.1f s",
                summary.constraint, summary.iteration + 1, iterations, summary.bestLoss, summary.bestPredictedLatencyMs,
                summary.evaluations, summary.cacheHits, summary.rejected, summary.seconds))
    }
}

extension SearchOutcome {
    /// The best SubTransformer as a HAT YAML file, with what was searched and found in its header.
    public func hatYAML(strategy: SearchStrategy, seed: UInt64) -> String {
        let comment = """
            Found by `hat search` (\(strategy == .evolution ? "evolutionary" : "random") search, seed \(seed)) for \(constraints)
            supernet validation loss \(String(format: "%.4f", fitness.loss)) (nll \(String(format: "%.4f", fitness.nllLoss)), base 2 per token)
            predicted latency \(String(format: "%.2f", measures.predictedLatencyMs)) ms; #params \(SearchConstraints.formatCount(Double(measures.parameters))); FLOPs \(SearchConstraints.formatCount(Double(measures.flops))); model \(String(format: "%.2f", measures.modelSizeMB)) MB; peak inference memory \(String(format: "%.2f", measures.peakMemoryMB)) MB
            """
        return config.hatYAML(comment: comment)
    }
}
