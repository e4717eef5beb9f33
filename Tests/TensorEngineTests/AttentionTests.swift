import TestSupport
import Testing

@testable import TensorEngine

/// The fused `multiHeadAttention` against the same math written with separate ops: with
/// dropout (which PyTorch's oracle cannot share), across both cores, and on strided views.
@Suite("Fused attention")
struct AttentionTests {
    /// maskedSoftmax(Q·Kᵀ/√hd), dropout drawn from `rng`, ·V, heads merged: the unfused path.
    static func reference(
        _ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, mask: AttentionMask, p: Float,
        rng: inout RandomGenerator
    ) -> Tensor {
        let (b, t, w) = (q.shape[0], q.shape[1], q.shape[2])
        let hd = w / heads
        func split(_ x: Tensor) -> Tensor { x.unflattened(-1, [heads, hd]).permuted([0, 2, 1, 3]) }
        var probabilities = maskedSoftmax(matmul(split(q * (1 / Float(hd).squareRoot())), split(k).transposed(-1, -2)), mask: mask)
        probabilities = dropout(probabilities, p: p, rng: &rng)
        return matmul(probabilities, split(v)).permuted([0, 2, 1, 3]).reshaped([b, t, w])
    }

    @Test("equals the unfused ops with dropout, padding and causality, forward and gradients", arguments: [false, true])
    func matchesComposition(causal: Bool) {
        var setup = RandomGenerator(seed: 7)
        let (b, t, s, w, heads) = (8, 6, causal ? 6 : 9, 16, 4)  // 32 (batch, head) blocks: both cores
        let qBase = Tensor.randn([b, t, w], rng: &setup).requiringGrad()
        let kvBase = Tensor.randn([b, s, 2 * w], rng: &setup).requiringGrad()
        let dy = Tensor.randn([b, t, w], rng: &setup)
        var padding = [Bool](repeating: false, count: b * s)
        if !causal { for j in (s - 3)..<s { padding[2 * s + j] = true } }
        let mask = AttentionMask(keyPadding: padding, causal: causal)
        let k = kvBase.narrow(-1, start: 0, length: w), v = kvBase.narrow(-1, start: w, length: w)

        var rng1 = RandomGenerator(seed: 11), rng2 = RandomGenerator(seed: 11)
        let fused = multiHeadAttention(query: qBase, key: k, value: v, heads: heads, mask: mask, dropout: 0.3, rng: &rng1)
        (fused * dy).sum().backward()
        let (fq, fkv) = (qBase.grad!.toArray(), kvBase.grad!.toArray())
        qBase.storage.zeroGrad()
        kvBase.storage.zeroGrad()
        let unfused = Self.reference(qBase, k, v, heads: heads, mask: mask, p: 0.3, rng: &rng2)
        (unfused * dy).sum().backward()

        #expect(rng1.state == rng2.state, "both draw the same number of random values")
        #expect(relativeError(fused.toArray(), unfused.toArray()) <= 1e-5)
        #expect(relativeError(fq, qBase.grad!.toArray()) <= 1e-5)
        #expect(relativeError(fkv, kvBase.grad!.toArray()) <= 1e-5)
    }
}
