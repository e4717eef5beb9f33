import Foundation

/// `manifest.json` of a prepared dataset folder: what was built from what, with which settings,
/// and checksums of inputs and outputs (file format: docs/ARCHITECTURE.md, "Data files").
public struct DatasetManifest: Codable, Equatable, Sendable {
    public static let formatName = "hat-translation-dataset"
    public static let currentVersion = 1
    public static let fileName = "manifest.json"

    public var format: String = formatName
    public var version: Int = currentVersion
    /// The tool that wrote it, e.g. "hat data prepare (format 1)".
    public var createdBy: String
    public var sourceLanguage: String
    public var targetLanguage: String
    /// SHA-256 over the settings and the input checksums: equal fingerprints mean the same work.
    public var fingerprint: String
    public var vocabulary: VocabularyInfo
    public var filters: FilterSettings
    public var inputs: [InputFile]
    public var splits: [SplitInfo]
    /// SHA-256 of every output file, by file name.
    public var files: [String: String]

    public struct VocabularyInfo: Codable, Equatable, Sendable {
        /// One model for both languages (needed for shared embeddings).
        public var shared: Bool
        public var modelType: VocabularyTrainer.ModelType
        /// The `--vocab-size` asked for.
        public var requestedSize: Int
        public var characterCoverage: Double
        /// Model file names in the folder (equal when shared).
        public var sourceModel: String
        public var targetModel: String
        public var sourceSize: Int
        public var targetSize: Int
        public var bosID: Int32 = Vocabulary.bosID
        public var padID: Int32 = Vocabulary.padID
        public var eosID: Int32 = Vocabulary.eosID
        public var unkID: Int32 = Vocabulary.unkID
    }

    /// One input text file.
    public struct InputFile: Codable, Equatable, Sendable {
        public var split: String
        /// "source" or "target".
        public var side: String
        public var path: String
        public var sha256: String
        public var lines: Int
    }

    /// One prepared split.
    public struct SplitInfo: Codable, Equatable, Sendable {
        public var name: String
        /// The binarized file, e.g. "train.bin".
        public var file: String
        /// The normalized, filtered text, line-aligned with the binarized sentences
        /// (e.g. "test.en.txt", "test.de.txt"): references for BLEU and for reading.
        public var sourceText: String
        public var targetText: String
        /// Line pairs read.
        public var inputPairs: Int
        /// Pairs kept.
        public var sentences: Int
        public var removed: RemovedCounts
        /// Tokens stored (each sentence's pieces plus its eos).
        public var sourceTokens: Int
        public var targetTokens: Int
        /// `<unk>` tokens (characters the vocabulary lacks; 0 for train at coverage 1.0).
        public var sourceUnknownTokens: Int
        public var targetUnknownTokens: Int
        /// Sentence lengths in tokens, eos included.
        public var sourceLength: LengthStatistics
        public var targetLength: LengthStatistics
    }

    /// Pairs removed by the filters, by reason.
    public struct RemovedCounts: Codable, Equatable, Sendable {
        /// Either side empty after normalization.
        public var empty = 0
        /// Either side longer than `maxLength` pieces (train only).
        public var overlong = 0
        /// Length ratio above `maxRatio` (train only).
        public var ratio = 0
        public var total: Int { empty + overlong + ratio }
        public init() {}
    }

    /// Distribution of sentence lengths.
    public struct LengthStatistics: Codable, Equatable, Sendable {
        public var min: Int
        public var max: Int
        public var mean: Double
        public var median: Int
        public var p95: Int
        public var p99: Int

        public init(_ lengths: [Int]) {
            guard !lengths.isEmpty else {
                self.min = 0
                self.max = 0
                mean = 0
                median = 0
                p95 = 0
                p99 = 0
                return
            }
            let sorted = lengths.sorted()
            func quantile(_ q: Double) -> Int { sorted[Swift.min(sorted.count - 1, Int((q * Double(sorted.count - 1)).rounded()))] }
            self.min = sorted.first!
            self.max = sorted.last!
            mean = Double(sorted.reduce(0, +)) / Double(sorted.count)
            median = quantile(0.5)
            p95 = quantile(0.95)
            p99 = quantile(0.99)
        }
    }

    /// The split named `name`, if prepared.
    public func split(_ name: String) -> SplitInfo? { splits.first { $0.name == name } }

    /// Every file a preparation writes into its folder: this manifest, the vocabulary models and
    /// each split's binarized and text files.
    public var fileNames: Set<String> {
        Set([Self.fileName, vocabulary.sourceModel, vocabulary.targetModel] + splits.flatMap { [$0.file, $0.sourceText, $0.targetText] })
    }

