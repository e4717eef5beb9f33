import Foundation
import NN
import TensorEngine

/// HAT's latency predictor (hat-reference.md §6), on our tensor engine:
///
///     x [n, 10] = features / [640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2]
///     h = relu(first_layer(x))          [n, 400]
///     h = relu(layers.i(h)), i = 0...2  [n, 400]   (HAT's "hidden_layer_num 3")
///     y = predict(h) · latencyNorm      [n, 1] → ms
///
/// trained with MSE on latency / latencyNorm, 5000 steps of 128 rows drawn at random, Adam
/// (PyTorch's defaults: betas 0.9, 0.999, eps 1e-8) at lr 1e-5, keeping the final weights.
/// Weights start as PyTorch's `nn.Linear` does: U(−1/√in, 1/√in) for weight and bias.
/// Tensor names are HAT's (`first_layer.weight`, `layers.0.weight`, ..., `predict.bias`), so
/// the safetensors file loads into HAT's PyTorch `Net`.
public final class HATMLPPredictor: LatencyPredictor, @unchecked Sendable {
    public var kind: String { "hat-mlp" }
    /// HAT's feature normalisation (hat-reference.md §4).
    public static let hatFeatureNorm: [Double] = [640, 6, 2048, 6, 640, 6, 2048, 6, 6, 2]

    public let featureNorm: [Double]
    /// The per-device latency constant the target is divided by (ms).
    public let latencyNorm: Double
    /// (weight [out, in], bias [out]) per layer, first to last.
    let layers: [(weight: Tensor, bias: Tensor)]
    public let provenance: PredictorProvenance
    /// What it learned (latency in ms, or peak memory in MB: then `latencyNorm` divides MB).
    public let target: PredictorTarget

    static func layerNames(hiddenLayers: Int) -> [String] {
        ["first_layer"] + (0..<hiddenLayers).map { "layers.\($0)" } + ["predict"]
    }

    init(
        featureNorm: [Double], latencyNorm: Double, layers: [(weight: Tensor, bias: Tensor)], provenance: PredictorProvenance,
        target: PredictorTarget = .latency
    ) {
        self.featureNorm = featureNorm
        self.latencyNorm = latencyNorm
        self.layers = layers
        self.provenance = provenance
        self.target = target
    }

    /// The training settings; the defaults are HAT's.
    public struct Settings: Sendable {
        public var steps = 5000
        public var batchSize = 128
        public var learningRate: Float = 1e-5
        public var hiddenDim = 400
        public var hiddenLayers = 3
        /// Divides the target; nil: the largest latency of the training rows (see `train`).
        public var latencyNorm: Double?
        public var seed: UInt64 = 0
        public init() {}
    }

    /// Forward pass on normalised features [n, 10] → [n, 1] (normalised latency).
    func forward(_ x: Tensor) -> Tensor {
        var h = x
        for (i, layer) in layers.enumerated() {
            h = linear(h, weight: layer.weight, bias: layer.bias)
            if i < layers.count - 1 { h = relu(h) }
        }
        return h
    }

    func normalisedInput(_ features: [[Double]]) -> Tensor {
        var values = [Float]()
        values.reserveCapacity(features.count * featureNorm.count)
        for f in features { for (v, norm) in zip(f, featureNorm) { values.append(Float(v / norm)) } }
        return Tensor(values, shape: [features.count, featureNorm.count])
    }

    public func predict(features: [[Double]]) -> [Double] {
        guard !features.isEmpty else { return [] }
        return withNoGrad { forward(normalisedInput(features)).toArray().map { Double($0) * latencyNorm } }
    }

