import Foundation
import NN
import TensorEngine
import Testing

@testable import Model

/// Weight sharing is real: training one SubTransformer changes exactly the corners of the super
/// tensors that the reference note (§2) says it uses, and nothing else.
@Suite("Weight sharing")
struct WeightSharingTests {
    static let space = SearchSpace(
        encoderEmbedDim: 24, decoderEmbedDim: 20, encoderFFNDim: 40, decoderFFNDim: 36, encoderLayers: 3, decoderLayers: 3,
        encoderAttentionHeads: 4, decoderAttentionHeads: 4, qkvDim: 16, shareAllEmbeddings: false,
        encoderEmbedChoices: [24, 16], decoderEmbedChoices: [20, 12], encoderFFNChoices: [40, 24], decoderFFNChoices: [36, 20],
        encoderLayerChoices: [3, 2], decoderLayerChoices: [3, 2, 1], encoderSelfAttentionHeadChoices: [4, 2],
        decoderSelfAttentionHeadChoices: [4, 2], decoderCrossAttentionHeadChoices: [4, 2],
        decoderArbitraryAttentionChoices: [-1, 1, 2])

    /// The used block of each super tensor for `c`: [rows, columns] from the top-left corner
    /// (columns = 1 for vectors), or nil when the tensor is not used at all. Written from the
    /// reference note, independently of the model code.
    static func usedCorner(_ name: String, _ c: SubTransformerConfig, vocab: (Int, Int)) -> [Int]? {
        let parts = name.split(separator: ".").map(String.init)
        let q = space.qkvDim
        if name == "encoder.embed_tokens.weight" { return [vocab.0, c.encoderEmbedDim] }
        if name == "decoder.embed_tokens.weight" { return [vocab.1, c.decoderEmbedDim] }
        let isEncoder = parts[0] == "encoder"
        let layer = Int(parts[2])!
        if layer >= (isEncoder ? c.encoderLayerNum : c.decoderLayerNum) { return nil }
        let d = isEncoder ? c.encoderEmbedDim : c.decoderEmbedDim
        let f = isEncoder ? c.encoderFFNDims[layer] : c.decoderFFNDims[layer]
        let rest = parts[3...].joined(separator: ".")
        switch rest {
        case "self_attn.in_proj_weight": return [3 * q, d]
        case "self_attn.in_proj_bias", "encoder_attn.in_proj_bias": return [3 * q, 1]
        case "self_attn.out_proj.weight", "encoder_attn.out_proj.weight": return [d, q]
        case "self_attn.out_proj.bias", "encoder_attn.out_proj.bias", "fc2.bias": return [d, 1]
        case "encoder_attn.in_proj_weight": return nil  // checked by rows below
        case "fc1.weight": return [f, d]
        case "fc1.bias": return [f, 1]
        case "fc2.weight": return [d, f]
        default:
            precondition(rest.hasSuffix("layer_norm.weight") || rest.hasSuffix("layer_norm.bias"), "unexpected \(name)")
            return [d, 1]
        }
    }

    @Test("SGD on one subnet changes exactly its corners of the super weights")
    func onlyTheUsedCornerChanges() {
        let config = SubTransformerConfig(
            encoderEmbedDim: 16, encoderLayerNum: 2, encoderFFNDims: [24, 40], encoderSelfAttentionHeads: [2, 4],
            decoderEmbedDim: 12, decoderLayerNum: 2, decoderFFNDims: [20, 36], decoderSelfAttentionHeads: [4, 2],
            decoderCrossAttentionHeads: [2, 4], decoderArbitraryAttention: [1, -1])
        var rng = RandomGenerator(seed: 3)
        let (vs, vt) = (30, 26)
        let model = SuperTransformer(space: Self.space, sourceVocabSize: vs, targetVocabSize: vt, rng: &rng)
        let before = model.namedParameters().map { ($0.name, $0.tensor.toArray()) }
        // Every token id appears, so every embedding row is used.
        let src = (0..<(2 * 15)).map { Int32(($0 * 7) % (vs - 3) + 3) }
        let tgt = (0..<(2 * 13)).map { Int32(($0 * 5) % (vt - 3) + 3) }
        let context = ForwardContext(training: true, rng: RandomGenerator(seed: 4))
        for _ in 0..<3 {
            let (loss, _) = model.loss(
                source: TokenBatch(tokens: src, batchSize: 2, length: 15),
                previousOutput: TokenBatch(tokens: tgt, batchSize: 2, length: 13),
                target: tgt, config: config, labelSmoothing: 0.1, context: context)
            loss.backward()
            for p in model.parameters() {
                let g = p.storage.gradBuffer()
                for i in 0..<p.count { p.storage.data[i] -= 0.1 * g[i] }
                p.storage.zeroGrad()
            }
        }
        for ((name, old), (_, p)) in zip(before, model.namedParameters()) {
            let new = p.toArray()
            let columns = p.rank == 2 ? p.shape[1] : 1
            func inside(_ i: Int) -> Bool {
                let (r, col) = (i / columns, i % columns)
                if name.hasSuffix("encoder_attn.in_proj_weight") {
                    let layer = Int(name.split(separator: ".")[2])!
                    if layer >= config.decoderLayerNum { return false }
                    // Q rows read decoder columns, K and V rows read encoder columns (§2).
                    return r < Self.space.qkvDim ? col < config.decoderEmbedDim : col < config.encoderEmbedDim
                }
                guard let corner = Self.usedCorner(name, config, vocab: (vs, vt)) else { return false }
                return r < corner[0] && col < corner[1]
            }
            var changedInside = 0
            for i in 0..<new.count {
                if inside(i) {
                    if new[i] != old[i] { changedInside += 1 }
                } else {
                    #expect(new[i] == old[i], "\(name)[\(i)] changed outside the used corner")
                    if new[i] != old[i] { break }
                }
            }
            if Self.usedCorner(name, config, vocab: (vs, vt)) != nil
                || name.hasSuffix("encoder_attn.in_proj_weight") && Int(name.split(separator: ".")[2])! < config.decoderLayerNum
            {
                #expect(changedInside > 0, "\(name): nothing changed inside the used corner")
            }
        }
    }
}
