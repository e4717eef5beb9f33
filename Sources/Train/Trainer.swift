import Data
import Foundation
import Model
import NN
import TensorEngine

/// SuperTransformer training (one random SubTransformer per update, HAT), SubTransformer
/// training from scratch (a fixed subnet), and fine-tuning (a fixed subnet that starts from a
/// supernet's weights). Resumes from the newest valid checkpoint in the save directory by itself.
public final class Trainer {
    public let model: SuperTransformer
    public let optimizer: Adam
    public let config: TrainingConfig
    public let space: SearchSpace
    public let subTransformer: SubTransformerConfig?
    public let saveDirectory: URL
    public private(set) var state: CheckpointState
    var batches: BatchIterator
    /// The training split as stored, and (with bpe-dropout) what re-segments it every epoch.
    let trainSplit: TranslationDataset
    let bpeDropout: BPEDropout?
    /// The epoch `batches` currently holds the segmentation of (bpe-dropout only).
    var segmentedEpoch = 0
    let evaluator: Evaluator
    let context: ForwardContext
    let validationSubnets: [(name: String, config: SubTransformerConfig)]
    let metrics: MetricsLog
    /// The save folder's lock (`OutputLock`).
    let lock: OutputLock
    let printer = ProgressPrinter()
    let log: (String) -> Void

