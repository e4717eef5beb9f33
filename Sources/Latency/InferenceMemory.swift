import Foundation
import Model
import TensorEngine

/// The memory one inference of a SubTransformer needs (HAT's measurement: one sentence of
/// `length` tokens, beam `beam`), measured on a model that holds only that SubTransformer.
///
/// The tensor bytes are the engine's own count (`TensorStorage.liveTensorBytes`): deterministic,
/// since the same SubTransformer, vocabularies, length and beam allocate the same tensors on every
/// run and every machine, whatever the C library does with freed memory. That is why a latency
/// dataset records them (`memory_model_mb`, `memory_peak_mb`) and a memory predictor learns them.
/// Resident memory (the operating system's view) is read too where asked, for one model in a
/// fresh process (`hat latency measure --memory`): in a process that has built and freed other
/// models before, the C library's free lists make it depend on what came before.
public struct InferenceMemory: Codable, Equatable, Sendable {
    /// Tensor bytes of the model (weights, positional tables).
    public var modelTensorBytes: Int
    /// The most tensor bytes held while the inference ran, the model's included.
    public var peakTensorBytes: Int
    /// Resident bytes the model added, and the most resident the inference added above them;
    /// nil when not asked for.
    public var residentModelBytes: Int?
    public var residentAboveModelBytes: Int?

    public init(modelTensorBytes: Int, peakTensorBytes: Int, residentModelBytes: Int? = nil, residentAboveModelBytes: Int? = nil) {
        self.modelTensorBytes = modelTensorBytes
        self.peakTensorBytes = peakTensorBytes
        self.residentModelBytes = residentModelBytes
        self.residentAboveModelBytes = residentAboveModelBytes
    }
}

/// Measures `InferenceMemory` (and the latency of the same runs) of SubTransformers: builds a
/// SuperTransformer just big enough for each (`MeasuringModel.smallestSpace`), float32, without
/// huge pages (they would round every large tensor up to 2 MiB of resident memory), and runs
/// `measurer` on it. `hat latency measure --memory` and `hat latency dataset --memory` both
/// measure through it, so a dataset row holds what the measure command reports.
public struct InferenceMemoryMeter {
    /// The SubTransformer's own space: its attention width and embedding tables (nil: HAT's
    /// 512-wide attention, one table when encoder and decoder are as wide).
    public var layout: SearchSpace?
    public var sourceVocabSize: Int
    public var targetVocabSize: Int
    public var measurer: LatencyMeasurer
    /// Also read resident memory (Linux; an error where /proc/self/status or clear_refs is missing).
    public var readsResidentMemory: Bool

    public init(layout: SearchSpace?, sourceVocabSize: Int, targetVocabSize: Int, measurer: LatencyMeasurer, readsResidentMemory: Bool = false) {
        self.layout = layout
        self.sourceVocabSize = sourceVocabSize
        self.targetVocabSize = targetVocabSize
        self.measurer = measurer
        self.readsResidentMemory = readsResidentMemory
    }

    /// Builds the SubTransformer's model and runs `measurer` on it; the memory counts from just
    /// before the model was built, so tensors the process already holds (another model) do not count.
    public func measure(_ sub: SubTransformerConfig) throws -> (latency: LatencyMeasurement, memory: InferenceMemory) {
        let hugePages = TensorStorage.useHugePages
        TensorStorage.useHugePages = false
        defer { TensorStorage.useHugePages = hugePages }
        let start = try residentNow()
        let tensorsBefore = TensorStorage.liveTensorBytes
        let model = try MeasuringModel.build(
            for: sub, space: nil, layout: layout, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize,
            length: measurer.length)
        let built = try residentNow()
        let tensorsBuilt = TensorStorage.liveTensorBytes
        if readsResidentMemory, !ResidentMemory.resetPeak() {
            throw LatencyError(
                "measuring memory resets the peak resident memory through /proc/self/clear_refs, which this system does not allow (Linux 4.0 or later)")
        }
        TensorStorage.resetPeakTensorBytes()
        let latency = measurer.measure(model: model, config: sub)
        let peakTensors = TensorStorage.peakTensorBytes
        let peakResident = try residentNow()?.peak
        var memory = InferenceMemory(modelTensorBytes: tensorsBuilt - tensorsBefore, peakTensorBytes: peakTensors - tensorsBefore)
        if let start, let built, let peakResident {
            memory.residentModelBytes = built.resident - start.resident
            memory.residentAboveModelBytes = peakResident - built.resident
        }
        withExtendedLifetime(model) {}  // the model counts in the peak until here
        return (latency, memory)
    }

