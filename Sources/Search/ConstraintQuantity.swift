import Foundation

/// Parsing of the quantities constraints are written in: "200ms", "1.5s", "64MB", "30M", "2G".
///
/// A number is followed by an optional unit; a bare number takes the option's base unit
/// (milliseconds, MB, parameters, FLOPs), which is what HAT's evolution YAML files use for
/// `latency-constraint`. Units are case-sensitive where case matters ("ms" vs "M").
enum ConstraintQuantity {
    /// Milliseconds from "200ms", "1.5s", "200" (ms), "250us".
    static func milliseconds(_ text: String, option: String) throws -> Double {
        try parse(
            text, option: option, units: ["ms": 1, "s": 1000, "us": 1e-3, "µs": 1e-3],
            example: "200ms or 1.5s", base: "milliseconds")
    }

    /// Megabytes (10⁶ bytes, as the profiler reports them) from "64MB", "1.5GB", "512KB", "64MiB", "64".
    static func megabytes(_ text: String, option: String) throws -> Double {
        let mib = 1_048_576.0 / 1e6
        return try parse(
            text, option: option,
            units: [
                "B": 1e-6, "KB": 1e-3, "kB": 1e-3, "MB": 1, "GB": 1e3,
                "KiB": mib / 1024, "MiB": mib, "GiB": mib * 1024,
            ],
            example: "64MB or 1.5GB", base: "MB")
    }

    /// A parameter count from "30M", "500K", "1.2G", "30000000".
    static func count(_ text: String, option: String) throws -> Double {
        try parse(
            text, option: option, units: ["K": 1e3, "k": 1e3, "M": 1e6, "G": 1e9, "B": 1e9],
            example: "30M or 500K", base: "parameters")
    }

    /// FLOPs from "2G", "2GFLOPs", "500M", "1.5T", "2e9".
    static func flops(_ text: String, option: String) throws -> Double {
        var units: [String: Double] = [:]
        for (prefix, scale) in [("", 1.0), ("K", 1e3), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12)] {
            units[prefix + "FLOPs"] = scale
            units[prefix + "FLOPS"] = scale
            if !prefix.isEmpty { units[prefix] = scale }
        }
        return try parse(text, option: option, units: units, example: "2G or 500MFLOPs", base: "FLOPs")
    }

    private static func parse(
        _ text: String, option: String, units: [String: Double], example: String,
        base: String
    ) throws -> Double {
        func fail(_ reason: String) -> SearchError { .badConstraint(option: option, value: text, reason: reason) }
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        // The number is the longest prefix that reads as one ("1.5e3ms" → 1.5e3, "ms").
        var numberEnd = trimmed.endIndex
        while numberEnd > trimmed.startIndex && Double(trimmed[..<numberEnd]) == nil {
            numberEnd = trimmed.index(before: numberEnd)
        }
        let unit = trimmed[numberEnd...].trimmingCharacters(in: .whitespaces)
        guard numberEnd > trimmed.startIndex, let value = Double(trimmed[..<numberEnd]) else {
            throw fail(trimmed.isEmpty ? "is empty: give a value such as \(example)" : "does not start with a number: write it as \(example)")
        }
        let scale: Double
        if unit.isEmpty {
            scale = 1
        } else if let s = units[unit] {
            scale = s
        } else {
            let known = units.keys.sorted().joined(separator: ", ")
            throw fail("unknown unit '\(unit)' (known: \(known); a bare number is in \(base)); write it as \(example)")
        }
        let result = value * scale
        guard result.isFinite, result > 0 else { throw fail("must be a positive amount, such as \(example)") }
        return result
    }
}
