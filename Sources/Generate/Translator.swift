import Data
import Foundation
import Model
import TensorEngine
import Train

/// Text in, text out: a checkpoint's SubTransformer with its SentencePiece vocabulary.
///
/// Sentences are normalized (as `hat data prepare` does), encoded with eos, sorted by length
/// and translated in batches, then returned in input order, detokenized.
public final class Translator {
    public let model: SuperTransformer
    public let config: SubTransformerConfig
    public let sourceVocabulary: Vocabulary
    public let targetVocabulary: Vocabulary
    public var search: BeamSearch
    /// Sentences per batch (each expands to `beamSize` rows).
    public var batchSentences = 32

    public init(model: SuperTransformer, config: SubTransformerConfig, data: PreparedDataset, search: BeamSearch) throws {
        try model.space.check(config, file: "the SubTransformer")
        guard data.sourceVocabulary.size == model.sourceVocabSize, data.targetVocabulary.size == model.targetVocabSize else {
            throw TrainingError.invalid("the vocabulary of \(data.directory) (\(data.sourceVocabulary.size)/\(data.targetVocabulary.size)) does not match the checkpoint's (\(model.sourceVocabSize)/\(model.targetVocabSize)); give the dataset the model was trained on with --data")
        }
        self.model = model
        self.config = config
        sourceVocabulary = data.sourceVocabulary
        targetVocabulary = data.targetVocabulary
        self.search = search
    }

    /// Loads a checkpoint; the SubTransformer is `subTransformer`, else the one the checkpoint
    /// was trained as, else (a SuperTransformer checkpoint) an error asking for one.
    /// Loads `checkpoint` with the SubTransformer of a HAT YAML file, read against the
    /// checkpoint's own SuperTransformer (so lists may hold an entry per super layer, as HAT's do).
    public static func load(checkpoint: String, subTransformerFile: String?, data: String?, search: BeamSearch) throws -> Translator {
        guard let file = subTransformerFile else { return try load(checkpoint: checkpoint, subTransformer: nil, data: data, search: search) }
        let space = try Checkpoint.readState(SafeTensorsFile.read(from: URL(fileURLWithPath: checkpoint)), path: checkpoint).space
        let config = try SubTransformerConfig(contentsOf: file, superLayers: (space.encoderLayers, space.decoderLayers), qkvDim: space.qkvDim)
        return try load(checkpoint: checkpoint, subTransformer: config, data: data, search: search)
    }

    public static func load(checkpoint: String, subTransformer: SubTransformerConfig?, data: String?, search: BeamSearch) throws -> Translator {
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        guard let config = subTransformer ?? state.subTransformer else {
            throw TrainingError.invalid("\(checkpoint) is a SuperTransformer checkpoint: choose the SubTransformer to run with --subtransformer SUB.yml")
        }
        guard let dir = data ?? state.data else {
            throw TrainingError.invalid("\(checkpoint) does not record its dataset: give it with --data DIR")
        }
        return try Translator(model: model, config: config, data: PreparedDataset(directory: dir), search: search)
    }

    /// Translates sentences; returns the best hypothesis of each, detokenized, in input order.
    public func translate(_ sentences: [String], progress: ((Int) -> Void)? = nil) -> [String] {
        let encoded = sentences.map { sourceVocabulary.encode(TextNormalizer.normalize($0), appendEOS: true) }
        let order = encoded.indices.sorted { encoded[$0].count < encoded[$1].count }
        var output = [String](repeating: "", count: sentences.count)
        var done = 0
        for start in stride(from: 0, to: order.count, by: batchSentences) {
            let chunk = Array(order[start..<Swift.min(start + batchSentences, order.count)])
            let results = search.translate(model: model, config: config, sources: chunk.map { encoded[$0] })
            for (i, hyps) in zip(chunk, results) { output[i] = targetVocabulary.decode(hyps.first?.tokens ?? []) }
            done += chunk.count
            progress?(done)
        }
        return output
    }
}
