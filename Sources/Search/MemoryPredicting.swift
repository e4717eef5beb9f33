import Latency
import Model

/// Anything that predicts the peak memory (MB, model included) of a SubTransformer's inference:
/// with one, `--memory-constraint` looks at the prediction instead of the profiler's estimate.
public protocol MemoryPredicting {
    func predictMegabytes(_ config: SubTransformerConfig) -> Double
}

/// A memory predictor file (`hat latency train-predictor --target memory`) as the search's memory predictor.
public struct TrainedMemoryPredictor: MemoryPredicting {
    public let predictor: any LatencyPredictor

    /// Refuses a predictor that learned anything but memory: a latency predictor's milliseconds
    /// read as megabytes would admit or reject candidates at random. `path` names it in the error.
    public init(_ predictor: any LatencyPredictor, path: String) throws {
        guard predictor.target == .memory else {
            throw SearchError.badPredictor(
                "--memory-predictor \(path) predicts \(predictor.target), not memory: train one with hat latency train-predictor --target memory "
                    + "on a dataset measured with hat latency dataset --memory")
        }
        self.predictor = predictor
    }

    public func predictMegabytes(_ config: SubTransformerConfig) -> Double { predictor.predict(config) }
}

/// A memory predictor given by a closure (tests).
public struct ClosureMemoryPredictor: MemoryPredicting {
    public let predict: (SubTransformerConfig) -> Double
    public init(_ predict: @escaping (SubTransformerConfig) -> Double) { self.predict = predict }
    public func predictMegabytes(_ config: SubTransformerConfig) -> Double { predict(config) }
}
