import Foundation

/// One SubTransformer: the architecture of a subnet of the SuperTransformer.
///
/// Per-layer lists hold one entry per *used* layer (`encoderFFNDims.count == encoderLayerNum`).
/// HAT's YAML keys are the `*-subtransformer` / `*-all-subtransformer` ones (hat-reference.md §1).
public struct SubTransformerConfig: Hashable, Codable, Sendable, CustomStringConvertible {
    public var encoderEmbedDim: Int
    public var encoderLayerNum: Int
    public var encoderFFNDims: [Int]
    public var encoderSelfAttentionHeads: [Int]
    public var decoderEmbedDim: Int
    public var decoderLayerNum: Int
    public var decoderFFNDims: [Int]
    public var decoderSelfAttentionHeads: [Int]
    public var decoderCrossAttentionHeads: [Int]
    /// Per decoder layer: -1 attends the last encoder layer, 1 the last two, 2 the last three (§3).
    public var decoderArbitraryAttention: [Int]

    public init(
        encoderEmbedDim: Int, encoderLayerNum: Int, encoderFFNDims: [Int], encoderSelfAttentionHeads: [Int],
        decoderEmbedDim: Int, decoderLayerNum: Int, decoderFFNDims: [Int], decoderSelfAttentionHeads: [Int],
        decoderCrossAttentionHeads: [Int], decoderArbitraryAttention: [Int]
    ) {
        self.encoderEmbedDim = encoderEmbedDim
        self.encoderLayerNum = encoderLayerNum
        self.encoderFFNDims = encoderFFNDims
        self.encoderSelfAttentionHeads = encoderSelfAttentionHeads
        self.decoderEmbedDim = decoderEmbedDim
        self.decoderLayerNum = decoderLayerNum
        self.decoderFFNDims = decoderFFNDims
        self.decoderSelfAttentionHeads = decoderSelfAttentionHeads
        self.decoderCrossAttentionHeads = decoderCrossAttentionHeads
        self.decoderArbitraryAttention = decoderArbitraryAttention
    }

    /// Number of encoder layers decoder layer `i`'s cross-attention reads (1, 2 or 3), capped
    /// by the encoder depth.
    public func attendedEncoderLayers(decoderLayer i: Int) -> Int {
        let n: Int
        switch decoderArbitraryAttention[i] {
        case 1: n = 2
        case 2: n = 3
        default: n = 1
        }
        return Swift.min(n, encoderLayerNum)
    }

    public var description: String {
        "enc \(encoderEmbedDim)d×\(encoderLayerNum) ffn \(encoderFFNDims) heads \(encoderSelfAttentionHeads) | "
            + "dec \(decoderEmbedDim)d×\(decoderLayerNum) ffn \(decoderFFNDims) self \(decoderSelfAttentionHeads) "
            + "cross \(decoderCrossAttentionHeads) arbitrary \(decoderArbitraryAttention)"
    }

    /// HAT's 10 latency-predictor features, in the column order of HAT's CSVs (hat-reference.md §4):
    /// encoder embed, encoder layers, mean encoder FFN, mean encoder heads, decoder embed,
    /// decoder layers, mean decoder FFN, mean decoder self heads, mean decoder cross heads,
    /// mean arbitrary attention mapped -1→1, 1→2, 2→3 — means over the used layers.
    public var hatFeatures: [Double] {
        func mean(_ xs: [Int]) -> Double { xs.isEmpty ? 0 : Double(xs.reduce(0, +)) / Double(xs.count) }
        let arbitrary = decoderArbitraryAttention.map { $0 == -1 ? 1 : $0 + 1 }
        return [
            Double(encoderEmbedDim), Double(encoderLayerNum), mean(encoderFFNDims), mean(encoderSelfAttentionHeads),
            Double(decoderEmbedDim), Double(decoderLayerNum), mean(decoderFFNDims), mean(decoderSelfAttentionHeads),
            mean(decoderCrossAttentionHeads), mean(arbitrary),
        ]
    }

