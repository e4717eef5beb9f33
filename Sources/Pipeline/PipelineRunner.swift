import Datasets
import Export
import Foundation
import Generate
import Latency
import Model
import Search
import TensorEngine
import Train

/// `hat pipeline`: data → SuperTransformer → latency dataset → predictor → search →
/// SubTransformer training → test BLEU, in one folder. Each stage is skipped when it finished
/// earlier with the same settings; an interrupted stage resumes (training from its newest
/// checkpoint, the latency CSV after its last row, the search after its last iteration).
public final class PipelineRunner {
    public let config: PipelineConfig
    public let out: URL
    /// Where each stage reads and writes.
    public let folder: PipelineFolder
    public var stopAfter: PipelineStage?
    /// Run this stage and every later one again even though they finished (`--rerun`): their
    /// folders are moved aside to `FOLDER.replaced-TIME` (nothing is deleted) and their records dropped.
    public var rerunFrom: PipelineStage?
    public var log: (String) -> Void
    /// Training's progress lines on standard error instead of standard output (`--json`).
    public var progressToStandardError = false

    private var state: PipelineState
    private var previousFingerprint = ""

    public init(
        config: PipelineConfig, out: URL, stopAfter: PipelineStage? = nil,
        log: @escaping (String) -> Void = {
            print($0)
            fflush(nil)
        }
    ) throws {
        self.config = config
        self.out = out
        folder = PipelineFolder(config: config, out: out)
        self.stopAfter = stopAfter
        self.log = log
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        state = try PipelineState.read(out.appendingPathComponent(PipelineState.fileName)) ?? PipelineState(config: config.path)
        state.config = config.path
    }

    public func url(_ stage: PipelineStage) -> URL { folder.url(stage) }
    public var resultsURL: URL { folder.resultsURL }

    /// Runs every stage up to `stopAfter`; returns the results of the test stage when it ran.
    @discardableResult
    public func run() throws -> PipelineResults? {
        let space = try SearchSpace(contentsOf: config.space)
        let lock = try OutputLock(folder: out, job: "pipeline")
        defer { lock.release() }
        if let first = rerunFrom { try discardStages(from: first) }
        for stage in PipelineStage.allCases {
            try runStage(stage, space: space)
            if stage == stopAfter {
                log("stopped after stage \(stage.rawValue) (--stop-after)")
                return nil
            }
        }
        return try PipelineResults.read(resultsURL)
    }

    // MARK: Stage bookkeeping

    /// Forgets `first` and the stages after it: a later stage's fingerprint depends only on
    /// settings, so after a search runs again the training must too, or it would keep the old pick.
    private func discardStages(from first: PipelineStage) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let stamp = formatter.string(from: Date())
        let later = PipelineStage.allCases.drop { $0 != first }
        for stage in later {
            let stageFolder = url(stage)
            if FileManager.default.fileExists(atPath: stageFolder.path) {
                let aside = out.appendingPathComponent("\(stage.folder).replaced-\(stamp)")
                try FileManager.default.moveItem(at: stageFolder, to: aside)
                log("== \(stage.rawValue): --rerun, its earlier output moved to \(aside.lastPathComponent)")
            }
            state.stages[stage.rawValue] = nil
            state.started?[stage.rawValue] = nil
        }
        if later.contains(.test), FileManager.default.fileExists(atPath: resultsURL.path) {
            try FileManager.default.moveItem(at: resultsURL, to: out.appendingPathComponent("results.replaced-\(stamp).json"))
        }
        try state.write(to: folder.stateURL)
    }

    private func runStage(_ stage: PipelineStage, space: SearchSpace) throws {
        let job = job(stage, space: space)
        let fingerprint = PipelineState.fingerprint([previousFingerprint, stage.rawValue] + job.settings)
        previousFingerprint = fingerprint
        if let done = state.stages[stage.rawValue] {
            guard done.fingerprint == fingerprint else {
                throw PipelineError.changed(
                    stage: stage.rawValue, path: url(stage).path,
                    what: "the \(stage.rawValue) settings or an earlier stage's differ from the run recorded in \(PipelineState.fileName)")
            }
            if job.outputIsValid() {
                log("== \(stage.rawValue): finished earlier, skipped (\(describe(done.summary)))")
                return
            }
            log("== \(stage.rawValue): recorded as finished but its output is missing or invalid; running it again")
        } else if let begun = state.started?[stage.rawValue] {
            guard begun == fingerprint else { throw PipelineError.changedMidway(stage: stage.rawValue, path: url(stage).path) }
            log("== \(stage.rawValue): resuming")
        } else {
            log("== \(stage.rawValue)")
        }
        // Recorded before any work, so an interrupted stage is resumed only with these settings.
        state.started = (state.started ?? [:]).merging([stage.rawValue: fingerprint]) { $1 }
        try state.write(to: folder.stateURL)
        let started = Date()
        // Each stage runs on its own thread count (the config's, or the process's), so no
        // stage inherits the one before it.
        let summary = try BLAS.withComputeThreads(job.threads) { try job.run() }
        let seconds = Date().timeIntervalSince(started)
        state.stages[stage.rawValue] = .init(
            fingerprint: fingerprint, finished: ISO8601DateFormatter().string(from: Date()),
            seconds: seconds, summary: summary, config: config.path)
        state.started?[stage.rawValue] = nil
        try state.write(to: folder.stateURL)
        log(String(format: "== %@ done in %.1f s: %@", stage.rawValue, seconds, describe(summary)))
    }

    private func describe(_ summary: [String: String]) -> String {
        summary.keys.sorted().map { "\($0) \(summary[$0]!)" }.joined(separator: ", ")
    }

    /// The job that runs `stage`, each in its own file under Stages/.
    private func job(_ stage: PipelineStage, space: SearchSpace) -> any StageJob {
        let context = StageContext(folder: folder, space: space, log: log, progressToStandardError: progressToStandardError)
        switch stage {
        case .data: return DataStage(context: context)
        case .supernet: return SupernetStage(context: context)
        case .latency: return LatencyStage(context: context)
        case .predictor: return PredictorStage(context: context)
        case .search: return SearchStage(context: context)
        case .train: return TrainStage(context: context)
        case .test: return TestStage(context: context, chosenConstraint: state.stages[PipelineStage.search.rawValue]?.summary["constraint"])
        }
    }
}
