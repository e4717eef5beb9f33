import Datasets
import Foundation
import Model
import NN
import TensorEngine

/// Everything a training run needs to continue exactly where it stopped, as one safetensors file.
///
/// Tensors: `model.<name>` (fairseq-style parameter names), `optimizer.exp_avg.<name>` and
/// `optimizer.exp_avg_sq.<name>` (Adam's moments). Metadata (strings): `format`, and `state`,
/// a JSON `CheckpointState` with the update count, data position, random-generator state,
/// best validation loss, the search space, the fixed SubTransformer (if any), the training
/// config and the vocabulary sizes. A person (or PyTorch) can open it with any safetensors reader.
public struct CheckpointState: Codable, Equatable, Sendable {
    public var update: Int
    public var epoch: Int
    /// Next batch: epoch and index within it.
    public var batchEpoch: Int
    public var batchIndex: Int
    public var rngState: [UInt64]
    public var bestValidLoss: Double?
    public var skippedUpdates: Int
    public var space: SearchSpace
    /// The SubTransformer being trained, or nil for SuperTransformer training.
    public var subTransformer: SubTransformerConfig?
    public var training: TrainingConfig
    public var sourceVocabSize: Int
    public var targetVocabSize: Int
    /// Dataset directory the run trained on.
    public var data: String?
    /// SHA-256 of that dataset's vocabulary files (`BinarizedCorpus.vocabularyDigest`); nil in
    /// checkpoints written before it was recorded and in imports.
    public var vocabularyDigest: String?
    /// Wall-clock seconds of training so far, across resumes.
    public var trainingSeconds: Double

    /// The state before the first update of a run with these settings.
    public static func start(
        space: SearchSpace, subTransformer: SubTransformerConfig?, training: TrainingConfig,
        sourceVocabSize: Int, targetVocabSize: Int, data: String?
    ) -> CheckpointState {
        CheckpointState(
            update: 0, epoch: 1, batchEpoch: 1, batchIndex: 0, rngState: RandomGenerator(seed: training.seed &+ 1).state,
            bestValidLoss: nil, skippedUpdates: 0, space: space, subTransformer: subTransformer, training: training,
            sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize, data: data, vocabularyDigest: nil,
            trainingSeconds: 0)
    }

    /// Checks that `corpus` has the vocabulary this checkpoint was trained with (when it recorded one).
    public func checkVocabulary(of corpus: any BinarizedCorpus, checkpoint: String) throws {
        guard vocabularyDigest != nil else { return }
        try checkVocabulary(digest: corpus.vocabularyDigest(), of: corpus.directory, checkpoint: checkpoint)
    }

    /// The same with the corpus's digest already computed.
    public func checkVocabulary(digest: String, of directory: String, checkpoint: String) throws {
        guard let recorded = vocabularyDigest, recorded != digest else { return }
        throw TrainingError.invalid(
            "\(directory) does not have the vocabulary \(checkpoint) was trained with (its vocabulary "
                + "files changed since: prepared again in place?); its ids would mean other pieces. Give the dataset the model was trained on")
    }
}

public enum Checkpoint {
    public static let format = "hat-checkpoint-v1"
    /// Metadata key: JSON object, parameter name → updates it took part in (Adam's per-parameter t).
    static let parameterStepsKey = "optimizer_parameter_steps"

    /// Writes model, optimizer and state atomically (temporary file, then rename).
    /// Refuses to write non-finite weights: a checkpoint must always be safe to resume from.
    public static func save(to url: URL, model: SuperTransformer, optimizer: Adam?, state: CheckpointState) throws {
        var file = SafeTensorsFile(metadata: ["format": format, "state": try encode(state)])
        let named = model.namedParameters()
        for (name, p) in named {
            let values = p.toArray()
            guard values.allSatisfy(\.isFinite) else {
                throw TrainingError.nonFinite("refusing to write \(url.lastPathComponent): parameter \(name) is not finite")
            }
            try file.add("model.\(name)", floats: values, shape: p.shape)
        }
        if let optimizer {
            for (i, (name, _)) in named.enumerated() {
                try file.add("optimizer.exp_avg.\(name)", optimizer.firstMoments[i])
                try file.add("optimizer.exp_avg_sq.\(name)", optimizer.secondMoments[i])
            }
            file.metadata["optimizer_step"] = String(optimizer.step)
            // t of each parameter's bias correction: a layer that random SubTransformers skipped
            // took part in fewer updates than the optimizer made.
            let steps = Dictionary(uniqueKeysWithValues: zip(named.map(\.name), optimizer.parameterSteps))
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            file.metadata[parameterStepsKey] = String(decoding: try encoder.encode(steps), as: UTF8.self)
        }
        try file.write(to: url)
    }