    /// HAT's CSV names of `hatFeatures`.
    public static let hatFeatureNames = [
        "encoder_embed_dim", "encoder_layer_num", "encoder_ffn_embed_dim_avg", "encoder_self_attention_heads_avg",
        "decoder_embed_dim", "decoder_layer_num", "decoder_ffn_embed_dim_avg", "decoder_self_attention_heads_avg",
        "decoder_ende_attention_heads_avg", "decoder_arbitrary_ende_attn_avg",
    ]

    /// Checks internal consistency (list lengths, value ranges); `file` names the source for messages.
    public func validate(qkvDim: Int, file: String) throws {
        func check(_ cond: Bool, _ key: String, _ message: String) throws {
            if !cond { throw ConfigError(file: file, key: key, message) }
        }
        try check(encoderEmbedDim > 0, "encoder-embed-dim-subtransformer", "must be positive, is \(encoderEmbedDim)")
        try check(decoderEmbedDim > 0, "decoder-embed-dim-subtransformer", "must be positive, is \(decoderEmbedDim)")
        try check(encoderLayerNum >= 1, "encoder-layer-num-subtransformer", "must be at least 1, is \(encoderLayerNum)")
        try check(decoderLayerNum >= 1, "decoder-layer-num-subtransformer", "must be at least 1, is \(decoderLayerNum)")
        // Upper bounds keep size and FLOPs arithmetic far from Int overflow; HAT's largest
        // spaces stop at 1,024 dims, 4,096 FFN and 7 layers.
        for (key, v) in [("encoder-embed-dim-subtransformer", encoderEmbedDim), ("decoder-embed-dim-subtransformer", decoderEmbedDim)] {
            try check(v <= SearchSpace.largestDim, key, "\(v) is beyond the largest supported width \(SearchSpace.largestDim)")
        }
        for (key, v) in [("encoder-layer-num-subtransformer", encoderLayerNum), ("decoder-layer-num-subtransformer", decoderLayerNum)] {
            try check(v <= SearchSpace.largestLayerCount, key, "\(v) is beyond the largest supported depth \(SearchSpace.largestLayerCount)")
        }
        let lists: [(String, [Int], Int)] = [
            ("encoder-ffn-embed-dim-all-subtransformer", encoderFFNDims, encoderLayerNum),
            ("encoder-self-attention-heads-all-subtransformer", encoderSelfAttentionHeads, encoderLayerNum),
            ("decoder-ffn-embed-dim-all-subtransformer", decoderFFNDims, decoderLayerNum),
            ("decoder-self-attention-heads-all-subtransformer", decoderSelfAttentionHeads, decoderLayerNum),
            ("decoder-ende-attention-heads-all-subtransformer", decoderCrossAttentionHeads, decoderLayerNum),
            ("decoder-arbitrary-ende-attn-all-subtransformer", decoderArbitraryAttention, decoderLayerNum),
        ]
        for (key, list, n) in lists {
            try check(list.count == n, key, "has \(list.count) entries \(list) but the layer count is \(n)")
        }
        for (key, list) in [
            ("encoder-ffn-embed-dim-all-subtransformer", encoderFFNDims),
            ("decoder-ffn-embed-dim-all-subtransformer", decoderFFNDims),
        ] {
            for v in list {
                try check(v > 0, key, "FFN dims must be positive, found \(v)")
                try check(v <= SearchSpace.largestDim, key, "\(v) is beyond the largest supported width \(SearchSpace.largestDim)")
            }
        }
        for (key, list) in [
            ("encoder-self-attention-heads-all-subtransformer", encoderSelfAttentionHeads),
            ("decoder-self-attention-heads-all-subtransformer", decoderSelfAttentionHeads),
            ("decoder-ende-attention-heads-all-subtransformer", decoderCrossAttentionHeads),
        ] {
            for v in list {
                try check(v > 0 && qkvDim % v == 0, key, "\(v) heads do not divide qkv-dim \(qkvDim)")
            }
        }
        for v in decoderArbitraryAttention {
            try check(
                [-1, 1, 2].contains(v), "decoder-arbitrary-ende-attn-all-subtransformer",
                "value \(v) is not one of -1 (last encoder layer), 1 (last two), 2 (last three)")
        }
    }
}

// MARK: HAT YAML

