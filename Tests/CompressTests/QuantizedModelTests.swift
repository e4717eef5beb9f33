import CKernels
import Foundation
import Model
import TensorEngine
import TestSupport
import Testing
import Train

@testable import Compress

/// Quantized SubTransformers: the packed format, the codebook kernels, and whole models against
/// PyTorch running the same file expanded by numpy (Tests/Oracle/quantized_model_oracle.py).
@Suite("Quantized models")
struct QuantizedModelTests {
    @Test("indices packed at 1 to 8 bits unpack to themselves, and the kernels' layout reads them back")
    func packingRoundTrips() {
        var rng = RandomGenerator(seed: 11)
        for bits in 1...8 {
            for (rows, columns) in [(1, 1), (3, 7), (5, 33), (4, 64), (2, 100), (3, 200)] {
                let assignments = (0..<(rows * columns)).map { _ in UInt8(rng.nextInt(1 << bits)) }
                let packed = QuantizedMatrix.pack(assignments, rows: rows, columns: columns, bits: bits)
                #expect(packed.count == rows * ((columns * bits + 7) / 8))
                #expect(QuantizedMatrix.unpack(packed, rows: rows, columns: columns, bits: bits) == assignments, "\(bits) bits, \(rows)×\(columns)")
                let codebooks = (0..<(((rows + 1) / 2) << bits)).map { _ in rng.normal() }
                let q = QuantizedMatrix(rows: rows, columns: columns, bits: bits, groupRows: 2, codebooks: codebooks, assignments: assignments)
                #expect(q.assignments() == assignments && q.packedIndices() == packed)
                let expected = (0..<(rows * columns)).map { i in codebooks[((i / columns / 2) << bits) + Int(assignments[i])] }
                #expect(q.dequantized() == expected, "\(bits) bits, \(rows)×\(columns): decoded weights")
                // Every instruction set's decoder, on the rows after the first and all but the last column.
                for isa in [KernelISA.portable, .avx2, .avx512] where isa <= KernelISA.current && rows > 1 && columns > 1 {
                    var decoded = [Float](repeating: .nan, count: (rows - 1) * columns)
                    decoded.withUnsafeMutableBufferPointer {
                        q.decodeRows(1..<rows, columns: columns - 1, into: $0.baseAddress!, rowStride: columns, isa: isa)
                    }
                    for r in 1..<rows {
                        let row = Array(decoded[((r - 1) * columns)..<((r - 1) * columns + columns - 1)])
                        #expect(row == Array(expected[(r * columns)..<(r * columns + columns - 1)]), "\(isa), \(bits) bits, row \(r)")
                        #expect(decoded[(r - 1) * columns + columns - 1].isNaN, "\(isa), \(bits) bits: wrote past the columns asked")
                    }
                }
            }
        }
    }

