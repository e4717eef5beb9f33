import Foundation
import Model
import NN
import TensorEngine

/// Writes one SubTransformer of a SuperTransformer as two ONNX graphs (THANOS's deployment path,
/// seeds/thanos): only the SubTransformer's corner of every super weight is stored, under
/// fairseq's parameter names, so the files are the size of the small model.
///
///   encoder.onnx  src_tokens [batch, src_len] (int64, right-padded)
///                 → encoder_out.<i> [batch, src_len, d_enc] for every encoder layer i that a
///                   decoder layer attends (HAT's arbitrary encoder-decoder attention, §3)
///                 and cross_key.<l>, cross_value.<l> [batch, heads_l, src_len·k_l, head_dim_l]:
///                   decoder layer l's encoder-decoder attention keys and values, computed once
///                   per sentence for step-by-step decoding
///   decoder.onnx  prev_output_tokens [batch, tgt_len], src_tokens, encoder_out.<i>
///                 → logits [batch, tgt_len, V_tgt] (every position at once: scoring, teacher forcing)
///   decoder_step.onnx  prev_token [batch, 1], src_tokens, cross_key.<l>, cross_value.<l>,
///                 past_key.<l>, past_value.<l> [batch, heads_l, t, head_dim_l] (t = tokens decoded
///                 so far; 0 at the first step) → log_probs [batch, V_tgt], present_key.<l>,
///                 present_value.<l> [batch, heads_l, t + 1, head_dim_l]: one step of incremental
///                 decoding with cached states, as `IncrementalDecoder.step` (a beam repeats each
///                 sentence's rows of src_tokens and cross_*, and reorders the rows of every
///                 past_* with a Gather on axis 0)
///
/// The graphs mirror `SuperTransformer.encode` / `.decode` operator by operator (post-norm
/// layers, √d-scaled embeddings plus the first d columns of the super-width sinusoid, padding
/// masks); `ExportTests` runs them in onnxruntime against our engine.
public struct SubTransformerExporter {
    public let model: SuperTransformer
    public let config: SubTransformerConfig

    /// Masked attention scores: exp(-1e9 - max) is exactly 0 in float32, as -inf is in our engine.
    static let maskValue: Float = -1e9

    public init(model: SuperTransformer, config: SubTransformerConfig) {
        self.model = model
        self.config = config
    }

    /// Encoder layers the decoder reads: the last `attendedLayerCount` of them.
    public var attendedLayerCount: Int {
        (0..<config.decoderLayerNum).map { config.attendedEncoderLayers(decoderLayer: $0) }.max() ?? 1
    }

    public var encoderOutputNames: [String] {
        ((config.encoderLayerNum - attendedLayerCount)..<config.encoderLayerNum).map { "encoder_out.\($0)" }
    }

    static func tokenShape(_ length: String) -> [ONNX.ValueInfo.Dimension] { [.symbolic("batch"), .symbolic(length)] }

    // MARK: Graphs

    public func encoderGraph() -> ONNX.Graph {
        let g = GraphBuilder(name: "hat_encoder")
        let d = config.encoderEmbedDim
        let src = g.input(
            ONNX.ValueInfo(
                name: "src_tokens", type: .int64, shape: Self.tokenShape("src_len"),
                doc: "source token ids, right-padded with \(model.paddingIndex)"))
        let isPadding = g.equal(src, g.scalar(Int64(model.paddingIndex)))
        let mask = keyPaddingMask(g, isPadding)
        let table = model.space.shareAllEmbeddings ? "embed_tokens.weight" : "encoder.embed_tokens.weight"
        var x = embed(
            g, tokens: src, positionIDs: positionIDs(g, isPadding: isPadding), table: table, tableTensor: model.encoderEmbedding,
            positions: model.encoderPositions, width: d, positionsName: "encoder.embed_positions")
        let outputs = Set(encoderOutputNames)
        var layerOutputs: [String] = []
        for i in 0..<config.encoderLayerNum {
            x = encoderLayer(g, i, x, mask: mask)
            layerOutputs.append(x)
            let name = "encoder_out.\(i)"
            if outputs.contains(name) {
                g.output(
                    x,
                    as: ONNX.ValueInfo(
                        name: name, type: .float, shape: Self.tokenShape("src_len") + [.fixed(d)],
                        doc: "output of encoder layer \(i)"))
            }
        }
        // Each decoder layer's cross-attention keys and values, head-split, for decoder_step.onnx.
        for l in 0..<config.decoderLayerNum {
            let attention = model.decoderLayers[l].encoderAttention, heads = config.decoderCrossAttentionHeads[l]
            let k = config.attendedEncoderLayers(decoderLayer: l)
            let memory = g.concat(Array(layerOutputs.suffix(k).reversed()), axis: 1)
            let p = "decoder.layers.\(l).encoder_attn"
            for (block, kind) in [(1, "key"), (2, "value")] {
                let projected = projection(g, memory, attention, block: block, columns: d, name: "\(p).\(kind == "key" ? "k" : "v")_proj")
                g.output(
                    splitHeads(g, projected, heads: heads),
                    as: ONNX.ValueInfo(
                        name: "cross_\(kind).\(l)", type: .float, shape: headShape(heads, length: "cross_len_\(l)"),
                        doc: "decoder layer \(l): encoder-decoder attention \(kind)s over the last \(k) encoder layer(s)"))
            }
        }
        var graph = g.graph
        graph.doc = "HAT SubTransformer encoder: \(config.description)"
        return graph
    }

