import Datasets
import Foundation
import Model

/// What a search job's results depend on. A resumed job must have the same setup, or the
/// saved parents and cached losses would belong to another problem.
public struct SearchSetup: Codable, Equatable, Sendable {
    public var strategy: SearchStrategy
    public var settings: EvolutionSettings
    public var seed: UInt64
    public var space: SearchSpace
    /// The inputs of the fitness and the measures, as text: supernet, validation data and
    /// subset, predictor, sentence length, beam.
    public var inputs: [String: String]

    public init(strategy: SearchStrategy, settings: EvolutionSettings, seed: UInt64, space: SearchSpace, inputs: [String: String]) {
        self.strategy = strategy
        self.settings = settings
        self.seed = seed
        var s = space
        s.source = ""  // where the space was read from does not matter, only what it is
        self.space = s
        self.inputs = inputs
    }

    /// The fields that differ from `other`, for the error message.
    func differences(from other: SearchSetup) -> [String] {
        var out: [String] = []
        if strategy != other.strategy { out.append("strategy \(other.strategy.rawValue) → \(strategy.rawValue)") }
        if settings != other.settings { out.append("evolution settings") }
        if seed != other.seed { out.append("seed \(other.seed) → \(seed)") }
        if space != other.space { out.append("search space") }
        for key in Set(inputs.keys).union(other.inputs.keys).sorted() where inputs[key] != other.inputs[key] {
            out.append("\(key) \(other.inputs[key] ?? "none") → \(inputs[key] ?? "none")")
        }
        return out
    }
}

/// `search_state.json` in a search folder: the setup, each constraint's run state, and how
/// much of the history is committed. Rewritten atomically after every iteration.
struct SearchStateFile: Codable {
    static let fileName = "search_state.json"
    static let formatName = "hat-search-state"
    var format = formatName
    var version = 1
    var setup: SearchSetup
    /// Length of `history.jsonl` when this state was saved; a resumed job cuts the history back to it.
    var historyBytes: Int
    var runs: [SearchRunState]

    /// The state in `url`; nil only when there is no such file ("cannot read" is an error, never a fresh start).
    static func read(_ url: URL) throws -> SearchStateFile? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw SearchError.badState(
                path: url.path,
                reason: "cannot be read (\(error.localizedDescription)); check its permissions. "
                    + "The search's history is kept as it is")
        }
        let file: SearchStateFile
        do {
            file = try SearchJSON.decoder().decode(SearchStateFile.self, from: data)
        } catch {
            throw SearchError.badState(path: url.path, reason: "not a readable search state (\(error)); delete the folder to start over")
        }
        guard file.format == formatName, file.version == 1 else {
            throw SearchError.badState(path: url.path, reason: "format \(file.format) version \(file.version) is not \(formatName) version 1")
        }
        return file
    }

    func write(to url: URL) throws { try AtomicFile.write(try SearchJSON.encoder(pretty: true).encode(self), to: url) }

    func run(for constraints: SearchConstraints, strategy: SearchStrategy) -> SearchRunState? {
        runs.first { $0.constraints == constraints && $0.strategy == strategy }
    }

    mutating func store(_ state: SearchRunState) {
        if let i = runs.firstIndex(where: { $0.constraints == state.constraints && $0.strategy == state.strategy }) {
            runs[i] = state
        } else {
            runs.append(state)
        }
    }
}
