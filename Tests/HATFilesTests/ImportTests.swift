import Datasets
import Foundation
import Generate
import Model
import Search
import TensorEngine
import TestSupport
import Testing
import Train

@testable import HATFiles

/// `hat import` end to end: a checkpoint written by torch.save is imported, our checkpoint is loaded
/// and run, and its logits are compared with PyTorch's from the .pt file itself
/// (Tests/Oracle/hat_checkpoint_logits_oracle.py).
@Suite("Importing HAT checkpoints")
struct ImportTests {
    static func sub(_ c: SubTransformerConfig) -> [String: Any] {
        [
            "encoder_embed_dim": c.encoderEmbedDim, "decoder_embed_dim": c.decoderEmbedDim, "encoder_layer_num": c.encoderLayerNum,
            "decoder_layer_num": c.decoderLayerNum, "encoder_ffn_embed_dim": c.encoderFFNDims, "decoder_ffn_embed_dim": c.decoderFFNDims,
            "encoder_self_attention_heads": c.encoderSelfAttentionHeads, "decoder_self_attention_heads": c.decoderSelfAttentionHeads,
            "decoder_ende_attention_heads": c.decoderCrossAttentionHeads, "decoder_arbitrary_ende_attn": c.decoderArbitraryAttention,
        ]
    }

