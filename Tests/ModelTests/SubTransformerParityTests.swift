import Foundation
import NN
import TensorEngine
import TestSupport
import Testing

@testable import Model

/// The SuperTransformer against an independent PyTorch implementation of the same
/// SubTransformer (Tests/Oracle/subtransformer_oracle.py, written from hat-reference.md §1–3),
/// fed the same super weights through safetensors: logits, loss and the gradient of every
/// super weight (zero outside the used corners).
@Suite("SubTransformer parity with PyTorch")
struct SubTransformerParityTests {
    struct Case: Sendable, CustomStringConvertible {
        let space: String
        let seed: UInt64
        var description: String { "\(space) seed \(seed)" }
    }

    /// Seeds chosen so the six subnets cover arbitrary attention 1 and 2, heterogeneous layers,
    /// both embedding modes (space0 shares one table, space1 has two); `coverage` checks it.
    static let cases: [Case] = [
        Case(space: "wmt14.en-de__space0.yml", seed: 1), Case(space: "wmt14.en-de__space0.yml", seed: 2),
        Case(space: "wmt14.en-de__space0.yml", seed: 3), Case(space: "iwslt14.de-en__space1.yml", seed: 4),
        Case(space: "iwslt14.de-en__space1.yml", seed: 5), Case(space: "iwslt14.de-en__space1.yml", seed: 6),
    ]

    static func space(_ name: String) throws -> SearchSpace {
        try SearchSpace(contentsOf: sharedDataDirectory.appendingPathComponent("hat-configs/\(name)").path)
    }

    static func subnet(_ c: Case) throws -> SubTransformerConfig {
        var rng = RandomGenerator(seed: c.seed)
        return try space(c.space).sample(rng: &rng)
    }

    @Test("the six subnets cover arbitrary attention 1 and 2, mixed layers, shared and separate tables")
    func coverage() throws {
        let configs = try Self.cases.map(Self.subnet)
        let arbitrary = Set(configs.flatMap(\.decoderArbitraryAttention))
        #expect(arbitrary.isSuperset(of: [1, 2]))
        #expect(configs.contains { Set($0.encoderFFNDims).count > 1 && Set($0.encoderSelfAttentionHeads).count > 1 })
        #expect(try Self.space(Self.cases[0].space).shareAllEmbeddings)
        #expect(try !Self.space(Self.cases[3].space).shareAllEmbeddings)
    }

    @Test("logits, loss and super-weight gradients match PyTorch", arguments: cases)
    func parity(_ c: Case) throws {
        let space = try Self.space(c.space)
        let config = try Self.subnet(c)
        let (vs, vt) = space.shareAllEmbeddings ? (96, 96) : (80, 72)
        var rng = RandomGenerator(seed: 100 + c.seed)
        let model = SuperTransformer(space: space, sourceVocabSize: vs, targetVocabSize: vt, rates: .none, rng: &rng)
        // Perturb biases and LayerNorm parameters so the test sees them (they start at 0 and 1).
        for (name, p) in model.namedParameters() where name.hasSuffix("bias") || name.contains("layer_norm") {
            for i in 0..<p.count { p.storage.data[i] += 0.05 * rng.normal() }
        }
        // Two sentences, the second padded (pad = 1, eos = 2), as fairseq batches them.
        let (b, s, t) = (2, 7, 6)
        var src = (0..<(b * s)).map { _ in Int32(4 + rng.nextInt(vs - 4)) }
        src[s - 1] = 2
        src[s + 4] = 2
        src[s + 5] = 1
        src[s + 6] = 1
        var tgt = (0..<(b * t)).map { _ in Int32(4 + rng.nextInt(vt - 4)) }
        tgt[t - 1] = 2
        tgt[t + 3] = 2
        tgt[t + 4] = 1
        tgt[t + 5] = 1
        var prev = tgt
        for i in 0..<b {
            prev[i * t] = 2
            for j in 1..<t { prev[i * t + j] = tgt[i * t + j - 1] == 2 ? 1 : tgt[i * t + j - 1] }
        }

        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var file = SafeTensorsFile(metadata: ["config": try oracleConfigJSON(space: space, config: config)])
        for (name, p) in model.namedParameters() { try file.add(name, p) }
        try file.add("src_tokens", int64s: src.map(Int64.init), shape: [b, s])
        try file.add("prev_output_tokens", int64s: prev.map(Int64.init), shape: [b, t])
        try file.add("target", int64s: tgt.map(Int64.init), shape: [b, t])
        let input = dir.appendingPathComponent("in.safetensors"), output = dir.appendingPathComponent("out.safetensors")
        try file.write(to: input)
        try Oracle.run("subtransformer_oracle.py", [input.path, output.path])
        let expected = try SafeTensorsFile.read(from: output)

        let source = TokenBatch(tokens: src, batchSize: b, length: s)
        let previous = TokenBatch(tokens: prev, batchSize: b, length: t)
        let logits = model(source: source, previousOutput: previous, config: config, context: .evaluation())
        let logitsError = relativeError(logits.toArray(), try expected.tensorValue("logits").toArray())
        #expect(logitsError <= 1e-4, "\(c): logits relative error \(logitsError)")

        let (loss, nll) = model.loss(
            source: source, previousOutput: previous, target: tgt, config: config,
            labelSmoothing: 0.1, context: .evaluation())
        let expectedLoss = try expected.tensorValue("loss").item
        #expect(abs(loss.item - expectedLoss) / abs(expectedLoss) <= 1e-4, "\(c): loss \(loss.item) vs \(expectedLoss)")
        #expect(abs(nll - (try expected.tensorValue("nll_loss").item)) / abs(nll) <= 1e-4)
        loss.backward()
        var worst: Float = 0
        for (name, p) in model.namedParameters() {
            let ours = p.grad?.toArray() ?? [Float](repeating: 0, count: p.count)
            let err = relativeError(ours, try expected.tensorValue("grad/\(name)").toArray())
            #expect(err <= 1e-4, "\(c): gradient of \(name) relative error \(err)")
            worst = max(worst, err)
        }
        print("subtransformer parity \(c): logits \(logitsError), worst gradient \(worst), config \(config)")
    }
}

/// The oracle's config JSON (see the docstring of subtransformer_oracle.py).
func oracleConfigJSON(space: SearchSpace, config c: SubTransformerConfig) throws -> String {
    let json: [String: Any] = [
        "encoder_embed_dim_super": space.encoderEmbedDim, "decoder_embed_dim_super": space.decoderEmbedDim,
        "qkv_dim": space.qkvDim, "share_all_embeddings": space.shareAllEmbeddings, "padding_idx": 1,
        "label_smoothing": 0.1,
        "sub": [
            "encoder_embed_dim": c.encoderEmbedDim, "decoder_embed_dim": c.decoderEmbedDim,
            "encoder_layer_num": c.encoderLayerNum, "decoder_layer_num": c.decoderLayerNum,
            "encoder_ffn_embed_dim": c.encoderFFNDims, "decoder_ffn_embed_dim": c.decoderFFNDims,
            "encoder_self_attention_heads": c.encoderSelfAttentionHeads,
            "decoder_self_attention_heads": c.decoderSelfAttentionHeads,
            "decoder_ende_attention_heads": c.decoderCrossAttentionHeads,
            "decoder_arbitrary_ende_attn": c.decoderArbitraryAttention,
        ] as [String: Any],
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
}
