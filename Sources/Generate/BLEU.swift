import Foundation

/// Corpus-level BLEU (Papineni et al., 2002), computed exactly as sacreBLEU 2.x computes it
/// (`sacrebleu/metrics/bleu.py`, Post 2018, "A Call for Clarity in Reporting BLEU Scores"), so
/// scores are comparable with published sacreBLEU numbers. The defaults are sacreBLEU's:
/// 4-grams, exponential smoothing, case-sensitive, the `13a` tokenizer, no effective order.
///
/// How a corpus is scored:
/// - each line is lowercased (if asked; Python's `str.lower()`), right-stripped and tokenized;
///   tokens are what lies between whitespace;
/// - per segment, hypothesis n-gram counts are clipped by the largest count of that n-gram in
///   any one reference; the reference length is the one closest to the hypothesis length
///   (the shorter on a tie), as in mteval and sacreBLEU;
/// - counts and lengths are summed over the corpus, then
///   `BLEU = BP · exp(Σₙ log pₙ / N)` with `BP = exp(1 − ref_len / hyp_len)` when the
///   hypotheses are shorter, else 1.
///
/// ```swift
/// let score = try BLEU().corpusScore(hypotheses: hyps, references: [refs])
/// print(score.formatted())   // BLEU = 34.12 65.3/40.1/27.0/18.9 (BP = 0.981 ratio = ...)
/// print(score.signature)     // nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:hat
/// ```
public struct BLEU: Sendable {
    /// How a zero n-gram precision is treated (Chen and Cherry, 2014, "A Systematic Comparison
    /// of Smoothing Techniques for Sentence-Level BLEU"); names as in sacreBLEU's `--smooth-method`.
    public enum Smoothing: Sendable, Equatable {
        /// No smoothing: one zero precision makes BLEU 0 (multi-bleu.perl, fairseq).
        case none
        /// Method 1: a zero count becomes `value` (sacreBLEU default 0.1).
        case floor(Double = 0.1)
        /// Method 2: `value` is added to the counts and totals of orders 2 and up (default 1).
        case addK(Double = 1)
        /// Method 3, NIST's (mteval-v13a): the k-th zero precision becomes 1 / (2^k · total).
        /// sacreBLEU's default.
        case exp

        /// The signature form: `exp`, `none`, `floor[0.10]`, `add-k[1.00]`.
        public var signature: String {
            switch self {
            case .none: return "none"
            case .exp: return "exp"
            case .floor(let v): return "floor[\(String(format: "%.2f", v))]"
            case .addK(let v): return "add-k[\(String(format: "%.2f", v))]"
            }
        }
    }

    public var tokenizer: BLEUTokenizer
    public var lowercase: Bool
    public var smoothing: Smoothing
    /// The largest n-gram order (4 in BLEU).
    public var maxNgramOrder: Int
    /// Average only the orders the hypotheses have n-grams of (for sentence-level BLEU of short
    /// segments); off for corpus BLEU, as in sacreBLEU.
    public var effectiveOrder: Bool

    public init(
        tokenizer: BLEUTokenizer = .thirteenA, lowercase: Bool = false, smoothing: Smoothing = .exp,
        maxNgramOrder: Int = 4, effectiveOrder: Bool = false
    ) {
        precondition(maxNgramOrder >= 1, "maxNgramOrder must be at least 1")
        self.tokenizer = tokenizer
        self.lowercase = lowercase
        self.smoothing = smoothing
        self.maxNgramOrder = maxNgramOrder
        self.effectiveOrder = effectiveOrder
    }

    /// "Tokenized BLEU", the number HAT (fairseq's `score.py`, multi-bleu.perl) reports: BLEU on
    /// text that is already tokenized, words split at whitespace, no smoothing. Its signature
    /// says `tok:none|smooth:none`. Not comparable with sacreBLEU's default detokenized BLEU.
    public static func tokenized(lowercase: Bool = false) -> BLEU {
        BLEU(tokenizer: .none, lowercase: lowercase, smoothing: .none)
    }

    /// BLEU of the hypotheses against one or more line-aligned reference streams
    /// (`references[k][i]` is the k-th reference of segment i).
    /// - Throws: `ScoreError` when the line counts differ or nothing is given.
    public func corpusScore(hypotheses: [String], references: [[String]]) throws -> BLEUScore {
        try corpusScore(ScoringCorpus(hypotheses: hypotheses, references: references))
    }

    /// BLEU of a checked corpus.
    public func corpusScore(_ corpus: ScoringCorpus) -> BLEUScore {
        var total = BLEUStatistics(maxNgramOrder: maxNgramOrder)
        for i in 0..<corpus.count {
            total += segmentStatistics(hypothesis: corpus.hypotheses[i], references: corpus.references(ofSegment: i))
        }
        return score(total, referenceCount: corpus.references.count)
    }

