import Foundation
import Testing

@testable import Datasets

@Suite("Vocabulary: SentencePiece through the C shim")
struct VocabularyTests {
    /// A small model trained on the built-in corpus.
    static func trainedModel(in dir: URL, type: VocabularyTrainer.ModelType = .bpe, size: Int = 300) throws -> (Vocabulary, [String]) {
        let pairs = BuiltinCorpus(seed: 3).splits(train: 800, valid: 0, test: 0)[0].pairs
        let lines = pairs.flatMap { [$0.source, $0.target] }
        let input = try DataTestSupport.write(lines, to: dir, "corpus.txt")
        let model = dir.appendingPathComponent("m-\(type.rawValue).model").path
        try VocabularyTrainer(modelType: type, vocabularySize: size).train(inputPath: input, modelPath: model)
        return (try Vocabulary(modelPath: model), lines)
    }

    @Test(arguments: VocabularyTrainer.ModelType.allCases)
    func specialIDsAreFairseqsAndTextRoundTrips(type: VocabularyTrainer.ModelType) throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vocab, lines) = try Self.trainedModel(in: dir, type: type)
        #expect(vocab.size == 300)
        #expect(vocab.hasFairseqSpecialIDs)
        #expect([vocab.bosID, vocab.padID, vocab.eosID, vocab.unkID] == [0, 1, 2, 3])
        #expect((0..<4).map { vocab.piece(for: Int32($0)) } == ["<s>", "<pad>", "</s>", "<unk>"])
        #expect(vocab.id(for: "</s>") == 2 && vocab.id(for: "no-such-piece") == 3)
        #expect(vocab.piece(for: 300) == nil)
        #expect(vocab.isControl(0) && vocab.isControl(1) && vocab.isControl(2) && !vocab.isControl(3))
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("m-\(type.rawValue).vocab").path))
        for line in lines {
            let ids = vocab.encode(line)
            #expect(!ids.contains(vocab.unkID))
            #expect(vocab.decode(ids) == line)
            let withEOS = vocab.encode(line, appendEOS: true)
            #expect(withEOS == ids + [2])
            #expect(vocab.decode([0] + withEOS + [1, 1]) == line)  // control ids decode to nothing
        }
        // A character never seen in training becomes <unk>.
        #expect(vocab.encode("dog ж").contains(vocab.unkID))
    }

    @Test func matchesTheReferencePythonSentencePiece() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let (vocab, lines) = try Self.trainedModel(in: dir, size: 400)
        let sample = Array(lines.prefix(300)) + ["The   dog.", "ünknown ñ chars", ""]
        let oracle = try DataTestSupport.spmOracle(model: vocab.modelPath, lines: sample, in: dir)
        #expect(oracle.vocabSize == vocab.size)
        #expect(oracle.specials == ["<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3])
        for (i, line) in sample.enumerated() {
            #expect(vocab.encode(line) == oracle.ids[i], "line \(i): \(line)")
            #expect(vocab.decode(oracle.ids[i]) == oracle.decoded[i])
        }
    }

    @Test func tooLargeVocabularyGivesActionableError() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = try DataTestSupport.write(["a b c", "a b", "c b a"], to: dir, "tiny.txt")
        for type in VocabularyTrainer.ModelType.allCases {
            do {
                try VocabularyTrainer(modelType: type, vocabularySize: 5000).train(inputPath: input, modelPath: dir.appendingPathComponent("t.model").path)
                Issue.record("\(type) must refuse 5000 pieces for 3 lines")
            } catch let error as DataError {
                guard case .vocabularyTraining(let message) = error else {
                    Issue.record("unexpected \(error)")
                    continue
                }
                #expect(message.contains("vocab") || message.contains("Vocabulary"), "\(message)")
            }
        }
    }

    @Test func missingOrCorruptModelIsReported() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let missing = dir.appendingPathComponent("none.model").path
        #expect(throws: DataError.missingFile(path: missing)) { try Vocabulary(modelPath: missing) }
        let junk = try DataTestSupport.write(["not a model"], to: dir, "junk.model")
        do {
            _ = try Vocabulary(modelPath: junk)
            Issue.record("junk must not load")
        } catch let error as DataError {
            #expect(error.description.contains(junk))
        }
    }
}
