import Foundation
import Testing

@testable import Datasets

@Suite("MosesDetokenizer: sacremoses' detokenize, line for line")
struct MosesDetokenizerTests {
    /// sacremoses' own tokenization of all of Multi30k train (and the edge lines), detokenized by
    /// us and by sacremoses, must be identical.
    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"), arguments: TextPipelineTestSupport.languages)
    func equalsSacremosesOnItsOwnTokenization(language: String) throws {
        let (_, oracle) = try TextPipelineTestSupport.moses(language)
        let detokenizer = try MosesDetokenizer(language: language)
        let ours = oracle.tokenized.map { detokenizer.detokenize(tokens: PythonText.pythonSplit($0)) }
        let report = TextPipelineTestSupport.compare(ours, oracle.detokenized, inputs: oracle.tokenized, what: "detokenize(\(language))")
        #expect(report == nil, "\(report ?? "")")
        // The line API (split inside) gives the same text.
        let fromLines = oracle.tokenized.map { detokenizer.detokenize($0) }
        let lineReport = TextPipelineTestSupport.compare(fromLines, oracle.detokenized, inputs: oracle.tokenized, what: "detokenize(line) \(language)")
        #expect(lineReport == nil, "\(lineReport ?? "")")
    }

    @Test(.enabled(if: DataTestSupport.hasMulti30k, "needs ../shared/data/multi30k"), arguments: TextPipelineTestSupport.languages)
    func equalsSacremosesWithoutUnescaping(language: String) throws {
        let (_, oracle) = try TextPipelineTestSupport.moses(language)
        let detokenizer = try MosesDetokenizer(language: language, unescape: false)
        let lines = Array(oracle.tokenized.prefix(oracle.detokenized_escaped.count))
        let report = TextPipelineTestSupport.compare(
            lines.map(detokenizer.detokenize), oracle.detokenized_escaped, inputs: lines, what: "detokenize(\(language), unescape=False)")
        #expect(report == nil, "\(report ?? "")")
    }

    @Test func knownOutputs() throws {
        let en = try MosesDetokenizer(language: "en")
        #expect(en.detokenize("A well @-@ known man &apos;s dog , isn &apos;t it ?") == "A well-known man's dog, isn't it?")
        #expect(en.detokenize("&quot; Hello , &quot; he said ( quietly ) .") == "\"Hello,\" he said (quietly).")
        #expect(en.detokenize("the Jones &apos; house costs $ 5") == "the Jones' house costs $5")
        #expect(en.detokenize("a  @-@ \tb") == "a-b")  // the line is split first, as detokenize(line.split())
        let fr = try MosesDetokenizer(language: "fr")
        #expect(fr.detokenize("L&apos; homme est là ?") == "L'homme est là ?")
        #expect(throws: DataError.self) { try MosesDetokenizer(language: "zh") }
    }
}
