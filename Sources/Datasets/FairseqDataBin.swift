import Foundation

/// A fairseq data-bin folder (`fairseq-preprocess --destdir`, HAT's preprocessed downloads): the
/// dictionaries `dict.SRC.txt` and `dict.TGT.txt` and, per split, `SPLIT.SRC-TGT.LANG.idx/.bin`
/// for both languages (`FairseqIndexedDataset`). A `BinarizedCorpus`: read wherever training, a
/// search or a test reads a split of our own dataset folders.
public struct FairseqDataBin: Sendable {
    public let directory: String
    public let sourceLanguage: String
    public let targetLanguage: String
    public let sourceDictionary: FairseqDictionary
    public let targetDictionary: FairseqDictionary

    /// Whether `directory` looks like a data-bin folder (some `*.idx` beside `dict.*.txt`), without reading it.
    public static func isDataBin(_ directory: String) -> Bool {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return false }
        return files.contains { $0.hasSuffix(".idx") } && files.contains { $0.hasPrefix("dict.") && $0.hasSuffix(".txt") }
    }

    /// Opens the folder; the language pair is taken from the split files (`valid.de-en.de.idx`)
    /// unless given.
    public init(directory: String, languages: (source: String, target: String)? = nil) throws {
        self.directory = directory
        let pair: (String, String)
        if let languages {
            pair = languages
        } else {
            let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
            // SPLIT.SRC-TGT.LANG.idx: the pair is the second dot-separated field.
            let pairs = Set(
                files.filter { $0.hasSuffix(".idx") }.compactMap { name -> String? in
                    let parts = name.split(separator: ".")
                    return parts.count == 4 && parts[1].contains("-") ? String(parts[1]) : nil
                })
            guard pairs.count == 1, let only = pairs.first, case let sides = only.split(separator: "-"), sides.count == 2 else {
                throw DataError.invalidArgument(
                    "\(directory): cannot tell the language pair of this data-bin folder "
                        + (pairs.isEmpty ? "(no SPLIT.SRC-TGT.LANG.idx files)" : "(it has \(pairs.sorted().joined(separator: ", ")))"))
            }
            pair = (String(sides[0]), String(sides[1]))
        }
        (sourceLanguage, targetLanguage) = pair
        let folder = URL(fileURLWithPath: directory)
        sourceDictionary = try FairseqDictionary(path: folder.appendingPathComponent("dict.\(pair.0).txt").path)
        targetDictionary = try FairseqDictionary(path: folder.appendingPathComponent("dict.\(pair.1).txt").path)
    }

    /// One split as sentence pairs (the ids as stored: pieces, then eos).
    public func split(_ name: String) throws -> TranslationDataset {
        let prefix = URL(fileURLWithPath: directory).appendingPathComponent("\(name).\(sourceLanguage)-\(targetLanguage)").path
        let source = try FairseqIndexedDataset(prefix: "\(prefix).\(sourceLanguage)")
        let target = try FairseqIndexedDataset(prefix: "\(prefix).\(targetLanguage)")
        guard source.count == target.count else {
            throw DataError.io(path: prefix, reason: "has \(source.count) source and \(target.count) target sentences: not one split")
        }
        for (dataset, dictionary) in [(source, sourceDictionary), (target, targetDictionary)] {
            if let bad = dataset.tokens.first(where: { Int($0) >= dictionary.count }) {
                throw DataError.io(path: dataset.prefix + ".bin", reason: "holds id \(bad), beyond its dictionary of \(dictionary.count) symbols")
            }
            // fairseq-preprocess ends every sentence with eos (an empty line too); the batches rely on it.
            if let bad = (0..<dataset.count).first(where: {
                dataset.offsets[$0 + 1] == dataset.offsets[$0] || dataset.tokens[dataset.offsets[$0 + 1] - 1] != Vocabulary.eosID
            }) {
                throw DataError.io(
                    path: dataset.prefix + ".bin", reason: "sentence \(bad) does not end with eos (\(Vocabulary.eosID)): not written by fairseq-preprocess?")
            }
        }
        return TranslationDataset(
            sourceTokens: source.tokens, sourceOffsets: source.offsets,
            targetTokens: target.tokens, targetOffsets: target.offsets)
    }
}
