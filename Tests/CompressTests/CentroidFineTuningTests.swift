import Datasets
import Foundation
import Model
import NN
import TensorEngine
import TestSupport
import Testing

@testable import Compress
@testable import Train

/// Centroid fine-tuning (`hat quantize --finetune-updates`): the centroid gradient against finite
/// differences of the loss, and the fine-tuned file against what the fine-tuner measured.
@Suite("Centroid fine-tuning", .serialized)
struct CentroidFineTuningTests {
    static let spaceFile = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path

    /// The tiny space's largest SubTransformer trained for 60 updates on a small built-in task.
    static let trained: Result<(checkpoint: String, data: String), Error> = Result {
        let root = try Oracle.temporaryDirectory()
        let data = root.appendingPathComponent("builtin").path
        _ = try BuiltinCorpus(seed: 1).prepare(output: data, train: 1200, valid: 120, test: 40)
        let space = try SearchSpace(contentsOf: spaceFile)
        let trainer = try Trainer(
            space: space, subTransformer: space.largest, data: try PreparedDataset(directory: data),
            config: try TrainingConfig(file: try HATConfigFile(path: spaceFile), overrides: ["max-update": "60", "warmup-updates": "10"]),
            saveDirectory: root.appendingPathComponent("model"), log: { _ in })
        try trainer.run()
        return (root.appendingPathComponent("model/checkpoint_last.safetensors").path, data)
    }

    func setUp(bits: Int) throws -> (tuner: CentroidFineTuner, parameters: [QuantizedParameter], data: PreparedDataset, model: SuperTransformer) {
        let (checkpoint, dataPath) = try Self.trained.get()
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        let sub = try #require(state.subTransformer)
        let (parameters, _) = ModelQuantizer.quantize(model, config: sub, settings: QuantizationSettings(bits: bits))
        let tuner = CentroidFineTuner(model: model, config: sub, parameters: parameters, labelSmoothing: 0.1)
        return (tuner, parameters, try PreparedDataset(directory: dataPath), model)
    }

    @Test("each centroid's gradient is the loss's derivative by that centroid (central differences)")
    func centroidGradientIsTheDerivative() throws {
        let (tuner, _, data, _) = try setUp(bits: 2)
        var batches = try BatchIterator(dataset: try data.split("valid"), maxTokens: 400, seed: 1, shuffle: false)
        let next = batches.next()
        let batch = try #require(next)
        let (_, gradients) = tuner.lossAndGradients(batch, context: .evaluation())
        func loss() -> Double {
            withNoGrad {
                Double(
                    tuner.model.loss(
                        source: batch.sourceBatch, previousOutput: batch.previousOutputBatch, target: batch.targetTokens, config: tuner.config,
                        labelSmoothing: 0.1, context: .evaluation()
                    ).loss.item)
            }
        }
        var checked = 0
        // The largest gradient of every third matrix: embeddings, attention and FFN weights alike.
        for i in stride(from: 0, to: tuner.matrices.count, by: 3) {
            let c = gradients[i].indices.max { abs(gradients[i][$0]) < abs(gradients[i][$1]) }!
            let h: Float = 2e-3
            let original = tuner.codebooks[i][c]
            tuner.codebooks[i][c] = original + h
            tuner.writeWeights(i)
            let up = loss()
            tuner.codebooks[i][c] = original - h
            tuner.writeWeights(i)
            let down = loss()
            tuner.codebooks[i][c] = original
            tuner.writeWeights(i)
            let numeric = (up - down) / Double(2 * h)
            let analytic = Double(gradients[i][c])
            #expect(
                abs(numeric - analytic) <= 0.03 * abs(analytic) + 0.05,
                "\(tuner.matrices[i].name) centroid \(c): backward \(analytic), central difference \(numeric)")
            checked += 1
        }
        #expect(checked >= 5)
    }

    @Test("fine-tuning at 2 bits lowers the validation loss, and the written file scores what the fine-tuner measured")
    func fineTuningHelpsAndRoundTrips() throws {
        let (tuner, parameters, data, _) = try setUp(bits: 2)
        let evaluator = try Evaluator(dataset: try data.split("valid"), maxTokens: 2048, labelSmoothing: 0.1)
        let (tuned, report) = try tuner.run(
            settings: CentroidFineTuning(updates: 40, learningRate: 1e-3, maxTokens: 2048, seed: 1), train: try data.split("train"),
            evaluator: evaluator, parameters: parameters, log: { _ in })
        #expect(report.kept && report.validLossAfter < report.validLossBefore - 0.01, "\(report)")
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let url = root.appendingPathComponent("q2.safetensors")
        var state = try Checkpoint.loadModel(path: try Self.trained.get().checkpoint).state
        state.subTransformer = tuner.config
        try QuantizedCheckpoint.save(to: url, parameters: tuned, state: state)
        let (quantized, _) = try Checkpoint.loadModel(path: url.path, allowQuantized: true)
        let loss = evaluator.evaluate(quantized, config: tuner.config).loss
        #expect(abs(loss - report.validLossAfter) <= 1e-3 * report.validLossAfter, "file \(loss), fine-tuner \(report.validLossAfter)")
    }

    @Test("centroids that do not lower the validation loss are not kept: the K-means codebooks are returned")
    func worseCentroidsAreDropped() throws {
        let (tuner, parameters, data, _) = try setUp(bits: 4)
        let evaluator = try Evaluator(dataset: try data.split("valid"), maxTokens: 2048, labelSmoothing: 0.1)
        // A learning rate far too large for weights of this scale: every step overshoots.
        let (tuned, report) = try tuner.run(
            settings: CentroidFineTuning(updates: 5, learningRate: 0.5, maxTokens: 2048, seed: 1), train: try data.split("train"),
            evaluator: evaluator, parameters: parameters, log: { _ in })
        #expect(!report.kept && report.validLossAfter > report.validLossBefore, "\(report)")
        for (a, b) in zip(tuned, parameters) {
            if case .quantized(let x) = a.value, case .quantized(let y) = b.value { #expect(x.codebooks == y.codebooks, "\(a.name)") }
        }
    }
}
