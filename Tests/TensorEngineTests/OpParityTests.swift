import Foundation
import TestSupport
import Testing

@testable import TensorEngine

/// Every op's forward output and input gradients against PyTorch (Tests/Oracle/ops_oracle.py).
///
/// The oracle writes, per case, the base inputs, a random upstream gradient dy, the output and
/// d(sum(out·dy))/d(input). Views (corners, transposes) are taken on both sides from the same
/// base tensors, so the gradients compared are those of the bases: zero outside the view.
/// Error measure: max |ours − torch| / max |torch| over the tensor (norm-wise relative error).
@Suite("Op parity with PyTorch")
struct OpParityTests {
    static let tolerance: Float = 1e-5

    @Test("forward and gradients match", arguments: OpCase.all.map(\.name))
    func parity(_ name: String) throws {
        let fixture = try opFixture.get()
        let op = OpCase.all.first { $0.name == name }!
        let inputs = try OpInputs(fixture: fixture, caseName: name)
        let out = op.run(inputs)
        let expected = try fixture.tensorValue("\(name)/out")
        #expect(out.shape == expected.shape, "\(name): shape \(out.shape) vs torch \(expected.shape)")
        let fwdErr = relativeError(out.toArray(), expected.toArray())
        #expect(fwdErr <= Self.tolerance, "\(name): forward relative error \(fwdErr)")

        let dy = try fixture.tensorValue("\(name)/dy")
        (out * dy).sum().backward()
        var checked = 0
        var worstGradient: Float = 0
        for gradName in fixture.names where gradName.hasPrefix("\(name)/grad/") {
            let input = String(gradName.dropFirst("\(name)/grad/".count))
            let expectedGrad = try fixture.tensorValue(gradName)
            let ours = try #require(inputs.floats[input]?.grad, "\(name): no gradient reached input \(input)")
            if op.analyticallyZero.contains(input) {
                // Both sides hold rounding noise around an exact zero: compare absolutely.
                let worst = zip(ours.toArray(), expectedGrad.toArray()).map { max(abs($0), abs($1)) }.max() ?? 0
                #expect(worst <= 1e-4, "\(name): gradient of \(input) should be ~0, max |value| \(worst)")
            } else {
                let err = relativeError(ours.toArray(), expectedGrad.toArray())
                #expect(err <= Self.tolerance, "\(name): gradient of \(input) relative error \(err)")
                worstGradient = max(worstGradient, err)
            }
            checked += 1
        }
        #expect(checked == inputs.floats.count - op.noGrad.count, "\(name): compared \(checked) gradients")
        print("op parity \(name): forward \(fwdErr), worst gradient \(worstGradient)")
    }
}

/// Runs the oracle once per test process and loads its output.
let opFixture: Result<SafeTensorsFile, Error> = Result {
    let dir = try Oracle.temporaryDirectory()
    let path = dir.appendingPathComponent("ops.safetensors").path
    try Oracle.run("ops_oracle.py", [path])
    return try SafeTensorsFile.read(from: URL(fileURLWithPath: path))
}

/// The inputs of one case: float bases (requiring grad unless listed in `noGrad`) and int64 ids.
struct OpInputs {
    var floats: [String: Tensor] = [:]
    var ints: [String: (values: [Int32], shape: [Int])] = [:]

    init(fixture: SafeTensorsFile, caseName: String) throws {
        let op = OpCase.all.first { $0.name == caseName }!
        for name in fixture.names where name.hasPrefix("\(caseName)/in/") {
            let input = String(name.dropFirst("\(caseName)/in/".count))
            let entry = try fixture.tensor(name)
            if entry.dtype == .I64 {
                ints[input] = (try entry.ints().map { Int32($0) }, entry.shape)
            } else {
                let t = try Tensor(entry)
                floats[input] = op.noGrad.contains(input) ? t : t.requiringGrad()
            }
        }
    }

