import Datasets
import Foundation
import Model

/// Something that predicts a SubTransformer's latency (encoder + decoder mean, ms) — or, trained
/// with `target: .memory`, its inference's peak memory (MB) — from HAT's 10 features, and can be
/// saved as a predictor file (see `PredictorFile`).
public protocol LatencyPredictor: Sendable {
    /// The file kind: `linear` (JSON) or `hat-mlp` (safetensors).
    var kind: String { get }
    /// What it predicts; stored in its file (`predicts`).
    var target: PredictorTarget { get }
    /// Where the predictor came from: method, training data and its checksum, settings.
    var provenance: PredictorProvenance { get }
    /// Predicted latency (ms) of each feature vector (`SubTransformerConfig.hatFeatures`).
    func predict(features: [[Double]]) -> [Double]
    /// Writes the predictor file (through a temporary name and a rename).
    func save(to path: String) throws
}

extension LatencyPredictor {
    /// Predicted latency (ms) of every row of a dataset.
    public func predict(_ dataset: LatencyDataset) -> [Double] { predict(features: dataset.rows.map(\.features)) }

    /// Predicted latency (ms) of one SubTransformer.
    public func predict(_ config: SubTransformerConfig) -> Double { predict(features: [config.hatFeatures])[0] }

    /// RMSE, MAPE, ±10 %, Spearman and Kendall of the predictions on `dataset` (of the predictor's
    /// target; a memory predictor needs a dataset with memory columns: `requireValues(of:)` checks).
    public func evaluate(on dataset: LatencyDataset) -> PredictionMetrics {
        guard let measured = dataset.values(of: target) else {
            preconditionFailure("\(dataset.source) has no memory columns for a memory predictor to be scored on")
        }
        return PredictionMetrics(predicted: predict(dataset), measured: measured)
    }
}

/// Where a predictor came from, stored in its file.
public struct PredictorProvenance: Codable, Equatable, Sendable {
    /// How it was made: `hat-mlp`, `ridge`, `cost-model`, `few-shot`.
    public var method: String
    /// The training rows: their source (a path or a split description), count, and SHA-256 of
    /// their HAT-format CSV text (`LatencyDataset.sha256`).
    public var trainingData: String
    public var trainingRows: Int
    public var trainingSHA256: String
    /// Method settings, for the record (seed, steps, chosen penalty, sources...).
    public var settings: [String: String]
    /// How the training rows were measured (`MeasurementProvenance.summary` of their dataset's
    /// provenance file); nil when the dataset has none.
    public var measuredOn: String?

    public init(method: String, trainingData: String, trainingRows: Int, trainingSHA256: String, settings: [String: String] = [:]) {
        self.method = method
        self.trainingData = trainingData
        self.trainingRows = trainingRows
        self.trainingSHA256 = trainingSHA256
        self.settings = settings
    }

    public init(method: String, training: LatencyDataset, settings: [String: String] = [:]) {
        self.init(
            method: method, trainingData: training.source, trainingRows: training.count,
            trainingSHA256: training.sha256, settings: settings)
        measuredOn = training.measurement?.summary
    }

    /// "N rows of SOURCE", and how they were measured where that is known.
    public var trainingDescription: String {
        "\(trainingRows) rows of \(trainingData)" + (measuredOn.map { " (measured on \($0))" } ?? "")
    }
}

/// The two parts of a linear predictor, encoder and decoder mean, each a `LinearTermsModel`;
/// the prediction is their sum (HAT's target). Saved as JSON.
///
/// A memory predictor (`target: .memory`) has no measured encoder and decoder parts: one ridge
/// (or non-negative) fit on the encoder and decoder terms together, its encoder-term
/// coefficients and intercept stored as the encoder part and its decoder-term coefficients as
/// the decoder part, so the sum is the joint fit's prediction.
///
/// Three methods make one: `ridge` (ridge regression on FLOPs-like products of the features, the
/// penalty chosen by cross-validation; the better predictor of `hat latency train-predictor`),
/// `cost-model` (non-negative least squares on physical cost components) and `few-shot`
/// (`FewShotAdapter`).
public struct LinearLatencyPredictor: LatencyPredictor, Codable, Equatable {
    public var kind: String { "linear" }
    public var encoder: LinearTermsModel
    public var decoder: LinearTermsModel
    public var provenance: PredictorProvenance
    public var target: PredictorTarget

    public init(encoder: LinearTermsModel, decoder: LinearTermsModel, provenance: PredictorProvenance, target: PredictorTarget = .latency) {
        self.encoder = encoder
        self.decoder = decoder
        self.provenance = provenance
        self.target = target
    }

    public func predict(features: [[Double]]) -> [Double] {
        features.map { encoder.predict($0) + decoder.predict($0) }
    }

    /// Encoder and decoder predictions separately (ms).
    public func predictParts(features: [[Double]]) -> (encoder: [Double], decoder: [Double]) {
        (features.map { encoder.predict($0) }, features.map { decoder.predict($0) })
    }

