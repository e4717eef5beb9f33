import Datasets
import Foundation
import Model
import TestSupport
import Testing

@testable import Search

@Suite("Search jobs: files, resume, Pareto fronts")
struct SearchJobTests {
    struct Crash: Error {}

    static let space = Fixtures.tinySpace
    static let latencies = [0.35, 0.6, 0.9].map { Fixtures.latencyQuantile(space, $0) }
    static var constraints: [SearchConstraints] { latencies.map { SearchConstraints(latencyMs: $0) } }

    static func setup(seed: UInt64 = 5, strategy: SearchStrategy = .evolution) -> SearchSetup {
        SearchSetup(
            strategy: strategy, settings: Fixtures.smallSettings, seed: seed, space: space,
            inputs: ["fitness": "synthetic", "predictor": "synthetic"])
    }

    /// A job whose fitness counts its evaluations and can crash after `crashAfter` of them.
    static func job(
        _ dir: URL, constraints: [SearchConstraints] = constraints, setup: SearchSetup = setup(),
        counter: Counter = Counter(), crashAfter: Int? = nil
    ) -> SearchJob {
        let f = Fixtures.syntheticFitness(space)
        let cache = FitnessCache { config in
            if let crashAfter, counter.count >= crashAfter { throw Crash() }
            counter.count += 1
            return f(config)
        }
        return SearchJob(
            directory: dir, setup: setup, constraints: constraints, space: space,
            assessor: Fixtures.assessor(space), fitness: cache, log: { _ in })
    }

    final class Counter { var count = 0 }

    static func candidates(_ dir: URL) throws -> [CandidateRecord] {
        try SearchHistory.read(dir.appendingPathComponent(SearchHistory.fileName)).compactMap {
            if case .candidate(let c) = $0 { return c.reproducible } else { return nil }
        }
    }

    @Test("a job writes one HAT YAML per constraint, pareto.json, the history and the state")
    func files() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let outcomes = try Self.job(dir).run()
        #expect(outcomes.count == 3)
        for (c, o) in zip(Self.constraints, outcomes) {
            let url = dir.appendingPathComponent(SearchJob.subTransformerFileName(c))
            #expect(url.lastPathComponent == "subtransformer@\(c.label).yml")
            let read = try SubTransformerConfig(contentsOf: url.path)
            #expect(read == o.config)
            #expect(c.admits(o.measures))
        }
        let front = try ParetoFront.read(dir.appendingPathComponent("pareto.json"))
        #expect(front.count == 3)
        #expect(front.map(\.predictedLatencyMs) == front.map(\.predictedLatencyMs).sorted())
        #expect(Set(front.map(\.config)) == Set(outcomes.map(\.config)))
        #expect(front.allSatisfy { $0.measuredLatencyMs == nil })
        // Looser constraints reach at least as low a loss here (the synthetic fitness rewards size).
        let history = try SearchHistory.read(dir.appendingPathComponent("history.jsonl"))
        let iterations = history.compactMap { if case .iteration(let r) = $0 { return r } else { return nil } }
        #expect(iterations.count == 3 * Fixtures.smallSettings.iterations)
        // Every line is one JSON object with the documented keys.
        let firstLine = try String(contentsOf: dir.appendingPathComponent("history.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let object = try JSONSerialization.jsonObject(with: Data(firstLine.utf8)) as! [String: Any]
        for key in [
            "type", "iteration", "constraint", "gene", "config", "predicted_latency_ms", "params", "flops", "model_size_mb",
            "peak_memory_mb", "admitted",
        ] {
            #expect(object[key] != nil, "history record lacks \(key)")
        }
    }

    @Test("constraints of one job share the cache: a SubTransformer is evaluated once in all")
    func sharedCache() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let counter = Counter()
        try Self.job(dir, counter: counter).run()
        let all = try Self.candidates(dir).filter(\.admitted)
        #expect(counter.count == Set(all.map(\.config)).count)
        let perRun = Dictionary(grouping: all, by: \.constraint).mapValues { Set($0.map(\.config)).count }
        #expect(counter.count < perRun.values.reduce(0, +), "runs should meet some of the same SubTransformers")
    }

    @Test("a job killed mid-iteration resumes after its last iteration, re-evaluates nothing, and ends as the straight job")
    func resumeAfterCrash() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let straightDir = root.appendingPathComponent("straight"), crashDir = root.appendingPathComponent("crash")
        let straightCounter = Counter()
        let expected = try Self.job(straightDir, counter: straightCounter).run()
        let total = straightCounter.count

