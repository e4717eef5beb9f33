import Foundation
import TensorEngine

/// Adam with decoupled weight decay, as fairseq's `adam` optimizer (which HAT trains with):
///   m ← β₁m + (1−β₁)g,  v ← β₂v + (1−β₂)g²
///   p ← p − lr·wd·p − lr · m̂ / (√v̂ + ε),  m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ)
/// HAT's configs: betas (0.9, 0.98), eps 1e-8, weight decay 0 (WMT) or 1e-4 (IWSLT).
///
/// State is one moment pair and one step count t per parameter, in `parameters` order, so a
/// checkpoint can store and restore it by name. As in fairseq's and PyTorch's Adam, a parameter
/// without a gradient is skipped: its moments, weights and t stay as they are (a SuperTransformer
/// layer the sampled SubTransformer does not run is not updated, nor moved by its momentum).
public final class Adam {
    public var learningRate: Float
    public var beta1: Float
    public var beta2: Float
    public var eps: Float
    public var weightDecay: Float
    /// Number of updates taken.
    public private(set) var step: Int = 0
    /// Updates each parameter took part in (t in its bias corrections).
    public private(set) var parameterSteps: [Int]
    public let parameters: [Tensor]
    /// First and second moments, one buffer each per parameter.
    public let firstMoments: [Tensor]
    public let secondMoments: [Tensor]

    public init(
        parameters: [Tensor], learningRate: Float = 5e-4, betas: (Float, Float) = (0.9, 0.98), eps: Float = 1e-8,
        weightDecay: Float = 0
    ) {
        self.parameters = parameters
        self.learningRate = learningRate
        beta1 = betas.0
        beta2 = betas.1
        self.eps = eps
        self.weightDecay = weightDecay
        firstMoments = parameters.map { Tensor.zeros($0.shape) }
        secondMoments = parameters.map { Tensor.zeros($0.shape) }
        parameterSteps = [Int](repeating: 0, count: parameters.count)
    }

    /// One update from the parameters' accumulated gradients, scaled by `gradientScale`
    /// (e.g. 1/tokens to turn a summed loss into a mean, or a clipping factor).
    public func update(gradientScale: Float = 1) {
        step += 1
        let lr = learningRate, b1 = beta1, b2 = beta2, eps = eps, wd = weightDecay
        for (i, p) in parameters.enumerated() {
            precondition(p.isContiguous && p.offset == 0 && p.count == p.storage.count, "Adam updates whole parameters")
            guard let g = p.storage.grad else { continue }  // untouched this step (no gradient)
            parameterSteps[i] += 1
            let t = Double(parameterSteps[i])
            let c1 = 1 - Float(pow(Double(b1), t))
            let c2 = 1 - Float(pow(Double(b2), t))
            let stepSize = lr / c1
            let c2Sqrt = c2.squareRoot()
            let x = p.storage.data, m = firstMoments[i].storage.data, v = secondMoments[i].storage.data
            // Elements are independent: split large parameters over the cores (the result
            // does not depend on the split).
            parallelFor(p.count, minimumPerThread: 16_384) { range in
                for j in range {
                    let gj = g[j] * gradientScale
                    m[j] = b1 * m[j] + (1 - b1) * gj
                    v[j] = b2 * v[j] + (1 - b2) * gj * gj
                    if wd != 0 { x[j] -= lr * wd * x[j] }
                    x[j] -= stepSize * m[j] / (v[j].squareRoot() / c2Sqrt + eps)
                }
            }
        }
    }

    /// Restores the step counts (the moments are restored by writing into their storages).
    /// - Parameter parameterSteps: t of each parameter; nil gives every parameter `step`.
    public func restore(step: Int, parameterSteps: [Int]? = nil) {
        precondition(parameterSteps.map { $0.count == parameters.count } ?? true, "one step count per parameter")
        self.step = step
        self.parameterSteps = parameterSteps ?? [Int](repeating: step, count: parameters.count)
    }
}

/// L2 norm of all gradients (of the parameters that have one), accumulated in Double.
public func gradientNorm(_ parameters: [Tensor]) -> Double {
    var sum = 0.0
    for p in parameters {
        guard let g = p.storage.grad else { continue }
        for j in 0..<p.storage.count { sum += Double(g[j]) * Double(g[j]) }
    }
    return sum.squareRoot()
}
