import ArgumentParser
import Data
import Export
import Foundation
import Model
import Train

/// `hat export`: a trained SubTransformer as ONNX graphs for a device's own runtime (THANOS).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a SubTransformer as ONNX (encoder.onnx, decoder.onnx) with its vocabulary, for onnxruntime or a device's runtime.",
        discussion: """
        OUT gets encoder.onnx (src_tokens → encoder_out.<i>), decoder.onnx (prev_output_tokens, src_tokens, \
        encoder_out.<i> → logits), subtransformer.yml, spm.model (when the checkpoint's dataset is known) and \
        export.json (inputs, outputs, special token ids). Opset 17, float32; only the SubTransformer's corner of \
        every SuperTransformer weight is stored.
        """
    )

    @Option(help: "Checkpoint (safetensors): a SubTransformer's, or a SuperTransformer's with --subtransformer.") var checkpoint: String
    @Option(help: "SubTransformer to export (HAT YAML); required for a SuperTransformer checkpoint.") var subtransformer: String?
    @Option(help: "Dataset directory whose vocabulary goes with the model (default: the one the checkpoint was trained on).")
    var data: String?
    @Option(help: "Output folder (created; existing files of the same names are replaced).") var out: String

    func run() throws {
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        let config: SubTransformerConfig
        if let subtransformer {
            config = try SubTransformerConfig(contentsOf: subtransformer, superLayers: (model.space.encoderLayers, model.space.decoderLayers),
                                              qkvDim: model.space.qkvDim)
            try model.space.check(config, file: subtransformer)
        } else if let recorded = state.subTransformer {
            config = recorded
        } else {
            throw ValidationError("\(checkpoint) is a SuperTransformer checkpoint: choose the SubTransformer to export with --subtransformer SUB.yml")
        }
        let exporter = SubTransformerExporter(model: model, config: config)
        let folder = URL(fileURLWithPath: out)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let version = "hat (format 1)"
        let encoder = ONNX.serialize(exporter.encoderGraph(), producerVersion: version, metadata: [("subtransformer", config.description)])
        let decoder = ONNX.serialize(exporter.decoderGraph(), producerVersion: version, metadata: [("subtransformer", config.description)])
        try AtomicFile.write(Foundation.Data(encoder), to: folder.appendingPathComponent("encoder.onnx"))
        try AtomicFile.write(Foundation.Data(decoder), to: folder.appendingPathComponent("decoder.onnx"))
        try AtomicFile.write(config.hatYAML(comment: "exported from \(checkpoint)"), to: folder.appendingPathComponent("subtransformer.yml"))
        var vocabulary: String?
        if let dir = data ?? state.data {
            let spm = URL(fileURLWithPath: dir).appendingPathComponent("spm.model")
            if FileManager.default.fileExists(atPath: spm.path) {
                try AtomicFile.write(try Foundation.Data(contentsOf: spm), to: folder.appendingPathComponent("spm.model"))
                vocabulary = "spm.model"
            }
        }
        let description: [String: Any] = [
            "format": "hat-onnx-export",
            "opset": ONNX.opsetVersion,
            "checkpoint": checkpoint,
            "subtransformer": config.description,
            "source_vocab_size": model.sourceVocabSize,
            "target_vocab_size": model.targetVocabSize,
            "padding_id": Int(model.paddingIndex),
            "eos_id": Int(Vocabulary.eosID),
            "vocabulary": vocabulary ?? NSNull(),
            "encoder": ["inputs": ["src_tokens"], "outputs": exporter.encoderOutputNames],
            "decoder": ["inputs": ["prev_output_tokens", "src_tokens"] + exporter.encoderOutputNames, "outputs": ["logits"]],
            "usage": "source ids end with eos_id, right-padded with padding_id; prev_output_tokens start with eos_id (fairseq); decode by feeding the argmax (or a beam) of logits[:, -1] back",
        ]
        let json = try JSONSerialization.data(withJSONObject: description, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(json, to: folder.appendingPathComponent("export.json"))
        print(String(format: "wrote %@/encoder.onnx (%.1f MB) and decoder.onnx (%.1f MB): %@", out,
                     Double(encoder.count) / 1e6, Double(decoder.count) / 1e6, config.description))
    }
}
