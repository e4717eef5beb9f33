import Foundation
import Model
import TestSupport
import Testing

@testable import Latency

/// `hat latency measure --memory`: the resident-memory reader against bytes this test touches
/// itself, and the command's figures against the model's own parameter bytes.
@Suite("Measured memory", .serialized)
struct MemoryMeasurementTests {
    @Test("touching 64 MB raises the resident and peak memory by as much; after a reset the peak follows the resident")
    func residentMemoryFollowsTouchedBytes() throws {
        let before = try #require(ResidentMemory.current())
        #expect(before.peak >= before.resident)
        let bytes = 64 << 20
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 4096)
        for offset in stride(from: 0, to: bytes, by: 4096) { buffer.storeBytes(of: UInt8(offset & 0xFF), toByteOffset: offset, as: UInt8.self) }
        let touched = try #require(ResidentMemory.current())
        #expect(touched.resident - before.resident >= bytes * 9 / 10, "resident grew by \(touched.resident - before.resident) bytes")
        #expect(touched.peak >= touched.resident)
        buffer.deallocate()  // glibc returns a block this large to the system
        let freed = try #require(ResidentMemory.current())
        // Linux batches the counters per thread (64 pages each), so allow a megabyte or two.
        #expect(freed.resident < touched.resident - bytes / 2, "resident \(freed.resident) after freeing, \(touched.resident) before")
        #expect(freed.peak >= touched.resident - (2 << 20), "peak \(freed.peak) after freeing, resident \(touched.resident) before")
        #expect(ResidentMemory.resetPeak())
        let reset = try #require(ResidentMemory.current())
        #expect(reset.peak < touched.resident - bytes / 2, "peak \(reset.peak) after the reset, resident \(reset.resident)")
    }

    @Test("the model's tensors hold its weights and are resident; the inference adds at least its logits; --space gives the attention width; --bits is refused")
    func commandReportsMemory() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let yml = root.appendingPathComponent("largest.yml").path
        let space = Oracle.repoRoot.appendingPathComponent("configs/multi30k_cpu_space.yml").path
        #expect(try HATBinary.runMerged(["sample", "--space", space, "--which", "largest", "--out", yml]).status == 0)
        let (status, output, errors) = try HATBinary.run([
            "latency", "measure", yml, "--vocab", "8000", "--memory", "--iterations", "2", "--warmup", "1", "--threads", "1", "--json",
        ])
        #expect(status == 0, "\(errors)")
        let result = try #require(try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])
        let memory = try #require(result["memory"] as? [String: Double])
        // The engine's count of the model's tensors is at least the SubTransformer's weights (the
        // measuring model adds positional tables) and resident memory holds them.
        let tensors = try #require(memory["tensor_weights_mb"]), resident = try #require(memory["resident_weights_mb"])
        let weights = try #require(memory["estimated_weights_mb"])
        #expect(tensors >= weights && tensors <= 1.2 * weights + 8, "tensors \(tensors) MB, the SubTransformer's weights \(weights) MB")
        #expect(resident >= 0.95 * tensors && resident <= 1.3 * tensors + 8, "resident \(resident) MB, tensors \(tensors) MB")
        // The inference's tensors: the beam's caches and logits at least (2 × beam × vocabulary floats of logits).
        let above = try #require(memory["tensor_above_weights_mb"])
        #expect(above >= 5 * 8000 * 4 / 1e6 && above < tensors, "inference above the weights: \(above) MB")
        // Encoder and decoder of different widths measure too (separate tables then).
        let narrow = root.appendingPathComponent("narrow.yml").path
        let text = try String(contentsOfFile: yml, encoding: .utf8).replacingOccurrences(
            of: "decoder-embed-dim-subtransformer: 256", with: "decoder-embed-dim-subtransformer: 192")
        try text.write(toFile: narrow, atomically: true, encoding: .utf8)
        let mixed = try HATBinary.runMerged(["latency", "measure", narrow, "--vocab", "8000", "--memory", "--iterations", "1", "--warmup", "0"])
        #expect(mixed.status == 0 && mixed.output.contains("memory: the model's tensors"), "\(mixed.output)")
        // With its space, the SubTransformer's own attention width (256 here, not HAT's 512): the
        // profiler's weights equal the ones `hat profile --space` gives.
        let (spaced, spacedOutput, spacedErrors) = try HATBinary.run([
            "latency", "measure", yml, "--vocab", "8000", "--space", space, "--memory", "--iterations", "1", "--warmup", "0", "--json",
        ])
        #expect(spaced == 0, "\(spacedErrors)")
        let spacedMemory = try #require(
            (try JSONSerialization.jsonObject(with: Data(spacedOutput.utf8)) as? [String: Any])?["memory"] as? [String: Double])
        let profile = try HATBinary.runMerged(["profile", yml, "--space", space, "--vocab", "8000"])
        let estimated = try #require(spacedMemory["estimated_weights_mb"]), spacedTensors = try #require(spacedMemory["tensor_weights_mb"])
        #expect(estimated < weights && profile.output.contains(String(format: "%.1f MB", estimated)), "\(estimated) MB; \(profile.output)")
        #expect(spacedTensors >= estimated && spacedTensors <= 1.2 * estimated + 8, "tensors \(spacedTensors) MB, weights \(estimated) MB")
        let refused = try HATBinary.runMerged(["latency", "measure", yml, "--vocab", "8000", "--memory", "--bits", "4"])
        #expect(refused.status != 0 && refused.output.contains("--memory measures float32 models"), "\(refused.output)")
    }

    @Test("the profiler's inference memory is never below the engine's count of its tensors, and within 10 % of it at HAT's length and beam")
    func profilerBoundsTheEngine() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let space = Oracle.repoRoot.appendingPathComponent("configs/multi30k_cpu_space.yml").path
        // The hand-designed 3 + 3, d 256 model (the engine's decoder step dominates there) and the
        // space's extremes.
        let models = ["baseline", "largest", "smallest"].map {
            Oracle.repoRoot.appendingPathComponent("benchmarks/claims/subtransformers/\($0).yml").path
        }
        for model in models {
            for (length, beam) in [(30, 5), (23, 1), (60, 4)] {
                let (status, output, errors) = try HATBinary.run([
                    "latency", "measure", model, "--vocab", "8000", "--space", space, "--memory", "--length", "\(length)", "--beam", "\(beam)",
                    "--iterations", "1", "--warmup", "0", "--threads", "1", "--json",
                ])
                try #require(status == 0, "\(errors)")
                let memory = try #require((try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])?["memory"] as? [String: Double])
                let measured = try #require(memory["tensor_above_weights_mb"]), estimated = try #require(memory["estimated_above_weights_mb"])
                let name = "\(URL(fileURLWithPath: model).lastPathComponent), length \(length), beam \(beam)"
                #expect(estimated >= measured, "\(name): the profiler's \(estimated) MB is below the engine's \(measured) MB")
                if (length, beam) == (30, 5) {
                    #expect(estimated <= 1.1 * measured, "\(name): the profiler's \(estimated) MB, the engine's \(measured) MB")
                }
            }
        }
    }

    @Test(
        "hat latency dataset --memory writes, per SubTransformer, the tensor bytes hat latency measure --memory reports; resuming keeps the columns; mixing is refused"
    )
    func datasetRecordsWhatMeasureReports() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let spacePath = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
        let csv = root.appendingPathComponent("memory.csv").path
        let common = ["--space", spacePath, "--vocab", "300", "--threads", "1", "--length", "12", "--beam", "3"]
        func dataset(count: Int, memory: Bool) throws -> (status: Int32, output: String) {
            try HATBinary.runMerged(
                ["latency", "dataset", "--count", "\(count)", "--out", csv, "--iterations", "2", "--warmup", "0"] + common + (memory ? ["--memory"] : []))
        }
        let first = try dataset(count: 2, memory: true)
        #expect(first.status == 0, "\(first.output)")
        let resumed = try dataset(count: 3, memory: true)  // one more row, appended to the same columns
        #expect(resumed.status == 0 && resumed.output.contains("resuming at row 3"), "\(resumed.output)")
        let data = try LatencyDataset(contentsOf: csv)
        #expect(data.columns == .hatAndMemory && data.count == 3)
        let space = try SearchSpace(contentsOf: spacePath)
        let configs = LatencyDatasetBuilder(space: space, count: 3, seed: 1, measurer: LatencyMeasurer()).configs
        for (i, config) in configs.enumerated() {
            let yml = root.appendingPathComponent("sub\(i).yml").path
            try config.hatYAML(comment: "row \(i + 1)").write(toFile: yml, atomically: true, encoding: .utf8)
            let (status, output, errors) = try HATBinary.run(
                ["latency", "measure", yml, "--memory", "--json", "--iterations", "3", "--warmup", "1"] + common)
            #expect(status == 0, "\(errors)")
            let memory = try #require((try JSONSerialization.jsonObject(with: Data(output.utf8)) as? [String: Any])?["memory"] as? [String: Double])
            let weights = try #require(memory["tensor_weights_mb"]), above = try #require(memory["tensor_above_weights_mb"])
            let row = try #require(data.rows[i].memory)
            // Whole bytes: the engine's count is exact, and one inference allocates what every inference does.
            func bytes(_ mb: Double) -> Int { Int((mb * 1e6).rounded()) }
            #expect(bytes(row.modelMB) == bytes(weights), "row \(i + 1): \(row.modelMB) MB in the CSV, \(weights) MB measured")
            #expect(bytes(row.peakMB) == bytes(weights) + bytes(above), "row \(i + 1): peak \(row.peakMB) MB in the CSV, \(weights) + \(above) MB measured")
            #expect(row.peakMB > row.modelMB)
        }
        // Rows without memory are never added to it (checked before anything is measured), and the file is unchanged.
        let before = FileManager.default.contents(atPath: csv)
        let mixed = try dataset(count: 4, memory: false)
        #expect(mixed.status != 0 && mixed.output.contains("has the memory columns") && mixed.output.contains("nothing was appended"), "\(mixed.output)")
        #expect(FileManager.default.contents(atPath: csv) == before)
    }
}
