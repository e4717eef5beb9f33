import Foundation
import Testing

@testable import Datasets

@Suite("FairseqDictionary: dict.LANG.txt, encode_line and string as fairseq")
struct FairseqDictionaryTests {
    /// A dictionary written in fairseq-preprocess's format (with overwrite flags, a token with a
    /// space, and two canonically equal tokens) read by us; ids and strings for 5,000 lines
    /// compared with the oracle.
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"))
    func equalsTheOracleOnMulti30k() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let tokenizer = try MosesTokenizer(language: "en")
        let lines = try TextPipelineTestSupport.trainLines("en").prefix(5000).map(tokenizer.tokenize)
        let input = try DataTestSupport.write(lines, to: dir, "tok.en")
        try DataTestSupport.runOracle("fairseq_dict_oracle.py", [input, dir.path])
        struct Result: Decodable {
            var dict: String
            var symbols: [String]
            var lines: [String]
            var ids: [[Int32]]
            var plain: [String], no_bpe: [String], escaped_unk: [String], with_eos: [String]
        }
        let r = try JSONDecoder().decode(Result.self, from: Data(contentsOf: dir.appendingPathComponent("result.json")))
        let dict = try FairseqDictionary(path: r.dict)
        #expect(dict.count == r.symbols.count)
        #expect(dict.symbols.count == r.symbols.count && zip(dict.symbols, r.symbols).allSatisfy { $0.utf8.elementsEqual($1.utf8) })
        #expect(Array(dict.symbols.prefix(4)) == ["<s>", "<pad>", "</s>", "<unk>"])
        // The overwritten token has its new id; "é" and "e\u{301}" are two tokens.
        let overwritten = r.symbols[4 + 5]
        #expect(dict.index(overwritten) == Int32(r.symbols.count - 5))
        #expect(dict.index("brand-new") == Int32(r.symbols.count - 4) && dict.index("two words") == Int32(r.symbols.count - 3))
        #expect(dict.index("\u{E9}") == Int32(r.symbols.count - 2) && dict.index("e\u{301}") == Int32(r.symbols.count - 1))
        var unknown = 0
        for (i, line) in r.lines.enumerated() {
            let ids = dict.encodeLine(line)
            if i > 0 { #expect(ids == r.ids[i], "line \(i + 1): \(line)") }
            unknown += ids.filter { $0 == FairseqDictionary.unk }.count
        }
        #expect(unknown > 0, "the last 1,000 lines should meet unknown tokens")
        let plain = r.ids.map { dict.string($0) }
        let noBPE = r.ids.map { dict.string($0, bpeSymbol: .subwordNMT) }
        let escaped = r.ids.map { dict.string($0, escapeUnk: true) }
        let withEOS = r.ids.map { dict.string($0, includeEOS: true) }
        for (ours, expected, what) in [
            (plain, r.plain, "string"), (noBPE, r.no_bpe, "string(bpe)"),
            (escaped, r.escaped_unk, "string(escape_unk)"), (withEOS, r.with_eos, "string(include_eos)"),
        ] {
            let report = TextPipelineTestSupport.compare(ours, expected, inputs: r.lines, what: what)
            #expect(report == nil, "\(report ?? "")")
        }
    }

    @Test func specialsLookupAndDecoding() throws {
        let dict = try FairseqDictionary(contents: "the 10\nlo@@ 4\nw 3\n")
        #expect(dict.index("the") == 4 && dict.index("lo@@") == 5 && dict.index("w") == 6 && dict.index("nope") == 3)
        #expect(dict.index("</s>") == 2 && dict.index("<pad>") == 1)
        #expect(dict.counts == [1, 1, 1, 1, 10, 4, 3])
        #expect(dict.encodeLine("  the lo@@\tw nope ") == [4, 5, 6, 3, 2])
        #expect(dict.encodeLine("the", appendEOS: false) == [4])
        #expect(dict[7] == "<unk>" && dict[-1] == "w")
        #expect(dict.string([0, 4, 5, 6, 3, 2, 1]) == "the lo@@ w <unk> <pad>")
        #expect(dict.string([4, 5, 6, 2, 1], bpeSymbol: .subwordNMT, extraSymbolsToIgnore: [FairseqDictionary.pad]) == "the low")
        #expect(dict.string([4, 3, 2], escapeUnk: true, includeEOS: true) == "the <<unk>> </s>")
        #expect(dict.string([4, 3], unkString: "??") == "the ??")
    }

    @Test func badLinesNameTheFileAndLine() throws {
        func error(_ text: String) -> TextFormatError? {
            do {
                _ = try FairseqDictionary(contents: text, path: "dict.xx.txt")
                return nil
            } catch let e as TextFormatError {
                #expect("\(e)".hasPrefix("dict.xx.txt:\(e.line): "))
                return e
            } catch {
                Issue.record("unexpected error \(error)")
                return nil
            }
        }
        #expect(error("a 1\nnocount\n")?.line == 2)
        #expect(error("a 1\nb x\n")?.message.contains("expected '<token> <count> [#fairseq:overwrite]'") == true)
        #expect(error("a 1\n\nb 2\n")?.line == 2)  // an empty line
        #expect(error("x #fairseq:overwrite\n")?.line == 1)  // the flag but no count
        let duplicate = error("a 1\nb 2\na 3\n")
        #expect(duplicate?.line == 3 && duplicate?.message.contains("duplicate token 'a'") == true)
        #expect(error("<unk> 5\n")?.line == 1)  // the specials are already there
        // With the flag a duplicate is allowed and gets a new id; the old id keeps the name.
        let d = try FairseqDictionary(contents: "a 1\nb 2\na 3 #fairseq:overwrite\n")
        #expect(d.index("a") == 6 && d[4] == "a" && d.count == 7 && d.counts[6] == 3)
        // Python's int(): signs, surrounding whitespace, underscores between digits.
        #expect(FairseqDictionary.pythonInt("+5") == 5 && FairseqDictionary.pythonInt("1_000") == 1000)
        #expect(FairseqDictionary.pythonInt("1__0") == nil && FairseqDictionary.pythonInt("_1") == nil && FairseqDictionary.pythonInt("") == nil)
        #expect(throws: DataError.missingFile(path: "/nonexistent/dict.txt")) { try FairseqDictionary(path: "/nonexistent/dict.txt") }
        // CRLF files and trailing whitespace read like fairseq's text mode.
        #expect(try FairseqDictionary(contents: "a 1\r\nb 2  \r\n").index("b") == 5)
    }
}