    public func decoderGraph() -> ONNX.Graph {
        let g = GraphBuilder(name: "hat_decoder")
        let d = config.decoderEmbedDim
        let prev = g.input(
            ONNX.ValueInfo(
                name: "prev_output_tokens", type: .int64, shape: Self.tokenShape("tgt_len"),
                doc: "target-side input: end-of-sentence id first, then the tokens so far (fairseq's layout)"))
        let src = g.input(
            ONNX.ValueInfo(
                name: "src_tokens", type: .int64, shape: Self.tokenShape("src_len"),
                doc: "the source tokens given to the encoder (for the padding mask)"))
        var encoderStates: [String] = []
        for name in encoderOutputNames {
            encoderStates.append(
                g.input(
                    ONNX.ValueInfo(
                        name: name, type: .float,
                        shape: Self.tokenShape("src_len") + [.fixed(config.encoderEmbedDim)])))
        }
        let sourceMask = keyPaddingMask(g, g.equal(src, g.scalar(Int64(model.paddingIndex))))
        // Causal mask [T, T]: maskValue strictly above the diagonal.
        let t = g.elements(g.shape(prev), [1])
        let ones = g.constantOfShape(g.concat([t, t], axis: 0), value: 1)
        let causal = g.mul(g.trilu(ones, k: 1, upper: true), g.scalar(Self.maskValue))

        let isPadding = g.equal(prev, g.scalar(Int64(model.paddingIndex)))
        let table = model.space.shareAllEmbeddings ? "embed_tokens.weight" : "decoder.embed_tokens.weight"
        var x = embed(
            g, tokens: prev, positionIDs: positionIDs(g, isPadding: isPadding), table: table, tableTensor: model.decoderEmbedding,
            positions: model.decoderPositions, width: d, positionsName: "decoder.embed_positions")
        for i in 0..<config.decoderLayerNum {
            // Memory of layer i: the last k encoder layers, last first, along the source axis
            // (EncoderOutput.memory); the padding mask repeats with them.
            let k = config.attendedEncoderLayers(decoderLayer: i)
            let chosen = Array(encoderStates.suffix(k).reversed())
            let memory = g.concat(chosen, axis: 1)
            let memoryMask = g.concat(Array(repeating: sourceMask, count: k), axis: 3)
            x = decoderLayer(g, i, x, memory: memory, memoryMask: memoryMask, causalMask: causal)
        }
        // Output projection: the target embedding's first d columns, or fairseq's decoder.embed_out.
        let logits = g.linear(x, weight: outputProjection(g, tied: table, width: d), bias: nil)
        g.output(
            logits,
            as: ONNX.ValueInfo(
                name: "logits", type: .float,
                shape: Self.tokenShape("tgt_len") + [.fixed(model.targetVocabSize)],
                doc: "unnormalized scores over the target vocabulary"))
        var graph = g.graph
        graph.doc = "HAT SubTransformer decoder: \(config.description)"
        return graph
    }

