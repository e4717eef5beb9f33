import Foundation
import TensorEngine

/// A linear model over `FeatureTerm` columns for one latency part (encoder or decoder mean):
///
///     prediction = intercept + Σ_j coefficient_j · (term_j(x) − mean_j) / scale_j
///
/// `mean`/`scale` are the standardisation the model was fitted with (the terms' training mean
/// and standard deviation), stored so the file states it; the target is in ms, unnormalised.
public struct LinearTermsModel: Codable, Equatable, Sendable {
    /// The CSV column this part predicts (`latency_mean_encoder` or `latency_mean_decoder`).
    public var target: String
    public var terms: [FeatureTerm]
    public var mean: [Double]
    public var scale: [Double]
    public var coefficients: [Double]
    public var intercept: Double

    public init(target: String, terms: [FeatureTerm], mean: [Double], scale: [Double], coefficients: [Double], intercept: Double) {
        self.target = target
        self.terms = terms
        self.mean = mean
        self.scale = scale
        self.coefficients = coefficients
        self.intercept = intercept
    }

    /// A model given in raw units: prediction = intercept + Σ coefficient_j · term_j(x).
    public init(target: String, terms: [FeatureTerm], rawCoefficients: [Double], rawIntercept: Double) {
        self.init(
            target: target, terms: terms, mean: Array(repeating: 0, count: terms.count),
            scale: Array(repeating: 1, count: terms.count), coefficients: rawCoefficients, intercept: rawIntercept)
    }

    public func predict(_ features: [Double]) -> Double {
        var y = intercept
        for j in terms.indices { y += coefficients[j] * (terms[j].value(features) - mean[j]) / scale[j] }
        return y
    }

    /// Coefficients of the raw terms (ms per unit of term).
    public var rawCoefficients: [Double] { zip(coefficients, scale).map { $0 / $1 } }
    public var rawIntercept: Double { intercept - zip(rawCoefficients, mean).reduce(0) { $0 + $1.0 * $1.1 } }

    /// The model as two whose predictions add up to its own: the first `k` terms with the
    /// intercept, and the other terms with intercept 0 (a memory predictor's encoder and decoder
    /// parts, fitted together).
    func split(firstTerms k: Int) -> (first: LinearTermsModel, second: LinearTermsModel) {
        (
            LinearTermsModel(
                target: "\(target) (encoder terms and the intercept of a joint fit)", terms: Array(terms[..<k]), mean: Array(mean[..<k]),
                scale: Array(scale[..<k]), coefficients: Array(coefficients[..<k]), intercept: intercept),
            LinearTermsModel(
                target: "\(target) (decoder terms of a joint fit)", terms: Array(terms[k...]), mean: Array(mean[k...]),
                scale: Array(scale[k...]), coefficients: Array(coefficients[k...]), intercept: 0)
        )
    }

    /// Checks the arrays agree in length and hold finite numbers.
    func validate(file: String, part: String) throws {
        let n = terms.count
        guard mean.count == n, scale.count == n, coefficients.count == n else {
            throw LatencyError(file: file, key: part, "has \(n) terms but \(mean.count) means, \(scale.count) scales and \(coefficients.count) coefficients")
        }
        guard (mean + scale + coefficients + [intercept]).allSatisfy(\.isFinite), scale.allSatisfy({ $0 > 0 }) else {
            throw LatencyError(file: file, key: part, "holds a non-finite number or a non-positive scale")
        }
    }

    // MARK: Fitting

    /// Term values and their standardisation over `features`. A constant term gets scale 1 (its
    /// centred column is zero, so its coefficient stays 0).
    static func design(_ features: [[Double]], terms: [FeatureTerm]) -> (x: [[Double]], mean: [Double], scale: [Double]) {
        let raw = features.map { f in terms.map { $0.value(f) } }
        let n = Double(max(raw.count, 1))
        var mean = [Double](repeating: 0, count: terms.count), scale = mean
        for row in raw { for j in terms.indices { mean[j] += row[j] / n } }
        for row in raw { for j in terms.indices { scale[j] += (row[j] - mean[j]) * (row[j] - mean[j]) / n } }
        scale = scale.enumerated().map { j, v in
            let s = v.squareRoot()
            return s > 1e-9 * max(1, abs(mean[j])) ? s : 1
        }
        // Column 0 is the intercept.
        let x = raw.map { row in [1.0] + terms.indices.map { (row[$0] - mean[$0]) / scale[$0] } }
        return (x, mean, scale)
    }

