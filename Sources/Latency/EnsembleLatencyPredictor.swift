import Foundation
import TensorEngine

/// Our best predictor on HAT's four datasets: the mean of our ridge predictor and HAT's MLP,
/// both trained on the same rows.
///
/// Why an ensemble: ridge and the MLP reach nearly the same test RMSE on HAT's CSVs
/// (docs/PERFORMANCE.md, "Latency predictors"), but their errors are not the same errors: ridge
/// extrapolates the cost terms linearly, the MLP bends where the data bends. The mean's RMSE is
/// at most the mean of the two RMSEs (triangle inequality), so it beats HAT's MLP whenever ridge
/// does, and on the IWSLT TITAN Xp split, where ridge alone trails the MLP by 0.02 ms, the
/// partly independent errors cancel enough to beat both.
///
/// File: HAT's MLP's safetensors file (its tensors and metadata, `provenance` is the MLP's), with
/// `kind: ensemble`, the ridge member's JSON predictor file under `linear_member`, and the
/// ensemble's own provenance under `ensemble_provenance`.
public struct EnsembleLatencyPredictor: LatencyPredictor {
    public var kind: String { "ensemble" }
    public let linear: LinearLatencyPredictor
    public let mlp: HATMLPPredictor
    public let provenance: PredictorProvenance
    public var target: PredictorTarget { mlp.target }

    public init(linear: LinearLatencyPredictor, mlp: HATMLPPredictor, provenance: PredictorProvenance) {
        self.linear = linear
        self.mlp = mlp
        self.provenance = provenance
    }

    public func predict(features: [[Double]]) -> [Double] {
        zip(linear.predict(features: features), mlp.predict(features: features)).map { 0.5 * ($0 + $1) }
    }

    /// Ridge (`LinearLatencyPredictor.trainRidge`, cross-validation folds seeded by
    /// `mlpSettings.seed`) and HAT's MLP (`HATMLPPredictor.train` with `mlpSettings`) on `training`.
    public static func train(
        on training: LatencyDataset, mlpSettings: HATMLPPredictor.Settings = .init(), target: PredictorTarget = .latency,
        progress: ((_ step: Int, _ loss: Double) -> Void)? = nil
    ) -> EnsembleLatencyPredictor {
        let linear = LinearLatencyPredictor.trainRidge(on: training, seed: mlpSettings.seed, target: target)
        let mlp = HATMLPPredictor.train(on: training, settings: mlpSettings, target: target, progress: progress)
        var settings = ["members": "ridge, hat-mlp", "combination": "mean of the members' predictions (ms)"]
        for (key, value) in linear.provenance.settings { settings["ridge_\(key)"] = value }
        for (key, value) in mlp.provenance.settings { settings["hat_mlp_\(key)"] = value }
        return EnsembleLatencyPredictor(
            linear: linear, mlp: mlp,
            provenance: PredictorProvenance(method: "ensemble", training: training, settings: settings))
    }

    // MARK: File

    static let linearMemberKey = "linear_member"
    static let provenanceKey = "ensemble_provenance"

    public func save(to path: String) throws {
        let file = try mlp.safeTensorsFile(
            kind: kind,
            extraMetadata: [
                Self.linearMemberKey: String(decoding: try linear.encoded(), as: UTF8.self),
                Self.provenanceKey: jsonText(provenance),
                "combination": "mean of the ridge member (linear_member) and the MLP (the tensors)",
            ])
        try HATMLPPredictor.write(file, to: path)
    }

    static func load(_ data: Data, path: String) throws -> EnsembleLatencyPredictor {
        let file = try HATMLPPredictor.readSafeTensors(data, path: path)
        let mlp = try HATMLPPredictor.load(file, path: path)
        guard let linearText = file.metadata[linearMemberKey] else {
            throw LatencyError(file: path, key: linearMemberKey, "is missing from the safetensors metadata: an ensemble needs its ridge member")
        }
        let linear: LinearLatencyPredictor
        do {
            linear = try LinearLatencyPredictor.load(Data(linearText.utf8), path: path)
        } catch let error as LatencyError {
            throw LatencyError(file: path, key: linearMemberKey, "cannot be read: \(error.column.map { "its key '\($0)' " } ?? "")\(error.message)")
        }
        guard linear.target == mlp.target else {
            throw LatencyError(
                file: path, key: linearMemberKey, "predicts \(linear.target) but the MLP predicts \(mlp.target): the members must predict the same")
        }
        guard let provenanceText = file.metadata[provenanceKey],
            let provenance = try? JSONDecoder().decode(PredictorProvenance.self, from: Data(provenanceText.utf8))
        else {
            throw LatencyError(file: path, key: provenanceKey, "is missing or unreadable")
        }
        return EnsembleLatencyPredictor(linear: linear, mlp: mlp, provenance: provenance)
    }
}