    /// Each SuperTransformer file: its largest and smallest SubTransformers and two random ones;
    /// a SubTransformer file: the one it was trained as.
    @Test(
        "imported checkpoints give PyTorch's logits (untied IWSLT-style, shared WMT-style, SubTransformer; fp32 and fp16)",
        arguments: ["super_zip_fp32.pt", "super_legacy_fp16.pt", "wmt_legacy_fp32.pt", "wmt_zip_fp32.pt", "sub_zip_fp16.pt", "sub_legacy_fp16.pt"])
    func logitsMatchPyTorch(_ name: String) throws {
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let importer = try HATCheckpointImporter(path: dir.appendingPathComponent(name).path)
        let files = try importer.writeFolder(out.appendingPathComponent("imported"))
        #expect(files.count == (name.hasPrefix("sub") ? 3 : 2))
        let (model, state) = try Checkpoint.loadModel(path: files[0].path)
        #expect(state.space.shareAllEmbeddings == name.hasPrefix("wmt"))
        #expect(state.space.hasSeparateOutputProjection == !name.hasPrefix("wmt"))
        // The files beside it read back as the same space and SubTransformer.
        let space = try SearchSpace(contentsOf: files[1].path)
        #expect(space == state.space)
        var subs: [SubTransformerConfig]
        if let trained = state.subTransformer {
            let fromFile = try SubTransformerConfig(
                contentsOf: files[2].path, superLayers: (space.encoderLayers, space.decoderLayers),
                qkvDim: space.qkvDim)
            #expect(fromFile == trained)
            #expect(trained.encoderEmbedDim == 12 && trained.decoderLayerNum == 1)
            subs = [trained]
        } else {
            var rng = RandomGenerator(seed: 3)
            subs = [space.largest, space.smallest, space.sample(rng: &rng), space.sample(rng: &rng)]
        }
        // Two sentences, the second padded.
        let source: [[Int32]] = [[5, 6, 7, 8, 2], [9, 10, 2, 1, 1]], previous: [[Int32]] = [[2, 5, 6, 7], [2, 8, 1, 1]]
        let request: [String: Any] = ["subs": subs.map(Self.sub), "src_tokens": source, "prev_output_tokens": previous]
        let requestFile = out.appendingPathComponent("request.json"), oracleFile = out.appendingPathComponent("oracle.safetensors")
        try JSONSerialization.data(withJSONObject: request).write(to: requestFile)
        try Oracle.run("hat_checkpoint_logits_oracle.py", [dir.appendingPathComponent(name).path, requestFile.path, oracleFile.path])
        let oracle = try SafeTensorsFile.read(from: oracleFile)
        for (i, sub) in subs.enumerated() {
            let logits = withNoGrad {
                model(
                    source: TokenBatch(tokens: source.flatMap { $0 }, batchSize: 2, length: 5),
                    previousOutput: TokenBatch(tokens: previous.flatMap { $0 }, batchSize: 2, length: 4),
                    config: sub, context: .evaluation()
                ).toArray()
            }
            let want = try oracle.tensor("logits/\(i)")
            #expect(want.shape == [2, 4, model.targetVocabSize])
            let reference = try want.floats()
            let worst = zip(logits, reference).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-4, "\(name), SubTransformer \(i) \(sub): max |ours − PyTorch| = \(worst)")
        }
    }

    @Test("--score-reference: each reference token's log-probability equals PyTorch's log-softmax of its logits")
    func scoreReferenceMatchesPyTorch() throws {
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let importer = try HATCheckpointImporter(path: dir.appendingPathComponent("sub_zip_fp16.pt").path)
        let files = try importer.writeFolder(
            out.appendingPathComponent("sub"),
            vocabulary: .init(
                dictionaries: dir.appendingPathComponent("dicts"), bpeCodes: nil, moses: true))
        let translator = try Translator.load(checkpoint: files[0].path, subTransformer: nil, data: nil, search: BeamSearch())
        let sources = ["Haus Mann", "Ein Hund und eine Katze ."], references = ["house man dog", "a dog and a child"]
        let scores = translator.scoreReferences(sources: sources, references: references)
        // The same ids, padded as fairseq pads them, through the PyTorch oracle.
        let src = sources.map(translator.source.encode), tgt = references.map(translator.target.encode)
        let s = src.map(\.count).max()!, t = tgt.map(\.count).max()!
        let padded = src.map { $0 + Array(repeating: 1, count: s - $0.count) }
        let previous = tgt.map { [2] + $0.dropLast() + Array(repeating: 1, count: t - $0.count) }
        let request: [String: Any] = [
            "subs": [ImportTests.sub(translator.config)], "src_tokens": padded.map { $0.map(Int.init) },
            "prev_output_tokens": previous.map { $0.map(Int.init) },
        ]
        try JSONSerialization.data(withJSONObject: request).write(to: out.appendingPathComponent("request.json"))
        try Oracle.run(
            "hat_checkpoint_logits_oracle.py",
            [
                dir.appendingPathComponent("sub_zip_fp16.pt").path,
                out.appendingPathComponent("request.json").path, out.appendingPathComponent("o.safetensors").path,
            ])
        let logits = try SafeTensorsFile.read(from: out.appendingPathComponent("o.safetensors")).tensor("logits/0").floats().map(Double.init)
        let v = logits.count / (2 * t)
        #expect(tgt[1].contains(3), "an unknown reference word is scored as <unk>")
        for (r, ids) in tgt.enumerated() {
            #expect(scores[r].count == ids.count)
            for (j, id) in ids.enumerated() {
                let row = logits[((r * t + j) * v)..<((r * t + j + 1) * v)]
                let top = row.max()!, lse = top + Foundation.log(row.map { Foundation.exp($0 - top) }.reduce(0, +))
                #expect(abs(scores[r][j] - (row[row.startIndex + Int(id)] - lse)) < 1e-4, "sentence \(r) token \(j)")
            }
        }
    }

    @Test(
        "args that do not match the weights, unknown or missing weights, no args: a clear error and nothing written",
        arguments: [
            ("mismatch_shape.pt", "encoder.layers.0.fc1.weight has shape [24, 16]; the args (embed 16/16, FFN 32/24, layers 2/2, qkv 16) give [32, 16]"),
            ("mismatch_unknown.pt", "parameters this model does not have: decoder.layers.0.adapter.weight"),
            ("mismatch_missing.pt", "decoder.layers.1.fc2.bias is missing"),
            ("no_args.pt", "has no 'args'"),
        ])
    func mismatchesAreRefused(_ name: String, _ phrase: String) throws {
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory().appendingPathComponent("imported")
        let error = #expect(throws: (any Error).self) {
            try HATCheckpointImporter(path: dir.appendingPathComponent(name).path).writeFolder(out)
        }
        #expect("\(error.map { "\($0)" } ?? "")".contains(phrase), "\(String(describing: error))")
        #expect(!FileManager.default.fileExists(atPath: out.path), "nothing is written")
    }

    @Test("an import never writes into a folder that holds files")
    func refusesFullFolder() throws {
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory()
        try Data("mine".utf8).write(to: out.appendingPathComponent("notes.txt"))
        #expect(throws: TorchCheckpointError.self) {
            try HATCheckpointImporter(path: dir.appendingPathComponent("wmt_zip_fp32.pt").path).writeFolder(out)
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: out.path) == ["notes.txt"])
    }
}

