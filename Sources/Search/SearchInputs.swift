import Datasets
import Foundation
import Model
import Train

/// What a search over a trained SuperTransformer reads: the checkpoint, the search space
/// (the checkpoint's, or a narrower one over the same SuperTransformer), and the validation
/// split the fitness is computed on.
public struct SearchInputs {
    public let model: SuperTransformer
    public let checkpoint: CheckpointState
    public let space: SearchSpace
    public let fitness: SupernetFitness
    public let supernetPath: String
    public let dataDirectory: String

    /// - Parameters:
    ///   - spaceFile: a HAT space whose SuperTransformer sizes are the checkpoint's; its choices
    ///     may be narrower. Nil: the checkpoint's own space.
    ///   - data: dataset folder (default: the one the supernet was trained on).
    ///   - validSubset: score on this many validation pairs (default all, as HAT).
    ///   - maxTokens: tokens per evaluation batch (default: the training's max-tokens).
    public init(supernet: String, spaceFile: String?, data: String?, validSubset: Int?, maxTokens: Int?) throws {
        let (model, state) = try Checkpoint.loadModel(path: supernet)
        var space = state.space
        if let spaceFile {
            let given = try SearchSpace(contentsOf: spaceFile)
            try Self.checkSameSuperTransformer(given, state.space, file: spaceFile, supernet: supernet)
            space = given
        }
        guard let directory = data ?? state.data else {
            throw SearchError.badSettings("\(supernet) does not record its dataset: give --data")
        }
        // Our dataset folder, or a fairseq data-bin folder (an imported HAT SuperTransformer's data).
        let corpus = try openBinarizedCorpus(directory)
        let sizes = corpus.vocabularySizes, validation = try corpus.split("valid")
        try state.checkVocabulary(of: corpus, checkpoint: supernet)
        guard sizes.source == state.sourceVocabSize, sizes.target == state.targetVocabSize else {
            throw SearchError.badSettings(
                "\(directory) has vocabularies of \(sizes.source)/\(sizes.target) "
                    + "pieces, the supernet \(state.sourceVocabSize)/\(state.targetVocabSize): use the dataset it was trained on")
        }
        self.model = model
        self.checkpoint = state
        self.space = space
        self.fitness = try SupernetFitness(
            model: model, validation: validation, subset: validSubset,
            maxTokens: maxTokens ?? state.training.maxTokens,
            labelSmoothing: state.training.labelSmoothing)
        self.supernetPath = URL(fileURLWithPath: supernet).standardizedFileURL.path
        self.dataDirectory = URL(fileURLWithPath: directory).standardizedFileURL.path
    }

    /// HAT's size conventions for this supernet's vocabularies (hat-reference.md §5).
    public var profiler: Profiler {
        Profiler(space: space, sourceVocabSize: checkpoint.sourceVocabSize, targetVocabSize: checkpoint.targetVocabSize)
    }

    /// The search setup's record of these inputs (a resumed search must see the same).
    /// `weight_bits` appears only for quantized searches and `memory_predictor` only with one, so
    /// other searches resume as before.
    public func setupInputs(predictor: String, length: Int, beam: Int, weightBits: Int? = nil, memoryPredictor: String? = nil) -> [String: String] {
        var inputs = [
            "supernet": supernetPath, "data": dataDirectory, "valid_sentences": String(fitness.sentences),
            "max_tokens": String(fitness.maxTokens),
            "predictor": predictor, "length": String(length), "beam": String(beam),
        ]
        if let weightBits { inputs["weight_bits"] = String(weightBits) }
        if let memoryPredictor { inputs["memory_predictor"] = memoryPredictor }
        return inputs
    }

    /// A space file must describe the supernet's own weights; only its choices may differ.
    static func checkSameSuperTransformer(_ a: SearchSpace, _ b: SearchSpace, file: String, supernet: String) throws {
        let sizes: [(String, Int, Int)] = [
            ("encoder-embed-dim", a.encoderEmbedDim, b.encoderEmbedDim), ("decoder-embed-dim", a.decoderEmbedDim, b.decoderEmbedDim),
            ("encoder-ffn-embed-dim", a.encoderFFNDim, b.encoderFFNDim), ("decoder-ffn-embed-dim", a.decoderFFNDim, b.decoderFFNDim),
            ("encoder-layers", a.encoderLayers, b.encoderLayers), ("decoder-layers", a.decoderLayers, b.decoderLayers),
            ("encoder-attention-heads", a.encoderAttentionHeads, b.encoderAttentionHeads),
            ("decoder-attention-heads", a.decoderAttentionHeads, b.decoderAttentionHeads), ("qkv-dim", a.qkvDim, b.qkvDim),
        ]
        for (key, x, y) in sizes where x != y {
            throw ConfigError(file: file, key: key, "is \(x), but the supernet \(supernet) has \(y): the space must describe the trained SuperTransformer")
        }
        if a.shareAllEmbeddings != b.shareAllEmbeddings {
            throw ConfigError(file: file, key: "share-all-embeddings", "differs from the supernet \(supernet)")
        }
    }
}
