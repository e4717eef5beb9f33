import Foundation

/// Predictor files, self-describing:
///
/// - `linear` (ridge, cost-model, few-shot): JSON with `format: "hat-latency-predictor"`,
///   `version`, `kind`, the feature names, the normalisations, per part (encoder, decoder) the
///   terms with their standardisation and coefficients, and `provenance` (method, training
///   data, its row count and SHA-256, settings).
/// - `hat-mlp`: safetensors with HAT's tensor names and the same information as string
///   metadata (`format`, `kind`, `feature_norm`, `lat_norm`, `provenance` as JSON).
///
/// - `ensemble`: the `hat-mlp` file of its MLP member with `kind: ensemble` and the ridge
///   member's JSON file as the metadata key `linear_member` (`EnsembleLatencyPredictor`).
///
/// Every kind records what it predicts under `predicts` (`PredictorTarget`: `latency` or
/// `memory`; absent in older files, which predict latency).
///
/// `load` tells them apart by content and refuses anything else with a message that says why.
public enum PredictorFile {
    public static let format = "hat-latency-predictor"

    public static func load(_ path: String) throws -> any LatencyPredictor {
        guard FileManager.default.fileExists(atPath: path) else { throw LatencyError(file: path, "predictor file not found") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LatencyError(file: path, "cannot read the predictor file (permissions, or a folder?)")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> any LatencyPredictor {
        let firstByte = data.first(where: { ![0x20, 0x09, 0x0A, 0x0D].contains($0) })
        if firstByte == UInt8(ascii: "{") {
            guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw LatencyError(file: path, "looks like JSON but does not parse; is the file complete?")
            }
            try checkHeader(format: object["format"] as? String, kind: object["kind"] as? String, path: path, expectedKinds: ["linear"])
            return try LinearLatencyPredictor.load(data, path: path)
        }
        // safetensors: an 8-byte little-endian header length, then a JSON header.
        if data.count >= 10, data[data.startIndex + 8] == UInt8(ascii: "{") {
            let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            if length > 0, length <= UInt64(data.count - 8),
                let header = try? JSONSerialization.jsonObject(with: data.subdata(in: (data.startIndex + 8)..<(data.startIndex + 8 + Int(length))))
                    as? [String: Any]
            {
                let meta = header["__metadata__"] as? [String: String] ?? [:]
                try checkHeader(format: meta["format"], kind: meta["kind"], path: path, expectedKinds: ["hat-mlp", "ensemble"])
                return meta["kind"] == "ensemble"
                    ? try EnsembleLatencyPredictor.load(data, path: path)
                    : try HATMLPPredictor.load(data, path: path)
            }
            throw LatencyError(file: path, "looks like a safetensors file but its header does not parse; is the file complete?")
        }
        throw LatencyError(
            file: path, "is not a predictor file (expected the JSON or safetensors file that `hat latency train-predictor` or `hat latency adapt` writes)")
    }

    /// The kinds `hat latency train-predictor` and the pipeline's predictor stage train.
    public static let trainableKinds = PredictorKind.allCases.map(\.rawValue)

    /// The file name extension for a predictor of this kind (`LatencyPredictor.kind` or a
    /// trainable kind): safetensors for the kinds that hold an MLP, JSON for linear ones.
    public static func fileExtension(kind: String) -> String {
        ["hat-mlp", "ensemble"].contains(kind) ? "safetensors" : "json"
    }

    /// Trains a predictor of one of `trainableKinds` on `training` (split before calling);
    /// `seed` seeds the cross-validation folds and the MLP. `target: .memory` needs a dataset
    /// with memory columns (`LatencyDataset.requireValues(of:)` says so first).
    public static func train(
        kind: PredictorKind, on training: LatencyDataset, seed: UInt64, target: PredictorTarget = .latency,
        mlpSettings: HATMLPPredictor.Settings = .init(),
        progress: ((_ step: Int, _ loss: Double) -> Void)? = nil
    ) -> any LatencyPredictor {
        var settings = mlpSettings
        settings.seed = seed
        switch kind {
        case .hatMLP: return HATMLPPredictor.train(on: training, settings: settings, target: target, progress: progress)
        case .ensemble: return EnsembleLatencyPredictor.train(on: training, mlpSettings: settings, target: target, progress: progress)
        case .costModel: return LinearLatencyPredictor.trainCostModel(on: training, target: target)
        case .ridge: return LinearLatencyPredictor.trainRidge(on: training, seed: seed, target: target)
        }
    }

    /// Refuses a freshly trained predictor whose predictions on its own training rows are not all
    /// finite (a diverged MLP): it is never saved to `path`.
    public static func checkTrained(_ predictor: any LatencyPredictor, on training: LatencyDataset, path: String) throws {
        let predicted = predictor.predict(training)
        if let bad = predicted.firstIndex(where: { !$0.isFinite }) {
            throw LatencyError(
                file: path,
                "not written: the trained \(predictor.kind) predictor diverged (it predicts \(predicted[bad]) \(predictor.target.unit) for "
                    + "training row \(bad + 1)); try a smaller learning rate or another kind (--kind ridge)")
        }
    }

    static func checkHeader(format: String?, kind: String?, path: String, expectedKinds: [String]) throws {
        guard format == self.format else {
            throw LatencyError(
                file: path, key: "format", "is \(format.map { "'\($0)'" } ?? "missing"), expected '\(self.format)': not a latency predictor file")
        }
        guard let kind, expectedKinds.contains(kind) else {
            throw LatencyError(
                file: path, key: "kind", "is \(kind.map { "'\($0)'" } ?? "missing"); this file type holds \(expectedKinds.joined(separator: ", "))")
        }
    }
}

/// A latency predictor that `hat` trains (docs/LATENCY.md compares them); the raw values are the
/// names of `--kind` and of the pipeline's `predictor: {kind: ...}`.
public enum PredictorKind: String, CaseIterable, Codable, Sendable, CustomStringConvertible {
    /// Ridge regression on HAT's ten features (the default: best on small datasets).
    case ridge
    /// A per-operation cost model (HELP-style), linear in FLOPs and bytes moved.
    case costModel = "cost-model"
    /// HAT's MLP (3 hidden layers of 400, as HAT trains it).
    case hatMLP = "hat-mlp"
    /// The mean of ridge and HAT's MLP.
    case ensemble

    public var description: String { rawValue }

    /// The file name extension of a trained predictor of this kind.
    public var fileExtension: String { PredictorFile.fileExtension(kind: rawValue) }
}
