import Foundation

/// The limits a SubTransformer must meet to join the population (hat-reference.md §7; memory
/// as THANOS adds it, §9). A nil limit is no limit.
///
/// ```swift
/// let c = try SearchConstraints.parse(latency: "200ms", memory: "64MB", parameters: "30M", flops: "2G")
/// c.violations(of: measures)   // [] when every limit holds
/// ```
public struct SearchConstraints: Codable, Hashable, Sendable, CustomStringConvertible {
    /// Predicted latency (encoder + decoder), milliseconds.
    public var latencyMs: Double?
    /// Memory in MB (10⁶ bytes): the profiler's peak inference memory, which includes the model's
    /// weights (model size), must fit.
    public var memoryMB: Double?
    /// HAT's #Params (embeddings and output projection excluded).
    public var parameters: Double?
    /// HAT's FLOPs of one forward pass.
    public var flops: Double?

    public init(latencyMs: Double? = nil, memoryMB: Double? = nil, parameters: Double? = nil, flops: Double? = nil) {
        self.latencyMs = latencyMs
        self.memoryMB = memoryMB
        self.parameters = parameters
        self.flops = flops
    }

    /// Parses each limit from its command-line text ("200ms", "64MB", "30M", "2G"); errors name the option.
    public static func parse(
        latency: String? = nil, memory: String? = nil, parameters: String? = nil,
        flops: String? = nil
    ) throws -> SearchConstraints {
        SearchConstraints(
            latencyMs: try latency.map { try ConstraintQuantity.milliseconds($0, option: "--latency-constraint") },
            memoryMB: try memory.map { try ConstraintQuantity.megabytes($0, option: "--memory-constraint") },
            parameters: try parameters.map { try ConstraintQuantity.count($0, option: "--params-constraint") },
            flops: try flops.map { try ConstraintQuantity.flops($0, option: "--flops-constraint") })
    }

    /// One constraint set per latency in a comma-separated list ("100ms,150ms,200ms"), the other
    /// limits shared: the points of a latency/loss Pareto front.
    public static func list(
        latencies: String?, memory: String? = nil, parameters: String? = nil,
        flops: String? = nil
    ) throws -> [SearchConstraints] {
        for (option, value) in [("--memory-constraint", memory), ("--params-constraint", parameters), ("--flops-constraint", flops)] {
            if let value, value.contains(",") {
                throw SearchError.badConstraint(
                    option: option, value: value,
                    reason: "takes one value; only --latency-constraint takes a list")
            }
        }
        let base = try SearchConstraints.parse(memory: memory, parameters: parameters, flops: flops)
        guard let latencies else { return [base] }
        var result: [SearchConstraints] = []
        for item in latencies.split(separator: ",", omittingEmptySubsequences: false) {
            var c = base
            c.latencyMs = try ConstraintQuantity.milliseconds(String(item), option: "--latency-constraint")
            if result.contains(c) {
                throw SearchError.badConstraint(
                    option: "--latency-constraint", value: latencies,
                    reason: "\(c.label) is given twice")
            }
            result.append(c)
        }
        return result
    }

    /// What breaks each limit, e.g. "predicted latency 212.4 ms > 200 ms"; empty when all hold.
    public func violations(of m: CandidateMeasures) -> [String] {
        var out: [String] = []
        // A prediction that is not a number (a diverged predictor) meets no limit: NaN > l is false.
        if latencyMs != nil, !m.predictedLatencyMs.isFinite {
            out.append("predicted latency \(m.predictedLatencyMs) ms is not a number: the predictor is broken (retrain it)")
        } else if let l = latencyMs, m.predictedLatencyMs > l {
            out.append(String(format: "predicted latency %.4g ms > %@", m.predictedLatencyMs, Self.formatMs(l)))
        }
        if let limit = memoryMB, !(m.peakMemoryMB <= limit) {
            out.append(String(format: "peak memory %.4g MB (model %.4g MB) > %@", m.peakMemoryMB, m.modelSizeMB, Self.formatMB(limit)))
        }
        if let limit = parameters, Double(m.parameters) > limit {
            out.append("#params \(Self.formatCount(Double(m.parameters))) > \(Self.formatCount(limit))")
        }
        if let limit = flops, Double(m.flops) > limit {
            out.append("FLOPs \(Self.formatCount(Double(m.flops))) > \(Self.formatCount(limit))")
        }
        return out
    }

    public func admits(_ m: CandidateMeasures) -> Bool { violations(of: m).isEmpty }

    /// A short name for files and logs, unique for each set of limits: "200ms", "200ms_64MB_30M",
    /// "2GFLOPs", or "unconstrained".
    public var label: String {
        // Counts keep 4 decimals here: two different limits must not share a file name.
        func count(_ v: Double) -> String {
            for (suffix, scale) in [("G", 1e9), ("M", 1e6), ("K", 1e3)] where v >= scale { return Self.shortNumber(v / scale) + suffix }
            return Self.shortNumber(v)
        }
        let parts = [
            latencyMs.map { Self.formatMs($0) }, memoryMB.map { Self.formatMB($0) }, parameters.map { count($0) },
            flops.map { count($0) + "FLOPs" },
        ]
        .compactMap { $0 }.map { $0.replacingOccurrences(of: " ", with: "") }
        return parts.isEmpty ? "unconstrained" : parts.joined(separator: "_")
    }

    /// Every limit, for logs and messages: "latency ≤ 200 ms, memory ≤ 64 MB".
    public var description: String {
        let parts = [
            latencyMs.map { "latency ≤ \(Self.formatMs($0))" }, memoryMB.map { "memory ≤ \(Self.formatMB($0))" },
            parameters.map { "#params ≤ \(Self.formatCount($0))" }, flops.map { "FLOPs ≤ \(Self.formatCount($0))" },
        ]
        .compactMap { $0 }
        return parts.isEmpty ? "no constraint" : parts.joined(separator: ", ")
    }

    /// "200 ms" (labels drop the space: "200ms").
    public static func formatMs(_ v: Double) -> String { "\(shortNumber(v)) ms" }
    public static func formatMB(_ v: Double) -> String { "\(shortNumber(v)) MB" }
    /// 30e6 → "30M", 75_760 → "75.76K", 1.87e9 → "1.87G".
    public static func formatCount(_ v: Double) -> String {
        for (suffix, scale) in [("G", 1e9), ("M", 1e6), ("K", 1e3)] where v >= scale { return shortNumber(v / scale, decimals: 2) + suffix }
        return shortNumber(v, decimals: 2)
    }
    /// 200 → "200", 152.5 → "152.5", 0.1 + 0.2 → "0.3" (at most `decimals` decimals).
    public static func shortNumber(_ v: Double, decimals: Int = 4) -> String {
        var s = String(format: "%.\(decimals)f", v)
        while s.hasSuffix("0") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
