import Foundation

/// Corpus-level chrF (Popović 2015, "chrF: character n-gram F-score for automatic MT
/// evaluation") and chrF++ (Popović 2017, with word n-grams), computed exactly as sacreBLEU 2.x
/// does (`sacrebleu/metrics/chrf.py`). The defaults are sacreBLEU's chrF2: character n-grams up
/// to 6, no word n-grams, β = 2 (recall weighs more), whitespace ignored, case-sensitive, and
/// sacreBLEU's default averaging (`eps_smoothing=False`, signature `eff:yes`).
///
/// How a corpus is scored:
/// - each line is lowercased if asked, and all whitespace is removed (so chrF needs no tokenizer);
/// - per segment and order n, the hypothesis's character n-grams are matched against each
///   reference's, counts clipped; with several references the one with the best segment
///   F-score is kept (the first on a tie);
/// - the (hypothesis, reference, match) counts per order are summed over the corpus, then
///   precision and recall per order are averaged over the orders that both sides have n-grams
///   of, and `chrF = 100 · (1 + β²) · P · R / (β² · P + R)`.
///
/// With `epsSmoothing` the F-scores per order are averaged instead, zero counts replaced by
/// 1e-16 (chrF++.py, Moses, NLTK; sacreBLEU's `--chrf-eps-smoothing`, signature `eff:no`).
public struct CHRF: Sendable {
    /// Character n-gram order (6).
    public var charOrder: Int
    /// Word n-gram order: 0 for chrF, 2 for chrF++.
    public var wordOrder: Int
    /// Recall weight β (2).
    public var beta: Int
    public var lowercase: Bool
    /// Keep whitespace in the character n-grams.
    public var whitespace: Bool
    public var epsSmoothing: Bool

    public init(
        charOrder: Int = 6, wordOrder: Int = 0, beta: Int = 2, lowercase: Bool = false,
        whitespace: Bool = false, epsSmoothing: Bool = false
    ) {
        precondition(charOrder >= 1 && wordOrder >= 0, "chrF needs charOrder ≥ 1 and wordOrder ≥ 0")
        self.charOrder = charOrder
        self.wordOrder = wordOrder
        self.beta = beta
        self.lowercase = lowercase
        self.whitespace = whitespace
        self.epsSmoothing = epsSmoothing
    }

    /// The metric's name as sacreBLEU prints it: `chrF2`, `chrF2++`.
    public var name: String { "chrF\(beta)" + String(repeating: "+", count: wordOrder) }

    /// chrF of the hypotheses against one or more line-aligned reference streams.
    /// - Throws: `ScoreError` when the line counts differ or nothing is given.
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> CHRFScore {
        try corpusScore(ScoringCorpus(hypotheses: hypotheses, references: references))
    }

    /// chrF of a checked corpus.
    public func corpusScore(_ corpus: ScoringCorpus) -> CHRFScore {
        var total = [Int](repeating: 0, count: 3 * (charOrder + wordOrder))
        for i in 0..<corpus.count {
            let stats = segmentStatistics(hypothesis: corpus.hypotheses[i], references: corpus.references(ofSegment: i))
            for k in total.indices { total[k] += stats[k] }
        }
        return CHRFScore(
            score: fScore(total), statistics: total, name: name,
            signature: signature(referenceCount: corpus.references.count))
    }

    /// One segment's statistics: (hypothesis n-grams, reference n-grams, matches) per order,
    /// character orders first, for the reference with the best F-score.
    public func segmentStatistics(hypothesis: String, references: [String]) -> [Int] {
        precondition(!references.isEmpty, "a segment needs at least one reference")
        var chars = NGramInterner(), words = NGramInterner(), tokens = TokenInterner()

        /// Character n-grams (ids from `chars`), then word n-grams (ids from `words`).
        func ngramCounts(_ line: String) -> (chars: NGramBag, words: NGramBag) {
            var scalars = PythonText.scalars(line)
            if lowercase { scalars = PythonText.lower(scalars) }
            let charStream = whitespace ? scalars : PythonText.removeSpaces(scalars)
            let charBag = chars.countAll(charStream.map { Int($0.value) }, maxOrder: charOrder)
            let wordBag =
                wordOrder > 0
                ? words.countAll(tokens.ids(Self.punctuationSplitWords(scalars)), maxOrder: wordOrder) : NGramBag()
            return (charBag, wordBag)
        }

        let hypothesis = ngramCounts(hypothesis)
        var best: [Int] = [], bestF = -1.0
        for reference in references {
            let reference = ngramCounts(reference)
            // Per order: hypothesis n-grams, reference n-grams, clipped matches.
            var stats = [Int](repeating: 0, count: 3 * (charOrder + wordOrder))
            for (h, r, orders, offset) in [
                (hypothesis.chars, reference.chars, chars.orders, 0),
                (hypothesis.words, reference.words, words.orders, charOrder),
            ] {
                for id in h.distinct {
                    let k = 3 * (offset + orders[id] - 1)
                    stats[k] += h[id]
                    stats[k + 2] += min(h[id], r[id])
                }
                for id in r.distinct { stats[3 * (offset + orders[id] - 1) + 1] += r[id] }
            }
            // sacreBLEU's _get_match_statistics: hypothesis n-grams count only for orders the
            // reference has n-grams of.
            for k in stride(from: 0, to: stats.count, by: 3) where stats[k + 1] == 0 { stats[k] = 0 }
            let f = fScore(stats)
            if f > bestF {
                bestF = f
                best = stats
            }
        }
        return best
    }

