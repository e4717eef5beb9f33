import ArgumentParser
import Datasets
import Foundation
import Generate
import Model
import TensorEngine
import Train

/// Options shared by `hat translate` and `hat test`: the model and the search.
struct DecodingOptions: ParsableArguments {
    @Option(
        help:
            "Checkpoint (safetensors) to translate with; repeat it to decode with an ensemble (mean of the members' probabilities), e.g. the last epochs of one run."
    )
    var checkpoint: [String]
    @Option(help: "SubTransformer to run (HAT YAML); required for a SuperTransformer checkpoint.") var subtransformer: String?
    @Option(help: "Dataset directory with the vocabulary (default: the one the checkpoint was trained on).") var data: String?
    @Option(help: "Beam size (1 = greedy).") var beam: Int = 5
    @Option(help: "Length penalty (fairseq's --lenpen).") var lenpen: Double = 0.6
    @Option(name: .customLong("max-len-a"), help: "Maximum output length = a · source length + b.") var maxLenA: Double = 1.2
    @Option(name: .customLong("max-len-b"), help: "Maximum output length = a · source length + b.") var maxLenB: Int = 10
    @Option(name: .customLong("batch-sentences"), help: "Sentences translated together.") var batchSentences: Int = 32
    @Option(help: "Compute threads (default: the cores available, \(ParallelSettings.availableCores) here).")
    var threads: Int = ParallelSettings.availableCores

    func validate() throws {
        if beam < 1 { throw ValidationError("--beam must be at least 1") }
        if batchSentences < 1 { throw ValidationError("--batch-sentences must be at least 1") }
        if threads < 1 { throw ValidationError("--threads must be at least 1") }
        if !(maxLenA.isFinite && maxLenA >= 0) { throw ValidationError("--max-len-a must be a finite number ≥ 0, got \(maxLenA)") }
        if maxLenB < 0 { throw ValidationError("--max-len-b must be ≥ 0, got \(maxLenB)") }
        if maxLenA == 0 && maxLenB == 0 { throw ValidationError("--max-len-a 0 with --max-len-b 0 allows no output token: raise either") }
        if !lenpen.isFinite { throw ValidationError("--lenpen must be a finite number, got \(lenpen)") }
        if checkpoint.isEmpty { throw ValidationError("give a model with --checkpoint FILE") }
    }

    func translator() throws -> Translator {
        warnAboutUnknownKeys(in: [subtransformer])
        BLAS.setComputeThreads(threads)
        let t = try Translator.load(
            checkpoints: checkpoint, subTransformerFile: subtransformer, data: data,
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

/// `hat test`: translate a split of a prepared dataset, write the hypotheses, print BLEU and chrF.
struct TestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "test",
        abstract: "Translate a dataset split and score it with sacreBLEU-compatible BLEU and chrF2."
    )

    @OptionGroup var options: DecodingOptions
    @Option(help: "Split to translate: test, valid, or another split of the dataset.") var split: String = "test"
    @Option(help: "Raw source sentences to translate instead of a dataset split (one per line; with --reference).") var source: String?
    @Option(help: "Raw reference translations of --source, line by line.") var reference: String?
    @Option(
        name: .customLong("data-bin"),
        help: "A fairseq data-bin folder (SPLIT.SRC-TGT.LANG.idx/.bin) to translate --split of, for an imported model: HAT's own evaluation.")
    var dataBin: String?
    @Option(help: "Where to write the hypotheses (default: SPLIT.hyp.txt next to the checkpoint).") var out: String?
    @Option(name: .customLong("nbest-out"), help: "Also write every finished hypothesis (JSON lines: sentence, text, score, log-probability).")
    var nbestOut: String?
    @Flag(name: .customLong("tokenized-bleu"), help: "Also print tokenized BLEU (HAT's \"normal\" BLEU).") var tokenizedBLEU = false
    @Flag(help: "Print the result as JSON on standard output (progress goes to standard error).") var json = false
    @Flag(
        name: .customLong("score-reference"),
        help: "Score each reference with the model instead of translating (fairseq-generate's --score-reference: S-, T-, H- and P- lines).")
    var scoreReference = false

    func validate() throws {
        if (source == nil) != (reference == nil) { throw ValidationError("give --source and --reference together") }
        if dataBin != nil && source != nil { throw ValidationError("give --data-bin or --source/--reference, not both") }
    }

    /// Lines of a text file (a last empty line from the final newline dropped).
    func lines(_ path: String, option: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandError("\(option) \(path) cannot be read as UTF-8 text")
        }
        var lines = text.components(separatedBy: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : $0 }
        if lines.last == "" { lines.removeLast() }
        return lines
    }

