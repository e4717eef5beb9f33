import Datasets
import Foundation
import Generate
import TensorEngine

/// Where and how latencies were measured: the CPU, the kernels that ran, the thread count and
/// HAT's measurement settings. A latency dataset is only meaningful for the machine and settings
/// that produced it, and HAT's CSV format has no room for them, so `hat latency dataset` writes
/// them beside the CSV (`lat.csv` → `lat.csv.provenance.json`) and the pipeline into its results.
public struct MeasurementProvenance: Codable, Equatable, Sendable {
    /// The CPU as the kernel names it (/proc/cpuinfo "model name"), or "unknown".
    public var cpu: String
    /// Every kernel choice of the measuring process (`BLAS.kernelDescription`).
    public var kernels: String
    public var threads: Int
    public var length: Int
    public var beam: Int
    public var iterations: Int
    /// "wall" or "cpu" for the built-in method; the user's command for `--command`.
    public var method: String
    /// How the engine decodes (`IncrementalDecoder.implementation`); nil in files written before
    /// it was recorded.
    public var decoder: String?
    /// What the dataset's SubTransformers are drawn from (`hat latency dataset`): the space file's
    /// SHA-256, the sampling seed and the vocabulary sizes; nil for single measurements and older files.
    public var sampling: String?
    /// Bits per weight index of K-means-quantized weight matrices (`--bits`); nil: float32.
    public var weightBits: Int?
    /// The `hat` version that measured, and when (UTC, ISO 8601): for the record, not compared
    /// (nil in files written before they were recorded).
    public var hatVersion: String?
    public var measuredAt: String?

    public init(threads: Int, length: Int, beam: Int, iterations: Int, method: String) {
        cpu = MeasurementProvenance.cpuModelName()
        kernels = BLAS.kernelDescription
        self.threads = threads
        self.length = length
        self.beam = beam
        self.iterations = iterations
        self.method = method
        decoder = IncrementalDecoder.implementation
        measuredAt = ISO8601DateFormatter().string(from: Date())
    }

    /// The vocabulary sizes within `sampling` ("8000/8000"), where recorded.
    var vocabularies: String? {
        guard let sampling, let range = sampling.range(of: "vocabularies ") else { return nil }
        return String(sampling[range.upperBound...].prefix { !$0.isWhitespace && $0 != "," })
    }

    /// One line for people: where and how the rows were measured.
    public var summary: String {
        var parts = [
            cpu, "\(threads) thread\(threads == 1 ? "" : "s")", "length \(length), beam \(beam), \(iterations) run\(iterations == 1 ? "" : "s")",
            weightBits.map { "\($0)-bit weights" } ?? "float32",
            LatencyMeasurer.Clock(rawValue: method) != nil ? "\(method) clock" : "command `\(method)`",
        ]
        if let hatVersion { parts.append("hat \(hatVersion)") }
        if let measuredAt { parts.append(String(measuredAt.prefix(10))) }
        return parts.joined(separator: ", ")
    }

    /// The provenance file of a dataset CSV.
    public static func path(besideDataset csv: String) -> String { csv + ".provenance.json" }

    /// Writes this provenance beside `csv` (atomically).
    public func write(besideDataset csv: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: Self.path(besideDataset: csv))
    }

    /// The provenance stored beside `csv`, if there is a readable one.
    public static func read(besideDataset csv: String) -> MeasurementProvenance? {
        guard let data = FileManager.default.contents(atPath: path(besideDataset: csv)) else { return nil }
        return try? JSONDecoder().decode(MeasurementProvenance.self, from: data)
    }

    /// How `other` (the settings of rows already in a dataset) differs from this run, one phrase
    /// per field; empty when rows measured now are comparable to them. Without `comparingSampling`
    /// the SubTransformers' source is left out (a predictor's validation rows are drawn apart from
    /// its training rows on purpose).
    public func differences(from other: MeasurementProvenance, comparingSampling: Bool = true) -> [String] {
        var out: [String] = []
        if cpu != other.cpu { out.append("CPU '\(other.cpu)' → '\(cpu)'") }
        if kernels != other.kernels { out.append("kernels '\(other.kernels)' → '\(kernels)'") }
        if threads != other.threads { out.append("threads \(other.threads) → \(threads)") }
        if length != other.length || beam != other.beam { out.append("length/beam \(other.length)/\(other.beam) → \(length)/\(beam)") }
        if iterations != other.iterations { out.append("iterations \(other.iterations) → \(iterations)") }
        if method != other.method { out.append("method '\(other.method)' → '\(method)'") }
        if comparingSampling, sampling != other.sampling, let sampling {
            out.append("SubTransformers drawn from '\(other.sampling ?? "unrecorded")' → '\(sampling)'")
        } else if !comparingSampling, let mine = vocabularies, let theirs = other.vocabularies, mine != theirs {
            out.append("vocabularies \(theirs) → \(mine)")  // the output projection's width changes the decoder's time
        }
        if weightBits != other.weightBits {
            out.append("weights \(other.weightBits.map { "\($0)-bit" } ?? "float32") → \(weightBits.map { "\($0)-bit" } ?? "float32")")
        }
        if decoder != other.decoder { out.append("decoder '\(other.decoder ?? "before it was recorded")' → '\(decoder ?? "unrecorded")'") }
        return out
    }

    /// /proc/cpuinfo's first "model name" (Linux); "unknown" elsewhere or when absent.
    public static func cpuModelName() -> String {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown" }
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            if let colon = line.firstIndex(of: ":") {
                return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        return "unknown"
    }
}