    /// chrF++'s words (sacreBLEU's `_remove_punctuation`, after m-popovic/chrF): split at
    /// whitespace, then one ASCII punctuation mark is split off the end of a word, or else off
    /// its start (so `(hi)` gives `(hi` and `)`, sacreBLEU issue #124).
    static func punctuationSplitWords(_ line: [Unicode.Scalar]) -> [ArraySlice<Unicode.Scalar>] {
        func isPunct(_ c: Unicode.Scalar) -> Bool {
            c.isASCII && "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".unicodeScalars.contains(c)
        }
        var out: [ArraySlice<Unicode.Scalar>] = []
        for w in PythonText.split(line) {
            if w.count == 1 {
                out.append(w)
            } else if isPunct(w.last!) {
                out.append(w.dropLast())
                out.append(w.suffix(1))
            } else if isPunct(w.first!) {
                out.append(w.prefix(1))
                out.append(w.dropFirst())
            } else {
                out.append(w)
            }
        }
        return out
    }

    /// sacreBLEU's `_compute_f_score`, operation for operation.
    public func fScore(_ statistics: [Int]) -> Double {
        let eps = 1e-16
        let factor = Double(beta * beta)
        var score = 0.0, averagePrecision = 0.0, averageRecall = 0.0
        var effectiveOrder = 0
        for i in 0..<(charOrder + wordOrder) {
            let nHyp = statistics[3 * i], nRef = statistics[3 * i + 1], nMatch = statistics[3 * i + 2]
            let precision = nHyp > 0 ? Double(nMatch) / Double(nHyp) : eps
            let recall = nRef > 0 ? Double(nMatch) / Double(nRef) : eps
            let denominator = factor * precision + recall
            score += denominator > 0 ? (1 + factor) * precision * recall / denominator : eps
            if nHyp > 0 && nRef > 0 {
                averagePrecision += precision
                averageRecall += recall
                effectiveOrder += 1
            }
        }
        if epsSmoothing { return 100 * score / Double(charOrder + wordOrder) }
        if effectiveOrder == 0 {
            averagePrecision = 0
            averageRecall = 0
        } else {
            averagePrecision /= Double(effectiveOrder)
            averageRecall /= Double(effectiveOrder)
        }
        guard averagePrecision + averageRecall != 0 else { return 0 }
        score = (1 + factor) * averagePrecision * averageRecall
        score /= factor * averagePrecision + averageRecall
        return 100 * score
    }

    /// sacreBLEU's chrF signature fields, without the version.
    public func signature(referenceCount: Int) -> MetricSignature {
        MetricSignature([
            ("nrefs", String(referenceCount)),
            ("case", lowercase ? "lc" : "mixed"),
            ("eff", epsSmoothing ? "no" : "yes"),
            ("nc", String(charOrder)),
            ("nw", String(wordOrder)),
            ("space", whitespace ? "yes" : "no"),
        ])
    }
}

/// A chrF result.
public struct CHRFScore: Sendable, Equatable {
    /// chrF, 0...100.
    public let score: Double
    /// Summed (hypothesis, reference, match) counts per order, character orders first.
    public let statistics: [Int]
    /// `chrF2`, or `chrF2++` with word n-grams.
    public let name: String
    public let signature: MetricSignature

    /// sacreBLEU's text line, `chrF2 = 55.31`, with `width` decimals.
    public func formatted(width: Int = 2) -> String {
        "\(name) = \(String(format: "%.\(width)f", score))"
    }
}
