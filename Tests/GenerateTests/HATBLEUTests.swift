import Foundation
import TestSupport
import Testing

@testable import Generate

/// HAT's BLEU (Moses-tokenized, compound-split for En-De) against Python's regex and sacreBLEU
/// (Tests/Oracle/hat_bleu_oracle.py).
@Suite("HAT's tokenized, compound-split BLEU")
struct HATBLEUTests {
    static let lines = [
        "a-b-c", "well-known --- 1-2 x - y -- z -a b- é-è 3-D", "the state @-@ of @-@ the @-@ art system", "Merkel-Regierung und EU-Kommission",
        "-start and end-", "a--b", "x-y-z-w", "", "über-all ist-es", "co-operation is re-used in e-mail",
    ]
    static let cases: [(hyp: [String], ref: [String])] = [
        (["the well-known man @-@ made plan", "a state-of-the-art system ."], ["the well-known man-made plan", "a state-of-the-art system ."]),
        (["die EU-Kommission hat heute entschieden ."], ["die EU-Kommission entschied heute ."]),
        (["ein Haus", "zwei-drei Kinder spielen"], ["ein großes Haus", "zwei bis drei Kinder spielen draußen"]),
        (["x-y-z", "a b c d e f"], ["x-y-z", "a b c d e f"]),
        (
            ["Das ist ein sehr gut-gemachter Test mit vielen Wörtern hier", "noch ein Satz"],
            ["Das ist ein gut gemachter Test mit vielen Wörtern", "noch ein Satz ."]
        ),
        (["no match at all"], ["völlig anders"]),
    ]

    @Test("compound splitting and scores equal Python's re.sub and sacreBLEU")
    func matchesPython() throws {
        let dir = try Oracle.temporaryDirectory()
        let request: [String: Any] = ["lines": Self.lines, "cases": Self.cases.map { ["hyp": $0.hyp, "ref": $0.ref] }]
        try JSONSerialization.data(withJSONObject: request).write(to: dir.appendingPathComponent("in.json"))
        let out = try Oracle.run("hat_bleu_oracle.py", [dir.appendingPathComponent("in.json").path])
        let oracle = try JSONSerialization.jsonObject(with: Data(out.utf8)) as! [String: Any]
        #expect(Self.lines.map(HATBLEU.compoundSplit) == oracle["split"] as! [String])
        let scores = oracle["bleu"] as! [Double]
        for (i, c) in Self.cases.enumerated() {
            let corpus = try HATBLEU.corpus(tokenizedHypotheses: c.hyp, tokenizedReferences: c.ref, splitCompounds: true)
            let ours = BLEU.tokenized().corpusScore(corpus).score
            #expect(abs(ours - scores[i]) < 1e-9, "case \(i): ours \(ours), sacreBLEU \(scores[i])")
        }
        #expect(scores.contains { $0 > 0 } && scores.contains { $0 == 0 }, "the cases span zero and non-zero scores")
    }
}
