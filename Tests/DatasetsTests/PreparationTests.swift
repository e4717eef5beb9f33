import Foundation
import Testing

@testable import Datasets

@Suite("Preparation: hat data prepare")
struct PreparationTests {
    @Test func preparesLoadsAndRoundTrips() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prep = try DataTestSupport.builtinPreparation(in: dir)
        let report = try prep.run()
        #expect(!report.upToDate)
        let data = try PreparedDataset(directory: prep.output)
        #expect(data.splitNames == ["train", "valid", "test"])
        #expect(data.sourceVocabulary === data.targetVocabulary)
        #expect(data.sourceVocabulary.size == 400)
        for name in data.splitNames {
            let split = try data.split(name)
            let info = data.manifest.split(name)!
            let sources = try data.sourceText(name), targets = try data.targetText(name)
            #expect(split.count == info.sentences && sources.count == split.count && targets.count == split.count)
            #expect(split.sourceTokens.count == info.sourceTokens && split.targetTokens.count == info.targetTokens)
            for i in 0..<split.count {
                #expect(split.source(i).last == 2 && split.target(i).last == 2)
                #expect(data.sourceVocabulary.decode(split.source(i)) == sources[i])
                #expect(data.targetVocabulary.decode(split.target(i)) == targets[i])
            }
        }
        #expect(DataTestSupport.leftovers(in: dir).isEmpty)
        // The stored text is the generated text (already normalized).
        let generated = try TextFile(path: prep.splits[0].source).lines
        #expect(try data.sourceText("train") == generated)
    }

    @Test func rerunDetectsDoneWorkAndRedoesChangedWork() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var prep = try DataTestSupport.builtinPreparation(in: dir)
        let first = try prep.run()
        let modelPath = prep.output + "/spm.model"
        let modified = try FileManager.default.attributesOfItem(atPath: modelPath)[.modificationDate] as! Date
        let second = try prep.run()
        #expect(second.upToDate)
        #expect(second.manifest == first.manifest)
        #expect(try FileManager.default.attributesOfItem(atPath: modelPath)[.modificationDate] as! Date == modified)
        // The same inputs at another path: still the same work.
        var moved = prep
        let copies = dir.appendingPathComponent("copies")
        try FileManager.default.copyItem(at: URL(fileURLWithPath: prep.splits[0].source).deletingLastPathComponent(), to: copies)
        for i in moved.splits.indices {
            moved.splits[i].source = copies.appendingPathComponent(URL(fileURLWithPath: moved.splits[i].source).lastPathComponent).path
            moved.splits[i].target = copies.appendingPathComponent(URL(fileURLWithPath: moved.splits[i].target).lastPathComponent).path
        }
        #expect(try moved.run().upToDate)
        // A changed setting redoes it.
        prep.vocabulary.vocabularySize = 350
        let third = try prep.run()
        #expect(!third.upToDate && third.manifest.vocabulary.sourceSize == 350)
        // A damaged output redoes it.
        try Data("x".utf8).write(to: URL(fileURLWithPath: prep.output + "/valid.bin"))
        #expect(try !prep.run().upToDate)
        #expect(try prep.run().upToDate)
        // --force redoes it.
        prep.force = true
        #expect(try !prep.run().upToDate)
        #expect(DataTestSupport.leftovers(in: dir).isEmpty)
    }

    @Test(arguments: VocabularyTrainer.ModelType.allCases)
    func sameInputsGiveIdenticalFilesAnywhere(type: VocabularyTrainer.ModelType) throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let files = try DataTestSupport.builtinFiles(in: dir, train: 600, valid: 50, test: 0)
        var outputs: [String] = []
        for name in ["one", "two/deeper"] {
            var prep = DatasetPreparation(splits: files, sourceLanguage: "en", targetLanguage: "syn", output: dir.appendingPathComponent(name).path)
            prep.vocabulary.vocabularySize = 300
            prep.vocabulary.modelType = type
            _ = try prep.run()
            outputs.append(prep.output)
        }
        for file in ["spm.model", "train.bin", "valid.bin", "train.en.txt"] {
            let a = try Data(contentsOf: URL(fileURLWithPath: outputs[0] + "/" + file))
            let b = try Data(contentsOf: URL(fileURLWithPath: outputs[1] + "/" + file))
            #expect(a == b, "\(file) differs between two identical runs")
        }
        // The stabilized model still loads in the reference implementation.
        let oracle = try DataTestSupport.spmOracle(model: outputs[0] + "/spm.model", lines: ["The dog."], in: dir)
        #expect(oracle.ids[0] == (try Vocabulary(modelPath: outputs[0] + "/spm.model")).encode("The dog."))
    }

    @Test func separateUnigramVocabularies() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var prep = try DataTestSupport.builtinPreparation(in: dir, vocabularySize: 300)
        prep.sharedVocabulary = false
        prep.vocabulary.modelType = .unigram
        let manifest = try prep.run().manifest
        #expect(!manifest.vocabulary.shared)
        #expect(manifest.vocabulary.sourceModel == "spm.en.model" && manifest.vocabulary.targetModel == "spm.syn.model")
        let data = try PreparedDataset(directory: prep.output)
        #expect(data.sourceVocabulary !== data.targetVocabulary)
        let train = try data.split("train")
        let targets = try data.targetText("train")
        for i in stride(from: 0, to: train.count, by: 7) {
            #expect(data.targetVocabulary.decode(train.target(i)) == targets[i])
        }
    }

    @Test func mismatchedLineCountsNameBothFilesAndCounts() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let s = try DataTestSupport.write(["a", "b", "c"], to: dir, "train.en")
        let t = try DataTestSupport.write(["x", "y"], to: dir, "train.de")
        var prep = DatasetPreparation(
            splits: [.init(name: "train", source: s, target: t)], sourceLanguage: "en", targetLanguage: "de",
            output: dir.appendingPathComponent("out").path)
        prep.vocabulary.vocabularySize = 10
        #expect(throws: DataError.lineCountMismatch(sourcePath: s, sourceLines: 3, targetPath: t, targetLines: 2)) { try prep.run() }
        let message = DataError.lineCountMismatch(sourcePath: s, sourceLines: 3, targetPath: t, targetLines: 2).description
        #expect(message.contains(s) && message.contains(t) && message.contains("3") && message.contains("2"))
        #expect(!FileManager.default.fileExists(atPath: prep.output))
    }

    @Test func invalidUTF8AndMissingFilesStopThePreparation() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var files = try DataTestSupport.builtinFiles(in: dir, train: 200, valid: 20, test: 0)
        let bad = try DataTestSupport.write(bytes: Array("ok\n".utf8) + [0xFF, 0xFE, 0x0A], to: dir, "bad.syn")
        files[1].target = bad
        var prep = DatasetPreparation(splits: files, sourceLanguage: "en", targetLanguage: "syn", output: dir.appendingPathComponent("out").path)
        #expect(throws: DataError.invalidUTF8(path: bad, line: 2)) { try prep.run() }
        let missing = dir.appendingPathComponent("missing.en").path
        prep.splits[1].source = missing
        #expect(throws: DataError.missingFile(path: missing)) { try prep.run() }
        #expect(!FileManager.default.fileExists(atPath: prep.output))
    }

    @Test func emptyOverlongAndExtremeRatioPairsAreFilteredAndCounted() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let base = BuiltinCorpus(seed: 5).splits(train: 300, valid: 10, test: 0)
        var src = base[0].pairs.map(\.source), tgt = base[0].pairs.map(\.target)
        let word = src[0].split(separator: " ")[1]
        src += ["", "The dog.", "  \t ", String(repeating: "\(word) ", count: 80), "Cat.", "The dog the dog the dog the dog the dog the dog."]
        tgt += ["Lo.", "", "La.", "Li.", String(repeating: "nos ", count: 60), "A."]
        let files = [
            DatasetPreparation.SplitFiles(
                name: "train", source: try DataTestSupport.write(src, to: dir, "train.en"), target: try DataTestSupport.write(tgt, to: dir, "train.syn")),
            DatasetPreparation.SplitFiles(
                name: "valid", source: try DataTestSupport.write(base[1].pairs.map(\.source) + [""], to: dir, "valid.en"),
                target: try DataTestSupport.write(base[1].pairs.map(\.target) + ["Lo."], to: dir, "valid.syn")),
        ]
        var prep = DatasetPreparation(splits: files, sourceLanguage: "en", targetLanguage: "syn", output: dir.appendingPathComponent("out").path)
        prep.vocabulary.vocabularySize = 300
        prep.maxLength = 50
        prep.maxRatio = 4
        let manifest = try prep.run().manifest
        let train = manifest.split("train")!, valid = manifest.split("valid")!
        #expect(train.inputPairs == 306)
        #expect(train.removed.empty == 3)
        #expect(train.removed.overlong == 2)  // 80 words in English, 60 in the target
        #expect(train.removed.ratio >= 1)  // 13 pieces → "A." (2)
        #expect(train.sentences == 306 - train.removed.total)
        #expect(valid.inputPairs == 11 && valid.removed.empty == 1 && valid.removed.overlong == 0 && valid.sentences == 10)
        let data = try PreparedDataset(directory: prep.output)
        let loaded = try data.split("train")
        for i in 0..<loaded.count {
            let ls = loaded.sourceLength(i) - 1, lt = loaded.targetLength(i) - 1
            #expect(ls <= 50 && lt <= 50 && ls >= 1 && lt >= 1)
            #expect(Double(max(ls, lt)) <= 4 * Double(min(ls, lt)))
        }
    }

    @Test func aFailureLeavesNoHalfDatasetAndKeepsTheOldOne() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var prep = try DataTestSupport.builtinPreparation(in: dir)
        // Fails late: SentencePiece refuses the vocabulary size after the temporary folder exists.
        prep.vocabulary.vocabularySize = 60_000
        #expect(throws: DataError.self) { try prep.run() }
        #expect(!FileManager.default.fileExists(atPath: prep.output))
        #expect(DataTestSupport.leftovers(in: dir).isEmpty)
        // A good run, then a failing rerun: the old dataset stays whole.
        prep.vocabulary.vocabularySize = 400
        let good = try prep.run().manifest
        prep.vocabulary.vocabularySize = 60_000
        #expect(throws: DataError.self) { try prep.run() }
        #expect(try DatasetManifest.load(directory: prep.output) == good)
        #expect(DatasetPreparation.outputsIntact(good, directory: URL(fileURLWithPath: prep.output)))
        #expect(DataTestSupport.leftovers(in: dir).isEmpty)
    }

    @Test func refusesToReplaceAFolderThatIsNotADataset() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let prep = try DataTestSupport.builtinPreparation(in: dir)
        try FileManager.default.createDirectory(atPath: prep.output, withIntermediateDirectories: true)
        try DataTestSupport.write(["precious"], to: URL(fileURLWithPath: prep.output), "notes.txt")
        #expect(throws: DataError.outputNotADataset(path: URL(fileURLWithPath: prep.output).standardizedFileURL.path)) { try prep.run() }
        #expect(try TextFile(path: prep.output + "/notes.txt").lines == ["precious"])
    }

    @Test func aDatasetFolderWithAUsersFileIsNotReplaced() throws {
        // A folder named manifest.json is not enough: only a folder holding nothing but what its
        // manifest names is ours to replace; a user's file beside a real dataset keeps it.
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var prep = try DataTestSupport.builtinPreparation(in: dir)
        try FileManager.default.createDirectory(atPath: prep.output, withIntermediateDirectories: true)
        try DataTestSupport.write(["{}"], to: URL(fileURLWithPath: prep.output), "manifest.json")
        try DataTestSupport.write(["precious"], to: URL(fileURLWithPath: prep.output), "notes.txt")
        #expect(throws: DataError.outputNotADataset(path: URL(fileURLWithPath: prep.output).standardizedFileURL.path)) { try prep.run() }
        #expect(try TextFile(path: prep.output + "/notes.txt").lines == ["precious"])
        try FileManager.default.removeItem(atPath: prep.output)
        let first = try prep.run().manifest
        try DataTestSupport.write(["precious"], to: URL(fileURLWithPath: prep.output), "notes.txt")
        prep.vocabulary.vocabularySize += 10  // other settings: the folder would be rebuilt
        #expect(throws: DataError.outputNotADataset(path: URL(fileURLWithPath: prep.output).standardizedFileURL.path)) { try prep.run() }
        #expect(try DatasetManifest.load(directory: prep.output) == first)
        #expect(try TextFile(path: prep.output + "/notes.txt").lines == ["precious"])
        try FileManager.default.removeItem(atPath: prep.output + "/notes.txt")
        #expect(try prep.run().manifest != first)  // nothing but its own files: replaced
    }

    @Test func invalidSettingsAreRejectedBeforeAnyWork() throws {
        let files = [DatasetPreparation.SplitFiles(name: "train", source: "/nonexistent/a", target: "/nonexistent/b")]
        var prep = DatasetPreparation(splits: files, sourceLanguage: "en", targetLanguage: "en", output: "/tmp/never")
        #expect(throws: DataError.self) { try prep.validate() }
        prep.targetLanguage = "de"
        prep.vocabulary.vocabularySize = 4
        #expect(throws: DataError.self) { try prep.validate() }
        prep.vocabulary.vocabularySize = 100
        prep.splits[0].name = "valid"
        #expect(throws: DataError.self) { try prep.validate() }
        prep.splits[0].name = "train"
        try prep.validate()
    }
}
