import ArgumentParser
import Datasets
import Foundation

/// `hat data`: parallel corpora → SentencePiece vocabulary + binarized dataset folder.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Prepare translation data: normalize, train a SentencePiece vocabulary, binarize.",
        subcommands: [Prepare.self, Multi30kCommand.self, Builtin.self]
    )
}

/// Vocabulary and filter options shared by every `hat data` subcommand.
struct PreparationOptions: ParsableArguments {
    @Option(help: "SentencePiece vocabulary size (pieces, specials included); default 8000, 1000 for builtin.")
    var vocabSize: Int?
    @Option(help: "SentencePiece model type: bpe or unigram.")
    var modelType: String = "bpe"
    @Flag(help: "One vocabulary per language instead of a joint one (no shared embeddings then).")
    var separateVocab = false
    @Option(help: "Fraction of characters the vocabulary covers (1.0: every training character).")
    var characterCoverage: Double = 1.0
    @Option(help: "Drop training pairs with a side longer than this many pieces.")
    var maxLength: Int = 250
    @Option(help: "Drop training pairs whose longer side has more than this many times the pieces of the shorter.")
    var maxRatio: Double = 9.0
    @Option(help: "Seed for SentencePiece's sentence sampling.")
    var seed: UInt32 = 1
    @Flag(help: "Redo the work even when the output is up to date.")
    var force = false
    @Flag(help: "Show SentencePiece's training log.")
    var verbose = false

    func validate() throws {
        guard VocabularyTrainer.ModelType(rawValue: modelType) != nil else {
            throw ValidationError("--model-type must be bpe or unigram, not \(modelType)")
        }
    }

    func preparation(
        splits: [DatasetPreparation.SplitFiles], source: String, target: String, out: String,
        defaultVocabularySize: Int = 8000
    ) -> DatasetPreparation {
        var prep = DatasetPreparation(splits: splits, sourceLanguage: source, targetLanguage: target, output: out)
        prep.vocabulary.modelType = VocabularyTrainer.ModelType(rawValue: modelType)!
        prep.vocabulary.vocabularySize = vocabSize ?? defaultVocabularySize
        prep.vocabulary.characterCoverage = characterCoverage
        prep.vocabulary.seed = seed
        prep.vocabulary.quiet = !verbose
        prep.sharedVocabulary = !separateVocab
        prep.maxLength = maxLength
        prep.maxRatio = maxRatio
        prep.force = force
        return prep
    }

    func run(_ prep: DatasetPreparation) throws {
        let report = try prep.run { print($0) }
        let m = report.manifest
        let v = m.vocabulary
        print("dataset: \(report.directory)")
        print(
            "vocabulary: \(v.shared ? "joint" : "separate") \(v.modelType.rawValue), "
                + (v.shared ? "\(v.sourceSize) pieces" : "\(v.sourceSize) (\(m.sourceLanguage)) + \(v.targetSize) (\(m.targetLanguage)) pieces"))
        for s in m.splits {
            print(
                String(
                    format: "  %@: %d pairs, %.2f %@ / %.2f %@ pieces per sentence (+ eos), %d removed",
                    s.name, s.sentences, s.sourceLength.mean - 1, m.sourceLanguage, s.targetLength.mean - 1, m.targetLanguage, s.removed.total))
        }
    }
}

extension DataCommand {
    struct Prepare: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Prepare a dataset from line-aligned parallel text files (plain or .gz).")

        @Option(parsing: .upToNextOption, help: ArgumentHelp("Training files: SOURCE TARGET.", valueName: "file"))
        var train: [String] = []
        @Option(parsing: .upToNextOption, help: ArgumentHelp("Validation files: SOURCE TARGET.", valueName: "file"))
        var valid: [String] = []
        @Option(parsing: .upToNextOption, help: ArgumentHelp("Test files: SOURCE TARGET (optional).", valueName: "file"))
        var test: [String] = []
        @Option(help: "Source language code, e.g. en.") var srcLang: String
        @Option(help: "Target language code, e.g. de.") var tgtLang: String
        @Option(help: "Output dataset folder.") var out: String
        @OptionGroup var options: PreparationOptions

