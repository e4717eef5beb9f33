import TensorEngine

/// A SuperTransformer's sizes and the choices its SubTransformers draw from (hat-reference.md §1).
///
/// Read from a HAT space file (space0.yml, space1.yml) with `SearchSpace(file:)`. Keys without
/// a `*-choice` list allow only the super size (e.g. HAT's common.yml).
public struct SearchSpace: Hashable, Codable, Sendable {
    // SuperTransformer (largest) sizes
    public var encoderEmbedDim: Int
    public var decoderEmbedDim: Int
    public var encoderFFNDim: Int
    public var decoderFFNDim: Int
    public var encoderLayers: Int
    public var decoderLayers: Int
    public var encoderAttentionHeads: Int
    public var decoderAttentionHeads: Int
    /// Width of Q, K and V, fixed for every SubTransformer (HAT: 512).
    public var qkvDim: Int
    /// One joint table for encoder input, decoder input and output projection.
    public var shareAllEmbeddings: Bool
    /// Whether the decoder's output projection is a table of its own (fairseq's `decoder.embed_out`)
    /// instead of the decoder's input embedding: fairseq's default when neither
    /// share-all-embeddings nor share-decoder-input-output-embed is set, as in HAT's IWSLT space.
    /// nil means false, and keeps the key out of the JSON (checkpoints, fingerprints) of every
    /// space that ties the projection, as all did before the key existed.
    public var separateOutputProjection: Bool?
    public var hasSeparateOutputProjection: Bool { separateOutputProjection == true }

    // SubTransformer choices
    public var encoderEmbedChoices: [Int]
    public var decoderEmbedChoices: [Int]
    public var encoderFFNChoices: [Int]
    public var decoderFFNChoices: [Int]
    public var encoderLayerChoices: [Int]
    public var decoderLayerChoices: [Int]
    public var encoderSelfAttentionHeadChoices: [Int]
    public var decoderSelfAttentionHeadChoices: [Int]
    public var decoderCrossAttentionHeadChoices: [Int]
    public var decoderArbitraryAttentionChoices: [Int]

    /// Where the space was read from, for messages.
    public var source: String = "<built in>"

    public init(
        encoderEmbedDim: Int, decoderEmbedDim: Int, encoderFFNDim: Int, decoderFFNDim: Int,
        encoderLayers: Int, decoderLayers: Int, encoderAttentionHeads: Int, decoderAttentionHeads: Int,
        qkvDim: Int, shareAllEmbeddings: Bool,
        encoderEmbedChoices: [Int], decoderEmbedChoices: [Int], encoderFFNChoices: [Int], decoderFFNChoices: [Int],
        encoderLayerChoices: [Int], decoderLayerChoices: [Int], encoderSelfAttentionHeadChoices: [Int],
        decoderSelfAttentionHeadChoices: [Int], decoderCrossAttentionHeadChoices: [Int],
        decoderArbitraryAttentionChoices: [Int]
    ) {
        self.encoderEmbedDim = encoderEmbedDim
        self.decoderEmbedDim = decoderEmbedDim
        self.encoderFFNDim = encoderFFNDim
        self.decoderFFNDim = decoderFFNDim
        self.encoderLayers = encoderLayers
        self.decoderLayers = decoderLayers
        self.encoderAttentionHeads = encoderAttentionHeads
        self.decoderAttentionHeads = decoderAttentionHeads
        self.qkvDim = qkvDim
        self.shareAllEmbeddings = shareAllEmbeddings
        self.encoderEmbedChoices = encoderEmbedChoices
        self.decoderEmbedChoices = decoderEmbedChoices
        self.encoderFFNChoices = encoderFFNChoices
        self.decoderFFNChoices = decoderFFNChoices
        self.encoderLayerChoices = encoderLayerChoices
        self.decoderLayerChoices = decoderLayerChoices
        self.encoderSelfAttentionHeadChoices = encoderSelfAttentionHeadChoices
        self.decoderSelfAttentionHeadChoices = decoderSelfAttentionHeadChoices
        self.decoderCrossAttentionHeadChoices = decoderCrossAttentionHeadChoices
        self.decoderArbitraryAttentionChoices = decoderArbitraryAttentionChoices
    }