    /// What to translate and score: raw sentences and references, and from a data-bin split also
    /// the source ids as stored and the references as the tokens HAT's BLEU counts.
    struct Inputs {
        var sources: [String]
        var references: [String]
        var sourceIDs: [[Int32]]?
        var tokenizedReferences: [String]?
    }

    /// The sentences of --data-bin, of --source/--reference, or of the dataset's split.
    func inputs(for translator: Translator) throws -> Inputs {
        // Without inputs given, the split of the dataset the checkpoint recorded: a data-bin folder
        // when it was fine-tuned on one.
        let first = options.checkpoint[0]  // no model is built for it
        let recorded =
            source == nil && options.data == nil
            ? try Checkpoint.readState(SafeTensorsFile.read(from: URL(fileURLWithPath: first)), path: first, allowQuantized: true).data : nil
        if let dataBin = dataBin ?? recorded.flatMap({ FairseqDataBin.isDataBin($0) ? $0 : nil }) {
            guard let codec = translator.source as? FairseqTextCodec, let target = translator.target as? FairseqTextCodec else {
                throw CommandError("--data-bin needs an imported model with its fairseq dictionaries (hat import --dictionaries)")
            }
            let split = try FairseqDataBin(directory: dataBin, languages: (codec.language, target.language)).split(self.split)
            let sourceIDs = (0..<split.count).map { Array(split.source($0)) }, targetIDs = (0..<split.count).map { Array(split.target($0)) }
            return Inputs(
                sources: sourceIDs.map { codec.decode($0) }, references: targetIDs.map { target.decode($0) },
                sourceIDs: sourceIDs, tokenizedReferences: targetIDs.map { target.decodeTokenized($0) })
        }
        if let source, let reference {
            let inputs = Inputs(sources: try lines(source, option: "--source"), references: try lines(reference, option: "--reference"))
            guard inputs.sources.count == inputs.references.count else {
                throw CommandError(
                    "--source \(source) has \(inputs.sources.count) lines, --reference \(reference) \(inputs.references.count): they must be line-aligned")
            }
            return inputs
        }
        let dir = options.data ?? recorded ?? ""
        let data = try Translator.openDataset(dir, recordedBy: options.data == nil ? first : nil)
        return Inputs(sources: try data.sourceText(split), references: try data.targetText(split))
    }

    /// fairseq-generate's `--score-reference` output: S (source), T (reference), H (mean
    /// log-probability per token, eos included, and the tokens) and P (each token's) lines.
    func printReferenceScores(_ translator: Translator, _ inputs: Inputs) {
        let scores = translator.scoreReferences(sources: inputs.sources, references: inputs.references)
        for (i, p) in scores.enumerated() {
            let tokens = translator.target.decodeTokenized(translator.target.encode(inputs.references[i]))
            print("S-\(i)\t\(inputs.sources[i])\nT-\(i)\t\(inputs.references[i])")
            print("H-\(i)\t\(p.reduce(0, +) / Double(Swift.max(p.count, 1)))\t\(tokens)")
            print("P-\(i)\t" + p.map { String(format: "%.4f", $0) }.joined(separator: " "))
        }
        let total = scores.joined().reduce(0, +), count = scores.joined().count
        FileHandle.standardError.write(
            Data(
                String(
                    format: "scored %d references: %d tokens, log-probability %.2f (%.4f per token)\n",
                    scores.count, count, total, total / Double(Swift.max(count, 1))
                ).utf8))
    }

