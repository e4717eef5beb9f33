import Foundation
import Latency
import Model

/// After a search, the best SubTransformer of each constraint is measured on this machine
/// with HAT's method and its measured latency set beside the predicted one in `pareto.json`.
/// A predictor that is off by more than 10 % has chosen under a constraint that does not hold,
/// or left latency unused; HAT's users met exactly this when a predictor trained on one
/// machine's state was used on another.
public enum MeasuredLatencyCheck {
    public static let warningThreshold = 0.10

    public struct Result: Sendable {
        public var constraint: String
        public var predictedMs: Double
        public var measuredMs: Double
        /// (predicted − measured) / measured.
        public var relativeError: Double { (predictedMs - measuredMs) / measuredMs }
        public var warns: Bool { abs(relativeError) > MeasuredLatencyCheck.warningThreshold }
        /// Whether the measured latency breaks the constraint the point was searched under.
        public var breaksConstraint: Bool

        public var line: String {
            var s = String(format: "%@: measured %.2f ms, predicted %.2f ms (%+.1f %%)", constraint, measuredMs, predictedMs, 100 * relativeError)
            if warns {
                s += String(format: "\nwarning: the latency predictor is off by more than %.0f %% for this SubTransformer", 100 * warningThreshold)
                s += breaksConstraint ? "; its measured latency BREAKS the constraint." : "."
                s += " Retrain the predictor on latencies measured on the device you deploy to (hat latency dataset + train-predictor)."
            } else if breaksConstraint {
                s += "\nwarning: the measured latency is above the constraint (the predictor's error is within 10 %; search with a tighter constraint)"
            }
            return s
        }
    }

    /// Measures every point of `paretoURL` (in place), rewrites the file, returns the results in
    /// its order. A SubTransformer that `previous` (the file before the search ran again) holds
    /// a measurement of keeps it: a finished search run again gives the same file.
    public static func run(
        paretoURL: URL, previous: [ParetoPoint] = [], model: (SubTransformerConfig) -> SuperTransformer, measurer: LatencyMeasurer,
        log: (String) -> Void
    ) throws -> [Result] {
        var points = try ParetoFront.read(paretoURL)
        var results: [Result] = []
        for i in points.indices {
            let earlier = previous.first { $0.config == points[i].config && $0.measuredLatencyMs != nil }?.measuredLatencyMs
            let measured = earlier ?? measurer.measure(model: model(points[i].config), config: points[i].config).totalMs
            points[i].measuredLatencyMs = measured
            let limit = points[i].constraints.latencyMs
            let r = Result(
                constraint: points[i].constraint, predictedMs: points[i].predictedLatencyMs, measuredMs: measured,
                breaksConstraint: limit.map { measured > $0 } ?? false)
            results.append(r)
            log(r.line)
        }
        try ParetoFront.write(points, to: paretoURL)
        return results
    }
}