/// `hat import --dictionaries` and then `hat translate` on raw text, through the built binary.
@Suite("hat import and translate from the command line")
struct ImportCommandTests {
    @Test("an imported SubTransformer with its dictionaries translates raw text into its target words")
    func importThenTranslate() throws {
        guard HATBinary.isAvailable else {
            Issue.record("the hat binary is not built")
            return
        }
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory().appendingPathComponent("sub")
        let imported = try HATBinary.runMerged([
            "import", dir.appendingPathComponent("sub_zip_fp16.pt").path, "--out", out.path,
            "--dictionaries", dir.appendingPathComponent("dicts").path,
        ])
        #expect(imported.status == 0, "\(imported.output)")
        #expect(imported.output.contains("SubTransformer"))
        for file in ["checkpoint.safetensors", "space.yml", "subtransformer.yml", "dict.de.txt", "dict.en.txt", "vocabulary.json"] {
            #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(file).path), "\(file)")
        }
        let translated = try HATBinary.run(
            [
                "translate", "--checkpoint", out.appendingPathComponent("checkpoint.safetensors").path,
                "--beam", "2", "--max-len-b", "4",
            ], input: "Haus Mann\nEin Hund und eine Katze.\n")
        #expect(translated.status == 0, "\(translated.err)")
        let lines = translated.out.split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        #expect(lines.count == 2, "one translation per input line: \(translated.out)")
        let words: Set<Substring> = ["house", "man", "woman", "child", "dog", "<unk>"]
        #expect(lines.allSatisfy { $0.split(separator: " ").allSatisfy(words.contains) }, "output in the target dictionary's words: \(lines)")
        // hat test on raw text files: sacreBLEU, chrF and HAT's own (tokenized) BLEU.
        let source = out.deletingLastPathComponent().appendingPathComponent("test.de"),
            reference = out.deletingLastPathComponent().appendingPathComponent("test.en")
        try Data("Haus Mann\nEin Hund und eine Katze.\nKind\n".utf8).write(to: source)
        try Data("house man\na dog and a cat.\nchild\n".utf8).write(to: reference)
        let tested = try HATBinary.runMerged([
            "test", "--checkpoint", out.appendingPathComponent("checkpoint.safetensors").path, "--beam", "2",
            "--source", source.path, "--reference", reference.path,
            "--out", out.deletingLastPathComponent().appendingPathComponent("hyp.txt").path,
        ])
        #expect(tested.status == 0, "\(tested.output)")
        #expect(tested.output.contains("translated 3 sentences"), "\(tested.output)")
        #expect(tested.output.contains("HAT's BLEU (Moses-tokenized) = "), "\(tested.output)")
        // HAT's own evaluation: the binarized test split of a fairseq data-bin folder.
        let binarized = try HATBinary.runMerged([
            "test", "--checkpoint", out.appendingPathComponent("checkpoint.safetensors").path, "--beam", "2",
            "--data-bin", dir.appendingPathComponent("dicts").path, "--split", "test",
            "--out", out.deletingLastPathComponent().appendingPathComponent("hyp-bin.txt").path,
        ])
        #expect(binarized.status == 0, "\(binarized.output)")
        #expect(
            binarized.output.contains("translated 3 sentences") && binarized.output.contains("HAT's BLEU (Moses-tokenized) = "),
            "\(binarized.output)")
        let misaligned = try HATBinary.runMerged([
            "test", "--checkpoint", out.appendingPathComponent("checkpoint.safetensors").path,
            "--source", source.path, "--reference", input(out, "one line\n"),
        ])
        #expect(misaligned.status != 0 && misaligned.output.contains("must be line-aligned"), "\(misaligned.output)")
    }

    @Test("an imported SubTransformer fine-tuned on its data-bin folder keeps its text pipeline: it translates and exports with its dictionaries")
    func fineTuneTranslateExport() throws {
        guard HATBinary.isAvailable else {
            Issue.record("the hat binary is not built")
            return
        }
        let dir = try TorchCheckpointTests.fixtures.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let imported = root.appendingPathComponent("sub"), tuned = root.appendingPathComponent("tuned")
        let dicts = dir.appendingPathComponent("dicts").path
        let result = try HATBinary.runMerged(["import", dir.appendingPathComponent("sub_zip_fp16.pt").path, "--out", imported.path, "--dictionaries", dicts])
        #expect(result.status == 0, "\(result.output)")
        let trained = try HATBinary.runMerged([
            "train", "--config", imported.appendingPathComponent("space.yml").path, "--data", dicts,
            "--init-from", imported.appendingPathComponent("checkpoint.safetensors").path,
            "--subtransformer", imported.appendingPathComponent("subtransformer.yml").path, "--save-dir", tuned.path,
            "--max-update", "3", "--max-tokens", "60",
        ])
        #expect(trained.status == 0, "\(trained.output)")
        #expect(trained.output.contains("initialized from"), "\(trained.output)")
        for file in ["checkpoint_last.safetensors", "vocabulary.json", "dict.de.txt", "dict.en.txt"] {
            #expect(FileManager.default.fileExists(atPath: tuned.appendingPathComponent(file).path), "\(file)")
        }
        let checkpoint = tuned.appendingPathComponent("checkpoint_last.safetensors").path
        let translated = try HATBinary.run(["translate", "--checkpoint", checkpoint, "--beam", "2", "--max-len-b", "4"], input: "Haus Mann\n")
        #expect(translated.status == 0, "\(translated.err)")
        let words: Set<Substring> = ["house", "man", "woman", "child", "dog", "<unk>"]
        #expect(translated.out.split(separator: " ").allSatisfy { words.contains($0.trimmingCharacters(in: .newlines)[...]) }, "\(translated.out)")
        // hat test with no inputs given: the test split of the data-bin folder it was fine-tuned on.
        let tested = try HATBinary.runMerged([
            "test", "--checkpoint", checkpoint, "--beam", "2", "--split", "test",
            "--out", root.appendingPathComponent("hyp.txt").path,
        ])
        #expect(tested.status == 0 && tested.output.contains("translated 3 sentences"), "\(tested.output)")
        let onnx = root.appendingPathComponent("onnx")
        let exported = try HATBinary.runMerged(["export", "--checkpoint", checkpoint, "--out", onnx.path])
        #expect(exported.status == 0, "\(exported.output)")
        let description = try JSONSerialization.jsonObject(with: Data(contentsOf: onnx.appendingPathComponent("export.json"))) as? [String: Any]
        #expect(description?["vocabulary"] as? String == "vocabulary.json")
        for file in ["vocabulary.json", "dict.de.txt", "dict.en.txt", "encoder.onnx", "decoder_step.onnx"] {
            #expect(FileManager.default.fileExists(atPath: onnx.appendingPathComponent(file).path), "\(file)")
        }
        #expect(
            try Data(contentsOf: onnx.appendingPathComponent("dict.de.txt"))
                == Data(contentsOf: URL(fileURLWithPath: dicts).appendingPathComponent("dict.de.txt")))
    }

    func input(_ near: URL, _ text: String) throws -> String {
        let url = near.deletingLastPathComponent().appendingPathComponent("other.txt")
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("dictionaries that do not fit the model are refused before anything is written")
    func wrongDictionaries() throws {
        guard HATBinary.isAvailable else {
            Issue.record("the hat binary is not built")
            return
        }
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory().appendingPathComponent("wmt")
        let result = try HATBinary.runMerged([
            "import", dir.appendingPathComponent("wmt_zip_fp32.pt").path, "--out", out.path,
            "--dictionaries", dir.appendingPathComponent("dicts").path,
        ])
        #expect(result.status != 0)
        #expect(result.output.contains("dict.de.txt: has 11 symbols (4 special + 7 lines), the model's source embedding 13 rows"), "\(result.output)")
        #expect(!FileManager.default.fileExists(atPath: out.path))
    }
}

