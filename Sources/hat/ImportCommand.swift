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
        OUT/space.yml (the SuperTransformer, its choices and training settings, from the checkpoint's args) and, \
        for a SubTransformer, OUT/subtransformer.yml. The optimizer state is skipped.
        """
    )

    @Argument(help: "The HAT/fairseq checkpoint (e.g. HAT_wmt14ende_super_space0.pt).") var checkpoint: String
    @Option(help: "Folder to create for the import (must not exist, or be empty).") var out: String

    func run() throws {
        try OutputPath.checkFolder(out, option: "--out")
        let start = Date()
        let importer = try HATCheckpointImporter(path: checkpoint)
        let files = try importer.writeFolder(URL(fileURLWithPath: out))
        let kind = importer.subTransformer.map { "SubTransformer \($0)" } ?? "SuperTransformer"
        let count = importer.tensors.reduce(0) { $0 + $1.shape.reduce(1, *) }
        print("imported \(checkpoint) (\(importer.checkpoint.layout.rawValue) layout\(importer.updates.map { ", \($0) updates" } ?? "")): "
              + "\(kind), \(importer.tensors.count) tensors, \(String(format: "%.1f", Double(count) / 1e6)) M weights, "
              + "vocabularies \(importer.sourceVocabSize)/\(importer.targetVocabSize), in \(String(format: "%.1f", Date().timeIntervalSince(start))) s")
        for f in files { print("  \(f.path)") }
    }
}
