import Foundation
import Model
import NN
import TensorEngine

/// Measures `count` SubTransformers of a space, sampled in a fixed order from `seed`, and
/// appends one HAT-format CSV row per SubTransformer (flushed at once), so an interrupted run
/// resumes after the rows already in the file (`hat latency dataset`, `hat pipeline`).
public struct LatencyDatasetBuilder {
    public var space: SearchSpace
    public var count: Int
    public var seed: UInt64
    public var measurer: LatencyMeasurer
    /// Where the memory columns (`memory_model_mb`, `memory_peak_mb`) come from, when the
    /// dataset has them.
    public enum MemorySource {
        /// The engine's tensor bytes of the SubTransformer's inference, measured by this meter in
        /// a model of its own after the latency: the latency columns stay measured as without it.
        case meter(InferenceMemoryMeter)
        /// What the measurement reports (`LatencyMeasurement.memory`: a measuring command's
        /// `encoder-decoder-memory` output); a measurement without it is an error.
        case measurement
    }

    /// When set, every row also holds the memory of its SubTransformer's inference.
    public var memory: MemorySource?
    public var log: (String) -> Void = { print($0) }
    /// Called after every row with a progress line (a terminal's live line); nil: `log` every 10 s.
    public var progress: ((String) -> Void)?

    public init(space: SearchSpace, count: Int, seed: UInt64, measurer: LatencyMeasurer) {
        self.space = space
        self.count = count
        self.seed = seed
        self.measurer = measurer
    }

    /// The SubTransformers in measuring order (the same for a given seed, so a resumed run continues the list).
    public var configs: [SubTransformerConfig] {
        var rng = RandomGenerator(seed: seed)
        return (0..<count).map { _ in space.sample(rng: &rng) }
    }

    /// A SuperTransformer of the space with random weights (latency does not depend on their values).
    public func model(sourceVocabSize: Int, targetVocabSize: Int) -> SuperTransformer {
        var rng = RandomGenerator(seed: 0)
        var s = space
        s.shareAllEmbeddings = space.shareAllEmbeddings && sourceVocabSize == targetVocabSize
        return SuperTransformer(
            space: s, sourceVocabSize: sourceVocabSize, targetVocabSize: targetVocabSize, rates: .none,
            maxPositions: Swift.max(1024, measurer.length + 2), rng: &rng)
    }

    /// Measures the rows not yet in `csv` with our inference engine on `model` (one of `model(...)`).
    @discardableResult
    public func run(model: SuperTransformer, csv: String) throws -> LatencyDataset {
        try run(csv: csv) { _, config in measurer.measure(model: model, config: config) }
    }

    /// Measures the rows not yet in `csv` with `measure` (row index, SubTransformer) — our engine
    /// or a user's command — and returns the whole dataset. An existing `csv` must have the
    /// columns this builder writes (memory columns or not), else nothing is measured.
    @discardableResult
    public func run(csv: String, measure: (Int, SubTransformerConfig) throws -> LatencyMeasurement) throws -> LatencyDataset {
        let columns: LatencyDataset.Columns = memory == nil ? .hat : .hatAndMemory
        var done = 0
        if FileManager.default.fileExists(atPath: csv) {
            let existing = try LatencyDataset(contentsOf: csv)
            // Checked before the first measurement, so a mismatch costs no measuring time.
            if existing.columns != columns { throw LatencyDataset.mixedColumns(file: csv, fileColumns: existing.columns) }
            done = existing.count
        }
        if done >= count {
            log("\(csv) already holds \(done) rows (≥ \(count)); nothing to measure")
            return try LatencyDataset(contentsOf: csv)
        }
        if done > 0 { log("\(csv): \(done) rows already measured; resuming at row \(done + 1)") }
        let all = configs
        let start = Date()
        var lastLog = Date.distantPast
        for i in done..<count {
            let m = try measure(i, all[i])
            var rowMemory: LatencyRow.Memory?
            switch memory {
            case nil: rowMemory = nil
            case .meter(let meter)?: rowMemory = LatencyRow.Memory(try meter.measure(all[i]).memory)
            case .measurement?:
                guard let reported = m.memory else {
                    throw LatencyError(
                        file: csv,
                        "SubTransformer \(i + 1) was measured without memory, but the dataset records it (memory columns); nothing was appended for it")
                }
                rowMemory = reported
            }
            let row = LatencyRow(
                config: all[i], encoderMean: m.encoderMeanMs, decoderMean: m.decoderMeanMs,
                encoderStd: m.encoderStdMs, decoderStd: m.decoderStdMs, memory: rowMemory)
            for warning in try LatencyDataset.append(row: row, to: csv) { log(warning) }
            let elapsed = Date().timeIntervalSince(start), finished = i - done + 1
            let line = String(
                format: "measured %d/%d  last %.2f ms  ETA %.0f s", i + 1, count, m.totalMs,
                elapsed / Double(finished) * Double(count - i - 1))
            if let progress {
                progress(line)
            } else if Date().timeIntervalSince(lastLog) >= 10 || i == count - 1 {
                lastLog = Date()
                log(line)
            }
        }
        return try LatencyDataset(contentsOf: csv)
    }
}
