import Foundation
import Model
import Testing

@testable import Train

@Suite("Training keys: one table")
struct TrainingConfigTests {
    /// A valid value unlike the default for each key, and one out of range.
    static let samples: [String: (good: String, bad: String)] = [
        "max-tokens": ("1000", "0"), "update-freq": ("4", "0"), "max-update": ("7", "-1"), "max-epoch": ("3", "-2"),
        "lr-scheduler": ("fixed", "linear"), "lr": ("0.001", "-1"), "warmup-updates": ("10", "-5"), "warmup-init-lr": ("1e-6", "nan"),
        "adam-betas": ("(0.8, 0.99)", "(0.9, 1.5)"), "adam-eps": ("1e-6", "0"), "weight-decay": ("0.01", "2"), "clip-norm": ("1.0", "-1"),
        "dropout": ("0.2", "1"), "attention-dropout": ("0.2", "-0.1"), "activation-dropout": ("0.2", "1.5"),
        "label-smoothing": ("0.2", "1"), "bpe-dropout": ("0.1", "1"), "bpe-dropout-sides": ("source", "left"), "seed": ("9", "-3"),
        "save-interval": ("2", "0"), "save-interval-updates": ("5", "-1"), "keep-last-epochs": ("3", "-2"), "keep-last-updates": ("3", "-2"),
        "validate-interval": ("2", "0"), "validation-random-subnets": ("0", "-1"), "log-interval": ("10", "0"),
        "max-consecutive-skips": ("3", "0"), "stop-time-minutes": ("5", "-1"), "criterion": ("cross_entropy", "mse"),
        "bf16": ("True", "maybe"), "optimizer": ("adam", "sgd"),
        "distill-from": ("teacher.safetensors", "teacher.pt"), "teacher-subtransformer": ("teacher.yml", "teacher.txt"),
        "distill-topk": ("3", "0"), "distill-weight": ("0.7", "1.5"),
        // cosine-only keys: checked with lr-scheduler cosine below
        "max-lr": ("0.002", "0"), "lr-period-updates": ("5", "0"),
    ]

    @Test("every key of the table sets the config, from a file as from the command line, and a bad value names the key")
    func everyKeyGoesSomewhere() throws {
        #expect(Set(Self.samples.keys) == TrainingConfig.keys, "a key without a sample: \(TrainingConfig.keys.symmetricDifference(Self.samples.keys))")
        let base = ["max-update": "100"]
        let cosine = ["max-update": "100", "warmup-updates": "10", "lr-scheduler": "cosine", "max-lr": "0.001"]
        for (key, value) in Self.samples {
            let context = ["max-lr", "lr-period-updates"].contains(key) ? cosine : base
            let plain = try TrainingConfig(file: nil, overrides: context)
            let set = try TrainingConfig(file: nil, overrides: context.merging([key: value.good]) { $1 })
            if key != "optimizer" { #expect(set != plain, "\(key): \(value.good) changed nothing") }
            // The same key read from a HAT YAML file gives the same config.
            let yaml = (context.merging([key: value.good]) { $1 }).map { "\($0.key): \($0.value)" }.sorted().joined(separator: "\n")
            let fromFile = try TrainingConfig(file: HATConfigFile(text: yaml, path: "t.yml"))
            #expect(fromFile == set, "\(key) read from a file differs from the command line")
            do {
                let others = context.filter { $0.key != key }.map { "\($0.key): \($0.value)" }.sorted()
                _ = try TrainingConfig(file: HATConfigFile(text: (["\(key): \(value.bad)"] + others).joined(separator: "\n"), path: "t.yml"))
                Issue.record("\(key): \(value.bad) was accepted")
            } catch let error as ConfigError {
                #expect(error.key == key && error.file == "t.yml:1", "\(key): the key and its line are named: \(error)")
            }
        }
    }

    @Test("cross-key rules: cosine needs its peak and a period; training needs an end")
    func crossKeyRules() throws {
        #expect(throws: ConfigError.self) { try TrainingConfig(file: nil, overrides: ["max-update": "100", "lr-scheduler": "cosine"]) }
        #expect(throws: ConfigError.self) {
            try TrainingConfig(file: nil, overrides: ["max-update": "100", "warmup-updates": "200", "lr-scheduler": "cosine", "max-lr": "0.001"])
        }
        #expect(throws: ConfigError.self) { try TrainingConfig(file: nil, overrides: [:]) }
        let c = try TrainingConfig(file: nil, overrides: ["max-update": "100", "warmup-updates": "20", "lr-scheduler": "cosine", "max-lr": "0.001"])
        #expect(c.schedule == .cosine(maxLR: 0.001, minLR: 5e-4, warmupUpdates: 20, warmupInitLR: 1e-7, periodUpdates: 80))
        // cross_entropy is label smoothing 0, whichever order the keys come in.
        let plain = try TrainingConfig(file: HATConfigFile(text: "criterion: cross_entropy\nlabel-smoothing: 0.1\nmax-update: 5\n", path: "t.yml"))
        #expect(plain.labelSmoothing == 0)
    }
}