    private func residentNow() throws -> (resident: Int, peak: Int)? {
        guard readsResidentMemory else { return nil }
        guard let now = ResidentMemory.current() else {
            throw LatencyError("measuring resident memory reads /proc/self/status, which this system does not have (Linux only)")
        }
        return now
    }
}

/// The float32 SuperTransformer with random weights that a SubTransformer is measured in (the
/// weights' values change neither latency nor memory): the given space, or one just big enough.
public enum MeasuringModel {
    /// The smallest SuperTransformer space that holds `sub`: its embedding widths and layer
    /// counts, every layer as wide as its widest FFN (a SuperTransformer's layers are all one
    /// width, so a model may hold a little more than the SubTransformer's weights). `layout`, the
    /// SubTransformer's own space, gives it its attention width and embedding tables.
    public static func smallestSpace(holding sub: SubTransformerConfig, layout: SearchSpace?) -> SearchSpace {
        var space = SearchSpace(
            encoderEmbedDim: sub.encoderEmbedDim, decoderEmbedDim: sub.decoderEmbedDim,
            encoderFFNDim: sub.encoderFFNDims.max()!, decoderFFNDim: sub.decoderFFNDims.max()!,
            encoderLayers: sub.encoderLayerNum, decoderLayers: sub.decoderLayerNum,
            encoderAttentionHeads: sub.encoderSelfAttentionHeads.max()!, decoderAttentionHeads: sub.decoderSelfAttentionHeads.max()!,
            // One table for both sides when they are as wide (what the profiler counts for a
            // joint vocabulary); a shared table of two widths needs a space that has both.
            qkvDim: layout?.qkvDim ?? 512, shareAllEmbeddings: (layout?.shareAllEmbeddings ?? true) && sub.encoderEmbedDim == sub.decoderEmbedDim,
            encoderEmbedChoices: [sub.encoderEmbedDim], decoderEmbedChoices: [sub.decoderEmbedDim],
            encoderFFNChoices: sub.encoderFFNDims, decoderFFNChoices: sub.decoderFFNDims,
            encoderLayerChoices: [sub.encoderLayerNum], decoderLayerChoices: [sub.decoderLayerNum],
            encoderSelfAttentionHeadChoices: sub.encoderSelfAttentionHeads, decoderSelfAttentionHeadChoices: sub.decoderSelfAttentionHeads,
            decoderCrossAttentionHeadChoices: sub.decoderCrossAttentionHeads, decoderArbitraryAttentionChoices: [-1, 1, 2])
        if let layout { space.separateOutputProjection = layout.separateOutputProjection }
        return space
    }

    /// The model `sub` is measured in: `space` (the SubTransformer is checked against it), or
    /// `smallestSpace(holding:layout:)`. Embeddings are shared only where the space shares them
    /// and the vocabularies are one size; positions reach at least 1024 and `length` + 2.
    public static func build(
        for sub: SubTransformerConfig, space given: SearchSpace?, layout: SearchSpace?, sourceVocabSize: Int, targetVocabSize: Int,
        length: Int
    ) throws -> SuperTransformer {
        if let given { try given.check(sub, file: "the SubTransformer") }
        var space = given ?? smallestSpace(holding: sub, layout: layout)
        space.shareAllEmbeddings = space.shareAllEmbeddings && sourceVocabSize == targetVocabSize
        var rng = RandomGenerator(seed: 0)
        return SuperTransformer(
            space: space, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize, rates: .none,
            maxPositions: Swift.max(1024, length + 2), rng: &rng)
    }
}
