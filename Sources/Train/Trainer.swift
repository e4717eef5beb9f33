import Cluster
import Datasets
import Foundation
import Logging
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
    /// With distill-from: the teacher's top-k distribution of every training target token.
    let teacherTargets: TeacherTargets?
    /// Draws the SubTransformer of every update (supernet training) and each update's dropout
    /// seed; identical on every rank of a data-parallel job, saved in checkpoints.
    var samplingRNG: RandomGenerator
    /// The ranks this training runs on (one process without MPI) and how they share an update.
    let parallel: DataParallel
    let validationSubnets: [(name: String, config: SubTransformerConfig)]
    /// metrics.jsonl; rank 0's alone in a data-parallel job.
    let metrics: MetricsLog?
    /// The save folder: its lock, checkpoint names, writing, promotion and pruning. Rank 0 alone
    /// holds it in a data-parallel job; the other ranks start from its state and write nothing.
    let folder: SaveFolder?
    let printer: ProgressPrinter
    let log: (String) -> Void
    /// Warnings (damaged checkpoints skipped, updates skipped, slow settings): standard error in
    /// `hat` (swift-log; the tool's handler prints "warning: …").
    let logger: Logger

    /// Prepares a run. If `saveDirectory` holds checkpoints, resumes from the newest valid one
    /// (corrupt ones are reported and skipped); otherwise starts fresh, from `initFrom`'s
    /// weights when given (fine-tuning). With a `group` of several ranks (`mpirun -np N hat
    /// train`), rank 0 does this and the others start from its state (DataParallel).
    public init(
        space: SearchSpace, subTransformer: SubTransformerConfig?, data: any BinarizedCorpus, config: TrainingConfig,
        saveDirectory: URL, initFrom: String? = nil, progress: ProgressPrinter = ProgressPrinter(),
        log: @escaping (String) -> Void = { print($0) }, logger: Logger = Logger(label: "hat.train"),
        group: DistributedGroup = .single
    ) throws {
        parallel = DataParallel(group: group)
        self.printer = progress
        self.logger = logger
        self.space = space
        self.subTransformer = subTransformer
        self.config = config
        self.saveDirectory = saveDirectory
        self.log = log
        if let sub = subTransformer { try space.check(sub, file: "the SubTransformer") }

        let (vs, vt) = data.vocabularySizes
        if space.shareAllEmbeddings && vs != vt {
            throw TrainingError.invalid(
                "the space shares all embeddings but the data has separate vocabularies (\(vs) source, \(vt) target): prepare it with a joint vocabulary")
        }
        var initRNG = RandomGenerator(seed: config.seed)
        model = SuperTransformer(space: space, sourceVocabSize: vs, targetVocabSize: vt, rates: config.dropoutRates, rng: &initRNG)
        optimizer = Adam(
            parameters: model.parameters(), learningRate: 0,
            betas: (Float(config.adamBetas[0]), Float(config.adamBetas[1])), eps: Float(config.adamEps),
            weightDecay: Float(config.weightDecay))
        // Pairs longer than the model's positions cannot be trained on or scored (fairseq drops them too).
        let (train, droppedTrain) = try data.split("train").keepingPairs(maxLength: model.maxSentenceLength)
        if droppedTrain > 0 { log("train: \(droppedTrain) pairs longer than the model's \(model.maxSentenceLength) positions left out") }
        trainSplit = train
        if config.bpeDropout > 0 {
            guard let data = data as? PreparedDataset else {
                throw TrainingError.invalid(
                    "bpe-dropout re-segments text with our SentencePiece vocabulary; \(data.directory) is a fairseq data-bin folder (subword-nmt BPE): drop --bpe-dropout"
                )
            }
            guard data.manifest.vocabulary.modelType == .bpe else {
                throw TrainingError.invalid(
                    "bpe-dropout needs a BPE vocabulary, but \(data.directory) was prepared with a \(data.manifest.vocabulary.modelType.rawValue) one: prepare the data with model type bpe or drop --bpe-dropout"
                )
            }
            guard data.manifest.vocabulary.shared else {
                throw TrainingError.invalid("bpe-dropout is supported for a joint vocabulary; \(data.directory) has separate source and target vocabularies")
            }
            bpeDropout = try BPEDropout(
                vocabulary: data.sourceVocabulary, probability: config.bpeDropout,
                maxLength: data.manifest.filters.maxLength)
        } else {
            bpeDropout = nil
        }
        evaluator = try Evaluator(
            dataset: try data.split("valid"), maxTokens: config.maxTokens, labelSmoothing: Float(config.labelSmoothing),
            maxLength: model.maxSentenceLength)
        if evaluator.droppedTooLong > 0 {
            log("valid: \(evaluator.droppedTooLong) pairs longer than the model's \(model.maxSentenceLength) positions are not scored")
        }

        // Validated every epoch: the subnet itself, or the largest, the smallest and a fixed seeded set.
        if let sub = subTransformer {
            validationSubnets = [("subtransformer", sub)]
        } else {
            var rng = RandomGenerator(seed: config.seed ^ 0x5EED_0F_5AB)
            validationSubnets =
                [("largest", space.largest), ("smallest", space.smallest)]
                + (0..<config.validationRandomSubnets).map { ("random\($0 + 1)", space.sample(rng: &rng)) }
        }

        var fresh = CheckpointState.start(
            space: space, subTransformer: subTransformer, training: config, sourceVocabSize: vs,
            targetVocabSize: vt, data: URL(fileURLWithPath: data.directory).standardizedFileURL.path)
        let vocabularyDigest = try data.vocabularyDigest()
        fresh.vocabularyDigest = vocabularyDigest
        // Every rank must train on the same settings, data and program, or their sums mean nothing.
        try group.checkSame(
            Self.jobDigest(space: space, subTransformer: subTransformer, config: config, vocabularyDigest: vocabularyDigest, pairs: train.count),
            what: "training settings, search space, data or hat version")
        // Held until `run` ends (or this trainer goes away): two runs never write one save folder.
        folder = group.isMain ? try SaveFolder(saveDirectory, log: log) : nil
        let resumed = try folder?.resume(
            into: model, optimizer: optimizer,
            sameRun: {
                $0.space == space && $0.subTransformer == subTransformer && $0.sourceVocabSize == vs && $0.targetVocabSize == vt
            }, log: log, logger: logger)
        // The data must still be the one the checkpoint learned: a folder prepared again in place
        // with another vocabulary would silently change what every id means.
        if let resumed { try resumed.checkVocabulary(digest: vocabularyDigest, of: data.directory, checkpoint: saveDirectory.path) }
        if var r = resumed {
            if let teacher = r.training.distillFrom, config.distillFrom == nil {
                logger.warning("the checkpoint in \(saveDirectory.path) trained with distillation from \(teacher); this run goes on without a teacher")
            }
            r.training = config  // overrides given on the command line apply to the rest of the run
            state = r
        } else {
            state = fresh
            if let initFrom, group.isMain {
                let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: initFrom))
                let s = try Checkpoint.readState(file, path: initFrom)
                guard s.space == space, s.sourceVocabSize == vs, s.targetVocabSize == vt else {
                    throw TrainingError.invalid(
                        "\(initFrom): its search space or vocabulary differs from this run's; fine-tuning inherits weights from the same SuperTransformer")
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
        if let teacherPath = config.distillFrom {
            guard bpeDropout == nil else {
                throw TrainingError.invalid(
                    "distillation computes the teacher's targets once for the stored segmentation; bpe-dropout changes it every epoch: drop one of them")
            }
            guard config.distillTopK <= vt else {
                throw TrainingError.invalid("distill-topk \(config.distillTopK) is larger than the target vocabulary (\(vt) tokens)")
            }
            let teacher = try Teacher(
                path: teacherPath, subTransformerPath: config.teacherSubTransformer, sourceVocabSize: vs, targetVocabSize: vt,
                vocabularyDigest: vocabularyDigest)
            log(
                "distillation: teacher \(teacherPath), SubTransformer \(teacher.subTransformer); top-\(config.distillTopK) targets, "
                    + "weight \(config.distillWeight) (the loss is \(1 - config.distillWeight)·label-smoothed CE + \(config.distillWeight)·CE against the teacher)"
            )
            // Every rank holds the targets; rank 0 alone writes them into the save folder.
            teacherTargets = try TeacherTargets.prepare(
                teacher: teacher, k: config.distillTopK, split: train, maxTokens: config.maxTokens, folder: saveDirectory,
                write: group.isMain, log: log)
        } else {
            teacherTargets = nil
        }
        try parallel.startFromMainRank(model: model.parameters(), optimizer: optimizer, state: &state)
        if group.size > 1 {
            log(
                "data-parallel over \(group.size) ranks (\(group.library ?? "MPI")): \(config.maxTokens) tokens × update-freq \(config.updateFreq) × \(group.size) ranks per update"
            )
        }
        // The batches, from where the checkpoint stopped (with bpe-dropout: that epoch's segmentation).
        let position = BatchPosition(epoch: state.batchEpoch, index: state.batchIndex)
        if let bpeDropout {
            batches = try Self.segmentedBatches(train, bpeDropout, config: config, position: position)
            segmentedEpoch = position.epoch
        } else {
            batches = try BatchIterator(dataset: train, maxTokens: config.maxTokens, seed: config.seed, shuffle: true, skipOversized: true)
            try batches.resume(at: position)
        }
        samplingRNG = RandomGenerator(state: state.rngState)
        metrics =
            group.isMain
            ? try MetricsLog(url: saveDirectory.appendingPathComponent("metrics.jsonl"), keepingUpdatesThrough: resumed == nil ? nil : state.update)
            : nil
    }

    /// What every rank of a job must agree on: settings, space, SubTransformer, vocabulary,
    /// training pairs and the program's version.
    static func jobDigest(
        space: SearchSpace, subTransformer: SubTransformerConfig?, config: TrainingConfig, vocabularyDigest: String, pairs: Int
    ) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        var text = String(decoding: try encoder.encode(config), as: UTF8.self)
        text += "|\(String(decoding: try encoder.encode(space), as: UTF8.self))|\(subTransformer.map { "\($0)" } ?? "supernet")"
        text +=
            "|\(vocabularyDigest)|\(pairs)|\(CommandLine.arguments.first.flatMap { try? FileManager.default.attributesOfItem(atPath: $0)[.size] as? Int } ?? 0)"
        return SHA256.hex(Array(text.utf8))
    }

    /// With bpe-dropout, makes `batches` iterate its current epoch segmented anew (a function of
    /// seed and epoch, so a resumed run sees the same pieces), from where it stands.
    func segmentTrainingDataIfNeeded() throws {
        guard let bpeDropout, segmentedEpoch != batches.position.epoch else { return }
        batches = try Self.segmentedBatches(trainSplit, bpeDropout, config: config, position: batches.position)
        segmentedEpoch = batches.position.epoch
    }

    static func segmentedBatches(
        _ train: TranslationDataset, _ bpeDropout: BPEDropout, config: TrainingConfig,
        position: BatchPosition
    ) throws -> BatchIterator {
        guard position.epoch >= 1 else {
            throw DataError.invalidArgument("cannot resume at \(position): epochs start at 1 (a damaged checkpoint?)")
        }
        let data = bpeDropout.apply(to: train, seed: config.seed, epoch: position.epoch, sides: config.bpeDropoutSides)
        var batches = try BatchIterator(
            dataset: data, maxTokens: config.maxTokens, seed: config.seed, shuffle: true,
            skipOversized: true, position: BatchPosition(epoch: position.epoch, index: 0))
        try batches.resume(at: position)
        return batches
    }

    /// Validates every tracked SubTransformer; returns their mean loss.
    @discardableResult
    func validate() throws -> Double {
        var total = 0.0
        for (name, sub) in validationSubnets {
            // Under MPI each rank scores its share of the validation batches.
            let r = try evaluator.evaluate(model, config: sub, group: parallel.group)
            total += r.loss
            try metrics?.write([
                "split": "valid", "update": state.update, "epoch": state.epoch, "subtransformer": name,
                "loss": r.loss, "nll_loss": r.nllLoss, "ppl": r.perplexity, "tokens": r.tokens,
                "config": sub.description,
            ])
            printer.log(
                String(
                    format: "valid  epoch %d update %d  %@  loss %.3f  nll %.3f  ppl %.2f",
                    state.epoch, state.update, name, r.loss, r.nllLoss, r.perplexity))
        }
        return total / Double(Swift.max(validationSubnets.count, 1))
    }

    func save(_ name: String) throws {
        state.rngState = samplingRNG.state
        state.batchEpoch = batches.position.epoch
        state.batchIndex = batches.position.index
        try folder?.write(name, model: model, optimizer: optimizer, state: state)
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
        defer { folder?.release() }
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
        log(
            "training \(mode); seed \(config.seed); \(batches.batchesPerEpoch) batches per epoch"
                + (bpeDropout.map {
                    String(
                        format: "; BPE-dropout %.2f on %@ (the training split is segmented anew every epoch)", $0.probability,
                        config.bpeDropoutSides == .both ? "both sides" : "the \(config.bpeDropoutSides.rawValue) side")
                } ?? ""))
        log("kernels: \(BLAS.kernelDescription); \(ParallelSettings.threads) threads")
        if !config.bf16 && BLAS.hasBFloat16Hardware {
            // Whether --bf16 pays depends on the CPU (twice the multiply rate on AMD Zen 4, none
            // on Intel's Xeons): measured here rather than guessed from the CPU's name.
            let rates = BLAS.measureProductRates()
            log(
                String(
                    format: "this CPU has AVX512-BF16: products with bfloat16 operands run at %.0f GFLOP/s here against %.0f in float32 "
                        + "(one 1024x1024x512 product)%@", rates.bfloat16GFLOPs, rates.float32GFLOPs,
                    rates.bfloat16GFLOPs > 1.15 * rates.float32GFLOPs
                        ? "; --bf16 trains faster (weights and Adam stay float32; docs/PERFORMANCE.md compares quality)"
                        : "; float32 is as fast, keep it"))
        }
        if config.bf16 {
            if BLAS.hasBFloat16Hardware {
                log("bf16: products in bfloat16 with float32 sums (AVX512-BF16); weights, gradients and Adam in float32")
            } else {
                logger.warning(
                    "bf16: this CPU has no AVX512-BF16, so bfloat16 products run in portable C, several times slower than float32; drop --bf16 for speed")
            }
        }
        let runStart = Date()
        let secondsBefore = state.trainingSeconds
        // Training time across resumes. Under MPI it is rank 0's, passed along with each update's
        // sums, so a time limit stops every rank at the same update.
        var mainRankSeconds = secondsBefore
        func trainingTime() -> Double {
            parallel.group.size > 1 ? mainRankSeconds : secondsBefore + Date().timeIntervalSince(runStart)
        }
        var consecutiveSkips = 0
        let totalUpdates =
            config.maxUpdate > 0
            ? config.maxUpdate
            : config.maxEpoch * ((batches.batchesPerEpoch + config.updateFreq - 1) / config.updateFreq)
        let startUpdate = state.update
        while !isFinished {
            try segmentTrainingDataIfNeeded()
            let sub = subTransformer ?? space.sample(rng: &samplingRNG)
            // Each global batch's dropout has a generator of its own, seeded from the update's
            // draw and the batch's number: which rank computes a batch does not change it.
            let dropoutSeed = samplingRNG.next()
            let updateStart = Date()
            var lossSum = 0.0, nllSum = 0.0, tokens = 0
            var epochEnded = false
            var computed = 0
            for index in 0..<(config.updateFreq * parallel.group.size) {
                guard let batch = batches.next() else {
                    epochEnded = true
                    break
                }
                guard parallel.computes(batch: index) else { continue }
                // Each batch's gradient is computed on its own and then added to the sum of the
                // earlier ones, as the ranks' gradients are added: one process with update-freq 2
                // computes the sums that 2 ranks with update-freq 1 compute, bit for bit.
                let earlier = computed > 0 ? optimizer.parameters.map { $0.storage.takeGrad() } : []
                defer {
                    for (p, g) in zip(optimizer.parameters, earlier) { if let g { p.storage.restoreGrad(adding: g) } }
                    computed += 1
                }
                let context = ForwardContext(training: true, rng: RandomGenerator(seed: dropoutSeed &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15))
                let (loss, nll) = model.loss(
                    source: batch.sourceBatch, previousOutput: batch.previousOutputBatch,
                    target: batch.targetTokens, config: sub, labelSmoothing: Float(config.labelSmoothing),
                    softTargets: teacherTargets?.softTargets(for: batch, weight: Float(config.distillWeight)), context: context)
                lossSum += Double(loss.item)
                nllSum += Double(nll)
                tokens += batch.targetTokenCount
                loss.backward()
            }
            var allReduceSeconds = 0.0
            if parallel.group.size > 1 {
                // Every rank's sums: the loss is normalized by the job's token count, as fairseq does.
                let reduceStart = Date()
                defer { allReduceSeconds = Date().timeIntervalSince(reduceStart) }
                try parallel.sumGradients(optimizer.parameters)
                let clock = parallel.group.isMain ? secondsBefore + Date().timeIntervalSince(runStart) : 0
                let totals = try parallel.group.allSum([lossSum, nllSum, Double(tokens), clock])
                (lossSum, nllSum, tokens, mainRankSeconds) = (totals[0], totals[1], Int(totals[2]), totals[3])
            }
            if tokens > 0 {
                let scale = 1 / Double(tokens)
                let norm = gradientNorm(optimizer.parameters) * scale
                if !lossSum.isFinite || !norm.isFinite {
                    model.zeroGrad()
                    state.skippedUpdates += 1
                    consecutiveSkips += 1
                    logger.warning(
                        "update \(state.update + 1) skipped: non-finite \(lossSum.isFinite ? "gradient" : "loss") (\(state.skippedUpdates) skipped so far)")
                    if consecutiveSkips >= config.maxConsecutiveSkips {
                        throw TrainingError.diverged(
                            "training diverged: \(consecutiveSkips) updates in a row had a non-finite loss or gradient. Lower lr, raise warmup-updates or set clip-norm; the last good checkpoint is in \(saveDirectory.path)"
                        )
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
                        try metrics?.write(
                            [
                                "update": state.update, "epoch": state.epoch, "loss": lossSum * perToken,
                                "nll_loss": nllSum * perToken, "lr": lr, "grad_norm": norm, "target_tokens": tokens,
                                "tokens_per_s": Double(tokens) / Swift.max(seconds, 1e-9),
                                "wall_s": secondsBefore + Date().timeIntervalSince(runStart),
                            ].merging(parallel.group.size > 1 ? ["ranks": parallel.group.size, "allreduce_s": allReduceSeconds] : [:]) { a, _ in a })
                    }
                    state.trainingSeconds = trainingTime()
                    let done = state.update - startUpdate
                    let elapsed = Date().timeIntervalSince(runStart)
                    var eta = totalUpdates > 0 ? elapsed / Double(done) * Double(Swift.max(totalUpdates - state.update, 0)) : 0
                    if config.stopTimeMinutes > 0 {  // a time budget ends the run first when it is the shorter
                        eta = Swift.min(eta, Swift.max(config.stopTimeMinutes * 60 - state.trainingSeconds, 0))
                    }
                    printer.update(
                        String(
                            format: "epoch %d update %d/%d  loss %.3f  lr %.2e  %.0f tok/s  ETA %@",
                            state.epoch, state.update, totalUpdates, lossSum * perToken, lr,
                            Double(tokens) / Swift.max(seconds, 1e-9), formatDuration(eta)))
                    if config.saveIntervalUpdates > 0 && state.update % config.saveIntervalUpdates == 0 && !epochEnded {
                        state.trainingSeconds = trainingTime()
                        try save(SaveFolder.updateName(epoch: state.epoch, update: state.update))
                        folder?.prune(keepLastEpochs: config.keepLastEpochs, keepLastUpdates: config.keepLastUpdates)
                    }
                }
            }
            if epochEnded || (config.maxUpdate > 0 && state.update >= config.maxUpdate) || outOfTime {
                try endEpoch(finished: !epochEnded, trainingSeconds: trainingTime())
            }
        }
        printer.log("done: \(state.update) updates, \(state.epoch - 1) epochs, \(state.skippedUpdates) skipped")
        return state
    }

    /// Validates and checkpoints at an epoch's end (or when max-update stops mid-epoch).
    func endEpoch(finished: Bool, trainingSeconds: Double) throws {
        let epoch = state.epoch
        state.trainingSeconds = trainingSeconds
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
            let name = finished ? SaveFolder.updateName(epoch: epoch, update: state.update) : SaveFolder.epochName(epoch)
            try save(name)
            if improved { try folder?.copy(name, as: SaveFolder.bestName) }
            folder?.prune(keepLastEpochs: config.keepLastEpochs, keepLastUpdates: config.keepLastUpdates)
        }
    }
}

func formatDuration(_ seconds: Double) -> String {
    guard seconds.isFinite, seconds >= 0 else { return "?" }
    let s = Int(seconds)
    return s >= 3600 ? String(format: "%dh%02dm", s / 3600, (s % 3600) / 60) : String(format: "%dm%02ds", s / 60, s % 60)
}
