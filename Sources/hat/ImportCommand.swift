import ArgumentParser
import Foundation
import HATFiles

/// `hat import`: a checkpoint of HAT's (or fairseq's) train.py as a `hat` checkpoint folder.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Import a HAT/fairseq checkpoint (.pt, any PyTorch layout): SuperTransformer or SubTransformer.",
        discussion: """
            Reads the file without Python and without running anything it names (a restricted pickle reader: \
            tensors, OrderedDict, argparse.Namespace and fairseq's meters only). Writes OUT/checkpoint.safetensors, \
            OUT/space.yml (the SuperTransformer, its choices and training settings, from the checkpoint's args), \
            for a SubTransformer OUT/subtransformer.yml, and with --dictionaries the model's text files (fairseq \
            dictionaries, BPE codes) with OUT/vocabulary.json, so that hat translate and hat test read raw text. \
            The optimizer state is skipped.
            """
    )

    @Argument(help: "The HAT/fairseq checkpoint (e.g. HAT_wmt14ende_super_space0.pt).") var checkpoint: String
    @Option(help: "Folder to create for the import (must not exist, or be empty).") var out: String
    @Option(help: "Folder with the model's fairseq dictionaries dict.SRC.txt and dict.TGT.txt (a data-bin folder); then translate and test take raw text.")
    var dictionaries: String?
    @Option(name: .customLong("bpe-codes"), help: "The subword-nmt BPE codes the model's data was segmented with.") var bpeCodes: String?
    @Flag(name: .customLong("no-moses"), help: "The model's text is not Moses-tokenized (HAT's and fairseq's scripts tokenize it).")
    var noMoses = false

    func validate() throws {
        if bpeCodes != nil && dictionaries == nil { throw ValidationError("--bpe-codes needs --dictionaries") }
    }

    func run() throws {
        try OutputPath.checkFolder(out, option: "--out")
        let start = Date()
        let importer = try HATCheckpointImporter(path: checkpoint)
        let vocabulary = dictionaries.map {
            HATCheckpointImporter.VocabularySource(
                dictionaries: URL(fileURLWithPath: $0), bpeCodes: bpeCodes.map { URL(fileURLWithPath: $0) },
                moses: !noMoses)
        }
        let files = try importer.writeFolder(URL(fileURLWithPath: out), vocabulary: vocabulary)
        let kind = importer.subTransformer.map { "SubTransformer \($0)" } ?? "SuperTransformer"
        let count = importer.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        print(
            "imported \(checkpoint) (\(importer.checkpoint.layout.rawValue) layout\(importer.updates.map { ", \($0) updates" } ?? "")): "
                + "\(kind), \(importer.tensors.count) tensors, \(String(format: "%.2f", Double(count) / 1e6)) M weights, "
                + "vocabularies \(importer.sourceVocabSize)/\(importer.targetVocabSize), in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        for f in files { print("  \(f.path)") }
    }
}