    /// Ridge regression on standardised terms; `penalty` is per row (λ·n is added to XᵀX).
    /// `weights` (mean 1) weight the rows' squared errors.
    public static func fitRidge(
        features: [[Double]], targets: [Double], terms: [FeatureTerm], penalty: Double,
        target: String, weights: [Double]? = nil
    ) -> LinearTermsModel {
        let (x, mean, scale) = design(features, terms: terms)
        let beta = LeastSquares.ridge(x, targets, penalty: penalty * Double(targets.count), weights: weights)
        return LinearTermsModel(
            target: target, terms: terms, mean: mean, scale: scale,
            coefficients: Array(beta.dropFirst()), intercept: beta[0])
    }

    /// Ridge with the penalty chosen by k-fold cross-validation on the given rows (folds from a
    /// seeded shuffle); returns the model refitted on all rows and the chosen penalty.
    public static func fitRidgeCV(
        features: [[Double]], targets: [Double], terms: [FeatureTerm], target: String,
        penalties: [Double] = [1e-8, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1],
        folds: Int = 5, seed: UInt64 = 0
    ) -> (model: LinearTermsModel, penalty: Double) {
        let n = targets.count
        guard n >= 2 * folds else {
            return (fitRidge(features: features, targets: targets, terms: terms, penalty: 1e-3, target: target), 1e-3)
        }
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: seed)
        for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(i + 1)) }
        var best = (error: Double.infinity, penalty: penalties[0])
        for penalty in penalties {
            var error = 0.0
            for k in 0..<folds {
                let held = Set(order.enumerated().filter { $0.offset % folds == k }.map(\.element))
                let trainIdx = (0..<n).filter { !held.contains($0) }
                let m = fitRidge(
                    features: trainIdx.map { features[$0] }, targets: trainIdx.map { targets[$0] },
                    terms: terms, penalty: penalty, target: target)
                for i in held {
                    let e = m.predict(features[i]) - targets[i]
                    error += e * e
                }
            }
            if error < best.error { best = (error, penalty) }
        }
        return (fitRidge(features: features, targets: targets, terms: terms, penalty: best.penalty, target: target), best.penalty)
    }

    /// Ridge with the penalty chosen by cross-validation, then refitted with each row weighted by
    /// 1/ŷ² (ŷ the first fit's prediction, weights normalised to mean 1): weighted least squares
    /// for noise proportional to the latency. That is the noise of HAT's datasets: most of it is
    /// slow drift during the measurement run, which scales every kernel's time alike, so the
    /// spread grows with the latency (docs/PERFORMANCE.md, "Latency predictors").
    public static func fitRelativeRidgeCV(
        features: [[Double]], targets: [Double], terms: [FeatureTerm], target: String,
        seed: UInt64 = 0
    ) -> (model: LinearTermsModel, penalty: Double) {
        let (first, penalty) = fitRidgeCV(features: features, targets: targets, terms: terms, target: target, seed: seed)
        let floor = 1e-3 * (targets.map(abs).max() ?? 1)
        var weights = features.map { 1 / pow(max(first.predict($0), floor), 2) }
        let meanWeight = weights.reduce(0, +) / Double(max(weights.count, 1))
        weights = weights.map { $0 / meanWeight }
        return (fitRidge(features: features, targets: targets, terms: terms, penalty: penalty, target: target, weights: weights), penalty)
    }

    /// Least squares with every term coefficient ≥ 0 (the intercept is free): a cost model in
    /// which no component can make a SubTransformer faster by growing.
    /// `weights` weight the rows' squared errors.
    public static func fitNonNegative(
        features: [[Double]], targets: [Double], terms: [FeatureTerm],
        target: String, weights: [Double]? = nil
    ) -> LinearTermsModel {
        let (x, mean, scale) = design(features, terms: terms)
        let beta = LeastSquares.nnls(x, targets, free: [0], weights: weights)
        return LinearTermsModel(
            target: target, terms: terms, mean: mean, scale: scale,
            coefficients: Array(beta.dropFirst()), intercept: beta[0])
    }
}
