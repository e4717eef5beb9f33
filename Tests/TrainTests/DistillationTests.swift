import Datasets
import Foundation
import Model
import NN
import TensorEngine
import TestSupport
import Testing

@testable import Train

/// Knowledge distillation (`distill-from`): the teacher's stored targets, the loss's weight, the
/// targets file's reuse, and every way a teacher can be wrong. The loss itself is checked against
/// PyTorch in OpParityTests ("distilled_ce").
@Suite("Distillation", .serialized)
struct DistillationTests {
    /// A teacher: the tiny space's largest SubTransformer after 30 updates from scratch.
    static let teacher: Result<(path: String, sub: SubTransformerConfig), Error> = Result {
        let space = try SearchSpace(contentsOf: TrainerTests.spaceFile)
        let file = try HATConfigFile(path: TrainerTests.spaceFile)
        let dir = try Oracle.temporaryDirectory().appendingPathComponent("teacher")
        let trainer = try Trainer(
            space: space, subTransformer: space.largest, data: try PreparedDataset(directory: TrainerTests.dataset.get()),
            config: try TrainingConfig(file: file, overrides: ["max-update": "30", "warmup-updates": "10"]), saveDirectory: dir, log: { _ in })
        try trainer.run()
        return (dir.appendingPathComponent("checkpoint_last.safetensors").path, space.largest)
    }

    func studentTrainer(
        _ dir: URL, _ overrides: [String: String], log: @escaping (String) -> Void = { _ in }, data: String? = nil
    ) throws -> Trainer {
        let space = try SearchSpace(contentsOf: TrainerTests.spaceFile)
        let file = try HATConfigFile(path: TrainerTests.spaceFile)
        return try Trainer(
            space: space, subTransformer: space.smallest, data: try PreparedDataset(directory: data ?? TrainerTests.dataset.get()),
            config: try TrainingConfig(file: file, overrides: ["max-update": "12", "warmup-updates": "5", "max-tokens": "600"].merging(overrides) { $1 }),
            saveDirectory: dir, log: log)
    }

    @Test("the stored targets are the teacher's top-k at every target position of a shuffled batch, rows in the batch's order")
    func storedTargetsAreTheTeachersTopK() throws {
        let (teacherPath, teacherSub) = try Self.teacher.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let trainer = try studentTrainer(root, ["distill-from": teacherPath, "distill-topk": "4"])
        let targets = try #require(trainer.teacherTargets)
        let (teacher, _) = try Checkpoint.loadModel(path: teacherPath)
        var batches = try BatchIterator(dataset: trainer.trainSplit, maxTokens: 500, seed: 9, shuffle: true)
        var compared = 0
        for _ in 0..<3 {
            let next = batches.next()
            let batch = try #require(next)
            let stored = targets.softTargets(for: batch, weight: 0.5)
            let logits = withNoGrad {
                teacher(source: batch.sourceBatch, previousOutput: batch.previousOutputBatch, config: teacherSub, context: .evaluation())
            }
            let direct = SoftTargets.topK(logits: logits.reshaped([-1, teacher.targetVocabSize]), k: 4, weight: 0.5)
            #expect(stored.indices.count == direct.indices.count)
            for row in 0..<(batch.batchSize * batch.targetLength) where batch.targetTokens[row] != batch.padID {
                for j in 0..<4 {
                    let i = row * 4 + j
                    #expect(abs(stored.probabilities[i] - direct.probabilities[i]) <= 1e-4, "row \(row) rank \(j)")
                    // Near-ties may swap between batch shapes; clear winners must be the same token.
                    let separated = j == 3 || direct.probabilities[i] - direct.probabilities[i + 1] > 1e-4
                    if separated && (j == 0 || direct.probabilities[i - 1] - direct.probabilities[i] > 1e-4) {
                        #expect(stored.indices[i] == direct.indices[i], "row \(row) rank \(j)")
                    }
                }
                #expect(abs(stored.probabilities[(row * 4)..<(row * 4 + 4)].reduce(0, +) - 1) <= 1e-5)
                compared += 1
            }
        }
        #expect(compared > 50)
    }

