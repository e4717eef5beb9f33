import Model

/// What the constraints look at for one SubTransformer: predicted latency and the profiler's
/// sizes (hat-reference.md §5; peak memory for THANOS's memory constraint, §9).
public struct CandidateMeasures: Codable, Equatable, Sendable {
    public var predictedLatencyMs: Double
    public var parameters: Int
    public var flops: Int
    public var modelSizeMB: Double
    /// The memory predictor's peak inference memory when the search has one, else the profiler's estimate.
    public var peakMemoryMB: Double

    public init(predictedLatencyMs: Double, parameters: Int, flops: Int, modelSizeMB: Double, peakMemoryMB: Double) {
        self.predictedLatencyMs = predictedLatencyMs
        self.parameters = parameters
        self.flops = flops
        self.modelSizeMB = modelSizeMB
        self.peakMemoryMB = peakMemoryMB
    }
}

/// Computes `CandidateMeasures` from the latency predictor and the profiler (and the memory
/// predictor, when given). Cheap (no model is run), so every sampled candidate is measured
/// before it may cost a fitness evaluation.
public struct CandidateAssessor {
    public var predictor: any LatencyPredicting
    public var profiler: Profiler
    /// Predicts the peak inference memory in place of the profiler's analytic estimate
    /// (`hat search --memory-predictor`); nil: the estimate.
    public var memoryPredictor: (any MemoryPredicting)?
    /// Sentence length and beam of the FLOPs and peak-memory figures (HAT: 30 for WMT, 23 for IWSLT; beam 5).
    public var length: Int
    public var beam: Int

    public init(
        predictor: any LatencyPredicting, profiler: Profiler, length: Int = 30, beam: Int = 5, memoryPredictor: (any MemoryPredicting)? = nil
    ) {
        self.predictor = predictor
        self.profiler = profiler
        self.memoryPredictor = memoryPredictor
        self.length = length
        self.beam = beam
    }

    public func measures(_ config: SubTransformerConfig) -> CandidateMeasures {
        let p = profiler.profile(config, length: length, beam: beam)
        return CandidateMeasures(
            predictedLatencyMs: predictor.predictMilliseconds(config), parameters: p.parameters,
            flops: p.flops, modelSizeMB: p.modelSizeMB, peakMemoryMB: memoryPredictor?.predictMegabytes(config) ?? p.peakInferenceMB)
    }
}