    /// Reads a HAT space (or any HAT file with the SuperTransformer keys) and validates it.
    public init(file: HATConfigFile) throws {
        func required(_ key: String) throws -> Int {
            guard let v = try file.int(key) else {
                throw ConfigError(file: file.path, key: key, "is missing: a search space must give the SuperTransformer size")
            }
            return v
        }
        let encEmbed = try required("encoder-embed-dim"), decEmbed = try required("decoder-embed-dim")
        let encFFN = try required("encoder-ffn-embed-dim"), decFFN = try required("decoder-ffn-embed-dim")
        let encLayers = try required("encoder-layers"), decLayers = try required("decoder-layers")
        let encHeads = try required("encoder-attention-heads"), decHeads = try required("decoder-attention-heads")
        self.init(
            encoderEmbedDim: encEmbed, decoderEmbedDim: decEmbed, encoderFFNDim: encFFN, decoderFFNDim: decFFN,
            encoderLayers: encLayers, decoderLayers: decLayers, encoderAttentionHeads: encHeads, decoderAttentionHeads: decHeads,
            qkvDim: try file.int("qkv-dim") ?? 512,
            shareAllEmbeddings: try file.bool("share-all-embeddings") ?? false,
            encoderEmbedChoices: try file.ints("encoder-embed-choice") ?? [encEmbed],
            decoderEmbedChoices: try file.ints("decoder-embed-choice") ?? [decEmbed],
            encoderFFNChoices: try file.ints("encoder-ffn-embed-dim-choice") ?? [encFFN],
            decoderFFNChoices: try file.ints("decoder-ffn-embed-dim-choice") ?? [decFFN],
            encoderLayerChoices: try file.ints("encoder-layer-num-choice") ?? [encLayers],
            decoderLayerChoices: try file.ints("decoder-layer-num-choice") ?? [decLayers],
            encoderSelfAttentionHeadChoices: try file.ints("encoder-self-attention-heads-choice") ?? [encHeads],
            decoderSelfAttentionHeadChoices: try file.ints("decoder-self-attention-heads-choice") ?? [decHeads],
            decoderCrossAttentionHeadChoices: try file.ints("decoder-ende-attention-heads-choice") ?? [decHeads],
            decoderArbitraryAttentionChoices: try file.ints("decoder-arbitrary-ende-attn-choice") ?? [-1])
        let tied = try shareAllEmbeddings || (file.bool("share-decoder-input-output-embed") ?? false)
        separateOutputProjection = tied ? nil : true
        source = file.path
        try validate(lines: file.lines)
    }

    public init(contentsOf path: String) throws { try self.init(file: HATConfigFile(path: path)) }

    /// Every choice must fit in the SuperTransformer; heads must divide qkv-dim; arbitrary
    /// attention must be -1, 1 or 2. Errors name the key, the value and the file.
    /// Widths (embedding, FFN, qkv) and depths beyond any Transformer this tool targets; they keep
    /// the size and FLOPs arithmetic far from Int overflow.
    public static let largestDim = 65_536
    public static let largestLayerCount = 256

