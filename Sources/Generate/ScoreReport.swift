import Foundation

/// The metrics `hat score` can report.
public enum ScoreMetric: String, CaseIterable, Sendable {
    /// sacreBLEU-compatible BLEU (detokenized text, chosen tokenizer, exp smoothing).
    case bleu
    /// chrF2.
    case chrf
    /// chrF2++ (chrF with word 1- and 2-grams).
    case chrfPlusPlus = "chrf++"
    /// Tokenized BLEU as HAT reports it (whitespace tokens, no smoothing).
    case tokenizedBLEU = "tokenized-bleu"
}

/// One metric's result, ready to print.
public struct MetricResult: Sendable {
    /// `BLEU`, `tokenized BLEU`, `chrF2`, `chrF2++`.
    public let name: String
    public let score: Double
    public let signature: MetricSignature
    /// The BLEU details, for BLEU results.
    public let bleu: BLEUScore?
    /// The chrF details, for chrF results.
    public let chrf: CHRFScore?
}

/// Several metrics on one corpus, printed as sacreBLEU prints them: a text line per metric
/// followed by its signature, or JSON objects with sacreBLEU's keys (`name`, `score` rounded
/// to the width, `signature`, `verbose_score`, one key per signature field) plus the exact
/// numbers (`score_exact`, and for BLEU `precisions`, `bp`, `ratio`, `hyp_len`, `ref_len`,
/// `counts`, `totals`).
public struct ScoreReport: Sendable {
    public let results: [MetricResult]

    /// Scores `corpus` with each metric, in the order given. `tokenizer` is BLEU's; `lowercase`
    /// applies to every metric (each signature's `case:` says so).
    public init(corpus: ScoringCorpus, metrics: [ScoreMetric], tokenizer: BLEUTokenizer = .thirteenA, lowercase: Bool = false) {
        results = metrics.map { metric in
            switch metric {
            case .bleu, .tokenizedBLEU:
                let bleu = metric == .bleu ? BLEU(tokenizer: tokenizer, lowercase: lowercase) : BLEU.tokenized(lowercase: lowercase)
                let s = bleu.corpusScore(corpus)
                return MetricResult(
                    name: metric == .bleu ? "BLEU" : "tokenized BLEU", score: s.score,
                    signature: s.signature, bleu: s, chrf: nil)
            case .chrf, .chrfPlusPlus:
                let chrf = CHRF(wordOrder: metric == .chrf ? 0 : 2, lowercase: lowercase)
                let s = chrf.corpusScore(corpus)
                return MetricResult(name: s.name, score: s.score, signature: s.signature, bleu: nil, chrf: s)
            }
        }
    }

    /// `BLEU = 34.12 65.3/40.1/27.0/18.9 (BP = ...)` then `  signature: nrefs:1|...|version:VERSION`, per metric.
    public func text(version: String, width: Int = 2) -> String {
        results.map { r in
            let line = r.bleu?.formatted(width: width, name: r.name) ?? "\(r.name) = \(String(format: "%.\(width)f", r.score))"
            return "\(line)\n  signature: \(r.signature.formatted(version: version))"
        }.joined(separator: "\n")
    }

    /// A JSON list with one object per metric.
    public func json(version: String, width: Int = 2) -> String {
        let objects = results.map { r -> String in
            var fields: [(String, String)] = [
                ("name", JSON.string(r.name)),
                ("score", JSON.number(Double(String(format: "%.\(width)f", r.score))!)),
                ("signature", JSON.string(r.signature.formatted(version: version))),
            ]
            if let b = r.bleu { fields.append(("verbose_score", JSON.string(b.verbose))) }
            for f in r.signature.fields { fields.append((f.key, JSON.string(f.value))) }
            fields.append(("version", JSON.string(version)))
            fields.append(("score_exact", JSON.number(r.score)))
            if let b = r.bleu {
                fields += [
                    ("precisions", JSON.array(b.precisions.map(JSON.number))), ("bp", JSON.number(b.bp)),
                    ("ratio", JSON.number(b.ratio)), ("hyp_len", String(b.sysLen)), ("ref_len", String(b.refLen)),
                    ("counts", JSON.array(b.counts.map(String.init))), ("totals", JSON.array(b.totals.map(String.init))),
                ]
            }
            return " {\n" + fields.map { "  \(JSON.string($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n }"
        }
        return "[\n" + objects.joined(separator: ",\n") + "\n]"
    }
}

/// Minimal JSON text, so that keys keep sacreBLEU's order and numbers print as typed
/// (shortest round-trip form: 34.12, not 34.119999999999997).
private enum JSON {
    static func string(_ s: String) -> String {
        var out = "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    out += String(format: "\\u%04x", scalar.value)
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    static func number(_ x: Double) -> String {
        guard x.isFinite else { return "null" }
        if x == x.rounded() && abs(x) < 1e15 { return String(format: "%.1f", x) }
        return "\(x)"
    }

    static func array(_ items: [String]) -> String { "[" + items.joined(separator: ", ") + "]" }
}
