/// Sizes and costs of a SubTransformer, by HAT's conventions (hat-reference.md §5), plus the
/// memory of one inference for THANOS-style memory constraints.
public struct ModelProfile: Codable, Sendable, Equatable {
    /// Parameters without embedding tables and output projection (HAT's "#Params").
    public var parameters: Int
    /// 2 × multiply-accumulates of one teacher-forced forward pass, output projection excluded (HAT's "FLOPs").
    public var flops: Int
    /// Embedding parameters the SubTransformer uses (the shared table counted once, at the wider of the two dims).
    public var embeddingParameters: Int
    /// Bytes of all the SubTransformer's weights (parameters + embeddings) in MB (10⁶ bytes):
    /// float32, or as `hat quantize` stores them when the profiler counts quantized weights.
    public var modelSizeMB: Double
    /// Estimated peak memory of one inference (one sentence, beam search) in MB: weights plus
    /// the largest set of live activations and caches (see `peakInferenceBytes`).
    public var peakInferenceMB: Double
    public var sequenceLength: Int
    public var beam: Int
}

public struct Profiler {
    public var qkvDim: Int
    public var sourceVocabSize: Int
    public var targetVocabSize: Int
    public var sharedEmbeddings: Bool
    /// A separate output projection (`SearchSpace.separateOutputProjection`) adds a target-vocabulary table.
    public var separateOutputProjection: Bool
    /// Bits per weight of K-means-quantized matrices (`hat quantize --bits`; one codebook per
    /// matrix); nil: float32 weights. Sets the model size and the weights in the peak memory.
    public var weightBits: Int?

    public init(qkvDim: Int = 512, sourceVocabSize: Int, targetVocabSize: Int, sharedEmbeddings: Bool, separateOutputProjection: Bool = false) {
        self.qkvDim = qkvDim
        self.sourceVocabSize = sourceVocabSize
        self.targetVocabSize = targetVocabSize
        self.sharedEmbeddings = sharedEmbeddings
        self.separateOutputProjection = separateOutputProjection
    }

    /// The profiler of a space's SubTransformers for these vocabularies.
    public init(space: SearchSpace, sourceVocabSize: Int, targetVocabSize: Int) {
        self.init(
            qkvDim: space.qkvDim, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize,
            sharedEmbeddings: space.shareAllEmbeddings, separateOutputProjection: space.hasSeparateOutputProjection)
    }

    /// HAT's #Params: per encoder layer 3·qkv·d + 3·qkv (QKV) + qkv·d + d (out) + 2·d·f + f + d
    /// (FFN) + 4d (two LayerNorms); per decoder layer the same self-attention, a cross-attention
    /// qkv·d + 2·qkv·d_enc + 3·qkv + qkv·d + d, the FFN and 6d (three LayerNorms).
    public func parameters(_ c: SubTransformerConfig) -> Int {
        let q = qkvDim
        var n = 0
        let de = c.encoderEmbedDim, dd = c.decoderEmbedDim
        for f in c.encoderFFNDims {
            n += 3 * q * de + 3 * q + q * de + de + 2 * de * f + f + de + 4 * de
        }
        for f in c.decoderFFNDims {
            n += 3 * q * dd + 3 * q + q * dd + dd  // self-attention
            n += q * dd + 2 * q * de + 3 * q + q * dd + dd  // cross-attention
            n += 2 * dd * f + f + dd + 6 * dd  // FFN and three LayerNorms
        }
        return n
    }

    /// Multiply-accumulates of a teacher-forced forward pass with source and target length
    /// `length`, output projection excluded, counted as HAT's profiler counts them
    /// (torchprofile on HAT's model; the rule is derived and checked against all 37 published
    /// SubTransformers by Tests/Oracle/hat_sizes_reference.py):
    /// - every linear layer: tokens × in × out;
    /// - attention products Q·Kᵀ and P·V: queries × keys × qkv each (head count does not matter);
    /// - cross-attention K and V are projected from the concatenated encoder layers (§3), so
    ///   that projection and the products grow with the number of attended layers;
    /// - one MAC per element for the √d embedding scaling, the query scaling (tokens × qkv)
    ///   and each LayerNorm (tokens × d), and 2 per target/source position for positions;
    /// - bias and residual adds, softmax, ReLU, dropout and lookups count zero.
    public func multiplyAccumulates(_ c: SubTransformerConfig, length: Int) -> Int {
        let q = qkvDim, s = length, t = length
        let de = c.encoderEmbedDim, dd = c.decoderEmbedDim
        var macs = s * de + t * dd + 2 * s  // embedding scaling; fairseq's make_positions
        for f in c.encoderFFNDims {
            let attention = s * de * 3 * q + s * q + 2 * s * s * q + s * q * de
            let ffn = 2 * s * de * f
            macs += attention + ffn + 2 * s * de
        }
        for (i, f) in c.decoderFFNDims.enumerated() {
            let keys = s * c.attendedEncoderLayers(decoderLayer: i)
            let selfAttention = t * dd * 3 * q + t * q + 2 * t * t * q + t * q * dd
            let keyValues = keys * de * 2 * q
            let crossAttention = t * dd * q + keyValues + t * q + 2 * t * keys * q + t * q * dd
            let ffn = 2 * t * dd * f
            macs += selfAttention + crossAttention + ffn + 3 * t * dd
        }
        return macs
    }

