import Datasets
import Foundation
import Latency
import TensorEngine

/// Trains the latency predictor on the measured dataset (HAT step 3) and writes its accuracy:
/// metrics.json, predictions.csv and a scatter plot of the test rows.
struct PredictorStage: StageJob {
    let context: StageContext

    var settings: [String] { [context.config.predictorKind.rawValue, "\(context.config.predictorSeed)"] }

    func outputIsValid() -> Bool { (try? PredictorFile.load(context.folder.predictorPath)) != nil }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder
        let all = try LatencyDataset(contentsOf: folder.latencyCSV)
        let split = all.split(seed: config.predictorSeed)
        let predictor = PredictorFile.train(kind: config.predictorKind, on: split.train, seed: config.predictorSeed)
        let dir = folder.url(.predictor)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try PredictorFile.checkTrained(predictor, on: split.train, path: folder.predictorPath)
        try predictor.save(to: folder.predictorPath)
        var metrics: [String: PredictionMetrics] = [:]
        var csv = "split,measured_ms,predicted_ms\n"
        for (name, part) in [("train", split.train), ("valid", split.valid), ("test", split.test)] where !part.isEmpty {
            let predicted = predictor.predict(part)
            metrics[name] = PredictionMetrics(predicted: predicted, measured: part.latencies)
            for (m, p) in zip(part.latencies, predicted) { csv += "\(name),\(m),\(p)\n" }
            context.log("  \(name.padding(toLength: 6, withPad: " ", startingAt: 0))" + metrics[name]!.summary)
        }
        try AtomicFile.write(Data(csv.utf8), to: dir.appendingPathComponent("predictions.csv"))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(metrics), to: dir.appendingPathComponent("metrics.json"))
        let shown = split.test.isEmpty ? split.train : split.test
        try ScatterPlot(
            title: "\(config.predictorKind.rawValue) on this machine (\(split.test.isEmpty ? "train" : "test") rows)",
            measured: shown.latencies, predicted: predictor.predict(shown),
            metrics: metrics[split.test.isEmpty ? "train" : "test"]
        ).write(to: dir.appendingPathComponent("test.svg").path)
        let test = metrics["test"] ?? metrics["train"]!
        return [
            "predictor": folder.predictorPath, "test_rmse_ms": String(format: "%.3f", test.rmse), "test_mape": String(format: "%.1f%%", test.mape),
            "rows": "\(split.train.count)/\(split.valid.count)/\(split.test.count)",
        ]
    }
}
