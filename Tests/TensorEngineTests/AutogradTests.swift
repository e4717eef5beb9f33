import Foundation
import TestSupport
import Testing

@testable import TensorEngine

/// Autograd beyond single ops: finite differences through a composite attention block,
/// the no-grad mode, gradient aliasing of views, and determinism.
@Suite("Autograd")
struct AutogradTests {
    /// One post-norm Transformer self-attention sublayer, written with the engine's ops:
    /// LayerNorm(x + Wo·softmax(QKᵀ/√h + mask)·V), weights as corners of larger tensors.
    static func attentionBlock(_ x: Tensor, _ p: [String: Tensor], mask: Tensor) -> Tensor {
        let (b, t, d) = (x.shape[0], x.shape[1], x.shape[2])
        let heads = 2, qkv = 8, hd = qkv / heads
        let inProj = linear(x, weight: p["Win"]!.corner([3 * qkv, d]), bias: p["bin"]!.corner([3 * qkv]))
        func split(_ i: Int) -> Tensor {
            inProj.narrow(-1, start: i * qkv, length: qkv).reshaped([b, t, heads, hd]).permuted([0, 2, 1, 3])
        }
        let scores = matmul(split(0) * (1 / Float(hd).squareRoot()), split(1).transposed(-1, -2)) + mask
        let attn = matmul(softmax(scores), split(2)).permuted([0, 2, 1, 3]).reshaped([b, t, qkv])
        let out = linear(attn, weight: p["Wout"]!.corner([d, qkv]), bias: p["bout"]!.corner([d]))
        return layerNorm(x + out, weight: p["lnw"]!.corner([d]), bias: p["lnb"]!.corner([d]))
    }