    /// Prepares a run. If `saveDirectory` holds checkpoints, resumes from the newest valid one
    /// (corrupt ones are reported and skipped); otherwise starts fresh, from `initFrom`'s
    /// weights when given (fine-tuning).
    public init(space: SearchSpace, subTransformer: SubTransformerConfig?, data: any BinarizedCorpus, config: TrainingConfig,
                saveDirectory: URL, initFrom: String? = nil, log: @escaping (String) -> Void = { print($0) }) throws {
        self.space = space
        self.subTransformer = subTransformer
        self.config = config
        self.saveDirectory = saveDirectory
        self.log = log
        if let sub = subTransformer { try space.check(sub, file: "the SubTransformer") }
        try FileManager.default.createDirectory(at: saveDirectory, withIntermediateDirectories: true)
        // Held until `run` ends (or this trainer goes away): two runs never write one save folder.
        lock = try OutputLock(folder: saveDirectory, job: "train")
        for leftover in TemporaryFiles.removeLeftovers(in: saveDirectory) {
            log("removed \(leftover), a temporary file of an earlier run that was stopped while writing")
        }

        let (vs, vt) = data.vocabularySizes
        if space.shareAllEmbeddings && vs != vt {
            throw TrainingError.invalid("the space shares all embeddings but the data has separate vocabularies (\(vs) source, \(vt) target): prepare it with a joint vocabulary")
        }
        var initRNG = RandomGenerator(seed: config.seed)
        model = SuperTransformer(space: space, sourceVocabSize: vs, targetVocabSize: vt, rates: config.dropoutRates, rng: &initRNG)
        optimizer = Adam(parameters: model.parameters(), learningRate: 0,
                         betas: (Float(config.adamBetas[0]), Float(config.adamBetas[1])), eps: Float(config.adamEps),
                         weightDecay: Float(config.weightDecay))
        // Pairs longer than the model's positions cannot be trained on or scored (fairseq drops them too).
        let (train, droppedTrain) = try data.split("train").keepingPairs(maxLength: model.maxSentenceLength)
        if droppedTrain > 0 { log("train: \(droppedTrain) pairs longer than the model's \(model.maxSentenceLength) positions left out") }
        trainSplit = train
        if config.bpeDropout > 0 {
            guard let data = data as? PreparedDataset else {
                throw TrainingError.invalid("bpe-dropout re-segments text with our SentencePiece vocabulary; \(data.directory) is a fairseq data-bin folder (subword-nmt BPE): drop --bpe-dropout")
            }
            guard data.manifest.vocabulary.modelType == .bpe else {
                throw TrainingError.invalid("bpe-dropout needs a BPE vocabulary, but \(data.directory) was prepared with a \(data.manifest.vocabulary.modelType.rawValue) one: prepare the data with model type bpe or drop --bpe-dropout")
            }
            guard data.manifest.vocabulary.shared else {
                throw TrainingError.invalid("bpe-dropout is supported for a joint vocabulary; \(data.directory) has separate source and target vocabularies")
            }
            bpeDropout = try BPEDropout(vocabulary: data.sourceVocabulary, probability: config.bpeDropout,
                                        maxLength: data.manifest.filters.maxLength)
        } else {
            bpeDropout = nil
        }
        evaluator = try Evaluator(dataset: try data.split("valid"), maxTokens: config.maxTokens, labelSmoothing: Float(config.labelSmoothing),
                                  maxLength: model.maxSentenceLength)
        if evaluator.droppedTooLong > 0 {
            log("valid: \(evaluator.droppedTooLong) pairs longer than the model's \(model.maxSentenceLength) positions are not scored")
        }

        // Validated every epoch: the subnet itself, or the largest, the smallest and a fixed seeded set.
        if let sub = subTransformer {
            validationSubnets = [("subtransformer", sub)]
        } else {
            var rng = RandomGenerator(seed: config.seed ^ 0x5EED_0F_5AB)
            validationSubnets = [("largest", space.largest), ("smallest", space.smallest)]
                + (0..<config.validationRandomSubnets).map { ("random\($0 + 1)", space.sample(rng: &rng)) }
        }

        let fresh = CheckpointState.start(space: space, subTransformer: subTransformer, training: config, sourceVocabSize: vs,
                                          targetVocabSize: vt, data: URL(fileURLWithPath: data.directory).standardizedFileURL.path)
        var resumed: CheckpointState?
        var unreadable: [String] = []
        for candidate in Self.checkpoints(in: saveDirectory) {
            do {
                let file = try SafeTensorsFile.read(from: candidate)
                let s = try Checkpoint.readState(file, path: candidate.path)
                guard s.space == space, s.subTransformer == subTransformer, s.sourceVocabSize == vs, s.targetVocabSize == vt else {
                    throw TrainingError.differentRun("\(candidate.path) is from a different run (space, SubTransformer or vocabulary differ): use another --save-dir")
                }
                try Checkpoint.load(file, path: candidate.path, into: model, optimizer: optimizer)
                resumed = s
                log("resuming from \(candidate.lastPathComponent): update \(s.update), epoch \(s.batchEpoch) batch \(s.batchIndex)")
                break
            } catch let e as TrainingError {
                if case .differentRun = e { throw e }
                unreadable.append("\(candidate.lastPathComponent): \(e)")
                log("warning: skipping checkpoint \(candidate.lastPathComponent): \(e)")
            } catch {
                unreadable.append("\(candidate.lastPathComponent): \(error)")
                log("warning: skipping checkpoint \(candidate.lastPathComponent): \(error)")
            }
        }
        // Checkpoints that all fail to load: starting over would overwrite them and metrics.jsonl.
        if resumed == nil && !unreadable.isEmpty {
            throw TrainingError.noLoadableCheckpoint("\(saveDirectory.path) holds \(unreadable.count) checkpoint(s) and none loads:\n  "
                + unreadable.prefix(8).joined(separator: "\n  ")
                + "\nNothing was changed. Restore a readable checkpoint, move these away, or use another --save-dir to start over")
        }
        // The batches, from where the checkpoint stopped (with bpe-dropout: that epoch's segmentation).
        let position = resumed.map { BatchPosition(epoch: $0.batchEpoch, index: $0.batchIndex) } ?? .start
        if let bpeDropout {
            batches = try Self.segmentedBatches(train, bpeDropout, config: config, position: position)
            segmentedEpoch = position.epoch
        } else {
            batches = try BatchIterator(dataset: train, maxTokens: config.maxTokens, seed: config.seed, shuffle: true, skipOversized: true)
            try batches.resume(at: position)
        }
        if var r = resumed {
            r.training = config  // overrides given on the command line apply to the rest of the run
            state = r
        } else {
            state = fresh
            if let initFrom {
                let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: initFrom))
                let s = try Checkpoint.readState(file, path: initFrom)
                guard s.space == space, s.sourceVocabSize == vs, s.targetVocabSize == vt else {
                    throw TrainingError.invalid("\(initFrom): its search space or vocabulary differs from this run's; fine-tuning inherits weights from the same SuperTransformer")
                }
                try Checkpoint.load(file, path: initFrom, into: model, optimizer: nil)
                log("initialized from \(initFrom) (update \(s.update)): inherited SuperTransformer weights")
                // An imported HAT model's text pipeline (vocabulary.json, dictionaries, BPE codes) goes
                // beside the new checkpoints, so translate, test and export find it there.
                let initFolder = URL(fileURLWithPath: initFrom).deletingLastPathComponent()
                if let vocabulary = try FairseqVocabulary.read(folder: initFolder) {
                    try vocabulary.copy(from: initFolder, to: saveDirectory)
                }
            }
        }
        context = ForwardContext(training: true, rng: RandomGenerator(state: state.rngState))
        metrics = try MetricsLog(url: saveDirectory.appendingPathComponent("metrics.jsonl"),
                                 keepingUpdatesThrough: resumed == nil ? nil : state.update)
    }

    /// With bpe-dropout, makes `batches` iterate its current epoch segmented anew (a function of
    /// seed and epoch, so a resumed run sees the same pieces), from where it stands.
    func segmentTrainingDataIfNeeded() throws {
        guard let bpeDropout, segmentedEpoch != batches.position.epoch else { return }
        batches = try Self.segmentedBatches(trainSplit, bpeDropout, config: config, position: batches.position)
        segmentedEpoch = batches.position.epoch
    }

    static func segmentedBatches(_ train: TranslationDataset, _ bpeDropout: BPEDropout, config: TrainingConfig,
                                 position: BatchPosition) throws -> BatchIterator {
        guard position.epoch >= 1 else {
            throw DataError.invalidArgument("cannot resume at \(position): epochs start at 1 (a damaged checkpoint?)")
        }
        let data = bpeDropout.apply(to: train, seed: config.seed, epoch: position.epoch, sides: config.bpeDropoutSides)
        var batches = try BatchIterator(dataset: data, maxTokens: config.maxTokens, seed: config.seed, shuffle: true,
                                        skipOversized: true, position: BatchPosition(epoch: position.epoch, index: 0))
        try batches.resume(at: position)
        return batches
    }

    /// Checkpoint files, newest first (by the update count in their names, then modification time).
    static func checkpoints(in dir: URL) -> [URL] {
        let files = (try? FileManager.default.contentsOfDirectory(at: dir, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        func rank(_ u: URL) -> (Int, Date) {
            let name = u.deletingPathExtension().lastPathComponent
            let date = (try? u.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            return (name == "checkpoint_last" ? 1 : 0, date)
        }
        return files.filter { $0.pathExtension == "safetensors" && $0.lastPathComponent.hasPrefix("checkpoint") && !$0.lastPathComponent.hasPrefix("checkpoint_best") }
            .sorted { a, b in
                let (ra, rb) = (rank(a), rank(b))
                return ra.0 != rb.0 ? ra.0 > rb.0 : ra.1 > rb.1
            }
    }

    /// Validates every tracked SubTransformer; returns their mean loss.
    @discardableResult
    func validate() throws -> Double {
        var total = 0.0
        for (name, sub) in validationSubnets {
            let r = evaluator.evaluate(model, config: sub)
            total += r.loss
            try metrics.write(["split": "valid", "update": state.update, "epoch": state.epoch, "subtransformer": name,
                           "loss": r.loss, "nll_loss": r.nllLoss, "ppl": r.perplexity, "tokens": r.tokens,
                           "config": sub.description])
            printer.log(String(format: "valid  epoch %d update %d  %@  loss %.3f  nll %.3f  ppl %.2f",
                               state.epoch, state.update, name, r.loss, r.nllLoss, r.perplexity))
        }
        return total / Double(Swift.max(validationSubnets.count, 1))
    }

    func save(_ name: String, alsoAsLast: Bool = true) throws {
        state.rngState = context.rng.state
        state.batchEpoch = batches.position.epoch
        state.batchIndex = batches.position.index
        let url = saveDirectory.appendingPathComponent(name)
        try Checkpoint.save(to: url, model: model, optimizer: optimizer, state: state)
        if alsoAsLast { try replaceCopy(of: url, as: "checkpoint_last.safetensors") }
    }

    func replaceCopy(of url: URL, as name: String) throws {
        let fm = FileManager.default
        let tmp = saveDirectory.appendingPathComponent(TemporaryFiles.name(for: name))
        do {
            try fm.copyItem(at: url, to: tmp)
            try TemporaryFiles.sync(tmp.path)
        } catch {
            try? fm.removeItem(at: tmp)
            throw TrainingError.invalid("cannot write \(name) in \(saveDirectory.path): \(error)")
        }
        guard rename(tmp.path, saveDirectory.appendingPathComponent(name).path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(at: tmp)
            throw TrainingError.invalid("cannot write \(name) in \(saveDirectory.path): \(reason)")
        }
        try TemporaryFiles.sync(saveDirectory.path)
    }

    /// Deletes epoch/update checkpoints beyond keep-last-epochs / keep-last-updates.
    func pruneCheckpoints() {
        let fm = FileManager.default
        let files = (try? fm.contentsOfDirectory(atPath: saveDirectory.path)) ?? []
        func numbered(_ pattern: String) -> [(Int, String)] {
            files.compactMap { f -> (Int, String)? in
                guard f.hasSuffix(".safetensors") else { return nil }
                let stem = String(f.dropLast(".safetensors".count))
                let parts = stem.replacingOccurrences(of: "checkpoint", with: "").split(separator: "_")
                if pattern == "epoch", parts.count == 1, let e = Int(parts[0]) { return (e, f) }
                if pattern == "update", parts.count == 2, let u = Int(parts[1]) { return (u, f) }
                return nil
            }.sorted { $0.0 > $1.0 }
        }
        if config.keepLastEpochs >= 0 {
            for (_, f) in numbered("epoch").dropFirst(config.keepLastEpochs) { try? fm.removeItem(atPath: saveDirectory.appendingPathComponent(f).path) }
        }
        if config.keepLastUpdates >= 0 {
            for (_, f) in numbered("update").dropFirst(config.keepLastUpdates) { try? fm.removeItem(atPath: saveDirectory.appendingPathComponent(f).path) }
        }
    }

    var isFinished: Bool {
        (config.maxUpdate > 0 && state.update >= config.maxUpdate) || (config.maxEpoch > 0 && state.epoch > config.maxEpoch)
            || outOfTime
    }

    /// Training time (across resumes) has reached stop-time-minutes.
    var outOfTime: Bool { config.stopTimeMinutes > 0 && state.trainingSeconds >= config.stopTimeMinutes * 60 }

    /// Trains until max-update, max-epoch or the time limit; returns the final state.
    @discardableResult
    public func run() throws -> CheckpointState {
        defer { lock.release() }
        return try BLAS.$productPrecision.withValue(config.bf16 ? .bfloat16 : .float32) { try trainInPrecision() }
    }

    private func trainInPrecision() throws -> CheckpointState {
        let mode: String
        if let sub = subTransformer {
            // The SubTransformer trains inside a SuperTransformer-shaped model; say how big it is itself.
            let profiler = Profiler(space: space, sourceVocabSize: model.sourceVocabSize, targetVocabSize: model.targetVocabSize)
            mode = "SubTransformer \(sub); \(profiler.parameters(sub)) parameters (HAT's count) + \(profiler.embeddingParameters(sub)) in embeddings"
        } else {
            mode = "SuperTransformer (one random SubTransformer per update); \(model.parameterCount) parameters"
        }
        try segmentTrainingDataIfNeeded()
        log("training \(mode); seed \(config.seed); \(batches.batchesPerEpoch) batches per epoch"
            + (bpeDropout.map { String(format: "; BPE-dropout %.2f on %@ (the training split is segmented anew every epoch)", $0.probability,
                                        config.bpeDropoutSides == .both ? "both sides" : "the \(config.bpeDropoutSides.rawValue) side") } ?? ""))
        log("kernels: \(BLAS.kernelDescription); \(ParallelSettings.threads) threads")
        if !config.bf16 && BLAS.hasBFloat16Hardware {
            // Whether --bf16 pays depends on the CPU (twice the multiply rate on AMD Zen 4, none
            // on Intel's Xeons): measured here rather than guessed from the CPU's name.
            let rates = BLAS.measureProductRates()
            log(String(format: "this CPU has AVX512-BF16: products with bfloat16 operands run at %.0f GFLOP/s here against %.0f in float32 "
                + "(one 1024x1024x512 product)%@", rates.bfloat16GFLOPs, rates.float32GFLOPs,
                rates.bfloat16GFLOPs > 1.15 * rates.float32GFLOPs ? "; --bf16 trains faster (weights and Adam stay float32; docs/PERFORMANCE.md compares quality)"
                    : "; float32 is as fast, keep it"))
        }
        if config.bf16 {
            log(BLAS.hasBFloat16Hardware
                ? "bf16: products in bfloat16 with float32 sums (AVX512-BF16); weights, gradients and Adam in float32"
                : "warning: bf16: this CPU has no AVX512-BF16, so bfloat16 products run in portable C, several times slower than float32; drop --bf16 for speed")
        }
        let runStart = Date()
        let secondsBefore = state.trainingSeconds
        var consecutiveSkips = 0
        let totalUpdates = config.maxUpdate > 0 ? config.maxUpdate
            : config.maxEpoch * ((batches.batchesPerEpoch + config.updateFreq - 1) / config.updateFreq)
        let startUpdate = state.update
        while !isFinished {
            try segmentTrainingDataIfNeeded()
            let sub = subTransformer ?? space.sample(rng: &context.rng)
            let updateStart = Date()
            var lossSum = 0.0, nllSum = 0.0, tokens = 0
            var epochEnded = false
            for _ in 0..<config.updateFreq {
                guard let batch = batches.next() else { epochEnded = true; break }
                let (loss, nll) = model.loss(source: batch.sourceBatch, previousOutput: batch.previousOutputBatch,
                                             target: batch.targetTokens, config: sub, labelSmoothing: Float(config.labelSmoothing),
                                             context: context)
                lossSum += Double(loss.item)
                nllSum += Double(nll)
                tokens += batch.targetTokenCount
                loss.backward()
            }
            if tokens > 0 {
                let scale = 1 / Double(tokens)
                let norm = gradientNorm(optimizer.parameters) * scale
                if !lossSum.isFinite || !norm.isFinite {
                    model.zeroGrad()
                    state.skippedUpdates += 1
                    consecutiveSkips += 1
                    log("warning: update \(state.update + 1) skipped: non-finite \(lossSum.isFinite ? "gradient" : "loss") (\(state.skippedUpdates) skipped so far)")
                    if consecutiveSkips >= config.maxConsecutiveSkips {
                        throw TrainingError.diverged("training diverged: \(consecutiveSkips) updates in a row had a non-finite loss or gradient. Lower lr, raise warmup-updates or set clip-norm; the last good checkpoint is in \(saveDirectory.path)")
                    }
                } else {
                    consecutiveSkips = 0
                    let clip = config.clipNorm > 0 && norm > config.clipNorm ? config.clipNorm / norm : 1
                    let lr = config.schedule.learningRate(update: state.update)
                    optimizer.learningRate = Float(lr)
                    optimizer.update(gradientScale: Float(scale * clip))
                    model.zeroGrad()
                    state.update += 1
                    let seconds = Date().timeIntervalSince(updateStart)
                    let perToken = scale / Foundation.log(2.0)
                    if state.update % config.logIntervalUpdates == 0 {
                        try metrics.write(["update": state.update, "epoch": state.epoch, "loss": lossSum * perToken,
                                       "nll_loss": nllSum * perToken, "lr": lr, "grad_norm": norm, "target_tokens": tokens,
                                       "tokens_per_s": Double(tokens) / Swift.max(seconds, 1e-9),
                                       "wall_s": secondsBefore + Date().timeIntervalSince(runStart)])
                    }
                    state.trainingSeconds = secondsBefore + Date().timeIntervalSince(runStart)
                    let done = state.update - startUpdate
                    let elapsed = Date().timeIntervalSince(runStart)
                    var eta = totalUpdates > 0 ? elapsed / Double(done) * Double(Swift.max(totalUpdates - state.update, 0)) : 0
                    if config.stopTimeMinutes > 0 {  // a time budget ends the run first when it is the shorter
                        eta = Swift.min(eta, Swift.max(config.stopTimeMinutes * 60 - state.trainingSeconds, 0))
                    }
                    printer.update(String(format: "epoch %d update %d/%d  loss %.3f  lr %.2e  %.0f tok/s  ETA %@",
                                          state.epoch, state.update, totalUpdates, lossSum * perToken, lr,
                                          Double(tokens) / Swift.max(seconds, 1e-9), formatDuration(eta)))
                    if config.saveIntervalUpdates > 0 && state.update % config.saveIntervalUpdates == 0 && !epochEnded {
                        state.trainingSeconds = secondsBefore + Date().timeIntervalSince(runStart)
                        try save("checkpoint_\(state.epoch)_\(state.update).safetensors")
                        pruneCheckpoints()
                    }
                }
            }
            if epochEnded || (config.maxUpdate > 0 && state.update >= config.maxUpdate) || outOfTime {
                try endEpoch(finished: !epochEnded, runStart: runStart, secondsBefore: secondsBefore)
            }
        }
        printer.log("done: \(state.update) updates, \(state.epoch - 1) epochs, \(state.skippedUpdates) skipped")
        return state
    }

    /// Validates and checkpoints at an epoch's end (or when max-update stops mid-epoch).
    func endEpoch(finished: Bool, runStart: Date, secondsBefore: Double) throws {
        let epoch = state.epoch
        state.trainingSeconds = secondsBefore + Date().timeIntervalSince(runStart)
        var improved = false
        if finished || epoch % config.validateIntervalEpochs == 0 {
            let loss = try validate()  // logged with the epoch that just ended
            if state.bestValidLoss.map({ loss < $0 }) ?? true {
                state.bestValidLoss = loss
                improved = true
            }
        }
        if !finished { state.epoch += 1 }  // the checkpoint resumes in the next epoch
        if finished || epoch % config.saveIntervalEpochs == 0 {
            let name = finished ? "checkpoint_\(epoch)_\(state.update).safetensors" : "checkpoint\(epoch).safetensors"
            try save(name)
            if improved { try replaceCopy(of: saveDirectory.appendingPathComponent(name), as: "checkpoint_best.safetensors") }
            pruneCheckpoints()
        }
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds)
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
}
