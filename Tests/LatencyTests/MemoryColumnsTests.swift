import Foundation
import Model
import TensorEngine
import TestSupport
import Testing

@testable import Latency

/// The two memory columns after HAT's 14 (`hat latency dataset --memory`), and the memory
/// predictors trained on them (`hat latency train-predictor --target memory`).
@Suite("Latency datasets with memory columns, memory predictors")
struct MemoryColumnsTests {
    static let memoryHeader = (LatencyDataset.header + LatencyDataset.memoryNames).joined(separator: ",")
    static let memoryRow = goodRow + ",12.345678,20.5"

    func parse(_ text: String) throws -> LatencyDataset { try LatencyDataset.parse(Data(text.utf8), source: "mem.csv") }

    @Test("a file with the memory columns reads, writes back byte for byte, and keeps them through splits")
    func roundTrip() throws {
        let text = Self.memoryHeader + "\n" + Self.memoryRow + "\n" + Self.memoryRow + "\n"
        let data = try parse(text)
        #expect(data.columns == .hatAndMemory && data.hasMemory && data.count == 2)
        #expect(data.rows[0].memory == LatencyRow.Memory(modelMB: 12.345678, peakMB: 20.5))
        #expect(data.csvText == text)
        #expect(data.values(of: .memory) == [20.5, 20.5])
        let path = try Oracle.temporaryDirectory().appendingPathComponent("mem.csv").path
        try data.write(to: path)
        let back = try LatencyDataset(contentsOf: path)
        #expect(back.rows == data.rows && back.columns == .hatAndMemory)
        #expect(data.subset([1]).csvText == Self.memoryHeader + "\n" + Self.memoryRow + "\n")
        // HAT's 14 columns alone: no memory to learn, said with the file's name.
        let hat = try parse(header + "\n" + goodRow + "\n")
        #expect(hat.columns == .hat && hat.values(of: .memory) == nil)
        expectLatencyError(["mem.csv", "no memory columns", "hat latency dataset --memory"]) { _ = try hat.requireValues(of: .memory) }
    }

    @Test("a missing or non-numeric memory value, a row without the columns, a lone or unknown extra column: errors naming file, line and column")
    func refusals() {
        let fields = Self.memoryRow.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let emptyPeak = (fields.dropLast() + [""]).joined(separator: ",")
        expectLatencyError(["mem.csv:3", "column 'memory_peak_mb'", "is empty"]) {
            _ = try parse(Self.memoryHeader + "\n" + Self.memoryRow + "\n" + emptyPeak + "\n")
        }
        let wordModel = (fields.dropLast(2) + ["lots", "20.5"]).joined(separator: ",")
        expectLatencyError(["mem.csv:2", "column 'memory_model_mb'", "'lots' is not a number"]) { _ = try parse(Self.memoryHeader + "\n" + wordModel + "\n") }
        expectLatencyError(["mem.csv:2", "column 'memory_model_mb'", "every row must have them"]) { _ = try parse(Self.memoryHeader + "\n" + goodRow + "\n") }
        expectLatencyError(["mem.csv:2", "column 'memory_peak_mb'", "negative"]) {
            _ = try parse(Self.memoryHeader + "\n" + (fields.dropLast() + ["-1"]).joined(separator: ",") + "\n")
        }
        expectLatencyError(["mem.csv:1", "column 'memory_peak_mb'", "is missing", "come together"]) {
            _ = try parse(header + ",memory_model_mb\n" + goodRow + ",1\n")
        }
        expectLatencyError(["mem.csv:1", "column 'energy_mj'", "unknown column 17"]) {
            _ = try parse(Self.memoryHeader + ",energy_mj\n" + Self.memoryRow + ",3\n")
        }
        expectLatencyError(["mem.csv:1", "column 'energy_mj'", "unknown column 15"]) { _ = try parse(header + ",energy_mj\n") }
    }

