import ArgumentParser
import Foundation
import Generate
import Model

/// Options shared by `hat translate` and `hat test`: the model and the search.
struct DecodingOptions: ParsableArguments {
    @Option(help: "Checkpoint (safetensors) to translate with.") var checkpoint: String
    @Option(help: "SubTransformer to run (HAT YAML); required for a SuperTransformer checkpoint.") var subtransformer: String?
    @Option(help: "Dataset directory with the vocabulary (default: the one the checkpoint was trained on).") var data: String?
    @Option(help: "Beam size (1 = greedy).") var beam: Int = 5
    @Option(help: "Length penalty (fairseq's --lenpen).") var lenpen: Double = 0.6
    @Option(name: .customLong("max-len-a"), help: "Maximum output length = a · source length + b.") var maxLenA: Double = 1.2
    @Option(name: .customLong("max-len-b"), help: "Maximum output length = a · source length + b.") var maxLenB: Int = 10
    @Option(name: .customLong("batch-sentences"), help: "Sentences translated together.") var batchSentences: Int = 32

    func validate() throws {
        if beam < 1 { throw ValidationError("--beam must be at least 1") }
        if batchSentences < 1 { throw ValidationError("--batch-sentences must be at least 1") }
    }

    func translator() throws -> Translator {
        let sub = try subtransformer.map { try SubTransformerConfig(contentsOf: $0) }
        let t = try Translator.load(checkpoint: checkpoint, subTransformer: sub, data: data,
                                    search: BeamSearch(beamSize: beam, lengthPenalty: lenpen, maxLenA: maxLenA, maxLenB: maxLenB))
        t.batchSentences = batchSentences
        return t
    }
}

/// `hat translate`: stdin to stdout, one sentence per line (usable in a shell pipe).
struct TranslateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "translate",
        abstract: "Translate sentences from standard input to standard output, one per line."
    )

    @OptionGroup var options: DecodingOptions

    func run() throws {
        let translator = try options.translator()
        var lines: [String] = []
        while let line = readLine(strippingNewline: true) { lines.append(line) }
        for out in translator.translate(lines) { print(out) }
    }
}