    public func embeddingParameters(_ c: SubTransformerConfig) -> Int {
        (sharedEmbeddings
            ? sourceVocabSize * Swift.max(c.encoderEmbedDim, c.decoderEmbedDim)
            : sourceVocabSize * c.encoderEmbedDim + targetVocabSize * c.decoderEmbedDim)
            + (separateOutputProjection ? targetVocabSize * c.decoderEmbedDim : 0)
    }

    /// Bytes of the SubTransformer's weights: float32, or quantized at `weightBits`.
    public func weightBytes(_ c: SubTransformerConfig) -> Int {
        guard let weightBits else { return 4 * (parameters(c) + embeddingParameters(c)) }
        let shapes = SubTransformerCorners.shapes(
            of: c, qkvDim: qkvDim, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize,
            sharedEmbeddings: sharedEmbeddings, separateOutputProjection: separateOutputProjection)
        return SubTransformerCorners.quantizedBytes(shapes, bits: weightBits)
    }

    /// Peak bytes of one inference of a `length`-token sentence with beam search, as our
    /// engine runs it (fp32, Generate/IncrementalDecoder.swift): the weights, the encoder outputs
    /// that cross-attention reads (the last three layers at most), each decoder layer's
    /// cross-attention keys and values (kept once per sentence: attended source × qkv × 2) and
    /// self-attention cache (beam × length × qkv × 2, twice: beam search's reorder gathers into a
    /// spare buffer of the same size), plus the larger working set of an encoder layer (scores
    /// heads × S × S, FFN S × f) or a decoder step (logits beam × V, FFN beam × f). Checked
    /// against the engine's own count of its tensors (`hat latency measure --memory`): never below.
    public func peakInferenceBytes(_ c: SubTransformerConfig, length: Int, beam: Int) -> Int {
        let q = qkvDim, s = length
        let encoderStates = Swift.min(3, c.encoderLayerNum) * s * c.encoderEmbedDim
        var caches = 0
        for i in 0..<c.decoderLayerNum {
            caches += 2 * s * c.attendedEncoderLayers(decoderLayer: i) * q  // cross K, V
            caches += 2 * 2 * beam * length * q  // self K, V and their spares
        }
        // A layer's working set: the QKV projection and the attention's output (4 × qkv per
        // position), scores and their softmax, the FFN's hidden layer, residual and norm.
        var encoderWork = 0
        for i in 0..<c.encoderLayerNum {
            let scores: Int = 2 * c.encoderSelfAttentionHeads[i] * s * s
            let work: Int = s * 4 * q + scores + s * c.encoderFFNDims[i] + 2 * s * c.encoderEmbedDim
            encoderWork = Swift.max(encoderWork, work)
        }
        var stepScores = 0
        for i in 0..<c.decoderLayerNum {
            let selfScores = c.decoderSelfAttentionHeads[i] * length
            let crossScores = c.decoderCrossAttentionHeads[i] * s * c.attendedEncoderLayers(decoderLayer: i)
            stepScores = Swift.max(stepScores, 2 * beam * Swift.max(selfScores, crossScores))
        }
        let logits: Int = beam * targetVocabSize * 2
        let decoderWork: Int =
            logits + beam * (c.decoderFFNDims.max() ?? 0) + 4 * beam * c.decoderEmbedDim + 4 * beam * q + stepScores
        return weightBytes(c) + 4 * (encoderStates + caches + Swift.max(encoderWork, decoderWork))
    }

    public func profile(_ c: SubTransformerConfig, length: Int = 30, beam: Int = 5) -> ModelProfile {
        ModelProfile(
            parameters: parameters(c), flops: 2 * multiplyAccumulates(c, length: length),
            embeddingParameters: embeddingParameters(c), modelSizeMB: Double(weightBytes(c)) / 1e6,
            peakInferenceMB: Double(peakInferenceBytes(c, length: length, beam: beam)) / 1e6,
            sequenceLength: length, beam: beam)
    }
}
