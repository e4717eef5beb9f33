import Model
import TensorEngine
import Train

/// How `hat quantize` compresses a SubTransformer (HAT §4: K-means quantization).
public struct QuantizationSettings: Codable, Equatable, Sendable {
    /// Bits per weight index (2^bits centroids per codebook), 1 to 8.
    public var bits: Int
    /// Rows of a weight matrix that share one codebook; nil: one codebook per matrix (Deep
    /// Compression's choice). Smaller groups fit their rows better for a few more centroids.
    public var groupRows: Int?
    /// Lloyd iterations at most (each matrix stops earlier once no weight changes cluster).
    public var maxIterations: Int

    public init(bits: Int, groupRows: Int? = nil, maxIterations: Int = KMeans1D.defaultMaxIterations) {
        self.bits = bits
        self.groupRows = groupRows
        self.maxIterations = maxIterations
    }

    public func validate() throws {
        guard (1...8).contains(bits) else { throw QuantizationError.invalid("--bits \(bits): give 1 to 8 bits per weight") }
        if let groupRows, groupRows < 1 { throw QuantizationError.invalid("--group-rows \(groupRows): give a positive number of rows") }
        guard maxIterations >= 1 else { throw QuantizationError.invalid("--iterations \(maxIterations): give at least 1") }
    }
}

public enum QuantizationError: Error, CustomStringConvertible {
    case invalid(String)
    public var description: String {
        switch self {
        case .invalid(let m): return m
        }
    }
}

/// What quantizing one weight matrix did: its K-means fit over all its groups.
public struct QuantizedTensorReport: Codable, Sendable {
    public var name: String
    public var shape: [Int]
    public var bits: Int
    public var groups: Int
    /// Root-mean-square difference between the float32 weights and their centroids.
    public var rmse: Double
    /// Root-mean-square of the float32 weights (the scale rmse is measured against).
    public var rms: Double
    /// The most Lloyd iterations any group took.
    public var iterations: Int
}

/// K-means quantization of every weight matrix and embedding a SubTransformer reads; biases and
/// layer norms stay float32 (HAT §4, Deep Compression).
public enum ModelQuantizer {
    /// The SubTransformer `config` of `model` as quantized-checkpoint contents: each matrix's
    /// used corner as a `QuantizedMatrix`, each vector's used corner as floats.
    public static func quantize(
        _ model: SuperTransformer, config: SubTransformerConfig, settings: QuantizationSettings
    ) -> (parameters: [QuantizedParameter], report: [QuantizedTensorReport]) {
        var parameters: [QuantizedParameter] = [], report: [QuantizedTensorReport] = []
        for (name, tensor, shape) in model.usedCorners(of: config) {
            let values = tensor.corner(shape).toArray()
            guard shape.count == 2 else {
                parameters.append(QuantizedParameter(name: name, value: .floats(values, shape: shape)))
                continue
            }
            let (rows, columns) = (shape[0], shape[1])
            let groupRows = Swift.min(settings.groupRows ?? rows, rows)
            var codebooks: [Float] = [], assignments: [UInt8] = []
            var sse = 0.0, iterations = 0
            for start in stride(from: 0, to: rows, by: groupRows) {
                let end = Swift.min(rows, start + groupRows)
                let fit = KMeans1D.fit(Array(values[(start * columns)..<(end * columns)]), clusters: 1 << settings.bits, maxIterations: settings.maxIterations)
                codebooks += fit.centroids
                assignments += fit.assignments
                sse += fit.sumSquaredError
                iterations = Swift.max(iterations, fit.iterations)
            }
            let matrix = QuantizedMatrix(
                rows: rows, columns: columns, bits: settings.bits, groupRows: groupRows, codebooks: codebooks, assignments: assignments)
            parameters.append(QuantizedParameter(name: name, value: .quantized(matrix)))
            let count = Double(values.count)
            report.append(
                QuantizedTensorReport(
                    name: name, shape: shape, bits: settings.bits, groups: matrix.groupCount, rmse: (sse / count).squareRoot(),
                    rms: (values.reduce(0.0) { $0 + Double($1) * Double($1) } / count).squareRoot(), iterations: iterations))
        }
        return (parameters, report)
    }
}
