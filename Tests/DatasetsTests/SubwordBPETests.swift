import Foundation
import Testing

@testable import Datasets

@Suite("SubwordBPE: subword-nmt's apply_bpe, line for line")
struct SubwordBPETests {
    /// Lines for process_line's edge handling (appended to the English input).
    static let edgeLines = [
        "  leading and trailing  ", "double  spaces   inside", "tab\tinside a word", "trailing cr\r", "\r",
        "x", "a b c", "e\u{301}te\u{301} \u{E9}t\u{E9}", "literal </w> and lit</w>eral", "", "   ",
        "\u{FB01}ligature 👍🏽 𝔘𝔫𝔦", "unseenqqqzzz wörter",
    ]

    /// Codes learned by subword-nmt's learn_bpe (10,000 merges, joint over the three languages)
    /// on our Moses tokenization of all of Multi30k train; applied by subword-nmt and by us to
    /// every line, for version 0.2 codes, the same codes without their header (read as 0.1),
    /// and genuine version 0.1 codes with and without a "#version: 0.1" header.
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func equalsSubwordNMTOnMulti30k() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var inputs: [String: [String]] = [:]
        var arguments = [dir.path, "10000"]
        for language in TextPipelineTestSupport.languages {
            let tokenizer = try MosesTokenizer(language: language)
            var lines = try TextPipelineTestSupport.trainLines(language).map(tokenizer.tokenize)
            if language == "en" { lines += Self.edgeLines }
            inputs[language] = lines
            let path = dir.appendingPathComponent("tok.\(language)")
            try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: path)
            arguments.append("\(language)=\(path.path)")
        }
        try DataTestSupport.runOracle("bpe_oracle.py", arguments)
        struct Result: Decodable {
            var codes: [String: String]
            var segmented: [String: [String: [String]]]
            var removed: [String: [String]]
        }
        let result = try JSONDecoder().decode(Result.self, from: Data(contentsOf: dir.appendingPathComponent("result.json")))
        #expect(Set(result.codes.keys) == ["v02", "v02-noheader", "v01", "v01-header"])
        let expectedVersion: [String: SubwordBPE.Version] = ["v02": .v0_2, "v02-noheader": .v0_1, "v01": .v0_1, "v01-header": .v0_1]
        for (name, path) in result.codes.sorted(by: { $0.key < $1.key }) {
            var bpe = try SubwordBPE(codesPath: path)
            #expect(bpe.version == expectedVersion[name], "\(name)")
            #expect(bpe.mergeCount > 9000, "\(name): \(bpe.mergeCount) merges")
            for language in TextPipelineTestSupport.languages {
                let lines = inputs[language]!
                #expect(lines.count >= 29_000)
                let ours = lines.map { bpe.processLine($0) }
                let expected = try #require(result.segmented[name]?[language])
                let report = TextPipelineTestSupport.compare(ours, expected, inputs: lines, what: "apply_bpe \(name) \(language)")
                #expect(report == nil, "\(report ?? "")")
                if name == "v02" {
                    // The codes did split words, and removing the separators undoes it.
                    #expect(ours.filter { $0.contains("@@ ") }.count > 1000, "\(language): too few split words")
                    let removed = ours.map { SubwordBPE.removeBPE($0) }
                    let report = TextPipelineTestSupport.compare(removed, result.removed[language]!, inputs: ours, what: "remove-bpe \(language)")
                    #expect(report == nil, "\(report ?? "")")
                }
            }
        }
    }

    /// Hand-computed segmentations: the two versions differ only in the end-of-word mark.
    @Test func versionsHandleEndOfWordAsSubwordNMT() throws {
        var v2 = try SubwordBPE(codes: "#version: 0.2\nl o\nlo w</w>\ne r</w>\nw e\n")
        #expect(v2.version == .v0_2 && v2.mergeCount == 4)
        #expect(v2.processLine("low lower") == "low lo@@ w@@ er")  // "w e" cannot apply: "e r</w>" came first
        #expect(v2.processLine(" a  lo ") == " a l@@ o ")  // "o</w>", not "o": "l o" does not apply
        var v1 = try SubwordBPE(codes: "l o\nlo w\nlow </w>\ne r\n")
        #expect(v1.version == .v0_1)
        #expect(v1.processLine("low lower") == "low low@@ er")  // "low" + "</w>": the lone mark is dropped
        #expect(SubwordBPE.removeBPE("the low@@ est@@") == "the lowest")
        #expect(SubwordBPE.removeBPE("a@@  b \t") == "a b")
        // Overlapping pairs merge left to right: "x x x" → "xx x".
        var overlap = try SubwordBPE(codes: "#version: 0.2\nx x\n")
        #expect(overlap.processLine("xxxx") == "xx@@ x@@ x")
        // Duplicate lines: the first rank counts.
        let dup = try SubwordBPE(codes: "a b\nc d\na b\n")
        #expect(dup.mergeCount == 2)
    }

    @Test func badCodesFilesNameTheFileAndLine() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func error(_ text: String) throws -> TextFormatError? {
            let path = try DataTestSupport.write(bytes: Array(text.utf8), to: dir, "codes-\(UUID().uuidString).txt")
            do {
                _ = try SubwordBPE(codesPath: path)
                return nil
            } catch let e as TextFormatError {
                #expect(e.path == path)
                #expect("\(e)".hasPrefix("\(path):\(e.line): "))
                return e
            }
        }
        let unknown = try #require(try error("#version: 0.3\na b\n"))
        #expect(unknown.line == 1 && unknown.message.contains("unknown BPE codes version '0.3'"))
        #expect(try error("#version: 1.0\na b\n")?.line == 1)
        #expect(try error("#version: two\na b\n")?.line == 1)
        #expect(try error("#version: 0.2.0\na b\n") == nil)  // trailing ".0" groups are ignored, as in subword-nmt
        let threeParts = try #require(try error("#version: 0.2\na b\nc d e\n"))
        #expect(threeParts.line == 3 && threeParts.message.contains("'c d e'") && threeParts.message.contains("exactly two"))
        #expect(try error("a b\n\nc d\n")?.line == 2)  // an empty line inside
        #expect(try error("a  b\n")?.line == 1)  // two spaces make three parts
        #expect(try error("#version: 0.2\n")?.line == 2)  // no merges at all: subword-nmt fails there too
        #expect(try error("a b\r\nc d\r\n\n\n") == nil)  // CRLF and trailing empty lines are fine
        #expect(throws: DataError.missingFile(path: dir.path + "/none.txt")) {
            try SubwordBPE(codesPath: dir.path + "/none.txt")
        }
    }
}
