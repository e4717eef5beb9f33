import Datasets
import Export
import Foundation
import Generate
import Latency
import Model
import Search
import TensorEngine
import Train

/// `hat pipeline`: data → SuperTransformer → latency dataset → predictor → search →
/// SubTransformer training → test BLEU, in one folder. Each stage is skipped when it finished
/// earlier with the same settings; an interrupted stage resumes (training from its newest
/// checkpoint, the latency CSV after its last row, the search after its last iteration).
public final class PipelineRunner {
    public let config: PipelineConfig
    public let out: URL
    public var stopAfter: PipelineStage?
    /// Run this stage and every later one again even though they finished (`--rerun`): their
    /// folders are moved aside to `FOLDER.replaced-TIME` (nothing is deleted) and their records dropped.
    public var rerunFrom: PipelineStage?
    public var log: (String) -> Void
    /// Training's progress lines on standard error instead of standard output (`--json`).
    public var progressToStandardError = false

    private var state: PipelineState
    private var previousFingerprint = ""

    public init(config: PipelineConfig, out: URL, stopAfter: PipelineStage? = nil, log: @escaping (String) -> Void = { print($0); fflush(nil) }) throws {
        self.config = config
        self.out = out
        self.stopAfter = stopAfter
        self.log = log
        try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
        state = try PipelineState.read(out.appendingPathComponent(PipelineState.fileName)) ?? PipelineState(config: config.path)
        state.config = config.path
    }

    public func url(_ stage: PipelineStage) -> URL { out.appendingPathComponent(stage.folder) }
    public var resultsURL: URL { out.appendingPathComponent("results.json") }

    /// Runs every stage up to `stopAfter`; returns the results of the test stage when it ran.
    @discardableResult
    public func run() throws -> PipelineResults? {
        let space = try SearchSpace(contentsOf: config.space)
        let lock = try OutputLock(folder: out, job: "pipeline")
        defer { lock.release() }
        if let first = rerunFrom { try discardStages(from: first) }
        for stage in PipelineStage.allCases {
            try runStage(stage, space: space)
            if stage == stopAfter {
                log("stopped after stage \(stage.rawValue) (--stop-after)")
                return nil
            }
        }
        return try PipelineResults.read(resultsURL)
    }

    // MARK: Stage bookkeeping

    /// Forgets `first` and the stages after it: a later stage's fingerprint depends only on
    /// settings, so after a search runs again the training must too, or it would keep the old pick.
    private func discardStages(from first: PipelineStage) throws {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyyMMdd-HHmmss"
        let stamp = formatter.string(from: Date())
        let later = PipelineStage.allCases.drop { $0 != first }
        for stage in later {
            let folder = url(stage)
            if FileManager.default.fileExists(atPath: folder.path) {
                let aside = out.appendingPathComponent("\(stage.folder).replaced-\(stamp)")
                try FileManager.default.moveItem(at: folder, to: aside)
                log("== \(stage.rawValue): --rerun, its earlier output moved to \(aside.lastPathComponent)")
            }
            state.stages[stage.rawValue] = nil
            state.started?[stage.rawValue] = nil
        }
        if later.contains(.test), FileManager.default.fileExists(atPath: resultsURL.path) {
            try FileManager.default.moveItem(at: resultsURL, to: out.appendingPathComponent("results.replaced-\(stamp).json"))
        }
        try state.write(to: out.appendingPathComponent(PipelineState.fileName))
    }

