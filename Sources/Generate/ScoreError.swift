import Foundation

/// What can go wrong when scoring, each message saying what to fix. Missing files and
/// invalid UTF-8 come from reading the files (`DataError.missingFile`, `.invalidUTF8` with the
/// 1-based line), through the same `TextFile` reader as the data stage.
public enum ScoreError: Error, Equatable, CustomStringConvertible, LocalizedError {
    /// Hypotheses and a reference stream have different numbers of lines (sacreBLEU would
    /// silently score only the shorter prefix; a shifted line would ruin every score after it).
    case lineCountMismatch(hypothesis: String, hypothesisLines: Int, reference: String, referenceLines: Int)
    /// No reference stream was given.
    case noReferences
    /// There are no lines to score.
    case emptyCorpus(hypothesis: String)
    /// An option has a value the metric cannot use.
    case invalidOption(String)

    public var description: String {
        switch self {
        case .lineCountMismatch(let h, let hn, let r, let rn):
            return "line counts differ: \(h) has \(Self.lines(hn)) but \(r) has \(Self.lines(rn)); "
                + "hypotheses and references must be line-aligned, one hypothesis per reference line"
        case .noReferences:
            return "no references given; pass at least one reference file (--ref)"
        case .emptyCorpus(let h):
            return "\(h) has no lines; there is nothing to score"
        case .invalidOption(let message):
            return message
        }
    }

    public var errorDescription: String? { description }

    private static func lines(_ n: Int) -> String { n == 1 ? "1 line" : "\(n) lines" }
}
