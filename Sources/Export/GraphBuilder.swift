import Foundation
import TensorEngine

/// Builds an `ONNX.Graph` one operator at a time, in the vocabulary of the model code: each
/// method adds one node (or an initializer) and returns the name of its output value, so a
/// layer reads like the Swift forward pass it mirrors (`SubTransformerExporter`).
final class GraphBuilder {
    private(set) var graph: ONNX.Graph
    private var counter = 0
    private var constants: [String: String] = [:]

    init(name: String) { graph = ONNX.Graph(name: name) }

    /// A fresh value name: `prefix_N`.
    private func fresh(_ prefix: String) -> String {
        counter += 1
        return "\(prefix)_\(counter)"
    }

    @discardableResult
    func node(_ op: String, _ inputs: [String], _ attributes: [ONNX.Attribute] = [], outputName: String? = nil) -> String {
        let out = outputName ?? fresh(op)
        graph.nodes.append(ONNX.Node(opType: op, inputs: inputs, outputs: [out], name: "\(op)_\(graph.nodes.count)", attributes: attributes))
        return out
    }

    func input(_ info: ONNX.ValueInfo) -> String {
        graph.inputs.append(info)
        return info.name
    }

    /// Marks `value` as a graph output named `info.name` (through an Identity node when renamed).
    func output(_ value: String, as info: ONNX.ValueInfo) {
        if value != info.name { node("Identity", [value], outputName: info.name) }
        graph.outputs.append(info)
    }

    // MARK: Initializers and constants

    /// A weight: the tensor's values (any view: a super weight's corner is copied out) under `name`.
    func weight(_ name: String, _ tensor: Tensor) -> String {
        if let quantized = tensor.quantizedWindow { return quantizedWeight(name, quantized) }
        graph.initializers.append(ONNX.TensorValue(name: name, shape: tensor.shape, floats: tensor.toArray()))
        return name
    }

    /// A K-means-quantized weight (`hat quantize`) stays quantized in the file: its indices as
    /// uint8 `NAME.indices` [rows, columns] and its centroids as `NAME.codebook`, expanded by
    /// Cast → (Add each row's codebook offset) → Gather into the float weight `NAME` when the
    /// runtime loads or runs the graph.
    private func quantizedWeight(_ name: String, _ w: QuantizedWindow) -> String {
        let m = w.matrix
        var indices = [UInt8]()
        indices.reserveCapacity(w.rows * w.columns)
        for r in w.firstRow..<(w.firstRow + w.rows) { for c in 0..<w.columns { indices.append(m.assignment(row: r, column: c)) } }
        graph.initializers.append(ONNX.TensorValue(name: "\(name).indices", shape: [w.rows, w.columns], uint8s: indices))
        let firstGroup = w.firstRow / m.groupRows, lastGroup = (w.firstRow + w.rows - 1) / m.groupRows
        let codebook = Array(m.codebooks[(firstGroup << m.bits)..<((lastGroup + 1) << m.bits)])
        graph.initializers.append(ONNX.TensorValue(name: "\(name).codebook", shape: [codebook.count], floats: codebook))
        var positions = node("Cast", ["\(name).indices"], [.int("to", Int(ONNX.ElementType.int64.rawValue))])
        if lastGroup > firstGroup {
            let offsets = (w.firstRow..<(w.firstRow + w.rows)).map { Int64(($0 / m.groupRows - firstGroup) << m.bits) }
            let offsetsName = fresh("codebook_offsets")
            graph.initializers.append(ONNX.TensorValue(name: offsetsName, shape: [w.rows, 1], int64s: offsets))
            positions = add(positions, offsetsName)
        }
        return node("Gather", ["\(name).codebook", positions], [.int("axis", 0)], outputName: name)
    }

    /// Whether `name` is already a value of the graph (an initializer or a node's output).
    func defines(_ name: String) -> Bool {
        graph.initializers.contains { $0.name == name } || graph.nodes.contains { $0.outputs.contains(name) }
    }

