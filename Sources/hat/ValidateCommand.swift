import ArgumentParser
import Foundation
import Model
import Search
import TensorEngine

/// `hat validate`: the validation loss of SubTransformers, the number HAT's search ranks them by
/// (hat-reference.md §7), without running a search. With a SuperTransformer checkpoint it is the
/// fitness of each given SubTransformer with inherited weights; with a trained SubTransformer's
/// checkpoint it is that model's own validation loss. Comparing the two over many SubTransformers
/// is HAT's "performance order well-preserved" check (docs/RESULTS.md).
struct ValidateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "validate",
        abstract: "Print the validation loss of SubTransformers: with a SuperTransformer, the search's fitness.",
        discussion: """
            The loss is label-smoothed cross-entropy per target token in base 2 (fairseq's `loss`, the \
            search's fitness), with the NLL and perplexity beside it; teacher-forced, no dropout.
            """
    )

    @Option(help: "Checkpoint: a SuperTransformer (hat train) or a trained SubTransformer.") var checkpoint: String
    @Option(
        help: ArgumentHelp(
            "SubTransformer to score (HAT YAML); repeat it for several. Required for a SuperTransformer.",
            discussion: "Default for a SubTransformer's checkpoint: the SubTransformer it was trained as."))
    var subtransformer: [String] = []
    @Option(help: "Prepared dataset whose validation split is scored (default: the one the checkpoint was trained on).")
    var data: String?
    @Option(name: .customLong("valid-subset"), help: "Score the first N validation pairs only (hat search's --valid-subset; default: all).")
    var validSubset: Int?
    @Option(name: .customLong("max-tokens"), help: "Tokens per evaluation batch (default: the checkpoint's training max-tokens).")
    var maxTokens: Int?
    @Option(help: "Compute threads (default: the cores available).") var threads: Int = ParallelSettings.availableCores
    @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false

    func validate() throws {
        if let v = validSubset, v < 1 { throw ValidationError("--valid-subset must be at least 1") }
        if let m = maxTokens, m < 1 { throw ValidationError("--max-tokens must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
    }

    /// One scored SubTransformer (`--json`: a list of these).
    struct Row: Encodable {
        var subtransformer: String
        var loss: Double
        var nllLoss: Double
        var perplexity: Double
        var tokens: Int
        var sentences: Int
    }

    func run() throws {
        BLAS.setComputeThreads(threads)
        let inputs = try SearchInputs(supernet: checkpoint, spaceFile: nil, data: data, validSubset: validSubset, maxTokens: maxTokens)
        let space = inputs.space
        var configs: [(name: String, config: SubTransformerConfig)] = []
        for file in subtransformer {
            let config = try space.subTransformer(contentsOf: file)
            configs.append((file, config))
        }
        if configs.isEmpty {
            guard let own = inputs.checkpoint.subTransformer else {
                throw CommandError("\(checkpoint) is a SuperTransformer: give --subtransformer FILE (HAT YAML) for each SubTransformer to score")
            }
            configs.append(("(\(checkpoint)'s own)", own))
        }
        let output = ResultOutput(json: json)
        var rows: [Row] = []
        for (name, config) in configs {
            let r = inputs.fitness.evaluator.evaluate(inputs.model, config: config)
            let row = Row(
                subtransformer: name, loss: r.loss, nllLoss: r.nllLoss, perplexity: r.perplexity, tokens: r.tokens,
                sentences: inputs.fitness.sentences)
            output.say(
                String(format: "loss %.4f  nll %.4f  ppl %.2f  %d tokens of %d pairs  %@", r.loss, r.nllLoss, r.perplexity, r.tokens, row.sentences, name))
            rows.append(row)
        }
        try output.emit(rows)
    }
}