    /// One step of incremental decoding (IncrementalDecoder.step): the new token's position is
    /// the number of cached positions, its self-attention reads the cache plus itself, and the
    /// cross-attention reads the encoder's precomputed keys and values.
    public func decoderStepGraph() -> ONNX.Graph {
        let g = GraphBuilder(name: "hat_decoder_step")
        let d = config.decoderEmbedDim
        let token = g.input(
            ONNX.ValueInfo(
                name: "prev_token", type: .int64, shape: [.symbolic("batch"), .fixed(1)],
                doc: "each row's previous token: end-of-sentence at the first step"))
        let src = g.input(
            ONNX.ValueInfo(
                name: "src_tokens", type: .int64, shape: Self.tokenShape("src_len"),
                doc: "the source tokens given to the encoder (for the padding mask)"))
        var cross: [(key: String, value: String)] = [], past: [(key: String, value: String)] = []
        for l in 0..<config.decoderLayerNum {
            let heads = config.decoderCrossAttentionHeads[l]
            cross.append(
                (
                    g.input(ONNX.ValueInfo(name: "cross_key.\(l)", type: .float, shape: headShape(heads, length: "cross_len_\(l)"))),
                    g.input(ONNX.ValueInfo(name: "cross_value.\(l)", type: .float, shape: headShape(heads, length: "cross_len_\(l)")))
                ))
        }
        for l in 0..<config.decoderLayerNum {
            let heads = config.decoderSelfAttentionHeads[l]
            past.append(
                (
                    g.input(
                        ONNX.ValueInfo(
                            name: "past_key.\(l)", type: .float, shape: headShape(heads, length: "past_len"),
                            doc: "self-attention keys of the tokens decoded so far (length 0 at the first step)")),
                    g.input(ONNX.ValueInfo(name: "past_value.\(l)", type: .float, shape: headShape(heads, length: "past_len")))
                ))
        }
        let sourceMask = keyPaddingMask(g, g.equal(src, g.scalar(Int64(model.paddingIndex))))
        // Position paddingIndex+1+t for t cached tokens; a padding token gets the zero row.
        let cached = g.elements(g.shape(past[0].key), [2])
        let notPadding = g.cast(g.not(g.equal(token, g.scalar(Int64(model.paddingIndex)))), to: .int64)
        let ids = g.add(g.mul(notPadding, g.add(cached, g.scalar(Int64(1)))), g.scalar(Int64(model.paddingIndex)))
        let table = model.space.shareAllEmbeddings ? "embed_tokens.weight" : "decoder.embed_tokens.weight"
        var x = embed(
            g, tokens: token, positionIDs: ids, table: table, tableTensor: model.decoderEmbedding,
            positions: model.decoderPositions, width: d, positionsName: "decoder.embed_positions")
        for l in 0..<config.decoderLayerNum {
            let layer = model.decoderLayers[l], f = config.decoderFFNDims[l], p = "decoder.layers.\(l)"
            let heads = config.decoderSelfAttentionHeads[l]
            let sa = layer.selfAttention
            let q = splitHeads(g, projection(g, x, sa, block: 0, columns: d, name: "\(p).self_attn.q_proj"), heads: heads)
            let k = g.concat(
                [past[l].key, splitHeads(g, projection(g, x, sa, block: 1, columns: d, name: "\(p).self_attn.k_proj"), heads: heads)],
                axis: 2)
            let v = g.concat(
                [past[l].value, splitHeads(g, projection(g, x, sa, block: 2, columns: d, name: "\(p).self_attn.v_proj"), heads: heads)],
                axis: 2)
            g.output(k, as: ONNX.ValueInfo(name: "present_key.\(l)", type: .float, shape: headShape(heads, length: "present_len")))
            g.output(v, as: ONNX.ValueInfo(name: "present_value.\(l)", type: .float, shape: headShape(heads, length: "present_len")))
            let s = linear(
                g, scaledDotProduct(g, q: q, k: k, v: v, heads: heads, masks: []), sa.outProj, "\(p).self_attn.out_proj",
                out: d, in: sa.qkvDim)
            var h = layerNorm(g, g.add(x, s), layer.selfAttentionLayerNorm, "\(p).self_attn_layer_norm", width: d)
            let ea = layer.encoderAttention, crossHeads = config.decoderCrossAttentionHeads[l]
            let attended = config.attendedEncoderLayers(decoderLayer: l)
            let qc = splitHeads(g, projection(g, h, ea, block: 0, columns: d, name: "\(p).encoder_attn.q_proj"), heads: crossHeads)
            let c = linear(
                g,
                scaledDotProduct(
                    g, q: qc, k: cross[l].key, v: cross[l].value, heads: crossHeads,
                    masks: [g.concat(Array(repeating: sourceMask, count: attended), axis: 3)]),
                ea.outProj, "\(p).encoder_attn.out_proj", out: d, in: ea.qkvDim)
            h = layerNorm(g, g.add(h, c), layer.encoderAttentionLayerNorm, "\(p).encoder_attn_layer_norm", width: d)
            let ffn = linear(g, g.relu(linear(g, h, layer.fc1, "\(p).fc1", out: f, in: d)), layer.fc2, "\(p).fc2", out: d, in: f)
            x = layerNorm(g, g.add(h, ffn), layer.finalLayerNorm, "\(p).final_layer_norm", width: d)
        }
        let logProbs = g.node(
            "LogSoftmax",
            [
                g.reshape(
                    g.linear(x, weight: outputProjection(g, tied: table, width: d), bias: nil),
                    [0, Int64(model.targetVocabSize)])
            ],
            [.int("axis", -1)])
        g.output(
            logProbs,
            as: ONNX.ValueInfo(
                name: "log_probs", type: .float, shape: [.symbolic("batch"), .fixed(model.targetVocabSize)],
                doc: "log-probabilities of the next token"))
        var graph = g.graph
        graph.doc = "HAT SubTransformer decoder, one incremental step: \(config.description)"
        return graph
    }