    public func validate(lines: [String: Int] = [:]) throws {
        func fail(_ key: String, _ message: String) -> ConfigError {
            ConfigError(file: source, line: lines[key], key: key, message)
        }
        let positive: [(String, Int)] = [
            ("encoder-embed-dim", encoderEmbedDim), ("decoder-embed-dim", decoderEmbedDim),
            ("encoder-ffn-embed-dim", encoderFFNDim), ("decoder-ffn-embed-dim", decoderFFNDim),
            ("encoder-layers", encoderLayers), ("decoder-layers", decoderLayers),
            ("encoder-attention-heads", encoderAttentionHeads), ("decoder-attention-heads", decoderAttentionHeads),
            ("qkv-dim", qkvDim),
        ]
        for (key, v) in positive where v <= 0 { throw fail(key, "must be positive, is \(v)") }
        for (key, v) in positive where v > (key.hasSuffix("layers") ? Self.largestLayerCount : Self.largestDim) {
            throw fail(key, "\(v) is beyond the largest supported value \(key.hasSuffix("layers") ? Self.largestLayerCount : Self.largestDim)")
        }
        if shareAllEmbeddings && encoderEmbedDim != decoderEmbedDim {
            throw fail("share-all-embeddings", "a shared table needs encoder-embed-dim (\(encoderEmbedDim)) == decoder-embed-dim (\(decoderEmbedDim))")
        }
        let bounded: [(String, [Int], Int, String)] = [
            ("encoder-embed-choice", encoderEmbedChoices, encoderEmbedDim, "encoder-embed-dim"),
            ("decoder-embed-choice", decoderEmbedChoices, decoderEmbedDim, "decoder-embed-dim"),
            ("encoder-ffn-embed-dim-choice", encoderFFNChoices, encoderFFNDim, "encoder-ffn-embed-dim"),
            ("decoder-ffn-embed-dim-choice", decoderFFNChoices, decoderFFNDim, "decoder-ffn-embed-dim"),
            ("encoder-layer-num-choice", encoderLayerChoices, encoderLayers, "encoder-layers"),
            ("decoder-layer-num-choice", decoderLayerChoices, decoderLayers, "decoder-layers"),
        ]
        for (key, choices, limit, superKey) in bounded {
            if choices.isEmpty { throw fail(key, "is an empty list: give at least one choice") }
            for c in choices where c <= 0 || c > limit {
                throw fail(key, "choice \(c) is outside 1...\(limit) (the SuperTransformer's \(superKey))")
            }
        }
        for (key, choices) in [
            ("encoder-self-attention-heads-choice", encoderSelfAttentionHeadChoices),
            ("decoder-self-attention-heads-choice", decoderSelfAttentionHeadChoices),
            ("decoder-ende-attention-heads-choice", decoderCrossAttentionHeadChoices),
        ] {
            if choices.isEmpty { throw fail(key, "is an empty list: give at least one choice") }
            for h in choices where h <= 0 || qkvDim % h != 0 {
                throw fail(key, "\(h) heads do not divide qkv-dim \(qkvDim)")
            }
        }
        if decoderArbitraryAttentionChoices.isEmpty { throw fail("decoder-arbitrary-ende-attn-choice", "is an empty list") }
        for a in decoderArbitraryAttentionChoices where ![-1, 1, 2].contains(a) {
            throw fail("decoder-arbitrary-ende-attn-choice", "value \(a) is not one of -1 (last encoder layer), 1 (last two), 2 (last three)")
        }
    }

    /// Errors if `config` does not fit this SuperTransformer; `file` names the config's source.
    public func check(_ config: SubTransformerConfig, file: String) throws {
        try config.validate(qkvDim: qkvDim, file: file)
        func fail(_ key: String, _ message: String) -> ConfigError { ConfigError(file: file, key: key, message) }
        if config.encoderEmbedDim > encoderEmbedDim {
            throw fail("encoder-embed-dim-subtransformer", "\(config.encoderEmbedDim) exceeds the SuperTransformer's \(encoderEmbedDim) (\(source))")
        }
        if config.decoderEmbedDim > decoderEmbedDim {
            throw fail("decoder-embed-dim-subtransformer", "\(config.decoderEmbedDim) exceeds the SuperTransformer's \(decoderEmbedDim) (\(source))")
        }
        if config.encoderLayerNum > encoderLayers {
            throw fail("encoder-layer-num-subtransformer", "\(config.encoderLayerNum) exceeds the SuperTransformer's \(encoderLayers) layers (\(source))")
        }
        if config.decoderLayerNum > decoderLayers {
            throw fail("decoder-layer-num-subtransformer", "\(config.decoderLayerNum) exceeds the SuperTransformer's \(decoderLayers) layers (\(source))")
        }
        for f in config.encoderFFNDims where f > encoderFFNDim {
            throw fail("encoder-ffn-embed-dim-all-subtransformer", "\(f) exceeds the SuperTransformer's \(encoderFFNDim) (\(source))")
        }
        for f in config.decoderFFNDims where f > decoderFFNDim {
            throw fail("decoder-ffn-embed-dim-all-subtransformer", "\(f) exceeds the SuperTransformer's \(decoderFFNDim) (\(source))")
        }
    }

    /// A SubTransformer of this space read from a HAT YAML file: its per-layer lists read up to this
    /// space's depths, checked to fit the SuperTransformer (errors name the file and key).
    public func subTransformer(contentsOf path: String) throws -> SubTransformerConfig {
        try subTransformer(file: HATConfigFile(path: path))
    }

    /// `subTransformer(contentsOf:)` for a config already read (e.g. from a checkpoint's arguments).
    public func subTransformer(file: HATConfigFile) throws -> SubTransformerConfig {
        let config = try SubTransformerConfig(file: file, superLayers: (encoderLayers, decoderLayers), qkvDim: qkvDim)
        try check(config, file: file.path)
        return config
    }

    // MARK: Sampling (hat-reference.md §4)

