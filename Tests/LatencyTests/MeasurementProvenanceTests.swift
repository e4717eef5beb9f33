import Foundation
import Generate
import TensorEngine
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
    }
}
