import Data
import Foundation
import Model

/// What `hat export` and the pipeline's test stage hand over: a folder a device's runtime can
/// use without hat —
///   encoder.onnx, decoder.onnx   the graphs (`SubTransformerExporter`)
///   subtransformer.yml           the architecture, HAT's format
///   spm.model                    the SentencePiece vocabulary, when the dataset is known
///   export.json                  inputs, outputs, special token ids, how to decode
/// Every file is written atomically; the folder is created when missing.
public enum ExportFolder {
    public static let descriptionFile = "export.json"

    /// Writes the folder; returns the sizes in bytes of encoder.onnx and decoder.onnx.
    @discardableResult
    public static func write(model: SuperTransformer, config: SubTransformerConfig, vocabulary: URL?, source: String,
                             to folder: URL) throws -> (encoder: Int, decoder: Int) {
        let exporter = SubTransformerExporter(model: model, config: config)
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let producer = "hat (format 1)"
        let encoder = ONNX.serialize(exporter.encoderGraph(), producerVersion: producer, metadata: [("subtransformer", config.description)])
        let decoder = ONNX.serialize(exporter.decoderGraph(), producerVersion: producer, metadata: [("subtransformer", config.description)])
        try AtomicFile.write(Foundation.Data(encoder), to: folder.appendingPathComponent("encoder.onnx"))
        try AtomicFile.write(Foundation.Data(decoder), to: folder.appendingPathComponent("decoder.onnx"))
        try AtomicFile.write(config.hatYAML(comment: "exported from \(source)"), to: folder.appendingPathComponent("subtransformer.yml"))
        var vocabularyName: String?
        if let vocabulary, FileManager.default.fileExists(atPath: vocabulary.path) {
            try AtomicFile.write(try Foundation.Data(contentsOf: vocabulary), to: folder.appendingPathComponent("spm.model"))
            vocabularyName = "spm.model"
        }
        let description: [String: Any] = [
            "format": "hat-onnx-export",
            "opset": ONNX.opsetVersion,
            "source": source,
            "subtransformer": config.description,
            "source_vocab_size": model.sourceVocabSize,
            "target_vocab_size": model.targetVocabSize,
            "padding_id": Int(model.paddingIndex),
            "eos_id": Int(Vocabulary.eosID),
            "vocabulary": vocabularyName ?? NSNull(),
            "encoder": ["inputs": ["src_tokens"], "outputs": exporter.encoderOutputNames],
            "decoder": ["inputs": ["prev_output_tokens", "src_tokens"] + exporter.encoderOutputNames, "outputs": ["logits"]],
            "usage": "source ids end with eos_id, right-padded with padding_id; prev_output_tokens start with eos_id (fairseq); "
                + "decode by feeding the argmax (or a beam) of logits[:, -1] back; benchmarks/onnx_greedy_translate.py does it",
        ]
        let json = try JSONSerialization.data(withJSONObject: description, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(json, to: folder.appendingPathComponent(descriptionFile))
        return (encoder.count, decoder.count)
    }
}
