import Foundation
import TestSupport
import Testing

@testable import Latency

/// What `python -c CODE` prints in the oracle environment; nil when there is none or the code fails.
private func oraclePython(_ code: String) -> String? {
    guard FileManager.default.isExecutableFile(atPath: Oracle.python) else { return nil }
    let p = Process()
    p.executableURL = URL(fileURLWithPath: Oracle.python)
    p.arguments = ["-c", code]
    let out = Pipe()
    p.standardOutput = out
    p.standardError = FileHandle.nullDevice
    guard (try? p.run()) != nil else { return nil }
    let data = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard p.terminationStatus == 0 else { return nil }
    return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
}

/// onnxruntime's execution providers in the oracle Python; nil without onnxruntime.
private let onnxruntimeProviders: [String]? = oraclePython("import onnxruntime; print(' '.join(onnxruntime.get_available_providers()))")
    .map { $0.split(separator: " ").map(String.init) }
/// Whether PyTorch in the oracle Python has a usable GPU; nil without PyTorch.
private let torchHasCUDA: Bool? = oraclePython("import torch; print(torch.cuda.is_available())").map { $0 == "True" }

private let onnxruntimeReady = HATBinary.isAvailable && onnxruntimeProviders != nil
private let torchReady = HATBinary.isAvailable && torchHasCUDA != nil

/// The measurers shipped in measurers/ as `hat latency --command` programs: times from a tiny
/// SubTransformer of the Multi30k space in onnxruntime and in PyTorch, and a missing device is an
/// error naming the program and the device, with nothing appended to a dataset.
@Suite("Measurers for other runtimes (measurers/)", .serialized)
struct MeasurerTests {
    /// A folder (with a space in its name, which the scripts must quote) holding a SubTransformer
    /// of configs/multi30k_cpu_space.yml: 3 encoder layers, 1 decoder layer attending to the last two.
    struct Fixture {
        let folder: URL
        let yaml: String

        init() throws {
            folder = try Oracle.temporaryDirectory().appendingPathComponent("sub dir")
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            yaml = folder.appendingPathComponent("tiny.yml").path
            try """
            encoder-embed-dim-subtransformer: 192
            decoder-embed-dim-subtransformer: 192
            encoder-ffn-embed-dim-all-subtransformer: [512, 512, 512]
            decoder-ffn-embed-dim-all-subtransformer: [512]
            encoder-layer-num-subtransformer: 3
            decoder-layer-num-subtransformer: 1
            encoder-self-attention-heads-all-subtransformer: [2, 2, 2]
            decoder-self-attention-heads-all-subtransformer: [2]
            decoder-ende-attention-heads-all-subtransformer: [2]
            decoder-arbitrary-ende-attn-all-subtransformer: [1]

            """.write(toFile: yaml, atomically: true, encoding: .utf8)
        }

        func remove() { try? FileManager.default.removeItem(at: folder.deletingLastPathComponent()) }
    }

    static let space = Oracle.repoRoot.appendingPathComponent("configs/multi30k_cpu_space.yml").path

    /// `--command` for the measurer `script` (in measurers/) with a small vocabulary and few runs,
    /// `settings` (e.g. "EP=cpu") in front.
    static func command(_ script: String, _ settings: String) -> String {
        let q = LatencyCommandSource.shellQuoted
        let measurer = Oracle.repoRoot.appendingPathComponent("measurers/\(script)").path
        return "\(settings) SPACE=\(q(space)) VOCAB=64 LENGTH=6 BEAM=2 ITERATIONS=3 WARMUP=1 HAT=\(q(HATBinary.path)) "
            + "PYTHON=\(q(Oracle.python)) \(q(measurer)) {}"
    }

