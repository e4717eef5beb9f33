import Foundation
import TensorEngine
import Yams
import Latency

/// `PIPELINE.yml`: what `hat pipeline` runs, one section per stage (configs/pipeline_builtin.yml
/// is the annotated example). Paths are relative to the file's own folder. Training sections
/// take any key of HAT's training YAML (`max-update`, `lr`, ...) as overrides of the space file.
public struct PipelineConfig: Sendable {
    /// How the training stage trains the SubTransformer the search found.
    public enum TrainingMode: String, Sendable, CustomStringConvertible {
        /// From random weights, as HAT does.
        case scratch
        /// From the SuperTransformer's weights (its corner of every matrix).
        case finetune

        public var description: String { rawValue }
    }

    public enum DataSource: Sendable, Equatable {
        /// The built-in English → Synthetic task, generated from a seed.
        case builtin(seed: UInt64, train: Int, valid: Int, test: Int, vocabularySize: Int)
        /// Multi30k task 1 from a folder of raw files (../shared/data/multi30k).
        case multi30k(pair: String, rawDirectory: String, vocabularySize: Int)
        /// A dataset folder prepared earlier by `hat data`.
        case prepared(directory: String)
    }

    public var path: String
    public var space: String
    public var data: DataSource
    /// Overrides of the space file's training keys for the SuperTransformer.
    public var supernet: [String: String] = [:]
    /// A SuperTransformer trained earlier (`supernet: {checkpoint: PATH}`): the stage uses it instead of training.
    public var supernetCheckpoint: String?
    // latency
    public var latencySamples = 60
    public var latencyIterations = 10
    public var latencyWarmup = 2
    public var latencyLength = 30
    public var latencyBeam = 5
    public var latencySeed: UInt64 = 1
    /// One thread, unlike the commands' default (all cores): the thread count is part of the latency
    /// stage's fingerprint, so a new default would re-measure every finished pipeline's dataset and
    /// redo the stages after it. `latency: {threads: N}` sets it.
    public var latencyThreads = 1
    // predictor
    public var predictorKind = PredictorKind.ridge
    public var predictorSeed: UInt64 = 0
    // search
    /// Latency constraints as written: "12ms", or "40%": that share of the way from the smallest
    /// to the largest SubTransformer's predicted latency (resolved once the predictor exists).
    public var latencyConstraints: [String] = ["50%"]
    public var memoryConstraint: String?
    public var parametersConstraint: String?
    public var flopsConstraint: String?
    public var evolution: [String: Int] = [:]
    public var mutationProbability: Double?
    /// `repair-offspring: true`: shrink offspring that break a constraint (EvolutionSettings.repairOffspring).
    public var repairOffspring = false
    public var searchSeed: UInt64 = 1
    public var validSubset: Int?
    public var searchThreads = ParallelSettings.availableCores
    // train
    public var trainMode = TrainingMode.scratch
    public var train: [String: String] = [:]
    // test
    public var testSplit = "test"
    public var testBeam = 5
    /// Length penalties (fairseq's --lenpen). One is used as it is; with several
    /// (`lenpen: [0.6, 1.0, 1.5]`) the test stage translates the validation split with each and
    /// tests with the one of highest validation BLEU, so the test split never picks its own setting.
    public var testLengthPenalties = [0.6]
    public var testThreads = ParallelSettings.availableCores
    /// Average the weights of the training stage's last N epoch checkpoints before testing
    /// (HAT's IWSLT protocol averages 10; the PyTorch baseline in PERFORMANCE.md averages 3).
    /// 1 tests `checkpoint_best` as it is.
    public var testAverageLast = 1

    public static let sections: [String: Set<String>] = [
        "space": [], "data": ["source", "seed", "train", "valid", "test", "vocab-size", "pair", "raw", "directory"],
        "supernet": [],  // training keys, checked by TrainingConfig
        "latency": ["samples", "iterations", "warmup", "length", "beam", "seed", "threads"],
        "predictor": ["kind", "seed"],
        "search": ["latency-constraint", "memory-constraint", "params-constraint", "flops-constraint", "evo-iter", "population-size",
                   "parent-size", "mutation-size", "crossover-size", "mutation-prob", "repair-offspring", "seed", "valid-subset", "threads"],
        "train": [],  // `mode` plus training keys
        "test": ["split", "beam", "lenpen", "threads", "average-last"],
    ]

