import Datasets
import Foundation
import Model

/// The text side that goes with an exported model, so the device has the whole model.
public enum ExportVocabulary {
    /// Our SentencePiece model (the `spm.model` of a prepared dataset folder).
    case sentencePiece(URL)
    /// An imported HAT model's fairseq text pipeline: the folder holding its `vocabulary.json`,
    /// the two dictionaries and the BPE codes it names.
    case fairseq(folder: URL, FairseqVocabulary)

    /// The vocabulary that goes with a checkpoint: the fairseq one beside an imported checkpoint,
    /// else `spm.model` in `dataset` (when given and present).
    public static func of(checkpoint: String, dataset: String?) throws -> ExportVocabulary? {
        let folder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        if let fairseq = try FairseqVocabulary.read(folder: folder) { return .fairseq(folder: folder, fairseq) }
        guard let dataset else { return nil }
        let model = URL(fileURLWithPath: dataset).appendingPathComponent("spm.model")
        return FileManager.default.fileExists(atPath: model.path) ? .sentencePiece(model) : nil
    }

    /// (name in the export, file to copy); the first names the vocabulary in export.json.
    var files: [(name: String, source: URL)] {
        switch self {
        case .sentencePiece(let url): return [("spm.model", url)]
        case .fairseq(let folder, let v): return v.fileNames.map { ($0, folder.appendingPathComponent($0)) }
        }
    }

    var kind: String {
        switch self {
        case .sentencePiece: return "sentencepiece"
        case .fairseq: return "fairseq (Moses, subword-nmt BPE, fairseq dictionaries; vocabulary.json names them)"
        }
    }
}

/// What `hat export` and the pipeline's test stage hand over: a folder a device's runtime can
/// use without hat —
///   encoder.onnx, decoder.onnx, decoder_step.onnx   the graphs (`SubTransformerExporter`)
///   subtransformer.yml           the architecture, HAT's format
///   spm.model                    the SentencePiece vocabulary, when the dataset is known; or, for an
///                                imported HAT model, vocabulary.json with its dictionaries and BPE codes
///   export.json                  inputs, outputs, special token ids, how to decode, the files
/// The folder is written whole beside its destination and renamed into place, so a failed or
/// interrupted export never leaves old and new graphs mixed; an existing folder is replaced only
/// when it is empty or an earlier export (its export.json lists every file in it).
public enum ExportFolder {
    public static let descriptionFile = "export.json"
    public static let formatName = "hat-onnx-export"
    /// The files every export writes (older exports' export.json does not list its files).
    static let fixedFiles: Set<String> = ["encoder.onnx", "decoder.onnx", "decoder_step.onnx", "subtransformer.yml", descriptionFile, "spm.model"]

