import Foundation
import Testing

@testable import Datasets

@Suite("MosesTokenizer: sacremoses' tokenize, line for line")
struct MosesTokenizerTests {
    /// All 29,000 training lines of Multi30k and the edge lines, with HAT's options (`-a`,
    /// escaping on), must equal sacremoses' output exactly.
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"), arguments: TextPipelineTestSupport.languages)
    func equalsSacremosesOnMulti30kTrain(language: String) throws {
        let (input, oracle) = try TextPipelineTestSupport.moses(language)
        #expect(input.count == 29_000 + TextPipelineTestSupport.edgeLines.count)
        let tokenizer = try MosesTokenizer(language: language)
        let ours = input.map(tokenizer.tokenize)
        let report = TextPipelineTestSupport.compare(ours, oracle.tokenized, inputs: input, what: "tokenize(\(language), -a, escape)")
        #expect(report == nil, "\(report ?? "")")
    }

    /// Without the hyphen split and without escaping, on the first 5,000 lines.
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"), arguments: TextPipelineTestSupport.languages)
    func equalsSacremosesWithoutDashSplitsAndEscaping(language: String) throws {
        let (input, oracle) = try TextPipelineTestSupport.moses(language)
        let tokenizer = try MosesTokenizer(language: language, aggressiveDashSplits: false, escape: false)
        let lines = Array(input.prefix(oracle.plain.count))
        #expect(lines.count == 5000)
        let report = TextPipelineTestSupport.compare(lines.map(tokenizer.tokenize), oracle.plain, inputs: lines, what: "tokenize(\(language))")
        #expect(report == nil, "\(report ?? "")")
    }

    /// Hand-checked cases, so the rules are pinned down even without the oracle.
    @Test func knownOutputs() throws {
        let en = try MosesTokenizer(language: "en")
        #expect(en.tokenize("A well-known man's dog, isn't it?") == "A well @-@ known man &apos;s dog , isn &apos;t it ?")
        #expect(en.tokenize("Mr. Smith paid $5,300 at 5 p.m.") == "Mr. Smith paid $ 5,300 at 5 p.m.")
        #expect(en.tokenize("No. 5 is fine. No. He left...") == "No. 5 is fine . No . He left ...")
        #expect(en.tokenize("a|b <c> [d] \"e\" & f") == "a &#124; b &lt; c &gt; &#91; d &#93; &quot; e &quot; &amp; f")
        #expect(en.tokenize("He said.'") == "He said . &apos; ")  // sacremoses leaves the trailing space
        #expect(en.tokenize("  \t ") == "")
        let de = try MosesTokenizer(language: "de", escape: false)
        #expect(de.tokenize("Das ist z.B. Peters Hauses.") == "Das ist z.B. Peters Hauses .")
        #expect(de.tokenize("Peters Haus's.") == "Peters Haus ' s.")  // "s" is a German non-breaking prefix
        let fr = try MosesTokenizer(language: "fr", escape: false)
        #expect(fr.tokenize("L'homme d'affaires est là.") == "L' homme d' affaires est là .")
    }

    @Test func unsupportedLanguageIsAnError() {
        #expect(throws: DataError.self) { try MosesTokenizer(language: "xx") }
        do {
            _ = try MosesTokenizer(language: "cs")
            Issue.record("cs should not be built in")
        } catch {
            #expect("\(error)".contains("'cs'") && "\(error)".contains("en, de, fr"))
        }
    }

    /// The generated tables hold what the tokenizer relies on.
    @Test func embeddedTablesAreComplete() throws {
        for language in TextPipelineTestSupport.languages {
            let lists = try #require(MosesTables.nonbreakingPrefixes[language])
            #expect(lists.prefixes.count > 90, "\(language): \(lists.prefixes.count) prefixes")
            #expect(lists.prefixes.contains("A") && lists.prefixes.contains("Z"))
        }
        #expect(MosesTables.nonbreakingPrefixes["en"]?.numericOnly == ["No", "Art", "pp"])
        let table = MosesCharacterTable.shared
        #expect(table.isIn(0x61, .alnum) && table.isIn(0xE9, .alpha) && !table.isIn(0x2D, .pad) && table.isIn(0x24, .pad))
        #expect(table.isIn(0x0660, .number) && table.isIn(0xA0, .whitespace) && table.isIn(0x4E2D, .cjk))
    }
}
