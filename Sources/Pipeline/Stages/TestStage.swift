import Compress
import Datasets
import Export
import Foundation
import Generate
import Search
import Train

/// Translates the test split with the trained SubTransformer and scores it with BLEU and chrF
/// (HAT step 5), hands the model over as ONNX, and writes results.json.
struct TestStage: StageJob {
    let context: StageContext
    /// The constraint the search stage chose for (its summary in pipeline.json).
    let chosenConstraint: String?

    var settings: [String] {
        let c = context.config
        // One penalty keeps the key of results written before lists existed.
        let lenpen =
            c.testLengthPenalties.count == 1
            ? "\(c.testLengthPenalties[0])"
            : "lenpen=" + c.testLengthPenalties.map { "\($0)" }.joined(separator: "/") + " chosen on valid"
        return [c.testSplit, "\(c.testBeam)", lenpen] + (c.testAverageLast > 1 ? ["average-last=\(c.testAverageLast)"] : [])
            + (c.testQuantizeBits.isEmpty ? [] : ["quantize-bits=" + c.testQuantizeBits.map(String.init).joined(separator: "/")])
    }
    var threads: Int { context.config.testThreads }

    func outputIsValid() -> Bool {
        FileManager.default.fileExists(atPath: context.folder.resultsURL.path) && (try? PipelineResults.read(context.folder.resultsURL)) != nil
    }

    /// The checkpoint the test stage translates with: `checkpoint_best`, or the average of the
    /// last `test.average-last` epoch checkpoints when the training stage left at least two.
    private func testCheckpoint() throws -> String {
        let config = context.config, folder = context.folder
        guard config.testAverageLast > 1 else { return folder.subTransformerCheckpoint }
        let epochs = try CheckpointAverager.lastEpochCheckpoints(in: folder.url(.train), count: config.testAverageLast)
        guard epochs.count >= 2 else {
            context.log(
                "test: average-last \(config.testAverageLast) asked, but the training stage kept \(epochs.count) epoch checkpoint(s); testing checkpoint_best")
            return folder.subTransformerCheckpoint
        }
        let averaged = folder.url(.train).appendingPathComponent("checkpoint_average\(epochs.count).safetensors")
        try CheckpointAverager.average(epochs, output: averaged)
        context.log("test: averaged \(epochs.map(\.lastPathComponent).joined(separator: ", ")) into \(averaged.lastPathComponent)")
        return averaged.path
    }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder, log = context.log
        let checkpoint = try testCheckpoint()
        let translator = try Translator.load(
            checkpoint: checkpoint, subTransformer: nil, data: folder.dataDirectory,
            search: BeamSearch(
                beamSize: config.testBeam, lengthPenalty: config.testLengthPenalties[0],
                maxLenA: 1.2, maxLenB: 10))
        let data = try PreparedDataset(directory: folder.dataDirectory)
        let validBLEU = try chooseLengthPenalty(translator, data)
        let sources = try data.sourceText(config.testSplit), references = try data.targetText(config.testSplit)
        let started = Date()
        let hypotheses = translator.translate(sources)
        let seconds = Date().timeIntervalSince(started)
        let dir = folder.url(.test)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let hypPath = dir.appendingPathComponent("\(config.testSplit).hyp.txt")
        try AtomicFile.write(Data((hypotheses.joined(separator: "\n") + "\n").utf8), to: hypPath)
        let report = ScoreReport(corpus: try ScoringCorpus(hypotheses: hypotheses, references: [references]), metrics: [.bleu, .chrf])
        let bleu = report.results.first { $0.name == "BLEU" }!, chrf = report.results.first { $0.name != "BLEU" }!
        log(report.text(version: "hat"))

        // Hand the model over as ONNX too (before results.json, which marks the stage done).
        var onnx: URL? = dir.appendingPathComponent("onnx")
        do {
            try ExportFolder.write(
                model: translator.model, config: translator.config,
                vocabulary: .sentencePiece(URL(fileURLWithPath: folder.dataDirectory).appendingPathComponent("spm.model")),
                source: checkpoint, to: onnx!)
            log("test: the model as ONNX in \(onnx!.path)")
        } catch {
            log("test: could not write the ONNX export (\(error)); the results are kept, `hat export --checkpoint \(checkpoint)` retries it")
            onnx = nil
        }

        let quantized = try testQuantized(checkpoint: checkpoint, sources: sources, references: references, lengthPenalty: translator.search.lengthPenalty)