    /// `hat latency measure` of the fixture through `command`: its encoder and decoder milliseconds.
    func measure(_ f: Fixture, command: String) throws -> (encoder: Double, decoder: Double) {
        let r = try HATBinary.run([
            "latency", "measure", f.yaml, "--command", command, "--command-output", "encoder-decoder", "--command-timeout", "300", "--json",
        ])
        try #require(r.status == 0, "hat latency measure failed: \(r.err)")
        struct Times: Decodable {
            let encoderMeanMs: Double
            let decoderMeanMs: Double
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let times = try decoder.decode(Times.self, from: Data(r.out.utf8))
        return (times.encoderMeanMs, times.decoderMeanMs)
    }

    /// `hat latency measure` through `command` must fail; its output (stderr and stdout).
    func failingMeasure(_ f: Fixture, command: String) throws -> String {
        let r = try HATBinary.runMerged([
            "latency", "measure", f.yaml, "--command", command, "--command-output", "encoder-decoder", "--command-timeout", "300",
        ])
        #expect(r.status != 0, "expected a failure: \(r.output)")
        return r.output
    }

    @Test(
        "onnxruntime (CPU provider): hat latency measure gets positive finite encoder and decoder times",
        .enabled(if: onnxruntimeReady, "needs the hat binary and onnxruntime in the oracle Python (scripts/setup.sh)"))
    func onnxruntimeMeasures() throws {
        let f = try Fixture()
        defer { f.remove() }
        let m = try measure(f, command: Self.command("onnxruntime_measure.sh", "EP=cpu THREADS=1"))
        #expect(m.encoder.isFinite && m.encoder > 0 && m.decoder.isFinite && m.decoder > 0, "\(m)")
    }

    @Test(
        "onnxruntime with encoder-decoder-memory: the model's weights as the graphs hold them and a positive peak",
        .enabled(if: onnxruntimeReady, "needs the hat binary and onnxruntime in the oracle Python (scripts/setup.sh)"))
    func onnxruntimeMemory() throws {
        let f = try Fixture()
        defer { f.remove() }
        let r = try HATBinary.run([
            "latency", "measure", f.yaml, "--command", Self.command("onnxruntime_measure.sh", "EP=cpu THREADS=1"),
            "--command-output", "encoder-decoder-memory", "--command-timeout", "300", "--json",
        ])
        try #require(r.status == 0, "hat latency measure failed: \(r.err)")
        struct Measured: Decodable {
            struct Memory: Decodable {
                let modelMb: Double
                let peakMb: Double
            }
            let memory: Memory
        }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        let memory = try decoder.decode(Measured.self, from: Data(r.out.utf8)).memory
        // hat profile's float32 size of the SubTransformer; the two graphs hold all of it, the
        // shared embedding in both, and each a table of 1,024 sinusoidal positions.
        let profile = try HATBinary.run(["profile", f.yaml, "--space", Self.space, "--vocab", "64", "--json"])
        try #require(profile.status == 0, "\(profile.err)")
        struct Profiled: Decodable {
            struct Profile: Decodable {
                let modelSizeMb: Double
                let embeddingParameters: Int
            }
            let profile: Profile
        }
        let p = try decoder.decode(Profiled.self, from: Data(profile.out.utf8)).profile
        let positions = 2 * 1024 * 192 * 4 / 1e6
        let expected = p.modelSizeMb + Double(p.embeddingParameters * 4) / 1e6 + positions
        #expect(abs(memory.modelMb - expected) < 0.01 * expected, "onnx weights \(memory.modelMb) MB, expected \(expected) MB")
        #expect(memory.peakMb > 0 && memory.peakMb.isFinite, "\(memory)")
    }

    @Test(
        "PyTorch (CPU): hat latency measure gets positive finite encoder and decoder times",
        .enabled(if: torchReady, "needs the hat binary and PyTorch in the oracle Python (scripts/setup.sh)"))
    func torchMeasures() throws {
        let f = try Fixture()
        defer { f.remove() }
        let m = try measure(f, command: Self.command("torch_measure.sh", "DEVICE=cpu THREADS=1"))
        #expect(m.encoder.isFinite && m.encoder > 0 && m.decoder.isFinite && m.decoder > 0, "\(m)")
    }

    @Test(
        "EP=cuda without onnxruntime's CUDA provider: hat names the measurer and the provider, and appends no row",
        .enabled(
            if: onnxruntimeReady && onnxruntimeProviders?.contains("CUDAExecutionProvider") == false,
            "needs the hat binary and an onnxruntime without CUDA in the oracle Python"))
    func missingProviderIsAnError() throws {
        let f = try Fixture()
        defer { f.remove() }
        // A dataset with one row measured on the CPU provider; the run on CUDA must leave it as it is.
        let csv = f.folder.appendingPathComponent("ort.csv").path
        func dataset(_ count: Int, _ settings: String, extra: [String] = []) throws -> (status: Int32, output: String) {
            try HATBinary.runMerged(
                [
                    "latency", "dataset", "--space", Self.space, "--vocab", "64", "--count", "\(count)", "--seed", "3", "--out", csv,
                    "--length", "6", "--beam", "2", "--iterations", "3", "--warmup", "1", "--threads", "1",
                    "--command", Self.command("onnxruntime_measure.sh", settings), "--command-output", "encoder-decoder", "--command-timeout", "300",
                ] + extra)
        }
        let first = try dataset(1, "EP=cpu THREADS=1")
        try #require(first.status == 0, "\(first.output)")
        let before = try Data(contentsOf: URL(fileURLWithPath: csv))
        #expect(try LatencyDataset(contentsOf: csv).rows.count == 1)
        // Another EP is another method (the provenance records the command): allowed here on
        // purpose, so that the measurer itself is what refuses.
        let r = try dataset(2, "EP=cuda THREADS=1", extra: ["--allow-mixed-settings"])
        #expect(r.status != 0, "EP=cuda must fail without CUDA: \(r.output)")
        for fragment in ["measurers/onnxruntime_measure.sh", "exited with status 2", "CUDAExecutionProvider is not available", "CPUExecutionProvider"] {
            #expect(r.output.contains(fragment), "'\(fragment)' missing from: \(r.output)")
        }
        #expect(try Data(contentsOf: URL(fileURLWithPath: csv)) == before, "the failed run appended to the dataset")
    }

    @Test(
        "an execution provider onnxruntime does not know is an error listing the ones it does",
        .enabled(if: onnxruntimeReady, "needs the hat binary and onnxruntime in the oracle Python (scripts/setup.sh)"))
    func unknownProviderIsAnError() throws {
        let f = try Fixture()
        defer { f.remove() }
        let output = try failingMeasure(f, command: Self.command("onnxruntime_measure.sh", "EP=npu"))
        for fragment in ["measurers/onnxruntime_measure.sh", "exited with status 2", "'npu' is not one of: cpu, cuda, coreml, openvino, qnn"] {
            #expect(output.contains(fragment), "'\(fragment)' missing from: \(output)")
        }
    }

    @Test(
        "DEVICE=cuda without a GPU: hat names the PyTorch measurer and the device",
        .enabled(if: HATBinary.isAvailable && torchHasCUDA == false, "needs the hat binary and PyTorch without a usable GPU"))
    func missingGPUIsAnError() throws {
        let f = try Fixture()
        defer { f.remove() }
        let output = try failingMeasure(f, command: Self.command("torch_measure.sh", "DEVICE=cuda"))
        for fragment in ["measurers/torch_measure.sh", "exited with status 2", "device 'cuda' (HAT's --latgpu) is not available"] {
            #expect(output.contains(fragment), "'\(fragment)' missing from: \(output)")
        }
    }
}
