#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reverse-mode automatic differentiation.
///
/// Every op that reads a tensor requiring a gradient records a `GradNode` on its output: the
/// inputs, and a closure that, given the output's gradient, adds the inputs' gradients into
/// their gradient regions. Views record a node with no closure: their gradient already *is* a
/// region of the base's gradient buffer (see `TensorStorage`), so the node only orders the
/// traversal (every consumer of a view runs before the producer of its base).
final class GradNode {
    let inputs: [Tensor]
    /// Receives a pointer to the output's gradient (contiguous, row-major). Nil for views.
    let backward: ((UnsafeMutablePointer<Float>) -> Void)?

    init(inputs: [Tensor], backward: ((UnsafeMutablePointer<Float>) -> Void)?) {
        self.inputs = inputs
        self.backward = backward
    }
}

/// Stores (`store`) or adds `value(i)` into `dst[i]` for every i in `range`: how a backward
/// kernel writes a gradient whose destination may be fresh (`Tensor.gradientDestination`).
/// The branch sits outside the loops so that both specialize and vectorize.
@inline(__always)
func emitGradient(_ dst: UnsafeMutablePointer<Float>, store: Bool, _ range: Range<Int>, _ value: (Int) -> Float) {
    if store {
        for i in range { dst[i] = value(i) }
    } else {
        for i in range { dst[i] += value(i) }
    }
}

/// Whether ops record a graph. `withNoGrad` turns recording off for inference: no nodes, no tape.
///
/// The flag is per thread (like PyTorch's grad mode), so inference on one thread never turns
/// off gradients of training on another (tests run in parallel).
public enum GradMode {
    private static let key: pthread_key_t = {
        var k = pthread_key_t()
        precondition(pthread_key_create(&k, nil) == 0, "cannot create the grad-mode thread key")
        return k
    }()
    public static var isEnabled: Bool {
        get { pthread_getspecific(key) == nil }
        // Any non-nil value marks "disabled"; nil (the default on every thread) is "enabled".
        set { pthread_setspecific(key, newValue ? nil : UnsafeMutableRawPointer(bitPattern: 1)) }
    }
}

/// Runs `body` without recording any graph (like `torch.no_grad()`).
public func withNoGrad<T>(_ body: () throws -> T) rethrows -> T {
    let previous = GradMode.isEnabled
    GradMode.isEnabled = false
    defer { GradMode.isEnabled = previous }
    return try body()
}

extension Tensor {
    /// Wraps a freshly computed contiguous result and records how to differentiate it.
    ///
    /// `backward` is only kept when grad mode is on and some input requires a gradient.
    static func result(
        _ storage: TensorStorage, shape: [Int], inputs: [Tensor],
        backward: @escaping (UnsafeMutablePointer<Float>) -> Void
    ) -> Tensor {
        let out = Tensor(storage: storage, shape: shape, strides: contiguousStrides(shape))
        if GradMode.isEnabled {
            let tracked = inputs.filter { $0.requiresGrad }
            if !tracked.isEmpty {
                out.requiresGrad = true
                out.gradNode = GradNode(inputs: tracked, backward: backward)
            }
        }
        return out
    }

    /// A view of this tensor's storage; its gradient aliases the matching gradient region.
    func view(shape: [Int], strides: [Int], offset: Int) -> Tensor {
        let v = Tensor(storage: storage, shape: shape, strides: strides, offset: offset)
        if GradMode.isEnabled && requiresGrad {
            v.requiresGrad = true
            v.gradNode = GradNode(inputs: [self], backward: nil)
        }
        return v
    }

    /// Back-propagates from this one-element tensor (a loss): adds d(self)/d(leaf) into every
    /// leaf's gradient. The graph is released afterwards (like PyTorch without `retain_graph`).
    public func backward(gradient seed: Float = 1) {
        precondition(count == 1, "backward() starts from a one-element tensor; shape is \(shape)")
        precondition(requiresGrad, "backward(): this tensor does not depend on any tensor requiring a gradient")
        // Iterative depth-first post-order: each tensor after everything it depends on.
        var order: [Tensor] = []
        var visited = Set<ObjectIdentifier>()
        var stack: [(Tensor, Bool)] = [(self, false)]
        while let (t, expanded) = stack.popLast() {
            if expanded {
                order.append(t)
                continue
            }
            if !visited.insert(ObjectIdentifier(t)).inserted { continue }
            stack.append((t, true))
            if let node = t.gradNode {
                for input in node.inputs where !visited.contains(ObjectIdentifier(input)) {
                    stack.append((input, false))
                }
            }
        }
        gradPointer[0] += seed
        // Reverse post-order: every consumer of a tensor runs before the tensor's own node.
        for t in order.reversed() {
            guard let node = t.gradNode else { continue }
            if let fn = node.backward, let g = t.storage.grad {
                fn(g + t.offset)
            }
            t.gradNode = nil
        }
    }
}
