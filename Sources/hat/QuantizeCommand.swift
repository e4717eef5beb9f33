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
            engine multiplies with the indices, the float32 weights are never rebuilt in memory.
            """
    )

    @Option(help: "Float32 checkpoint: a SubTransformer's, or a SuperTransformer's with --subtransformer.") var checkpoint: String
    @Option(help: "SubTransformer to quantize (HAT YAML); required for a SuperTransformer checkpoint.") var subtransformer: String?
    @Option(help: "Bits per weight index, 1 to 8 (2^bits centroids per codebook).") var bits: Int
    @Option(name: .customLong("group-rows"), help: "Rows sharing one codebook (default: one codebook per matrix).") var groupRows: Int?
    @Option(help: "Most Lloyd iterations per codebook (each stops once no weight changes cluster).")
    var iterations: Int = KMeans1D.defaultMaxIterations
    @Option(help: "Output file (.safetensors).") var out: String
    @Flag(help: "Print the result as JSON.") var json = false

    var settings: QuantizationSettings { QuantizationSettings(bits: bits, groupRows: groupRows, maxIterations: iterations) }

    func validate() throws {
        do { try settings.validate() } catch { throw ValidationError("\(error)") }
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
    }

    func run() throws {
        warnAboutUnknownKeys(in: [subtransformer])
        try OutputPath.checkFile(out, option: "--out")
        let output = ResultOutput(json: json)
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        let config: SubTransformerConfig
        if let subtransformer {
            config = try SubTransformerConfig(
                contentsOf: subtransformer, superLayers: (model.space.encoderLayers, model.space.decoderLayers), qkvDim: model.space.qkvDim)
            try model.space.check(config, file: subtransformer)
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
        let (parameters, report) = ModelQuantizer.quantize(model, config: config, settings: settings)
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
                compression: Double(float32Bytes) / Double(Swift.max(fileBytes, 1)), tensors: report))
    }

    private func format(_ x: Double) -> String { String(format: x < 0.01 ? "%.2e" : "%.3g", x) }
}
