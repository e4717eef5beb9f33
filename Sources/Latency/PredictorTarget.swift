/// What a predictor learned to predict from HAT's ten features: `hat latency train-predictor
/// --target`, and the `predicts` key of every predictor file, so that a search can refuse a
/// latency predictor given as its memory predictor (and the other way round).
public enum PredictorTarget: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Encoder + decoder mean latency in ms (HAT's target: `latency_mean_encoder + latency_mean_decoder`).
    case latency
    /// `memory_peak_mb` of a dataset measured with `hat latency dataset --memory`: the most tensor
    /// memory one inference holds, the model's weights included, in MB (10⁶ bytes). The engine's
    /// count of tensor bytes rather than resident memory, because it is deterministic: the same
    /// SubTransformer, vocabularies, length and beam give the same bytes on every run, so a
    /// predictor learns the model's memory and not the C library's free lists.
    case memory

    public var description: String { rawValue }

    /// The unit of the predicted number.
    public var unit: String {
        switch self {
        case .latency: return "ms"
        case .memory: return "MB"
        }
    }

    /// The CSV column(s) the target is read from, as predictor files state it.
    public var columns: String {
        switch self {
        case .latency: return "latency_mean_encoder + latency_mean_decoder"
        case .memory: return LatencyDataset.memoryNames[1]
        }
    }

    /// "latency (ms)", "peak memory (MB)": axis labels and messages.
    public var quantity: String {
        switch self {
        case .latency: return "latency (ms)"
        case .memory: return "peak memory (MB)"
        }
    }

    /// The predictor file key that stores the target; files written before memory predictors
    /// existed have none and predict latency.
    static let fileKey = "predicts"

    /// The target a predictor file names under `predicts` (nil: an older file, latency).
    static func read(_ text: String?, path: String) throws -> PredictorTarget {
        guard let text else { return .latency }
        guard let target = PredictorTarget(rawValue: text) else {
            throw LatencyError(
                file: path, key: fileKey, "is '\(text)'; this hat reads predictors of \(allCases.map(\.rawValue).joined(separator: ", "))")
        }
        return target
    }
}
