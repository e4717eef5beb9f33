import Foundation
import NN
import TensorEngine

/// A batch of token ids, right-padded with `paddingIndex` (fairseq's layout).
public struct TokenBatch: Sendable {
    public var tokens: [Int32]
    public var batchSize: Int
    public var length: Int

    public init(tokens: [Int32], batchSize: Int, length: Int) {
        precondition(tokens.count == batchSize * length, "\(tokens.count) tokens for \(batchSize)×\(length)")
        self.tokens = tokens
        self.batchSize = batchSize
        self.length = length
    }
}

/// What the encoder hands the decoder: every layer's output (for arbitrary encoder-decoder
/// attention, hat-reference.md §3) and the source padding flags.
public struct EncoderOutput {
    /// [B, S, d_enc] per used encoder layer, first to last.
    public var layerOutputs: [Tensor]
    /// B × S flags, true at padding.
    public var padding: [Bool]

    /// Keys/values memory for a decoder layer attending the last `count` encoder layers:
    /// [last, second-to-last, ...] concatenated along the source axis, with padding repeated.
    public func memory(lastLayers count: Int) -> (states: Tensor, padding: [Bool]) {
        let chosen = Array(layerOutputs.suffix(count).reversed())
        if chosen.count == 1 { return (chosen[0], padding) }
        let (b, s) = (chosen[0].shape[0], chosen[0].shape[1])
        var repeated = [Bool](repeating: false, count: b * s * chosen.count)
        for i in 0..<b {
            for k in 0..<chosen.count {
                for j in 0..<s { repeated[i * s * chosen.count + k * s + j] = padding[i * s + j] }
            }
        }
        return (concatenate(chosen, axis: 1), repeated)
    }
}

/// The SuperTransformer: encoder and decoder at the largest sizes of a `SearchSpace`, whose
/// every SubTransformer is a corner of its tensors (hat-reference.md §2–3).
///
/// ```swift
/// var rng = RandomGenerator(seed: 1)
/// let model = SuperTransformer(space: space, sourceVocabSize: 8000, targetVocabSize: 8000, rng: &rng)
/// let sub = space.sample(rng: &rng)
/// let logits = model(source: src, previousOutput: prev, config: sub, context: .evaluation())
/// ```
public final class SuperTransformer: Module {
    public let space: SearchSpace
    public let sourceVocabSize: Int
    public let targetVocabSize: Int
    public let paddingIndex: Int32
    public var rates: DropoutRates

    /// [V_src, D_enc]; the same tensor as `decoderEmbedding` when embeddings are shared.
    public let encoderEmbedding: Tensor
    /// [V_tgt, D_dec].
    public let decoderEmbedding: Tensor
    /// [V_tgt, D_dec]: the output projection, the decoder embedding itself unless the space has a
    /// separate one (`SearchSpace.separateOutputProjection`, fairseq's `decoder.embed_out`).
    public let outputEmbedding: Tensor
    public let encoderLayers: [TransformerEncoderLayer]
    public let decoderLayers: [TransformerDecoderLayer]
    public let encoderPositions: SinusoidalPositions
    public let decoderPositions: SinusoidalPositions

    public init(
        space: SearchSpace, sourceVocabSize: Int, targetVocabSize: Int, rates: DropoutRates = DropoutRates(),
        paddingIndex: Int32 = 1, maxPositions: Int = 1024, rng: inout RandomGenerator
    ) {
        precondition(
            !space.shareAllEmbeddings || sourceVocabSize == targetVocabSize,
            "shared embeddings need one joint vocabulary (source \(sourceVocabSize), target \(targetVocabSize))")
        self.space = space
        self.sourceVocabSize = sourceVocabSize
        self.targetVocabSize = targetVocabSize
        self.paddingIndex = paddingIndex
        self.rates = rates
        // fairseq: N(0, d^-1/2), padding row zero.
        func table(_ v: Int, _ d: Int) -> Tensor {
            let t = Tensor.randn([v, d], std: 1 / Float(d).squareRoot(), rng: &rng)
            (t.storage.data + Int(paddingIndex) * d).update(repeating: 0, count: d)
            return t.requiringGrad()
        }
        encoderEmbedding = table(sourceVocabSize, space.encoderEmbedDim)
        decoderEmbedding = space.shareAllEmbeddings ? encoderEmbedding : table(targetVocabSize, space.decoderEmbedDim)
        // fairseq: embed_out ~ N(0, d^-1/2), no padding row.
        outputEmbedding =
            space.hasSeparateOutputProjection
            ? Tensor.randn([targetVocabSize, space.decoderEmbedDim], std: 1 / Float(space.decoderEmbedDim).squareRoot(), rng: &rng).requiringGrad()
            : decoderEmbedding
        encoderLayers = (0..<space.encoderLayers).map { _ in
            TransformerEncoderLayer(embedDim: space.encoderEmbedDim, ffnDim: space.encoderFFNDim, qkvDim: space.qkvDim, rng: &rng)
        }
        decoderLayers = (0..<space.decoderLayers).map { _ in
            TransformerDecoderLayer(
                embedDim: space.decoderEmbedDim, encoderEmbedDim: space.encoderEmbedDim,
                ffnDim: space.decoderFFNDim, qkvDim: space.qkvDim, rng: &rng)
        }
        encoderPositions = SinusoidalPositions(width: space.encoderEmbedDim, maxPositions: maxPositions, paddingIndex: paddingIndex)
        decoderPositions = SinusoidalPositions(width: space.decoderEmbedDim, maxPositions: maxPositions, paddingIndex: paddingIndex)
    }