    @Test("appending never mixes rows with and without memory: refused, nothing appended")
    func appendRefusesMixing() throws {
        let dir = try Oracle.temporaryDirectory()
        let hatRow = try parse(header + "\n" + goodRow + "\n").rows[0]
        let memoryRow = try parse(Self.memoryHeader + "\n" + Self.memoryRow + "\n").rows[0]
        let hatFile = dir.appendingPathComponent("hat.csv").path, memoryFile = dir.appendingPathComponent("memory.csv").path
        try LatencyDataset.append(row: hatRow, to: hatFile)
        try LatencyDataset.append(row: memoryRow, to: memoryFile)
        #expect(String(decoding: FileManager.default.contents(atPath: memoryFile)!, as: UTF8.self) == Self.memoryHeader + "\n" + Self.memoryRow + "\n")
        let before = (FileManager.default.contents(atPath: hatFile)!, FileManager.default.contents(atPath: memoryFile)!)
        expectLatencyError(["hat.csv", "no memory columns", "nothing was appended"]) { try LatencyDataset.append(row: memoryRow, to: hatFile) }
        expectLatencyError(["memory.csv", "has the memory columns", "nothing was appended"]) { try LatencyDataset.append(row: hatRow, to: memoryFile) }
        #expect(FileManager.default.contents(atPath: hatFile) == before.0 && FileManager.default.contents(atPath: memoryFile) == before.1)
        // A dataset of mixed rows cannot be written either.
        let mixed = LatencyDataset(rows: [memoryRow, hatRow], source: dir.appendingPathComponent("mixed.csv").path)
        expectLatencyError(["mixed.csv", "row 2", "no measured memory"]) { try mixed.write(to: mixed.source) }
        // The builder refuses to resume a file of the other kind before it measures anything.
        var builder = LatencyDatasetBuilder(space: try tinySpace(), count: 3, seed: 1, measurer: LatencyMeasurer(warmup: 0, iterations: 1))
        builder.memory = .meter(
            InferenceMemoryMeter(layout: nil, sourceVocabSize: 100, targetVocabSize: 100, measurer: LatencyMeasurer(warmup: 0, iterations: 1)))
        builder.log = { _ in }
        var measured = 0
        expectLatencyError(["hat.csv", "no memory columns"]) {
            try builder.run(csv: hatFile) { _, _ in
                measured += 1
                return LatencyMeasurement(encoderMeanMs: 1, decoderMeanMs: 1, encoderStdMs: 0, decoderStdMs: 0, iterations: 1, length: 30, beam: 5)
            }
        }
        #expect(measured == 0 && FileManager.default.contents(atPath: hatFile) == before.0)
    }

