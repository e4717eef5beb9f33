import Datasets
import Foundation
import Generate
import TestSupport
import Testing

/// sacreBLEU's corpus results for one case and one metric variant (Tests/Oracle/sacrebleu_oracle.py).
private struct OracleScore: Decodable {
    let score: Double
    let signature: String
    let counts: [Int]?
    let totals: [Int]?
    let precisions: [Double]?
    let bp: Double?
    let sys_len: Int?
    let ref_len: Int?
}

private struct OracleOutput: Decodable {
    let version: String
    let cases: [String: [String: OracleValue]]
}

/// A case's entries: scores, and "tokens" (tokenizer name → lines).
private enum OracleValue: Decodable {
    case score(OracleScore)
    case tokens([String: [String]])

    init(from decoder: Decoder) throws {
        if let tokens = try? [String: [String]](from: decoder) {
            self = .tokens(tokens)
        } else {
            self = .score(try OracleScore(from: decoder))
        }
    }
}

private struct MissingOracleEntry: Error {
    let key: String
}

@Suite("Scoring: BLEU and chrF against sacreBLEU")
struct ScoreTests {
    /// Every case, every variant (tokenizer 13a/intl/none × cased/lowercased, tokenized BLEU,
    /// chrF2, chrF2++, chrF with eps smoothing), all read from files the way `hat score` reads
    /// them, scored once by sacreBLEU (one oracle run) and compared: scores to 0.01 (in practice
    /// identical), lengths and n-gram counts exactly, signatures field by field, and both
    /// tokenizers' output line by line.
    @Test func matchesSacreBLEU() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let cases = try ScoreCases.all()
        #expect(cases.count >= 12)

        var manifest: [[String: Any]] = []
        var corpora: [String: ScoringCorpus] = [:]
        for c in cases {
            let hypPath = dir.appendingPathComponent("\(c.name).hyp").path
            try write(c.hypotheses, to: hypPath)
            let refPaths = try c.references.indices.map { k -> String in
                let path = dir.appendingPathComponent("\(c.name).ref\(k)").path
                try write(c.references[k], to: path)
                return path
            }
            manifest.append(["name": c.name, "hyp": hypPath, "refs": refPaths])
            corpora[c.name] = try ScoringCorpus.read(hypothesisFile: hypPath, referenceFiles: refPaths)
        }
        let manifestPath = dir.appendingPathComponent("manifest.json")
        try JSONSerialization.data(withJSONObject: manifest).write(to: manifestPath)
        let output = try JSONDecoder().decode(
            OracleOutput.self, from: Data(try Oracle.run("sacrebleu_oracle.py", [manifestPath.path]).utf8))

        var maxBLEUDiff = 0.0, maxCHRFDiff = 0.0, comparisons = 0
        for c in cases {
            let corpus = try #require(corpora[c.name])
            let expected = try #require(output.cases[c.name], "oracle has no case \(c.name)")
            func oracle(_ key: String) throws -> OracleScore {
                guard case .score(let s)? = expected[key] else { throw MissingOracleEntry(key: "\(c.name) \(key)") }
                return s
            }

            for lowercase in [false, true] {
                let variant = lowercase ? "lc" : "cased"
                var bleus: [(String, BLEU)] = BLEUTokenizer.allCases.map {
                    ("bleu/\($0.name)/\(variant)", BLEU(tokenizer: $0, lowercase: lowercase))
                }
                bleus.append(("tokbleu/\(variant)", BLEU.tokenized(lowercase: lowercase)))
                for (key, metric) in bleus {
                    let ours = metric.corpusScore(corpus), theirs = try oracle(key)
                    let where_ = "\(c.name) \(key)"
                    let diff = abs(ours.score - theirs.score)
                    maxBLEUDiff = max(maxBLEUDiff, diff)
                    comparisons += 1
                    #expect(diff <= 0.01, "\(where_): BLEU \(ours.score) vs sacreBLEU \(theirs.score)")
                    #expect(ours.sysLen == theirs.sys_len, "\(where_): sys_len")
                    #expect(ours.refLen == theirs.ref_len, "\(where_): ref_len")
                    #expect(ours.counts == theirs.counts, "\(where_): counts")
                    #expect(ours.totals == theirs.totals, "\(where_): totals")
                    #expect(
                        zip(ours.precisions, theirs.precisions ?? []).allSatisfy { abs($0 - $1) <= 1e-9 },
                        "\(where_): precisions \(ours.precisions) vs \(theirs.precisions ?? [])")
                    #expect(abs(ours.bp - (theirs.bp ?? .nan)) <= 1e-12, "\(where_): bp")
                    #expect(ours.signature.formatted(version: output.version) == theirs.signature, "\(where_): signature")
                }

                let chrfs: [(String, CHRF)] = [
                    ("chrf/\(variant)", CHRF(lowercase: lowercase)),
                    ("chrfpp/\(variant)", CHRF(wordOrder: 2, lowercase: lowercase)),
                    ("chrfeps/\(variant)", CHRF(lowercase: lowercase, epsSmoothing: true)),
                ]
                for (key, metric) in chrfs {
                    let ours = metric.corpusScore(corpus), theirs = try oracle(key)
                    let diff = abs(ours.score - theirs.score)
                    maxCHRFDiff = max(maxCHRFDiff, diff)
                    comparisons += 1
                    #expect(diff <= 0.01, "\(c.name) \(key): chrF \(ours.score) vs sacreBLEU \(theirs.score)")
                    #expect(ours.signature.formatted(version: output.version) == theirs.signature, "\(c.name) \(key): signature")
                }
            }