    /// The longest source or target (eos included) this model has positions for.
    public var maxSentenceLength: Int { Swift.min(encoderPositions.maxPositions, decoderPositions.maxPositions) }

    /// Parameter names follow fairseq's state dict (`encoder.layers.0.fc1.weight`); a shared
    /// table appears once, as `embed_tokens.weight`.
    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var p: [(name: String, tensor: Tensor)] =
            space.shareAllEmbeddings
            ? [("embed_tokens.weight", encoderEmbedding)]
            : [("encoder.embed_tokens.weight", encoderEmbedding), ("decoder.embed_tokens.weight", decoderEmbedding)]
        for (i, l) in encoderLayers.enumerated() { p += prefixed("encoder.layers.\(i)", l.namedParameters()) }
        for (i, l) in decoderLayers.enumerated() { p += prefixed("decoder.layers.\(i)", l.namedParameters()) }
        if space.hasSeparateOutputProjection { p.append(("decoder.embed_out", outputEmbedding)) }
        return p
    }

    /// scale·E[tokens, :d] + positions[:, :d], then dropout (scale = √d_sub, §2).
    public func embed(
        _ batch: TokenBatch, table: Tensor, positions: SinusoidalPositions, width d: Int,
        dropout: Float, context: ForwardContext, startingAt start: Int = 0
    ) -> Tensor {
        let tokens = embedding(table.corner([table.shape[0], d]), indices: batch.tokens, shape: [batch.batchSize, batch.length])
        let x =
            tokens * Float(d).squareRoot()
            + positions(tokens: batch.tokens, batch: batch.batchSize, length: batch.length, width: d, startingAt: start)
        return context.dropout(x, p: dropout)
    }

    /// Runs the SubTransformer's encoder; keeps every layer's output.
    public func encode(_ source: TokenBatch, config: SubTransformerConfig, context: ForwardContext) -> EncoderOutput {
        let d = config.encoderEmbedDim
        let rates = self.rates.scaled(d, space.encoderEmbedDim)
        let padding = source.tokens.map { $0 == paddingIndex }
        var x = embed(source, table: encoderEmbedding, positions: encoderPositions, width: d, dropout: rates.dropout, context: context)
        var outputs: [Tensor] = []
        for i in 0..<config.encoderLayerNum {
            x = encoderLayers[i](
                x, heads: config.encoderSelfAttentionHeads[i], ffnDim: config.encoderFFNDims[i],
                keyPadding: padding, rates: rates, context: context)
            outputs.append(x)
        }
        return EncoderOutput(layerOutputs: outputs, padding: padding)
    }

    /// Runs the SubTransformer's decoder with teacher forcing; returns logits [B, T, V_tgt].
    public func decode(
        _ previousOutput: TokenBatch, encoderOutput: EncoderOutput, config: SubTransformerConfig,
        context: ForwardContext
    ) -> Tensor {
        let d = config.decoderEmbedDim
        let rates = self.rates.scaled(d, space.decoderEmbedDim)
        var x = embed(previousOutput, table: decoderEmbedding, positions: decoderPositions, width: d, dropout: rates.dropout, context: context)
        for i in 0..<config.decoderLayerNum {
            let memory = encoderOutput.memory(lastLayers: config.attendedEncoderLayers(decoderLayer: i))
            x = decoderLayers[i](
                x, memory: memory.states, memoryPadding: memory.padding,
                selfHeads: config.decoderSelfAttentionHeads[i], crossHeads: config.decoderCrossAttentionHeads[i],
                ffnDim: config.decoderFFNDims[i], rates: rates, context: context)
        }
        return outputProjection(x)
    }

    /// Logits over the target vocabulary: x · E[:, :d]ᵀ with the (tied) decoder embedding.
    public func outputProjection(_ x: Tensor) -> Tensor {
        linear(x, weight: outputEmbedding.corner([targetVocabSize, x.shape.last!]))
    }

    /// Teacher-forced forward pass of one SubTransformer: logits [B, T, V_tgt].
    public func callAsFunction(
        source: TokenBatch, previousOutput: TokenBatch, config: SubTransformerConfig,
        context: ForwardContext
    ) -> Tensor {
        decode(previousOutput, encoderOutput: encode(source, config: config, context: context), config: config, context: context)
    }

    /// Label-smoothed cross-entropy summed over non-padding target tokens (hat-reference.md §8),
    /// and the summed NLL; with `softTargets`, mixed with a teacher's distribution (distillation).
    public func loss(
        source: TokenBatch, previousOutput: TokenBatch, target: [Int32], config: SubTransformerConfig,
        labelSmoothing: Float, softTargets: SoftTargets? = nil, context: ForwardContext
    ) -> (loss: Tensor, nllLoss: Float) {
        let logits = self(source: source, previousOutput: previousOutput, config: config, context: context)
        return labelSmoothedCrossEntropy(
            logits: logits.reshaped([-1, targetVocabSize]), targets: target,
            epsilon: labelSmoothing, paddingIndex: paddingIndex, softTargets: softTargets)
    }
}
