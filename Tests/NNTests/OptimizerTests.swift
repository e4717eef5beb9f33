import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import NN

@Suite("Optimizer and schedules")
struct OptimizerTests {
    @Test("Adam with weight decay matches torch.optim.AdamW step by step, skipping parameters without a gradient")
    func adamMatchesPyTorch() throws {
        // Two parameters; the second has no gradient at steps 1 and 2 (a layer the sampled
        // SubTransformer did not run): AdamW leaves it, and its step count, alone then.
        var rng = RandomGenerator(seed: 2)
        let p = Tensor.randn([7, 5], rng: &rng).requiringGrad(), q = Tensor.randn([3, 4], rng: &rng).requiringGrad()
        let steps = 5, skipped: Set<Int> = [1, 2]
        let grads = (0..<steps).map { _ in (Tensor.randn([7, 5], std: 0.3, rng: &rng), Tensor.randn([3, 4], std: 0.3, rng: &rng)) }
        let adam = Adam(parameters: [p, q], learningRate: 1e-2, betas: (0.9, 0.98), eps: 1e-8, weightDecay: 1e-2)
        var file = SafeTensorsFile(metadata: [
            "lr": "0.01", "beta1": "0.9", "beta2": "0.98", "eps": "1e-08", "weight_decay": "0.01",
            "steps": "\(steps)",
        ])
        try file.add("param.p", p)
        try file.add("param.q", q)
        for (k, (gp, gq)) in grads.enumerated() {
            try file.add("grad.p.\(k)", gp)
            if !skipped.contains(k) { try file.add("grad.q.\(k)", gq) }
        }
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try file.write(to: dir.appendingPathComponent("in.safetensors"))
        try Oracle.run("adam_oracle.py", [dir.appendingPathComponent("in.safetensors").path, dir.appendingPathComponent("out.safetensors").path])
        let expected = try SafeTensorsFile.read(from: dir.appendingPathComponent("out.safetensors"))
        func setGradient(_ t: Tensor, _ g: Tensor) {
            let buffer = t.storage.gradBuffer()
            for (i, v) in g.toArray().enumerated() { buffer[i] = v }
        }
        for (k, (gp, gq)) in grads.enumerated() {
            p.storage.clearGrad()
            q.storage.clearGrad()
            setGradient(p, gp)
            if !skipped.contains(k) { setGradient(q, gq) }
            let qBefore = q.toArray()
            adam.update()
            for (name, t) in [("p", p), ("q", q)] {
                let err = relativeError(t.toArray(), try expected.tensorValue("param.\(name).after.\(k)").toArray())
                #expect(err < 1e-6, "step \(k), \(name): relative error \(err)")
            }
            if skipped.contains(k) { #expect(q.toArray() == qBefore, "a parameter without a gradient must not move") }
        }
        #expect(adam.step == 5 && adam.parameterSteps == [5, 3])
    }

    @Test("inverse_sqrt: linear warm-up from warmup-init-lr, lr at the end of warm-up, lr/2 at 4× warm-up")
    func inverseSqrt() {
        let s = LearningRateSchedule.inverseSqrt(lr: 5e-4, warmupUpdates: 100, warmupInitLR: 1e-7)
        #expect(s.learningRate(update: 0) == 1e-7)
        #expect(abs(s.learningRate(update: 50) - (1e-7 + 0.5 * (5e-4 - 1e-7))) < 1e-12)
        #expect(abs(s.learningRate(update: 100) - 5e-4) < 1e-12)
        #expect(abs(s.learningRate(update: 400) - 2.5e-4) < 1e-12)
    }

    @Test("cosine: warm-up to max-lr, half a cosine down to lr over max-update − warm-up")
    func cosine() {
        let s = LearningRateSchedule.cosine(maxLR: 1e-3, minLR: 1e-7, warmupUpdates: 10, warmupInitLR: 1e-7, periodUpdates: 90)
        #expect(s.learningRate(update: 0) == 1e-7)
        #expect(abs(s.learningRate(update: 10) - 1e-3) < 1e-12)
        #expect(abs(s.learningRate(update: 55) - (1e-7 + 0.5 * (1e-3 - 1e-7))) < 1e-12)
        #expect(abs(s.learningRate(update: 100) - 1e-7) < 1e-12)
    }

    @Test("gradient norm over all parameters")
    func norm() {
        let a = Tensor([3, 0], shape: [2]).requiringGrad(), b = Tensor([0], shape: [1]).requiringGrad()
        (a * Tensor([3, 4], shape: [2])).sum().backward()
        #expect(gradientNorm([a, b]) == 5)
    }
}
