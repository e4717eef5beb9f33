import Foundation
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

    @Test("the weights' resident bytes match the model's parameter bytes; the inference adds some; --space and --bits are refused")
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
        let resident = try #require(memory["weights_resident_mb"]), parameters = try #require(memory["model_parameters_mb"])
        // Positional tables and the runtime's own pages come on top of the parameters.
        #expect(resident >= parameters && resident <= 1.25 * parameters + 8, "weights resident \(resident) MB, parameters \(parameters) MB")
        let above = try #require(memory["inference_above_weights_mb"])
        #expect(above > 0.1 && above < parameters, "inference above the weights: \(above) MB")
        for (extra, fragment) in [(["--space", space], "leave out --space"), (["--bits", "4"], "--memory measures float32 models")] {
            let refused = try HATBinary.runMerged(["latency", "measure", yml, "--vocab", "8000", "--memory"] + extra)
            #expect(refused.status != 0 && refused.output.contains(fragment), "\(refused.output)")
        }
    }
}