    /// A uniformly random SubTransformer, HAT's procedure: embed dims and layer counts from
    /// their choices, then per super layer an FFN dim and head counts, and the arbitrary
    /// attention for every super decoder layer; the lists are cut to the sampled depth.
    /// Drawing for every super layer keeps the random stream independent of the depth.
    public func sample(rng: inout RandomGenerator) -> SubTransformerConfig {
        func pick(_ xs: [Int]) -> Int { xs[rng.nextInt(xs.count)] }
        let encEmbed = pick(encoderEmbedChoices), decEmbed = pick(decoderEmbedChoices)
        let encLayers = pick(encoderLayerChoices), decLayers = pick(decoderLayerChoices)
        let encFFN = (0..<encoderLayers).map { _ in pick(encoderFFNChoices) }
        let encHeads = (0..<encoderLayers).map { _ in pick(encoderSelfAttentionHeadChoices) }
        let decFFN = (0..<decoderLayers).map { _ in pick(decoderFFNChoices) }
        let decSelf = (0..<decoderLayers).map { _ in pick(decoderSelfAttentionHeadChoices) }
        let decCross = (0..<decoderLayers).map { _ in pick(decoderCrossAttentionHeadChoices) }
        let arbitrary = (0..<decoderLayers).map { _ in pick(decoderArbitraryAttentionChoices) }
        return SubTransformerConfig(
            encoderEmbedDim: encEmbed, encoderLayerNum: encLayers,
            encoderFFNDims: Array(encFFN.prefix(encLayers)), encoderSelfAttentionHeads: Array(encHeads.prefix(encLayers)),
            decoderEmbedDim: decEmbed, decoderLayerNum: decLayers,
            decoderFFNDims: Array(decFFN.prefix(decLayers)), decoderSelfAttentionHeads: Array(decSelf.prefix(decLayers)),
            decoderCrossAttentionHeads: Array(decCross.prefix(decLayers)), decoderArbitraryAttention: Array(arbitrary.prefix(decLayers)))
    }

    /// The largest SubTransformer: every choice at its maximum (arbitrary attention: the last
    /// three encoder layers when allowed).
    public var largest: SubTransformerConfig { uniform(pickingMax: true) }

    /// The smallest SubTransformer: every choice at its minimum.
    public var smallest: SubTransformerConfig { uniform(pickingMax: false) }

    private func uniform(pickingMax: Bool) -> SubTransformerConfig {
        func pick(_ xs: [Int]) -> Int { pickingMax ? xs.max()! : xs.min()! }
        let encLayers = pick(encoderLayerChoices), decLayers = pick(decoderLayerChoices)
        return SubTransformerConfig(
            encoderEmbedDim: pick(encoderEmbedChoices), encoderLayerNum: encLayers,
            encoderFFNDims: Array(repeating: pick(encoderFFNChoices), count: encLayers),
            encoderSelfAttentionHeads: Array(repeating: pick(encoderSelfAttentionHeadChoices), count: encLayers),
            decoderEmbedDim: pick(decoderEmbedChoices), decoderLayerNum: decLayers,
            decoderFFNDims: Array(repeating: pick(decoderFFNChoices), count: decLayers),
            decoderSelfAttentionHeads: Array(repeating: pick(decoderSelfAttentionHeadChoices), count: decLayers),
            decoderCrossAttentionHeads: Array(repeating: pick(decoderCrossAttentionHeadChoices), count: decLayers),
            decoderArbitraryAttention: Array(repeating: pick(decoderArbitraryAttentionChoices), count: decLayers))
    }

    // MARK: Genes (hat-reference.md §4)

    /// Length of a gene: 2 + 2·L_enc + 2 + 4·L_dec (super layer counts).
    public var geneLength: Int { 4 + 2 * encoderLayers + 4 * decoderLayers }

    /// Where a gene holds the encoder's and the decoder's layer count.
    public var geneLayerCountPositions: (encoder: Int, decoder: Int) { (1, 3 + 2 * encoderLayers) }

    /// The positions of `g` its SubTransformer reads apart from the layer counts: both embedding
    /// dims and the per-layer entries of the layers in use (not the unused slots).
    public func liveGenePositions(_ g: [Int]) -> [Int] {
        let (e, d) = geneLayerCountPositions
        var live = [e - 1, d - 1]
        for block in 0..<2 { live += (0..<g[e]).map { e + 1 + block * encoderLayers + $0 } }
        for block in 0..<4 { live += (0..<g[d]).map { d + 1 + block * decoderLayers + $0 } }
        return live
    }

