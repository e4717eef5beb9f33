import ArgumentParser
import Export
import Foundation
import Model
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
        spm.model (when the checkpoint's dataset is known) and export.json (inputs, outputs, special token ids, \
        how to decode). Opset 17, float32; only the SubTransformer's corner of every SuperTransformer weight is stored.
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
        let vocabulary = (data ?? state.data).map { URL(fileURLWithPath: $0).appendingPathComponent("spm.model") }
        let sizes = try ExportFolder.write(model: model, config: config, vocabulary: vocabulary, source: checkpoint,
                                           to: URL(fileURLWithPath: out))
        print(String(format: "wrote %@/encoder.onnx (%.1f MB), decoder.onnx (%.1f MB) and decoder_step.onnx (%.1f MB): %@", out,
                     Double(sizes.encoder) / 1e6, Double(sizes.decoder) / 1e6, Double(sizes.step) / 1e6, config.description))
    }
}
