import TensorEngine

/// A fully connected layer with super-sized weights that runs any top-left corner of itself.
///
/// HAT's weight sharing (hat-reference.md §2): a SubTransformer layer of `inFeatures` →
/// `outFeatures` uses `weight[:out, :in]` and `bias[:out]`. The corner is a view, so forward
/// and backward run on the super tensors in place (see `TensorEngine.linear`).
///
/// ```swift
/// let fc1 = ElasticLinear(inFeatures: 640, outFeatures: 3072, rng: &rng)
/// let h = fc1(x, outFeatures: 1024)   // x: [..., 512] → [..., 1024]
/// ```
public final class ElasticLinear: Module {
    /// [outSuper, inSuper], like PyTorch's and MLX's Linear.
    public let weight: Tensor
    /// [outSuper]
    public let bias: Tensor?

    public init(inFeatures: Int, outFeatures: Int, bias: Bool = true, rng: inout RandomGenerator) {
        weight = xavierUniform([outFeatures, inFeatures], rng: &rng).requiringGrad()
        self.bias = bias ? Tensor.zeros([outFeatures]).requiringGrad() : nil
    }

    public var inFeatures: Int { weight.shape[1] }
    public var outFeatures: Int { weight.shape[0] }

    /// y = x · W[:out, :in]ᵀ + b[:out], where `in` is x's last dimension.
    public func callAsFunction(_ x: Tensor, outFeatures out: Int) -> Tensor {
        let inDim = x.shape.last ?? 0
        precondition(
            out <= outFeatures && inDim <= inFeatures,
            "ElasticLinear: sub size \(out)×\(inDim) exceeds super size \(outFeatures)×\(inFeatures)")
        return linear(x, weight: weight.corner([out, inDim]), bias: bias?.corner([out]))
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] {
        var p: [(name: String, tensor: Tensor)] = [("weight", weight)]
        if let bias { p.append(("bias", bias)) }
        return p
    }
}

/// Layer normalization over the first `d` features of super-sized weight and bias.
public final class ElasticLayerNorm: Module {
    public let weight: Tensor
    public let bias: Tensor
    public let eps: Float

    public init(dimensions: Int, eps: Float = 1e-5) {
        weight = Tensor.ones([dimensions]).requiringGrad()
        bias = Tensor.zeros([dimensions]).requiringGrad()
        self.eps = eps
    }

    /// Normalizes over x's last dimension d, with weight[:d] and bias[:d].
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let d = x.shape.last ?? 0
        return layerNorm(x, weight: weight.corner([d]), bias: bias.corner([d]), eps: eps)
    }

    public func namedParameters() -> [(name: String, tensor: Tensor)] { [("weight", weight), ("bias", bias)] }
}

/// Glorot/Xavier uniform initialization, U(−a, a) with a = √(6 / (fan_in + fan_out)), as fairseq's Linear.
public func xavierUniform(_ shape: [Int], gain: Float = 1, rng: inout RandomGenerator) -> Tensor {
    let a = gain * (6 / Float(shape[0] + shape[1])).squareRoot()
    return Tensor.uniform(shape, low: -a, high: a, rng: &rng)
}