    @Test("codebook kernels (every instruction set here) equal the product with the decoded weights")
    func kernelsMatchDecodedProduct() {
        var rng = RandomGenerator(seed: 5)
        let isas = [KernelISA.portable, .avx2, .avx512].filter { $0 <= KernelISA.current }
        var checked = 0
        for bits in [2, 4, 5, 8] {
            for (m, n, k, groupRows) in [(1, 7, 31, 7), (5, 9, 64, 3), (6, 4, 45, 2), (9, 5, 100, 9), (3, 3, 1, 1), (33, 6, 70, 4), (13, 8, 200, 8)] {
                let rows = n + 3  // the product reads rows 2..<2+n, as an attention block does
                let columns = k + 5  // and the first k columns of wider rows, as a corner does
                let groups = (rows + groupRows - 1) / groupRows
                let q = QuantizedMatrix(
                    rows: rows, columns: columns, bits: bits, groupRows: groupRows, codebooks: (0..<(groups << bits)).map { _ in rng.normal() },
                    assignments: (0..<(rows * columns)).map { _ in UInt8(rng.nextInt(1 << bits)) })
                let w = q.dequantized()
                let a = (0..<(m * k)).map { _ in rng.normal() }
                let c0 = (0..<(m * n)).map { _ in rng.normal() }
                for beta: Float in [0, 1] {
                    var expected = [Double](repeating: 0, count: m * n)
                    for i in 0..<m {
                        for j in 0..<n {
                            var s = Double(beta) * Double(c0[i * n + j])
                            for p in 0..<k { s += Double(a[i * k + p]) * Double(w[(2 + j) * columns + p]) }
                            expected[i * n + j] = s
                        }
                    }
                    // At 8 bits AVX-512 looks centroids up in byte planes (VBMI) or gathers them: both.
                    for isa in isas {
                        for byteLookups in isa == .avx512 && bits > 4 ? [true, false] : [true] {
                            var c = c0
                            a.withUnsafeBufferPointer { ap in
                                c.withUnsafeMutableBufferPointer { cp in
                                    q.multiplyTransposed(
                                        m: m, k: k, a: ap.baseAddress!, lda: k, rows: 2..<(2 + n), beta: beta, c: cp.baseAddress!, ldc: n,
                                        isa: isa, byteLookups: byteLookups)
                                }
                            }
                            let worst = zip(c, expected).map { abs(Double($0) - $1) / max(1, abs($1)) }.max()!
                            #expect(
                                worst <= 1e-5, "\(isa) (byte lookups \(byteLookups)), \(bits) bits, m \(m) n \(n) k \(k), beta \(beta): error \(worst)")
                            checked += 1
                        }
                    }
                }
            }
        }
        #expect(checked >= 48)
    }

    @Test("linear on quantized weights: output, input gradient and bias gradient equal linear on the decoded weights", arguments: [5, 40])
    func quantizedLinearMatchesFloat(_ rows: Int) {
        var rng = RandomGenerator(seed: UInt64(rows))
        let (n, k) = (70, 90)
        let matrix = QuantizedMatrix(
            rows: n + 10, columns: k + 6, bits: 4, groupRows: 16, codebooks: (0..<(5 << 4)).map { _ in 0.1 * rng.normal() },
            assignments: (0..<((n + 10) * (k + 6))).map { _ in UInt8(rng.nextInt(16)) })
        let stored = Tensor.zeros([n + 10, k + 6])
        stored.storage.replaceWithQuantized(matrix, rowStride: k + 6)
        let decoded = Tensor(matrix.dequantized(), shape: [n + 10, k + 6])
        let x = Tensor.randn([rows, k], rng: &rng)
        let r = Tensor.randn([rows, n], rng: &rng)
        let b = Tensor.randn([n], rng: &rng)
        var results: [[Float]] = []
        for weight in [stored, decoded] {
            let xi = Tensor(x.toArray(), shape: x.shape).requiringGrad()
            let bias = Tensor(b.toArray(), shape: [n]).requiringGrad()
            // Rows 10..<10+n and the first k columns: a window like an attention block's.
            let y = linear(xi, weight: weight.narrow(0, start: 10, length: n).narrow(1, start: 0, length: k), bias: bias)
            (y * r).sum().backward()
            results.append(y.toArray() + xi.grad!.toArray() + bias.grad!.toArray())
        }
        for (part, range) in [
            ("output", 0..<(rows * n)), ("input gradient", (rows * n)..<(rows * n + rows * k)), ("bias gradient", (rows * n + rows * k)..<results[0].count),
        ] {
            let error = relativeError(Array(results[0][range]), Array(results[1][range]))
            #expect(error <= 1e-5, "\(rows) rows, \(part): relative error \(error)")
        }
    }

    static let spaces = ["wmt14.en-de__space0.yml", "iwslt14.de-en__space1.yml"]

    @Test("a quantized SubTransformer's logits equal PyTorch's on the weights numpy expands from the file", arguments: spaces)
    func logitsMatchPyTorch(_ spaceName: String) throws {
        let space = try SearchSpace(contentsOf: sharedDataDirectory.appendingPathComponent("hat-configs/\(spaceName)").path)
        var rng = RandomGenerator(seed: 21)
        let config = space.sample(rng: &rng)
        let (vs, vt) = space.shareAllEmbeddings ? (96, 96) : (80, 72)
        let model = SuperTransformer(space: space, sourceVocabSize: vs, targetVocabSize: vt, rates: .none, rng: &rng)
        for (name, p) in model.namedParameters() where name.hasSuffix("bias") || name.contains("layer_norm") {
            for i in 0..<p.count { p.storage.data[i] += 0.05 * rng.normal() }
        }
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        // 4 bits with a codebook per 8 rows: the nibble kernels, and group boundaries inside the
        // attention projections' row blocks.
        let (parameters, _) = ModelQuantizer.quantize(model, config: config, settings: QuantizationSettings(bits: 4, groupRows: 8))
        let quantizedFile = dir.appendingPathComponent("q.safetensors")
        let state = CheckpointState.start(
            space: space, subTransformer: config, training: TrainingConfig(), sourceVocabSize: vs, targetVocabSize: vt, data: nil)
        try QuantizedCheckpoint.save(to: quantizedFile, parameters: parameters, state: state)

        // Encoder rows 2 × 20 = 40 (panels decoded for the float32 GEMM), decoder rows 2 × 6 = 12
        // (the codebook kernels).
        let (b, s, t) = (2, 20, 6)
        var src = (0..<(b * s)).map { _ in Int32(4 + rng.nextInt(vs - 4)) }
        src[s - 1] = 2
        src[s + 14] = 2
        for j in (s + 15)..<(2 * s) { src[j] = 1 }
        var prev = (0..<(b * t)).map { _ in Int32(4 + rng.nextInt(vt - 4)) }
        prev[0] = 2
        prev[t] = 2
        var template = SafeTensorsFile(metadata: ["config": try oracleConfig(space: space, config: config)])
        for (name, p) in model.namedParameters() { try template.add(name, floats: [Float](repeating: 0, count: p.count), shape: p.shape) }
        try template.add("src_tokens", int64s: src.map(Int64.init), shape: [b, s])
        try template.add("prev_output_tokens", int64s: prev.map(Int64.init), shape: [b, t])
        try template.add("target", int64s: prev.map(Int64.init), shape: [b, t])
        let templateFile = dir.appendingPathComponent("template.safetensors"), output = dir.appendingPathComponent("out.safetensors")
        try template.write(to: templateFile)
        try Oracle.run("quantized_model_oracle.py", [quantizedFile.path, templateFile.path, output.path])
        let expected = try SafeTensorsFile.read(from: output).tensorValue("logits").toArray()

        let (quantized, loadedState) = try Checkpoint.loadModel(path: quantizedFile.path, allowQuantized: true)
        #expect(quantized.isQuantized && loadedState.subTransformer == config)
        let logits = withNoGrad {
            quantized(
                source: TokenBatch(tokens: src, batchSize: b, length: s), previousOutput: TokenBatch(tokens: prev, batchSize: b, length: t),
                config: config, context: .evaluation())
        }.toArray()
        let error = relativeError(logits, expected)
        #expect(error <= 1e-4, "\(spaceName): logits relative error \(error)")
        // And the file is what a float32 checkpoint would not be: about bits/32 of the weights.
        let floatBytes = parameters.reduce(0) { $0 + $1.shape.reduce(1, *) * 4 }
        let fileBytes = try FileManager.default.attributesOfItem(atPath: quantizedFile.path)[.size] as! Int
        #expect(Double(fileBytes) < 0.2 * Double(floatBytes), "\(fileBytes) bytes for \(floatBytes) bytes of float32 weights")
        print("quantized parity \(spaceName): logits \(error), file \(fileBytes) bytes vs \(floatBytes) float32, config \(config)")
    }

    @Test("the profiler's quantized model size is the bytes of the tensors hat quantize writes", arguments: [2, 4, 8])
    func profilerCountsQuantizedBytes(_ bits: Int) throws {
        let space = try SearchSpace(contentsOf: sharedDataDirectory.appendingPathComponent("hat-configs/iwslt14.de-en__space1.yml").path)
        var rng = RandomGenerator(seed: UInt64(bits))
        let config = space.sample(rng: &rng)
        let model = SuperTransformer(space: space, sourceVocabSize: 60, targetVocabSize: 50, rng: &rng)
        let (parameters, _) = ModelQuantizer.quantize(model, config: config, settings: QuantizationSettings(bits: bits, maxIterations: 2))
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("q.safetensors")
        let state = CheckpointState.start(
            space: space, subTransformer: config, training: TrainingConfig(), sourceVocabSize: 60, targetVocabSize: 50, data: nil)
        try QuantizedCheckpoint.save(to: url, parameters: parameters, state: state)
        let file = try SafeTensorsFile.read(from: url)
        let tensorBytes = file.names.reduce(0) { $0 + file[$1]!.bytes.count }
        var profiler = Profiler(space: space, sourceVocabSize: 60, targetVocabSize: 50)
        profiler.weightBits = bits
        #expect(profiler.weightBytes(config) == tensorBytes, "\(bits) bits: profiler \(profiler.weightBytes(config)), file tensors \(tensorBytes)")
        #expect(profiler.profile(config).modelSizeMB == Double(tensorBytes) / 1e6)
        profiler.weightBits = nil
        #expect(profiler.weightBytes(config) > 3 * tensorBytes)
    }

    @Test("a SubTransformer reads only its used corners: NaN everywhere else leaves its logits unchanged", arguments: spaces)
    func usedCornersAreAllItReads(_ spaceName: String) throws {
        let space = try SearchSpace(contentsOf: sharedDataDirectory.appendingPathComponent("hat-configs/\(spaceName)").path)
        var rng = RandomGenerator(seed: 8)
        for _ in 0..<3 {
            let config = space.sample(rng: &rng)
            let (vs, vt) = space.shareAllEmbeddings ? (50, 50) : (40, 36)
            let model = SuperTransformer(space: space, sourceVocabSize: vs, targetVocabSize: vt, rates: .none, rng: &rng)
            let source = TokenBatch(tokens: [5, 9, 7, 2, 6, 8, 2, 1], batchSize: 2, length: 4)
            let previous = TokenBatch(tokens: [2, 11, 4, 2, 13, 1], batchSize: 2, length: 3)
            let run = { withNoGrad { model(source: source, previousOutput: previous, config: config, context: .evaluation()).toArray() } }
            let before = run()
            let used = Dictionary(uniqueKeysWithValues: model.usedCorners(of: config).map { ($0.name, $0.shape) })
            for (name, p) in model.namedParameters() {
                let shape = used[name] ?? p.shape.map { _ in 0 }
                let width = p.rank == 2 ? p.shape[1] : p.count
                for i in 0..<p.count {
                    let (r, c) = p.rank == 2 ? i.quotientAndRemainder(dividingBy: width) : (0, i)
                    let inside = p.rank == 2 ? r < shape[0] && c < shape[1] : c < shape[0]
                    if !inside { p.storage.data[i] = .nan }
                }
            }
            #expect(run() == before, "\(config)")
        }
    }
}

