import Datasets
import Foundation
import Logging
import Model
import TensorEngine
import Train

/// Text in, text out: a checkpoint's SubTransformer with its SentencePiece vocabulary.
///
/// Sentences are normalized (as `hat data prepare` does), encoded with eos, sorted by length
/// and translated in batches, then returned in input order, detokenized. Several checkpoints of
/// the same vocabulary translate as an ensemble (`BeamSearch.translate(ensemble:)`).
public final class Translator {
    /// The first (or only) member's model and SubTransformer.
    public var model: SuperTransformer { members[0].model }
    public var config: SubTransformerConfig { members[0].config }
    public let members: [EnsembleMember]
    /// Raw text to source ids, and target ids to raw text.
    public let source: any TextCodec
    public let target: any TextCodec
    public var search: BeamSearch
    /// Sentences per batch (each expands to `beamSize` rows).
    public var batchSentences = 32

    public convenience init(model: SuperTransformer, config: SubTransformerConfig, data: PreparedDataset, search: BeamSearch) throws {
        try self.init(members: [EnsembleMember(model: model, config: config)], data: data, search: search)
    }

    public convenience init(members: [EnsembleMember], data: PreparedDataset, search: BeamSearch) throws {
        try self.init(
            members: members, source: SentencePieceCodec(data.sourceVocabulary), target: SentencePieceCodec(data.targetVocabulary),
            vocabularyName: "the vocabulary of \(data.directory)", search: search)
    }

    /// - Parameter vocabularyName: what the codecs were read from, for the error when they do not fit the model.
    public init(members: [EnsembleMember], source: any TextCodec, target: any TextCodec, vocabularyName: String, search: BeamSearch) throws {
        guard !members.isEmpty else { throw TrainingError.invalid("no checkpoint to translate with") }
        for (i, m) in members.enumerated() {
            let which = members.count == 1 ? "the checkpoint's" : "ensemble member \(i + 1)'s"
            try m.model.space.check(m.config, file: "the SubTransformer")
            guard source.size == m.model.sourceVocabSize, target.size == m.model.targetVocabSize else {
                throw TrainingError.invalid(
                    "\(vocabularyName) (\(source.size)/\(target.size)) does not match \(which) (\(m.model.sourceVocabSize)/\(m.model.targetVocabSize)); give the dataset the model was trained on with --data"
                )
            }
        }
        self.members = members
        self.source = source
        self.target = target
        self.search = search
    }

    /// Loads a checkpoint; the SubTransformer is `subTransformer`, else the one the checkpoint
    /// was trained as, else (a SuperTransformer checkpoint) an error asking for one.
    /// Loads `checkpoint` with the SubTransformer of a HAT YAML file, read against the
    /// checkpoint's own SuperTransformer (so lists may hold an entry per super layer, as HAT's do).
    public static func load(checkpoint: String, subTransformerFile: String?, data: String?, search: BeamSearch) throws -> Translator {
        guard let file = subTransformerFile else { return try load(checkpoint: checkpoint, subTransformer: nil, data: data, search: search) }
        let space = try Checkpoint.readState(SafeTensorsFile.read(from: URL(fileURLWithPath: checkpoint)), path: checkpoint, allowQuantized: true).space
        let config = try space.subTransformer(contentsOf: file)
        return try load(checkpoint: checkpoint, subTransformer: config, data: data, search: search)
    }

    public static func load(checkpoint: String, subTransformer: SubTransformerConfig?, data: String?, search: BeamSearch) throws -> Translator {
        let (model, state) = try Checkpoint.loadModel(path: checkpoint, allowQuantized: true)
        if model.isQuantized, let given = subTransformer, let recorded = state.subTransformer, given != recorded {
            throw TrainingError.invalid(
                "\(checkpoint) is a quantized \(recorded.description); it holds no other SubTransformer: leave out --subtransformer")
        }
        guard let config = subTransformer ?? state.subTransformer else {
            throw TrainingError.invalid("\(checkpoint) is a SuperTransformer checkpoint: choose the SubTransformer to run with --subtransformer SUB.yml")
        }
        let members = [EnsembleMember(model: model, config: config)]
        // An imported model's text pipeline beside the checkpoint (also for one fine-tuned from it,
        // whose recorded dataset is a fairseq data-bin folder) comes before the recorded dataset.
        if data == nil, let codecs = try importedCodecs(checkpoint: checkpoint) {
            return try Translator(members: members, source: codecs.source, target: codecs.target, vocabularyName: codecs.name, search: search)
        }
        guard let dir = data ?? state.data else {
            throw TrainingError.invalid("\(checkpoint) does not record its dataset: give it with --data DIR")
        }
        let dataset = try openDataset(dir, recordedBy: data == nil ? checkpoint : nil)
        try state.checkVocabulary(of: dataset, checkpoint: checkpoint)
        return try Translator(members: members, data: dataset, search: search)
    }

