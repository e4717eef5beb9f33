import Datasets
import Foundation
import Model
import NN

/// Training settings, built once from HAT's YAML keys (hat-reference.md §8) plus command-line
/// overrides (`--max-update 5` overrides `max-update: 40000`), then passed down as a value.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var maxTokens = 4096
    public var updateFreq = 1
    public var maxUpdate = 0  // 0: no limit
    public var maxEpoch = 0  // 0: no limit
    public var schedule = LearningRateSchedule.inverseSqrt(lr: 5e-4, warmupUpdates: 4000, warmupInitLR: 1e-7)
    public var adamBetas: [Double] = [0.9, 0.98]
    public var adamEps = 1e-8
    public var weightDecay = 0.0
    public var clipNorm = 0.0  // 0: no clipping
    public var dropout = 0.3
    public var attentionDropout = 0.1
    public var activationDropout = 0.0
    public var labelSmoothing = 0.1
    /// BPE-dropout probability for the training split (0: the stored segmentation every epoch).
    public var bpeDropout = 0.0
    /// Which sides BPE-dropout segments anew: both (the paper), source or target.
    public var bpeDropoutSides = BPEDropout.Sides.both
    public var seed: UInt64 = 1
    public var saveIntervalEpochs = 1
    public var saveIntervalUpdates = 0
    public var keepLastEpochs = -1  // -1: keep all
    public var keepLastUpdates = -1
    public var validateIntervalEpochs = 1
    /// Random SubTransformers validated each epoch in supernet training, besides the largest and smallest.
    public var validationRandomSubnets = 2
    /// Stop after this many consecutive skipped (non-finite) updates.
    public var maxConsecutiveSkips = 10
    public var logIntervalUpdates = 1
    /// Stop (validate and checkpoint) once this much training time has passed; 0: no limit.
    public var stopTimeMinutes = 0.0
    /// Multiply in bfloat16 with float32 sums (fairseq's `--bf16` key; PyTorch's CPU autocast
    /// precision): the large GEMMs of every step run at twice the float32 rate on CPUs with
    /// AVX512-BF16. Weights, gradients, optimizer state and every other op stay float32.
    public var bf16 = false
    /// Knowledge distillation (HAT §4): the teacher checkpoint whose top-k distribution the loss
    /// also learns (nil: none), the SubTransformer of it that teaches (nil: the one it was trained
    /// as), k, and α, the teacher's share of the loss (`TeacherTargets`, `SoftTargets`).
    public var distillFrom: String?
    public var teacherSubTransformer: String?
    public var distillTopK = 5
    public var distillWeight = 0.5

    public init() {}

    public var dropoutRates: DropoutRates {
        DropoutRates(dropout: Float(dropout), attentionDropout: Float(attentionDropout), activationDropout: Float(activationDropout))
    }

    /// Every key this type reads, with what it does and its default (`hat train --help` prints
    /// this table; HAT's names, hat-reference.md §8, plus ours).
    public static var keyTable: [(key: String, help: String)] { KeyReader.table.map { ($0.name, $0.help) } }

    /// Every key this type reads, for validating overrides.
    public static let keys: Set<String> = KeyReader.table.names()

    /// The key table as text for `hat train --help`.
    public static var keyHelp: String {
        keyTable.map { "  --\($0.key.padding(toLength: 27, withPad: " ", startingAt: 0)) \($0.help)" }.joined(separator: "\n")
    }

    /// Keys that are switches: `--bf16` alone on the command line means true.
    public static let switchKeys: Set<String> = ["bf16"]

    /// Reads the training keys of `file` (missing keys keep their defaults), then applies
    /// `overrides` (key without dashes → value text), which win. Errors name the key and file.
    public init(file: HATConfigFile?, overrides: [String: String] = [:]) throws {
        var values = file?.sources(for: Self.keys) ?? [:]
        for (key, text) in overrides {
            guard Self.keys.contains(key) || HATConfigFile.knownKeys.contains(key) else {
                throw ConfigError(file: "<command line>", key: key, "unknown option --\(key) (see hat train --help)")
            }
            values[key] = ConfigKeySource(text: text, location: "<command line>")
        }
        var reader = KeyReader()
        try KeyReader.table.apply(values, to: &reader)
        func location(_ key: String) -> String { values[key]?.location ?? file?.path ?? "<command line>" }
        self = reader.config
        switch reader.scheduler {
        case .inverseSqrt:
            schedule = .inverseSqrt(lr: reader.lr, warmupUpdates: reader.warmupUpdates, warmupInitLR: reader.warmupInitLR)
        case .cosine:
            // fairseq's cosine: --max-lr is the peak, --lr the floor; one period = max-update − warmup.
            guard let maxLR = reader.maxLR else {
                throw ConfigError(file: location("lr-scheduler"), key: "max-lr", "the cosine schedule needs max-lr (its peak)")
            }
            let period = reader.periodUpdates ?? (maxUpdate > reader.warmupUpdates ? maxUpdate - reader.warmupUpdates : 0)
            guard period > 0 else {
                throw ConfigError(
                    file: location("lr-scheduler"), key: "max-update", "the cosine schedule needs max-update > warmup-updates (or lr-period-updates)")
            }
            schedule = .cosine(
                maxLR: maxLR, minLR: reader.lr, warmupUpdates: reader.warmupUpdates, warmupInitLR: reader.warmupInitLR,
                periodUpdates: period)
        case .fixed:
            schedule = .fixed(lr: reader.lr)
        }
        if maxUpdate == 0 && maxEpoch == 0 {
            throw ConfigError(file: file?.path ?? "<command line>", key: "max-update", "give max-update or max-epoch, or training never ends")
        }
    }

    /// What the keys set while they are read: the config, plus the learning-rate schedule's parts,
    /// which become `schedule` once every key is read (the cosine period depends on max-update).
    struct KeyReader {
        enum Scheduler: String, CaseIterable {
            case inverseSqrt = "inverse_sqrt", cosine, fixed
        }
        enum Criterion: String, CaseIterable {
            case labelSmoothed = "label_smoothed_cross_entropy", plain = "cross_entropy"
        }
        var config = TrainingConfig()
        var scheduler = Scheduler.inverseSqrt
        var lr = 5e-4
        var maxLR: Double?
        var warmupUpdates = 4000
        var warmupInitLR = 1e-7
        var periodUpdates: Int?

        /// HAT's keys (hat-reference.md §8) and ours, in the order `hat train --help` lists them
        /// and they are applied (criterion after label-smoothing, which it can zero).
        static var table: [ConfigKey<KeyReader>] {
            let learningRate = 0...Double.greatestFiniteMagnitude
            return [
                .integer("max-tokens", \.config.maxTokens, help: "tokens per batch, padding included (4096)"),
                .integer("update-freq", \.config.updateFreq, help: "batches accumulated per update (1)"),
                .integer("max-update", \.config.maxUpdate, min: 0, help: "stop after this many updates (0: no limit)"),
                .integer("max-epoch", \.config.maxEpoch, min: 0, help: "stop after this many epochs (0: no limit)"),
                .choice("lr-scheduler", \.scheduler, help: "inverse_sqrt (default), cosine or fixed"),
                .number(
                    "lr", \.lr, in: learningRate, expected: "a learning rate ≥ 0 (like 0.0005)",
                    help: "peak learning rate; the floor for cosine (0.0005)"),
                ConfigKey("max-lr", help: "cosine: the peak learning rate") { reader, text in
                    reader.maxLR = try parseNumber(
                        text, in: Double.leastNonzeroMagnitude...Double.greatestFiniteMagnitude,
                        expected: "a positive learning rate (like 0.001)")
                },
                .integer("warmup-updates", \.warmupUpdates, min: 0, help: "linear warm-up updates (4000)"),
                .number(
                    "warmup-init-lr", \.warmupInitLR, in: learningRate, expected: "a learning rate ≥ 0 (like 1e-7)",
                    help: "learning rate at the start of warm-up (1e-7)"),
                .integer("lr-period-updates", \.periodUpdates, help: "cosine: updates of one period (max-update - warmup-updates)"),
                ConfigKey("adam-betas", help: "Adam's betas ((0.9, 0.98))") { reader, text in
                    var t = text
                    if t.hasPrefix("(") || t.hasPrefix("[") { t = String(t.dropFirst().dropLast()) }
                    let betas = t.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                    guard betas.count == 2, let b1 = betas[0], let b2 = betas[1], (0..<1).contains(b1), (0..<1).contains(b2) else {
                        throw ConfigKeyProblem("expected two numbers in [0, 1), like (0.9, 0.98), found '\(text)'")
                    }
                    reader.config.adamBetas = [b1, b2]
                },
                .number(
                    "adam-eps", \.config.adamEps, in: Double.leastNonzeroMagnitude...1, expected: "a small positive number like 1e-8",
                    help: "Adam's epsilon (1e-8)"),
                .number(
                    "weight-decay", \.config.weightDecay, in: 0...1, expected: "a number in [0, 1] like 0.0001",
                    help: "decoupled weight decay (0)"),
                .number(
                    "clip-norm", \.config.clipNorm, in: 0...Double.greatestFiniteMagnitude, expected: "zero (no clipping) or more",
                    help: "gradient norm clipping (0: none)"),
                .probability("dropout", \.config.dropout, help: "dropout (0.3)"),
                .probability("attention-dropout", \.config.attentionDropout, help: "attention dropout (0.1)"),
                .probability("activation-dropout", \.config.activationDropout, help: "dropout after the FFN's ReLU (0)"),
                .number(
                    "label-smoothing", \.config.labelSmoothing, in: 0...0.999, expected: "a number in [0, 1) like 0.1",
                    help: "label smoothing of the cross-entropy (0.1)"),
                .probability(
                    "bpe-dropout", \.config.bpeDropout,
                    help: "BPE-dropout probability of the training text, every epoch (0; 0.1 in the BPE-dropout paper)"),
                .choice("bpe-dropout-sides", \.config.bpeDropoutSides, help: "both, source or target (both)"),
                .seed("seed", \.config.seed, help: "initialization, sampling, dropout and batch order (1)"),
                .integer("save-interval", \.config.saveIntervalEpochs, help: "checkpoint every N epochs (1)"),
                .integer("save-interval-updates", \.config.saveIntervalUpdates, min: 0, help: "also every N updates (0: not)"),
                .integer("keep-last-epochs", \.config.keepLastEpochs, min: -1, help: "epoch checkpoints kept (-1: all)"),
                .integer("keep-last-updates", \.config.keepLastUpdates, min: -1, help: "update checkpoints kept (-1: all)"),
                .integer("validate-interval", \.config.validateIntervalEpochs, help: "validate every N epochs (1)"),
                .integer(
                    "validation-random-subnets", \.config.validationRandomSubnets, min: 0,
                    help: "random SubTransformers validated per epoch besides the largest and smallest (2)"),
                .integer("log-interval", \.config.logIntervalUpdates, help: "log every N updates (1)"),
                .integer("max-consecutive-skips", \.config.maxConsecutiveSkips, help: "stop after N non-finite updates in a row (10)"),
                .number(
                    "stop-time-minutes", \.config.stopTimeMinutes, in: 0...Double.greatestFiniteMagnitude,
                    expected: "minutes ≥ 0 (0: no time limit)", help: "validate, checkpoint and stop after M minutes of training (0: no limit)"),
                // HAT trains with Adam and label-smoothed cross-entropy; other choices are refused
                // rather than silently replaced (fairseq's plain cross_entropy is label smoothing 0).
                ConfigKey("optimizer", help: "adam (the only one; others are refused)") { _, text in
                    guard text == "adam" else { throw ConfigKeyProblem("'\(text)' is not supported: hat trains with Adam (HAT's optimizer); give adam") }
                },
                ConfigKey("criterion", help: "label_smoothed_cross_entropy or cross_entropy") { reader, text in
                    guard let criterion = Criterion(rawValue: text) else {
                        throw ConfigKeyProblem("'\(text)' is not one of label_smoothed_cross_entropy, cross_entropy")
                    }
                    if criterion == .plain { reader.config.labelSmoothing = 0 }
                },
                .flag("bf16", \.config.bf16, help: "multiply in bfloat16 with float32 sums (False)"),
                ConfigKey("distill-from", help: "knowledge distillation from this teacher checkpoint, .safetensors (none)") { reader, text in
                    guard text.hasSuffix(".safetensors") else {
                        throw ConfigKeyProblem(
                            "'\(text)' is not a hat checkpoint (.safetensors); bring a fairseq/PyTorch model in with hat import first")
                    }
                    reader.config.distillFrom = text
                },
                ConfigKey("teacher-subtransformer", help: "the teacher's SubTransformer, HAT YAML (default: the one it was trained as)") { reader, text in
                    guard text.hasSuffix(".yml") || text.hasSuffix(".yaml") else {
                        throw ConfigKeyProblem("'\(text)' is not a SubTransformer YAML file (.yml)")
                    }
                    reader.config.teacherSubTransformer = text
                },
                .integer("distill-topk", \.config.distillTopK, help: "teacher tokens per target position, renormalized (5, HAT §4)"),
                .probability("distill-weight", \.config.distillWeight, closed: true, help: "the teacher's share α of the loss (0.5)"),
            ]
        }
    }
}