            guard case .tokens(let tokens)? = expected["tokens"] else {
                Issue.record("no tokens for \(c.name)")
                continue
            }
            let lines = corpus.hypotheses + corpus.references.flatMap { $0 }
            for (name, tokenize) in [("13a", { Tokenizer13a()($0) }), ("intl", { TokenizerIntl()($0) })] as [(String, (String) -> String)] {
                let theirs = try #require(tokens[name])
                for (i, line) in lines.enumerated() where tokenize(line).unicodeScalars.elementsEqual(theirs[i].unicodeScalars) == false {
                    Issue.record("\(c.name) \(name) line \(i): \(tokenize(line).debugDescription) vs sacreBLEU \(theirs[i].debugDescription)")
                }
            }
        }
        print(
            "sacreBLEU \(output.version): \(comparisons) scores compared over \(cases.count) cases; "
                + "max |BLEU − sacreBLEU| = \(maxBLEUDiff), max |chrF − sacreBLEU| = \(maxCHRFDiff)")
    }

    @Test func identicalIsHundredAndDisjointIsZero() throws {
        let bleu = BLEU(), chrf = CHRF()
        let same = try bleu.corpusScore(hypotheses: ScoreCases.sentences, references: [ScoreCases.sentences])
        #expect(abs(same.score - 100) < 1e-9)  // exp(log 100) is 100.00000000000004, in sacreBLEU too
        #expect(same.bp == 1)
        #expect(try chrf.corpusScore(hypotheses: ScoreCases.sentences, references: [ScoreCases.sentences]).score == 100)
        let wrong = ScoreCases.wrong
        let zero = try bleu.corpusScore(hypotheses: wrong.hypotheses, references: wrong.references)
        #expect(zero.score == 0)
        #expect(zero.formatted().hasPrefix("BLEU = 0.00 0.0/0.0/0.0/0.0 (BP = "))
    }

    @Test func formatsLikeSacreBLEU() throws {
        // sacreBLEU 2.6.0 prints this line for the same input.
        let score = try BLEU().corpusScore(hypotheses: ["the cat sat on the mat ."], references: [["the cat sat on a mat ."]])
        #expect(score.formatted() == "BLEU = 48.89 85.7/66.7/40.0/25.0 (BP = 1.000 ratio = 1.000 hyp_len = 7 ref_len = 7)")
        #expect(score.signature.formatted(version: "hat-0.1.0") == "nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:hat-0.1.0")
        let chrf = try CHRF().corpusScore(hypotheses: ["the cat"], references: [["the cat"]])
        #expect(chrf.formatted() == "chrF2 = 100.00")
        #expect(chrf.signature.description == "nrefs:1|case:mixed|eff:yes|nc:6|nw:0|space:no|version:hat")
        #expect(
            BLEU.tokenized().signature(referenceCount: 2).description
                == "nrefs:2|case:mixed|eff:no|tok:none|smooth:none|version:hat")
    }

    @Test func rejectsMismatchedLineCounts() throws {
        let error = #expect(throws: ScoreError.self) {
            try BLEU().corpusScore(hypotheses: ["a", "b", "c"], references: [["a", "b"]])
        }
        #expect(error == .lineCountMismatch(hypothesis: "the hypotheses", hypothesisLines: 3, reference: "the references", referenceLines: 2))
        #expect(error?.description.contains("3 lines") == true && error?.description.contains("2 lines") == true)
        #expect(throws: ScoreError.self) { try CHRF().corpusScore(hypotheses: ["a"], references: [["a"], ["a", "b"]]) }
        #expect(throws: ScoreError.noReferences) { try BLEU().corpusScore(hypotheses: ["a"], references: []) }
        #expect(throws: ScoreError.emptyCorpus(hypothesis: "the hypotheses")) { try BLEU().corpusScore(hypotheses: [], references: [[]]) }
    }

    @Test func fileErrorsNameTheFileAndLine() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hyp = dir.appendingPathComponent("hyp.txt").path, ref = dir.appendingPathComponent("ref.txt").path
        try write(["one", "two", "three"], to: hyp)
        try write(["one", "two"], to: ref)
        let mismatch = #expect(throws: ScoreError.self) { try ScoringCorpus.read(hypothesisFile: hyp, referenceFiles: [ref]) }
        let message = mismatch?.description ?? ""
        #expect(message.contains(hyp) && message.contains(ref) && message.contains("3 lines") && message.contains("2 lines"), "\(message)")

        let missing = dir.appendingPathComponent("missing.txt").path
        #expect(throws: DataError.missingFile(path: missing)) { try ScoringCorpus.read(hypothesisFile: hyp, referenceFiles: [missing]) }

        let bad = dir.appendingPathComponent("bad.txt").path
        try Data([0x6F, 0x6B, 0x0A, 0x62, 0x61, 0x64, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: bad))
        #expect(throws: DataError.invalidUTF8(path: bad, line: 2)) { try ScoringCorpus.read(hypothesisFile: bad, referenceFiles: [ref]) }
    }

    @Test func tokenizersOnKnownLines() {
        #expect(Tokenizer13a()("Hello, world (1,000.5 km)!") == "Hello , world ( 1,000.5 km ) !")
        #expect(Tokenizer13a()("Tom &amp; Jerry &amp;lt;3 in 2020.") == "Tom & Jerry < 3 in 2020 .")
        #expect(TokenizerIntl()("„Ja“, sagte er in 2020.") == "„ Ja “ , sagte er in 2020.")
        #expect(BLEUTokenizer.none("a  b ") == "a  b ")
    }

    /// The `hat` binary built next to the test bundle, if there is one.
    @Test(.enabled(if: HATBinary.isAvailable, "needs the hat binary")) func commandLine() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let hyp = dir.appendingPathComponent("hyp.txt").path, ref = dir.appendingPathComponent("ref.txt").path
        let short = dir.appendingPathComponent("short.txt").path
        let c = ScoreCases.noHigherOrderMatches
        try write(c.hypotheses, to: hyp)
        try write(c.references[0], to: ref)
        try write(Array(c.references[0].dropLast()), to: short)

        func hat(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
            try HATBinary.run(["score"] + arguments)
        }

        let ok = try hat(["--hyp", hyp, "--ref", ref, "--tokenized-bleu"])
        #expect(ok.status == 0, "\(ok.err)")
        let report = ScoreReport(
            corpus: try ScoringCorpus.read(hypothesisFile: hyp, referenceFiles: [ref]),
            metrics: [.bleu, .chrf, .tokenizedBLEU])
        let lines = ok.out.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        #expect(lines.first == report.results[0].bleu?.formatted())
        #expect(lines.dropFirst().first?.hasPrefix("  signature: nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:hat-") == true)
        #expect(ok.out == report.text(version: lines[1].components(separatedBy: "version:").last!) + "\n")

        let json = try hat(["--hyp", hyp, "--ref", ref, "--json", "--metrics", "chrf"])
        let objects = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as? [[String: Any]]
        #expect(objects?.first?["name"] as? String == "chrF2")
        #expect(objects?.first?["nc"] as? String == "6")

        let mismatch = try hat(["--hyp", hyp, "--ref", short])
        #expect(mismatch.status != 0)
        #expect(
            mismatch.err.contains(hyp) && mismatch.err.contains(short)
                && mismatch.err.contains("10 lines") && mismatch.err.contains("9 lines"), "\(mismatch.err)")
    }

    private func write(_ lines: [String], to path: String) throws {
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }
}
