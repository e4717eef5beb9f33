import Foundation
import Latency
import Model
import Search
import TensorEngine
import Yams

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
    /// HAT's evolution keys (EvolutionSettings.keyTable; `repair-offspring: true` shrinks offspring
    /// that break a constraint), and which of them the file gives.
    public var evolution = EvolutionSettings()
    public var evolutionKeysGiven: Set<String> = []
    public var searchSeed: UInt64 = 1
    public var validSubset: Int?
    public var searchThreads = ParallelSettings.availableCores
    // train
    public var trainMode = TrainingMode.scratch
    public var train: [String: String] = [:]
    /// `train: {distill-from: supernet}`: the supernet's largest SubTransformer teaches.
    public static let supernetTeacher = "supernet"
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
    /// Also test the model K-means-quantized at each of these bit widths (`hat quantize`; HAT §4):
    /// the quantized files beside the tested checkpoint, their BLEU and size in results.json.
    public var testQuantizeBits: [Int] = []

    /// The keys of each section (`supernet` and `train` take training keys, checked by TrainingConfig).
    public static var sections: [String: Set<String>] {
        var sections = ["space": Set<String>(), "data": DataKeys.table.names(), "supernet": [], "train": []]
        for (name, table) in sectionTables { sections[name] = table.names() }
        return sections
    }

    /// The sections whose keys set fields of this type directly, in the order they are read.
    static var sectionTables: [(name: String, table: [ConfigKey<PipelineConfig>])] {
        [
            (
                "latency",
                [
                    .integer("samples", \.latencySamples, min: 3, help: "SubTransformers measured (60)"),
                    .integer("iterations", \.latencyIterations, help: "timed runs per SubTransformer (10)"),
                    .integer("warmup", \.latencyWarmup, min: 0, help: "untimed runs first (2)"),
                    .integer("length", \.latencyLength, help: "source and target tokens (30)"),
                    .integer("beam", \.latencyBeam, help: "beam size (5)"),
                    .seed("seed", \.latencySeed, help: "which SubTransformers are sampled (1)"),
                    .integer("threads", \.latencyThreads, help: "compute threads while measuring (1)"),
                ]
            ),
            (
                "predictor",
                [
                    .choice("kind", \.predictorKind, help: "ridge, cost-model, hat-mlp or ensemble (ridge)"),
                    .seed("seed", \.predictorSeed, help: "data split and MLP initialization (0)"),
                ]
            ),
            (
                "search",
                [
                    ConfigKey("latency-constraint", help: "milliseconds (\"12ms\") or a share of the predicted range (\"50%\"); a list for several") {
                        config, text in
                        config.latencyConstraints = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                    },
                    .text("memory-constraint", \.memoryConstraint, help: "peak memory, e.g. 300MB"),
                    .text("params-constraint", \.parametersConstraint, help: "parameters, e.g. 10M"),
                    .text("flops-constraint", \.flopsConstraint, help: "FLOPs, e.g. 2G"),
                ] + EvolutionSettings.keyTable.map { $0.lifted(into: \.evolution) } + [
                    .seed("seed", \.searchSeed, help: "the search's random choices (1)"),
                    .integer("valid-subset", \.validSubset, help: "validation sentences the fitness is scored on (all)"),
                    .integer("threads", \.searchThreads, help: "compute threads (the cores available)"),
                ]
            ),
            (
                "test",
                [
                    ConfigKey("split", help: "the split translated and scored (test)") { config, text in config.testSplit = text },
                    .integer("beam", \.testBeam, help: "beam size (5)"),
                    ConfigKey("lenpen", help: "length penalty, or a list chosen on the validation split (0.6)") { config, text in
                        config.testLengthPenalties = try text.split(separator: ",").map { item in
                            guard let v = Double(item.trimmingCharacters(in: .whitespaces)), v.isFinite else {
                                throw ConfigKeyProblem("must be a number or a list of numbers (e.g. [0.6, 1.0, 1.5]), not '\(text)'")
                            }
                            return v
                        }
                        guard !config.testLengthPenalties.isEmpty else { throw ConfigKeyProblem("is an empty list; give a number or a list of numbers") }
                    },
                    .integer("threads", \.testThreads, help: "compute threads (the cores available)"),
                    .integer("average-last", \.testAverageLast, help: "average the last N epoch checkpoints before testing (1: checkpoint_best)"),
                    ConfigKey("quantize-bits", help: "also test the model K-means-quantized to these bits per weight, e.g. [8, 4] (none)") {
                        config, text in
                        config.testQuantizeBits = try text.split(separator: ",").map { item in
                            guard let v = Int(item.trimmingCharacters(in: .whitespaces)), (1...8).contains(v) else {
                                throw ConfigKeyProblem("must be bit widths from 1 to 8 (e.g. [8, 4]), not '\(text)'")
                            }
                            return v
                        }
                    },
                ]
            ),
        ]
    }

    /// The `data:` section: where the pairs come from, and that source's keys.
    struct DataKeys {
        enum Source: String, CaseIterable { case builtin, multi30k, prepared }
        var source = Source.builtin
        var seed: UInt64 = 1
        var train = 10_000, valid = 500, test = 500
        var vocabularySize: Int?
        var pair: String?
        var raw: String?
        var directory: String?

        static var table: [ConfigKey<DataKeys>] {
            [
                .choice("source", \.source, help: "builtin (the synthetic task), multi30k or prepared"),
                .seed("seed", \.seed, help: "builtin: the corpus's seed (1)"),
                .integer("train", \.train, help: "builtin: training pairs (10000)"),
                .integer("valid", \.valid, help: "builtin: validation pairs (500)"),
                .integer("test", \.test, help: "builtin: test pairs (500)"),
                .integer("vocab-size", \.vocabularySize, min: 16, help: "SentencePiece vocabulary (builtin 1000, multi30k 8000)"),
                .text("pair", \.pair, help: "multi30k: en-de or en-fr (en-de)"),
                .text("raw", \.raw, help: "multi30k: the folder of its raw files"),
                .text("directory", \.directory, help: "prepared: a folder prepared by `hat data`"),
            ]
        }
    }

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
            throw PipelineError.config(
                path: path, key: nil, "must be a YAML mapping of sections (space, data, supernet, latency, predictor, search, train, test)")
        }
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base.appendingPathComponent(p).standardizedFileURL.path }
        let sections = Self.sections
        for key in top.keys where sections[key] == nil {
            throw PipelineError.config(path: path, key: key, "is not a pipeline section; sections: \(sections.keys.sorted().joined(separator: ", "))")
        }
        func section(_ name: String) throws -> [String: String] {
            guard let value = top[name] else { return [:] }
            guard let map = value as? [String: Any] else {
                throw PipelineError.config(path: path, key: name, "must be a mapping of keys to values")
            }
            if let allowed = sections[name], !allowed.isEmpty {
                for key in map.keys where !allowed.contains(key) {
                    throw PipelineError.config(
                        path: path, key: "\(name).\(key)", "is not a key of this section; keys: \(allowed.sorted().joined(separator: ", "))")
                }
            }
            return map.mapValues { v in
                if let list = v as? [Any] { return list.map { "\($0)" }.joined(separator: ",") }
                return "\(v)"
            }
        }
        /// Applies a key table to a section, reporting problems as this file's errors.
        func read<Settings>(_ name: String, _ table: [ConfigKey<Settings>], into settings: inout Settings) throws -> [String: String] {
            let values = try section(name)
            do {
                try table.apply(values.mapValues { ConfigKeySource(text: $0, location: path) }, to: &settings, keyPrefix: name + ".")
            } catch let error as ConfigError {
                throw PipelineError.config(path: path, key: error.key, error.message)
            }
            return values
        }
        guard let spaceText = top["space"] as? String else {
            throw PipelineError.config(path: path, key: "space", "is missing: the search space YAML (HAT format), e.g. builtin_tiny_space.yml")
        }
        space = resolve(spaceText)

        var d = DataKeys()
        _ = try read("data", DataKeys.table, into: &d)
        switch d.source {
        case .builtin:
            data = .builtin(seed: d.seed, train: d.train, valid: d.valid, test: d.test, vocabularySize: d.vocabularySize ?? 1000)
        case .multi30k:
            guard let raw = d.raw else {
                throw PipelineError.config(path: path, key: "data.raw", "is missing: the folder with Multi30k's raw files (train.en.gz, val.en.gz, ...)")
            }
            data = .multi30k(pair: d.pair ?? "en-de", rawDirectory: resolve(raw), vocabularySize: d.vocabularySize ?? 8000)
        case .prepared:
            guard let dir = d.directory else {
                throw PipelineError.config(path: path, key: "data.directory", "is missing: a folder prepared by `hat data`")
            }
            data = .prepared(directory: resolve(dir))
        }
        supernet = try section("supernet")
        if let checkpoint = supernet.removeValue(forKey: "checkpoint") {
            guard supernet.isEmpty else {
                throw PipelineError.config(
                    path: path, key: "supernet",
                    "gives a checkpoint and training keys (\(supernet.keys.sorted().joined(separator: ", "))): "
                        + "a trained checkpoint is used as it is; remove one or the other")
            }
            supernetCheckpoint = resolve(checkpoint)
        }
        for (name, table) in Self.sectionTables {
            let given = try read(name, table, into: &self)
            if name == "search" { evolutionKeysGiven = Set(given.keys).intersection(EvolutionSettings.keyTable.names()) }
        }

        var t = try section("train")
        if let text = t.removeValue(forKey: "mode") {
            guard let mode = TrainingMode(rawValue: text) else {
                throw PipelineError.config(
                    path: path, key: "train.mode",
                    "is '\(text)'; use scratch (HAT: train the found SubTransformer from scratch) or finetune (start from the supernet's weights)")
            }
            trainMode = mode
        }
        // A teacher (distill-from) is a path beside this file, or `supernet`: the SuperTransformer's
        // largest SubTransformer, with the supernet stage's weights (TrainStage).
        for key in ["distill-from", "teacher-subtransformer"] {
            if let given = t[key], given != Self.supernetTeacher { t[key] = resolve(given) }
        }
        train = t
    }

    /// The search settings as the search stage's fingerprint records them: the integer evolution
    /// keys the file gives, mutation-prob (-1 when not given) and repair-offspring when on. This
    /// form is what finished pipelines recorded; keeping it keeps them finished.
    var evolutionFingerprint: [String] {
        let e = evolution
        let integers = [
            ("crossover-size", e.crossoverSize), ("evo-iter", e.iterations), ("mutation-size", e.mutationSize),
            ("parent-size", e.parentSize), ("population-size", e.populationSize),
        ]
        let given = integers.filter { evolutionKeysGiven.contains($0.0) }.map { "\($0.0)=\($0.1)" }.joined(separator: ";")
        let probability = evolutionKeysGiven.contains("mutation-prob") ? e.mutationProbability : -1
        return [given, "\(probability)"]
    }
}
