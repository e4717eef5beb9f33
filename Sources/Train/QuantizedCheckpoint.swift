import Foundation
import Model
import NN
import TensorEngine

/// One parameter of a quantized SubTransformer: its used corner, as floats or as codebook indices.
public struct QuantizedParameter {
    public enum Value {
        case floats([Float], shape: [Int])
        case quantized(QuantizedMatrix)
    }
    public var name: String
    public var value: Value

    public init(name: String, value: Value) {
        self.name = name
        self.value = value
    }

    public var shape: [Int] {
        switch value {
        case .floats(_, let shape): return shape
        case .quantized(let m): return [m.rows, m.columns]
        }
    }
}

/// A quantized SubTransformer as one safetensors file (`hat quantize` writes it; every command
/// that loads a checkpoint reads it through `Checkpoint.loadModel`).
///
/// Only the corners the SubTransformer reads are stored (`SuperTransformer.usedCorners`), so
/// the file's size is the model's size. A weight matrix NAME is two tensors:
/// `model.NAME.indices` (U8 [rows, ⌈columns·bits/8⌉]: each row's indices packed densely, `bits`
/// each, least significant bit first, every row starting on a byte) and `model.NAME.codebook`
/// (F32 [groups, 2^bits]: group g's centroids serve rows [g·groupRows, (g+1)·groupRows)). A
/// vector (bias, layer norm) is `model.NAME`, F32. Metadata: `format` = `hat-quantized-v1`,
/// `state` (the checkpoint state JSON of `Checkpoint`, with the SubTransformer set), and
/// `quantization`, JSON: `{"method": "kmeans", "tensors": {NAME: {"shape": [r, c], "bits": b,
/// "group_rows": g}}}`.
public enum QuantizedCheckpoint {
    public static let format = "hat-quantized-v1"
    static let quantizationKey = "quantization"

    struct Header: Codable {
        struct Entry: Codable {
            var shape: [Int]
            var bits: Int
            var groupRows: Int
            enum CodingKeys: String, CodingKey {
                case shape, bits
                case groupRows = "group_rows"
            }
        }
        var method: String
        var tensors: [String: Entry]
    }