        let front = try ParetoFront.read(folder.url(.search).appendingPathComponent(ParetoFront.fileName))
        let point = front.first { $0.constraint == chosenConstraint } ?? front[0]
        let results = PipelineResults(
            subtransformer: folder.subTransformerYAML, config: point.config, constraint: point.constraint, trainMode: config.trainMode.rawValue,
            supernetLoss: point.loss, predictedLatencyMs: point.predictedLatencyMs, measuredLatencyMs: point.measuredLatencyMs,
            parameters: point.parameters, flops: point.flops, modelSizeMB: point.modelSizeMB, peakMemoryMB: point.peakMemoryMB,
            split: config.testSplit, bleu: bleu.score, chrf: chrf.score, bleuSignature: bleu.signature.description,
            hypotheses: hypPath.path, sentencesPerSecond: Double(sources.count) / Swift.max(seconds, 1e-9), checkpoint: checkpoint,
            onnx: onnx?.path, lengthPenalty: translator.search.lengthPenalty,
            validBLEUByLengthPenalty: validBLEU.isEmpty ? nil : Dictionary(validBLEU.map { ("\($0.penalty)", $0.bleu) }, uniquingKeysWith: { a, _ in a }),
            quantized: quantized.isEmpty ? nil : quantized,
            teacher: config.train["distill-from"].map { $0 == PipelineConfig.supernetTeacher ? folder.supernetCheckpoint : $0 })
        try results.write(to: folder.resultsURL)
        return [
            "bleu": String(format: "%.2f", bleu.score), "chrf": String(format: "%.2f", chrf.score), "results": folder.resultsURL.path,
            "checkpoint": checkpoint, "lenpen": "\(translator.search.lengthPenalty)",
        ]
    }

    /// `test.quantize-bits`: the tested checkpoint K-means-quantized at each width (`hat quantize`,
    /// one codebook per matrix), written beside it as `checkpoint_qBITS.safetensors`, and the same
    /// split translated with it.
    private func testQuantized(
        checkpoint: String, sources: [String], references: [String], lengthPenalty: Double
    ) throws
        -> [PipelineResults.QuantizedResult]
    {
        let config = context.config, folder = context.folder
        guard !config.testQuantizeBits.isEmpty else { return [] }
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        guard let sub = state.subTransformer else { return [] }
        var results: [PipelineResults.QuantizedResult] = []
        for bits in config.testQuantizeBits {
            let url = folder.url(.train).appendingPathComponent("checkpoint_q\(bits).safetensors")
            let (parameters, _) = ModelQuantizer.quantize(model, config: sub, settings: QuantizationSettings(bits: bits))
            try QuantizedCheckpoint.save(to: url, parameters: parameters, state: state)
            let translator = try Translator.load(
                checkpoint: url.path, subTransformer: nil, data: folder.dataDirectory,
                search: BeamSearch(beamSize: config.testBeam, lengthPenalty: lengthPenalty, maxLenA: 1.2, maxLenB: 10))
            let hypotheses = translator.translate(sources)
            let report = ScoreReport(corpus: try ScoringCorpus(hypotheses: hypotheses, references: [references]), metrics: [.bleu, .chrf])
            let bleu = report.results.first { $0.name == "BLEU" }!.score, chrf = report.results.first { $0.name != "BLEU" }!.score
            let bytes = (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
            context.log(String(format: "test: %d-bit weights (%@, %d bytes): BLEU %.2f, chrF2 %.2f", bits, url.lastPathComponent, bytes, bleu, chrf))
            results.append(PipelineResults.QuantizedResult(bits: bits, checkpoint: url.path, fileBytes: bytes, bleu: bleu, chrf: chrf))
        }
        return results
    }

    /// With several `test.lenpen` values: translate the validation split with each, log its BLEU,
    /// and leave the translator on the best (the first of equals). The test split is translated
    /// once, afterwards, so it never chooses its own setting. Returns what was tried ([] for one value).
    private func chooseLengthPenalty(_ translator: Translator, _ data: PreparedDataset) throws -> [(penalty: Double, bleu: Double)] {
        let penalties = context.config.testLengthPenalties
        guard penalties.count > 1 else { return [] }
        let sources = try data.sourceText("valid"), references = try data.targetText("valid")
        var tried: [(penalty: Double, bleu: Double)] = []
        for penalty in penalties {
            translator.search.lengthPenalty = penalty
            let hypotheses = translator.translate(sources)
            let report = ScoreReport(corpus: try ScoringCorpus(hypotheses: hypotheses, references: [references]), metrics: [.bleu])
            let bleu = report.results.first { $0.name == "BLEU" }!.score
            context.log("test: lenpen \(penalty): valid BLEU \(String(format: "%.2f", bleu))")
            tried.append((penalty, bleu))
        }
        let best = tried.enumerated().max { a, b in a.element.bleu < b.element.bleu || (a.element.bleu == b.element.bleu && a.offset > b.offset) }!.element
        translator.search.lengthPenalty = best.penalty
        context.log("test: lenpen \(best.penalty) chosen on the validation split (\(sources.count) sentences)")
        return tried
    }
}
