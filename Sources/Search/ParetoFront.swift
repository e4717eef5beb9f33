import Datasets
import Foundation
import Model

/// One point of the latency/loss front: the best SubTransformer found for one constraint
/// `pareto.json` in the search folder is the list of them.
public struct ParetoPoint: Codable, Equatable, Sendable {
    /// `SearchConstraints.label`, e.g. "200ms".
    public var constraint: String
    public var constraints: SearchConstraints
    /// File name of the SubTransformer YAML in the search folder.
    public var subtransformer: String
    public var gene: [Int]
    public var config: SubTransformerConfig
    public var loss: Double
    public var nllLoss: Double
    public var predictedLatencyMs: Double
    /// Latency measured on this machine after the search, when it was measured.
    public var measuredLatencyMs: Double?
    public var parameters: Int
    public var flops: Int
    public var modelSizeMB: Double
    public var peakMemoryMB: Double
    /// True when another point has no higher predicted latency and a lower loss: the search
    /// under this (looser) constraint did no better than under a tighter one.
    public var dominated: Bool

    enum CodingKeys: String, CodingKey {
        case constraint, constraints, subtransformer, gene, config, loss, flops, dominated
        case nllLoss = "nll_loss", predictedLatencyMs = "predicted_latency_ms", measuredLatencyMs = "measured_latency_ms"
        case parameters = "params", modelSizeMB = "model_size_mb", peakMemoryMB = "peak_memory_mb"
    }

    public init(_ outcome: SearchOutcome, subtransformer: String) {
        constraint = outcome.constraints.label
        constraints = outcome.constraints
        self.subtransformer = subtransformer
        gene = outcome.gene
        config = outcome.config
        loss = outcome.fitness.loss
        nllLoss = outcome.fitness.nllLoss
        predictedLatencyMs = outcome.measures.predictedLatencyMs
        measuredLatencyMs = nil
        parameters = outcome.measures.parameters
        flops = outcome.measures.flops
        modelSizeMB = outcome.measures.modelSizeMB
        peakMemoryMB = outcome.measures.peakMemoryMB
        dominated = false
    }
}

public enum ParetoFront {
    public static let fileName = "pareto.json"

    /// The points ordered by predicted latency, each marked `dominated` or not.
    public static func points(_ outcomes: [SearchOutcome], fileName: (SearchConstraints) -> String) -> [ParetoPoint] {
        var points = outcomes.map { ParetoPoint($0, subtransformer: fileName($0.constraints)) }
        points.sort { ($0.predictedLatencyMs, $0.loss) < ($1.predictedLatencyMs, $1.loss) }
        for i in points.indices {
            points[i].dominated = points.indices.contains { j in
                j != i && points[j].predictedLatencyMs <= points[i].predictedLatencyMs && points[j].loss < points[i].loss
            }
        }
        return points
    }

    public static func write(_ points: [ParetoPoint], to url: URL) throws {
        try AtomicFile.write(try SearchJSON.encoder(pretty: true).encode(points), to: url)
    }

    public static func read(_ url: URL) throws -> [ParetoPoint] {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SearchError.io(path: url.path, reason: "cannot read the file")
        }
        return try SearchJSON.decoder().decode([ParetoPoint].self, from: data)
    }
}
