import Foundation

/// A latency predictor for a new device from a handful of measured SubTransformers, using what
/// other devices' datasets teach (HELP's problem, hat-reference.md §9).
///
/// Every device is described in the same basis: the physical cost components of
/// `FeatureTerms.costEncoder` / `costDecoder` (operator counts, multiply-accumulates of the
/// projections and FFNs, cross-attention over the attended encoder layers, output width), one
/// non-negative coefficient each: a device's "hardware embedding" is how much time it spends
/// per unit of each. The adapted predictor is the mean of two estimates of the target's
/// coefficients, each fitted separately for the encoder and the decoder latency (the samples
/// measure both):
///
/// 1. the target's own: non-negative least squares on the few samples (the non-negativity is
///    the physics: a larger component never makes a model faster; it is what keeps 9 decoder
///    coefficients from overfitting 10 noisy samples);
/// 2. the sources': the target as a non-negative combination of the source devices' cost
///    models plus an offset, fitted on the same samples (a CPU target borrows the CPU source's
///    FLOP costs, a GPU target the GPU source's per-operator overhead).
///
/// Both are linear in the same terms, so their mean is one `LinearLatencyPredictor`
/// (method `few-shot`) that `hat latency evaluate` reads like any other.
public struct FewShotAdapter: Sendable {
    public struct Source: Sendable {
        public var name: String
        public var rows: Int
        public var sha256: String
        /// The source's cost model, fitted on all of its rows.
        public var model: LinearLatencyPredictor
    }

    public let sources: [Source]

    /// Fits a cost model on every row of each source dataset.
    public init(sources: [LatencyDataset]) {
        self.sources = sources.map {
            Source(name: $0.source, rows: $0.count, sha256: $0.sha256, model: LinearLatencyPredictor.trainCostModel(on: $0))
        }
    }

    /// The predictor for the device that measured `samples` (at least 2 rows; HELP uses 10).
    public func adapt(to samples: LatencyDataset) throws -> LinearLatencyPredictor {
        guard samples.count >= 2 else {
            throw LatencyError(file: samples.source, "has \(samples.count) rows; adapting needs at least 2 measured SubTransformers (10 recommended)")
        }
        let x = samples.rows.map(\.features)
        var weights: [String: String] = [:]
        func part(_ terms: [FeatureTerm], _ target: String, _ y: [Double],
                  _ sourcePart: (LinearLatencyPredictor) -> LinearTermsModel) -> LinearTermsModel {
            let own = LinearTermsModel.fitNonNegative(features: x, targets: y, terms: terms, target: target)
            let sourceModels = sources.map { sourcePart($0.model) }
            let design = x.map { f in [1.0] + sourceModels.map { $0.predict(f) } }
            let mix = LeastSquares.nnls(design, y, free: [0])
            var raw = own.rawCoefficients.map { 0.5 * $0 }
            var intercept = 0.5 * own.rawIntercept + 0.5 * mix[0]
            for (k, m) in sourceModels.enumerated() {
                let r = m.rawCoefficients
                for j in raw.indices { raw[j] += 0.5 * mix[k + 1] * r[j] }
                intercept += 0.5 * mix[k + 1] * m.rawIntercept
            }
            weights["\(target)_source_weights"] = mix.dropFirst().map { String(format: "%.4g", $0) }.joined(separator: ",")
            weights["\(target)_source_offset_ms"] = String(format: "%.4g", mix[0])
            return LinearTermsModel(target: target, terms: terms, rawCoefficients: raw, rawIntercept: intercept)
        }
        let encoder = part(FeatureTerms.costEncoder, "latency_mean_encoder", samples.rows.map(\.encoderMean)) { $0.encoder }
        let decoder = part(FeatureTerms.costDecoder, "latency_mean_decoder", samples.rows.map(\.decoderMean)) { $0.decoder }
        var settings = weights
        settings["method"] = "mean of (non-negative cost model fitted on the target samples) and (non-negative combination of the source cost models + offset), per encoder/decoder part"
        for (i, s) in sources.enumerated() {
            settings["source_\(i)"] = "\(s.name) (\(s.rows) rows, sha256 \(s.sha256))"
        }
        return LinearLatencyPredictor(encoder: encoder, decoder: decoder,
                                      provenance: PredictorProvenance(method: "few-shot", training: samples, settings: settings))
    }

    /// The simple transfer baseline: the geometric mean of the source cost models' predictions,
    /// rescaled to the target by a line in log–log space fitted on the samples (monotone, so its
    /// ranking is the sources' ranking).
    public func rescaledPooledPrediction(samples: LatencyDataset, features: [[Double]]) -> [Double] {
        func pooled(_ f: [Double]) -> Double {
            exp(sources.map { log(max($0.model.predict(features: [f])[0], 1e-9)) }.reduce(0, +) / Double(sources.count))
        }
        let px = samples.rows.map { log(pooled($0.features)) }, py = samples.rows.map { log($0.latency) }
        let design = px.map { [1.0, $0] }
        let beta = LeastSquares.ridge(design, py, penalty: 0)
        return features.map { exp(beta[0] + beta[1] * log(pooled($0))) }
    }
}
