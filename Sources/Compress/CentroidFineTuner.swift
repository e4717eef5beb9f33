import Datasets
import Foundation
import Model
import NN
import TensorEngine
import Train

/// How the centroids of a quantized SubTransformer are fine-tuned (`hat quantize --finetune-updates`).
public struct CentroidFineTuning: Sendable {
    /// Updates of training on the training split.
    public var updates: Int
    /// Adam's learning rate for the centroids (constant).
    public var learningRate: Double
    /// Tokens per batch, padding included.
    public var maxTokens: Int
    public var seed: UInt64

    public init(updates: Int, learningRate: Double = 1e-4, maxTokens: Int = 4096, seed: UInt64 = 1) {
        self.updates = updates
        self.learningRate = learningRate
        self.maxTokens = maxTokens
        self.seed = seed
    }
}

/// What fine-tuning did: validation loss (base 2 per token) before and after, and whether the
/// fine-tuned centroids were kept (only when they lower it).
public struct CentroidFineTuningReport: Codable, Sendable {
    public var updates: Int
    public var validLossBefore: Double
    public var validLossAfter: Double
    public var kept: Bool
}

/// Deep Compression's shared-weight fine-tuning (Han et al., 2016, §3; HAT §4 quantizes this way):
/// the assignments stay fixed and each centroid moves by the sum of its members' gradients.
///
/// The model computes with the centroids' values written into its float32 weights, so the
/// forward and backward are the training ones; after each backward the weight gradient of every
/// quantized matrix is summed per (codebook, centroid), Adam moves the centroids, and the new
/// values are written back. Biases and layer norms stay as they are.
public final class CentroidFineTuner {
    let model: SuperTransformer
    let config: SubTransformerConfig
    /// The quantized matrices and where their corners sit in the model.
    let matrices: [(name: String, weight: Tensor, matrix: QuantizedMatrix)]
    var codebooks: [[Float]]
    let assignments: [[UInt8]]
    let labelSmoothing: Float

    /// `model` is the float32 model the parameters were quantized from; its weights are replaced
    /// by the centroids' values.
    public init(model: SuperTransformer, config: SubTransformerConfig, parameters: [QuantizedParameter], labelSmoothing: Float) {
        self.model = model
        self.config = config
        self.labelSmoothing = labelSmoothing
        let weights = Dictionary(uniqueKeysWithValues: model.usedCorners(of: config).map { ($0.name, $0.tensor) })
        var matrices: [(String, Tensor, QuantizedMatrix)] = []
        for p in parameters {
            if case .quantized(let m) = p.value, let weight = weights[p.name] { matrices.append((p.name, weight, m)) }
        }
        self.matrices = matrices
        codebooks = matrices.map(\.2.codebooks)
        assignments = matrices.map { $0.2.assignments() }
        for i in matrices.indices { writeWeights(i) }
    }

    /// The centroid values into matrix `i`'s corner of the model's weights.
    func writeWeights(_ i: Int) {
        let (_, weight, m) = matrices[i]
        let view = weight.corner([m.rows, m.columns])
        let p = view.dataPointer, ld = view.strides[0]
        let codebook = codebooks[i], assigned = assignments[i], k = m.centroidCount
        for r in 0..<m.rows {
            let base = (r / m.groupRows) * k
            for c in 0..<m.columns { p[r * ld + c] = codebook[base + Int(assigned[r * m.columns + c])] }
        }
    }

    /// d loss / d centroid: the sum of the gradients of the weights assigned to it (after a backward).
    func centroidGradients(_ i: Int) -> [Float] {
        let (_, weight, m) = matrices[i]
        var sums = [Double](repeating: 0, count: codebooks[i].count)
        guard let grad = weight.corner([m.rows, m.columns]).grad?.toArray() else { return sums.map { Float($0) } }
        let assigned = assignments[i], k = m.centroidCount
        for r in 0..<m.rows {
            let base = (r / m.groupRows) * k
            for c in 0..<m.columns { sums[base + Int(assigned[r * m.columns + c])] += Double(grad[r * m.columns + c]) }
        }
        return sums.map { Float($0) }
    }

