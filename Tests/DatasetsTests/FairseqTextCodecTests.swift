import Foundation
import TestSupport
import Testing

@testable import Datasets

/// HAT's text pipeline end to end (Moses → BPE → fairseq dictionary, and back) against the same
/// pipeline in Python: sacremoses, subword-nmt and fairseq's dictionary rules
/// (Tests/Oracle/fairseq_text_oracle.py), on Multi30k's 1,014 validation lines per language.
@Suite("Fairseq text codec")
struct FairseqTextCodecTests {
    @Test("raw text to ids and ids to text as sacremoses + subword-nmt + fairseq do")
    func matchesPython() throws {
        let work = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: work) }
        try Oracle.run("fairseq_text_oracle.py", [work.path, sharedDataDirectory.path])
        let result = try JSONSerialization.jsonObject(with: Data(contentsOf: work.appendingPathComponent("result.json"))) as! [String: [String: Any]]
        let vocabulary = FairseqVocabulary(
            sourceLanguage: "de", targetLanguage: "en", sourceDictionary: "dict.de.txt",
            targetDictionary: "dict.en.txt", bpeCodes: "codes", moses: true)
        try vocabulary.write(folder: work)
        #expect(try FairseqVocabulary.read(folder: work) == vocabulary)
        let (source, target) = try vocabulary.codecs(folder: work)
        for (language, codec) in [("de", source), ("en", target)] {
            let lines = result[language]!["lines"] as! [String]
            let ids = (result[language]!["ids"] as! [[Int]]).map { $0.map(Int32.init) }
            let decoded = result[language]!["decoded"] as! [String]
            #expect(lines.count == 1014)
            var wrongIDs = 0, wrongText = 0
            for (i, line) in lines.enumerated() {
                let got = codec.encode(line)
                if got != ids[i] {
                    if wrongIDs == 0 { Issue.record("\(language) line \(i + 1) '\(line)': \(got) ≠ Python's \(ids[i])") }
                    wrongIDs += 1
                }
                let text = codec.decode(ids[i])
                if text != decoded[i] {
                    if wrongText == 0 { Issue.record("\(language) line \(i + 1): decoded '\(text)' ≠ Python's '\(decoded[i])'") }
                    wrongText += 1
                }
            }
            #expect(wrongIDs == 0 && wrongText == 0, "\(language): \(wrongIDs) lines encode and \(wrongText) decode differently")
            #expect(ids.contains { $0.contains(3) }, "some validation words are unknown, so <unk> is exercised")
        }
    }

    @Test("a damaged vocabulary manifest is refused naming the file")
    func badManifest() throws {
        let work = try Oracle.temporaryDirectory()
        try Data("{\"format\": \"something-else\"}".utf8).write(to: work.appendingPathComponent(FairseqVocabulary.manifestName))
        let error = #expect(throws: DataError.self) { _ = try FairseqVocabulary.read(folder: work) }
        #expect("\(error.map { "\($0)" } ?? "")".contains(FairseqVocabulary.manifestName))
        #expect(try FairseqVocabulary.read(folder: work.appendingPathComponent("nothing-here")) == nil)
    }
}
