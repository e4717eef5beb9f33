import Datasets

/// Hypotheses and their line-aligned reference streams, checked once for every metric.
///
/// `references[k][i]` is the k-th reference of segment i, the layout of sacreBLEU's
/// `corpus_score(hyps, [refs1, refs2, ...])`. An empty reference line is still a reference
/// (length 0), as in sacreBLEU.
public struct ScoringCorpus: Sendable {
    public let hypotheses: [String]
    public let references: [[String]]
    /// Names used in error messages (file paths when read from files).
    public let hypothesisName: String
    public let referenceNames: [String]

    /// The number of segments.
    public var count: Int { hypotheses.count }

    /// Checks that there is at least one reference stream, at least one line, and that every
    /// stream has as many lines as the hypotheses.
    /// - Throws: `ScoreError.noReferences`, `.emptyCorpus`, `.lineCountMismatch` naming both sides.
    public init(
        hypotheses: [String], references: [[String]], hypothesisName: String = "the hypotheses",
        referenceNames: [String]? = nil
    ) throws {
        let names =
            referenceNames
            ?? references.indices.map {
                references.count == 1 ? "the references" : "reference stream \($0 + 1)"
            }
        precondition(names.count == references.count, "one name per reference stream")
        guard !references.isEmpty else { throw ScoreError.noReferences }
        for (stream, name) in zip(references, names) where stream.count != hypotheses.count {
            throw ScoreError.lineCountMismatch(
                hypothesis: hypothesisName, hypothesisLines: hypotheses.count, reference: name, referenceLines: stream.count)
        }
        guard !hypotheses.isEmpty else { throw ScoreError.emptyCorpus(hypothesis: hypothesisName) }
        self.hypotheses = hypotheses
        self.references = references
        self.hypothesisName = hypothesisName
        self.referenceNames = names
    }

    /// Reads a hypothesis file and reference files (plain or gzip, UTF-8, one segment a line; a
    /// final newline does not add a line, a trailing "\r" is dropped).
    /// - Throws: `DataError.missingFile`, `.unreadableFile`, `.invalidUTF8` (file and line), and
    ///   `ScoreError.lineCountMismatch` naming both files and both counts.
    public static func read(hypothesisFile: String, referenceFiles: [String]) throws -> ScoringCorpus {
        let hypotheses = try TextFile(path: hypothesisFile).lines
        let references = try referenceFiles.map { try TextFile(path: $0).lines }
        return try ScoringCorpus(
            hypotheses: hypotheses, references: references,
            hypothesisName: "hypothesis file \(hypothesisFile)",
            referenceNames: referenceFiles.map { "reference file \($0)" })
    }

    /// The references of segment `i`, one per stream.
    func references(ofSegment i: Int) -> [String] {
        references.map { $0[i] }
    }
}