    private func runStage(_ stage: PipelineStage, space: SearchSpace) throws {
        let fingerprint = PipelineState.fingerprint([previousFingerprint, stage.rawValue] + settings(stage))
        previousFingerprint = fingerprint
        if let done = state.stages[stage.rawValue] {
            guard done.fingerprint == fingerprint else {
                throw PipelineError.changed(stage: stage.rawValue, path: url(stage).path,
                                            what: "the \(stage.rawValue) settings or an earlier stage's differ from the run recorded in \(PipelineState.fileName)")
            }
            if outputIsValid(stage, done) {
                log("== \(stage.rawValue): finished earlier, skipped (\(describe(done.summary)))")
                return
            }
            log("== \(stage.rawValue): recorded as finished but its output is missing or invalid; running it again")
        } else if let begun = state.started?[stage.rawValue] {
            guard begun == fingerprint else { throw PipelineError.changedMidway(stage: stage.rawValue, path: url(stage).path) }
            log("== \(stage.rawValue): resuming")
        } else {
            log("== \(stage.rawValue)")
        }
        // Recorded before any work, so an interrupted stage is resumed only with these settings.
        state.started = (state.started ?? [:]).merging([stage.rawValue: fingerprint]) { $1 }
        try state.write(to: out.appendingPathComponent(PipelineState.fileName))
        let started = Date()
        // Each stage runs on its own thread count (the config's, or the process's), so no
        // stage inherits the one before it.
        let summary: [String: String] = try BLAS.withComputeThreads(threads(for: stage)) {
            switch stage {
            case .data: return try runData()
            case .supernet: return try runSupernet(space)
            case .latency: return try runLatency(space)
            case .predictor: return try runPredictor()
            case .search: return try runSearch(space)
            case .train: return try runTrain(space)
            case .test: return try runTest()
            }
        }
        let seconds = Date().timeIntervalSince(started)
        state.stages[stage.rawValue] = .init(fingerprint: fingerprint, finished: ISO8601DateFormatter().string(from: Date()),
                                             seconds: seconds, summary: summary, config: config.path)
        state.started?[stage.rawValue] = nil
        try state.write(to: out.appendingPathComponent(PipelineState.fileName))
        log(String(format: "== %@ done in %.1f s: %@", stage.rawValue, seconds, describe(summary)))
    }

    private func describe(_ summary: [String: String]) -> String {
        summary.keys.sorted().map { "\($0) \(summary[$0]!)" }.joined(separator: ", ")
    }

    /// The settings a stage's result depends on (its fingerprint; the space file's text counts for all).
    private func settings(_ stage: PipelineStage) -> [String] {
        let c = config
        func sorted(_ d: [String: String]) -> String { d.keys.sorted().map { "\($0)=\(d[$0]!)" }.joined(separator: ";") }
        let spaceText = (try? String(contentsOfFile: c.space, encoding: .utf8)) ?? c.space
        switch stage {
        case .data: return ["\(c.data)"]
        case .supernet: return [spaceText, sorted(c.supernet), c.supernetCheckpoint ?? ""]
        case .latency: return [spaceText, "\(c.latencySamples)", "\(c.latencyIterations)", "\(c.latencyWarmup)", "\(c.latencyLength)",
                               "\(c.latencyBeam)", "\(c.latencySeed)", "\(c.latencyThreads)"]
        case .predictor: return [c.predictorKind.rawValue, "\(c.predictorSeed)"]
        case .search: return [c.latencyConstraints.joined(separator: ","), c.memoryConstraint ?? "", c.parametersConstraint ?? "",
                              c.flopsConstraint ?? ""] + c.evolutionFingerprint
                + ["\(c.searchSeed)", "\(c.validSubset ?? -1)"] + (c.evolution.repairOffspring ? ["repair-offspring"] : [])
        case .train: return [c.trainMode.rawValue, sorted(c.train)]
        case .test:
            // One penalty keeps the key of results written before lists existed.
            let lenpen = c.testLengthPenalties.count == 1 ? "\(c.testLengthPenalties[0])"
                : "lenpen=" + c.testLengthPenalties.map { "\($0)" }.joined(separator: "/") + " chosen on valid"
            return [c.testSplit, "\(c.testBeam)", lenpen] + (c.testAverageLast > 1 ? ["average-last=\(c.testAverageLast)"] : [])
        }
    }

    private func outputIsValid(_ stage: PipelineStage, _ record: PipelineState.StageRecord) -> Bool {
        let fm = FileManager.default
        switch stage {
        case .data: return (try? PreparedDataset(directory: dataDirectory)) != nil
        case .supernet: return (try? Checkpoint.loadModel(path: supernetCheckpoint)) != nil
        case .latency: return ((try? LatencyDataset(contentsOf: latencyCSV))?.count ?? 0) >= config.latencySamples
        case .predictor: return (try? PredictorFile.load(predictorPath)) != nil
        case .search: return (try? ParetoFront.read(url(.search).appendingPathComponent(ParetoFront.fileName))) != nil
        case .train: return (try? Checkpoint.loadModel(path: subTransformerCheckpoint)) != nil
        case .test: return fm.fileExists(atPath: resultsURL.path) && (try? PipelineResults.read(resultsURL)) != nil
        }
    }