    /// Trains HAT's MLP on `training` (all of its rows; split before calling).
    ///
    /// `latencyNorm`: HAT divides the latency by a hand-set per-device constant (`lat-norm`,
    /// e.g. 5000 for the Raspberry Pi); by default we use the largest training latency, which
    /// puts every device's targets in (0, 1] without knowing the device.
    /// Rows of a batch are drawn without replacement (Python's `random.sample`, as HAT does), or
    /// with replacement when there are fewer rows than the batch size. `target: .memory` learns
    /// `memory_peak_mb` the same way (the norm then the largest training memory).
    public static func train(
        on training: LatencyDataset, settings: Settings = Settings(), target: PredictorTarget = .latency,
        progress: ((_ step: Int, _ loss: Double) -> Void)? = nil
    ) -> HATMLPPredictor {
        precondition(!training.isEmpty, "cannot train a predictor on no rows")
        var rng = RandomGenerator(seed: settings.seed)
        let widths = [featureCount] + Array(repeating: settings.hiddenDim, count: settings.hiddenLayers + 1) + [1]
        var layers: [(weight: Tensor, bias: Tensor)] = []
        for (fanIn, fanOut) in zip(widths.dropLast(), widths.dropFirst()) {
            let bound = 1 / Float(fanIn).squareRoot()
            let w = Tensor.uniform([fanOut, fanIn], low: -bound, high: bound, rng: &rng).requiringGrad()
            let b = Tensor.uniform([fanOut], low: -bound, high: bound, rng: &rng).requiringGrad()
            layers.append((w, b))
        }
        guard let latencies = training.values(of: target) else {
            preconditionFailure("\(training.source) has no memory columns to train a memory predictor on")
        }
        let norm = settings.latencyNorm ?? latencies.max()!
        let provenance = PredictorProvenance(
            method: "hat-mlp", training: training,
            settings: [
                "steps": "\(settings.steps)", "batch_size": "\(settings.batchSize)", "learning_rate": "\(settings.learningRate)",
                "hidden_dim": "\(settings.hiddenDim)", "hidden_layers": "\(settings.hiddenLayers)", "seed": "\(settings.seed)",
                "optimizer": "Adam betas (0.9, 0.999) eps 1e-8", "loss": "MSE on \(target) / lat_norm",
                "lat_norm_source": settings.latencyNorm == nil ? "largest training \(target)" : "given",
            ])
        let model = HATMLPPredictor(featureNorm: hatFeatureNorm, latencyNorm: norm, layers: layers, provenance: provenance, target: target)
        let inputs = model.normalisedInput(training.rows.map(\.features)).toArray()
        let targets = latencies.map { Float($0 / norm) }
        let parameters = layers.flatMap { [$0.weight, $0.bias] }
        let adam = Adam(parameters: parameters, learningRate: settings.learningRate, betas: (0.9, 0.999), eps: 1e-8)
        let n = training.count, batch = settings.batchSize
        var pool = Array(0..<n)
        var xBatch = [Float](repeating: 0, count: batch * featureCount), yBatch = [Float](repeating: 0, count: batch)
        for step in 1...max(settings.steps, 1) where settings.steps > 0 {
            for k in 0..<batch {
                let row: Int
                if n >= batch {  // partial Fisher–Yates: distinct rows
                    let j = k + rng.nextInt(n - k)
                    pool.swapAt(k, j)
                    row = pool[k]
                } else {
                    row = rng.nextInt(n)
                }
                for c in 0..<featureCount { xBatch[k * featureCount + c] = inputs[row * featureCount + c] }
                yBatch[k] = targets[row]
            }
            for p in parameters { p.storage.zeroGrad() }
            let prediction = model.forward(Tensor(xBatch, shape: [batch, featureCount]))
            let error = prediction - Tensor(yBatch, shape: [batch, 1])
            let loss = (error * error).mean()
            loss.backward()
            adam.update()
            if let progress, step % 500 == 0 || step == settings.steps { progress(step, Double(loss.item)) }
        }
        return model
    }

    static let featureCount = 10

    // MARK: File

    public func save(to path: String) throws {
        try Self.write(try safeTensorsFile(kind: kind), to: path)
    }

    /// Writes a predictor's safetensors file (atomically, as `SafeTensorsFile.write` does).
    static func write(_ file: SafeTensorsFile, to path: String) throws {
        do {
            try file.write(to: URL(fileURLWithPath: path))
        } catch {
            throw LatencyError(file: path, "cannot write: \(error)")
        }
    }

