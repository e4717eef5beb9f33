import Foundation
import TensorEngine

/// The few-shot protocol: the target's rows are split 8:1:1 (HAT's split, seeded); each draw
/// takes `samples` distinct rows of the target's training split, adapts from the sources, and
/// scores on the target's whole test split. The same samples train HAT's MLP (the baseline) and
/// the rescaled pooled source predictor (the simple transfer baseline). For scale, a ridge
/// predictor trained on the target's whole training split is scored too: it shows how much of
/// the test set's ordering any predictor from architecture features can recover, as the
/// measurements themselves are noisy.
public struct FewShotExperiment {
    public struct Draw: Sendable {
        public var indices: [Int]
        public var adapted: PredictionMetrics
        public var rescaled: PredictionMetrics
        /// Nil when the baseline was skipped (`baselineSteps` 0).
        public var hatMLP: PredictionMetrics?
    }

    public struct Report: Sendable {
        public var target: String
        public var sources: [String]
        public var samples: Int
        public var splitSeed: UInt64
        public var testRows: Int
        public var trainRows: Int
        public var draws: [Draw]
        /// Ridge trained on the target's whole training split (1,600 rows for HAT's datasets).
        public var fullData: PredictionMetrics

        public func summary(_ values: (Draw) -> PredictionMetrics?) -> (spearman: MeanStd, within10: MeanStd, rmse: MeanStd, kendall: MeanStd)? {
            let m = draws.compactMap(values)
            guard !m.isEmpty else { return nil }
            return (MeanStd(m.map(\.spearman)), MeanStd(m.map(\.within10)), MeanStd(m.map(\.rmse)), MeanStd(m.map(\.kendall)))
        }
    }

    public struct MeanStd: Codable, Sendable, CustomStringConvertible {
        public var mean: Double
        public var std: Double
        public init(_ values: [Double]) {
            let m = values.reduce(0, +) / Double(values.count)
            mean = m
            std = (values.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(values.count)).squareRoot()
        }
        public var description: String { String(format: "%.4f ± %.4f", mean, std) }
    }

    public var samples = 10
    public var draws = 10
    public var splitSeed: UInt64 = 0
    /// Draw k uses RandomGenerator(seed: drawSeed + k).
    public var drawSeed: UInt64 = 1000
    /// Steps of the HAT-MLP baseline (HAT: 5000); 0 skips it.
    public var baselineSteps = 5000

    public init() {}

    public func run(
        sources: [LatencyDataset], target: LatencyDataset,
        log: ((String) -> Void)? = nil
    ) throws -> Report {
        let adapter = try FewShotAdapter(sources: sources)
        let split = LatencyDataset.splitIndices(count: target.count, seed: splitSeed)
        let test = target.subset(split.test, name: "test split (seed \(splitSeed)) of \(target.source)")
        guard split.train.count >= samples, !test.isEmpty else {
            throw LatencyError(file: target.source, "has \(target.count) rows: too few for \(samples) samples from its training split and a test split")
        }
        let full = LinearLatencyPredictor.trainRidge(on: target.subset(split.train)).evaluate(on: test)
        var results: [Draw] = []
        for k in 0..<draws {
            var rng = RandomGenerator(seed: drawSeed &+ UInt64(k))
            var pool = split.train
            for i in 0..<samples { pool.swapAt(i, i + rng.nextInt(pool.count - i)) }
            let chosen = Array(pool[0..<samples])
            let few = target.subset(chosen, name: "\(samples) samples (draw \(k)) of \(target.source)")
            let adapted = try adapter.adapt(to: few).evaluate(on: test)
            let rescaled = PredictionMetrics(
                predicted: adapter.rescaledPooledPrediction(samples: few, features: test.rows.map(\.features)),
                measured: test.latencies)
            var baseline: PredictionMetrics?
            if baselineSteps > 0 {
                var settings = HATMLPPredictor.Settings()
                settings.steps = baselineSteps
                settings.seed = UInt64(k)
                baseline = HATMLPPredictor.train(on: few, settings: settings).evaluate(on: test)
            }
            results.append(Draw(indices: chosen, adapted: adapted, rescaled: rescaled, hatMLP: baseline))
            log?(
                String(
                    format: "draw %d: ours Spearman %.4f ±10%% %.1f%% | rescaled %.4f %.1f%%", k, adapted.spearman, adapted.within10,
                    rescaled.spearman, rescaled.within10)
                    + (baseline.map { String(format: " | HAT MLP %.4f %.1f%%", $0.spearman, $0.within10) } ?? ""))
        }
        return Report(
            target: target.source, sources: sources.map(\.source), samples: samples, splitSeed: splitSeed,
            testRows: test.count, trainRows: split.train.count, draws: results, fullData: full)
    }
}
