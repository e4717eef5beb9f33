import Foundation

/// A latency predictor for a new device from a handful of measured SubTransformers, using what
/// other devices' datasets teach (HELP's problem, hat-reference.md §9).
///
/// Every device is described in the same basis: the physical cost components of
/// `FeatureTerms.costEncoder` / `costDecoder` (operator counts, multiply-accumulates of the
/// projections and FFNs, cross-attention over the attended encoder layers, output width), one
/// non-negative coefficient each: a device's "hardware embedding" is how much time it spends
/// per unit of each. The adapted predictor mixes two estimates of the target's coefficients,
/// each fitted separately for the encoder and the decoder latency (the samples measure both),
/// with relative errors (rows weighted by 1/y², so a 300 ms and a 30 ms sample count alike and
/// the fit aims at the ±10 % band):
///
/// 1. the target's own: non-negative least squares on the few samples, for the decoder on the
///    compact basis `FeatureTerms.fewShotDecoder` (the non-negativity is the physics: a larger
///    component never makes a model faster; with the small basis it keeps 10 noisy samples
///    from overfitting);
/// 2. the sources': the target as a non-negative combination of the source devices' cost
///    models plus an offset, fitted on the same samples (a CPU target borrows the CPU source's
///    FLOP costs, a GPU target the GPU source's per-operator overhead).
///
/// The mixing weight α (own) / 1 − α (sources), α ∈ {0, ¼, ½, ¾, 1}, is chosen by leave-one-out
/// over the samples: refit both estimates without sample i, predict it, and keep the α with
/// the smallest relative squared error. A target unlike every source (a Raspberry Pi next to a
/// Xeon and a GPU) leans on its own samples; one the sources explain leans on them.
///
/// Both estimates are linear in the same terms, so the result is one `LinearLatencyPredictor`
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
    /// Candidate weights of the target's own estimate.
    public static let mixingWeights: [Double] = [0, 0.25, 0.5, 0.75, 1]

    /// Fits a cost model on every row of each source dataset.
    /// Each source device's dataset must hold enough rows to fit its cost model.
    public static let minimumSourceRows = 20

    public init(sources: [LatencyDataset]) throws {
        for s in sources where s.count < Self.minimumSourceRows {
            throw LatencyError(
                file: s.source,
                "has \(s.count) rows; a source device needs at least \(Self.minimumSourceRows) measured "
                    + "SubTransformers to fit its cost model (HAT's datasets have 2,000)")
        }
        self.sources = sources.map {
            Source(name: $0.source, rows: $0.count, sha256: $0.sha256, model: LinearLatencyPredictor.trainCostModel(on: $0))
        }
    }

    /// The two estimates for one part, as raw coefficients over the part's cost terms.
    struct PartEstimates {
        var own: (coefficients: [Double], intercept: Double)
        var sources: (coefficients: [Double], intercept: Double)
        var sourceWeights: [Double]
        var sourceOffset: Double

        func mixed(_ alpha: Double) -> (coefficients: [Double], intercept: Double) {
            (
                zip(own.coefficients, sources.coefficients).map { alpha * $0 + (1 - alpha) * $1 },
                alpha * own.intercept + (1 - alpha) * sources.intercept
            )
        }
    }

    /// `ownTerms` (a subset of `terms`) are what the target's own samples are fitted on.
    func estimates(
        _ rows: [LatencyRow], terms: [FeatureTerm], ownTerms: [FeatureTerm], target: String, y: (LatencyRow) -> Double,
        sourcePart: (LinearLatencyPredictor) -> LinearTermsModel
    ) -> PartEstimates {
        let x = rows.map(\.features), targets = rows.map(y)
        let weights = targets.map { 1 / max($0 * $0, 1e-12) }
        let ownFit = LinearTermsModel.fitNonNegative(features: x, targets: targets, terms: ownTerms, target: target, weights: weights)
        var ownRaw = [Double](repeating: 0, count: terms.count)
        for (t, c) in zip(ownTerms, ownFit.rawCoefficients) { ownRaw[terms.firstIndex(of: t)!] = c }
        let sourceModels = sources.map { sourcePart($0.model) }
        let design = x.map { f in [1.0] + sourceModels.map { $0.predict(f) } }
        let mix = LeastSquares.nnls(design, targets, free: [0], weights: weights)
        var raw = [Double](repeating: 0, count: terms.count)
        var intercept = mix[0]
        for (k, m) in sourceModels.enumerated() {
            for (j, r) in m.rawCoefficients.enumerated() { raw[j] += mix[k + 1] * r }
            intercept += mix[k + 1] * m.rawIntercept
        }
        return PartEstimates(
            own: (ownRaw, ownFit.rawIntercept), sources: (raw, intercept),
            sourceWeights: Array(mix.dropFirst()), sourceOffset: mix[0])
    }

    func estimates(_ rows: [LatencyRow]) -> (encoder: PartEstimates, decoder: PartEstimates) {
        (
            estimates(
                rows, terms: FeatureTerms.costEncoder, ownTerms: FeatureTerms.costEncoder, target: "latency_mean_encoder",
                y: \.encoderMean
            ) { $0.encoder },
            estimates(
                rows, terms: FeatureTerms.costDecoder, ownTerms: FeatureTerms.fewShotDecoder, target: "latency_mean_decoder",
                y: \.decoderMean
            ) { $0.decoder }
        )
    }

    static func predict(_ part: (coefficients: [Double], intercept: Double), _ terms: [FeatureTerm], _ f: [Double]) -> Double {
        zip(part.coefficients, terms).reduce(part.intercept) { $0 + $1.0 * $1.1.value(f) }
    }

    /// The leave-one-out choice of the own-estimate weight α (ties: the first, i.e. the sources).
    func leaveOneOutWeight(_ rows: [LatencyRow]) -> (alpha: Double, errors: [Double]) {
        var errors = [Double](repeating: 0, count: Self.mixingWeights.count)
        for i in rows.indices {
            var rest = rows
            let held = rest.remove(at: i)
            let (enc, dec) = estimates(rest)
            for (k, alpha) in Self.mixingWeights.enumerated() {
                let p =
                    Self.predict(enc.mixed(alpha), FeatureTerms.costEncoder, held.features)
                    + Self.predict(dec.mixed(alpha), FeatureTerms.costDecoder, held.features)
                let e = (p - held.latency) / held.latency
                errors[k] += e * e
            }
        }
        let best = errors.indices.min { errors[$0] < errors[$1] }!
        return (Self.mixingWeights[best], errors.map { ($0 / Double(rows.count)).squareRoot() })
    }

    /// The predictor for the device that measured `samples` (at least 3 rows; HELP uses 10).
    public func adapt(to samples: LatencyDataset) throws -> LinearLatencyPredictor {
        guard samples.count >= 3 else {
            throw LatencyError(file: samples.source, "has \(samples.count) rows; adapting needs at least 3 measured SubTransformers (10 recommended)")
        }
        let (alpha, looErrors) = leaveOneOutWeight(samples.rows)
        let (enc, dec) = estimates(samples.rows)
        let e = enc.mixed(alpha), d = dec.mixed(alpha)
        var settings: [String: String] = [
            "method":
                "alpha * (non-negative cost model fitted on the target samples) + (1 - alpha) * (non-negative combination of the source cost models + offset), per encoder/decoder part, relative errors",
            "alpha": "\(alpha)",
            "alpha_candidates": Self.mixingWeights.map { "\($0)" }.joined(separator: ","),
            "leave_one_out_relative_rmse": looErrors.map { String(format: "%.4f", $0) }.joined(separator: ","),
        ]
        for (name, part) in [("encoder", enc), ("decoder", dec)] {
            settings["\(name)_source_weights"] = part.sourceWeights.map { String(format: "%.4g", $0) }.joined(separator: ",")
            settings["\(name)_source_offset_ms"] = String(format: "%.4g", part.sourceOffset)
        }
        for (i, s) in sources.enumerated() {
            settings["source_\(i)"] = "\(s.name) (\(s.rows) rows, sha256 \(s.sha256))"
        }
        return LinearLatencyPredictor(
            encoder: LinearTermsModel(
                target: "latency_mean_encoder", terms: FeatureTerms.costEncoder, rawCoefficients: e.coefficients, rawIntercept: e.intercept),
            decoder: LinearTermsModel(
                target: "latency_mean_decoder", terms: FeatureTerms.costDecoder, rawCoefficients: d.coefficients, rawIntercept: d.intercept),
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