    @Test("a measuring command's memory fills the memory columns; a measurement without it appends nothing")
    func memoryFromTheMeasurement() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let csv = dir.appendingPathComponent("command.csv").path
        var builder = LatencyDatasetBuilder(space: try tinySpace(), count: 2, seed: 1, measurer: LatencyMeasurer(warmup: 0, iterations: 1))
        builder.memory = .measurement
        builder.log = { _ in }
        let dataset = try builder.run(csv: csv) { i, _ in
            LatencyMeasurement(
                encoderMeanMs: 1, decoderMeanMs: 2, encoderStdMs: 0, decoderStdMs: 0, iterations: 1, length: 30, beam: 5,
                memory: LatencyRow.Memory(modelMB: Double(10 + i), peakMB: Double(20 + i)))
        }
        #expect(dataset.hasMemory && dataset.rows.map(\.memory) == [LatencyRow.Memory(modelMB: 10, peakMB: 20), LatencyRow.Memory(modelMB: 11, peakMB: 21)])
        let reread = try LatencyDataset(contentsOf: csv)
        #expect(reread.rows.map(\.memory) == dataset.rows.map(\.memory))
        // A third row measured without memory: an error naming the file, and the file unchanged.
        let before = FileManager.default.contents(atPath: csv)
        builder.count = 3
        expectLatencyError(["command.csv", "SubTransformer 3", "without memory", "nothing was appended"]) {
            try builder.run(csv: csv) { _, _ in
                LatencyMeasurement(encoderMeanMs: 1, decoderMeanMs: 2, encoderStdMs: 0, decoderStdMs: 0, iterations: 1, length: 30, beam: 5)
            }
        }
        #expect(FileManager.default.contents(atPath: csv) == before)
    }

    func tinySpace() throws -> SearchSpace {
        try SearchSpace(contentsOf: Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path)
    }

    /// A synthetic dataset of the Multi30k space: latency from the MACs, memory the profiler's
    /// weights and peak inference memory (weights + activations + caches, a max of two phases),
    /// a realistic shape for a predictor to learn.
    static func syntheticMemoryDataset(count: Int) throws -> LatencyDataset {
        let space = try SearchSpace(contentsOf: Oracle.repoRoot.appendingPathComponent("configs/multi30k_cpu_space.yml").path)
        let profiler = Profiler(space: space, sourceVocabSize: 8000, targetVocabSize: 8000)
        var rng = RandomGenerator(seed: 5)
        let rows = (0..<count).map { _ -> LatencyRow in
            let c = space.sample(rng: &rng)
            let macs = Double(profiler.multiplyAccumulates(c, length: 30)) / 1e6
            return LatencyRow(
                config: c, encoderMean: 0.3 * macs + 1, decoderMean: 0.7 * macs + 2, encoderStd: 0, decoderStd: 0,
                memory: LatencyRow.Memory(
                    modelMB: Double(profiler.weightBytes(c)) / 1e6, peakMB: Double(profiler.peakInferenceBytes(c, length: 30, beam: 5)) / 1e6))
        }
        return LatencyDataset(rows: rows, source: "synthetic memory dataset")
    }

    @Test("a memory predictor (ridge, cost model) predicts held-out rows' peak memory within 3 % on average, 10 % each; its file says it predicts memory")
    func memoryPredictorLearnsMemory() throws {
        let data = try Self.syntheticMemoryDataset(count: 120)
        let train = data.subset(Array(0..<100)), heldOut = data.subset(Array(100..<120))
        let dir = try Oracle.temporaryDirectory()
        for kind in [PredictorKind.ridge, .costModel] {
            let predictor = PredictorFile.train(kind: kind, on: train, seed: 0, target: .memory)
            #expect(predictor.target == .memory)
            let predicted = predictor.predict(heldOut), measured = heldOut.values(of: .memory)!
            // The peak is a max of two phases (encoder, decoder), which a linear model follows
            // only piecewise: within 3 % on average, every row within 10 %.
            let relativeErrors = zip(predicted, measured).map { p, m in abs(p - m) / m }
            #expect(relativeErrors.reduce(0, +) / Double(relativeErrors.count) <= 0.03, "\(kind): \(relativeErrors)")
            #expect(predictor.evaluate(on: heldOut).within10 == 100)
            let path = dir.appendingPathComponent("\(kind).json").path
            try predictor.save(to: path)
            let loaded = try PredictorFile.load(path)
            #expect(loaded.target == .memory && loaded.predict(heldOut) == predicted)
            #expect(String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self).contains("\"predicts\" : \"memory\""))
        }
        // The MLP files record the target too (a few steps: only the file is checked here).
        var settings = HATMLPPredictor.Settings()
        settings.steps = 5
        for (name, predictor) in [
            ("mlp.safetensors", HATMLPPredictor.train(on: train, settings: settings, target: .memory) as any LatencyPredictor),
            ("ensemble.safetensors", EnsembleLatencyPredictor.train(on: train, mlpSettings: settings, target: .memory)),
        ] {
            let path = dir.appendingPathComponent(name).path
            try predictor.save(to: path)
            #expect(try PredictorFile.load(path).target == .memory, "\(name)")
        }
        // A latency predictor of the same rows says latency, and a file without the key (older) reads as latency.
        let latency = PredictorFile.train(kind: .ridge, on: train, seed: 0)
        #expect(latency.target == .latency)
        let latencyPath = dir.appendingPathComponent("latency.json").path
        try latency.save(to: latencyPath)
        let text = String(decoding: FileManager.default.contents(atPath: latencyPath)!, as: UTF8.self)
        let older = text.replacingOccurrences(of: "\"predicts\" : \"latency\",", with: "")
        #expect(older != text)
        #expect(try PredictorFile.parse(Data(older.utf8), path: "older.json").target == .latency)
        expectLatencyError(["odd.json", "key 'predicts'", "'energy'"]) {
            _ = try PredictorFile.parse(
                Data(text.replacingOccurrences(of: "\"predicts\" : \"latency\"", with: "\"predicts\" : \"energy\"").utf8), path: "odd.json")
        }
    }
}
