/// The stages of `hat pipeline`, in order (HAT's flow, hat-reference.md §2, plus data and test),
/// and where each one's output lives in the pipeline folder.
public enum PipelineStage: String, CaseIterable, Sendable, Codable {
    /// Prepared dataset: `data/` (or the `prepared` folder the config names).
    case data
    /// SuperTransformer training: `supernet/` (checkpoints, metrics.jsonl).
    case supernet
    /// Latency of sampled SubTransformers measured on this machine: `latency/latency.csv` (HAT's CSV).
    case latency
    /// Latency predictor trained on it: `predictor/` (predictor file, metrics.json, predictions.csv, test.svg).
    case predictor
    /// Evolutionary search under the constraints: `search/` (history, pareto.json, subtransformer@LABEL.yml).
    case search
    /// The found SubTransformer trained (from scratch or fine-tuned): `subtransformer/` and `subtransformer.yml`.
    case train
    /// Its translation of the test split and BLEU: `test/` and `results.json`.
    case test

    public var folder: String {
        switch self {
        case .train: return "subtransformer"
        default: return rawValue
        }
    }

    public static func named(_ name: String) throws -> PipelineStage {
        guard let s = PipelineStage(rawValue: name) else {
            throw PipelineError.stage(name, "is not a stage; stages: \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return s
    }
}
