import Datasets
import Foundation
import Logging
import Model
import NN
import TensorEngine
import TestSupport
import Testing

@testable import Train

/// Training on the built-in task: exact resume after SIGKILL, learning, non-finite handling,
/// corrupt checkpoints, fine-tuning and averaging.
@Suite("Trainer", .serialized)
struct TrainerTests {
    static let spaceFile = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path

    /// A small built-in dataset, prepared once per process.
    static let dataset: Result<String, Error> = Result {
        let dir = try Oracle.temporaryDirectory().appendingPathComponent("builtin").path
        _ = try BuiltinCorpus(seed: 1).prepare(output: dir, train: 1200, valid: 120, test: 120)
        return dir
    }

    func trainProcess(saveDir: String, extra: [String] = []) throws -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: HATBinary.path)
        p.arguments =
            [
                "train", "--config", Self.spaceFile, "--data", try Self.dataset.get(), "--save-dir", saveDir,
                "--max-update", "40", "--save-interval-updates", "5", "--max-tokens", "1000", "--seed", "3",
                "--warmup-updates", "10",
            ] + extra
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        return p
    }

    /// Training-loss entries of a run's metrics.jsonl: update → loss.
    static func losses(_ dir: String) throws -> [Int: Double] {
        var out: [Int: Double] = [:]
        for row in try MetricsLog.read(URL(fileURLWithPath: dir).appendingPathComponent("metrics.jsonl")) where row["split"] == nil {
            out[row["update"] as! Int] = (row["loss"] as! Double)
        }
        return out
    }

    @Test(
        "40 updates straight = 20+ updates, SIGKILL, resume: the same loss at every update, bitwise (float32 and --bf16)",
        arguments: [false, true])
    func exactResumeAfterKill(bf16: Bool) throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let straight = root.appendingPathComponent("straight").path, killed = root.appendingPathComponent("killed").path
        let extra = bf16 ? ["--bf16"] : []
        let a = try trainProcess(saveDir: straight, extra: extra)
        try a.run()
        a.waitUntilExit()
        #expect(a.terminationStatus == 0)

        let b = try trainProcess(saveDir: killed, extra: extra)
        try b.run()
        let metrics = URL(fileURLWithPath: killed).appendingPathComponent("metrics.jsonl")
        var seen = 0
        let deadline = Date().addingTimeInterval(120)
        while seen < 22 && b.isRunning && Date() < deadline {
            usleep(2_000)
            seen = ((try? String(contentsOf: metrics, encoding: .utf8)) ?? "").split(separator: "\n").filter { !$0.contains("\"split\"") }.count
        }
        #expect(b.isRunning, "the run finished before it could be killed")
        kill(b.processIdentifier, SIGKILL)
        b.waitUntilExit()
        #expect(b.terminationReason == .uncaughtSignal)
        let beforeResume = try Self.losses(killed)
        #expect(beforeResume.count >= 20 && beforeResume.count < 40)

        let c = try trainProcess(saveDir: killed, extra: extra)
        try c.run()
        c.waitUntilExit()
        #expect(c.terminationStatus == 0)
        let expected = try Self.losses(straight), resumed = try Self.losses(killed)
        #expect(expected.count == 40 && resumed.count == 40)
        for u in 1...40 { #expect(expected[u] == resumed[u], "update \(u): \(String(describing: expected[u])) vs \(String(describing: resumed[u]))") }
        // And the final weights are bitwise equal.
        let x = try SafeTensorsFile.read(from: URL(fileURLWithPath: straight).appendingPathComponent("checkpoint_last.safetensors"))
        let y = try SafeTensorsFile.read(from: URL(fileURLWithPath: killed).appendingPathComponent("checkpoint_last.safetensors"))
        for name in x.names where name.hasPrefix("model.") { #expect(try x.tensor(name).bytes == y.tensor(name).bytes, "\(name)") }
    }

    @Test("with BPE-dropout each epoch trains on its own segmentation, and a resumed run sees the same: bitwise")
    func bpeDropoutResumesExactly() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let file = try HATConfigFile(path: Self.spaceFile)
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        func config(_ updates: Int, dropout: String = "0.1") throws -> TrainingConfig {
            try TrainingConfig(
                file: file,
                overrides: [
                    "max-update": "\(updates)", "save-interval-updates": "5", "max-tokens": "1000",
                    "warmup-updates": "10", "seed": "3", "bpe-dropout": dropout,
                ])
        }
        func trainer(_ dir: String, _ c: TrainingConfig) throws -> Trainer {
            try Trainer(space: space, subTransformer: nil, data: data, config: c, saveDirectory: root.appendingPathComponent(dir), log: { _ in })
        }
        let straight = try trainer("straight", config(80))
        try straight.run()
        #expect(straight.state.epoch > 2, "the run should cross epoch boundaries (\(straight.batches.batchesPerEpoch) batches per epoch)")
        // The batches of the last epoch are that epoch's BPE-dropout segmentation, not the stored one.
        let train = try data.split("train")
        let expected = try BPEDropout(vocabulary: data.sourceVocabulary, probability: 0.1)
            .apply(to: train, seed: 3, epoch: straight.batches.position.epoch)
        #expect(straight.batches.dataset.targetTokens == expected.targetTokens)
        #expect(straight.batches.dataset.targetTokens.count > train.targetTokens.count)

        try trainer("stopped", config(25)).run()  // stops inside an epoch with a checkpoint
        let resumed = try trainer("stopped", config(80))
        #expect(resumed.state.update == 25)
        try resumed.run()
        let a = try Self.losses(root.appendingPathComponent("straight").path), b = try Self.losses(root.appendingPathComponent("stopped").path)
        #expect(a.count == 80 && b.count == 80)
        for u in 1...80 { #expect(a[u] == b[u], "update \(u): \(String(describing: a[u])) vs \(String(describing: b[u]))") }

        try trainer("plain", config(10, dropout: "0")).run()
        let plain = try Self.losses(root.appendingPathComponent("plain").path)
        #expect((1...10).contains { plain[$0] != a[$0] }, "BPE-dropout changed nothing")
    }

    @Test("a checkpoint restores Adam's step count of every parameter; a skipped layer's stays behind")
    func checkpointRestoresParameterSteps() throws {
        // Two updates of a SuperTransformer: the first reaches every parameter, the second only
        // every third one (as when the sampled SubTransformer skips layers). Adam's bias
        // correction uses each parameter's own count, so a resumed run must get them back.
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let file = try HATConfigFile(path: Self.spaceFile)
        let config = try TrainingConfig(file: file, overrides: [:])
        func model() -> SuperTransformer {
            var rng = RandomGenerator(seed: 5)
            return SuperTransformer(space: space, sourceVocabSize: 40, targetVocabSize: 40, rates: config.dropoutRates, rng: &rng)
        }
        let trained = model()
        let optimizer = Adam(parameters: trained.parameters())
        let named = trained.namedParameters()
        #expect(named.count > 4)
        for (_, p) in named { p.storage.gradBuffer()[0] = 1 }
        optimizer.update()
        trained.zeroGrad()
        #expect(named.allSatisfy { $0.tensor.storage.grad == nil }, "zeroGrad sets gradients to none")
        for (i, (_, p)) in named.enumerated() where i % 3 == 0 { p.storage.gradBuffer()[0] = 1 }
        let untouched = named[1].tensor.toArray()
        optimizer.update()
        trained.zeroGrad()
        #expect(named[1].tensor.toArray() == untouched, "a parameter without a gradient moved")
        let expected = named.indices.map { $0 % 3 == 0 ? 2 : 1 }
        #expect(optimizer.parameterSteps == expected)

        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let url = root.appendingPathComponent("c.safetensors")
        let state = CheckpointState(
            update: 2, epoch: 1, batchEpoch: 1, batchIndex: 2, rngState: RandomGenerator(seed: 1).state,
            bestValidLoss: nil, skippedUpdates: 0, space: space, subTransformer: nil, training: config,
            sourceVocabSize: 40, targetVocabSize: 40, data: nil, trainingSeconds: 0)
        try Checkpoint.save(to: url, model: trained, optimizer: optimizer, state: state)
        let restored = model()
        let restoredOptimizer = Adam(parameters: restored.parameters())
        try Checkpoint.load(try SafeTensorsFile.read(from: url), path: url.path, into: restored, optimizer: restoredOptimizer)
        #expect(restoredOptimizer.step == 2 && restoredOptimizer.parameterSteps == expected)
        // A checkpoint without per-parameter counts (written before they were stored) gives
        // every parameter the optimizer's count; a damaged list is refused with the key's name.
        var old = try SafeTensorsFile.read(from: url)
        old.metadata["optimizer_parameter_steps"] = nil
        try Checkpoint.load(old, path: "old.safetensors", into: restored, optimizer: restoredOptimizer)
        #expect(restoredOptimizer.parameterSteps == [Int](repeating: 2, count: named.count))
        old.metadata["optimizer_parameter_steps"] = "{\"x\": 1}"
        let fresh = model(), freshOptimizer = Adam(parameters: fresh.parameters())
        let before = fresh.parameters().map { $0.toArray() }
        #expect(throws: TrainingError.self) { try Checkpoint.load(old, path: "bad.safetensors", into: fresh, optimizer: freshOptimizer) }
        // Nothing was written: a refused checkpoint leaves the model as it was.
        #expect(fresh.parameters().map { $0.toArray() } == before)
        #expect(freshOptimizer.firstMoments.allSatisfy { $0.toArray().allSatisfy { $0 == 0 } })
    }

    /// Cross-entropy (bits per token) of the validation targets under the training targets'
    /// unigram distribution (add-one smoothing): what a model that ignores the source gets at best
    /// without context.
    static func unigramBaseline(_ data: PreparedDataset) throws -> Double {
        let train = try data.split("train"), valid = try data.split("valid")
        var counts = [Double](repeating: 1, count: data.targetVocabulary.size)
        for i in 0..<train.count { for t in train.target(i) { counts[Int(t)] += 1 } }
        let total = counts.reduce(0, +)
        var bits = 0.0, n = 0
        for i in 0..<valid.count {
            for t in valid.target(i) {
                bits -= log2(counts[Int(t)] / total)
                n += 1
            }
        }
        return bits / Double(n)
    }

    @Test("a small supernet learns the built-in task: largest and smallest far below the unigram baseline")
    func learns() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let baseline = try Self.unigramBaseline(data)
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let config = try TrainingConfig(
            file: HATConfigFile(path: Self.spaceFile),
            overrides: ["max-update": "350", "save-interval-updates": "0", "seed": "1"])
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let trainer = try Trainer(space: space, subTransformer: nil, data: data, config: config, saveDirectory: dir, log: { _ in })
        let before = trainer.evaluator.evaluate(trainer.model, config: space.largest).nllLoss
        try trainer.run()
        let largest = trainer.evaluator.evaluate(trainer.model, config: space.largest).nllLoss
        let smallest = trainer.evaluator.evaluate(trainer.model, config: space.smallest).nllLoss
        print("learning: unigram baseline \(baseline) bits, untrained \(before), largest \(largest), smallest \(smallest)")
        #expect(before > baseline)
        #expect(largest < 0.5 * baseline, "largest subnet: \(largest) bits vs unigram \(baseline)")
        #expect(smallest < 0.6 * baseline, "smallest subnet: \(smallest) bits vs unigram \(baseline)")
    }

    @Test("bf16 training learns as float32 does: same seed, validation loss within 3 %, different bits")
    func bfloat16LearnsLikeFloat32() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        var finals: [Bool: (largest: Double, smallest: Double)] = [:]
        for bf16 in [false, true] {
            let config = try TrainingConfig(
                file: HATConfigFile(path: Self.spaceFile),
                overrides: ["max-update": "150", "save-interval-updates": "0", "seed": "1", "bf16": bf16 ? "True" : "False"])
            #expect(config.bf16 == bf16)
            let dir = try Oracle.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            var lines: [String] = []
            let trainer = try Trainer(space: space, subTransformer: nil, data: data, config: config, saveDirectory: dir, log: { lines.append($0) })
            try trainer.run()
            #expect(lines.contains { $0.contains("bf16:") } == bf16, "the log says when products run in bfloat16")
            finals[bf16] = (
                Double(trainer.evaluator.evaluate(trainer.model, config: space.largest).nllLoss),
                Double(trainer.evaluator.evaluate(trainer.model, config: space.smallest).nllLoss)
            )
            // The checkpoint records the setting, so a resumed run keeps it.
            let url = dir.appendingPathComponent("checkpoint_last.safetensors")
            let saved = try Checkpoint.readState(try SafeTensorsFile.read(from: url), path: url.path)
            #expect(saved.training.bf16 == bf16)
        }
        let f = finals[false]!, b = finals[true]!
        print("bf16 against float32 after 150 updates: largest \(b.largest) / \(f.largest), smallest \(b.smallest) / \(f.smallest) bits")
        #expect(b.largest != f.largest, "bf16 changed nothing: the products did not run in bfloat16")
        #expect(abs(b.largest - f.largest) < 0.03 * f.largest)
        #expect(abs(b.smallest - f.smallest) < 0.03 * f.smallest)
    }

    @Test("non-finite losses skip updates, stop with a clear message, and never reach a checkpoint")
    func divergenceStops() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let config = try TrainingConfig(
            file: HATConfigFile(path: Self.spaceFile),
            overrides: [
                "max-update": "50", "lr-scheduler": "fixed", "lr": "1e12", "save-interval-updates": "1", "max-consecutive-skips": "3",
            ])
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let warnings = CapturedLog()
        let trainer = try Trainer(
            space: space, subTransformer: nil, data: data, config: config, saveDirectory: dir, log: { _ in },
            logger: warnings.logger)
        #expect {
            try trainer.run()
        } throws: { error in
            "\(error)".contains("training diverged: 3 updates in a row had a non-finite loss or gradient")
        }
        #expect(warnings.lines.contains { $0.hasPrefix("warning: ") && $0.contains("skipped: non-finite") }, "\(warnings.lines)")
        #expect(trainer.state.skippedUpdates >= 3)
        // Every checkpoint that was written holds finite weights.
        for f in try FileManager.default.contentsOfDirectory(atPath: dir.path) where f.hasSuffix(".safetensors") {
            let file = try SafeTensorsFile.read(from: dir.appendingPathComponent(f))
            for name in file.names { #expect(try file.tensor(name).floats().allSatisfy(\.isFinite), "\(f): \(name)") }
        }
    }

    @Test("a killed run's temporary files are removed at the next start; a live process's and the user's stay; one trainer per folder")
    func leftoversAndLock() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let file = try HATConfigFile(path: Self.spaceFile)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // PID 2^22 + 1 is above Linux's pid_max default range; our own PID is alive.
        let dead = ".checkpoint_last.safetensors.tmp-4194305-17", live = ".checkpoint_1_5.safetensors.tmp-\(getpid())-3"
        for name in [dead, live, ".notes.tmp", "mine.txt"] { try Data("x".utf8).write(to: dir.appendingPathComponent(name)) }
        var messages: [String] = []
        let config = try TrainingConfig(file: file, overrides: ["max-update": "2", "max-tokens": "400"])
        let trainer = try Trainer(space: space, subTransformer: nil, data: data, config: config, saveDirectory: dir, log: { messages.append($0) })
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir.path))
        #expect(!left.contains(dead) && left.isSuperset(of: [live, ".notes.tmp", "mine.txt"]), "\(left)")
        #expect(messages.contains { $0.contains(dead) })
        // A second trainer on the same folder while the first holds it: refused, naming the folder.
        #expect {
            try Trainer(space: space, subTransformer: nil, data: data, config: config, saveDirectory: dir, log: { _ in })
        } throws: { "\($0)".contains("another hat train is running") }
        try trainer.run()  // releases the folder
        _ = try Trainer(space: space, subTransformer: nil, data: data, config: config, saveDirectory: dir, log: { _ in })
    }

    @Test("a dataset prepared again in place with another vocabulary is refused on resume and by the check translation and search run")
    func vocabularyChangedInPlace() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let dataDir = root.appendingPathComponent("data").path
        _ = try BuiltinCorpus(seed: 1).prepare(output: dataDir, train: 300, valid: 30, test: 30, vocabularySize: 300)
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let file = try HATConfigFile(path: Self.spaceFile)
        let config = try TrainingConfig(file: file, overrides: ["max-update": "2", "max-tokens": "400", "save-interval-updates": "2"])
        let save = root.appendingPathComponent("run")
        try Trainer(
            space: space, subTransformer: nil, data: PreparedDataset(directory: dataDir), config: config, saveDirectory: save,
            log: { _ in }
        ).run()
        let checkpoint = save.appendingPathComponent("checkpoint_last.safetensors").path
        let state = try Checkpoint.readState(SafeTensorsFile.read(from: URL(fileURLWithPath: checkpoint)), path: checkpoint)
        #expect(state.vocabularyDigest == (try PreparedDataset(directory: dataDir).vocabularyDigest()))
        // Same folder, same vocabulary size, another corpus: other pieces behind the same ids.
        try FileManager.default.removeItem(atPath: dataDir)
        _ = try BuiltinCorpus(seed: 2).prepare(output: dataDir, train: 300, valid: 30, test: 30, vocabularySize: 300)
        let again = try TrainingConfig(file: file, overrides: ["max-update": "4", "max-tokens": "400"])
        #expect {
            try Trainer(space: space, subTransformer: nil, data: PreparedDataset(directory: dataDir), config: again, saveDirectory: save, log: { _ in })
        } throws: { "\($0)".contains("does not have the vocabulary") }
        #expect(throws: (any Error).self) { try state.checkVocabulary(of: PreparedDataset(directory: dataDir), checkpoint: checkpoint) }
    }

    @Test("a full disk (a file-size limit) stops training with a clear error and leaves the last good checkpoint as it was")
    func fullDiskKeepsTheLastCheckpoint() throws {
        guard HATBinary.isAvailable else {
            Issue.record("the hat binary is not built")
            return
        }
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let save = dir.appendingPathComponent("run").path
        func train(_ updates: Int, limitKB: Int?) throws -> (status: Int32, reason: Process.TerminationReason, output: String) {
            let p = Process()
            let command = [
                HATBinary.path, "train", "--config", Self.spaceFile, "--data", try Self.dataset.get(), "--save-dir", save,
                "--max-update", "\(updates)", "--save-interval-updates", "2", "--max-tokens", "1000", "--seed", "3",
            ]
            .map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
            // SIGXFSZ ignored, so a write past the limit fails with EFBIG as on a full disk.
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", (limitKB.map { "trap '' XFSZ; ulimit -f \($0); " } ?? "") + "exec " + command]
            let pipe = Pipe()
            p.standardOutput = pipe
            p.standardError = pipe
            try p.run()
            let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            return (p.terminationStatus, p.terminationReason, output)
        }
        let first = try train(2, limitKB: nil)
        try #require(first.status == 0, "\(first.output)")
        let last = URL(fileURLWithPath: save).appendingPathComponent("checkpoint_last.safetensors")
        let good = try Data(contentsOf: last)
        // Every checkpoint is larger than the limit: the next one cannot be written.
        let limitKB = good.count / 1024 / 4
        let full = try train(4, limitKB: limitKB)
        #expect(full.reason == .exit && full.status != 0, "exit \(full.status) \(full.reason): \(full.output.suffix(800))")
        #expect(
            full.output.contains("File too large") || full.output.contains("disk full") || full.output.contains("cannot write"),
            "\(full.output.suffix(800))")
        #expect(try Data(contentsOf: last) == good, "checkpoint_last changed")
        #expect(try SafeTensorsFile.read(from: last).names.isEmpty == false)
        // With space again the same command resumes from it.
        let resumed = try train(4, limitKB: nil)
        #expect(resumed.status == 0 && resumed.output.contains("resuming from"), "\(resumed.output.suffix(800))")
    }

    @Test("a checkpoint whose training state was tampered with is refused by name before a model is built from it")
    func hostileCheckpointStates() throws {
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let config = try TrainingConfig(file: HATConfigFile(path: Self.spaceFile), overrides: [:])
        var rng = RandomGenerator(seed: 3)
        let model = SuperTransformer(space: space, sourceVocabSize: 40, targetVocabSize: 40, rates: .none, rng: &rng)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let good = dir.appendingPathComponent("good.safetensors")
        let state = CheckpointState.start(space: space, subTransformer: nil, training: config, sourceVocabSize: 40, targetVocabSize: 40, data: nil)
        try Checkpoint.save(to: good, model: model, optimizer: nil, state: state)
        _ = try Checkpoint.loadModel(path: good.path)
        let tampered: [(String, (inout CheckpointState) -> Void)] =
            [
                ("random generator state", { $0.rngState = [0, 0, 0, 0] }),
                ("random generator state", { $0.rngState = [1] }),
                (
                    "not a vocabulary size",
                    {
                        $0.sourceVocabSize = 1 << 40
                        $0.targetVocabSize = 1 << 40
                    }
                ),
                ("counters are out of range", { $0.batchEpoch = 0 }),
                ("counters are out of range", { $0.update = -5 }),
                (
                    "search space is invalid",
                    {
                        $0.subTransformer = space.largest
                        $0.subTransformer!.encoderEmbedDim = 99_999
                    }
                ),
            ] + (space.shareAllEmbeddings ? [("shares all embeddings", { $0.targetVocabSize = 41 })] : [])
        for (i, (phrase, change)) in tampered.enumerated() {
            var bad = state
            change(&bad)
            var file = try SafeTensorsFile.read(from: good)
            file.metadata["state"] = try Checkpoint.encode(bad)
            let url = dir.appendingPathComponent("bad\(i).safetensors")
            try file.write(to: url)
            #expect { _ = try Checkpoint.loadModel(path: url.path) } throws: { error in
                guard case TrainingError.badCheckpoint(let m) = error else { return false }
                return m.contains(url.path) && m.contains(phrase)
            }
        }
    }

    @Test("a validation pair longer than the model's positions is left out and counted, not a trap")
    func overlongValidationPairs() throws {
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        var rng = RandomGenerator(seed: 4)
        let model = SuperTransformer(space: space, sourceVocabSize: 30, targetVocabSize: 30, rates: .none, maxPositions: 16, rng: &rng)
        #expect(model.maxSentenceLength == 16)
        let short: [[Int32]] = [[5, 6, 2], [7, 8, 9, 2]]
        let long = [Int32](repeating: 11, count: 40) + [2], exact = [Int32](repeating: 12, count: 15) + [2]
        let data = TranslationDataset(source: short + [long, exact, [5, 2]], target: short + [[6, 2], long, exact])
        let evaluator = try Evaluator(dataset: data, maxTokens: 4000, labelSmoothing: 0.1, maxLength: model.maxSentenceLength)
        #expect(evaluator.droppedTooLong == 2)
        let result = evaluator.evaluate(model, config: space.largest)
        #expect(result.tokens == 3 + 4 + 16 && result.loss.isFinite)
        // The same as scoring only the pairs that fit.
        let fitting = try Evaluator(dataset: TranslationDataset(source: short + [[5, 2]], target: short + [exact]), maxTokens: 4000, labelSmoothing: 0.1)
        #expect(abs(fitting.evaluate(model, config: space.largest).loss - result.loss) < 1e-9)
    }

    @Test("a truncated newest checkpoint is reported and skipped for the previous one")
    func corruptCheckpointSkipped() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let file = try HATConfigFile(path: Self.spaceFile)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let first = try TrainingConfig(
            file: file, overrides: ["max-update": "10", "save-interval-updates": "4", "keep-last-updates": "-1", "max-tokens": "400"])
        try Trainer(space: space, subTransformer: nil, data: data, config: first, saveDirectory: dir, log: { _ in }).run()
        // Newest are checkpoint_1_10 (end) and checkpoint_last; truncate both.
        for name in ["checkpoint_last.safetensors", "checkpoint_1_10.safetensors"] {
            let url = dir.appendingPathComponent(name)
            let bytes = try Data(contentsOf: url)
            try bytes.prefix(bytes.count / 2).write(to: url)
            try FileManager.default.setAttributes([.modificationDate: Date()], ofItemAtPath: url.path)
        }
        var messages: [String] = []
        let warnings = CapturedLog()
        let again = try TrainingConfig(file: file, overrides: ["max-update": "12", "save-interval-updates": "4", "max-tokens": "400"])
        let trainer = try Trainer(
            space: space, subTransformer: nil, data: data, config: again, saveDirectory: dir, log: { messages.append($0) },
            logger: warnings.logger)
        #expect(trainer.state.update == 8, "resumed from update \(trainer.state.update)")
        // Skipped checkpoints are warnings (stderr in hat), not lines of the training log.
        #expect(warnings.lines.filter { $0.hasPrefix("warning: skipping checkpoint") }.count == 2, "\(warnings.lines)")
        #expect(!messages.contains { $0.contains("skipping checkpoint") }, "\(messages)")
        #expect(messages.contains { $0.contains("resuming from checkpoint_1_8.safetensors") })
        trainer.folder?.release()  // it never runs; the next trainer opens the same folder

        // None loads: the run stops, naming them, and leaves the folder (metrics included) as it was.
        let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".safetensors") }
        for name in names {
            let url = dir.appendingPathComponent(name)
            let bytes = try Data(contentsOf: url)
            try bytes.prefix(100).write(to: url)
        }
        let metrics = try Data(contentsOf: dir.appendingPathComponent("metrics.jsonl"))
        let before = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
        #expect {
            try Trainer(space: space, subTransformer: nil, data: data, config: again, saveDirectory: dir, log: { _ in })
        } throws: { error in
            guard case TrainingError.noLoadableCheckpoint(let m) = error else { return false }
            return m.contains("none loads") && m.contains("checkpoint_1_8.safetensors") && m.contains("Nothing was changed")
        }
        #expect(try Data(contentsOf: dir.appendingPathComponent("metrics.jsonl")) == metrics)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == before)
    }

    @Test("fine-tuning starts at the supernet's validation loss for the SubTransformer; averaging averages")
    func fineTuneAndAverage() throws {
        let data = try PreparedDataset(directory: Self.dataset.get())
        let space = try SearchSpace(contentsOf: Self.spaceFile)
        let file = try HATConfigFile(path: Self.spaceFile)
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let superDir = root.appendingPathComponent("super")
        let supernet = try Trainer(
            space: space, subTransformer: nil, data: data,
            config: try TrainingConfig(file: file, overrides: ["max-update": "60", "save-interval-updates": "30"]),
            saveDirectory: superDir, log: { _ in })
        try supernet.run()
        var rng = RandomGenerator(seed: 21)
        let sub = space.sample(rng: &rng)
        let supernetLoss = supernet.evaluator.evaluate(supernet.model, config: sub).loss

        let fineTune = try Trainer(
            space: space, subTransformer: sub, data: data,
            config: try TrainingConfig(file: file, overrides: ["max-update": "5"]),
            saveDirectory: root.appendingPathComponent("fine"),
            initFrom: superDir.appendingPathComponent("checkpoint_last.safetensors").path, log: { _ in })
        #expect(fineTune.evaluator.evaluate(fineTune.model, config: sub).loss == supernetLoss)
        let scratch = try Trainer(
            space: space, subTransformer: sub, data: data,
            config: try TrainingConfig(file: file, overrides: ["max-update": "5"]),
            saveDirectory: root.appendingPathComponent("scratch"), log: { _ in })
        #expect(scratch.evaluator.evaluate(scratch.model, config: sub).loss > supernetLoss + 1)

        // Averaging two checkpoints gives the mean of their weights.
        let at30 = try #require(try FileManager.default.contentsOfDirectory(atPath: superDir.path).first { $0.hasSuffix("_30.safetensors") })
        let a = superDir.appendingPathComponent(at30), b = superDir.appendingPathComponent("checkpoint_last.safetensors")
        let out = root.appendingPathComponent("avg.safetensors")
        try CheckpointAverager.average([a, b], output: out)
        let (fa, fb, fo) = (try SafeTensorsFile.read(from: a), try SafeTensorsFile.read(from: b), try SafeTensorsFile.read(from: out))
        let name = "model.encoder.layers.0.fc1.weight"
        let (va, vb, vo) = (try fa.tensor(name).floats(), try fb.tensor(name).floats(), try fo.tensor(name).floats())
        for i in stride(from: 0, to: va.count, by: 97) { #expect(abs(vo[i] - Float((Double(va[i]) + Double(vb[i])) / 2)) <= 1e-7) }
        _ = try Checkpoint.loadModel(path: out.path)
    }
}

/// The messages a swift-log `Logger` was given, as "LEVEL: message" (the trainer's warnings).
final class CapturedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var kept: [String] = []
    var lines: [String] { lock.withLock { kept } }

    var logger: Logger { Logger(label: "test") { _ in Handler(sink: self) } }

    struct Handler: LogHandler {
        let sink: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            sink.lock.withLock { sink.kept.append("\(event.level): \(event.message)") }
        }
    }
}