    /// Whether `folder` may be replaced by a new export: empty, or holding only an earlier export's files.
    public static func isReplaceable(_ folder: URL) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return false }
        if entries.isEmpty { return true }
        guard let data = try? Data(contentsOf: folder.appendingPathComponent(descriptionFile)),
            let json = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any],
            json["format"] as? String == formatName
        else { return false }
        let listed = Set(json["files"] as? [String] ?? []).union(fixedFiles)
        return entries.allSatisfy(listed.contains)
    }

    /// Writes the folder; returns the sizes in bytes of encoder.onnx, decoder.onnx and decoder_step.onnx.
    @discardableResult
    public static func write(
        model: SuperTransformer, config: SubTransformerConfig, vocabulary: ExportVocabulary?, source: String,
        to folder: URL
    ) throws -> (encoder: Int, decoder: Int, step: Int) {
        guard !FileManager.default.fileExists(atPath: folder.path) || isReplaceable(folder) else {
            throw DataError.io(
                path: folder.path, reason: "holds files that are not an earlier export's: give a new or empty folder for the export (nothing was written)")
        }
        let output = try AtomicDirectory(destination: folder) { _ in true }  // checked above
        do {
            let sizes = try writeFiles(model: model, config: config, vocabulary: vocabulary, source: source, into: output.temporary)
            try output.commit()
            return sizes
        } catch {
            output.discard()
            throw error
        }
    }

    static func writeFiles(
        model: SuperTransformer, config: SubTransformerConfig, vocabulary: ExportVocabulary?, source: String,
        into folder: URL
    ) throws -> (encoder: Int, decoder: Int, step: Int) {
        let exporter = SubTransformerExporter(model: model, config: config)
        let crossNames = (0..<config.decoderLayerNum).flatMap { ["cross_key.\($0)", "cross_value.\($0)"] }
        func pastNames(_ prefix: String) -> [String] { (0..<config.decoderLayerNum).flatMap { ["\(prefix)_key.\($0)", "\(prefix)_value.\($0)"] } }
        let producer = "hat (format 1)"
        let metadata = [("subtransformer", config.description)]
        let encoder = ONNX.serialize(exporter.encoderGraph(), producerVersion: producer, metadata: metadata)
        let decoder = ONNX.serialize(exporter.decoderGraph(), producerVersion: producer, metadata: metadata)
        let step = ONNX.serialize(exporter.decoderStepGraph(), producerVersion: producer, metadata: metadata)
        try Data(encoder).write(to: folder.appendingPathComponent("encoder.onnx"))
        try Data(decoder).write(to: folder.appendingPathComponent("decoder.onnx"))
        try Data(step).write(to: folder.appendingPathComponent("decoder_step.onnx"))
        try Data(config.hatYAML(comment: "exported from \(source)").utf8).write(to: folder.appendingPathComponent("subtransformer.yml"))
        var files = ["encoder.onnx", "decoder.onnx", "decoder_step.onnx", "subtransformer.yml"]
        for (name, url) in vocabulary?.files ?? [] {
            do {
                try FileManager.default.copyItem(at: url, to: folder.appendingPathComponent(name))
            } catch {
                throw DataError.io(path: url.path, reason: "cannot be copied into the export: \(error.localizedDescription)")
            }
            files.append(name)
        }
        let description: [String: Any] = [
            "format": formatName,
            "opset": ONNX.opsetVersion,
            "source": source,
            "subtransformer": config.description,
            "source_vocab_size": model.sourceVocabSize,
            "target_vocab_size": model.targetVocabSize,
            "padding_id": Int(model.paddingIndex),
            "eos_id": Int(Vocabulary.eosID),
            "vocabulary": vocabulary?.files.first?.name ?? NSNull(),
            "vocabulary_kind": vocabulary?.kind ?? NSNull(),
            "files": files + [descriptionFile],
            "encoder": ["inputs": ["src_tokens"], "outputs": exporter.encoderOutputNames + crossNames],
            "decoder": ["inputs": ["prev_output_tokens", "src_tokens"] + exporter.encoderOutputNames, "outputs": ["logits"]],
            "decoder_step": [
                "inputs": ["prev_token", "src_tokens"] + crossNames + pastNames("past"),
                "outputs": ["log_probs"] + pastNames("present"),
                "self_attention_heads": config.decoderSelfAttentionHeads,
                "head_dim": config.decoderSelfAttentionHeads.map { model.space.qkvDim / $0 },
            ],
            "usage": "source ids end with eos_id, right-padded with padding_id. Step decoding: run encoder.onnx once; then "
                + "decoder_step.onnx with prev_token = eos_id and past_key.<l>/past_value.<l> of shape [batch, heads_l, 0, head_dim_l], "
                + "feed each step's present_* back as past_* and the chosen token as prev_token (a beam repeats each sentence's rows "
                + "of src_tokens and cross_* and gathers the rows of every past_* it keeps). decoder.onnx scores whole prefixes (prev_output_tokens start with eos_id, fairseq's layout). "
                + "benchmarks/onnx_greedy_translate.py decodes greedily with decoder_step.onnx",
        ]
        let json = try JSONSerialization.data(withJSONObject: description, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: folder.appendingPathComponent(descriptionFile))
        return (encoder.count, decoder.count, step.count)
    }
}