/// An imported SuperTransformer searched on its fairseq data-bin validation split: the fitness
/// (HAT's validation NLL, base 2) equals the one computed from PyTorch's logits of the .pt file.
@Suite("Searching an imported SuperTransformer on a data-bin folder")
struct ImportedSearchTests {
    @Test("the supernet fitness on a data-bin valid split equals PyTorch's NLL of the same sentences")
    func fitnessMatchesPyTorch() throws {
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let files = try HATCheckpointImporter(path: dir.appendingPathComponent("super_zip_fp32.pt").path).writeFolder(out.appendingPathComponent("super"))
        let dataBin = dir.appendingPathComponent("dicts").path
        let inputs = try SearchInputs(supernet: files[0].path, spaceFile: nil, data: dataBin, validSubset: nil, maxTokens: 1000)
        #expect(inputs.fitness.sentences == 4)
        let valid = try FairseqDataBin(directory: dataBin).split("valid")
        for sub in [inputs.space.largest, inputs.space.smallest] {
            let fitness = inputs.fitness(sub)
            // PyTorch: teacher-forced logits of the four pairs, padded as fairseq pads them.
            let src = (0..<valid.count).map { Array(valid.source($0)) }, tgt = (0..<valid.count).map { Array(valid.target($0)) }
            let s = src.map(\.count).max()!, t = tgt.map(\.count).max()!
            let request: [String: Any] = [
                "subs": [ImportTests.sub(sub)],
                "src_tokens": src.map { ($0 + Array(repeating: 1, count: s - $0.count)).map(Int.init) },
                "prev_output_tokens": tgt.map { ([2] + $0.dropLast() + Array(repeating: 1, count: t - $0.count)).map(Int.init) },
            ]
            try JSONSerialization.data(withJSONObject: request).write(to: out.appendingPathComponent("request.json"))
            try Oracle.run(
                "hat_checkpoint_logits_oracle.py",
                [
                    dir.appendingPathComponent("super_zip_fp32.pt").path,
                    out.appendingPathComponent("request.json").path, out.appendingPathComponent("o.safetensors").path,
                ])
            let logits = try SafeTensorsFile.read(from: out.appendingPathComponent("o.safetensors")).tensor("logits/0").floats().map(Double.init)
            let v = logits.count / (valid.count * t)
            var nll = 0.0, tokens = 0
            for (r, ids) in tgt.enumerated() {
                for (j, id) in ids.enumerated() {
                    let row = logits[((r * t + j) * v)..<((r * t + j + 1) * v)]
                    let top = row.max()!
                    nll -= row[row.startIndex + Int(id)] - (top + Foundation.log(row.map { Foundation.exp($0 - top) }.reduce(0, +)))
                    tokens += 1
                }
            }
            let reference = nll / Double(tokens) / Foundation.log(2.0)
            #expect(abs(fitness.nllLoss - reference) < 1e-4, "\(sub): ours \(fitness.nllLoss), PyTorch \(reference)")
        }
    }
}

