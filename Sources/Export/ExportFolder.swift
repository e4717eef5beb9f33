import Data
import Foundation
import Model

/// What `hat export` and the pipeline's test stage hand over: a folder a device's runtime can
/// use without hat —
///   encoder.onnx, decoder.onnx, decoder_step.onnx   the graphs (`SubTransformerExporter`)
///   subtransformer.yml           the architecture, HAT's format
///   spm.model                    the SentencePiece vocabulary, when the dataset is known
///   export.json                  inputs, outputs, special token ids, how to decode
/// Every file is written atomically; the folder is created when missing.
public enum ExportFolder {
    public static let descriptionFile = "export.json"

    /// Writes the folder; returns the sizes in bytes of encoder.onnx, decoder.onnx and decoder_step.onnx.
    @discardableResult
    public static func write(model: SuperTransformer, config: SubTransformerConfig, vocabulary: URL?, source: String,
                             to folder: URL) throws -> (encoder: Int, decoder: Int, step: Int) {
        let exporter = SubTransformerExporter(model: model, config: config)
        let crossNames = (0..<config.decoderLayerNum).flatMap { ["cross_key.\($0)", "cross_value.\($0)"] }
        func pastNames(_ prefix: String) -> [String] { (0..<config.decoderLayerNum).flatMap { ["\(prefix)_key.\($0)", "\(prefix)_value.\($0)"] } }
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let producer = "hat (format 1)"
        let metadata = [("subtransformer", config.description)]
        let encoder = ONNX.serialize(exporter.encoderGraph(), producerVersion: producer, metadata: metadata)
        let decoder = ONNX.serialize(exporter.decoderGraph(), producerVersion: producer, metadata: metadata)
        let step = ONNX.serialize(exporter.decoderStepGraph(), producerVersion: producer, metadata: metadata)
        try AtomicFile.write(Foundation.Data(encoder), to: folder.appendingPathComponent("encoder.onnx"))
        try AtomicFile.write(Foundation.Data(decoder), to: folder.appendingPathComponent("decoder.onnx"))
        try AtomicFile.write(Foundation.Data(step), to: folder.appendingPathComponent("decoder_step.onnx"))
        try AtomicFile.write(config.hatYAML(comment: "exported from \(source)"), to: folder.appendingPathComponent("subtransformer.yml"))
        var vocabularyName: String?
        let copied = folder.appendingPathComponent("spm.model")
        if let vocabulary, FileManager.default.fileExists(atPath: vocabulary.path) {
            try AtomicFile.write(try Foundation.Data(contentsOf: vocabulary), to: copied)
            vocabularyName = "spm.model"
        } else if FileManager.default.fileExists(atPath: copied.path) {
            try FileManager.default.removeItem(at: copied)  // an earlier export's, not this model's
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
            "encoder": ["inputs": ["src_tokens"], "outputs": exporter.encoderOutputNames + crossNames],
            "decoder": ["inputs": ["prev_output_tokens", "src_tokens"] + exporter.encoderOutputNames, "outputs": ["logits"]],
            "decoder_step": ["inputs": ["prev_token", "src_tokens"] + crossNames + pastNames("past"),
                             "outputs": ["log_probs"] + pastNames("present"),
                             "self_attention_heads": config.decoderSelfAttentionHeads,
                             "head_dim": config.decoderSelfAttentionHeads.map { model.space.qkvDim / $0 }],
            "usage": "source ids end with eos_id, right-padded with padding_id. Step decoding: run encoder.onnx once; then "
                + "decoder_step.onnx with prev_token = eos_id and past_key.<l>/past_value.<l> of shape [batch, heads_l, 0, head_dim_l], "
                + "feed each step's present_* back as past_* and the chosen token as prev_token (a beam repeats each sentence's rows "
                + "of src_tokens and cross_* and gathers the rows of every past_* it keeps). decoder.onnx scores whole prefixes (prev_output_tokens start with eos_id, fairseq's layout). "
                + "benchmarks/onnx_greedy_translate.py decodes greedily with decoder_step.onnx",
        ]
        let json = try JSONSerialization.data(withJSONObject: description, options: [.prettyPrinted, .sortedKeys])
        try AtomicFile.write(json, to: folder.appendingPathComponent(descriptionFile))
        return (encoder.count, decoder.count, step.count)
    }
}