    /// Whether a preparation may replace `folder`: it is empty, or it is recognizably a dataset
    /// folder we wrote (its manifest reads and every file in it is one the manifest names).
    /// Anything else a user keeps there makes the folder not ours to replace.
    public static func isReplaceable(_ folder: URL) -> Bool {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { return false }
        if entries.isEmpty { return true }
        guard let manifest = try? load(directory: folder.path) else { return false }
        let ours = manifest.fileNames
        return entries.allSatisfy(ours.contains)
    }

    /// Reads and checks `manifest.json` in `directory`.
    public static func load(directory: String) throws -> DatasetManifest {
        let path = URL(fileURLWithPath: directory).appendingPathComponent(fileName).path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DataError.invalidArgument(
                "dataset folder \(directory) does not exist: prepare one there with "
                    + "`hat data multi30k|prepare|builtin --out \(directory)`, or give the folder that holds it")
        }
        guard FileManager.default.fileExists(atPath: path) else {
            throw DataError.invalidArgument(
                "\(directory) is not a prepared dataset (it has no \(fileName)): prepare one with "
                    + "`hat data multi30k|prepare|builtin --out DIR` and give that folder")
        }
        let manifest: DatasetManifest
        do {
            manifest = try JSONDecoder().decode(DatasetManifest.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
        } catch {
            throw DataError.corruptDataset(path: path, reason: "unreadable manifest: \(error)")
        }
        guard manifest.format == formatName, manifest.version == currentVersion else {
            throw DataError.corruptDataset(
                path: path, reason: "format \(manifest.format) version \(manifest.version), expected \(formatName) version \(currentVersion)")
        }
        return manifest
    }

    /// Pretty, key-sorted JSON (stable across runs).
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}

/// A prepared dataset folder: its manifest, vocabularies and splits.
///
/// ```swift
/// let data = try PreparedDataset(directory: "runs/data/multi30k-en-de")
/// let train = try data.split("train")
/// var batches = try BatchIterator(dataset: train, maxTokens: 4096, seed: 1)
/// ```
public struct PreparedDataset: Sendable {
    public let directory: String
    public let manifest: DatasetManifest
    public let sourceVocabulary: Vocabulary
    /// The same object as `sourceVocabulary` when the vocabulary is shared.
    public let targetVocabulary: Vocabulary

    /// Loads the manifest and vocabularies of a folder written by `hat data prepare`.
    public init(directory: String) throws {
        self.directory = directory
        manifest = try DatasetManifest.load(directory: directory)
        let dir = URL(fileURLWithPath: directory)
        sourceVocabulary = try Vocabulary(modelPath: dir.appendingPathComponent(manifest.vocabulary.sourceModel).path)
        targetVocabulary =
            manifest.vocabulary.shared
            ? sourceVocabulary
            : try Vocabulary(modelPath: dir.appendingPathComponent(manifest.vocabulary.targetModel).path)
    }

    /// Names of the prepared splits ("train", "valid", and "test" when given).
    public var splitNames: [String] { manifest.splits.map(\.name) }

    /// Loads a binarized split, checking ids against the vocabularies.
    public func split(_ name: String) throws -> TranslationDataset {
        guard let info = manifest.split(name) else {
            throw DataError.invalidArgument("dataset \(directory) has no split \"\(name)\" (it has: \(splitNames.joined(separator: ", ")))")
        }
        let path = URL(fileURLWithPath: directory).appendingPathComponent(info.file).path
        return try TranslationDataset(path: path, vocabularySizes: (sourceVocabulary.size, targetVocabulary.size))
    }

    /// The normalized reference lines of a split's target side (line i = sentence i).
    public func targetText(_ name: String) throws -> [String] {
        guard let info = manifest.split(name) else {
            throw DataError.invalidArgument("dataset \(directory) has no split \"\(name)\"")
        }
        return try TextFile(path: URL(fileURLWithPath: directory).appendingPathComponent(info.targetText).path).lines
    }

    /// The normalized source lines of a split (line i = sentence i).
    public func sourceText(_ name: String) throws -> [String] {
        guard let info = manifest.split(name) else {
            throw DataError.invalidArgument("dataset \(directory) has no split \"\(name)\"")
        }
        return try TextFile(path: URL(fileURLWithPath: directory).appendingPathComponent(info.sourceText).path).lines
    }
}
