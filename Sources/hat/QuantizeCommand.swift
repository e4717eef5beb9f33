import ArgumentParser
import Compress
import Datasets
import Foundation
import Model
import TensorEngine
import Train

/// `hat quantize`: K-means weight quantization of a SubTransformer (HAT §4, Deep Compression).
struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "K-means-quantize a SubTransformer's weight matrices and embeddings to a few bits per weight (HAT §4).",
        discussion: """
            Every weight matrix and embedding the SubTransformer reads becomes 2^bits centroids (one codebook \
            per matrix, or per --group-rows rows) and one index per weight; biases and layer norms stay float32. \
            The output is a safetensors file holding only the SubTransformer's corners, so its size is the model's \
            (layout in Sources/Train/QuantizedCheckpoint.swift). hat translate and hat test run it directly: the \
            engine multiplies with the indices, the float32 weights are never rebuilt in memory. \
            --finetune-updates N then trains the centroids on the training data (Deep Compression's shared-weight \
            fine-tuning: the assignments stay, each centroid moves by the sum of its weights' gradients) and keeps \
            them when the validation loss drops; it helps at 2-3 bits, where quantization loses most.
            """
    )

    @Option(help: "Float32 checkpoint: a SubTransformer's, or a SuperTransformer's with --subtransformer.") var checkpoint: String
    @Option(help: "SubTransformer to quantize (HAT YAML); required for a SuperTransformer checkpoint.") var subtransformer: String?
    @Option(help: "Bits per weight index, 1 to 8 (2^bits centroids per codebook).") var bits: Int
    @Option(name: .customLong("group-rows"), help: "Rows sharing one codebook (default: one codebook per matrix).") var groupRows: Int?
    @Option(help: "Most Lloyd iterations per codebook (each stops once no weight changes cluster).")
    var iterations: Int = KMeans1D.defaultMaxIterations
    @Option(name: .customLong("finetune-updates"), help: "Train the centroids for N updates after quantizing (0: not).")
    var finetuneUpdates = 0
    @Option(name: .customLong("finetune-lr"), help: "Adam's learning rate for the centroids.") var finetuneLR = 1e-4
    @Option(help: "Dataset the centroids train on (default: the one the checkpoint was trained on).") var data: String?
    @Option(help: "Compute threads for fine-tuning (default: the cores available, \(ParallelSettings.availableCores) here).")
    var threads: Int = ParallelSettings.availableCores
    @Option(help: "Output file (.safetensors).") var out: String
    @Flag(help: "Print the result as JSON.") var json = false

    var settings: QuantizationSettings { QuantizationSettings(bits: bits, groupRows: groupRows, maxIterations: iterations) }

    func validate() throws {
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if finetuneUpdates < 0 { throw ValidationError("--finetune-updates must be 0 or more") }
        if !(finetuneLR > 0 && finetuneLR.isFinite) { throw ValidationError("--finetune-lr must be a positive number like 0.0001") }
    }

    struct Result: Encodable {
        var output: String
        var subtransformer: String
        var bits: Int
        var groupRows: Int?
        var float32Bytes: Int
        var fileBytes: Int
        var compression: Double
        var tensors: [QuantizedTensorReport]
        var finetuning: CentroidFineTuningReport?
    }

    func run() throws {
        warnAboutUnknownKeys(in: [subtransformer])
        try OutputPath.checkFile(out, option: "--out")
        let output = ResultOutput(json: json)
        BLAS.setComputeThreads(threads)
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        let config: SubTransformerConfig
        if let subtransformer {
            config = try model.space.subTransformer(contentsOf: subtransformer)
            if let recorded = state.subTransformer, recorded != config {
                throw CommandError(
                    "\(checkpoint) was trained as \(recorded.description), not as \(subtransformer): leave out --subtransformer to quantize the model it trained"
                )
            }
        } else if let recorded = state.subTransformer {
            config = recorded
        } else {
            throw CommandError("\(checkpoint) is a SuperTransformer checkpoint: choose the SubTransformer to quantize with --subtransformer SUB.yml")
        }
        output.say("quantizing \(config.description) to \(bits) bits (\(groupRows.map { "a codebook per \($0) rows" } ?? "a codebook per matrix"))")
        var (parameters, report) = ModelQuantizer.quantize(model, config: config, settings: settings)
        var finetuning: CentroidFineTuningReport?
        if finetuneUpdates > 0 {
            guard let dataPath = data ?? state.data else {
                throw CommandError("\(checkpoint) does not record its dataset: give the data the centroids train on with --data")
            }
            let corpus = try openBinarizedCorpus(dataPath)
            try state.checkVocabulary(of: corpus, checkpoint: checkpoint)
            let (train, _) = try corpus.split("train").keepingPairs(maxLength: model.maxSentenceLength)
            let evaluator = try Evaluator(
                dataset: try corpus.split("valid"), maxTokens: state.training.maxTokens, labelSmoothing: Float(state.training.labelSmoothing),
                maxLength: model.maxSentenceLength)
            let tuner = CentroidFineTuner(model: model, config: config, parameters: parameters, labelSmoothing: Float(state.training.labelSmoothing))
            let tuned = try tuner.run(
                settings: CentroidFineTuning(
                    updates: finetuneUpdates, learningRate: finetuneLR, maxTokens: state.training.maxTokens, seed: state.training.seed),
                train: train, evaluator: evaluator, parameters: parameters, log: { output.say($0) })
            parameters = tuned.parameters
            finetuning = tuned.report
            output.say(
                String(
                    format: "centroid fine-tuning: validation loss %.4f → %.4f; %@", tuned.report.validLossBefore, tuned.report.validLossAfter,
                    tuned.report.kept ? "the fine-tuned centroids are kept" : "no better, the K-means centroids are kept"))
        }
        var quantizedState = state
        quantizedState.subTransformer = config
        let url = URL(fileURLWithPath: out)
        try QuantizedCheckpoint.save(to: url, parameters: parameters, state: quantizedState)
        // An imported model's text pipeline goes with it, so the file translates on its own.
        let sourceFolder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        let outFolder = url.deletingLastPathComponent()
        if sourceFolder.standardizedFileURL != outFolder.standardizedFileURL, let vocabulary = try FairseqVocabulary.read(folder: sourceFolder) {
            try vocabulary.copy(from: sourceFolder, to: outFolder)
        }
        let float32Bytes = parameters.reduce(0) { $0 + $1.shape.reduce(1, *) * MemoryLayout<Float>.size }
        let fileBytes = (try FileManager.default.attributesOfItem(atPath: out)[.size] as? Int) ?? 0
        for t in report {
            output.say(
                "  \(t.name) \(t.shape.map(String.init).joined(separator: "×")): rmse \(format(t.rmse)) (\(format(100 * t.rmse / Swift.max(t.rms, 1e-30)))% of rms), \(t.iterations) iterations"
            )
        }
        output.say(
            "wrote \(out): \(fileBytes) bytes, float32 weights \(float32Bytes) bytes (\(format(Double(float32Bytes) / Double(Swift.max(fileBytes, 1))))× smaller)"
        )
        try output.emit(
            Result(
                output: out, subtransformer: config.description, bits: bits, groupRows: groupRows, float32Bytes: float32Bytes, fileBytes: fileBytes,
                compression: Double(float32Bytes) / Double(Swift.max(fileBytes, 1)), tensors: report, finetuning: finetuning))
    }

    private func format(_ x: Double) -> String { String(format: x < 0.01 ? "%.2e" : "%.3g", x) }
}