    /// HAT's gene: [enc embed, enc layers, enc ffn × L_enc, enc heads × L_enc, dec embed,
    /// dec layers, dec ffn × L_dec, dec self heads × L_dec, dec cross heads × L_dec,
    /// arbitrary × L_dec] with super layer counts; unused slots hold the first choice
    /// (a valid placeholder, so mutation that deepens a net always yields a valid one).
    public func gene(of config: SubTransformerConfig) -> [Int] {
        func padded(_ xs: [Int], _ n: Int, _ filler: Int) -> [Int] { xs + Array(repeating: filler, count: n - xs.count) }
        return [config.encoderEmbedDim, config.encoderLayerNum]
            + padded(config.encoderFFNDims, encoderLayers, encoderFFNChoices[0])
            + padded(config.encoderSelfAttentionHeads, encoderLayers, encoderSelfAttentionHeadChoices[0])
            + [config.decoderEmbedDim, config.decoderLayerNum]
            + padded(config.decoderFFNDims, decoderLayers, decoderFFNChoices[0])
            + padded(config.decoderSelfAttentionHeads, decoderLayers, decoderSelfAttentionHeadChoices[0])
            + padded(config.decoderCrossAttentionHeads, decoderLayers, decoderCrossAttentionHeadChoices[0])
            + padded(config.decoderArbitraryAttention, decoderLayers, decoderArbitraryAttentionChoices[0])
    }

    /// The SubTransformer a gene describes (reads only the used layer slots).
    public func config(fromGene g: [Int]) -> SubTransformerConfig {
        precondition(g.count == geneLength, "gene has \(g.count) entries, the space needs \(geneLength)")
        let le = encoderLayers, ld = decoderLayers
        let encLayers = g[1]
        let d = 2 + 2 * le  // start of the decoder part
        let decLayers = g[d + 1]
        func slice(_ start: Int, _ n: Int) -> [Int] { Array(g[start..<(start + n)]) }
        return SubTransformerConfig(
            encoderEmbedDim: g[0], encoderLayerNum: encLayers,
            encoderFFNDims: slice(2, encLayers), encoderSelfAttentionHeads: slice(2 + le, encLayers),
            decoderEmbedDim: g[d], decoderLayerNum: decLayers,
            decoderFFNDims: slice(d + 2, decLayers), decoderSelfAttentionHeads: slice(d + 2 + ld, decLayers),
            decoderCrossAttentionHeads: slice(d + 2 + 2 * ld, decLayers), decoderArbitraryAttention: slice(d + 2 + 3 * ld, decLayers))
    }

    /// The choices allowed at each gene position (what mutation resamples from).
    public var geneChoices: [[Int]] {
        [encoderEmbedChoices, encoderLayerChoices]
            + Array(repeating: encoderFFNChoices, count: encoderLayers)
            + Array(repeating: encoderSelfAttentionHeadChoices, count: encoderLayers)
            + [decoderEmbedChoices, decoderLayerChoices]
            + Array(repeating: decoderFFNChoices, count: decoderLayers)
            + Array(repeating: decoderSelfAttentionHeadChoices, count: decoderLayers)
            + Array(repeating: decoderCrossAttentionHeadChoices, count: decoderLayers)
            + Array(repeating: decoderArbitraryAttentionChoices, count: decoderLayers)
    }
}

extension SearchSpace {
    /// Two spaces are equal when they describe the same SuperTransformer and the same choices.
    /// `source` is provenance, not part of the space: a checkpoint trained with
    /// `configs/space.yml` must resume, fine-tune and average when the same file is given as
    /// `/home/me/configs/space.yml` or from another folder.
    public static func == (a: SearchSpace, b: SearchSpace) -> Bool { a.identity == b.identity }

    public func hash(into hasher: inout Hasher) { hasher.combine(identity) }

    private var identity: [[Int]] {
        [
            [
                encoderEmbedDim, decoderEmbedDim, encoderFFNDim, decoderFFNDim, encoderLayers, decoderLayers,
                encoderAttentionHeads, decoderAttentionHeads, qkvDim, shareAllEmbeddings ? 1 : 0,
            ]
                + (hasSeparateOutputProjection ? [1] : []),
            encoderEmbedChoices, decoderEmbedChoices, encoderFFNChoices, decoderFFNChoices, encoderLayerChoices,
            decoderLayerChoices, encoderSelfAttentionHeadChoices, decoderSelfAttentionHeadChoices,
            decoderCrossAttentionHeadChoices, decoderArbitraryAttentionChoices,
        ]
    }
}
