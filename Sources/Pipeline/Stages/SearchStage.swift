import Datasets
import Foundation
import Latency
import Model
import Search

/// HAT's evolutionary search under the configured constraints (HAT step 4); writes the pick for
/// the first constraint to `subtransformer.yml`.
struct SearchStage: StageJob {
    let context: StageContext

    var settings: [String] {
        let c = context.config
        return [c.latencyConstraints.joined(separator: ","), c.memoryConstraint ?? "", c.parametersConstraint ?? "", c.flopsConstraint ?? ""]
            + c.evolutionFingerprint + ["\(c.searchSeed)", "\(c.validSubset ?? -1)"] + (c.evolution.repairOffspring ? ["repair-offspring"] : [])
    }
    var threads: Int { context.config.searchThreads }

    func outputIsValid() -> Bool {
        (try? ParetoFront.read(context.folder.url(.search).appendingPathComponent(ParetoFront.fileName))) != nil
    }

    /// "40%" → that share of the way from the smallest to the largest SubTransformer's predicted latency.
    func resolveLatency(_ text: String, predictor: any LatencyPredictor) throws -> String {
        guard text.hasSuffix("%") else { return text }
        guard let share = Double(text.dropLast()), share > 0, share <= 100 else {
            throw PipelineError.config(path: context.config.path, key: "search.latency-constraint", "'\(text)': a share must be in (0, 100]%")
        }
        let low = predictor.predict(context.space.smallest), high = predictor.predict(context.space.largest)
        let ms = low + share / 100 * (high - low)
        context.log(String(format: "latency constraint %@ = %.3f ms (predicted: smallest %.3f ms, largest %.3f ms)", text, ms, low, high))
        return SearchConstraints.shortNumber(ms, decimals: 3) + "ms"
    }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder
        let predictor = try PredictorFile.load(folder.predictorPath)
        let latencies = try config.latencyConstraints.map { try resolveLatency($0, predictor: predictor) }
        let constraints = try SearchConstraints.list(
            latencies: latencies.joined(separator: ","), memory: config.memoryConstraint,
            parameters: config.parametersConstraint, flops: config.flopsConstraint)
        var runner = SearchRunner(
            supernet: folder.supernetCheckpoint, predictor: .file(path: folder.predictorPath), constraints: constraints,
            directory: folder.url(.search))
        runner.data = folder.dataDirectory
        runner.settings = config.evolution
        runner.seed = config.searchSeed
        runner.validSubset = config.validSubset
        runner.length = config.latencyLength
        runner.beam = config.latencyBeam
        runner.measureIterations = 20
        runner.measureThreads = config.latencyThreads
        runner.log = context.log
        let result = try runner.run()
        guard let chosen = result.front.first(where: { $0.constraint == constraints[0].label }) else {
            throw PipelineError.stage("search", "no SubTransformer was found for \(constraints[0].label)")
        }
        let yaml = try String(contentsOf: folder.url(.search).appendingPathComponent(chosen.subtransformer), encoding: .utf8)
        try AtomicFile.write(Data(yaml.utf8), to: URL(fileURLWithPath: folder.subTransformerYAML))
        return [
            "subtransformer": folder.subTransformerYAML, "constraint": chosen.constraint, "supernet_loss": String(format: "%.4f", chosen.loss),
            "predicted_ms": String(format: "%.3f", chosen.predictedLatencyMs),
            "measured_ms": chosen.measuredLatencyMs.map { String(format: "%.3f", $0) } ?? "",
            "seconds": String(format: "%.1f", result.seconds),
        ]
    }
}
