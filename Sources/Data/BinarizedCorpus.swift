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
}

/// Opens `directory` as a fairseq data-bin folder when it looks like one (`*.idx` beside
/// `dict.*.txt`), else as our prepared dataset folder (its `manifest.json`).
public func openBinarizedCorpus(_ directory: String) throws -> any BinarizedCorpus {
    FairseqDataBin.isDataBin(directory) ? try FairseqDataBin(directory: directory) : try PreparedDataset(directory: directory)
}

extension PreparedDataset: BinarizedCorpus {
    public var vocabularySizes: (source: Int, target: Int) { (sourceVocabulary.size, targetVocabulary.size) }
}

extension FairseqDataBin: BinarizedCorpus {
    public var vocabularySizes: (source: Int, target: Int) { (sourceDictionary.count, targetDictionary.count) }
}