extension SubTransformerConfig {
    /// Reads a HAT SubTransformer file (e.g. HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml).
    ///
    /// Per-layer lists have one entry per used layer; when `superLayers` is given, a list with
    /// one entry per super layer (a whole gene) is also accepted and cut to the layer count.
    public init(file: HATConfigFile, superLayers: (encoder: Int, decoder: Int)? = nil, qkvDim: Int = 512) throws {
        func required(_ key: String) throws -> Int {
            guard let v = try file.int(key) else {
                throw ConfigError(file: file.path, key: key, "is missing: a SubTransformer file must give it")
            }
            return v
        }
        func list(_ key: String, layers: Int, superLayers: Int?) throws -> [Int] {
            guard let v = try file.ints(key) else {
                throw ConfigError(file: file.path, key: key, "is missing: give one value per layer")
            }
            if v.count == layers { return v }
            if v.count > layers, let n = superLayers, v.count == n { return Array(v.prefix(layers)) }
            throw file.error(key, "has \(v.count) entries \(v) but the layer count is \(layers)")
        }
        let encLayers = try required("encoder-layer-num-subtransformer")
        let decLayers = try required("decoder-layer-num-subtransformer")
        self.init(
            encoderEmbedDim: try required("encoder-embed-dim-subtransformer"),
            encoderLayerNum: encLayers,
            encoderFFNDims: try list("encoder-ffn-embed-dim-all-subtransformer", layers: encLayers, superLayers: superLayers?.encoder),
            encoderSelfAttentionHeads: try list("encoder-self-attention-heads-all-subtransformer", layers: encLayers, superLayers: superLayers?.encoder),
            decoderEmbedDim: try required("decoder-embed-dim-subtransformer"),
            decoderLayerNum: decLayers,
            decoderFFNDims: try list("decoder-ffn-embed-dim-all-subtransformer", layers: decLayers, superLayers: superLayers?.decoder),
            decoderSelfAttentionHeads: try list("decoder-self-attention-heads-all-subtransformer", layers: decLayers, superLayers: superLayers?.decoder),
            decoderCrossAttentionHeads: try list("decoder-ende-attention-heads-all-subtransformer", layers: decLayers, superLayers: superLayers?.decoder),
            decoderArbitraryAttention: try list("decoder-arbitrary-ende-attn-all-subtransformer", layers: decLayers, superLayers: superLayers?.decoder))
        try validate(qkvDim: qkvDim, file: file.path)
    }

    public init(contentsOf path: String, superLayers: (encoder: Int, decoder: Int)? = nil, qkvDim: Int = 512) throws {
        try self.init(file: HATConfigFile(path: path), superLayers: superLayers, qkvDim: qkvDim)
    }

    /// The SubTransformer as a HAT YAML file (the keys and layout HAT's own configs use).
    public func hatYAML(comment: String? = nil) -> String {
        func list(_ xs: [Int]) -> String { "[" + xs.map(String.init).joined(separator: ", ") + "]" }
        var out = ""
        if let comment { out += comment.split(separator: "\n").map { "# \($0)\n" }.joined() + "\n" }
        out += """
            encoder-embed-dim-subtransformer: \(encoderEmbedDim)
            decoder-embed-dim-subtransformer: \(decoderEmbedDim)

            encoder-ffn-embed-dim-all-subtransformer: \(list(encoderFFNDims))
            decoder-ffn-embed-dim-all-subtransformer: \(list(decoderFFNDims))

            encoder-layer-num-subtransformer: \(encoderLayerNum)
            decoder-layer-num-subtransformer: \(decoderLayerNum)

            encoder-self-attention-heads-all-subtransformer: \(list(encoderSelfAttentionHeads))
            decoder-self-attention-heads-all-subtransformer: \(list(decoderSelfAttentionHeads))
            decoder-ende-attention-heads-all-subtransformer: \(list(decoderCrossAttentionHeads))

            # for arbitrary encoder decoder attention. -1 means attending to last one encoder layer
            # 1 means last two encoder layers, 2 means last three encoder layers
            decoder-arbitrary-ende-attn-all-subtransformer: \(list(decoderArbitraryAttention))

            """
        return out
    }
}
