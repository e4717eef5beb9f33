import ArgumentParser
import Datasets
import Export
import Foundation
import Logging
import Model
import TensorEngine
import Train

/// `hat export`: a trained SubTransformer as ONNX graphs for a device's own runtime (THANOS).
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Write a SubTransformer as ONNX (encoder, decoder, incremental decoder step) with its vocabulary, for onnxruntime or a device's runtime.",
        discussion: """
            OUT gets encoder.onnx (src_tokens → encoder_out.<i>, cross_key.<l>, cross_value.<l>), decoder.onnx \
            (prev_output_tokens, src_tokens, encoder_out.<i> → logits), decoder_step.onnx (one step with cached \
            self-attention keys and values → log_probs, present_key.<l>, present_value.<l>), subtransformer.yml, \
            the vocabulary (spm.model when the checkpoint's dataset is known; an imported HAT model's vocabulary.json, \
            dictionaries and BPE codes) and export.json (inputs, outputs, special token ids, \
            how to decode). Opset 17, float32; only the SubTransformer's corner of every SuperTransformer weight is stored.
            """
    )

    @Option(help: "Checkpoint (safetensors): a SubTransformer's, or a SuperTransformer's with --subtransformer.") var checkpoint: String?
    @Option(help: "SubTransformer to export (HAT YAML); required for a SuperTransformer checkpoint.") var subtransformer: String?
    @Option(help: "Dataset directory whose vocabulary goes with the model (default: the one the checkpoint was trained on).")
    var data: String?
    @Option(help: "Output folder: new, empty, or an earlier export (replaced as a whole).") var out: String
    @Option(
        help: ArgumentHelp(
            "Without --checkpoint: the search space of --subtransformer; the weights are random.",
            discussion: "For measuring latency in another runtime, e.g. `hat latency dataset --command` with measurers/onnxruntime_measure.sh."))
    var space: String?
    @Option(help: "Without --checkpoint: joint vocabulary size.") var vocab: Int?
    @Option(name: .customLong("src-vocab"), help: "Without --checkpoint: source vocabulary size.") var sourceVocab: Int?
    @Option(name: .customLong("tgt-vocab"), help: "Without --checkpoint: target vocabulary size.") var targetVocab: Int?

    func validate() throws {
        if checkpoint == nil && (space == nil || subtransformer == nil) {
            throw ValidationError("give --checkpoint, or --space and --subtransformer for a SubTransformer with random weights")
        }
        if checkpoint != nil && (space != nil || vocab != nil || sourceVocab != nil || targetVocab != nil) {
            throw ValidationError("--space and the vocabulary sizes are for exports without --checkpoint; a checkpoint records them")
        }
        if (sourceVocab == nil) != (targetVocab == nil) { throw ValidationError("--src-vocab and --tgt-vocab go together") }
        if vocab != nil && sourceVocab != nil { throw ValidationError("give --vocab or --src-vocab/--tgt-vocab, not both") }
        if checkpoint == nil && data != nil && (vocab != nil || sourceVocab != nil) {
            throw ValidationError("--data sets the vocabulary sizes: leave out --vocab, --src-vocab and --tgt-vocab")
        }
        for (name, size) in [("--vocab", vocab), ("--src-vocab", sourceVocab), ("--tgt-vocab", targetVocab)] {
            if let size, size < 5 { throw ValidationError("\(name) \(size): a vocabulary needs the 4 special tokens and at least one more") }
        }
        if let data, !FileManager.default.fileExists(atPath: URL(fileURLWithPath: data).appendingPathComponent("spm.model").path) {
            throw ValidationError("--data \(data) has no spm.model: give the folder `hat data` prepared")
        }
    }

    func run() throws {
        warnAboutUnknownKeys(in: [subtransformer, space])
        try OutputPath.checkFolder(out, option: "--out")
        guard let checkpoint else { return try exportRandomWeights() }
        let (model, state) = try Checkpoint.loadModel(path: checkpoint, allowQuantized: true)
        let config: SubTransformerConfig
        if let subtransformer {
            config = try model.space.subTransformer(contentsOf: subtransformer)
            if let recorded = state.subTransformer, recorded != config {
                throw CommandError(
                    "\(checkpoint) was trained as \(recorded.description), not as \(subtransformer): "
                        + "leave out --subtransformer to export the model it trained")
            }
        } else if let recorded = state.subTransformer {
            config = recorded
        } else {
            throw CommandError("\(checkpoint) is a SuperTransformer checkpoint: choose the SubTransformer to export with --subtransformer SUB.yml")
        }
        // The text side: --data's spm.model, else an imported model's fairseq vocabulary beside the
        // checkpoint, else the spm.model of the dataset the checkpoint records.
        let vocabulary =
            try data.map { ExportVocabulary.sentencePiece(URL(fileURLWithPath: $0).appendingPathComponent("spm.model")) }
            ?? ExportVocabulary.of(checkpoint: checkpoint, dataset: state.data)
        if vocabulary == nil, let recorded = state.data {
            diagnostics.warning(
                """
                \(checkpoint) was trained on \(recorded), which has no spm.model (moved, or a data-bin folder?): the export goes \
                without a vocabulary; give a prepared dataset's folder with --data DIR to include one
                """)
        }
        let sizes = try ExportFolder.write(
            model: model, config: config, vocabulary: vocabulary, source: checkpoint,
            to: URL(fileURLWithPath: out))
        report(sizes, config)
    }

    /// A SubTransformer of `--space` with random weights (latency in another runtime needs the
    /// architecture, not the values).
    func exportRandomWeights() throws {
        let spaceFile = space!, subFile = subtransformer!
        var searchSpace = try SearchSpace(contentsOf: spaceFile)
        let config = try searchSpace.subTransformer(contentsOf: subFile)
        let (vs, vt) = try resolveVocabularySizes(data: data, vocab: vocab, source: sourceVocab, target: targetVocab)
        searchSpace.shareAllEmbeddings = searchSpace.shareAllEmbeddings && vs == vt
        var rng = RandomGenerator(seed: 0)
        let model = SuperTransformer(space: searchSpace, sourceVocabSize: vs, targetVocabSize: vt, rates: .none, rng: &rng)
        let vocabulary = data.map { ExportVocabulary.sentencePiece(URL(fileURLWithPath: $0).appendingPathComponent("spm.model")) }
        let sizes = try ExportFolder.write(
            model: model, config: config, vocabulary: vocabulary, source: "random weights (\(subFile))",
            to: URL(fileURLWithPath: out))
        report(sizes, config)
    }

    func report(_ sizes: (encoder: Int, decoder: Int, step: Int), _ config: SubTransformerConfig) {
        print(
            String(
                format: "wrote %@/encoder.onnx (%.1f MB), decoder.onnx (%.1f MB) and decoder_step.onnx (%.1f MB): %@", out,
                Double(sizes.encoder) / 1e6, Double(sizes.decoder) / 1e6, Double(sizes.step) / 1e6, config.description))
    }
}