    /// The text codecs of an imported HAT/fairseq model (`vocabulary.json` beside its checkpoint), if any.
    static func importedCodecs(checkpoint: String) throws -> (source: FairseqTextCodec, target: FairseqTextCodec, name: String)? {
        let folder = URL(fileURLWithPath: checkpoint).deletingLastPathComponent()
        guard let vocabulary = try FairseqVocabulary.read(folder: folder) else { return nil }
        let (source, target) = try vocabulary.codecs(folder: folder)
        return (source, target, "the fairseq dictionaries of \(folder.path)")
    }

    /// Opens a prepared dataset; when its path came from a checkpoint (the dataset may have been
    /// moved since training), the error says so and how to point at it.
    public static func openDataset(_ directory: String, recordedBy checkpoint: String?) throws -> PreparedDataset {
        do {
            return try PreparedDataset(directory: directory)
        } catch {
            guard let checkpoint else { throw error }
            throw TrainingError.invalid(
                "\(checkpoint) was trained on the dataset \(directory), which cannot be opened (\(error)); "
                    + "if it moved, give its new folder with --data DIR")
        }
    }

    /// Loads several checkpoints as an ensemble (each with `subTransformerFile` if given, else the
    /// SubTransformer it was trained as); the dataset defaults to the first checkpoint's.
    public static func load(checkpoints: [String], subTransformerFile: String?, data: String?, search: BeamSearch) throws -> Translator {
        guard let first = checkpoints.first else { throw TrainingError.invalid("no checkpoint given") }
        if checkpoints.count == 1 { return try load(checkpoint: first, subTransformerFile: subTransformerFile, data: data, search: search) }
        guard let dir = try data ?? Checkpoint.readState(SafeTensorsFile.read(from: URL(fileURLWithPath: first)), path: first, allowQuantized: true).data else {
            throw TrainingError.invalid("\(first) does not record its dataset: give it with --data DIR")
        }
        let dataset = try openDataset(dir, recordedBy: data == nil ? first : nil)
        let members = try checkpoints.map { try load(checkpoint: $0, subTransformerFile: subTransformerFile, data: dir, search: search).members[0] }
        return try Translator(members: members, data: dataset, search: search)
    }