// Checkpoints store this config; fields added later must not make older checkpoints unreadable,
// so every field decodes with its default when absent.
extension TrainingConfig {
    enum CodingKeys: String, CodingKey {
        case maxTokens, updateFreq, maxUpdate, maxEpoch, schedule, adamBetas, adamEps, weightDecay, clipNorm, dropout, attentionDropout, activationDropout,
            labelSmoothing, bpeDropout, bpeDropoutSides, seed, saveIntervalEpochs, saveIntervalUpdates, keepLastEpochs, keepLastUpdates, validateIntervalEpochs,
            validationRandomSubnets, maxConsecutiveSkips, logIntervalUpdates, stopTimeMinutes, bf16, distillFrom, teacherSubTransformer,
            distillTopK, distillWeight
    }

    public init(from decoder: Decoder) throws {
        self.init()
        let c = try decoder.container(keyedBy: CodingKeys.self)
        maxTokens = try c.decodeIfPresent(type(of: maxTokens), forKey: .maxTokens) ?? maxTokens
        updateFreq = try c.decodeIfPresent(type(of: updateFreq), forKey: .updateFreq) ?? updateFreq
        maxUpdate = try c.decodeIfPresent(type(of: maxUpdate), forKey: .maxUpdate) ?? maxUpdate
        maxEpoch = try c.decodeIfPresent(type(of: maxEpoch), forKey: .maxEpoch) ?? maxEpoch
        schedule = try c.decodeIfPresent(type(of: schedule), forKey: .schedule) ?? schedule
        adamBetas = try c.decodeIfPresent(type(of: adamBetas), forKey: .adamBetas) ?? adamBetas
        adamEps = try c.decodeIfPresent(type(of: adamEps), forKey: .adamEps) ?? adamEps
        weightDecay = try c.decodeIfPresent(type(of: weightDecay), forKey: .weightDecay) ?? weightDecay
        clipNorm = try c.decodeIfPresent(type(of: clipNorm), forKey: .clipNorm) ?? clipNorm
        dropout = try c.decodeIfPresent(type(of: dropout), forKey: .dropout) ?? dropout
        attentionDropout = try c.decodeIfPresent(type(of: attentionDropout), forKey: .attentionDropout) ?? attentionDropout
        activationDropout = try c.decodeIfPresent(type(of: activationDropout), forKey: .activationDropout) ?? activationDropout
        labelSmoothing = try c.decodeIfPresent(type(of: labelSmoothing), forKey: .labelSmoothing) ?? labelSmoothing
        bpeDropout = try c.decodeIfPresent(type(of: bpeDropout), forKey: .bpeDropout) ?? bpeDropout
        bpeDropoutSides = try c.decodeIfPresent(type(of: bpeDropoutSides), forKey: .bpeDropoutSides) ?? bpeDropoutSides
        seed = try c.decodeIfPresent(type(of: seed), forKey: .seed) ?? seed
        saveIntervalEpochs = try c.decodeIfPresent(type(of: saveIntervalEpochs), forKey: .saveIntervalEpochs) ?? saveIntervalEpochs
        saveIntervalUpdates = try c.decodeIfPresent(type(of: saveIntervalUpdates), forKey: .saveIntervalUpdates) ?? saveIntervalUpdates
        keepLastEpochs = try c.decodeIfPresent(type(of: keepLastEpochs), forKey: .keepLastEpochs) ?? keepLastEpochs
        keepLastUpdates = try c.decodeIfPresent(type(of: keepLastUpdates), forKey: .keepLastUpdates) ?? keepLastUpdates
        validateIntervalEpochs = try c.decodeIfPresent(type(of: validateIntervalEpochs), forKey: .validateIntervalEpochs) ?? validateIntervalEpochs
        validationRandomSubnets = try c.decodeIfPresent(type(of: validationRandomSubnets), forKey: .validationRandomSubnets) ?? validationRandomSubnets
        maxConsecutiveSkips = try c.decodeIfPresent(type(of: maxConsecutiveSkips), forKey: .maxConsecutiveSkips) ?? maxConsecutiveSkips
        logIntervalUpdates = try c.decodeIfPresent(type(of: logIntervalUpdates), forKey: .logIntervalUpdates) ?? logIntervalUpdates
        stopTimeMinutes = try c.decodeIfPresent(type(of: stopTimeMinutes), forKey: .stopTimeMinutes) ?? stopTimeMinutes
        bf16 = try c.decodeIfPresent(type(of: bf16), forKey: .bf16) ?? bf16
        distillFrom = try c.decodeIfPresent(String.self, forKey: .distillFrom)
        teacherSubTransformer = try c.decodeIfPresent(String.self, forKey: .teacherSubTransformer)
        distillTopK = try c.decodeIfPresent(type(of: distillTopK), forKey: .distillTopK) ?? distillTopK
        distillWeight = try c.decodeIfPresent(type(of: distillWeight), forKey: .distillWeight) ?? distillWeight
    }
}
