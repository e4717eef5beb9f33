import Compress
import Foundation
import Generate
import TensorEngine
import TestSupport
import Testing
import Train

@testable import Export
@testable import Model

/// `hat export` against onnxruntime (Tests/Oracle/onnx_oracle.py): the exported encoder, decoder
/// and decoder-step graphs pass onnx's full checker and give the logits of our engine (whose own
/// parity with PyTorch is SubTransformerParityTests) and the log-probabilities of its
/// incremental decoder, step by step.
@Suite("ONNX export against onnxruntime")
struct ONNXExportTests {
    struct Case: Sendable, CustomStringConvertible {
        let space: String
        let seed: UInt64
        /// K-means-quantized (hat quantize) at these bits, a codebook per `groupRows` rows.
        var bits: Int? = nil
        var groupRows: Int? = nil
        var description: String { "\(space) seed \(seed)" + (bits.map { ", \($0)-bit" } ?? "") + (groupRows.map { " per \($0) rows" } ?? "") }
    }

    /// HAT's two spaces (space0 shares one table, space1 has two) and the Multi30k CPU space,
    /// seeds whose subnets use arbitrary attention 1 and 2 and mixed head counts.
    static let cases: [Case] = [
        Case(space: "wmt14.en-de__space0.yml", seed: 1), Case(space: "wmt14.en-de__space0.yml", seed: 3),
        Case(space: "iwslt14.de-en__space1.yml", seed: 4), Case(space: "iwslt14.de-en__space1.yml", seed: 6),
        Case(space: "multi30k_cpu_space.yml", seed: 7),
        // Quantized weights stay quantized in the graphs (uint8 indices, Gather from the codebook).
        Case(space: "iwslt14.de-en__space1.yml", seed: 4, bits: 4), Case(space: "multi30k_cpu_space.yml", seed: 7, bits: 8, groupRows: 100),
    ]

    static func space(_ name: String) throws -> SearchSpace {
        let path =
            name.hasPrefix("multi30k")
            ? Oracle.repoRoot.appendingPathComponent("configs/\(name)").path
            : sharedDataDirectory.appendingPathComponent("hat-configs/\(name)").path
        return try SearchSpace(contentsOf: path)
    }

    @Test("the protobuf writer encodes the specification's examples")
    func protobufWireFormat() {
        // https://protobuf.dev/programming-guides/encoding/: field 1 = 150 is 08 96 01; field 2 =
        // "testing" is 12 07 74 65 73 74 69 6e 67; int64 -1 is ten bytes ending in 01.
        var w = ProtobufWriter()
        w.int(1, 150)
        #expect(w.bytes == [0x08, 0x96, 0x01])
        w = ProtobufWriter()
        w.string(2, "testing")
        #expect(w.bytes == [0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6E, 0x67])
        w = ProtobufWriter()
        w.int(3, -1)
        #expect(w.bytes == [0x18] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        w = ProtobufWriter()
        w.float(2, 1)
        #expect(w.bytes == [0x15, 0x00, 0x00, 0x80, 0x3F])
    }

