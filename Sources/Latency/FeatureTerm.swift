import Foundation

/// One column of a linear latency model: a product of HAT features times a constant,
/// e.g. decoder layers × decoder embed dim × mean decoder FFN dim × 2·10⁻⁶ (the decoder FFN's
/// millions of multiply-accumulates per token). Stored by feature name, so a predictor file says
/// what it computes.
public struct FeatureTerm: Codable, Hashable, Sendable, CustomStringConvertible {
    /// HAT CSV feature names (`LatencyDataset.featureNames`); empty for a constant.
    public var factors: [String]
    public var scale: Double
    /// Indices of `factors` into the feature vector.
    let indices: [Int]

    public init(_ factors: [String], scale: Double = 1) {
        self.factors = factors
        self.scale = scale
        indices = factors.map { name in
            guard let i = LatencyDataset.featureNames.firstIndex(of: name) else {
                preconditionFailure("unknown HAT feature '\(name)'")
            }
            return i
        }
    }

    enum CodingKeys: String, CodingKey { case factors, scale }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        factors = try c.decode([String].self, forKey: .factors)
        scale = try c.decode(Double.self, forKey: .scale)
        indices = try factors.map { name in
            guard let i = LatencyDataset.featureNames.firstIndex(of: name) else {
                throw LatencyError(column: "factors", "unknown feature '\(name)'; known: \(LatencyDataset.featureNames.joined(separator: ", "))")
            }
            return i
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(factors, forKey: .factors)
        try c.encode(scale, forKey: .scale)
    }

    @inline(__always)
    public func value(_ features: [Double]) -> Double {
        var v = scale
        for i in indices { v *= features[i] }
        return v
    }

    public var description: String {
        (factors.isEmpty ? "1" : factors.joined(separator: "·")) + (scale == 1 ? "" : " × \(scale)")
    }
}

/// The term sets of the linear predictors.
///
/// Notation: e/E encoder embed dim, L encoder layers, F mean encoder FFN dim, H mean encoder
/// heads; d decoder embed dim, l decoder layers, f mean decoder FFN dim, s/c mean decoder
/// self/cross heads, a mean attended encoder layers (1–3). Per-layer totals are layers × mean,
/// which is exact for linear costs: that is why HAT's averaged features lose nothing for them.
public enum FeatureTerms {
    static let de = "encoder_embed_dim", le = "encoder_layer_num", fe = "encoder_ffn_embed_dim_avg"
    static let he = "encoder_self_attention_heads_avg", dd = "decoder_embed_dim", ld = "decoder_layer_num"
    static let fd = "decoder_ffn_embed_dim_avg", hs = "decoder_self_attention_heads_avg"
    static let hc = "decoder_ende_attention_heads_avg", ar = "decoder_arbitrary_ende_attn_avg"

    /// Physical cost components of the encoder (one forward of the source sentence), each per
    /// token: attention projections 4·512·E·L MACs (qkv-dim 512, hat-reference.md §1), FFN
    /// 2·E·F·L MACs, head count (operations per layer), embedding width.
    public static let costEncoder: [FeatureTerm] = [
        FeatureTerm([le, de], scale: 4 * 512e-6),
        FeatureTerm([le, de, fe], scale: 2e-6),
        FeatureTerm([le, he]),
        FeatureTerm([de], scale: 1e-3),
    ]

    /// Physical cost components of the decoder (30 incremental steps): per-layer operator
    /// overhead (l), self- and cross-attention projections 6·512·d·l MACs per step, FFN
    /// 2·d·f·l, cross-attention keys/values over the attended encoder layers 2·512·E·l·a and
    /// their base E·l, the output projection (∝ d), and head counts.
    public static let costDecoder: [FeatureTerm] = [
        FeatureTerm([ld]),
        FeatureTerm([ld, dd], scale: 6 * 512e-6),
        FeatureTerm([ld, dd, fd], scale: 2e-6),
        FeatureTerm([ld, ar, de], scale: 1024e-6),
        FeatureTerm([dd], scale: 1e-3),
        FeatureTerm([ld, de], scale: 512e-6),
        FeatureTerm([ld, hs]),
        FeatureTerm([ld, hc]),
    ]

    /// The decoder components a target's own few samples are fitted on (`FewShotAdapter`): a
    /// subset of `costDecoder` (operator overhead per layer, FFN MACs, cross-attention keys and
    /// values, output width). Ten noisy samples cannot pin down all eight; with these four the
    /// fit extrapolates to layer counts the samples miss (e.g. a GPU measured only at 4–6
    /// decoder layers).
    public static let fewShotDecoder: [FeatureTerm] = [costDecoder[0], costDecoder[2], costDecoder[3], costDecoder[4]]

    /// The encoder columns of the ridge predictor: the products that FLOPs and operator counts
    /// are made of (no sign constraint; ridge shrinks what the data do not support).
    public static let ridgeEncoder: [FeatureTerm] = [
        FeatureTerm([de]), FeatureTerm([le]), FeatureTerm([le, de]), FeatureTerm([le, de, fe], scale: 1e-3),
        FeatureTerm([le, fe]), FeatureTerm([le, he]), FeatureTerm([le, de, he]),
    ]

    /// The decoder columns of the ridge predictor.
    public static let ridgeDecoder: [FeatureTerm] = [
        FeatureTerm([dd]), FeatureTerm([ld]), FeatureTerm([ld, dd]), FeatureTerm([ld, dd, fd], scale: 1e-3),
        FeatureTerm([ld, fd]), FeatureTerm([ld, hs]), FeatureTerm([ld, hc]), FeatureTerm([ld, ar]),
        FeatureTerm([ld, ar, dd]), FeatureTerm([ld, de]), FeatureTerm([ld, dd, de], scale: 1e-3),
        FeatureTerm([ld, ar, de]),
    ]
}