    /// The sufficient statistics of one segment (sacreBLEU's `_compute_segment_statistics`);
    /// sums of these give corpus BLEU through `score(_:referenceCount:)`.
    public func segmentStatistics(hypothesis: String, references: [String]) -> BLEUStatistics {
        precondition(!references.isEmpty, "a segment needs at least one reference")
        var tokens = TokenInterner(), ngrams = NGramInterner()

        // Reference n-gram counts, merged over references by maximum.
        var referenceCounts = NGramBag()
        var referenceLengths: [Int] = []
        for reference in references {
            let ids = tokens.ids(words(reference))
            referenceLengths.append(ids.count)
            referenceCounts.formMaximum(ngrams.countAll(ids, maxOrder: maxNgramOrder))
        }

        let ids = tokens.ids(words(hypothesis))
        var stats = BLEUStatistics(maxNgramOrder: maxNgramOrder)
        stats.hypothesisLength = ids.count
        stats.referenceLength = Self.closestReferenceLength(ids.count, referenceLengths)
        let hypothesisCounts = ngrams.countAll(ids, maxOrder: maxNgramOrder)
        for id in hypothesisCounts.distinct {
            let n = ngrams.orders[id] - 1, count = hypothesisCounts[id]
            stats.totals[n] += count
            stats.counts[n] += min(count, referenceCounts[id])
        }
        return stats
    }

    /// sacreBLEU's `_preprocess_segment` then `split()`: lowercase, rstrip, tokenize, words.
    func words(_ line: String) -> [ArraySlice<Unicode.Scalar>] {
        var scalars = PythonText.scalars(line)
        if lowercase { scalars = PythonText.lower(scalars) }
        return PythonText.split(tokenizer.tokenize(PythonText.rstrip(scalars)))
    }

    /// The reference length closest to the hypothesis length, the shorter one on a tie
    /// (sacreBLEU's `_get_closest_ref_len`, mteval's "closest" rule).
    static func closestReferenceLength(_ hypothesisLength: Int, _ referenceLengths: [Int]) -> Int {
        var closestDiff = -1, closestLength = -1
        for length in referenceLengths {
            let diff = abs(hypothesisLength - length)
            if closestDiff == -1 || diff < closestDiff {
                closestDiff = diff
                closestLength = length
            } else if diff == closestDiff && length < closestLength {
                closestLength = length
            }
        }
        return closestLength
    }

    /// BLEU from summed statistics (sacreBLEU's `compute_bleu`, operation for operation, so the
    /// floating-point result is the same).
    public func score(_ stats: BLEUStatistics, referenceCount: Int) -> BLEUScore {
        precondition(stats.counts.count == maxNgramOrder, "statistics of another n-gram order")
        let sysLen = stats.hypothesisLength, refLen = stats.referenceLength
        var bp = 1.0
        if sysLen < refLen {
            bp = sysLen > 0 ? Foundation.exp(1 - Double(refLen) / Double(sysLen)) : 0.0
        }
        var precisions = [Double](repeating: 0, count: maxNgramOrder)
        func result(_ score: Double) -> BLEUScore {
            BLEUScore(
                score: score, counts: stats.counts, totals: stats.totals, precisions: precisions, bp: bp,
                sysLen: sysLen, refLen: refLen, signature: signature(referenceCount: referenceCount))
        }
        // No match at all: 0 whatever the smoothing (sacreBLEU #141).
        if stats.counts.allSatisfy({ $0 == 0 }) { return result(0) }

        var correct = stats.counts.map(Double.init), total = stats.totals.map(Double.init)
        var smoothMteval = 1.0
        var order = maxNgramOrder
        for n in 1...maxNgramOrder {
            if case .addK(let k) = smoothing, n > 1 {
                correct[n - 1] += k
                total[n - 1] += k
            }
            if total[n - 1] == 0 { break }
            if effectiveOrder { order = n }
            if correct[n - 1] == 0 {
                switch smoothing {
                case .exp:
                    smoothMteval *= 2
                    precisions[n - 1] = 100.0 / (smoothMteval * total[n - 1])
                case .floor(let value):
                    precisions[n - 1] = 100.0 * value / total[n - 1]
                case .none, .addK:
                    break
                }
            } else {
                precisions[n - 1] = 100.0 * correct[n - 1] / total[n - 1]
            }
        }
        // sacreBLEU's my_log: log(0) is floored at −9999999999, which makes BLEU 0.
        let logSum = precisions[..<order].reduce(0.0) { $0 + ($1 == 0 ? -9_999_999_999 : Foundation.log($1)) }
        return result(bp * Foundation.exp(logSum / Double(order)))
    }

    /// sacreBLEU's BLEU signature fields, without the version.
    public func signature(referenceCount: Int) -> MetricSignature {
        MetricSignature([
            ("nrefs", String(referenceCount)),
            ("case", lowercase ? "lc" : "mixed"),
            ("eff", effectiveOrder ? "yes" : "no"),
            ("tok", tokenizer.name),
            ("smooth", smoothing.signature),
        ])
    }
}

/// BLEU's sufficient statistics, summed over segments: lengths, and per order the clipped
/// matches (`counts`) and the hypothesis n-grams (`totals`).
public struct BLEUStatistics: Sendable, Equatable, Codable {
    public var hypothesisLength = 0
    public var referenceLength = 0
    public var counts: [Int]
    public var totals: [Int]

    public init(maxNgramOrder: Int = 4) {
        counts = [Int](repeating: 0, count: maxNgramOrder)
        totals = counts
    }

    public static func += (lhs: inout BLEUStatistics, rhs: BLEUStatistics) {
        precondition(lhs.counts.count == rhs.counts.count, "adding statistics of different n-gram orders")
        lhs.hypothesisLength += rhs.hypothesisLength
        lhs.referenceLength += rhs.referenceLength
        for n in lhs.counts.indices {
            lhs.counts[n] += rhs.counts[n]
            lhs.totals[n] += rhs.totals[n]
        }
    }
}