        // Crash at several points: inside the first run, between runs, inside the last run.
        for crashAfter in [7, total / 3, total / 2, total - 3] {
            try? FileManager.default.removeItem(at: crashDir)
            let first = Counter()
            #expect(throws: Crash.self) { try Self.job(crashDir, counter: first, crashAfter: crashAfter).run() }
            #expect(first.count == crashAfter)
            let second = Counter()
            let resumed = try Self.job(crashDir, counter: second).run()
            #expect(resumed.map(\.config) == expected.map(\.config))
            #expect(resumed.map(\.fitness) == expected.map(\.fitness))
            #expect(resumed.map(\.state) == expected.map(\.state))
            // Losses computed before the crash were kept: only the rest was evaluated.
            #expect(first.count + second.count == total, "crash after \(crashAfter): \(first.count) + \(second.count) vs \(total)")
            #expect(try Self.candidates(crashDir) == Self.candidates(straightDir))
            for name in ["pareto.json"] + Self.constraints.map(SearchJob.subTransformerFileName) {
                #expect(
                    FileManager.default.contents(atPath: crashDir.appendingPathComponent(name).path)
                        == FileManager.default.contents(atPath: straightDir.appendingPathComponent(name).path), "\(name)")
            }
        }
    }

    @Test("a finished job run again does nothing; an added constraint reuses the cache; another setup is refused")
    func rerun() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try Self.job(dir, constraints: [Self.constraints[0]]).run()
        let again = Counter()
        let second = try Self.job(dir, constraints: [Self.constraints[0]], counter: again).run()
        #expect(again.count == 0 && second.map(\.config) == first.map(\.config))

        // Adding constraints: the first run is reused as is, the others run; alone or together, same answers.
        let added = Counter()
        let both = try Self.job(dir, counter: added).run()
        #expect(both[0].config == first[0].config)
        let aloneDir = dir.appendingPathComponent("alone")
        let alone = try Self.job(aloneDir, constraints: [Self.constraints[2]]).run()
        #expect(both[2].config == alone[0].config && both[2].fitness == alone[0].fitness)

        #expect {
            try Self.job(dir, setup: Self.setup(seed: 6)).run()
        } throws: { error in
            "\(error)".contains("seed 5 → 6") && "\(error)".contains("use another output folder")
        }
        var other = Self.setup()
        other.inputs["fitness"] = "another supernet"
        #expect(throws: SearchError.self) { try Self.job(dir, setup: other).run() }
    }

    @Test("one search per folder at a time; a cut history is reported, not extended")
    func folderSafety() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let held = try OutputLock(folder: dir, job: "search")
        #expect { try Self.job(dir).run() } throws: { "\($0)".contains("another hat search is running on it") }
        held.release()
        try Self.job(dir, constraints: [Self.constraints[0]]).run()
        let history = dir.appendingPathComponent(SearchHistory.fileName)
        try Data().write(to: history)
        #expect { try Self.job(dir, constraints: [Self.constraints[0]]).run() } throws: { "\($0)".contains("it was cut or replaced") }
    }

    @Test("a history whose state file is gone or unreadable is never truncated: the search stops and says why")
    func missingStateKeepsHistory() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Self.job(dir, constraints: [Self.constraints[0]]).run()
        let history = dir.appendingPathComponent(SearchHistory.fileName), state = dir.appendingPathComponent(SearchStateFile.fileName)
        let recorded = try Data(contentsOf: history)
        #expect(!recorded.isEmpty)
        // Unreadable: a folder where the state file should be reads as "cannot be read", not as no search.
        try FileManager.default.moveItem(at: state, to: dir.appendingPathComponent("state.aside"))
        try FileManager.default.createDirectory(at: state, withIntermediateDirectories: false)
        #expect { try Self.job(dir, constraints: [Self.constraints[0]]).run() } throws: { "\($0)".contains("cannot be read") }
        #expect(try Data(contentsOf: history) == recorded)
        // Gone: the history stays byte for byte and the error says how to start anew.
        try FileManager.default.removeItem(at: state)
        #expect { try Self.job(dir, constraints: [Self.constraints[0]]).run() } throws: {
            "\($0)".contains("no \(SearchStateFile.fileName)") && "\($0)".contains("Nothing was changed")
        }
        #expect(try Data(contentsOf: history) == recorded)
        #expect(!FileManager.default.fileExists(atPath: state.path))
    }

    @Test("HAT's evolution config file is read: settings, latency in ms, write-config-path")
    func evolutionConfigFile() throws {
        let path = sharedDataDirectory.appendingPathComponent("hat-configs/wmt14.en-de__wmt14ende_raspberrypi.yml").path
        let evo = try EvolutionConfigFile(contentsOf: path)
        #expect(evo.settings == EvolutionSettings())  // HAT's file holds HAT's defaults
        #expect(evo.latencyConstraint == "6000")
        #expect(try SearchConstraints.parse(latency: evo.latencyConstraint).latencyMs == 6000)
        #expect(evo.writeConfigPath == "configs/wmt14.en-de/subtransformer/wmt14ende_raspberrypi@6s.yml")
        let custom = try EvolutionConfigFile(
            file: HATConfigFile(
                text: """
                    evo-iter: 3
                    population-size: 12
                    parent-size: 4
                    mutation-size: 4
                    crossover-size: 4
                    mutation-prob: 0.5
                    latency-constraint: [100, 150]
                    memory-constraint: 64MB
                    valid-cnt-max: 500
                    """, path: "custom.yml"))
        #expect(custom.settings.iterations == 3 && custom.settings.populationSize == 12 && custom.settings.mutationProbability == 0.5)
        #expect(
            try SearchConstraints.list(latencies: custom.latencyConstraint, memory: custom.memoryConstraint).map(\.label)
                == ["100ms_64MB", "150ms_64MB"])
        #expect(custom.validSubset == 500 && evo.validSubset == nil)
        #expect { try EvolutionConfigFile(file: HATConfigFile(text: "valid-cnt-max: 0\n", path: "bad.yml")) } throws: {
            "\($0)".contains("bad.yml") && "\($0)".contains("valid-cnt-max")
        }
    }
}