    /// How probable the model finds each reference (fairseq-generate's `--score-reference`): the
    /// log-probability of every reference token, eos included, teacher-forced; with an ensemble the
    /// members' probabilities are averaged as in beam search. In input order.
    public func scoreReferences(sources: [String], references: [String]) -> [[Double]] {
        precondition(sources.count == references.count, "scoreReferences: \(sources.count) sources, \(references.count) references")
        let limit = members.map { Swift.min($0.model.encoderPositions.maxPositions, $0.model.decoderPositions.maxPositions) }.min()! - 1
        let src = sources.map { Array(source.encode($0).suffix(limit)) }, tgt = references.map { Array(target.encode($0).suffix(limit)) }
        let batches = stride(from: 0, to: sources.count, by: batchSentences).map { Array($0..<Swift.min($0 + batchSentences, sources.count)) }
        let scored = mapInLanes(batches.count) { b -> [[Double]] in
            let rows = batches[b], pad = Int32(members[0].model.paddingIndex)
            let s = rows.map { src[$0].count }.max()!, t = rows.map { tgt[$0].count }.max()!
            var sourceTokens = [Int32](repeating: pad, count: rows.count * s), previous = [Int32](repeating: pad, count: rows.count * t)
            for (r, i) in rows.enumerated() {
                for (j, id) in src[i].enumerated() { sourceTokens[r * s + j] = id }
                // Teacher forcing: eos, then the reference without its last token.
                for (j, id) in ([search.eos] + tgt[i].dropLast()).enumerated() { previous[r * t + j] = id }
            }
            let logProbs = BeamSearch.averageProbabilities(
                members.map { m in
                    withNoGrad {
                        logSoftmax(
                            m.model(
                                source: TokenBatch(tokens: sourceTokens, batchSize: rows.count, length: s),
                                previousOutput: TokenBatch(tokens: previous, batchSize: rows.count, length: t),
                                config: m.config, context: .evaluation())
                        ).toArray()
                    }
                })
            let vocab = logProbs.count / (rows.count * t)
            return rows.enumerated().map { (r, i) in tgt[i].enumerated().map { (j, id) in Double(logProbs[(r * t + j) * vocab + Int(id)]) } }
        }
        var out = [[Double]](repeating: [], count: sources.count)
        for (rows, result) in zip(batches, scored) { for (i, p) in zip(rows, result) { out[i] = p } }
        return out
    }

    /// Translates sentences; returns the best hypothesis of each, detokenized, in input order.
    public func translate(_ sentences: [String], progress: ((Int) -> Void)? = nil) -> [String] {
        translateNBest(sentences, progress: progress).map { $0.first?.text ?? "" }
    }

    /// One finished hypothesis, detokenized, with the beam's scores.
    public struct Candidate: Sendable {
        public var text: String
        /// fairseq's score: log-probability / length^lenpen.
        public var score: Double
        /// Log-probability of the whole output (eos included).
        public var logProbability: Double
        /// The output as tokenized BLEU counts it (`TextCodec.decodeTokenized`).
        public var tokenized: String
    }

    /// Translates sentences; returns every finished hypothesis of each (up to the beam size),
    /// best first, in input order.
    public func translateNBest(_ sentences: [String], progress: ((Int) -> Void)? = nil) -> [[Candidate]] {
        translateNBest(ids: sentences.map(source.encode), progress: progress)
    }

    /// The same from source ids (each ending in eos), e.g. a fairseq data-bin split.
    public func translateNBest(ids sourceIDs: [[Int32]], progress: ((Int) -> Void)? = nil) -> [[Candidate]] {
        // The encoder has a position for each of its `maxPositions` tokens and no more: a longer
        // line keeps its first pieces and its end-of-sentence (fairseq refuses such inputs; a
        // shell pipe is better served by a translation of the line's start and a warning).
        let limit = members.map { $0.model.encoderPositions.maxPositions }.min()!
        let encoded = sourceIDs.enumerated().map { (i, ids) -> [Int32] in
            guard ids.count > limit else { return ids }
            Logger(label: "hat.generate").warning(
                """
                input line \(i + 1) has \(ids.count) pieces; the model holds \(limit) positions, so only its first \
                \(limit - 1) are translated (split long lines into sentences)
                """)
            return Array(ids.prefix(limit - 1)) + [ids.last!]
        }
        let order = encoded.indices.sorted { encoded[$0].count < encoded[$1].count }
        let batches = stride(from: 0, to: order.count, by: batchSentences).map {
            Array(order[$0..<Swift.min($0 + batchSentences, order.count)])
        }
        var done = 0
        let translated = mapInLanes(
            batches.count,
            finished: { b in
                done += batches[b].count
                progress?(done)
            }
        ) { b in
            search.translate(ensemble: members, sources: batches[b].map { encoded[$0] })
        }
        var output = [[Candidate]](repeating: [], count: sourceIDs.count)
        for (batch, hypotheses) in zip(batches, translated) {
            for (i, hyps) in zip(batch, hypotheses) {
                output[i] = hyps.map {
                    Candidate(
                        text: target.decode($0.tokens), score: $0.score,
                        logProbability: $0.positionalScores.reduce(0, +), tokenized: target.decodeTokenized($0.tokens))
                }
            }
        }
        return output
    }
}
