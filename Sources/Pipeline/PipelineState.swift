import Datasets
import Foundation

/// `pipeline.json`: which stages have finished, with the fingerprint of the settings they ran
/// with, and which have started. A finished stage whose fingerprint still matches is skipped; one
/// whose settings changed is refused (its outputs are never overwritten silently), and so is an
/// interrupted one (its partial output would be resumed under other settings). Written
/// atomically when a stage starts and when it finishes.
public struct PipelineState: Codable, Sendable {
    public struct StageRecord: Codable, Sendable {
        /// SHA-256 of the stage's settings and the fingerprint of the stage before it.
        public var fingerprint: String
        public var finished: String
        public var seconds: Double
        /// What the stage produced, for the report and the summary (paths, numbers).
        public var summary: [String: String]
        /// The pipeline file the stage ran with (nil in files written before it was recorded):
        /// stages of one folder can come from different files, e.g. after `--rerun train`.
        public var config: String?
    }

    public var version = 1
    /// The pipeline file of the latest run in this folder.
    public var config: String
    public var stages: [String: StageRecord] = [:]
    /// The fingerprints of stages that have started and not finished (nil in files written before
    /// it was recorded): an interrupted stage resumes only with the settings it started with.
    public var started: [String: String]?

    public static let fileName = "pipeline.json"

    public init(config: String) { self.config = config }

    public static func read(_ url: URL) throws -> PipelineState? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        guard let bytes = FileManager.default.contents(atPath: url.path),
            let state = try? JSONDecoder().decode(PipelineState.self, from: bytes)
        else {
            throw PipelineError.stage("state", "\(url.path) is not a pipeline state file written by hat pipeline; move it away to start over")
        }
        return state
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: url)
    }

    public static func fingerprint(_ parts: [String]) -> String {
        SHA256.hex(Array(parts.joined(separator: "\u{1F}").utf8))
    }
}
