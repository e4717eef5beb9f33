import Foundation

/// A folder of binarized translation splits with fixed vocabularies, whoever wrote it: our own
/// (`hat data prepare`, `PreparedDataset`) or fairseq's (`fairseq-preprocess`, HAT's
/// preprocessed downloads: `FairseqDataBin`). Training, search fitness and `hat test` read splits
/// through it, so an imported HAT model trains and is searched on HAT's own data unchanged.
///
/// ```swift
/// let corpus = try openBinarizedCorpus("data-bin/wmt14_en_de")
/// let valid = try corpus.split("valid")
/// ```
public protocol BinarizedCorpus: Sendable {
    /// The folder, as given.
    var directory: String { get }
    /// Sizes of the source and target vocabularies (fairseq's dictionaries count their 4 specials).
    var vocabularySizes: (source: Int, target: Int) { get }
    /// One split as sentence pairs (ids as stored: pieces, then eos), every id checked against the vocabularies.
    func split(_ name: String) throws -> TranslationDataset
    /// SHA-256 of the vocabulary files (what ids mean): a checkpoint records it, so a folder
    /// prepared again in place with another vocabulary is noticed before its ids are misread.
    func vocabularyDigest() throws -> String
}

/// SHA-256 over the bytes of `files` in `folder`, in order.
func digest(of files: [String], in folder: String) throws -> String {
    var bytes: [UInt8] = []
    for name in files {
        let path = URL(fileURLWithPath: folder).appendingPathComponent(name).path
        guard let data = FileManager.default.contents(atPath: path) else { throw DataError.missingFile(path: path) }
        bytes += data
    }
    return SHA256.hex(bytes)
}

/// Opens `directory` as a fairseq data-bin folder when it looks like one (`*.idx` beside
/// `dict.*.txt`), else as our prepared dataset folder (its `manifest.json`).
public func openBinarizedCorpus(_ directory: String) throws -> any BinarizedCorpus {
    FairseqDataBin.isDataBin(directory) ? try FairseqDataBin(directory: directory) : try PreparedDataset(directory: directory)
}

extension PreparedDataset: BinarizedCorpus {
    public var vocabularySizes: (source: Int, target: Int) { (sourceVocabulary.size, targetVocabulary.size) }

    public func vocabularyDigest() throws -> String {
        let v = manifest.vocabulary
        return try digest(of: v.shared ? [v.sourceModel] : [v.sourceModel, v.targetModel], in: directory)
    }
}

extension FairseqDataBin: BinarizedCorpus {
    public var vocabularySizes: (source: Int, target: Int) { (sourceDictionary.count, targetDictionary.count) }

    public func vocabularyDigest() throws -> String {
        try digest(of: ["dict.\(sourceLanguage).txt", "dict.\(targetLanguage).txt"], in: directory)
    }
}
