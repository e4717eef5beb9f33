import ArgumentParser
import Cluster
import Datasets
import Foundation
import Logging
import Model
import TensorEngine
import Train

/// `hat train`: SuperTransformer training, SubTransformer training from scratch, fine-tuning.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a SuperTransformer (or one SubTransformer) on a prepared dataset; resumes by itself.",
        discussion: """
            CONFIG is a HAT YAML file with the SuperTransformer sizes, the search space and training keys \
            (e.g. configs/multi30k_cpu_space.yml or HAT's space1.yml). Any training key can be overridden \
            on the command line: --max-update 5 --save-interval-updates 5 --lr 0.001. Rerunning the same \
            command continues from the newest valid checkpoint in --save-dir. --data is our dataset folder or a \
            fairseq data-bin folder, so a model brought in with `hat import` fine-tunes on HAT's own binarized data \
            (--config IMPORTED/space.yml --init-from IMPORTED/checkpoint.safetensors). Besides HAT's keys: \
            --bpe-dropout P re-segments the training split every epoch with BPE-dropout (Provilkov et al., \
            2020; 0.1 in the paper), a regularizer for small corpora (--bpe-dropout-sides source: the source \
            side only); --stop-time-minutes M ends the run \
            after M minutes of training.

            Training keys (YAML or --key value):
            \(TrainingConfig.keyHelp)
            """
    )

    @Option(help: "Search space and training YAML (HAT format).") var config: String
    @Option(help: "Dataset folder: ours (hat data prepare) or a fairseq data-bin folder (HAT's preprocessed data).") var data: String
    @Option(name: .customLong("save-dir"), help: "Where checkpoints and metrics.jsonl go.") var saveDir: String
    @Option(help: "Train this SubTransformer (HAT YAML) instead of the SuperTransformer.") var subtransformer: String?
    @Option(name: .customLong("init-from"), help: "Start from this checkpoint's weights (fine-tune a SubTransformer from the supernet).")
    var initFrom: String?
    @Option(help: "Random seed for initialization, sampling, dropout and batch order.") var seed: Int?
    @Flag(
        name: .customLong("keep-effective-batch"),
        help: "Under mpirun: scale update-freq so that max-tokens × update-freq × ranks is the batch the config was written for (× its distributed-world-size)."
    )
    var keepEffectiveBatch = false
    @Option(help: "Compute threads (default: the cores available, shared among the ranks an MPI launcher put on this machine).")
    var threads: Int?

    @Argument(parsing: .allUnrecognized, help: "Overrides of YAML keys: --key value.") var overrides: [String] = []

    func validate() throws {
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    func parsedOverrides() throws -> [String: String] {
        var result: [String: String] = [:]
        var i = 0
        while i < overrides.count {
            let flag = overrides[i]
            guard flag.hasPrefix("--"), flag.count > 2 else { throw ValidationError("unexpected argument '\(flag)': overrides look like --max-update 5") }
            var key = String(flag.dropFirst(2))
            var value: String
            if let eq = key.firstIndex(of: "=") {
                value = String(key[key.index(after: eq)...])
                key = String(key[..<eq])
            } else if TrainingConfig.switchKeys.contains(key) && (i + 1 == overrides.count || overrides[i + 1].hasPrefix("--")) {
                value = "true"  // a switch given alone: --bf16
            } else {
                guard i + 1 < overrides.count else { throw ValidationError("\(flag) needs a value") }
                value = overrides[i + 1]
                i += 1
            }
            result[key] = value
            i += 1
        }
        if let seed { result["seed"] = String(seed) }
        return result
    }

    func run() throws {
        let group = try DistributedGroup.world()
        // Rank 0 alone speaks and writes; every rank computes (DataParallel in Train).
        let log: (String) -> Void = group.isMain ? { print($0) } : { _ in }
        try group.runJob {
            try OutputPath.checkFolder(saveDir, option: "--save-dir")
            let file = try HATConfigFile(path: config)
            if group.isMain { warnAboutUnknownKeys(in: file) }
            let space = try SearchSpace(file: file)
            var training = try TrainingConfig(file: file, overrides: try parsedOverrides())
            if keepEffectiveBatch {
                // HAT's README asks its users to do this by hand: update-freq 128 / number of GPUs.
                let workers = try file.int("distributed-world-size") ?? 1
                let wanted = training.updateFreq * workers
                let scaled = Swift.max(1, (wanted + group.size - 1) / group.size)
                log(
                    "--keep-effective-batch: the config's batch is max-tokens \(training.maxTokens) × update-freq \(training.updateFreq) × \(workers) "
                        + "worker(s) = \(training.maxTokens * wanted) tokens; on \(group.size) rank(s) update-freq \(scaled) gives "
                        + "\(training.maxTokens * scaled * group.size)")
                training.updateFreq = scaled
            }
            if group.isMain {
                for note in file.experimentNotes(tokensPerBatch: training.maxTokens, updateFreq: training.updateFreq, ranks: group.size) {
                    diagnostics.notice("\(note)")
                }
            }
            let sub = try subtransformer.map { try space.subTransformer(contentsOf: $0) }
            let dataset = try openBinarizedCorpus(data)
            let threadCount = threads ?? Swift.max(1, ParallelSettings.availableCores / DistributedGroup.ranksOnThisNode)
            try BLAS.withComputeThreads(threadCount) {
                let trainer = try Trainer(
                    space: space, subTransformer: sub, data: dataset, config: training,
                    saveDirectory: URL(fileURLWithPath: saveDir), initFrom: initFrom, progress: ProgressPrinter(silent: !group.isMain),
                    log: log, group: group)
                try trainer.run()
            }
        }
    }
}