/// subtransformer_oracle.py's config JSON.
func oracleConfig(space: SearchSpace, config c: SubTransformerConfig) throws -> String {
    let json: [String: Any] = [
        "encoder_embed_dim_super": space.encoderEmbedDim, "decoder_embed_dim_super": space.decoderEmbedDim,
        "qkv_dim": space.qkvDim, "share_all_embeddings": space.shareAllEmbeddings, "padding_idx": 1, "label_smoothing": 0.1,
        "sub": [
            "encoder_embed_dim": c.encoderEmbedDim, "decoder_embed_dim": c.decoderEmbedDim,
            "encoder_layer_num": c.encoderLayerNum, "decoder_layer_num": c.decoderLayerNum,
            "encoder_ffn_embed_dim": c.encoderFFNDims, "decoder_ffn_embed_dim": c.decoderFFNDims,
            "encoder_self_attention_heads": c.encoderSelfAttentionHeads, "decoder_self_attention_heads": c.decoderSelfAttentionHeads,
            "decoder_ende_attention_heads": c.decoderCrossAttentionHeads, "decoder_arbitrary_ende_attn": c.decoderArbitraryAttention,
        ] as [String: Any],
    ]
    return String(decoding: try JSONSerialization.data(withJSONObject: json, options: [.sortedKeys]), as: UTF8.self)
}

