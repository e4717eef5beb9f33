import NN
import TensorEngine

/// Dropout probabilities of the SuperTransformer; a SubTransformer scales `dropout` and
/// `activationDropout` by d_sub/d_super (hat-reference.md §2).
public struct DropoutRates: Hashable, Codable, Sendable {
    public var dropout: Float
    public var attentionDropout: Float
    public var activationDropout: Float

    public init(dropout: Float = 0.3, attentionDropout: Float = 0.1, activationDropout: Float = 0) {
        self.dropout = dropout
        self.attentionDropout = attentionDropout
        self.activationDropout = activationDropout
    }

    public static let none = DropoutRates(dropout: 0, attentionDropout: 0, activationDropout: 0)

    func scaled(_ dSub: Int, _ dSuper: Int) -> DropoutRates {
        let s = Float(dSub) / Float(dSuper)
        return DropoutRates(dropout: dropout * s, attentionDropout: attentionDropout, activationDropout: activationDropout * s)
    }
}

/// One post-norm encoder layer (fairseq's default), elastic in width, FFN size and heads:
///   x = LN₁(x + Dropout(SelfAttention(x)))
///   x = LN₂(x + Dropout(fc2(Dropout_act(ReLU(fc1(x))))))
public final class TransformerEncoderLayer: Module {
    public let selfAttention: ElasticMultiheadAttention
    public let selfAttentionLayerNorm: ElasticLayerNorm
    public let fc1: ElasticLinear
    public let fc2: ElasticLinear
    public let finalLayerNorm: ElasticLayerNorm

    public init(embedDim: Int, ffnDim: Int, qkvDim: Int, rng: inout RandomGenerator) {
        selfAttention = ElasticMultiheadAttention(inputDim: embedDim, outputDim: embedDim, qkvDim: qkvDim, rng: &rng)
        selfAttentionLayerNorm = ElasticLayerNorm(dimensions: embedDim)
        fc1 = ElasticLinear(inFeatures: embedDim, outFeatures: ffnDim, rng: &rng)
        fc2 = ElasticLinear(inFeatures: ffnDim, outFeatures: embedDim, rng: &rng)
        finalLayerNorm = ElasticLayerNorm(dimensions: embedDim)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        prefixed("self_attn", selfAttention.namedParameters())
            + prefixed("self_attn_layer_norm", selfAttentionLayerNorm.namedParameters())
            + prefixed("fc1", fc1.namedParameters()) + prefixed("fc2", fc2.namedParameters())
            + prefixed("final_layer_norm", finalLayerNorm.namedParameters())
    }

    /// x: [B, S, d] → [B, S, d].
    public func callAsFunction(
        _ x: Tensor, heads: Int, ffnDim: Int, keyPadding: [Bool], rates: DropoutRates,
        context: ForwardContext
    ) -> Tensor {
        let d = x.shape[2]
        var residual = x
        var h = selfAttention.selfAttention(
            x, heads: heads, mask: AttentionMask(keyPadding: keyPadding),
            dropout: rates.attentionDropout, context: context)
        h = selfAttentionLayerNorm(residual + context.dropout(h, p: rates.dropout))
        residual = h
        var f = context.dropout(relu(fc1(h, outFeatures: ffnDim)), p: rates.activationDropout)
        f = context.dropout(fc2(f, outFeatures: d), p: rates.dropout)
        return finalLayerNorm(residual + f)
    }
}

/// One post-norm decoder layer:
///   x = LN₁(x + Dropout(CausalSelfAttention(x)))
///   x = LN₂(x + Dropout(CrossAttention(x, encoder memory)))
///   x = LN₃(x + Dropout(FFN(x)))
public final class TransformerDecoderLayer: Module {
    public let selfAttention: ElasticMultiheadAttention
    public let selfAttentionLayerNorm: ElasticLayerNorm
    public let encoderAttention: ElasticMultiheadAttention
    public let encoderAttentionLayerNorm: ElasticLayerNorm
    public let fc1: ElasticLinear
    public let fc2: ElasticLinear
    public let finalLayerNorm: ElasticLayerNorm

    public init(embedDim: Int, encoderEmbedDim: Int, ffnDim: Int, qkvDim: Int, rng: inout RandomGenerator) {
        selfAttention = ElasticMultiheadAttention(inputDim: embedDim, outputDim: embedDim, qkvDim: qkvDim, rng: &rng)
        selfAttentionLayerNorm = ElasticLayerNorm(dimensions: embedDim)
        // Q reads decoder states, K and V read encoder states: one packed table as wide as the wider.
        encoderAttention = ElasticMultiheadAttention(
            inputDim: Swift.max(embedDim, encoderEmbedDim), outputDim: embedDim,
            qkvDim: qkvDim, rng: &rng)
        encoderAttentionLayerNorm = ElasticLayerNorm(dimensions: embedDim)
        fc1 = ElasticLinear(inFeatures: embedDim, outFeatures: ffnDim, rng: &rng)
        fc2 = ElasticLinear(inFeatures: ffnDim, outFeatures: embedDim, rng: &rng)
        finalLayerNorm = ElasticLayerNorm(dimensions: embedDim)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        prefixed("self_attn", selfAttention.namedParameters())
            + prefixed("self_attn_layer_norm", selfAttentionLayerNorm.namedParameters())
            + prefixed("encoder_attn", encoderAttention.namedParameters())
            + prefixed("encoder_attn_layer_norm", encoderAttentionLayerNorm.namedParameters())
            + prefixed("fc1", fc1.namedParameters()) + prefixed("fc2", fc2.namedParameters())
            + prefixed("final_layer_norm", finalLayerNorm.namedParameters())
    }

    /// x: [B, T, d]; memory: [B, S', d_enc] (concatenated encoder layers) → [B, T, d].
    public func callAsFunction(
        _ x: Tensor, memory: Tensor, memoryPadding: [Bool], selfHeads: Int, crossHeads: Int,
        ffnDim: Int, rates: DropoutRates, context: ForwardContext
    ) -> Tensor {
        let d = x.shape[2]
        var h = selfAttention.selfAttention(
            x, heads: selfHeads, mask: AttentionMask(causal: true),
            dropout: rates.attentionDropout, context: context)
        h = selfAttentionLayerNorm(x + context.dropout(h, p: rates.dropout))
        var c = encoderAttention.crossAttention(
            h, memory: memory, heads: crossHeads, mask: AttentionMask(keyPadding: memoryPadding),
            dropout: rates.attentionDropout, context: context)
        h = encoderAttentionLayerNorm(h + context.dropout(c, p: rates.dropout))
        c = context.dropout(relu(fc1(h, outFeatures: ffnDim)), p: rates.activationDropout)
        c = context.dropout(fc2(c, outFeatures: d), p: rates.dropout)
        return finalLayerNorm(h + c)
    }
}