    func run() throws {
        if let out { try OutputPath.checkFile(out, option: "--out") }
        if let nbestOut { try OutputPath.checkFile(nbestOut, option: "--nbest-out") }
        let translator = try options.translator()
        let inputs = try inputs(for: translator)
        if scoreReference { return printReferenceScores(translator, inputs) }
        let (sources, references) = (inputs.sources, inputs.references)
        let start = Date()
        let output = ResultOutput(json: json)
        let progress = ProgressPrinter(toStandardError: json)
        let report = { (done: Int) in
            progress.update(
                String(
                    format: "translated %d/%d sentences (%.1f sentences/s)", done, sources.count,
                    Double(done) / Swift.max(Date().timeIntervalSince(start), 1e-9)))
        }
        let nbest = inputs.sourceIDs.map { translator.translateNBest(ids: $0, progress: report) } ?? translator.translateNBest(sources, progress: report)
        let hypotheses = nbest.map { $0.first?.text ?? "" }
        if let nbestOut {
            var lines = ""
            for (i, candidates) in nbest.enumerated() {
                for c in candidates {
                    func number(_ x: Double) -> Any { x.isFinite ? x : NSNull() }  // JSON has no NaN or infinity
                    let row: [String: Any] = ["sentence": i, "text": c.text, "score": number(c.score), "log_probability": number(c.logProbability)]
                    lines += String(decoding: try JSONSerialization.data(withJSONObject: row, options: [.sortedKeys]), as: UTF8.self) + "\n"
                }
            }
            try AtomicFile.write(lines, to: nbestOut)
        }
        let seconds = Date().timeIntervalSince(start)
        let outPath =
            out
            ?? URL(fileURLWithPath: options.checkpoint[0]).deletingLastPathComponent()
            .appendingPathComponent("\(split).hyp.txt").path
        try AtomicFile.write(hypotheses.joined(separator: "\n") + "\n", to: outPath)
        progress.log(
            String(
                format: "translated %d sentences in %.1f s (%.2f sentences/s, beam %d); hypotheses in %@",
                sources.count, seconds, Double(sources.count) / seconds, options.beam, outPath))
        let corpus = try ScoringCorpus(hypotheses: hypotheses, references: [references])
        var metrics: [ScoreMetric] = [.bleu, .chrf]
        if tokenizedBLEU { metrics.append(.tokenizedBLEU) }
        let scores = ScoreReport(corpus: corpus, metrics: metrics)
        output.say(scores.text(version: HAT.versionNumber))
        var result = TestOutput(
            hypotheses: outPath, sentences: sources.count, seconds: seconds, beam: options.beam,
            scores: scores.results.map {
                TestOutput.Score(
                    name: $0.name, score: $0.score,
                    signature: $0.signature.formatted(version: HAT.versionNumber))
            })
        if let codec = translator.target as? FairseqTextCodec {
            // HAT's own number for its models: tokenized BLEU, compound-split for German output.
            let split = codec.language == "de"
            let hat = try HATBLEU.corpus(
                tokenizedHypotheses: nbest.map { $0.first?.tokenized ?? "" },
                tokenizedReferences: inputs.tokenizedReferences ?? references.map(codec.tokenizeReference),
                splitCompounds: split)
            let score = ScoreReport(corpus: hat, metrics: [.tokenizedBLEU]).results[0]
            output.say((score.bleu?.formatted(width: 2, name: "HAT's BLEU (Moses-tokenized\(split ? ", compound-split" : ""))") ?? ""))
            result.hatBLEU = score.score
        }
        try output.emit(result)
    }

    /// `--json`: where the hypotheses went, the speed, and each metric's corpus score with its
    /// signature (`hat score --json` gives sacreBLEU's detailed format for the same files).
    struct TestOutput: Encodable {
        struct Score: Encodable {
            var name: String
            var score: Double
            var signature: String
        }
        var hypotheses: String
        var sentences: Int
        var seconds: Double
        var beam: Int
        var scores: [Score]
        /// HAT's tokenized (compound-split for German) BLEU, for models imported from HAT.
        var hatBLEU: Double?
    }
}
