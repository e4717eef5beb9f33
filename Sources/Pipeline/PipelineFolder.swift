import Foundation

/// Where each stage of a pipeline reads and writes, inside the `--out` folder
/// (PipelineStage names the folders; configs/pipeline_builtin.yml shows a run).
public struct PipelineFolder: Sendable {
    public let config: PipelineConfig
    public let out: URL

    public func url(_ stage: PipelineStage) -> URL { out.appendingPathComponent(stage.folder) }
    public var stateURL: URL { out.appendingPathComponent(PipelineState.fileName) }
    public var resultsURL: URL { out.appendingPathComponent("results.json") }

    public var dataDirectory: String {
        if case .prepared(let dir) = config.data { return dir }
        return url(.data).path
    }
    public var supernetCheckpoint: String {
        config.supernetCheckpoint ?? url(.supernet).appendingPathComponent("checkpoint_last.safetensors").path
    }
    public var latencyCSV: String { url(.latency).appendingPathComponent("latency.csv").path }
    public var predictorPath: String {
        url(.predictor).appendingPathComponent("predictor." + config.predictorKind.fileExtension).path
    }
    public var subTransformerYAML: String { out.appendingPathComponent("subtransformer.yml").path }
    public var subTransformerCheckpoint: String { url(.train).appendingPathComponent("checkpoint_best.safetensors").path }
}