    // MARK: Paths

    public var dataDirectory: String {
        if case .prepared(let dir) = config.data { return dir }
        return url(.data).path
    }
    public var supernetCheckpoint: String {
        config.supernetCheckpoint ?? url(.supernet).appendingPathComponent("checkpoint_last.safetensors").path
    }
    public var latencyCSV: String { url(.latency).appendingPathComponent("latency.csv").path }
    public var predictorPath: String {
        url(.predictor).appendingPathComponent("predictor." + config.predictorKind.fileExtension).path
    }
    public var subTransformerYAML: String { out.appendingPathComponent("subtransformer.yml").path }
    public var subTransformerCheckpoint: String { url(.train).appendingPathComponent("checkpoint_best.safetensors").path }

    // MARK: Stages

    /// The threads a stage computes on: the config's where it has a key, all of this process's
    /// otherwise.
    private func threads(for stage: PipelineStage) -> Int {
        switch stage {
        case .latency: return config.latencyThreads
        case .search: return config.searchThreads
        case .test: return config.testThreads
        case .data, .supernet, .predictor, .train: return ParallelSettings.threads
        }
    }

    private func runData() throws -> [String: String] {
        let report: DatasetPreparation.Report
        switch config.data {
        case .builtin(let seed, let train, let valid, let test, let vocabularySize):
            log("built-in English → Synthetic task: seed \(seed), \(train)/\(valid)/\(test) pairs")
            report = try BuiltinCorpus(seed: seed).prepare(output: dataDirectory, textDirectory: out.appendingPathComponent("data-text").path,
                                                           train: train, valid: valid, test: test, vocabularySize: vocabularySize, log: log)
        case .multi30k(let pairName, let raw, let vocabularySize):
            guard let pair = Multi30k.Pair(rawValue: pairName) else {
                throw PipelineError.config(path: config.path, key: "data.pair", "is '\(pairName)'; use en-de or en-fr")
            }
            var prep = DatasetPreparation(splits: try Multi30k.localFiles(pair, in: raw), sourceLanguage: pair.source,
                                          targetLanguage: pair.target, output: dataDirectory)
            prep.vocabulary.vocabularySize = vocabularySize
            prep.createdBy = "hat pipeline (multi30k \(pairName))"
            report = try prep.run(log: log)
        case .prepared(let dir):
            let d = try PreparedDataset(directory: dir)
            return ["dataset": dir, "vocabulary": "\(d.sourceVocabulary.size)/\(d.targetVocabulary.size)"]
        }
        let m = report.manifest
        return ["dataset": report.directory, "vocabulary": "\(m.vocabulary.sourceSize)/\(m.vocabulary.targetSize)",
                "pairs": m.splits.map { "\($0.name) \($0.sentences)" }.joined(separator: " ")]
    }

    private func trainingConfig(_ overrides: [String: String], section: String) throws -> TrainingConfig {
        do {
            return try TrainingConfig(file: HATConfigFile(path: config.space), overrides: overrides)
        } catch {
            throw PipelineError.config(path: config.path, key: section, "\(error)")
        }
    }

    private func runSupernet(_ space: SearchSpace) throws -> [String: String] {
        if let given = config.supernetCheckpoint {
            // A supernet trained earlier: check that it is this space's SuperTransformer on this data.
            let (_, state) = try Checkpoint.loadModel(path: given)
            guard state.subTransformer == nil else {
                throw PipelineError.config(path: config.path, key: "supernet.checkpoint", "\(given) holds a SubTransformer, not a SuperTransformer")
            }
            do {
                _ = try SearchInputs(supernet: given, spaceFile: config.space, data: dataDirectory, validSubset: 1, maxTokens: nil)
            } catch {
                throw PipelineError.config(path: config.path, key: "supernet.checkpoint", "\(error)")
            }
            log("using the SuperTransformer trained earlier: \(given) (\(state.update) updates)")
            return ["checkpoint": given, "updates": "\(state.update)", "best_valid_loss": state.bestValidLoss.map { String(format: "%.4f", $0) } ?? ""]
        }
        let training = try trainingConfig(config.supernet, section: "supernet")
        let trainer = try Trainer(space: space, subTransformer: nil, data: PreparedDataset(directory: dataDirectory), config: training,
                                  saveDirectory: url(.supernet), progress: ProgressPrinter(toStandardError: progressToStandardError), log: log)
        let final = try trainer.run()
        return ["checkpoint": supernetCheckpoint, "updates": "\(final.update)", "best_valid_loss": final.bestValidLoss.map { String(format: "%.4f", $0) } ?? ""]
    }

