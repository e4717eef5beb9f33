import Datasets
import Foundation
import Model
import NN
import TensorEngine
import Train

/// A HAT/fairseq checkpoint (SuperTransformer or SubTransformer, any torch.save layout) as a
/// `hat` checkpoint: the same weights under our names, the space and training settings from its
/// `args`, and for a SubTransformer its configuration (docs/ARCHITECTURE.md, "HATFiles").
///
/// Parameter names are fairseq's on both sides; what differs: a shared table (`share_all_embeddings`)
/// is stored by fairseq under both `encoder.` and `decoder.embed_tokens.weight` and once by us as
/// `embed_tokens.weight`; `*.version` and the positional placeholders `*.embed_positions._float_tensor`
/// (uninitialized memory in HAT's files) carry no weights. Everything else must match name for
/// name and shape for shape, or the import stops naming what differs.
public struct HATCheckpointImporter {
    public let checkpoint: TorchCheckpointFile
    public let arguments: HATArguments
    public let space: SearchSpace
    public let training: TrainingConfig
    public let subTransformer: SubTransformerConfig?
    public let sourceVocabSize: Int
    public let targetVocabSize: Int
    /// Our parameter name → the checkpoint's tensor.
    public let tensors: [(name: String, shape: [Int], source: TorchTensorReference)]
    /// The checkpoint's last update count (`optimizer_history`), for the record.
    public let updates: Int?

    static func ignored(_ name: String) -> Bool { name.hasSuffix(".version") || name.hasSuffix(".embed_positions._float_tensor") }

    public init(path: String) throws {
        checkpoint = try TorchCheckpointFile(path: path)
        arguments = try HATArguments(checkpoint: checkpoint)
        func fail(_ reason: String) -> TorchCheckpointError { TorchCheckpointError(path, reason) }
        let argsFile = "\(path) (its args)"
        space = try SearchSpace(file: HATConfigFile(text: arguments.spaceYAML, path: argsFile))
        training = try TrainingConfig(file: HATConfigFile(text: arguments.spaceYAML, path: argsFile))
        if arguments.isSubTransformer {
            subTransformer = try space.subTransformer(file: HATConfigFile(text: arguments.subTransformerYAML, path: argsFile))
        } else {
            subTransformer = nil
        }
        guard let stateDict = checkpoint.object["model"]?.entries else { throw fail("has no 'model' state dict") }
        var weights: [String: TorchTensorReference] = [:]
        for (key, value) in stateDict.items {
            guard case .string(let name) = key, case .tensor(let t) = value else { throw fail("'model' holds \(key) = \(value), not a named tensor") }
            weights[name] = t
        }
        guard let sourceTable = weights["encoder.embed_tokens.weight"] else { throw fail("has no encoder.embed_tokens.weight") }
        let targetTable = weights["decoder.embed_tokens.weight"] ?? sourceTable
        guard sourceTable.shape.count == 2, targetTable.shape.count == 2 else { throw fail("the embedding tables are not matrices") }
        sourceVocabSize = sourceTable.shape[0]
        targetVocabSize = targetTable.shape[0]
        if space.shareAllEmbeddings, sourceTable != targetTable, sourceTable.shape != targetTable.shape {
            throw fail("args share all embeddings, but the encoder's table is \(sourceTable.shape) and the decoder's \(targetTable.shape)")
        }
        // The names and shapes our model has for this space and these vocabularies.
        var rng = RandomGenerator(seed: 0)
        let expected = SuperTransformer(
            space: space, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize,
            rates: .none, rng: &rng
        ).namedParameters().map { ($0.name, $0.tensor.shape) }
        var used = Set<String>()
        var mapped: [(String, [Int], TorchTensorReference)] = []
        var problems: [String] = []
        for (name, shape) in expected {
            let source = name == "embed_tokens.weight" ? "encoder.embed_tokens.weight" : name
            guard let t = weights[source] else {
                problems.append("\(source) is missing (the args describe a model that has it)")
                continue
            }
            used.insert(source)
            if t.shape != shape {
                problems.append("\(source) has shape \(t.shape); the args (\(Self.describe(space))) give \(shape)")
            }
            mapped.append((name, shape, t))
        }
        if space.shareAllEmbeddings, weights["decoder.embed_tokens.weight"] != nil { used.insert("decoder.embed_tokens.weight") }
        let unknown = weights.keys.filter { !used.contains($0) && !Self.ignored($0) }.sorted()
        if !unknown.isEmpty {
            problems.append(
                "parameters this model does not have: " + unknown.prefix(12).joined(separator: ", ")
                    + (unknown.count > 12 ? " and \(unknown.count - 12) more" : ""))
        }
        guard problems.isEmpty else {
            throw fail(
                "its weights do not match its args:\n  " + problems.prefix(20).joined(separator: "\n  ")
                    + (problems.count > 20 ? "\n  … and \(problems.count - 20) more" : ""))
        }
        tensors = mapped
        updates = checkpoint.object["optimizer_history"]?.elements?.last?["num_updates"]?.int
    }

    static func describe(_ s: SearchSpace) -> String {
        "embed \(s.encoderEmbedDim)/\(s.decoderEmbedDim), FFN \(s.encoderFFNDim)/\(s.decoderFFNDim), layers \(s.encoderLayers)/\(s.decoderLayers), qkv \(s.qkvDim)"
    }

