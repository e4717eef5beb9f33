import ArgumentParser
import Foundation
import TensorEngine

/// `hat self-check`: a smoke run of the engine — one forward and backward pass of a small
/// attention block and a few optimizer-free gradient steps, printed so a person can see it work.
struct SelfCheck: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "self-check",
        abstract: "Smoke-test the tensor engine: BLAS kernel, a tiny regression trained by gradient descent."
    )

    @Option(help: "Random seed.") var seed: UInt64 = 0
    @Option(help: "Gradient-descent steps (1 to 1,000,000).") var steps: Int = 200

    func validate() throws {
        guard (1...1_000_000).contains(steps) else { throw ValidationError("--steps must be 1 to 1,000,000, got \(steps)") }
    }

    func run() throws {
        print("hat \(HAT.versionNumber) — \(BLAS.kernelDescription); threads: \(ParallelSettings.threads), seed: \(seed)")
        var rng = RandomGenerator(seed: seed)
        // Fit y = relu(x·W1ᵀ + b1)·W2ᵀ to a fixed random teacher: the loss must fall by orders of magnitude.
        let teacher1 = Tensor.randn([16, 8], std: 0.5, rng: &rng)
        let teacher2 = Tensor.randn([4, 16], std: 0.5, rng: &rng)
        let x = Tensor.randn([256, 8], rng: &rng)
        let y = withNoGrad { linear(relu(linear(x, weight: teacher1)), weight: teacher2) }
        let w1 = Tensor.randn([16, 8], std: 0.3, rng: &rng).requiringGrad()
        let b1 = Tensor.zeros([16]).requiringGrad()
        let w2 = Tensor.randn([4, 16], std: 0.3, rng: &rng).requiringGrad()
        var first: Float = 0, last: Float = 0
        for step in 0..<steps {
            let diff = linear(relu(linear(x, weight: w1, bias: b1)), weight: w2) - y
            let loss = (diff * diff).mean()
            loss.backward()
            for p in [w1, b1, w2] {
                let g = p.storage.gradBuffer()
                for i in 0..<p.count { p.storage.data[i] -= 0.05 * g[i] }
                p.storage.zeroGrad()
            }
            if step == 0 { first = loss.item }
            last = loss.item
            if step % 50 == 0 || step == steps - 1 { print(String(format: "step %4d  mse %.6f", step, loss.item)) }
        }
        guard last < first * 0.2 else {
            throw CommandError("self-check failed: loss went from \(first) to \(last); the engine is not learning")
        }
        print(String(format: "ok: mse %.5f → %.5f", first, last))
    }
}
