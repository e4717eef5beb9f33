import Datasets
import Foundation
import Model
import NN

/// Training settings, built once from HAT's YAML keys (hat-reference.md §8) plus command-line
/// overrides (`--max-update 5` overrides `max-update: 40000`), then passed down as a value.
public struct TrainingConfig: Codable, Equatable, Sendable {
    public var maxTokens = 4096
    public var updateFreq = 1
    public var maxUpdate = 0          // 0: no limit
    public var maxEpoch = 0           // 0: no limit
    public var schedule = LearningRateSchedule.inverseSqrt(lr: 5e-4, warmupUpdates: 4000, warmupInitLR: 1e-7)
    public var adamBetas: [Double] = [0.9, 0.98]
    public var adamEps = 1e-8
    public var weightDecay = 0.0
    public var clipNorm = 0.0         // 0: no clipping
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
    public var keepLastEpochs = -1     // -1: keep all
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

    public init() {}

    public var dropoutRates: DropoutRates {
        DropoutRates(dropout: Float(dropout), attentionDropout: Float(attentionDropout), activationDropout: Float(activationDropout))
    }

    /// Every key this type reads, with what it does and its default (`hat train --help` prints
    /// this table; HAT's names, hat-reference.md §8, plus ours).
    public static let keyTable: [(key: String, help: String)] = [
        ("max-tokens", "tokens per batch, padding included (4096)"),
        ("update-freq", "batches accumulated per update (1)"),
        ("max-update", "stop after this many updates (0: no limit)"),
        ("max-epoch", "stop after this many epochs (0: no limit)"),
        ("lr-scheduler", "inverse_sqrt (default), cosine or fixed"),
        ("lr", "peak learning rate; the floor for cosine (0.0005)"),
        ("max-lr", "cosine: the peak learning rate"),
        ("warmup-updates", "linear warm-up updates (4000)"),
        ("warmup-init-lr", "learning rate at the start of warm-up (1e-7)"),
        ("lr-period-updates", "cosine: updates of one period (max-update - warmup-updates)"),
        ("adam-betas", "Adam's betas ((0.9, 0.98))"),
        ("adam-eps", "Adam's epsilon (1e-8)"),
        ("weight-decay", "decoupled weight decay (0)"),
        ("clip-norm", "gradient norm clipping (0: none)"),
        ("dropout", "dropout (0.3)"),
        ("attention-dropout", "attention dropout (0.1)"),
        ("activation-dropout", "dropout after the FFN's ReLU (0)"),
        ("label-smoothing", "label smoothing of the cross-entropy (0.1)"),
        ("bpe-dropout", "BPE-dropout probability of the training text, every epoch (0)"),
        ("bpe-dropout-sides", "both, source or target (both)"),
        ("seed", "initialization, sampling, dropout and batch order (1)"),
        ("save-interval", "checkpoint every N epochs (1)"),
        ("save-interval-updates", "also every N updates (0: not)"),
        ("keep-last-epochs", "epoch checkpoints kept (-1: all)"),
        ("keep-last-updates", "update checkpoints kept (-1: all)"),
        ("validate-interval", "validate every N epochs (1)"),
        ("validation-random-subnets", "random SubTransformers validated per epoch besides the largest and smallest (2)"),
        ("log-interval", "log every N updates (1)"),
        ("max-consecutive-skips", "stop after N non-finite updates in a row (10)"),
        ("stop-time-minutes", "validate, checkpoint and stop after M minutes of training (0: no limit)"),
        ("optimizer", "adam (the only one; others are refused)"),
        ("criterion", "label_smoothed_cross_entropy or cross_entropy"),
        ("bf16", "multiply in bfloat16 with float32 sums (False)"),
    ]

    /// Every key this type reads, for validating overrides.
    public static let keys = Set(keyTable.map(\.key))

    /// The key table as text for `hat train --help`.
    public static var keyHelp: String {
        keyTable.map { "  --\($0.key.padding(toLength: 27, withPad: " ", startingAt: 0)) \($0.help)" }.joined(separator: "\n")
    }

    /// Keys that are switches: `--bf16` alone on the command line means true.
    public static let switchKeys: Set<String> = ["bf16"]