    /// The MLP's tensors under HAT's names and its settings as metadata; `extraMetadata` adds
    /// keys (an ensemble stores its other member there).
    func safeTensorsFile(kind: String, extraMetadata: [String: String] = [:]) throws -> SafeTensorsFile {
        var file = SafeTensorsFile(
            metadata: extraMetadata.merging([
                "format": PredictorFile.format, "version": "1", "kind": kind, PredictorTarget.fileKey: target.rawValue,
                "description": "HAT's latency MLP: 10 -> 400 (ReLU) -> 3 x (400 -> 400, ReLU) -> 1; predicted \(target.unit) = output * lat_norm",
                "feature_names": jsonText(LatencyDataset.featureNames),
                "feature_norm": jsonText(featureNorm),
                "lat_norm": "\(latencyNorm)",
                "target": "\(target.columns) (\(target.unit)), divided by lat_norm",
                "hidden_layers": "\(layers.count - 2)",
                "provenance": jsonText(provenance),
            ]) { _, ours in ours })
        let names = Self.layerNames(hiddenLayers: layers.count - 2)
        for (name, layer) in zip(names, layers) {
            try file.add("\(name).weight", layer.weight)
            try file.add("\(name).bias", layer.bias)
        }
        return file
    }

    static func load(_ data: Data, path: String) throws -> HATMLPPredictor {
        try load(try readSafeTensors(data, path: path), path: path)
    }

    static func readSafeTensors(_ data: Data, path: String) throws -> SafeTensorsFile {
        do { return try SafeTensorsFile.parse(data, source: path) } catch {
            throw LatencyError(file: path, "is not a readable safetensors file: \(error)")
        }
    }

    /// The MLP in a predictor's safetensors file (its own, or an ensemble's).
    static func load(_ file: SafeTensorsFile, path: String) throws -> HATMLPPredictor {
        func meta(_ key: String) throws -> String {
            guard let v = file.metadata[key] else { throw LatencyError(file: path, key: key, "is missing from the safetensors metadata") }
            return v
        }
        func decode<T: Decodable>(_ type: T.Type, _ key: String) throws -> T {
            guard let v = try? JSONDecoder().decode(T.self, from: Data(try meta(key).utf8)) else {
                throw LatencyError(file: path, key: key, "cannot be read: \(try meta(key))")
            }
            return v
        }
        let featureNorm = try decode([Double].self, "feature_norm")
        guard featureNorm.count == featureCount, featureNorm.allSatisfy({ $0 > 0 && $0.isFinite }) else {
            throw LatencyError(file: path, key: "feature_norm", "must be 10 positive numbers, is \(featureNorm)")
        }
        guard let latencyNorm = Double(try meta("lat_norm")), latencyNorm > 0, latencyNorm.isFinite else {
            throw LatencyError(file: path, key: "lat_norm", "must be a positive number, is \(try meta("lat_norm"))")
        }
        // Bounded before anything is allocated: HAT's predictor has 3 (hat-reference.md §6).
        guard let hidden = Int(try meta("hidden_layers")), (0...64).contains(hidden) else {
            throw LatencyError(file: path, key: "hidden_layers", "must be an integer from 0 to 64, is \(file.metadata["hidden_layers"] ?? "")")
        }
        let provenance = try decode(PredictorProvenance.self, "provenance")
        var layers: [(weight: Tensor, bias: Tensor)] = []
        var inputWidth = featureCount
        for (i, name) in layerNames(hiddenLayers: hidden).enumerated() {
            let w: Tensor, b: Tensor
            do {
                w = try file.tensorValue("\(name).weight")
                b = try file.tensorValue("\(name).bias")
            } catch {
                throw LatencyError(file: path, "\(error)")
            }
            let last = i == hidden + 1
            guard w.rank == 2, w.shape[1] == inputWidth, b.shape == [w.shape[0]], !last || w.shape[0] == 1 else {
                throw LatencyError(
                    file: path, key: name, "has weight \(w.shape) and bias \(b.shape); expected [out, \(inputWidth)] and [out]\(last ? " with out = 1" : "")")
            }
            guard w.toArray().allSatisfy(\.isFinite), b.toArray().allSatisfy(\.isFinite) else {
                throw LatencyError(file: path, key: name, "holds values that are not finite: the predictor diverged; train it again")
            }
            inputWidth = w.shape[0]
            layers.append((w, b))
        }
        return HATMLPPredictor(
            featureNorm: featureNorm, latencyNorm: latencyNorm, layers: layers, provenance: provenance,
            target: try PredictorTarget.read(file.metadata[PredictorTarget.fileKey], path: path))
    }
}

func jsonText<T: Encodable>(_ value: T) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys]
    return String(decoding: (try? encoder.encode(value)) ?? Data("null".utf8), as: UTF8.self)
}