        func validate() throws {
            for (name, files) in [("--train", train), ("--valid", valid)] where files.count != 2 {
                throw ValidationError("\(name) needs two files, SOURCE and TARGET (got \(files.count))")
            }
            if !test.isEmpty && test.count != 2 { throw ValidationError("--test needs two files, SOURCE and TARGET (got \(test.count))") }
        }

        func run() throws {
            try OutputPath.checkFolder(out, option: "--out")
            var splits = [
                DatasetPreparation.SplitFiles(name: "train", source: train[0], target: train[1]),
                .init(name: "valid", source: valid[0], target: valid[1]),
            ]
            if test.count == 2 { splits.append(.init(name: "test", source: test[0], target: test[1])) }
            try options.run(options.preparation(splits: splits, source: srcLang, target: tgtLang, out: out))
        }
    }

    struct Multi30kCommand: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "multi30k",
            abstract: "Download (or take from --from) Multi30k task 1 and prepare it.")

        @Option(help: "Language pair: en-de or en-fr.") var pair: String = "en-de"
        @Option(help: "Folder that already holds the raw files (train.en.gz, val.en.gz, test_2016_flickr.en.gz, ...); no download.")
        var from: String?
        @Option(help: "Base URL of the raw files.") var url: String = Multi30k.defaultBaseURL
        @Option(help: "Where downloads go.") var downloadDir: String = "runs/data/multi30k-raw"
        @Option(help: "Output dataset folder (default runs/data/multi30k-PAIR).") var out: String?
        @OptionGroup var options: PreparationOptions

        func validate() throws {
            guard Multi30k.Pair(rawValue: pair) != nil else { throw ValidationError("--pair must be en-de or en-fr, not \(pair)") }
        }

        func run() throws {
            if let out { try OutputPath.checkFolder(out, option: "--out") }
            let p = Multi30k.Pair(rawValue: pair)!
            let files =
                try from.map { try Multi30k.localFiles(p, in: $0) }
                ?? Multi30k.download(p, baseURL: url, to: downloadDir) { print($0) }
            var prep = options.preparation(splits: files, source: p.source, target: p.target, out: out ?? "runs/data/multi30k-\(pair)")
            prep.createdBy = "hat data multi30k"
            try options.run(prep)
        }
    }

    struct Builtin: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Generate the built-in English → Synthetic task (deterministic from --corpus-seed) and prepare it.")

        @Option(help: "Seed of the corpus (lexicon, genders, sentences).") var corpusSeed: UInt64 = 1
        @Option(help: "Training pairs.") var trainSize: Int = 10_000
        @Option(help: "Validation pairs.") var validSize: Int = 500
        @Option(help: "Test pairs.") var testSize: Int = 500
        @Option(help: "Output dataset folder.") var out: String = "runs/data/builtin"
        @Option(help: "Folder for the generated text (default OUT-text).") var textDir: String?
        @OptionGroup var options: PreparationOptions

        func validate() throws {
            guard trainSize > 0, validSize > 0, testSize >= 0 else { throw ValidationError("split sizes must be positive") }
        }

        func run() throws {
            try OutputPath.checkFolder(out, option: "--out")
            print("built-in corpus: seed \(corpusSeed), \(trainSize)/\(validSize)/\(testSize) pairs")
            let corpus = BuiltinCorpus(seed: corpusSeed)
            let files = try corpus.writeText(to: textDir ?? out + "-text", train: trainSize, valid: validSize, test: testSize)
            var prep = options.preparation(
                splits: files, source: BuiltinCorpus.sourceLanguage, target: BuiltinCorpus.targetLanguage,
                out: out, defaultVocabularySize: BuiltinCorpus.defaultVocabularySize)
            prep.createdBy = "hat data builtin --corpus-seed \(corpusSeed)"
            try options.run(prep)
        }
    }
}
