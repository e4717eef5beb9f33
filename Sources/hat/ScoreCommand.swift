import ArgumentParser
import Foundation
import Generate

extension BLEUTokenizer: ExpressibleByArgument {}

/// `hat score`: sacreBLEU-compatible BLEU and chrF of a hypothesis file against reference files.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score translations with sacreBLEU-compatible BLEU and chrF (and HAT's tokenized BLEU).",
        discussion: """
            Files are UTF-8 (plain or gzip), one segment a line, line-aligned. The numbers equal sacreBLEU 2.x's \
            with the same settings (corpus_score); signatures use sacreBLEU's keys with version:hat-VERSION.
            """
    )

    @Option(help: "Hypothesis file (detokenized system output).") var hyp: String
    @Option(name: .customLong("ref"), help: "Reference file; repeat for multiple references.") var refs: [String] = []
    @Flag(help: "Lowercase hypotheses and references before scoring (every metric).") var lowercase = false
    @Option(help: "BLEU tokenizer: 13a (sacreBLEU's default), intl or none.") var tokenize: BLEUTokenizer = .thirteenA
    @Option(help: "Comma-separated metrics: bleu, chrf, chrf++, tokenized-bleu.") var metrics: String = "bleu,chrf"
    @Flag(help: "Also report tokenized BLEU as HAT reports it (whitespace tokens, no smoothing).") var tokenizedBleu = false
    @Flag(help: "Print JSON instead of text.") var json = false
    @Option(help: "Decimals of the printed scores.") var width: Int = 2

    func validate() throws {
        if refs.isEmpty { throw ValidationError("give at least one reference file with --ref") }
        _ = try metricList()
        if width < 0 || width > 10 { throw ValidationError("--width must be between 0 and 10") }
    }

    func metricList() throws -> [ScoreMetric] {
        var list: [ScoreMetric] = []
        for name in metrics.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces).lowercased() }) {
            guard let metric = ScoreMetric(rawValue: name) else {
                throw ValidationError("unknown metric '\(name)' in --metrics; choose from \(ScoreMetric.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            if !list.contains(metric) { list.append(metric) }
        }
        if tokenizedBleu && !list.contains(.tokenizedBLEU) { list.append(.tokenizedBLEU) }
        if list.isEmpty { throw ValidationError("--metrics names no metric") }
        return list
    }

    func run() throws {
        let corpus = try ScoringCorpus.read(hypothesisFile: hyp, referenceFiles: refs)
        let report = ScoreReport(corpus: corpus, metrics: try metricList(), tokenizer: tokenize, lowercase: lowercase)
        let version = "hat-\(HAT.versionNumber)"
        print(json ? report.json(version: version, width: width) : report.text(version: version, width: width))
    }
}
