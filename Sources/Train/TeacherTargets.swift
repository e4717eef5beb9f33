import Datasets
import Foundation
import Model
import NN
import TensorEngine

/// Token-level knowledge distillation (HAT §4, "knowledge-distillation friendly"): a teacher
/// SubTransformer's top-k distribution for every target token of the training split.
///
/// The teacher runs once, before training, over the whole split (evaluation mode, no dropout, no
/// gradients), and its targets are kept in the save folder as `teacher-targets.safetensors`:
/// a student then pays for the teacher once instead of in every epoch, and a resumed run reads
/// them back. Layout: `indices` (I32) and `probabilities` (F32), both [target tokens of the
/// split, k], rows in the order of the split's flat target tokens (`TranslationDataset
/// .targetOffsets`); metadata `format` = `hat-teacher-targets-v1` and `identity`, a digest of the
/// teacher file, its SubTransformer, k and the split's tokens. A file whose identity differs
/// (another teacher, k or data) is computed anew, never reused. Size: 8·k bytes per target token
/// (Multi30k's 29k pairs at k = 5: about 15 MB).
public struct TeacherTargets: Sendable {
    public static let fileName = "teacher-targets.safetensors"
    static let format = "hat-teacher-targets-v1"

    public let k: Int
    /// [target tokens, k]: the teacher's k most likely tokens at each target position.
    let indices: [Int32]
    /// [target tokens, k]: their probabilities, renormalized over the k.
    let probabilities: [Float]
    /// The split's target offsets: sentence i's targets are rows targetOffsets[i]..<targetOffsets[i+1].
    let targetOffsets: [Int]

    /// The soft targets of a batch, [batchSize · targetLength, k] in the batch's row order; padding
    /// positions get token 0 with probability 0 (the loss skips them).
    public func softTargets(for batch: Batch, weight: Float) -> SoftTargets {
        var ids = [Int32](repeating: 0, count: batch.batchSize * batch.targetLength * k)
        var probs = [Float](repeating: 0, count: ids.count)
        for (row, sentence) in batch.sentenceIndices.enumerated() {
            let start = targetOffsets[sentence]
            let count = (targetOffsets[sentence + 1] - start) * k
            let destination = row * batch.targetLength * k
            ids.replaceSubrange(destination..<(destination + count), with: indices[(start * k)..<(start * k + count)])
            probs.replaceSubrange(destination..<(destination + count), with: probabilities[(start * k)..<(start * k + count)])
        }
        return SoftTargets(k: k, indices: ids, probabilities: probs, weight: weight)
    }

    /// The teacher's targets for `split`: read from `folder` when a file there was made by the same
    /// teacher, k and split, else computed (and written there atomically when `write`).
    public static func prepare(
        teacher: Teacher, k: Int, split: TranslationDataset, maxTokens: Int, folder: URL, write: Bool,
        log: (String) -> Void
    ) throws -> TeacherTargets {
        let identity = try Self.identity(teacher: teacher, k: k, split: split)
        let url = folder.appendingPathComponent(fileName)
        if FileManager.default.fileExists(atPath: url.path) {
            do {
                if let stored = try read(url, identity: identity, k: k, split: split) {
                    log("distillation: the teacher's top-\(k) targets read from \(url.path)")
                    return stored
                }
                log("distillation: \(url.path) holds another teacher's, k's or data's targets; computing them anew")
            } catch {
                log("distillation: \(error); computing the teacher's targets anew")
            }
        }
        let start = Date()
        let targets = try compute(teacher: teacher, k: k, split: split, maxTokens: maxTokens, log: log)
        log(
            String(
                format: "distillation: the teacher's top-%d targets for %d target tokens computed in %.0f s", k,
                split.targetTokens.count, Date().timeIntervalSince(start)))
        if write {
            var file = SafeTensorsFile(metadata: ["format": format, "identity": identity])
            try file.add("indices", int32s: targets.indices, shape: [split.targetTokens.count, k])
            try file.add("probabilities", floats: targets.probabilities, shape: [split.targetTokens.count, k])
            try file.write(to: url)
        }
        return targets
    }

    /// Runs the teacher over the split in length-sorted batches and keeps each position's top k.
    static func compute(teacher: Teacher, k: Int, split: TranslationDataset, maxTokens: Int, log: (String) -> Void) throws -> TeacherTargets {
        let longest = (0..<split.count).map { Swift.max(split.sourceLength($0), split.targetLength($0)) }.max() ?? 0
        guard longest <= teacher.model.maxSentenceLength else {
            throw TrainingError.invalid(
                "the teacher \(teacher.path) has \(teacher.model.maxSentenceLength) positions, but the training data has pairs of \(longest) tokens: "
                    + "use a teacher with as many positions as the student")
        }
        var indices = [Int32](repeating: 0, count: split.targetTokens.count * k)
        var probabilities = [Float](repeating: 0, count: indices.count)
        var batches = try BatchIterator(dataset: split, maxTokens: Swift.max(maxTokens, longest), seed: 0, shuffle: false)
        let total = batches.batchesPerEpoch
        var done = 0
        let context = ForwardContext.evaluation()
        while let batch = batches.next() {
            let soft = withNoGrad {
                let logits = teacher.model(
                    source: batch.sourceBatch, previousOutput: batch.previousOutputBatch, config: teacher.subTransformer, context: context)
                return SoftTargets.topK(logits: logits.reshaped([-1, teacher.model.targetVocabSize]), k: k, weight: 1)
            }
            for (row, sentence) in batch.sentenceIndices.enumerated() {
                let start = split.targetOffsets[sentence] * k
                let count = split.targetLength(sentence) * k
                let source = row * batch.targetLength * k
                indices.replaceSubrange(start..<(start + count), with: soft.indices[source..<(source + count)])
                probabilities.replaceSubrange(start..<(start + count), with: soft.probabilities[source..<(source + count)])
            }
            done += 1
            if done % Swift.max(1, total / 10) == 0 { log("distillation: teacher targets \(done)/\(total) batches") }
        }
        return TeacherTargets(k: k, indices: indices, probabilities: probabilities, targetOffsets: split.targetOffsets)
    }