    /// The loss of `batch` (summed over its tokens; dropout as `context` says) and every centroid's gradient of it.
    func lossAndGradients(_ batch: Batch, context: ForwardContext) -> (loss: Float, gradients: [[Float]]) {
        let (loss, _) = model.loss(
            source: batch.sourceBatch, previousOutput: batch.previousOutputBatch, target: batch.targetTokens, config: config,
            labelSmoothing: labelSmoothing, context: context)
        loss.backward()
        let gradients = matrices.indices.map(centroidGradients)
        model.zeroGrad()
        return (loss.item, gradients)
    }

    /// Trains the centroids for `settings.updates` updates on `train`; keeps them only when the
    /// validation loss drops. Returns the parameters with the (kept) codebooks and a report.
    public func run(
        settings: CentroidFineTuning, train: TranslationDataset, evaluator: Evaluator, parameters: [QuantizedParameter],
        log: (String) -> Void
    ) throws -> (parameters: [QuantizedParameter], report: CentroidFineTuningReport) {
        let before = evaluator.evaluate(model, config: config).loss
        let original = codebooks
        var batches = try BatchIterator(dataset: train, maxTokens: settings.maxTokens, seed: settings.seed, shuffle: true, skipOversized: true)
        var adam = codebooks.map { CentroidAdam(count: $0.count) }
        for update in stride(from: 1, through: settings.updates, by: 1) {
            guard let batch = batches.next() ?? batches.next() else { break }
            // Without dropout: a few centroids per matrix need no regularizer, and the loss they
            // lower is then the one the quantized model is evaluated and used with.
            let (loss, gradients) = lossAndGradients(batch, context: .evaluation())
            let scale = 1 / Float(Swift.max(batch.targetTokenCount, 1))
            for i in matrices.indices {
                adam[i].step(&codebooks[i], gradients: gradients[i], scale: scale, learningRate: Float(settings.learningRate))
                writeWeights(i)
            }
            if update % Swift.max(1, settings.updates / 10) == 0 {
                log(String(format: "centroid fine-tuning: update %d/%d  loss %.3f", update, settings.updates, Double(loss * scale) / Foundation.log(2.0)))
            }
        }
        let after = evaluator.evaluate(model, config: config).loss
        let kept = after < before
        if !kept {
            codebooks = original
            for i in matrices.indices { writeWeights(i) }
        }
        var out = parameters
        var next = 0
        for (j, p) in out.enumerated() {
            guard case .quantized(let m) = p.value, next < matrices.count, matrices[next].name == p.name else { continue }
            out[j].value = .quantized(
                QuantizedMatrix(
                    rows: m.rows, columns: m.columns, bits: m.bits, groupRows: m.groupRows, codebooks: codebooks[next],
                    assignments: assignments[next]))
            next += 1
        }
        return (out, CentroidFineTuningReport(updates: settings.updates, validLossBefore: before, validLossAfter: after, kept: kept))
    }
}

/// Adam (β = 0.9, 0.999, ε = 1e-8) on one codebook's centroids.
struct CentroidAdam {
    var m: [Float], v: [Float], t = 0

    init(count: Int) {
        m = [Float](repeating: 0, count: count)
        v = m
    }

    mutating func step(_ values: inout [Float], gradients: [Float], scale: Float, learningRate: Float) {
        t += 1
        let (b1, b2): (Float, Float) = (0.9, 0.999)
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(t))), c2 = 1 - Float(Foundation.pow(Double(b2), Double(t)))
        for i in values.indices {
            let g = gradients[i] * scale
            m[i] = b1 * m[i] + (1 - b1) * g
            v[i] = b2 * v[i] + (1 - b2) * g * g
            values[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + 1e-8)
        }
    }
}