    /// Ridge regression per part on `FeatureTerms.ridgeEncoder` / `ridgeDecoder`, the penalty of
    /// each chosen by 5-fold cross-validation on the training rows, the rows weighted by 1/ŷ²
    /// (`LinearTermsModel.fitRelativeRidgeCV`).
    /// `target: .memory` fits `memory_peak_mb` on both term sets at once (the type's comment).
    public static func trainRidge(on training: LatencyDataset, seed: UInt64 = 0, target: PredictorTarget = .latency) -> LinearLatencyPredictor {
        let x = training.rows.map(\.features)
        if target == .memory {
            let (joint, penalty) = LinearTermsModel.fitRelativeRidgeCV(
                features: x, targets: memoryTargets(training), terms: FeatureTerms.ridgeEncoder + FeatureTerms.ridgeDecoder,
                target: target.columns, seed: seed)
            let (enc, dec) = joint.split(firstTerms: FeatureTerms.ridgeEncoder.count)
            let settings = [
                "penalty": "\(penalty)", "cv_folds": "5", "cv_seed": "\(seed)",
                "fit": "one ridge fit on the encoder and decoder terms together; the parts hold its coefficients",
                "row_weights": "1 / (first fit's prediction)^2, mean 1: relative errors",
            ]
            return LinearLatencyPredictor(
                encoder: enc, decoder: dec, provenance: PredictorProvenance(method: "ridge", training: training, settings: settings),
                target: .memory)
        }
        let (enc, encPenalty) = LinearTermsModel.fitRelativeRidgeCV(
            features: x, targets: training.rows.map(\.encoderMean),
            terms: FeatureTerms.ridgeEncoder, target: "latency_mean_encoder", seed: seed)
        let (dec, decPenalty) = LinearTermsModel.fitRelativeRidgeCV(
            features: x, targets: training.rows.map(\.decoderMean),
            terms: FeatureTerms.ridgeDecoder, target: "latency_mean_decoder", seed: seed)
        let settings = [
            "encoder_penalty": "\(encPenalty)", "decoder_penalty": "\(decPenalty)", "cv_folds": "5", "cv_seed": "\(seed)",
            "penalty_meaning": "lambda * rows added to the diagonal of X'WX of the standardised terms (intercept unpenalised)",
            "row_weights": "1 / (first fit's prediction)^2, mean 1: noise proportional to latency",
        ]
        return LinearLatencyPredictor(
            encoder: enc, decoder: dec,
            provenance: PredictorProvenance(method: "ridge", training: training, settings: settings))
    }

    /// Non-negative least squares per part on the physical cost components
    /// (`FeatureTerms.costEncoder` / `costDecoder`).
    public static func trainCostModel(on training: LatencyDataset, target: PredictorTarget = .latency) -> LinearLatencyPredictor {
        let x = training.rows.map(\.features)
        if target == .memory {
            let joint = LinearTermsModel.fitNonNegative(
                features: x, targets: memoryTargets(training), terms: FeatureTerms.costEncoder + FeatureTerms.costDecoder,
                target: target.columns)
            let (enc, dec) = joint.split(firstTerms: FeatureTerms.costEncoder.count)
            return LinearLatencyPredictor(
                encoder: enc, decoder: dec,
                provenance: PredictorProvenance(
                    method: "cost-model", training: training,
                    settings: ["fit": "one non-negative fit on the encoder and decoder terms together; the parts hold its coefficients"]),
                target: .memory)
        }
        let enc = LinearTermsModel.fitNonNegative(
            features: x, targets: training.rows.map(\.encoderMean),
            terms: FeatureTerms.costEncoder, target: "latency_mean_encoder")
        let dec = LinearTermsModel.fitNonNegative(
            features: x, targets: training.rows.map(\.decoderMean),
            terms: FeatureTerms.costDecoder, target: "latency_mean_decoder")
        return LinearLatencyPredictor(encoder: enc, decoder: dec, provenance: PredictorProvenance(method: "cost-model", training: training))
    }

    /// The memory column of `training`; a caller checks it is there (`requireValues(of:)`).
    private static func memoryTargets(_ training: LatencyDataset) -> [Double] {
        guard let values = training.values(of: .memory) else {
            preconditionFailure("\(training.source) has no memory columns to train a memory predictor on")
        }
        return values
    }

    // MARK: File

    private struct File: Codable {
        var format: String
        var version: Int
        var kind: String
        /// nil in files written before memory predictors: latency.
        var predicts: String?
        var description: String
        var featureNames: [String]
        var featureNormalisation: String
        var targetNormalisation: String
        var target: String
        var encoder: LinearTermsModel
        var decoder: LinearTermsModel
        var provenance: PredictorProvenance
    }

    public func save(to path: String) throws {
        try AtomicFile.write(try encoded(), to: path)
    }

    /// The predictor file's JSON text (also stored inside an ensemble's file).
    func encoded() throws -> Data {
        let file = File(
            format: PredictorFile.format, version: 1, kind: kind, predicts: target.rawValue,
            description:
                "\(target.quantity) = encoder part + decoder part; each part = intercept + Σ coefficient·(term − mean)/scale, term = scale·Π factors",
            featureNames: LatencyDataset.featureNames,
            featureNormalisation: "none on the features; each term is standardised by its own mean and scale",
            targetNormalisation: "none (\(target.unit))",
            target: target.columns,
            encoder: encoder, decoder: decoder, provenance: provenance)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return try encoder.encode(file)
    }

    static func load(_ data: Data, path: String) throws -> LinearLatencyPredictor {
        let file: File
        do {
            file = try JSONDecoder().decode(File.self, from: data)
        } catch let error as LatencyError {
            throw error.column.map { LatencyError(file: path, key: $0, error.message) } ?? LatencyError(file: path, error.message)
        } catch {
            throw LatencyError(file: path, "is not a readable linear predictor file: \(error)")
        }
        guard file.version == 1 else {
            throw LatencyError(file: path, key: "version", "version \(file.version) is not supported (this hat reads version 1)")
        }
        try file.encoder.validate(file: path, part: "encoder")
        try file.decoder.validate(file: path, part: "decoder")
        return LinearLatencyPredictor(
            encoder: file.encoder, decoder: file.decoder, provenance: file.provenance,
            target: try PredictorTarget.read(file.predicts, path: path))
    }
}
