/// HAT's reported "BLEU" (its test scripts, after fairseq's `compound_split_bleu.sh`): tokenized
/// BLEU (`BLEU.tokenized`) of Moses-tokenized hypotheses with BPE removed against Moses-tokenized
/// references, where for En-De every hyphen between two non-space characters is split off as
/// "##AT##-##AT##" on both sides first. The other number of HAT's tables is sacreBLEU on
/// detokenized text (`ScoreMetric.bleu`).
public enum HATBLEU {
    /// `perl -ple 's{(\S)-(\S)}{$1 ##AT##-##AT## $2}g'`: non-overlapping matches, left to right,
    /// so in "a-b-c" only the first hyphen is split (the "b" belongs to the first match).
    public static func compoundSplit(_ line: String) -> String {
        let s = Array(line.unicodeScalars)
        var out = String.UnicodeScalarView()
        var i = 0
        func isSpace(_ c: Unicode.Scalar) -> Bool { c.properties.isWhitespace }
        while i < s.count {
            if i + 2 < s.count, !isSpace(s[i]), s[i + 1] == "-", !isSpace(s[i + 2]) {
                out.append(s[i])
                out.append(contentsOf: " ##AT##-##AT## ".unicodeScalars)
                out.append(s[i + 2])
                i += 3
            } else {
                out.append(s[i])
                i += 1
            }
        }
        return String(out)
    }

    /// The corpus to score: tokenized hypotheses and references, compound-split when `splitCompounds`.
    public static func corpus(tokenizedHypotheses: [String], tokenizedReferences: [String], splitCompounds: Bool) throws -> ScoringCorpus {
        let prepare = { (lines: [String]) in splitCompounds ? lines.map(compoundSplit) : lines }
        return try ScoringCorpus(hypotheses: prepare(tokenizedHypotheses), references: [prepare(tokenizedReferences)])
    }
}