    // MARK: Pieces, mirroring the model code

    /// Position ids of right-padded tokens [B, L]: the non-padding tokens counted from
    /// paddingIndex+1, padding at paddingIndex (the zero row; fairseq's make_positions).
    private func positionIDs(_ g: GraphBuilder, isPadding: String) -> String {
        let notPadding = g.cast(g.not(isPadding), to: .int64)
        return g.add(g.mul(g.cumsum(notPadding, axis: 1), notPadding), g.scalar(Int64(model.paddingIndex)))
    }

    /// scale·E[tokens, :d] + P[positionIDs, :d] (SuperTransformer.embed).
    /// The output projection's weight: the tied target embedding, or the separate table of a
    /// space with one (its first `d` columns, added once).
    private func outputProjection(_ g: GraphBuilder, tied table: String, width d: Int) -> String {
        guard model.space.hasSeparateOutputProjection else { return table }
        let name = "decoder.embed_out"
        if !g.defines(name) {
            _ = g.weight(name, model.outputEmbedding.corner([model.targetVocabSize, d]))
        }
        return name
    }

    private func embed(
        _ g: GraphBuilder, tokens: String, positionIDs ids: String, table: String, tableTensor: Tensor,
        positions: SinusoidalPositions, width d: Int, positionsName: String
    ) -> String {
        if !g.defines(table) {
            _ = g.weight(table, tableTensor.corner([tableTensor.shape[0], d]))
        }
        let scaled = g.mul(g.gather(table, tokens), g.scalar(Float(d).squareRoot()))
        let positionTable = g.weight(positionsName, positions.table.corner([positions.table.shape[0], d]))
        return g.add(scaled, g.gather(positionTable, ids))
    }

    /// [batch, heads, LENGTH, head_dim]
    private func headShape(_ heads: Int, length: String) -> [ONNX.ValueInfo.Dimension] {
        [.symbolic("batch"), .fixed(heads), .symbolic(length), .fixed(model.space.qkvDim / heads)]
    }

    /// [B, L, qkv] → [B, H, L, h]
    private func splitHeads(_ g: GraphBuilder, _ t: String, heads: Int) -> String {
        g.transpose(g.reshape(t, [0, 0, Int64(heads), Int64(model.space.qkvDim / heads)]), [0, 2, 1, 3])
    }

    /// softmax(Q Kᵀ/√h + masks) V with q [B, H, T, h], k and v [B, H, S, h]; heads merged → [B, T, qkv].
    private func scaledDotProduct(_ g: GraphBuilder, q: String, k: String, v: String, heads: Int, masks: [String]) -> String {
        let qkv = model.space.qkvDim, h = qkv / heads
        var scores = g.mul(g.matmul(q, g.transpose(k, [0, 1, 3, 2])), g.scalar(1 / Float(h).squareRoot()))
        for m in masks { scores = g.add(scores, m) }
        return g.reshape(g.transpose(g.matmul(g.softmax(scores), v), [0, 2, 1, 3]), [0, 0, Int64(qkv)])
    }

    /// [B, S] padding flags → additive mask [B, 1, 1, S] over attention scores [B, H, T, S].
    private func keyPaddingMask(_ g: GraphBuilder, _ isPadding: String) -> String {
        g.unsqueeze(g.where(isPadding, g.scalar(Self.maskValue), g.scalar(Float(0))), axes: [1, 2])
    }