/// An imported SuperTransformer fine-tuned on a fairseq data-bin folder (`hat train --data DATA_BIN
/// --init-from IMPORTED`): it starts from the .pt file's weights, learns, and resumes.
@Suite("Fine-tuning an imported model on a data-bin folder")
struct ImportedTrainingTests {
    @Test("training starts from the .pt file's weights, lowers the loss on its data-bin train split and resumes")
    func fineTuneOnDataBin() throws {
        let dir = try TorchCheckpointTests.fixtures.get()
        let out = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let files = try HATCheckpointImporter(path: dir.appendingPathComponent("super_zip_fp32.pt").path).writeFolder(out.appendingPathComponent("super"))
        let (checkpoint, spaceFile) = (files[0].path, files[1].path)
        let corpus = try openBinarizedCorpus(dir.appendingPathComponent("dicts").path)
        #expect(corpus is FairseqDataBin)
        let space = try SearchSpace(contentsOf: spaceFile)
        let sub = space.largest
        func config(_ updates: Int) throws -> TrainingConfig {
            try TrainingConfig(
                file: HATConfigFile(path: spaceFile),
                overrides: [
                    "max-update": "\(updates)", "max-tokens": "60", "save-interval-updates": "10",
                    "lr": "0.003", "warmup-updates": "2", "dropout": "0", "attention-dropout": "0",
                ])
        }
        let save = out.appendingPathComponent("finetune")
        let trainer = try Trainer(
            space: space, subTransformer: sub, data: corpus, config: config(30), saveDirectory: save,
            initFrom: checkpoint, log: { _ in })
        // The weights are PyTorch's (expected.safetensors: the fixture's model as float32).
        let expected = try SafeTensorsFile.read(from: dir.appendingPathComponent("expected.safetensors"))
        let weights = Dictionary(uniqueKeysWithValues: trainer.model.namedParameters().map { ($0.name, $0.tensor) })
        for name in ["decoder.layers.0.fc1.weight", "encoder.layers.1.self_attn.in_proj_weight", "decoder.embed_out"] {
            #expect(try weights[name]!.toArray() == expected.tensor("model/\(name)").floats(), "\(name)")
        }
        let train = try corpus.split("train")
        #expect(train.count == 24)
        let evaluator = try Evaluator(dataset: train, maxTokens: 60, labelSmoothing: 0.1)
        let before = evaluator.evaluate(trainer.model, config: sub).loss
        try trainer.run()
        let after = evaluator.evaluate(trainer.model, config: sub).loss
        #expect(after < before - 0.2, "30 updates on 24 sentences: loss \(before) → \(after)")
        // A rerun with a larger budget resumes from update 30 and keeps the data-bin folder as its data.
        let resumed = try Trainer(
            space: space, subTransformer: sub, data: corpus, config: config(32), saveDirectory: save,
            initFrom: checkpoint, log: { _ in })
        #expect(resumed.state.update == 30)
        #expect(resumed.state.data == URL(fileURLWithPath: corpus.directory).standardizedFileURL.path)
        // BPE-dropout re-segments our SentencePiece text; a data-bin folder is refused clearly.
        let dropout = try TrainingConfig(file: HATConfigFile(path: spaceFile), overrides: ["bpe-dropout": "0.1"])
        #expect {
            try Trainer(space: space, subTransformer: sub, data: corpus, config: dropout, saveDirectory: out.appendingPathComponent("d"), log: { _ in })
        } throws: { "\($0)".contains("fairseq data-bin folder") }
    }
}
