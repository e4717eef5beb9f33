import Foundation

/// The text side of an imported HAT/fairseq model, kept beside its checkpoint (`hat import
/// --dictionaries`): `vocabulary.json` names the two fairseq dictionaries, the subword-nmt BPE
/// codes (if the model uses BPE) and the languages, so `hat translate` and `hat test` turn raw text
/// into the model's ids the way HAT's preparation scripts did.
public struct FairseqVocabulary: Codable, Equatable, Sendable {
    public static let manifestName = "vocabulary.json"
    public static let formatName = "hat-fairseq-vocabulary-v1"

    public var format = FairseqVocabulary.formatName
    public var sourceLanguage: String
    public var targetLanguage: String
    /// File names inside the folder.
    public var sourceDictionary: String
    public var targetDictionary: String
    public var bpeCodes: String?
    /// Whether text is Moses-tokenized before BPE (HAT's and fairseq's WMT and IWSLT scripts).
    public var moses: Bool

    public init(
        sourceLanguage: String, targetLanguage: String, sourceDictionary: String, targetDictionary: String,
        bpeCodes: String?, moses: Bool
    ) {
        self.sourceLanguage = sourceLanguage
        self.targetLanguage = targetLanguage
        self.sourceDictionary = sourceDictionary
        self.targetDictionary = targetDictionary
        self.bpeCodes = bpeCodes
        self.moses = moses
    }

    /// The manifest in `folder`, or nil when it has none (not an imported model's folder).
    public static func read(folder: URL) throws -> FairseqVocabulary? {
        let url = folder.appendingPathComponent(manifestName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let vocabulary: FairseqVocabulary
        do {
            vocabulary = try JSONDecoder().decode(FairseqVocabulary.self, from: Data(contentsOf: url))
        } catch {
            throw DataError.io(path: url.path, reason: "is not a vocabulary manifest (\(error)); write it again with hat import --dictionaries")
        }
        guard vocabulary.format == formatName else {
            throw DataError.io(path: url.path, reason: "has format '\(vocabulary.format)', this hat reads '\(formatName)'")
        }
        return vocabulary
    }

    public func write(folder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(self), to: folder.appendingPathComponent(Self.manifestName))
    }

    /// The source and target codecs, read from the files in `folder`.
    public func codecs(folder: URL) throws -> (source: FairseqTextCodec, target: FairseqTextCodec) {
        let bpe = try bpeCodes.map { try SubwordBPE(codesPath: folder.appendingPathComponent($0).path) }
        let source = try FairseqDictionary(path: folder.appendingPathComponent(sourceDictionary).path)
        let target = targetDictionary == sourceDictionary ? source : try FairseqDictionary(path: folder.appendingPathComponent(targetDictionary).path)
        return (
            try FairseqTextCodec(dictionary: source, language: sourceLanguage, bpe: bpe, moses: moses),
            try FairseqTextCodec(dictionary: target, language: targetLanguage, bpe: bpe, moses: moses)
        )
    }

    /// The file names this vocabulary consists of, its manifest first.
    public var fileNames: [String] {
        var seen = Set<String>()
        return ([Self.manifestName, sourceDictionary, targetDictionary] + (bpeCodes.map { [$0] } ?? [])).filter { seen.insert($0).inserted }
    }

    /// Copies the manifest and its files from `folder` into `destination` (each file atomically),
    /// so checkpoints written there (fine-tuning an imported model) keep their text pipeline beside them.
    public func copy(from folder: URL, to destination: URL) throws {
        for name in fileNames {
            let source = folder.appendingPathComponent(name)
            let bytes: Data
            do { bytes = try Data(contentsOf: source) } catch {
                throw DataError.io(path: source.path, reason: "cannot be read: \(error.localizedDescription)")
            }
            try AtomicFile.write(bytes, to: destination.appendingPathComponent(name))
        }
    }
}