    /// Writes a model-only checkpoint (no optimizer state) whose weights come one tensor at a time
    /// from `values` (imports of checkpoints larger than memory comfortably holds twice).
    public static func writeStreaming(
        to url: URL, state: CheckpointState, parameters: [(name: String, shape: [Int])],
        values: (String) throws -> [Float]
    ) throws {
        try SafeTensorsFile.writeStreaming(
            to: url, metadata: ["format": format, "state": try encode(state)],
            float32Tensors: parameters.map { ("model.\($0.name)", $0.shape) },
            values: { try values(String($0.dropFirst("model.".count))) })
    }

    /// Reads and validates a checkpoint's state without touching a model.
    /// `allowQuantized` accepts a quantized checkpoint (`hat quantize`) too: for the commands
    /// that run a model (translate, test, latency, export), not for those that train it.
    public static func readState(_ file: SafeTensorsFile, path: String, allowQuantized: Bool = false) throws -> CheckpointState {
        if QuantizedCheckpoint.isQuantized(file) && !allowQuantized {
            throw TrainingError.badCheckpoint(
                "\(path) is a quantized checkpoint (hat quantize): it translates, tests and exports (hat translate, hat test, hat export), but cannot be trained, averaged or searched; give the float32 checkpoint it was made from"
            )
        }
        guard file.metadata["format"] == format || QuantizedCheckpoint.isQuantized(file), let json = file.metadata["state"] else {
            throw TrainingError.badCheckpoint("\(path): not a hat checkpoint (metadata 'format' is \(file.metadata["format"] ?? "missing"))")
        }
        let state: CheckpointState
        do {
            state = try JSONDecoder().decode(CheckpointState.self, from: Data(json.utf8))
        } catch {
            throw TrainingError.badCheckpoint("\(path): unreadable training state: \(error)")
        }
        // The state decides the model's shape: a damaged one must be refused here, not trap
        // when the model is built from it.
        for (key, size) in [("sourceVocabSize", state.sourceVocabSize), ("targetVocabSize", state.targetVocabSize)]
        where !(5...10_000_000).contains(size) {
            throw TrainingError.badCheckpoint("\(path): training state '\(key)' is \(size), not a vocabulary size (5 to 10,000,000)")
        }
        do {
            try state.space.validate()
            if let sub = state.subTransformer { try state.space.check(sub, file: "\(path) (its SubTransformer)") }
        } catch {
            throw TrainingError.badCheckpoint("\(path): training state's search space is invalid: \(error)")
        }
        if state.space.shareAllEmbeddings && state.sourceVocabSize != state.targetVocabSize {
            throw TrainingError.badCheckpoint(
                "\(path): training state shares all embeddings between vocabularies of "
                    + "\(state.sourceVocabSize) and \(state.targetVocabSize) pieces")
        }
        guard state.rngState.count == 4, state.rngState.contains(where: { $0 != 0 }) else {
            throw TrainingError.badCheckpoint("\(path): training state's random generator state is \(state.rngState), not four words (not all zero)")
        }
        guard state.update >= 0, state.epoch >= 1, state.batchEpoch >= 1, state.batchIndex >= 0, state.skippedUpdates >= 0 else {
            throw TrainingError.badCheckpoint(
                "\(path): training state's counters are out of range (update \(state.update), "
                    + "epoch \(state.epoch), batch \(state.batchEpoch)/\(state.batchIndex))")
        }
        return state
    }