    private func layerNorm(_ g: GraphBuilder, _ x: String, _ norm: ElasticLayerNorm, _ name: String, width d: Int) -> String {
        g.layerNorm(
            x, scale: g.weight("\(name).weight", norm.weight.corner([d])), bias: g.weight("\(name).bias", norm.bias.corner([d])),
            epsilon: norm.eps)
    }

    private func linear(_ g: GraphBuilder, _ x: String, _ layer: ElasticLinear, _ name: String, out: Int, in inDim: Int) -> String {
        let w = g.weight("\(name).weight", layer.weight.corner([out, inDim]))
        let b = layer.bias.map { g.weight("\(name).bias", $0.corner([out])) }
        return g.linear(x, weight: w, bias: b)
    }

    /// Rows [block·qkv, (block+1)·qkv) of a packed in-projection on the first `columns` inputs.
    private func projection(
        _ g: GraphBuilder, _ x: String, _ attention: ElasticMultiheadAttention, block: Int, columns: Int,
        name: String
    ) -> String {
        let (w, b) = attention.projection(block: block, count: 1, columns: columns)
        return g.linear(x, weight: g.weight("\(name).weight", w), bias: g.weight("\(name).bias", b))
    }

    /// Multi-head attention of x [B, T, d] over memory [B, S, d_m], then the output projection to width d.
    private func attention(
        _ g: GraphBuilder, _ attention: ElasticMultiheadAttention, name: String, query x: String, queryWidth d: Int,
        memory: String, memoryWidth: Int, heads: Int, masks: [String]
    ) -> String {
        let q = projection(g, x, attention, block: 0, columns: d, name: "\(name).q_proj")
        let k = projection(g, memory, attention, block: 1, columns: memoryWidth, name: "\(name).k_proj")
        let v = projection(g, memory, attention, block: 2, columns: memoryWidth, name: "\(name).v_proj")
        let merged = scaledDotProduct(
            g, q: splitHeads(g, q, heads: heads), k: splitHeads(g, k, heads: heads),
            v: splitHeads(g, v, heads: heads), heads: heads, masks: masks)
        return linear(g, merged, attention.outProj, "\(name).out_proj", out: d, in: attention.qkvDim)
    }

    private func encoderLayer(_ g: GraphBuilder, _ i: Int, _ x: String, mask: String) -> String {
        let layer = model.encoderLayers[i], d = config.encoderEmbedDim, f = config.encoderFFNDims[i]
        let p = "encoder.layers.\(i)"
        let a = attention(
            g, layer.selfAttention, name: "\(p).self_attn", query: x, queryWidth: d, memory: x, memoryWidth: d,
            heads: config.encoderSelfAttentionHeads[i], masks: [mask])
        let h = layerNorm(g, g.add(x, a), layer.selfAttentionLayerNorm, "\(p).self_attn_layer_norm", width: d)
        let ffn = linear(g, g.relu(linear(g, h, layer.fc1, "\(p).fc1", out: f, in: d)), layer.fc2, "\(p).fc2", out: d, in: f)
        return layerNorm(g, g.add(h, ffn), layer.finalLayerNorm, "\(p).final_layer_norm", width: d)
    }

    private func decoderLayer(_ g: GraphBuilder, _ i: Int, _ x: String, memory: String, memoryMask: String, causalMask: String) -> String {
        let layer = model.decoderLayers[i], d = config.decoderEmbedDim, f = config.decoderFFNDims[i]
        let p = "decoder.layers.\(i)"
        let s = attention(
            g, layer.selfAttention, name: "\(p).self_attn", query: x, queryWidth: d, memory: x, memoryWidth: d,
            heads: config.decoderSelfAttentionHeads[i], masks: [causalMask])
        var h = layerNorm(g, g.add(x, s), layer.selfAttentionLayerNorm, "\(p).self_attn_layer_norm", width: d)
        let c = attention(
            g, layer.encoderAttention, name: "\(p).encoder_attn", query: h, queryWidth: d, memory: memory,
            memoryWidth: config.encoderEmbedDim, heads: config.decoderCrossAttentionHeads[i], masks: [memoryMask])
        h = layerNorm(g, g.add(h, c), layer.encoderAttentionLayerNorm, "\(p).encoder_attn_layer_norm", width: d)
        let ffn = linear(g, g.relu(linear(g, h, layer.fc1, "\(p).fc1", out: f, in: d)), layer.fc2, "\(p).fc2", out: d, in: f)
        return layerNorm(g, g.add(h, ffn), layer.finalLayerNorm, "\(p).final_layer_norm", width: d)
    }
}
