import TensorEngine

extension SuperTransformer {
    /// The top-left corner of every parameter a SubTransformer reads, in `namedParameters` order;
    /// parameters it never reads (layers beyond its depth) are absent (hat-reference.md §2). A
    /// SubTransformer's own files store exactly these corners (quantized checkpoints, ONNX export).
    ///
    /// A packed in-projection keeps all 3·qkv rows (qkv-dim is fixed); cross-attention reads the
    /// decoder's width for Q and the encoder's for K and V, so its corner is as wide as the wider.
    /// A shared table is read at both embedding widths.
    public func usedCorners(of config: SubTransformerConfig) -> [(name: String, tensor: Tensor, shape: [Int])] {
        let shapes = SubTransformerCorners.shapes(
            of: config, qkvDim: space.qkvDim, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize,
            sharedEmbeddings: space.shareAllEmbeddings, separateOutputProjection: space.hasSeparateOutputProjection)
        return namedParameters().compactMap { name, tensor in
            guard let shape = shapes[name] else { return nil }
            return (name, tensor, shape)
        }
    }
}

/// The corner shapes of `SuperTransformer.usedCorners`, by parameter name, from the sizes alone
/// (the profiler counts a quantized model's bytes with them).
public enum SubTransformerCorners {
    public static func shapes(
        of config: SubTransformerConfig, qkvDim qkv: Int, sourceVocabSize: Int, targetVocabSize: Int, sharedEmbeddings: Bool,
        separateOutputProjection: Bool
    ) -> [String: [Int]] {
        let dE = config.encoderEmbedDim, dD = config.decoderEmbedDim
        func attention(_ prefix: String, input: Int, output: Int) -> [String: [Int]] {
            [
                "\(prefix).in_proj_weight": [3 * qkv, input], "\(prefix).in_proj_bias": [3 * qkv],
                "\(prefix).out_proj.weight": [output, qkv], "\(prefix).out_proj.bias": [output],
            ]
        }
        func feedForward(_ prefix: String, width d: Int, ffn f: Int) -> [String: [Int]] {
            [
                "\(prefix).fc1.weight": [f, d], "\(prefix).fc1.bias": [f], "\(prefix).fc2.weight": [d, f], "\(prefix).fc2.bias": [d],
                "\(prefix).final_layer_norm.weight": [d], "\(prefix).final_layer_norm.bias": [d],
            ]
        }
        func norm(_ name: String, _ d: Int) -> [String: [Int]] { ["\(name).weight": [d], "\(name).bias": [d]] }

        var shapes: [String: [Int]] = [:]
        if sharedEmbeddings {
            shapes["embed_tokens.weight"] = [sourceVocabSize, Swift.max(dE, dD)]
        } else {
            shapes["encoder.embed_tokens.weight"] = [sourceVocabSize, dE]
            shapes["decoder.embed_tokens.weight"] = [targetVocabSize, dD]
        }
        if separateOutputProjection { shapes["decoder.embed_out"] = [targetVocabSize, dD] }
        for i in 0..<config.encoderLayerNum {
            let p = "encoder.layers.\(i)"
            shapes.merge(attention("\(p).self_attn", input: dE, output: dE)) { $1 }
            shapes.merge(norm("\(p).self_attn_layer_norm", dE)) { $1 }
            shapes.merge(feedForward(p, width: dE, ffn: config.encoderFFNDims[i])) { $1 }
        }
        for i in 0..<config.decoderLayerNum {
            let p = "decoder.layers.\(i)"
            shapes.merge(attention("\(p).self_attn", input: dD, output: dD)) { $1 }
            shapes.merge(norm("\(p).self_attn_layer_norm", dD)) { $1 }
            shapes.merge(attention("\(p).encoder_attn", input: Swift.max(dD, dE), output: dD)) { $1 }
            shapes.merge(norm("\(p).encoder_attn_layer_norm", dD)) { $1 }
            shapes.merge(feedForward(p, width: dD, ffn: config.decoderFFNDims[i])) { $1 }
        }
        return shapes
    }

    /// Bytes of the tensors of a quantized checkpoint (`hat quantize --bits`, one codebook per
    /// matrix): each matrix's rows packed at `bits` per index plus its float32 codebook, each
    /// vector in float32. The file adds its JSON header (a few kilobytes).
    public static func quantizedBytes(_ shapes: [String: [Int]], bits: Int) -> Int {
        shapes.values.reduce(0) { total, shape in
            total + (shape.count == 2 ? shape[0] * ((shape[1] * bits + 7) / 8) + 4 << bits : 4 * shape.reduce(1, *))
        }
    }
}
