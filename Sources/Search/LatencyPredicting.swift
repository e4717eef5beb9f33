import Model

/// Anything that predicts a SubTransformer's latency on the target device (encoder + decoder,
/// milliseconds, HAT's measurement setting: hat-reference.md §6).
///
/// The search only needs this one call. The Latency stage's trained predictors conform to it;
/// until then `FLOPsLatencyModel` is the built-in one.
public protocol LatencyPredicting {
    func predictMilliseconds(_ config: SubTransformerConfig) -> Double
}

/// A predictor given by a closure (tests, synthetic latencies).
public struct ClosureLatencyPredictor: LatencyPredicting {
    public let predict: (SubTransformerConfig) -> Double
    public init(_ predict: @escaping (SubTransformerConfig) -> Double) { self.predict = predict }
    public func predictMilliseconds(_ config: SubTransformerConfig) -> Double { predict(config) }
}
