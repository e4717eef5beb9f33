import Foundation
import Generate
import TensorEngine
import TestSupport
import Testing

@testable import Latency

/// The file beside a latency dataset that says how its rows were measured.
@Suite("Measurement provenance")
struct MeasurementProvenanceTests {
    @Test("written beside the CSV and read back; names this process's kernels and the CPU; says what changed")
    func roundTripAndDifferences() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("hat-provenance-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let csv = folder.appendingPathComponent("lat.csv").path
        #expect(MeasurementProvenance.read(besideDataset: csv) == nil)

        let provenance = MeasurementProvenance(threads: 2, length: 30, beam: 5, iterations: 20, method: "wall")
        #expect(provenance.kernels == BLAS.kernelDescription)
        #expect(!provenance.cpu.isEmpty)
        try provenance.write(besideDataset: csv)
        #expect(FileManager.default.fileExists(atPath: csv + ".provenance.json"))
        let read = try #require(MeasurementProvenance.read(besideDataset: csv))
        #expect(read == provenance)
        #expect(provenance.differences(from: read).isEmpty)

        var other = provenance
        other.threads = 1
        other.kernels = "float32 GEMM OpenBLAS Prescott"
        let changes = provenance.differences(from: other)
        #expect(changes.count == 2)
        #expect(changes.contains("threads 1 → 2"))
        #expect(changes.contains { $0.hasPrefix("kernels 'float32 GEMM OpenBLAS Prescott' → ") })

        // A file from before the decoder was recorded reads, and its rows are flagged as another decoder's.
        let old = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: csv + ".provenance.json"))) as! [String: Any]
        try JSONSerialization.data(withJSONObject: old.filter { $0.key != "decoder" }).write(to: URL(fileURLWithPath: csv + ".provenance.json"))
        let before = try #require(MeasurementProvenance.read(besideDataset: csv))
        #expect(before.decoder == nil)
        #expect(provenance.differences(from: before) == ["decoder 'before it was recorded' → '\(IncrementalDecoder.implementation)'"])
        // A dataset read from the CSV carries its provenance, and so do its splits.
        try LatencyDataset(rows: [], source: csv).write(to: csv)
        try provenance.write(besideDataset: csv)
        let dataset = try LatencyDataset(contentsOf: csv)
        #expect(dataset.measurement == provenance && dataset.split(seed: 0).train.measurement == provenance)
    }

    @Test("train-predictor reports how its CSVs were measured, refuses validation rows measured otherwise, and records it in the predictor")
    func trainPredictorReadsProvenance() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let folder = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: folder) }
        let space = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
        func dataset(_ name: String, count: Int, seed: Int, threads: Int) throws -> String {
            let csv = folder.appendingPathComponent(name).path
            let r = try HATBinary.runMerged([
                "latency", "dataset", "--space", space, "--vocab", "100", "--count", "\(count)", "--seed", "\(seed)", "--out", csv,
                "--iterations", "1", "--warmup", "0", "--threads", "\(threads)",
            ])
            try #require(r.status == 0, "\(r.output)")
            return csv
        }
        let train = try dataset("train.csv", count: 30, seed: 1, threads: 1)
        let sameWay = try dataset("valid.csv", count: 10, seed: 2, threads: 1)  // other SubTransformers, same settings
        let otherWay = try dataset("valid2.csv", count: 10, seed: 3, threads: 2)
        let predictor = folder.appendingPathComponent("p.json").path

        let refused = try HATBinary.runMerged(["latency", "train-predictor", "--data", train, "--valid", otherWay, "--out", predictor])
        #expect(refused.status != 0 && !FileManager.default.fileExists(atPath: predictor), "\(refused.output)")
        for fragment in ["valid2.csv was measured under other settings than", "threads 1 → 2", "--allow-mixed-settings"] {
            #expect(refused.output.contains(fragment), "'\(fragment)' missing from: \(refused.output)")
        }
        let mixed = try HATBinary.runMerged([
            "latency", "train-predictor", "--data", train, "--valid", otherWay, "--out", predictor, "--allow-mixed-settings",
        ])
        #expect(mixed.status == 0, "\(mixed.output)")

        let trained = try HATBinary.runMerged(["latency", "train-predictor", "--data", train, "--valid", sameWay, "--out", predictor])
        #expect(trained.status == 0, "\(trained.output)")
        let summary = try #require(MeasurementProvenance.read(besideDataset: train)).summary
        #expect(summary.contains("1 thread") && summary.contains("hat "), "\(summary)")
        #expect(trained.output.contains("train.csv: measured on \(summary)"), "\(trained.output)")
        let saved = try PredictorFile.load(predictor)
        #expect(saved.provenance.measuredOn == summary)
        // HAT's own CSVs have no provenance file: said, not refused.
        let hat = sharedDataDirectory.appendingPathComponent("hat-latency/iwslt14deen_gpu_titanxp_all.csv").path
        let unknown = try HATBinary.runMerged(["latency", "evaluate", "--predictor", predictor, "--data", hat])
        #expect(unknown.output.contains("no provenance file beside it"), "\(unknown.output)")
    }
}
