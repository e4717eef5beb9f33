import Latency
import Model

/// Anything that predicts a SubTransformer's latency on the target device (encoder + decoder,
/// milliseconds, HAT's measurement setting: hat-reference.md §6).
///
/// The search only needs this one call: the Latency stage's predictors (`LatencyPredictor`:
/// ridge, cost model, HAT's MLP, few-shot) come in through `TrainedLatencyPredictor`; tests use
/// closures.
public protocol LatencyPredicting {
    func predictMilliseconds(_ config: SubTransformerConfig) -> Double
}

/// A predictor file of the Latency stage (`hat latency train-predictor`/`adapt`) as the search's predictor.
public struct TrainedLatencyPredictor: LatencyPredicting {
    public let predictor: any LatencyPredictor
    public init(_ predictor: any LatencyPredictor) { self.predictor = predictor }
    public func predictMilliseconds(_ config: SubTransformerConfig) -> Double { predictor.predict(config) }
}

/// A predictor given by a closure (tests, synthetic latencies).
public struct ClosureLatencyPredictor: LatencyPredicting {
    public let predict: (SubTransformerConfig) -> Double
    public init(_ predict: @escaping (SubTransformerConfig) -> Double) { self.predict = predict }
    public func predictMilliseconds(_ config: SubTransformerConfig) -> Double { predict(config) }
}