    subscript(_ name: String) -> Tensor { floats[name]! }
}

struct OpCase: Sendable {
    let name: String
    /// Inputs that get no gradient (masks).
    var noGrad: Set<String> = []
    /// Inputs whose exact gradient is zero, so both sides hold only rounding noise: the key bias
    /// of attention (adding q·b_k to every score of a row leaves the softmax unchanged).
    var analyticallyZero: Set<String> = []
    let run: @Sendable (OpInputs) -> Tensor

    init(
        _ name: String, noGrad: Set<String> = [], analyticallyZero: Set<String> = [],
        _ run: @escaping @Sendable (OpInputs) -> Tensor
    ) {
        self.name = name
        self.noGrad = noGrad
        self.analyticallyZero = analyticallyZero
        self.run = run
    }

    static let all: [OpCase] = [
        OpCase("matmul_2d") { matmul($0["a"], $0["b"]) },
        OpCase("matmul_corner") { matmul($0["A"].corner([5, 7]), $0["B"].corner([7, 4])) },
        OpCase("matmul_transposed") { matmul($0["A"].transposed(), $0["B"].transposed()) },
        OpCase("bmm") { matmul($0["a"], $0["b"]) },
        OpCase("bmm_kt") { matmul($0["q"], $0["k"].transposed(-1, -2)) },
        OpCase("linear") { linear($0["x"], weight: $0["W"], bias: $0["b"]) },
        OpCase("linear_corner") { linear($0["x"], weight: $0["W"].corner([5, 6]), bias: $0["b"].corner([5])) },
        OpCase("add_bias") { $0["a"] + $0["b"] },
        OpCase("add_same") { $0["a"] + $0["b"] },
        OpCase("add_col") { $0["a"] + $0["b"] },
        OpCase("sub_broadcast") { $0["a"] - $0["b"] },
        OpCase("mul_broadcast") { $0["a"] * $0["b"] },
        OpCase("div") { $0["a"] / $0["b"] },
        OpCase("scale") { $0["a"] * 0.37 },
        OpCase("relu") { relu($0["a"]) },
        OpCase("gelu") { gelu($0["a"]) },
        OpCase("softmax") { softmax($0["a"]) },
        OpCase("log_softmax") { logSoftmax($0["a"]) },
        OpCase("softmax_masked", noGrad: ["mask"]) { softmax($0["a"] + $0["mask"]) },
        OpCase("layer_norm") { layerNorm($0["x"], weight: $0["w"], bias: $0["b"]) },
        OpCase("layer_norm_prefix") {
            layerNorm($0["X"].corner([4, 10]), weight: $0["W"].corner([10]), bias: $0["B"].corner([10]))
        },
        OpCase("embedding") { embedding($0["table"], indices: $0.ints["ids"]!.values, shape: $0.ints["ids"]!.shape) },
        OpCase("embedding_corner") {
            embedding($0["table"].corner([11, 8]), indices: $0.ints["ids"]!.values, shape: $0.ints["ids"]!.shape)
        },
        OpCase("concat_axis1") { concatenate([$0["a"], $0["b"]], axis: 1) },
        OpCase("concat_last") { concatenate([$0["a"], $0["b"]], axis: -1) },
        OpCase("concat_views") { concatenate([$0["A"].corner([3, 4]), $0["B"].corner([2, 4])], axis: 0) },
        OpCase("permute_contiguous") { $0["a"].permuted([2, 0, 1]).contiguous() },
        OpCase("permute_reshape") { $0["a"].permuted([0, 2, 1]).reshaped([2, 12]) },
        OpCase("sum_all") { $0["a"].sum() },
        OpCase("mean_all") { $0["a"].mean() },
        OpCase("sum_last") { $0["a"].sum(axis: -1) },
        OpCase("mean_last_keepdim") { $0["a"].mean(axis: -1, keepDims: true) },
        OpCase("label_smoothed_ce") {
            labelSmoothedCrossEntropy(logits: $0["logits"], targets: $0.ints["target"]!.values, epsilon: 0.1, paddingIndex: 1).loss
        },
        OpCase("distilled_ce", noGrad: ["teacher"]) {
            let soft = SoftTargets.topK(logits: $0["teacher"], k: 3, weight: 0.4)
            return labelSmoothedCrossEntropy(
                logits: $0["logits"], targets: $0.ints["target"]!.values, epsilon: 0.1, paddingIndex: 1, softTargets: soft
            ).loss
        },
        OpCase("mha", noGrad: ["mask"]) { i in
            let qkv = linear(i["x"], weight: i["Wqkv"], bias: i["bqkv"])  // [2, 5, 48]
            func heads(_ t: Tensor) -> Tensor { t.reshaped([2, 5, 4, 4]).permuted([0, 2, 1, 3]) }
            let q = heads(qkv.narrow(-1, start: 0, length: 16) * 0.5)
            let k = heads(qkv.narrow(-1, start: 16, length: 16))
            let v = heads(qkv.narrow(-1, start: 32, length: 16))
            let p = softmax(matmul(q, k.transposed(-1, -2)) + i["mask"])
            let o = matmul(p, v).permuted([0, 2, 1, 3]).reshaped([2, 5, 16])
            return linear(o, weight: i["Wo"], bias: i["bo"])
        },
        OpCase("mha_cross_corner", analyticallyZero: ["bk"]) { i in
            let q = linear(i["x"], weight: i["Wq"].corner([8, 12]), bias: i["bq"].corner([8])) * 0.5
            let k = linear(i["enc"], weight: i["Wk"].corner([8, 10]), bias: i["bk"].corner([8]))
            let v = linear(i["enc"], weight: i["Wv"].corner([8, 10]), bias: i["bv"].corner([8]))
            func heads(_ t: Tensor, _ len: Int) -> Tensor { t.reshaped([2, len, 2, 4]).permuted([0, 2, 1, 3]) }
            let p = softmax(matmul(heads(q, 4), heads(k, 6).transposed(-1, -2)))
            let o = matmul(p, heads(v, 6)).permuted([0, 2, 1, 3]).reshaped([2, 4, 8])
            return linear(o, weight: i["Wo"].corner([12, 8]), bias: i["bo"].corner([12]))
        },
        OpCase("attention_self_padding", noGrad: ["mask"]) { i in
            let qkv = i["qkv"]
            var rng = RandomGenerator(seed: 0)
            return multiHeadAttention(
                query: qkv.narrow(-1, start: 0, length: 12), key: qkv.narrow(-1, start: 12, length: 12),
                value: qkv.narrow(-1, start: 24, length: 12), heads: 3,
                mask: AttentionMask(keyPadding: [false, false, false, false, false, false, false, false, true, true]),
                dropout: 0, rng: &rng)
        },
        OpCase("attention_causal") { i in
            let qkv = i["qkv"]
            var rng = RandomGenerator(seed: 0)
            return multiHeadAttention(
                query: qkv.narrow(-1, start: 0, length: 12), key: qkv.narrow(-1, start: 12, length: 12),
                value: qkv.narrow(-1, start: 24, length: 12), heads: 2,
                mask: AttentionMask(causal: true), dropout: 0, rng: &rng)
        },
        OpCase("attention_cross", noGrad: ["mask"]) { i in
            let kv = i["kv"]
            var padding = [Bool](repeating: false, count: 14)
            padding[6] = true
            var rng = RandomGenerator(seed: 0)
            return multiHeadAttention(
                query: i["q"], key: kv.narrow(-1, start: 0, length: 8), value: kv.narrow(-1, start: 8, length: 8),
                heads: 2, mask: AttentionMask(keyPadding: padding), dropout: 0, rng: &rng)
        },
    ]
}