    /// Writes the quantized SubTransformer atomically.
    public static func save(to url: URL, parameters: [QuantizedParameter], state: CheckpointState) throws {
        precondition(state.subTransformer != nil, "a quantized checkpoint holds one SubTransformer")
        var file = SafeTensorsFile(metadata: ["format": format, "state": try Checkpoint.encode(state)])
        var header = Header(method: "kmeans", tensors: [:])
        for p in parameters {
            switch p.value {
            case .floats(let values, let shape):
                try file.add("model.\(p.name)", floats: values, shape: shape)
            case .quantized(let m):
                let packed = m.packedIndices()
                file.add(
                    try SafeTensorsEntry(
                        name: "model.\(p.name).indices", dtype: .U8,
                        shape: [m.rows, QuantizedMatrix.packedRowBytes(columns: m.columns, bits: m.bits)], bytes: Data(packed)))
                try file.add("model.\(p.name).codebook", floats: m.codebooks, shape: [m.groupCount, m.centroidCount])
                header.tensors[p.name] = Header.Entry(shape: [m.rows, m.columns], bits: m.bits, groupRows: m.groupRows)
            }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        file.metadata[quantizationKey] = String(decoding: try encoder.encode(header), as: UTF8.self)
        try file.write(to: url)
    }

    /// Whether `file` is a quantized checkpoint (rather than a float32 one).
    public static func isQuantized(_ file: SafeTensorsFile) -> Bool { file.metadata["format"] == format }

    private static func readState(_ file: SafeTensorsFile, path: String) throws -> (CheckpointState, SubTransformerConfig) {
        guard isQuantized(file) else {
            throw TrainingError.badCheckpoint("\(path): not a quantized hat checkpoint (metadata 'format' is \(file.metadata["format"] ?? "missing"))")
        }
        let state = try Checkpoint.readState(file, path: path, allowQuantized: true)
        guard let config = state.subTransformer else {
            throw TrainingError.badCheckpoint("\(path): a quantized checkpoint must name its SubTransformer in its state")
        }
        return (state, config)
    }

    /// Every parameter of a quantized checkpoint, checked against what its SubTransformer reads:
    /// every used corner present with its exact shape, indices within their codebook, centroids
    /// and floats finite. Errors name the file and the tensor.
    private static func readParameters(
        _ file: SafeTensorsFile, path: String, model: SuperTransformer, config: SubTransformerConfig
    ) throws -> [QuantizedParameter] {
        guard let json = file.metadata[quantizationKey], let header = try? JSONDecoder().decode(Header.self, from: Data(json.utf8)) else {
            throw TrainingError.badCheckpoint(
                "\(path): metadata '\(quantizationKey)' is missing or not the JSON of `hat quantize` ({\"method\", \"tensors\": {NAME: {shape, bits, group_rows}}})"
            )
        }
        let used = model.usedCorners(of: config)
        let usedNames = Set(used.map(\.name))
        if let stray = header.tensors.keys.sorted().first(where: { !usedNames.contains($0) }) {
            throw TrainingError.badCheckpoint("\(path): quantized tensor \(stray) is not a parameter its SubTransformer reads")
        }
        var parameters: [QuantizedParameter] = []
        for (name, _, shape) in used {
            if let entry = header.tensors[name] {
                parameters.append(QuantizedParameter(name: name, value: .quantized(try readMatrix(file, path: path, name: name, entry: entry, shape: shape))))
            } else {
                guard let tensor = file["model.\(name)"] else {
                    throw TrainingError.badCheckpoint("\(path): tensor model.\(name) is missing (neither floats nor model.\(name).indices)")
                }
                guard tensor.shape == shape else {
                    throw TrainingError.badCheckpoint("\(path): tensor model.\(name) has shape \(tensor.shape), its SubTransformer reads \(shape)")
                }
                let values = try tensor.floats()
                guard values.allSatisfy(\.isFinite) else { throw TrainingError.badCheckpoint("\(path): tensor model.\(name) is not finite") }
                parameters.append(QuantizedParameter(name: name, value: .floats(values, shape: shape)))
            }
        }
        return parameters
    }

    private static func readMatrix(_ file: SafeTensorsFile, path: String, name: String, entry: Header.Entry, shape: [Int]) throws -> QuantizedMatrix {
        let label = "\(path): quantized tensor \(name)"
        guard entry.shape == shape else { throw TrainingError.badCheckpoint("\(label) has shape \(entry.shape), its SubTransformer reads \(shape)") }
        guard (1...8).contains(entry.bits) else { throw TrainingError.badCheckpoint("\(label) has \(entry.bits) bits per index (1 to 8)") }
        guard entry.groupRows >= 1 else { throw TrainingError.badCheckpoint("\(label) has groups of \(entry.groupRows) rows") }
        let (rows, columns) = (shape[0], shape[1])
        let groups = (rows + entry.groupRows - 1) / entry.groupRows
        guard let indices = file["model.\(name).indices"], let codebook = file["model.\(name).codebook"] else {
            throw TrainingError.badCheckpoint("\(label): model.\(name).indices or model.\(name).codebook is missing")
        }
        let rowBytes = QuantizedMatrix.packedRowBytes(columns: columns, bits: entry.bits)
        guard indices.dtype == .U8, indices.shape == [rows, rowBytes] else {
            throw TrainingError.badCheckpoint("\(label): indices are \(indices.dtype.rawValue) \(indices.shape), expected U8 [\(rows), \(rowBytes)]")
        }
        guard codebook.shape == [groups, 1 << entry.bits] else {
            throw TrainingError.badCheckpoint("\(label): codebook has shape \(codebook.shape), expected [\(groups), \(1 << entry.bits)]")
        }
        let centroids = try codebook.floats()
        guard centroids.allSatisfy(\.isFinite) else { throw TrainingError.badCheckpoint("\(label): codebook is not finite") }
        let assignments = QuantizedMatrix.unpack([UInt8](indices.bytes), rows: rows, columns: columns, bits: entry.bits)
        return QuantizedMatrix(rows: rows, columns: columns, bits: entry.bits, groupRows: entry.groupRows, codebooks: centroids, assignments: assignments)
    }

    /// Builds the model a quantized checkpoint describes: its matrices stay quantized in memory
    /// (the engine multiplies with the indices), the rest is float32. Inference only.
    public static func loadModel(_ file: SafeTensorsFile, path: String) throws -> (model: SuperTransformer, state: CheckpointState) {
        let (state, config) = try readState(file, path: path)
        var rng = RandomGenerator(seed: 0)
        let model = SuperTransformer(
            space: state.space, sourceVocabSize: state.sourceVocabSize,
            targetVocabSize: state.targetVocabSize, rates: state.training.dropoutRates, rng: &rng)
        install(try readParameters(file, path: path, model: model, config: config), into: model)
        return (model, state)
    }

    /// Puts a quantized SubTransformer's parameters into `model` (built for its space): matrices
    /// replace the float storages (freed), vectors are copied into their corners.
    public static func install(_ parameters: [QuantizedParameter], into model: SuperTransformer) {
        let tensors = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.name, $0.tensor) })
        for p in parameters {
            let tensor = tensors[p.name]!
            switch p.value {
            case .floats(let values, let shape):
                copyCorner(values, shape: shape, into: tensor)
            case .quantized(let matrix):
                _ = tensor.requiringGrad(false)
                tensor.storage.replaceWithQuantized(matrix, rowStride: tensor.shape[1])
            }
        }
    }

    private static func copyCorner(_ values: [Float], shape: [Int], into destination: Tensor) {
        let width = shape.last ?? 1, rows = values.count / Swift.max(width, 1)
        let stride = destination.rank == 2 ? destination.shape[1] : 0
        let base = destination.dataPointer
        for r in 0..<rows { for c in 0..<width { base[r * stride + c] = values[r * width + c] } }
    }
}

extension SuperTransformer {
    /// Whether any of its weights are codebook-quantized (a model loaded from `hat quantize`'s file).
    public var isQuantized: Bool { namedParameters().contains { $0.tensor.storage.quantized != nil } }
}