    @Test("weight 0 trains bit for bit as without a teacher; weight 0.5 trains other weights")
    func weightZeroIsPlainTraining() throws {
        let (teacherPath, _) = try Self.teacher.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        func trainedWeights(_ name: String, _ overrides: [String: String]) throws -> [[Float]] {
            let trainer = try studentTrainer(root.appendingPathComponent(name), overrides)
            try trainer.run()
            return trainer.model.parameters().map { $0.toArray() }
        }
        let plain = try trainedWeights("plain", [:])
        let zero = try trainedWeights("zero", ["distill-from": teacherPath, "distill-weight": "0"])
        let half = try trainedWeights("half", ["distill-from": teacherPath, "distill-weight": "0.5"])
        #expect(plain == zero)
        #expect(plain != half)
    }

    @Test("the targets file is reused by the same teacher, k and data, computed anew otherwise, and a damaged one is replaced")
    func targetsFileReuse() throws {
        let (teacherPath, _) = try Self.teacher.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let file = root.appendingPathComponent(TeacherTargets.fileName)
        func lines(_ overrides: [String: String]) throws -> [String] {
            var lines: [String] = []
            _ = try studentTrainer(root, ["distill-from": teacherPath].merging(overrides) { $1 }, log: { lines.append($0) })
            return lines
        }
        _ = try lines([:])
        #expect(try SafeTensorsFile.read(from: file).tensor("indices").shape.last == 5)
        #expect(try lines([:]).contains { $0.contains("targets read from") })
        #expect(try lines(["distill-topk": "3"]).contains { $0.contains("another teacher's, k's or data's targets") })
        #expect(try SafeTensorsFile.read(from: file).tensor("indices").shape.last == 3)
        let bytes = try Data(contentsOf: file)
        try bytes.prefix(bytes.count / 2).write(to: file)
        #expect(try lines(["distill-topk": "3"]).contains { $0.contains("computing the teacher's targets anew") })
        #expect(try lines(["distill-topk": "3"]).contains { $0.contains("targets read from") })
    }

    @Test("a wrong teacher is refused by name: a SuperTransformer without its SubTransformer, other data, bpe-dropout, k above the vocabulary")
    func wrongTeachers() throws {
        let (teacherPath, _) = try Self.teacher.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        func refusal(_ overrides: [String: String], data: String? = nil) -> String {
            do {
                _ = try studentTrainer(root.appendingPathComponent("s\(overrides.count)"), overrides, data: data)
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        // A supernet checkpoint teaches only with a SubTransformer named.
        let space = try SearchSpace(contentsOf: TrainerTests.spaceFile)
        let supernetDir = root.appendingPathComponent("supernet")
        try Trainer(
            space: space, subTransformer: nil, data: try PreparedDataset(directory: TrainerTests.dataset.get()),
            config: try TrainingConfig(file: try HATConfigFile(path: TrainerTests.spaceFile), overrides: ["max-update": "2"]),
            saveDirectory: supernetDir, log: { _ in }
        ).run()
        let supernet = supernetDir.appendingPathComponent("checkpoint_last.safetensors").path
        #expect(refusal(["distill-from": supernet]).contains("name the SubTransformer that teaches with teacher-subtransformer"))
        let subFile = root.appendingPathComponent("largest.yml")
        try space.largest.hatYAML().write(to: subFile, atomically: true, encoding: .utf8)
        #expect(refusal(["distill-from": supernet, "teacher-subtransformer": subFile.path]) == "accepted")

        let otherData = root.appendingPathComponent("other").path
        _ = try BuiltinCorpus(seed: 2).prepare(output: otherData, train: 300, valid: 30, test: 30, vocabularySize: 200)
        #expect(refusal(["distill-from": teacherPath], data: otherData).contains("trained on the same prepared data"))
        #expect(refusal(["distill-from": teacherPath, "bpe-dropout": "0.1"]).contains("drop one of them"))
        #expect(refusal(["distill-from": teacherPath, "distill-topk": "100000"]).contains("larger than the target vocabulary"))
        #expect(refusal(["distill-from": root.appendingPathComponent("missing.safetensors").path]).contains("missing.safetensors"))
    }
}
