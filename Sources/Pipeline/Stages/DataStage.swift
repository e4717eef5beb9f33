import Datasets
import Foundation

/// Prepares the dataset: the built-in synthetic task, Multi30k from its raw files, or a folder
/// prepared earlier by `hat data` (checked and used as it is).
struct DataStage: StageJob {
    let context: StageContext

    var settings: [String] { ["\(context.config.data)"] }

    func outputIsValid() -> Bool { (try? PreparedDataset(directory: context.folder.dataDirectory)) != nil }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder, log = context.log
        let report: DatasetPreparation.Report
        switch config.data {
        case .builtin(let seed, let train, let valid, let test, let vocabularySize):
            log("built-in English → Synthetic task: seed \(seed), \(train)/\(valid)/\(test) pairs")
            report = try BuiltinCorpus(seed: seed).prepare(
                output: folder.dataDirectory, textDirectory: folder.out.appendingPathComponent("data-text").path,
                train: train, valid: valid, test: test, vocabularySize: vocabularySize, log: log)
        case .multi30k(let pairName, let raw, let vocabularySize):
            guard let pair = Multi30k.Pair(rawValue: pairName) else {
                throw PipelineError.config(path: config.path, key: "data.pair", "is '\(pairName)'; use en-de or en-fr")
            }
            var prep = DatasetPreparation(
                splits: try Multi30k.localFiles(pair, in: raw), sourceLanguage: pair.source,
                targetLanguage: pair.target, output: folder.dataDirectory)
            prep.vocabulary.vocabularySize = vocabularySize
            prep.createdBy = "hat pipeline (multi30k \(pairName))"
            report = try prep.run(log: log)
        case .prepared(let dir):
            let d = try PreparedDataset(directory: dir)
            return ["dataset": dir, "vocabulary": "\(d.sourceVocabulary.size)/\(d.targetVocabulary.size)"]
        }
        let m = report.manifest
        return [
            "dataset": report.directory, "vocabulary": "\(m.vocabulary.sourceSize)/\(m.vocabulary.targetSize)",
            "pairs": m.splits.map { "\($0.name) \($0.sentences)" }.joined(separator: " "),
        ]
    }
}
