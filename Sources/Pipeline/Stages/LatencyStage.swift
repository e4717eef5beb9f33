import Datasets
import Foundation
import Latency
import TensorEngine

/// Measures sampled SubTransformers on this machine with HAT's method (HAT step 2) into HAT's
/// latency CSV; resumes after its last row.
struct LatencyStage: StageJob {
    let context: StageContext

    var settings: [String] {
        let c = context.config
        return [
            context.spaceText, "\(c.latencySamples)", "\(c.latencyIterations)", "\(c.latencyWarmup)", "\(c.latencyLength)",
            "\(c.latencyBeam)", "\(c.latencySeed)", "\(c.latencyThreads)",
        ]
    }
    var threads: Int { context.config.latencyThreads }

    func outputIsValid() -> Bool {
        ((try? LatencyDataset(contentsOf: context.folder.latencyCSV))?.count ?? 0) >= context.config.latencySamples
    }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder
        let data = try PreparedDataset(directory: folder.dataDirectory)
        var builder = LatencyDatasetBuilder(
            space: context.space, count: config.latencySamples, seed: config.latencySeed,
            measurer: LatencyMeasurer(
                length: config.latencyLength, beam: config.latencyBeam,
                warmup: config.latencyWarmup, iterations: config.latencyIterations))
        builder.log = context.log
        try FileManager.default.createDirectory(at: folder.url(.latency), withIntermediateDirectories: true)
        TensorStorage.useHugePages = true  // steadier latencies (TensorStorage.useHugePages)
        let model = builder.model(sourceVocabSize: data.sourceVocabulary.size, targetVocabSize: data.targetVocabulary.size)
        defer { TensorStorage.useHugePages = false }
        let rows = try builder.run(model: model, csv: folder.latencyCSV)
        let latencies = rows.latencies
        return [
            "csv": folder.latencyCSV, "rows": "\(rows.count)", "kernels": BLAS.kernelDescription, "cpu": MeasurementProvenance.cpuModelName(),
            "threads": "\(config.latencyThreads)", "range_ms": String(format: "%.2f–%.2f", latencies.min() ?? 0, latencies.max() ?? 0),
        ]
    }
}