    /// Reads the training keys of `file` (missing keys keep their defaults), then applies
    /// `overrides` (key without dashes → value text), which win. Errors name the key and file.
    public init(file: HATConfigFile?, overrides: [String: String] = [:]) throws {
        var merged: [String: String] = [:]
        if let file {
            for key in file.keys where Self.keys.contains(key) {
                if let node = file.values[key] {
                    merged[key] = node.string ?? node.sequence?.compactMap(\.string).joined(separator: ",") ?? ""
                }
            }
        }
        let source = file?.path ?? "<command line>"
        for (k, v) in overrides {
            guard Self.keys.contains(k) || HATConfigFile.knownKeys.contains(k) else {
                throw ConfigError(file: "<command line>", key: k, "unknown option --\(k) (see hat train --help)")
            }
            merged[k] = v
        }
        func text(_ key: String) -> String? { merged[key].map { $0.trimmingCharacters(in: .whitespaces) } }
        func where_(_ key: String) -> String { overrides[key] != nil ? "<command line>" : source }
        func int(_ key: String) throws -> Int? {
            guard let t = text(key) else { return nil }
            guard let v = Int(t) else { throw ConfigError(file: where_(key), key: key, "expected an integer, found '\(t)'") }
            return v
        }
        func double(_ key: String) throws -> Double? {
            guard let t = text(key) else { return nil }
            guard let v = Double(t) else { throw ConfigError(file: where_(key), key: key, "expected a number, found '\(t)'") }
            return v
        }
        func doubles(_ key: String) throws -> [Double]? {
            guard var t = text(key) else { return nil }
            if t.hasPrefix("(") || t.hasPrefix("[") { t = String(t.dropFirst().dropLast()) }
            let parts = t.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            return try parts.map {
                guard let v = Double($0) else { throw ConfigError(file: where_(key), key: key, "expected numbers like (0.9, 0.98), found '\(t)'") }
                return v
            }
        }
        func positive(_ key: String, _ v: Int?, allowZero: Bool = false) throws -> Int? {
            if let v, v < (allowZero ? 0 : 1) {
                throw ConfigError(file: where_(key), key: key, "must be \(allowZero ? "zero or more" : "at least 1"), is \(v)")
            }
            return v
        }
        self.init()
        maxTokens = try positive("max-tokens", int("max-tokens")) ?? maxTokens
        updateFreq = try positive("update-freq", int("update-freq")) ?? updateFreq
        maxUpdate = try positive("max-update", int("max-update"), allowZero: true) ?? maxUpdate
        maxEpoch = try positive("max-epoch", int("max-epoch"), allowZero: true) ?? maxEpoch
        adamBetas = try doubles("adam-betas") ?? adamBetas
        if adamBetas.count != 2 || adamBetas.contains(where: { $0 < 0 || $0 >= 1 }) {
            throw ConfigError(file: where_("adam-betas"), key: "adam-betas", "expected two numbers in [0, 1), like (0.9, 0.98), found \(adamBetas)")
        }
        adamEps = try double("adam-eps") ?? adamEps
        weightDecay = try double("weight-decay") ?? weightDecay
        clipNorm = try double("clip-norm") ?? clipNorm
        dropout = try double("dropout") ?? dropout
        attentionDropout = try double("attention-dropout") ?? attentionDropout
        activationDropout = try double("activation-dropout") ?? activationDropout
        for (key, p) in [("dropout", dropout), ("attention-dropout", attentionDropout), ("activation-dropout", activationDropout)]
        where p < 0 || p >= 1 {
            throw ConfigError(file: where_(key), key: key, "a probability in [0, 1) is needed, found \(p)")
        }
        labelSmoothing = try double("label-smoothing") ?? labelSmoothing
        // HAT trains with Adam and label-smoothed cross-entropy; other choices are refused rather
        // than silently replaced (fairseq's plain cross_entropy is label smoothing 0).
        if let o = text("optimizer"), o != "adam" {
            throw ConfigError(file: where_("optimizer"), key: "optimizer", "'\(o)' is not supported: hat trains with Adam (HAT's optimizer); give adam")
        }
        switch text("criterion") {
        case nil, "label_smoothed_cross_entropy": break
        case "cross_entropy": labelSmoothing = 0
        case let other?:
            throw ConfigError(file: where_("criterion"), key: "criterion", "'\(other)' is not one of label_smoothed_cross_entropy, cross_entropy")
        }
        let ranges: [(String, Double, ClosedRange<Double>, String)] = [
            ("adam-eps", adamEps, Double.leastNonzeroMagnitude...1, "a small positive number like 1e-8"),
            ("weight-decay", weightDecay, 0...1, "a number in [0, 1] like 0.0001"),
            ("clip-norm", clipNorm, 0...Double.greatestFiniteMagnitude, "zero (no clipping) or more"),
            ("label-smoothing", labelSmoothing, 0...0.999, "a number in [0, 1) like 0.1"),
        ]
        for (key, v, range, what) in ranges where !range.contains(v) {
            throw ConfigError(file: where_(key), key: key, "must be \(what), found \(v)")
        }
        bpeDropout = try double("bpe-dropout") ?? bpeDropout
        if bpeDropout < 0 || bpeDropout >= 1 {
            throw ConfigError(file: where_("bpe-dropout"), key: "bpe-dropout", "a probability in [0, 1) is needed (0.1 in the BPE-dropout paper), found \(bpeDropout)")
        }
        if let t = text("bpe-dropout-sides") {
            guard let sides = BPEDropout.Sides(rawValue: t) else {
                throw ConfigError(file: where_("bpe-dropout-sides"), key: "bpe-dropout-sides", "'\(t)' is not one of both, source, target")
            }
            bpeDropoutSides = sides
        }
        if let s = try int("seed") { seed = UInt64(truncatingIfNeeded: s) }
        saveIntervalEpochs = try positive("save-interval", int("save-interval")) ?? saveIntervalEpochs
        saveIntervalUpdates = try positive("save-interval-updates", int("save-interval-updates"), allowZero: true) ?? saveIntervalUpdates
        keepLastEpochs = try int("keep-last-epochs") ?? keepLastEpochs
        keepLastUpdates = try int("keep-last-updates") ?? keepLastUpdates
        validateIntervalEpochs = try positive("validate-interval", int("validate-interval")) ?? validateIntervalEpochs
        validationRandomSubnets = try positive("validation-random-subnets", int("validation-random-subnets"), allowZero: true)
            ?? validationRandomSubnets
        logIntervalUpdates = try positive("log-interval", int("log-interval")) ?? logIntervalUpdates
        maxConsecutiveSkips = try positive("max-consecutive-skips", int("max-consecutive-skips")) ?? maxConsecutiveSkips

        let warmup = try positive("warmup-updates", int("warmup-updates"), allowZero: true) ?? 4000
        let warmupInit = try double("warmup-init-lr") ?? 1e-7
        let lr = try double("lr") ?? 5e-4
        for (key, v) in [("lr", lr), ("warmup-init-lr", warmupInit)] where !(v.isFinite && v >= 0) {
            throw ConfigError(file: where_(key), key: key, "must be a learning rate ≥ 0 (like 0.0005), found \(v)")
        }
        switch text("lr-scheduler") ?? "inverse_sqrt" {
        case "inverse_sqrt":
            schedule = .inverseSqrt(lr: lr, warmupUpdates: warmup, warmupInitLR: warmupInit)
        case "cosine":
            // fairseq's cosine: --max-lr is the peak, --lr the floor; one period = max-update − warmup.
            guard let maxLR = try double("max-lr") else {
                throw ConfigError(file: where_("lr-scheduler"), key: "max-lr", "the cosine schedule needs max-lr (its peak)")
            }
            guard maxLR.isFinite && maxLR > 0 else {
                throw ConfigError(file: where_("max-lr"), key: "max-lr", "must be a positive learning rate (like 0.001), found \(maxLR)")
            }
            let period = try int("lr-period-updates") ?? (maxUpdate > warmup ? maxUpdate - warmup : 0)
            guard period > 0 else {
                throw ConfigError(file: where_("lr-scheduler"), key: "max-update", "the cosine schedule needs max-update > warmup-updates (or lr-period-updates)")
            }
            schedule = .cosine(maxLR: maxLR, minLR: lr, warmupUpdates: warmup, warmupInitLR: warmupInit, periodUpdates: period)
        case "fixed":
            schedule = .fixed(lr: lr)
        case let other:
            throw ConfigError(file: where_("lr-scheduler"), key: "lr-scheduler", "'\(other)' is not one of inverse_sqrt, cosine, fixed")
        }
        stopTimeMinutes = try double("stop-time-minutes") ?? stopTimeMinutes
        if !(stopTimeMinutes.isFinite && stopTimeMinutes >= 0) {
            throw ConfigError(file: where_("stop-time-minutes"), key: "stop-time-minutes", "must be minutes ≥ 0 (0: no time limit), found \(stopTimeMinutes)")
        }
        if maxUpdate == 0 && maxEpoch == 0 {
            throw ConfigError(file: source, key: "max-update", "give max-update or max-epoch, or training never ends")
        }
        if let t = text("bf16") {
            switch t.lowercased() {
            case "true", "yes", "1": bf16 = true
            case "false", "no", "0": bf16 = false
            default: throw ConfigError(file: where_("bf16"), key: "bf16", "expected True or False, found '\(t)'")
            }
        }
    }
}

// Checkpoints store this config; fields added later must not make older checkpoints unreadable,
// so every field decodes with its default when absent.
extension TrainingConfig {
    enum CodingKeys: String, CodingKey {
        case maxTokens, updateFreq, maxUpdate, maxEpoch, schedule, adamBetas, adamEps, weightDecay, clipNorm, dropout, attentionDropout, activationDropout, labelSmoothing, bpeDropout, bpeDropoutSides, seed, saveIntervalEpochs, saveIntervalUpdates, keepLastEpochs, keepLastUpdates, validateIntervalEpochs, validationRandomSubnets, maxConsecutiveSkips, logIntervalUpdates, stopTimeMinutes, bf16
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
    }
}