    /// The stored targets, or nil when the file is another teacher's, k's or split's.
    static func read(_ url: URL, identity: String, k: Int, split: TranslationDataset) throws -> TeacherTargets? {
        let file = try SafeTensorsFile.read(from: url)
        guard file.metadata["format"] == format else {
            throw TrainingError.badCheckpoint("\(url.path): not a teacher-targets file (metadata 'format' is \(file.metadata["format"] ?? "missing"))")
        }
        guard file.metadata["identity"] == identity else { return nil }
        let rows = split.targetTokens.count
        let ids = try file.tensor("indices"), probs = try file.tensor("probabilities")
        guard ids.shape == [rows, k], probs.shape == [rows, k] else {
            throw TrainingError.badCheckpoint("\(url.path): tensors of shape \(ids.shape) and \(probs.shape), expected [\(rows), \(k)]")
        }
        let indices = try ids.ints().map { Int32(truncatingIfNeeded: $0) }
        let probabilities = try probs.floats()
        guard probabilities.allSatisfy({ $0.isFinite && $0 >= 0 && $0 <= 1 }) else {
            throw TrainingError.badCheckpoint("\(url.path): 'probabilities' holds values outside [0, 1]")
        }
        return TeacherTargets(k: k, indices: indices, probabilities: probabilities, targetOffsets: split.targetOffsets)
    }

    /// What the targets depend on: the teacher's weights and SubTransformer, k and the split's tokens.
    static func identity(teacher: Teacher, k: Int, split: TranslationDataset) throws -> String {
        var hash = SHA256()
        hash.update(Array("\(format)|k=\(k)|teacher=\(teacher.fileDigest)|\(teacher.subTransformer)|".utf8))
        for tokens in [split.sourceTokens, split.targetTokens] {
            tokens.withUnsafeBytes { hash.update($0) }
        }
        for offsets in [split.sourceOffsets, split.targetOffsets] {
            offsets.map { Int64($0).littleEndian }.withUnsafeBytes { hash.update($0) }
        }
        return hash.finalizeHex()
    }
}

/// The model that teaches: a checkpoint (float32 or quantized) and the SubTransformer of it that
/// produces the targets.
public struct Teacher: @unchecked Sendable {
    public let path: String
    public let model: SuperTransformer
    public let subTransformer: SubTransformerConfig
    /// SHA-256 of the checkpoint file: targets computed from other weights are never reused.
    let fileDigest: String

    /// Loads `path`; the SubTransformer is `subTransformerPath`'s, else the one the checkpoint was
    /// trained or quantized as. Checks that the teacher reads and writes the student's vocabulary.
    public init(path: String, subTransformerPath: String?, sourceVocabSize: Int, targetVocabSize: Int, vocabularyDigest: String?) throws {
        let (model, state) = try Checkpoint.loadModel(path: path, allowQuantized: true)
        guard state.sourceVocabSize == sourceVocabSize, state.targetVocabSize == targetVocabSize else {
            throw TrainingError.invalid(
                "the teacher \(path) has vocabularies of \(state.sourceVocabSize) source and \(state.targetVocabSize) target tokens, "
                    + "the training data \(sourceVocabSize) and \(targetVocabSize): a teacher must have been trained on the same prepared data")
        }
        if let theirs = state.vocabularyDigest, let ours = vocabularyDigest, theirs != ours {
            throw TrainingError.invalid(
                "the teacher \(path) was trained with other vocabulary files than the training data's (same sizes, other pieces): "
                    + "a teacher must have been trained on the same prepared data")
        }
        let sub: SubTransformerConfig
        if let subTransformerPath {
            sub = try state.space.subTransformer(contentsOf: subTransformerPath)
            if model.isQuantized && sub != state.subTransformer {
                throw TrainingError.invalid(
                    "the teacher \(path) is quantized for its own SubTransformer only; drop teacher-subtransformer or give a float32 teacher")
            }
        } else if let own = state.subTransformer {
            sub = own
        } else {
            throw TrainingError.invalid(
                "the teacher \(path) is a SuperTransformer: name the SubTransformer that teaches with teacher-subtransformer (a HAT YAML file)")
        }
        self.path = path
        self.model = model
        self.subTransformer = sub
        let data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped)
        fileDigest = data.withUnsafeBytes { SHA256.hex($0) }
    }
}