/// Damaged quantized files are refused with the file and the tensor named; nothing traps.
@Suite("Quantized checkpoint errors")
struct QuantizedCheckpointErrorTests {
    /// A small quantized SubTransformer's file contents (built-in tiny space, 3 bits).
    static func validFile() throws -> SafeTensorsFile {
        let space = try SearchSpace(contentsOf: Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path)
        var rng = RandomGenerator(seed: 4)
        let config = space.sample(rng: &rng)
        let model = SuperTransformer(space: space, sourceVocabSize: 40, targetVocabSize: 40, rng: &rng)
        let (parameters, _) = ModelQuantizer.quantize(model, config: config, settings: QuantizationSettings(bits: 3))
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("q.safetensors")
        let state = CheckpointState.start(
            space: space, subTransformer: config, training: TrainingConfig(), sourceVocabSize: 40, targetVocabSize: 40, data: nil)
        try QuantizedCheckpoint.save(to: url, parameters: parameters, state: state)
        return try SafeTensorsFile.read(from: url)
    }

    static func error(_ file: SafeTensorsFile) -> String? {
        do {
            _ = try QuantizedCheckpoint.loadModel(file, path: "q.safetensors")
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("each damage is refused, naming the file and what is wrong")
    func damagedFilesAreRefused() throws {
        let valid = try Self.validFile()
        #expect(Self.error(valid) == nil)
        let matrix = try #require(valid.names.first { $0.hasSuffix(".indices") }).dropLast(".indices".count)
        let vector = try #require(valid.names.first { $0.hasSuffix(".bias") })
        let header = try JSONSerialization.jsonObject(with: Data(valid.metadata["quantization"]!.utf8)) as! [String: Any]
        let tensors = header["tensors"] as! [String: [String: Any]]
        let name = String(matrix.dropFirst("model.".count))

        func damaged(_ change: (inout SafeTensorsFile) throws -> Void) rethrows -> SafeTensorsFile {
            var f = valid
            try change(&f)
            return f
        }
        func withHeader(_ edit: (inout [String: [String: Any]]) -> Void) throws -> SafeTensorsFile {
            var t = tensors
            edit(&t)
            var h = header
            h["tensors"] = t
            return damaged { $0.metadata["quantization"] = String(decoding: try! JSONSerialization.data(withJSONObject: h), as: UTF8.self) }
        }
        let indices = valid["\(matrix).indices"]!, codebook = valid["\(matrix).codebook"]!
        let cases: [(String, SafeTensorsFile, [String])] = [
            (
                "NaN centroid",
                try damaged {
                    var values = try codebook.floats()
                    values[1] = .nan
                    try $0.add(codebook.name, floats: values, shape: codebook.shape)
                }, ["q.safetensors", name, "codebook is not finite"]
            ),
            (
                "indices of the wrong shape",
                try damaged { $0.add(try SafeTensorsEntry(name: indices.name, dtype: .U8, shape: [1, indices.bytes.count], bytes: indices.bytes)) },
                [name, "indices are U8 [1,"]
            ),
            ("nine bits", try withHeader { $0[name]!["bits"] = 9 }, [name, "9 bits per index"]),
            ("codebook missing", damaged { $0.remove(codebook.name) }, [name, "codebook is missing"]),
            ("float tensor missing", damaged { $0.remove(vector) }, ["\(vector) is missing"]),
            ("metadata not JSON", damaged { $0.metadata["quantization"] = "{oops" }, ["metadata 'quantization'"]),
            ("a stray tensor", try withHeader { $0["encoder.layers.99.fc1.weight"] = $0[name] }, ["encoder.layers.99.fc1.weight", "not a parameter"]),
            ("not quantized", damaged { $0.metadata["format"] = "hat-checkpoint-v1" }, ["not a quantized hat checkpoint"]),
        ]
        for (label, file, phrases) in cases {
            let message = try #require(Self.error(file), "\(label): accepted")
            for phrase in phrases { #expect(message.contains(phrase), "\(label): \(message)") }
        }
    }

    @Test("training, averaging and search refuse a quantized checkpoint and say why")
    func trainingRefusesQuantized() throws {
        let valid = try Self.validFile()
        #expect(throws: TrainingError.self) { try Checkpoint.readState(valid, path: "q.safetensors") }
        do {
            _ = try Checkpoint.readState(valid, path: "q.safetensors")
        } catch {
            #expect("\(error)".contains("quantized checkpoint (hat quantize)") && "\(error)".contains("float32 checkpoint it was made from"))
        }
        #expect(try Checkpoint.readState(valid, path: "q.safetensors", allowQuantized: true).subTransformer != nil)
    }
}
