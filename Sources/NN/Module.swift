import TensorEngine

/// Something with named parameters, in MLX's and PyTorch's sense of a module.
///
/// Names are dotted paths like fairseq's state-dict keys (`encoder.layers.0.fc1.weight`), so
/// a checkpoint is a flat safetensors file a person (or PyTorch) can read.
public protocol Module: AnyObject {
    /// Every parameter with its dotted name, in a fixed order.
    func namedParameters() -> [(name: String, tensor: Tensor)]
}

extension Module {
    /// The parameters without names, in the same order.
    public func parameters() -> [Tensor] { namedParameters().map(\.tensor) }

    /// Sets every parameter's gradient to none, as fairseq's `optimizer.zero_grad()` does
    /// (`p.grad = None`): a parameter no backward pass reaches before the next update (a layer
    /// the sampled SubTransformer does not run) has no gradient then, and Adam skips it.
    public func zeroGrad() { for p in parameters() { p.storage.clearGrad() } }

    /// Number of scalar parameters.
    public var parameterCount: Int { parameters().reduce(0) { $0 + $1.count } }
}

/// Prefixes child names: `prefixed("fc1", linear.namedParameters())` → `fc1.weight`, `fc1.bias`.
public func prefixed(_ prefix: String, _ children: [(name: String, tensor: Tensor)]) -> [(name: String, tensor: Tensor)] {
    children.map { (prefix + "." + $0.name, $0.tensor) }
}

/// State that changes between training and evaluation: dropout's switch and random stream.
///
/// One context is passed down a forward pass, so a seeded step draws the same masks in the
/// same order every time.
public final class ForwardContext {
    public var training: Bool
    public var rng: RandomGenerator

    public init(training: Bool, rng: RandomGenerator = RandomGenerator(seed: 0)) {
        self.training = training
        self.rng = rng
    }

    /// An evaluation context (no dropout).
    public static func evaluation() -> ForwardContext { ForwardContext(training: false) }

    /// Dropout when training with p > 0; the identity otherwise.
    public func dropout(_ x: Tensor, p: Float) -> Tensor {
        guard training, p > 0 else { return x }
        return TensorEngine.dropout(x, p: p, rng: &rng)
    }
}