    public init(path: String) throws {
        self.path = URL(fileURLWithPath: path).standardizedFileURL.path
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw PipelineError.config(path: path, key: nil, "cannot read the pipeline file")
        }
        let root: Any?
        do { root = try Yams.load(yaml: text) } catch {
            throw PipelineError.config(path: path, key: nil, "is not valid YAML: \(error)")
        }
        guard let top = root as? [String: Any] else {
            throw PipelineError.config(path: path, key: nil, "must be a YAML mapping of sections (space, data, supernet, latency, predictor, search, train, test)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path }
        for key in top.keys where Self.sections[key] == nil {
            throw PipelineError.config(path: path, key: key, "is not a pipeline section; sections: \(Self.sections.keys.sorted().joined(separator: ", "))")
        }
        func section(_ name: String) throws -> [String: String] {
            guard let value = top[name] else { return [:] }
            guard let map = value as? [String: Any] else {
                throw PipelineError.config(path: path, key: name, "must be a mapping of keys to values")
            }
            if let allowed = Self.sections[name], !allowed.isEmpty {
                for key in map.keys where !allowed.contains(key) {
                    throw PipelineError.config(path: path, key: "\(name).\(key)", "is not a key of this section; keys: \(allowed.sorted().joined(separator: ", "))")
                }
            }
            return map.mapValues { v in
                if let list = v as? [Any] { return list.map { "\($0)" }.joined(separator: ",") }
                return "\(v)"
            }
        }
        func int(_ s: [String: String], _ section: String, _ key: String, _ fallback: Int, min: Int = 1) throws -> Int {
            guard let text = s[key] else { return fallback }
            guard let v = Int(text), v >= min else {
                throw PipelineError.config(path: path, key: "\(section).\(key)", "must be an integer ≥ \(min), not '\(text)'")
            }
            return v
        }
        guard let spaceText = top["space"] as? String else {
            throw PipelineError.config(path: path, key: "space", "is missing: the search space YAML (HAT format), e.g. builtin_tiny_space.yml")
        }
        space = resolve(spaceText)

        let d = try section("data")
        switch d["source"] ?? "builtin" {
        case "builtin":
            data = .builtin(seed: UInt64(try int(d, "data", "seed", 1, min: 0)), train: try int(d, "data", "train", 10_000),
                            valid: try int(d, "data", "valid", 500), test: try int(d, "data", "test", 500),
                            vocabularySize: try int(d, "data", "vocab-size", 1000, min: 16))
        case "multi30k":
            guard let raw = d["raw"] else {
                throw PipelineError.config(path: path, key: "data.raw", "is missing: the folder with Multi30k's raw files (train.en.gz, val.en.gz, ...)")
            }
            data = .multi30k(pair: d["pair"] ?? "en-de", rawDirectory: resolve(raw), vocabularySize: try int(d, "data", "vocab-size", 8000, min: 16))
        case "prepared":
            guard let dir = d["directory"] else {
                throw PipelineError.config(path: path, key: "data.directory", "is missing: a folder prepared by `hat data`")
            }
            data = .prepared(directory: resolve(dir))
        case let other:
            throw PipelineError.config(path: path, key: "data.source", "is '\(other)'; use builtin, multi30k or prepared")
        }
        supernet = try section("supernet")
        if let checkpoint = supernet.removeValue(forKey: "checkpoint") {
            guard supernet.isEmpty else {
                throw PipelineError.config(path: path, key: "supernet", "gives a checkpoint and training keys (\(supernet.keys.sorted().joined(separator: ", "))): "
                                           + "a trained checkpoint is used as it is; remove one or the other")
            }
            supernetCheckpoint = resolve(checkpoint)
        }

        let l = try section("latency")
        latencySamples = try int(l, "latency", "samples", latencySamples, min: 3)
        latencyIterations = try int(l, "latency", "iterations", latencyIterations)
        latencyWarmup = try int(l, "latency", "warmup", latencyWarmup, min: 0)
        latencyLength = try int(l, "latency", "length", latencyLength)
        latencyBeam = try int(l, "latency", "beam", latencyBeam)
        latencySeed = UInt64(try int(l, "latency", "seed", 1, min: 0))
        latencyThreads = try int(l, "latency", "threads", latencyThreads)

        let p = try section("predictor")
        if let text = p["kind"] {
            guard let kind = PredictorKind(rawValue: text) else {
                throw PipelineError.config(path: path, key: "predictor.kind",
                                           "is '\(text)'; use one of \(PredictorFile.trainableKinds.joined(separator: ", "))")
            }
            predictorKind = kind
        }
        predictorSeed = UInt64(try int(p, "predictor", "seed", 0, min: 0))

        let s = try section("search")
        if let c = s["latency-constraint"] {
            latencyConstraints = c.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        }
        memoryConstraint = s["memory-constraint"]
        parametersConstraint = s["params-constraint"]
        flopsConstraint = s["flops-constraint"]
        for key in ["evo-iter", "population-size", "parent-size", "mutation-size", "crossover-size"] where s[key] != nil {
            evolution[key] = try int(s, "search", key, 1)
        }
        if let text = s["mutation-prob"] {
            guard let v = Double(text), v >= 0, v <= 1 else {
                throw PipelineError.config(path: path, key: "search.mutation-prob", "must be a probability in [0, 1], not '\(text)'")
            }
            mutationProbability = v
        }
        if let text = s["repair-offspring"] {
            guard let v = Bool(text.lowercased()) else {
                throw PipelineError.config(path: path, key: "search.repair-offspring", "must be true or false, not '\(text)'")
            }
            repairOffspring = v
        }
        searchSeed = UInt64(try int(s, "search", "seed", 1, min: 0))
        validSubset = s["valid-subset"] == nil ? nil : try int(s, "search", "valid-subset", 1)
        searchThreads = try int(s, "search", "threads", searchThreads)

        var t = try section("train")
        if let text = t.removeValue(forKey: "mode") {
            guard let mode = TrainingMode(rawValue: text) else {
                throw PipelineError.config(path: path, key: "train.mode", "is '\(text)'; use scratch (HAT: train the found SubTransformer from scratch) or finetune (start from the supernet's weights)")
            }
            trainMode = mode
        }
        train = t

        let e = try section("test")
        testSplit = e["split"] ?? testSplit
        testBeam = try int(e, "test", "beam", testBeam)
        if let text = e["lenpen"] {
            let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            testLengthPenalties = try items.map { item in
                guard let v = Double(item), v.isFinite else {
                    throw PipelineError.config(path: path, key: "test.lenpen", "must be a number or a list of numbers (e.g. [0.6, 1.0, 1.5]), not '\(text)'")
                }
                return v
            }
            guard !testLengthPenalties.isEmpty else {
                throw PipelineError.config(path: path, key: "test.lenpen", "is an empty list; give a number or a list of numbers")
            }
        }
        testThreads = try int(e, "test", "threads", testThreads)
        testAverageLast = try int(e, "test", "average-last", testAverageLast)
    }
}