    @Test("exported encoder and decoder give our engine's logits in onnxruntime", arguments: cases)
    func logitsMatchOnnxRuntime(_ c: Case) throws {
        let space = try Self.space(c.space)
        var rng = RandomGenerator(seed: c.seed)
        let config = space.sample(rng: &rng)
        let (vs, vt) = space.shareAllEmbeddings ? (96, 96) : (80, 72)
        let model = SuperTransformer(space: space, sourceVocabSize: vs, targetVocabSize: vt, rates: .none, maxPositions: 64, rng: &rng)
        // Biases and LayerNorm parameters start at 0 and 1: perturb them so a misplaced one shows.
        for (name, p) in model.namedParameters() where name.hasSuffix("bias") || name.contains("layer_norm") {
            for i in 0..<p.count { p.storage.data[i] += 0.05 * rng.normal() }
        }
        if let bits = c.bits {
            let settings = QuantizationSettings(bits: bits, groupRows: c.groupRows, maxIterations: 5)
            QuantizedCheckpoint.install(ModelQuantizer.quantize(model, config: config, settings: settings).parameters, into: model)
        }
        // Two sentences, the second right-padded (pad 1, eos 2), as fairseq batches them.
        let (b, s, t) = (2, 7, 6)
        var src = (0..<(b * s)).map { _ in Int32(4 + rng.nextInt(vs - 4)) }
        src[s - 1] = 2
        src[s + 4] = 2
        src[s + 5] = 1
        src[s + 6] = 1
        var prev = (0..<(b * t)).map { _ in Int32(4 + rng.nextInt(vt - 4)) }
        prev[0] = 2
        prev[t] = 2
        prev[t + 4] = 1
        prev[t + 5] = 1

        let exporter = SubTransformerExporter(model: model, config: config)
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let encoderFile = dir.appendingPathComponent("encoder.onnx"), decoderFile = dir.appendingPathComponent("decoder.onnx")
        try Data(ONNX.serialize(exporter.encoderGraph(), producerVersion: "test")).write(to: encoderFile)
        try Data(ONNX.serialize(exporter.decoderGraph(), producerVersion: "test")).write(to: decoderFile)
        let stepFile = dir.appendingPathComponent("decoder_step.onnx")
        try Data(ONNX.serialize(exporter.decoderStepGraph(), producerVersion: "test")).write(to: stepFile)
        var file = SafeTensorsFile()
        try file.add("src_tokens", int64s: src.map(Int64.init), shape: [b, s])
        try file.add("prev_output_tokens", int64s: prev.map(Int64.init), shape: [b, t])
        let input = dir.appendingPathComponent("in.safetensors"), output = dir.appendingPathComponent("out.safetensors")
        try file.write(to: input)
        try Oracle.run("onnx_oracle.py", [encoderFile.path, decoderFile.path, input.path, output.path, stepFile.path])
        let expected = try SafeTensorsFile.read(from: output)

        let source = TokenBatch(tokens: src, batchSize: b, length: s)
        let encoded = model.encode(source, config: config, context: .evaluation())
        for (name, ours) in zip(exporter.encoderOutputNames, encoded.layerOutputs.suffix(exporter.encoderOutputNames.count)) {
            let error = relativeError(ours.toArray(), try expected.tensorValue(name).toArray())
            #expect(error <= 1e-4, "\(c): \(name) relative error \(error)")
        }
        let logits = model.decode(
            TokenBatch(tokens: prev, batchSize: b, length: t), encoderOutput: encoded, config: config,
            context: .evaluation())
        let theirs = try expected.tensorValue("logits")
        #expect(theirs.shape == [b, t, vt])
        let error = relativeError(logits.toArray(), theirs.toArray())
        #expect(error <= 1e-4, "\(c): logits relative error \(error)")
        #expect(expected.metadata["opset"] == "17")

        // Step by step with cached states, teacher-forced on the same prefix: our IncrementalDecoder.
        let decoder = IncrementalDecoder(model: model, config: config, encoderOutput: encoded, rowsPerSentence: 1, maxLength: t)
        let steps = (0..<t).map { j in decoder.step((0..<b).map { prev[$0 * t + j] }).toArray() }
        let ours = (0..<b).flatMap { row in (0..<t).flatMap { j in steps[j][(row * vt)..<((row + 1) * vt)] } }  // [B, T, V]
        let stepError = relativeError(ours, try expected.tensorValue("step_log_probs").toArray())
        #expect(stepError <= 1e-4, "\(c): step log-probabilities relative error \(stepError)")
        print("onnx export \(c): logits relative error \(error), step log-probs \(stepError), config \(config)")
    }
}

/// The export folder is written whole: a new export replaces an earlier one (no old graph survives
/// beside new ones), and a folder holding anything else is refused untouched.
@Suite("Export folder")
struct ExportFolderTests {
    @Test("an earlier export is replaced as a whole; a folder with a user's file is refused and left as it was")
    func replacesOnlyExports() throws {
        let space = try ONNXExportTests.space("multi30k_cpu_space.yml")
        var rng = RandomGenerator(seed: 2)
        let model = SuperTransformer(space: space, sourceVocabSize: 40, targetVocabSize: 40, rates: .none, maxPositions: 32, rng: &rng)
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let folder = root.appendingPathComponent("onnx")
        let spm = root.appendingPathComponent("spm.model")
        try Data("not really a model".utf8).write(to: spm)
        try ExportFolder.write(model: model, config: space.largest, vocabulary: .sentencePiece(spm), source: "test", to: folder)
        let first = try Data(contentsOf: folder.appendingPathComponent("decoder_step.onnx"))
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("spm.model").path))
        // Again, another SubTransformer and no vocabulary: the old spm.model and graphs are gone.
        try ExportFolder.write(model: model, config: space.smallest, vocabulary: nil, source: "test", to: folder)
        #expect(!FileManager.default.fileExists(atPath: folder.appendingPathComponent("spm.model").path))
        #expect(try Data(contentsOf: folder.appendingPathComponent("decoder_step.onnx")) != first)
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("export.json"))) as! [String: Any]
        #expect(Set(json["files"] as! [String]) == Set(try FileManager.default.contentsOfDirectory(atPath: folder.path)))
        // A user's file in it: refused, nothing changed, no temporary folder left beside it.
        try Data("mine".utf8).write(to: folder.appendingPathComponent("notes.txt"))
        let before = try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted()
        #expect { try ExportFolder.write(model: model, config: space.largest, vocabulary: nil, source: "test", to: folder) } throws: {
            "\($0)".contains("not an earlier export's")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).sorted() == before)
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() == ["onnx", "spm.model"])
    }
}