    /// Our checkpoint's state for these weights: update 0 of a run with the args' training settings
    /// (an imported model is a starting point: `--init-from`, translation, search, export).
    public var state: CheckpointState {
        .start(
            space: space, subTransformer: subTransformer, training: training, sourceVocabSize: sourceVocabSize,
            targetVocabSize: targetVocabSize, data: nil)
    }

    /// Writes the checkpoint, one tensor at a time (memory: the largest tensor, not the model).
    public func writeCheckpoint(to url: URL) throws {
        let byName = Dictionary(uniqueKeysWithValues: tensors.map { ($0.name, $0.source) })
        try Checkpoint.writeStreaming(to: url, state: state, parameters: tensors.map { ($0.name, $0.shape) }) { name in
            let values = try checkpoint.floats(byName[name]!)
            if let bad = values.firstIndex(where: { !$0.isFinite }) {
                throw TorchCheckpointError(checkpoint.path, "tensor \(name) holds \(values[bad]) at element \(bad): not a usable weight")
            }
            return values
        }
    }

    /// The files `writeFolder` makes.
    public static let checkpointFile = "checkpoint.safetensors", spaceFile = "space.yml", subTransformerFile = "subtransformer.yml"

    /// Writes the import as a folder: `checkpoint.safetensors`, `space.yml` (the space and training
    /// settings of the args) and, for a SubTransformer, `subtransformer.yml`. The folder appears whole
    /// or not at all (written beside it, then renamed); an existing folder that is not empty is
    /// never touched. Returns the files written.
    @discardableResult
    public func writeFolder(_ folder: URL, vocabulary: VocabularySource? = nil) throws -> [URL] {
        // The vocabulary is checked before anything is written.
        let text = try vocabulary.map { try textFiles($0) }
        let fm = FileManager.default
        let destination = folder.standardizedFileURL
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: destination.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue else { throw TorchCheckpointError(destination.path, "is a file: give a folder for the import") }
            guard (try? fm.contentsOfDirectory(atPath: destination.path))?.isEmpty == true else {
                throw TorchCheckpointError(destination.path, "exists and is not empty: give a new folder for the import (nothing was written)")
            }
        }
        let output = try AtomicDirectory(destination: destination) { _ in true }  // at most an empty folder is replaced (checked above)
        do {
            try writeCheckpoint(to: output.temporary.appendingPathComponent(Self.checkpointFile))
            try Data(arguments.spaceYAML.utf8).write(to: output.temporary.appendingPathComponent(Self.spaceFile))
            if subTransformer != nil {
                try Data(arguments.subTransformerYAML.utf8).write(to: output.temporary.appendingPathComponent(Self.subTransformerFile))
            }
            if let text {
                for (from, name) in text.copies { try fm.copyItem(at: from, to: output.temporary.appendingPathComponent(name)) }
                try text.manifest.write(folder: output.temporary)
            }
            try output.commit()
        } catch {
            output.discard()
            throw error
        }
        return
            ([Self.checkpointFile, Self.spaceFile] + (subTransformer != nil ? [Self.subTransformerFile] : [])
            + (text.map { $0.copies.map(\.name) + [FairseqVocabulary.manifestName] } ?? []))
            .map { destination.appendingPathComponent($0) }
    }

    /// Where the model's text files are: a folder with fairseq's `dict.LANG.txt` for both languages
    /// (a data-bin folder of fairseq-preprocess or HAT's downloads), the subword-nmt codes, and
    /// whether text is Moses-tokenized.
    public struct VocabularySource {
        public var dictionaries: URL
        public var bpeCodes: URL?
        public var moses: Bool
        public init(dictionaries: URL, bpeCodes: URL?, moses: Bool) {
            self.dictionaries = dictionaries
            self.bpeCodes = bpeCodes
            self.moses = moses
        }
    }

    /// The files to copy and the manifest, after checking that the dictionaries fit the embeddings.
    func textFiles(_ v: VocabularySource) throws -> (copies: [(from: URL, name: String)], manifest: FairseqVocabulary) {
        guard let source = arguments.values["source_lang"]?.string, let target = arguments.values["target_lang"]?.string else {
            throw TorchCheckpointError(checkpoint.path, "its args name no source_lang and target_lang, so the dictionaries dict.LANG.txt cannot be found")
        }
        var copies: [(URL, String)] = []
        for (language, size) in [(source, sourceVocabSize), (target, targetVocabSize)] {
            let url = v.dictionaries.appendingPathComponent("dict.\(language).txt")
            guard FileManager.default.fileExists(atPath: url.path) else {
                throw TorchCheckpointError(
                    url.path, "is missing: --dictionaries must hold dict.\(source).txt and dict.\(target).txt (fairseq's data-bin folder)")
            }
            let dictionary = try FairseqDictionary(path: url.path)
            guard dictionary.count == size else {
                throw TorchCheckpointError(
                    url.path,
                    "has \(dictionary.count) symbols (4 special + \(dictionary.count - 4) lines), the model's \(language == source ? "source" : "target") embedding \(size) rows: not this model's dictionary"
                )
            }
            copies.append((url, url.lastPathComponent))
        }
        if let codes = v.bpeCodes {
            _ = try SubwordBPE(codesPath: codes.path)  // refuse codes that do not parse before writing anything
            copies.append((codes, "bpecodes"))
        }
        let manifest = FairseqVocabulary(
            sourceLanguage: source, targetLanguage: target, sourceDictionary: "dict.\(source).txt",
            targetDictionary: "dict.\(target).txt", bpeCodes: v.bpeCodes == nil ? nil : "bpecodes", moses: v.moses)
        return (copies, manifest)
    }
}
