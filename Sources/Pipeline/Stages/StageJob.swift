import Foundation
import Model
import TensorEngine
import Train

/// One stage of `hat pipeline`: what its result depends on, how many threads it computes on,
/// whether a finished run's output is still there, and the work itself. PipelineRunner does the
/// bookkeeping around it (fingerprints, skipping, resuming, pipeline.json).
protocol StageJob {
    /// The settings the stage's result depends on, part of its fingerprint (the runner chains
    /// each stage's fingerprint to the one before it).
    var settings: [String] { get }
    /// The threads it computes on: its section's `threads` key where it has one, else the process's.
    var threads: Int { get }
    /// Whether the output a finished run left is still there and readable.
    func outputIsValid() -> Bool
    /// Does the work; returns the summary recorded in pipeline.json and logged.
    func run() throws -> [String: String]
}

extension StageJob {
    var threads: Int { ParallelSettings.threads }
}

/// What every stage gets: the config and folder, the search space, and where to report.
struct StageContext {
    let folder: PipelineFolder
    let space: SearchSpace
    let log: (String) -> Void
    /// Training's progress lines on standard error instead of standard output (`--json`).
    let progressToStandardError: Bool

    var config: PipelineConfig { folder.config }
    /// The space file's text: every stage that depends on the space has it in its fingerprint.
    var spaceText: String { (try? String(contentsOfFile: config.space, encoding: .utf8)) ?? config.space }

    /// `key=value` pairs in key order, for fingerprints.
    static func sorted(_ d: [String: String]) -> String { d.keys.sorted().map { "\($0)=\(d[$0]!)" }.joined(separator: ";") }
}

extension StageContext {
    /// The space file's training keys with a section's overrides (`supernet:` or `train:`).
    func trainingConfig(_ overrides: [String: String], section: String) throws -> TrainingConfig {
        do {
            return try TrainingConfig(file: HATConfigFile(path: config.space), overrides: overrides)
        } catch {
            throw PipelineError.config(path: config.path, key: section, "\(error)")
        }
    }
}