    /// A small constant, added once per graph however often it is asked for.
    private func constant(key: String, _ make: (String) -> ONNX.TensorValue) -> String {
        if let name = constants[key] { return name }
        let name = fresh("const")
        graph.initializers.append(make(name))
        constants[key] = name
        return name
    }

    func floatConstant(_ values: [Float], shape: [Int]) -> String {
        constant(key: "f\(shape)\(values)") { ONNX.TensorValue(name: $0, shape: shape, floats: values) }
    }

    func intConstant(_ values: [Int64], shape: [Int]) -> String {
        constant(key: "i\(shape)\(values)") { ONNX.TensorValue(name: $0, shape: shape, int64s: values) }
    }

    func scalar(_ v: Float) -> String { floatConstant([v], shape: []) }
    func scalar(_ v: Int64) -> String { intConstant([v], shape: []) }
    func ints(_ v: [Int64]) -> String { intConstant(v, shape: [v.count]) }

    // MARK: Operators (ONNX opset 17 semantics)

    func add(_ a: String, _ b: String) -> String { node("Add", [a, b]) }
    func mul(_ a: String, _ b: String) -> String { node("Mul", [a, b]) }
    func matmul(_ a: String, _ b: String) -> String { node("MatMul", [a, b]) }
    func relu(_ x: String) -> String { node("Relu", [x]) }
    func softmax(_ x: String) -> String { node("Softmax", [x], [.int("axis", -1)]) }
    func transpose(_ x: String, _ perm: [Int]) -> String { node("Transpose", [x], [.ints("perm", perm)]) }
    /// Reshape; 0 in `shape` keeps that input dimension, -1 infers it.
    func reshape(_ x: String, _ shape: [Int64]) -> String { node("Reshape", [x, ints(shape)]) }
    func concat(_ xs: [String], axis: Int) -> String { xs.count == 1 ? xs[0] : node("Concat", xs, [.int("axis", axis)]) }
    func unsqueeze(_ x: String, axes: [Int64]) -> String { node("Unsqueeze", [x, ints(axes)]) }
    func gather(_ table: String, _ indices: String) -> String { node("Gather", [table, indices], [.int("axis", 0)]) }
    func equal(_ a: String, _ b: String) -> String { node("Equal", [a, b]) }
    func not(_ x: String) -> String { node("Not", [x]) }
    func cast(_ x: String, to type: ONNX.ElementType) -> String { node("Cast", [x], [.int("to", type.rawValue)]) }
    func cumsum(_ x: String, axis: Int64) -> String { node("CumSum", [x, scalar(axis)]) }
    func `where`(_ condition: String, _ a: String, _ b: String) -> String { node("Where", [condition, a, b]) }
    func shape(_ x: String) -> String { node("Shape", [x]) }
    /// Elements of a 1-D tensor at `indices`, as a 1-D tensor.
    func elements(_ x: String, _ indices: [Int64]) -> String { node("Gather", [x, ints(indices)], [.int("axis", 0)]) }
    func constantOfShape(_ shape: String, value: Float) -> String {
        node("ConstantOfShape", [shape], [.tensor("value", ONNX.TensorValue(name: "value", shape: [1], floats: [value]))])
    }
    /// Upper triangle (`upper`) above diagonal `k` of the last two axes.
    func trilu(_ x: String, k: Int64, upper: Bool) -> String { node("Trilu", [x, scalar(k)], [.int("upper", upper ? 1 : 0)]) }
    func layerNorm(_ x: String, scale: String, bias: String, epsilon: Float) -> String {
        node("LayerNormalization", [x, scale, bias], [.int("axis", -1), .float("epsilon", epsilon)])
    }
    /// x · Wᵀ + b for W [out, in] stored as PyTorch lays it out; onnxruntime folds the transpose
    /// of a constant once, when the session is made.
    func linear(_ x: String, weight: String, bias: String?) -> String {
        let y = matmul(x, transpose(weight, [1, 0]))
        return bias.map { add(y, $0) } ?? y
    }
}
