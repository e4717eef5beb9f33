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
///   decoder.onnx  prev_output_tokens [batch, tgt_len], src_tokens, encoder_out.<i>
///                 → logits [batch, tgt_len, V_tgt] (every position; run it again per step to
///                   decode greedily or with a beam)
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

    static let tokenShape = { (length: String) in [ONNX.ValueInfo.Dimension.symbolic("batch"), .symbolic(length)] }

    // MARK: Graphs

    public func encoderGraph() -> ONNX.Graph {
        let g = GraphBuilder(name: "hat_encoder")
        let d = config.encoderEmbedDim
        let src = g.input(ONNX.ValueInfo(name: "src_tokens", type: .int64, shape: Self.tokenShape("src_len"),
                                         doc: "source token ids, right-padded with \(model.paddingIndex)"))
        let isPadding = g.equal(src, g.scalar(Int64(model.paddingIndex)))
        let mask = keyPaddingMask(g, isPadding)
        let table = model.space.shareAllEmbeddings ? "embed_tokens.weight" : "encoder.embed_tokens.weight"
        var x = embed(g, tokens: src, isPadding: isPadding, table: table, tableTensor: model.encoderEmbedding,
                      positions: model.encoderPositions, width: d, positionsName: "encoder.embed_positions")
        let outputs = Set(encoderOutputNames)
        for i in 0..<config.encoderLayerNum {
            x = encoderLayer(g, i, x, mask: mask)
            let name = "encoder_out.\(i)"
            if outputs.contains(name) {
                g.output(x, as: ONNX.ValueInfo(name: name, type: .float, shape: Self.tokenShape("src_len") + [.fixed(d)],
                                               doc: "output of encoder layer \(i)"))
            }
        }
        var graph = g.graph
        graph.doc = "HAT SubTransformer encoder: \(config.description)"
        return graph
    }

    public func decoderGraph() -> ONNX.Graph {
        let g = GraphBuilder(name: "hat_decoder")
        let d = config.decoderEmbedDim
        let prev = g.input(ONNX.ValueInfo(name: "prev_output_tokens", type: .int64, shape: Self.tokenShape("tgt_len"),
                                          doc: "target-side input: end-of-sentence id first, then the tokens so far (fairseq's layout)"))
        let src = g.input(ONNX.ValueInfo(name: "src_tokens", type: .int64, shape: Self.tokenShape("src_len"),
                                         doc: "the source tokens given to the encoder (for the padding mask)"))
        var encoderStates: [String] = []
        for name in encoderOutputNames {
            encoderStates.append(g.input(ONNX.ValueInfo(name: name, type: .float,
                                                        shape: Self.tokenShape("src_len") + [.fixed(config.encoderEmbedDim)])))
        }
        let sourceMask = keyPaddingMask(g, g.equal(src, g.scalar(Int64(model.paddingIndex))))
        // Causal mask [T, T]: maskValue strictly above the diagonal.
        let t = g.elements(g.shape(prev), [1])
        let ones = g.constantOfShape(g.concat([t, t], axis: 0), value: 1)
        let causal = g.mul(g.trilu(ones, k: 1, upper: true), g.scalar(Self.maskValue))

        let isPadding = g.equal(prev, g.scalar(Int64(model.paddingIndex)))
        let table = model.space.shareAllEmbeddings ? "embed_tokens.weight" : "decoder.embed_tokens.weight"
        var x = embed(g, tokens: prev, isPadding: isPadding, table: table, tableTensor: model.decoderEmbedding,
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
        // Output projection tied to the target embedding (its first d columns).
        let logits = g.linear(x, weight: table, bias: nil)
        g.output(logits, as: ONNX.ValueInfo(name: "logits", type: .float,
                                            shape: Self.tokenShape("tgt_len") + [.fixed(model.targetVocabSize)],
                                            doc: "unnormalized scores over the target vocabulary"))
        var graph = g.graph
        graph.doc = "HAT SubTransformer decoder: \(config.description)"
        return graph
    }

    // MARK: Pieces, mirroring the model code

    /// scale·E[tokens, :d] + P[positions, :d] (SuperTransformer.embed); positions count the
    /// non-padding tokens from paddingIndex+1, padding gets the zero row (fairseq's make_positions).
    private func embed(_ g: GraphBuilder, tokens: String, isPadding: String, table: String, tableTensor: Tensor,
                       positions: SinusoidalPositions, width d: Int, positionsName: String) -> String {
        if !g.graph.initializers.contains(where: { $0.name == table }) {
            _ = g.weight(table, tableTensor.corner([tableTensor.shape[0], d]))
        }
        let scaled = g.mul(g.gather(table, tokens), g.scalar(Float(d).squareRoot()))
        let notPadding = g.cast(g.not(isPadding), to: .int64)
        let ids = g.add(g.mul(g.cumsum(notPadding, axis: 1), notPadding), g.scalar(Int64(positions.paddingIndex)))
        let positionTable = g.weight(positionsName, positions.table.corner([positions.table.shape[0], d]))
        return g.add(scaled, g.gather(positionTable, ids))
    }

    /// [B, S] padding flags → additive mask [B, 1, 1, S] over attention scores [B, H, T, S].
    private func keyPaddingMask(_ g: GraphBuilder, _ isPadding: String) -> String {
        g.unsqueeze(g.where(isPadding, g.scalar(Self.maskValue), g.scalar(Float(0))), axes: [1, 2])
    }

    private func layerNorm(_ g: GraphBuilder, _ x: String, _ norm: ElasticLayerNorm, _ name: String, width d: Int) -> String {
        g.layerNorm(x, scale: g.weight("\(name).weight", norm.weight.corner([d])), bias: g.weight("\(name).bias", norm.bias.corner([d])),
                    epsilon: norm.eps)
    }

    private func linear(_ g: GraphBuilder, _ x: String, _ layer: ElasticLinear, _ name: String, out: Int, in inDim: Int) -> String {
        let w = g.weight("\(name).weight", layer.weight.corner([out, inDim]))
        let b = layer.bias.map { g.weight("\(name).bias", $0.corner([out])) }
        return g.linear(x, weight: w, bias: b)
    }

    /// Rows [block·qkv, (block+1)·qkv) of a packed in-projection on the first `columns` inputs.
    private func projection(_ g: GraphBuilder, _ x: String, _ attention: ElasticMultiheadAttention, block: Int, columns: Int,
                            name: String) -> String {
        let (w, b) = attention.projection(block: block, count: 1, columns: columns)
        return g.linear(x, weight: g.weight("\(name).weight", w), bias: g.weight("\(name).bias", b))
    }

    /// softmax(Q Kᵀ/√h + mask) V over `heads` heads, then the output projection to width d.
    private func attention(_ g: GraphBuilder, _ attention: ElasticMultiheadAttention, name: String, query x: String, queryWidth d: Int,
                           memory: String, memoryWidth: Int, heads: Int, masks: [String]) -> String {
        let qkv = attention.qkvDim, h = qkv / heads
        let q = projection(g, x, attention, block: 0, columns: d, name: "\(name).q_proj")
        let k = projection(g, memory, attention, block: 1, columns: memoryWidth, name: "\(name).k_proj")
        let v = projection(g, memory, attention, block: 2, columns: memoryWidth, name: "\(name).v_proj")
        let split = { (t: String) in g.reshape(t, [0, 0, Int64(heads), Int64(h)]) }   // [B, L, H, h]
        let qh = g.transpose(split(q), [0, 2, 1, 3])      // [B, H, T, h]
        let kh = g.transpose(split(k), [0, 2, 3, 1])      // [B, H, h, S]
        let vh = g.transpose(split(v), [0, 2, 1, 3])      // [B, H, S, h]
        var scores = g.mul(g.matmul(qh, kh), g.scalar(1 / Float(h).squareRoot()))
        for m in masks { scores = g.add(scores, m) }
        let merged = g.reshape(g.transpose(g.matmul(g.softmax(scores), vh), [0, 2, 1, 3]), [0, 0, Int64(qkv)])
        return linear(g, merged, attention.outProj, "\(name).out_proj", out: d, in: qkv)
    }

    private func encoderLayer(_ g: GraphBuilder, _ i: Int, _ x: String, mask: String) -> String {
        let layer = model.encoderLayers[i], d = config.encoderEmbedDim, f = config.encoderFFNDims[i]
        let p = "encoder.layers.\(i)"
        let a = attention(g, layer.selfAttention, name: "\(p).self_attn", query: x, queryWidth: d, memory: x, memoryWidth: d,
                          heads: config.encoderSelfAttentionHeads[i], masks: [mask])
        let h = layerNorm(g, g.add(x, a), layer.selfAttentionLayerNorm, "\(p).self_attn_layer_norm", width: d)
        let ffn = linear(g, g.relu(linear(g, h, layer.fc1, "\(p).fc1", out: f, in: d)), layer.fc2, "\(p).fc2", out: d, in: f)
        return layerNorm(g, g.add(h, ffn), layer.finalLayerNorm, "\(p).final_layer_norm", width: d)
    }

    private func decoderLayer(_ g: GraphBuilder, _ i: Int, _ x: String, memory: String, memoryMask: String, causalMask: String) -> String {
        let layer = model.decoderLayers[i], d = config.decoderEmbedDim, f = config.decoderFFNDims[i]
        let p = "decoder.layers.\(i)"
        let s = attention(g, layer.selfAttention, name: "\(p).self_attn", query: x, queryWidth: d, memory: x, memoryWidth: d,
                          heads: config.decoderSelfAttentionHeads[i], masks: [causalMask])
        var h = layerNorm(g, g.add(x, s), layer.selfAttentionLayerNorm, "\(p).self_attn_layer_norm", width: d)
        let c = attention(g, layer.encoderAttention, name: "\(p).encoder_attn", query: h, queryWidth: d, memory: memory,
                          memoryWidth: config.encoderEmbedDim, heads: config.decoderCrossAttentionHeads[i], masks: [memoryMask])
        h = layerNorm(g, g.add(h, c), layer.encoderAttentionLayerNorm, "\(p).encoder_attn_layer_norm", width: d)
        let ffn = linear(g, g.relu(linear(g, h, layer.fc1, "\(p).fc1", out: f, in: d)), layer.fc2, "\(p).fc2", out: d, in: f)
        return layerNorm(g, g.add(h, ffn), layer.finalLayerNorm, "\(p).final_layer_norm", width: d)
    }
}