    /// Copies the checkpoint's weights (and optimizer moments, when `optimizer` is given) into
    /// an already built model of the same shape. Every tensor must be present and finite. All of
    /// it is read and checked before anything is written, so a bad checkpoint leaves the model
    /// and optimizer as they were (the trainer then tries an older one, or starts fresh).
    public static func load(_ file: SafeTensorsFile, path: String, into model: SuperTransformer, optimizer: Adam?) throws {
        var pending: [(values: [Float], destination: Tensor)] = []
        func read(_ name: String, into t: Tensor) throws {
            guard let entry = file[name] else { throw TrainingError.badCheckpoint("\(path): tensor \(name) is missing") }
            guard entry.shape == t.shape else {
                throw TrainingError.badCheckpoint("\(path): tensor \(name) has shape \(entry.shape), the model needs \(t.shape)")
            }
            let values = try entry.floats()
            guard values.allSatisfy(\.isFinite) else { throw TrainingError.badCheckpoint("\(path): tensor \(name) is not finite") }
            pending.append((values, t))
        }
        let named = model.namedParameters()
        for (name, p) in named { try read("model.\(name)", into: p) }
        var optimizerSteps: (step: Int, parameterSteps: [Int]?)?
        if let optimizer {
            for (i, (name, _)) in named.enumerated() {
                try read("optimizer.exp_avg.\(name)", into: optimizer.firstMoments[i])
                try read("optimizer.exp_avg_sq.\(name)", into: optimizer.secondMoments[i])
            }
            let step = Int(file.metadata["optimizer_step"] ?? "") ?? 0
            var parameterSteps: [Int]?
            if let json = file.metadata[parameterStepsKey] {  // older checkpoints: every parameter took every step
                guard let steps = try? JSONDecoder().decode([String: Int].self, from: Data(json.utf8)) else {
                    throw TrainingError.badCheckpoint("\(path): metadata '\(parameterStepsKey)' is not a JSON object of parameter names to step counts")
                }
                parameterSteps = try named.map { name, _ in
                    guard let t = steps[name] else { throw TrainingError.badCheckpoint("\(path): '\(parameterStepsKey)' has no step count for \(name)") }
                    return t
                }
            }
            optimizerSteps = (step, parameterSteps)
        }
        for (values, t) in pending {
            values.withUnsafeBufferPointer { t.storage.data.update(from: $0.baseAddress!, count: values.count) }
        }
        if let optimizer, let steps = optimizerSteps { optimizer.restore(step: steps.step, parameterSteps: steps.parameterSteps) }
    }

    /// Builds the model a checkpoint describes and loads its weights (for translation, search,
    /// fine-tuning). Dropout rates come from the stored training config.
    /// With `allowQuantized`, a quantized checkpoint loads too, its matrices quantized in memory
    /// (`QuantizedCheckpoint.loadModel`; inference only, its own SubTransformer only).
    public static func loadModel(path: String, allowQuantized: Bool = false) throws -> (model: SuperTransformer, state: CheckpointState) {
        let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: path))
        if allowQuantized && QuantizedCheckpoint.isQuantized(file) { return try QuantizedCheckpoint.loadModel(file, path: path) }
        let state = try readState(file, path: path)
        var rng = RandomGenerator(seed: 0)
        let model = SuperTransformer(
            space: state.space, sourceVocabSize: state.sourceVocabSize,
            targetVocabSize: state.targetVocabSize, rates: state.training.dropoutRates, rng: &rng)
        try load(file, path: path, into: model, optimizer: nil)
        return (model, state)
    }

    static func encode(_ state: CheckpointState) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(state), as: UTF8.self)
    }
}

public enum TrainingError: Error, CustomStringConvertible {
    case badCheckpoint(String)
    /// The save folder holds another run's checkpoint (space, SubTransformer or vocabulary differ).
    case differentRun(String)
    /// The save folder holds checkpoints and none of them loads: resuming is impossible and starting
    /// over would overwrite them.
    case noLoadableCheckpoint(String)
    case nonFinite(String)
    case diverged(String)
    case invalid(String)

    public var description: String {
        switch self {
        case .badCheckpoint(let m), .differentRun(let m), .noLoadableCheckpoint(let m), .nonFinite(let m), .diverged(let m), .invalid(let m):
            return m
        }
    }
}