    private func runLatency(_ space: SearchSpace) throws -> [String: String] {
        let data = try PreparedDataset(directory: dataDirectory)
        var builder = LatencyDatasetBuilder(space: space, count: config.latencySamples, seed: config.latencySeed,
                                            measurer: LatencyMeasurer(length: config.latencyLength, beam: config.latencyBeam,
                                                                      warmup: config.latencyWarmup, iterations: config.latencyIterations))
        builder.log = log
        try FileManager.default.createDirectory(at: url(.latency), withIntermediateDirectories: true)
        TensorStorage.useHugePages = true  // steadier latencies (TensorStorage.useHugePages)
        let model = builder.model(sourceVocabSize: data.sourceVocabulary.size, targetVocabSize: data.targetVocabulary.size)
        defer { TensorStorage.useHugePages = false }
        let rows = try builder.run(model: model, csv: latencyCSV)
        let latencies = rows.latencies
        return ["csv": latencyCSV, "rows": "\(rows.count)", "kernels": BLAS.kernelDescription, "cpu": MeasurementProvenance.cpuModelName(), "threads": "\(config.latencyThreads)",
                "range_ms": String(format: "%.2f–%.2f", latencies.min() ?? 0, latencies.max() ?? 0)]
    }

    private func runPredictor() throws -> [String: String] {
        let all = try LatencyDataset(contentsOf: latencyCSV)
        let split = all.split(seed: config.predictorSeed)
        let predictor = PredictorFile.train(kind: config.predictorKind, on: split.train, seed: config.predictorSeed)
        let dir = url(.predictor)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try PredictorFile.checkTrained(predictor, on: split.train, path: predictorPath)
        try predictor.save(to: predictorPath)
        var metrics: [String: PredictionMetrics] = [:]
        var csv = "split,measured_ms,predicted_ms\n"
        for (name, part) in [("train", split.train), ("valid", split.valid), ("test", split.test)] where !part.isEmpty {
            let predicted = predictor.predict(part)
            metrics[name] = PredictionMetrics(predicted: predicted, measured: part.latencies)
            for (m, p) in zip(part.latencies, predicted) { csv += "\(name),\(m),\(p)\n" }
            log("  \(name.padding(toLength: 6, withPad: " ", startingAt: 0))" + metrics[name]!.summary)
        }
        try AtomicFile.write(Data(csv.utf8), to: dir.appendingPathComponent("predictions.csv"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(metrics), to: dir.appendingPathComponent("metrics.json"))
        let shown = split.test.isEmpty ? split.train : split.test
        try ScatterPlot(title: "\(config.predictorKind.rawValue) on this machine (\(split.test.isEmpty ? "train" : "test") rows)",
                        measured: shown.latencies, predicted: predictor.predict(shown),
                        metrics: metrics[split.test.isEmpty ? "train" : "test"]).write(to: dir.appendingPathComponent("test.svg").path)
        let test = metrics["test"] ?? metrics["train"]!
        return ["predictor": predictorPath, "test_rmse_ms": String(format: "%.3f", test.rmse), "test_mape": String(format: "%.1f%%", test.mape),
                "rows": "\(split.train.count)/\(split.valid.count)/\(split.test.count)"]
    }

    /// "40%" → that share of the way from the smallest to the largest SubTransformer's predicted latency.
    func resolveLatency(_ text: String, predictor: any LatencyPredictor, space: SearchSpace) throws -> String {
        guard text.hasSuffix("%") else { return text }
        guard let share = Double(text.dropLast()), share > 0, share <= 100 else {
            throw PipelineError.config(path: config.path, key: "search.latency-constraint", "'\(text)': a share must be in (0, 100]%")
        }
        let low = predictor.predict(space.smallest), high = predictor.predict(space.largest)
        let ms = low + share / 100 * (high - low)
        log(String(format: "latency constraint %@ = %.3f ms (predicted: smallest %.3f ms, largest %.3f ms)", text, ms, low, high))
        return SearchConstraints.shortNumber(ms, decimals: 3) + "ms"
    }

    private func runSearch(_ space: SearchSpace) throws -> [String: String] {
        let predictor = try PredictorFile.load(predictorPath)
        let latencies = try config.latencyConstraints.map { try resolveLatency($0, predictor: predictor, space: space) }
        let constraints = try SearchConstraints.list(latencies: latencies.joined(separator: ","), memory: config.memoryConstraint,
                                                     parameters: config.parametersConstraint, flops: config.flopsConstraint)
        var runner = SearchRunner(supernet: supernetCheckpoint, predictor: .file(path: predictorPath), constraints: constraints,
                                  directory: url(.search))
        runner.data = dataDirectory
        runner.settings = config.evolution
        runner.seed = config.searchSeed
        runner.validSubset = config.validSubset
        runner.length = config.latencyLength
        runner.beam = config.latencyBeam
        runner.measureIterations = 20
        runner.measureThreads = config.latencyThreads
        runner.log = log
        let result = try runner.run()
        guard let chosen = result.front.first(where: { $0.constraint == constraints[0].label }) else {
            throw PipelineError.stage("search", "no SubTransformer was found for \(constraints[0].label)")
        }
        let yaml = try String(contentsOf: url(.search).appendingPathComponent(chosen.subtransformer), encoding: .utf8)
        try AtomicFile.write(Data(yaml.utf8), to: URL(fileURLWithPath: subTransformerYAML))
        return ["subtransformer": subTransformerYAML, "constraint": chosen.constraint, "supernet_loss": String(format: "%.4f", chosen.loss),
                "predicted_ms": String(format: "%.3f", chosen.predictedLatencyMs),
                "measured_ms": chosen.measuredLatencyMs.map { String(format: "%.3f", $0) } ?? "",
                "seconds": String(format: "%.1f", result.seconds)]
    }

    private func runTrain(_ space: SearchSpace) throws -> [String: String] {
        let sub = try SubTransformerConfig(contentsOf: subTransformerYAML, superLayers: (space.encoderLayers, space.decoderLayers), qkvDim: space.qkvDim)
        let training = try trainingConfig(config.train, section: "train")
        let trainer = try Trainer(space: space, subTransformer: sub, data: PreparedDataset(directory: dataDirectory), config: training,
                                  saveDirectory: url(.train), initFrom: config.trainMode == .finetune ? supernetCheckpoint : nil,
                                  progress: ProgressPrinter(toStandardError: progressToStandardError), log: log)
        let final = try trainer.run()
        return ["checkpoint": subTransformerCheckpoint, "updates": "\(final.update)", "mode": config.trainMode.rawValue,
                "best_valid_loss": final.bestValidLoss.map { String(format: "%.4f", $0) } ?? ""]
    }

    /// The checkpoint the test stage translates with: `checkpoint_best`, or the average of the
    /// last `test.average-last` epoch checkpoints when the training stage left at least two.
    private func testCheckpoint() throws -> String {
        guard config.testAverageLast > 1 else { return subTransformerCheckpoint }
        let epochs = try CheckpointAverager.lastEpochCheckpoints(in: url(.train), count: config.testAverageLast)
        guard epochs.count >= 2 else {
            log("test: average-last \(config.testAverageLast) asked, but the training stage kept \(epochs.count) epoch checkpoint(s); testing checkpoint_best")
            return subTransformerCheckpoint
        }
        let averaged = url(.train).appendingPathComponent("checkpoint_average\(epochs.count).safetensors")
        try CheckpointAverager.average(epochs, output: averaged)
        log("test: averaged \(epochs.map(\.lastPathComponent).joined(separator: ", ")) into \(averaged.lastPathComponent)")
        return averaged.path
    }

    private func runTest() throws -> [String: String] {
        let checkpoint = try testCheckpoint()
        let translator = try Translator.load(checkpoint: checkpoint, subTransformer: nil, data: dataDirectory,
                                             search: BeamSearch(beamSize: config.testBeam, lengthPenalty: config.testLengthPenalties[0],
                                                                maxLenA: 1.2, maxLenB: 10))
        let data = try PreparedDataset(directory: dataDirectory)
        let validBLEU = try chooseLengthPenalty(translator, data)
        let sources = try data.sourceText(config.testSplit), references = try data.targetText(config.testSplit)
        let started = Date()
        let hypotheses = translator.translate(sources)
        let seconds = Date().timeIntervalSince(started)
        let dir = url(.test)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let hypPath = dir.appendingPathComponent("\(config.testSplit).hyp.txt")
        try AtomicFile.write(Data((hypotheses.joined(separator: "\n") + "\n").utf8), to: hypPath)
        let report = ScoreReport(corpus: try ScoringCorpus(hypotheses: hypotheses, references: [references]), metrics: [.bleu, .chrf])
        let bleu = report.results.first { $0.name == "BLEU" }!, chrf = report.results.first { $0.name != "BLEU" }!
        log(report.text(version: "hat"))

        // Hand the model over as ONNX too (before results.json, which marks the stage done).
        var onnx: URL? = dir.appendingPathComponent("onnx")
        do {
            try ExportFolder.write(model: translator.model, config: translator.config,
                                   vocabulary: .sentencePiece(URL(fileURLWithPath: dataDirectory).appendingPathComponent("spm.model")),
                                   source: checkpoint, to: onnx!)
            log("test: the model as ONNX in \(onnx!.path)")
        } catch {
            log("test: could not write the ONNX export (\(error)); the results are kept, `hat export --checkpoint \(checkpoint)` retries it")
            onnx = nil
        }

        let front = try ParetoFront.read(url(.search).appendingPathComponent(ParetoFront.fileName))
        let chosenLabel = state.stages[PipelineStage.search.rawValue]?.summary["constraint"]
        let point = front.first { $0.constraint == chosenLabel } ?? front[0]
        let results = PipelineResults(
            subtransformer: subTransformerYAML, config: point.config, constraint: point.constraint, trainMode: config.trainMode.rawValue,
            supernetLoss: point.loss, predictedLatencyMs: point.predictedLatencyMs, measuredLatencyMs: point.measuredLatencyMs,
            parameters: point.parameters, flops: point.flops, modelSizeMB: point.modelSizeMB, peakMemoryMB: point.peakMemoryMB,
            split: config.testSplit, bleu: bleu.score, chrf: chrf.score, bleuSignature: bleu.signature.description,
            hypotheses: hypPath.path, sentencesPerSecond: Double(sources.count) / Swift.max(seconds, 1e-9), checkpoint: checkpoint,
            onnx: onnx?.path, lengthPenalty: translator.search.lengthPenalty,
            validBLEUByLengthPenalty: validBLEU.isEmpty ? nil : Dictionary(validBLEU.map { ("\($0.penalty)", $0.bleu) }, uniquingKeysWith: { a, _ in a }))
        try results.write(to: resultsURL)
        return ["bleu": String(format: "%.2f", bleu.score), "chrf": String(format: "%.2f", chrf.score), "results": resultsURL.path,
                "checkpoint": checkpoint, "lenpen": "\(translator.search.lengthPenalty)"]
    }

    /// With several `test.lenpen` values: translate the validation split with each, log its BLEU,
    /// and leave the translator on the best (the first of equals). The test split is translated
    /// once, afterwards, so it never chooses its own setting. Returns what was tried ([] for one value).
    private func chooseLengthPenalty(_ translator: Translator, _ data: PreparedDataset) throws -> [(penalty: Double, bleu: Double)] {
        guard config.testLengthPenalties.count > 1 else { return [] }
        let sources = try data.sourceText("valid"), references = try data.targetText("valid")
        var tried: [(penalty: Double, bleu: Double)] = []
        for penalty in config.testLengthPenalties {
            translator.search.lengthPenalty = penalty
            let hypotheses = translator.translate(sources)
            let report = ScoreReport(corpus: try ScoringCorpus(hypotheses: hypotheses, references: [references]), metrics: [.bleu])
            let bleu = report.results.first { $0.name == "BLEU" }!.score
            log("test: lenpen \(penalty): valid BLEU \(String(format: "%.2f", bleu))")
            tried.append((penalty, bleu))
        }
        let best = tried.enumerated().max { a, b in a.element.bleu < b.element.bleu || (a.element.bleu == b.element.bleu && a.offset > b.offset) }!.element
        translator.search.lengthPenalty = best.penalty
        log("test: lenpen \(best.penalty) chosen on the validation split (\(sources.count) sentences)")
        return tried
    }
}