    @Test("finite differences agree with backward through an attention block")
    func finiteDifferencesAttention() throws {
        var rng = RandomGenerator(seed: 7)
        let x = Tensor.randn([2, 3, 6], rng: &rng).requiringGrad()
        let params: [String: Tensor] = [
            "Win": Tensor.randn([30, 10], std: 0.4, rng: &rng).requiringGrad(),
            "bin": Tensor.randn([30], std: 0.1, rng: &rng).requiringGrad(),
            "Wout": Tensor.randn([10, 12], std: 0.4, rng: &rng).requiringGrad(),
            "bout": Tensor.randn([10], std: 0.1, rng: &rng).requiringGrad(),
            "lnw": (Tensor.randn([10], std: 0.1, rng: &rng) + 1).detached().requiringGrad(),
            "lnb": Tensor.randn([10], std: 0.1, rng: &rng).requiringGrad(),
        ]
        var maskValues = [Float](repeating: 0, count: 2 * 3)
        maskValues[5] = -.infinity  // second sentence: last key is padding
        let mask = Tensor(maskValues, shape: [2, 1, 1, 3])
        let r = Tensor.randn([2, 3, 6], rng: &rng)
        func f() -> Tensor { (Self.attentionBlock(x, params, mask: mask) * r).sum() }

        f().backward()
        let h: Float = 1e-2
        var worst: Float = 0
        for (name, t) in params.sorted(by: { $0.key < $1.key }) + [("x", x)] {
            let analytic = t.grad!.toArray()
            for _ in 0..<12 {
                let i = rng.nextInt(t.count)
                let saved = t.storage.data[i]
                t.storage.data[i] = saved + h
                let up = withNoGrad { f().item }
                t.storage.data[i] = saved - h
                let down = withNoGrad { f().item }
                t.storage.data[i] = saved
                let numeric = (up - down) / (2 * h)
                let err = abs(numeric - analytic[i]) / max(abs(analytic[i]), 0.1)
                worst = max(worst, err)
                #expect(err < 2e-2, "\(name)[\(i)]: finite difference \(numeric) vs backward \(analytic[i])")
            }
        }
        // Parameters outside the corners must receive exactly zero gradient.
        let win = params["Win"]!.grad!.toArray()
        for row in 0..<30 { for col in 6..<10 { #expect(win[row * 10 + col] == 0) } }
        for row in 24..<30 { for col in 0..<10 { #expect(win[row * 10 + col] == 0) } }
    }

    @Test("no-grad mode records no graph")
    func noGradRecordsNothing() {
        var rng = RandomGenerator(seed: 1)
        let w = Tensor.randn([4, 3], rng: &rng).requiringGrad()
        let x = Tensor.randn([2, 3], rng: &rng)
        let y = withNoGrad { softmax(linear(x, weight: w)) }
        #expect(!y.requiresGrad)
        #expect(y.gradNode == nil)
        let z = linear(x, weight: w)
        #expect(z.requiresGrad && z.gradNode != nil)
        #expect(GradMode.isEnabled)
    }

    @Test("gradients of several uses of one tensor add up")
    func gradientAccumulates() {
        let a = Tensor([1, 2, 3], shape: [3]).requiringGrad()
        let y = (a * a + a * 3).sum()  // dy/da = 2a + 3
        y.backward()
        #expect(a.grad!.toArray() == [5, 7, 9])
        // A second backward accumulates (as in PyTorch) until zeroGrad.
        (a * 2).sum().backward()
        #expect(a.grad!.toArray() == [7, 9, 11])
        a.storage.zeroGrad()
        #expect(a.grad!.toArray() == [0, 0, 0])
        // clearGrad sets it to none; the next backward starts from zero in the reused buffer.
        (a * 3).sum().backward()
        a.storage.clearGrad()
        #expect(a.grad == nil)
        (a * a).sum().backward()
        #expect(a.grad!.toArray() == [2, 4, 6])
    }

    @Test("a view's gradient is the matching region of its base's gradient")
    func viewGradientAliases() {
        let base = Tensor.zeros([4, 5]).requiringGrad()
        let corner = base.corner([2, 3])
        (corner * 2).sum().backward()
        let g = base.grad!.toArray()
        for r in 0..<4 { for c in 0..<5 { #expect(g[r * 5 + c] == (r < 2 && c < 3 ? 2 : 0)) } }
    }

    @Test("same seed gives bitwise the same numbers; the state resumes the stream")
    func randomDeterminism() {
        var a = RandomGenerator(seed: 42), b = RandomGenerator(seed: 42)
        let x = Tensor.randn([1000], rng: &a).toArray(), y = Tensor.randn([1000], rng: &b).toArray()
        #expect(x == y)
        var c = RandomGenerator(seed: 43)
        #expect(Tensor.randn([1000], rng: &c).toArray() != x)
        var resumed = RandomGenerator(state: a.state)
        #expect(resumed.next() == a.next())
        // Normal samples have the right moments.
        let mean = x.reduce(0, +) / Float(x.count)
        let variance = x.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(x.count)
        #expect(abs(mean) < 0.1 && abs(variance - 1) < 0.1)
    }

    @Test("dropout keeps 1−p of the entries, scales them by 1/(1−p), and is seeded")
    func dropoutStatistics() {
        var rng = RandomGenerator(seed: 3)
        let x = Tensor.ones([100_000]).requiringGrad()
        let y = dropout(x, p: 0.3, rng: &rng)
        let values = y.toArray()
        let kept = values.filter { $0 != 0 }
        #expect(abs(Float(kept.count) / 100_000 - 0.7) < 0.01)
        #expect(kept.allSatisfy { abs($0 - 1 / 0.7) < 1e-6 })
        y.sum().backward()
        #expect(x.grad!.toArray() == values)  // d/dx of x·mask is the mask
        var rng2 = RandomGenerator(seed: 3)
        #expect(dropout(Tensor.ones([100_000]), p: 0.3, rng: &rng2).toArray() == values)
        #expect(dropout(x, p: 0, rng: &rng2) === x)
    }

    @Test("label-smoothed cross-entropy also returns fairseq's summed NLL")
    func labelSmoothedNLL() throws {
        let fixture = try opFixture.get()
        let logits = try fixture.tensorValue("label_smoothed_ce/in/logits")
        let targets = try fixture.tensor("label_smoothed_ce/in/target").ints().map { Int32($0) }
        let expected = try fixture.tensorValue("label_smoothed_ce/nll").item
        let (_, nll) = labelSmoothedCrossEntropy(logits: logits, targets: targets, epsilon: 0.1, paddingIndex: 1)
        #expect(abs(nll - expected) / abs(expected) < 1e-5)
    }

    @Test("large elementwise and row-wise kernels give the same result on one or many threads")
    func threadingDoesNotChangeResults() {
        var rng = RandomGenerator(seed: 5)
        let x = Tensor.randn([512, 300], rng: &rng), w = Tensor.ones([300]), b = Tensor.zeros([300])
        func run() -> [Float] { (layerNorm(softmax(x) + relu(x), weight: w, bias: b) * 2).toArray() }
        let threaded = run()
        #expect(ParallelSettings.withThreads(1, run) == threaded)
    }
}
