import Datasets
import Foundation
import Model
import TensorEngine
import TestSupport
import Testing
import Train

@testable import Search

/// The search on a real (briefly trained) SuperTransformer of the tiny space, the fitness
/// being the Evaluator's validation loss; and `hat search` end to end.
@Suite("Search on a supernet", .serialized)
struct SupernetSearchTests {
    /// A built-in dataset and a supernet trained for a few updates, made once per process.
    static let supernet: Result<(checkpoint: String, data: String), Error> = Result {
        let root = try Oracle.temporaryDirectory()
        let data = root.appendingPathComponent("data").path
        _ = try BuiltinCorpus(seed: 1).prepare(output: data, train: 400, valid: 60, test: 20)
        let space = try SearchSpace(contentsOf: Fixtures.tinySpaceFile)
        let config = try TrainingConfig(
            file: HATConfigFile(path: Fixtures.tinySpaceFile),
            overrides: ["max-update": "20", "save-interval-updates": "0", "seed": "1", "max-tokens": "1000"])
        let save = root.appendingPathComponent("super")
        let trainer = try Trainer(
            space: space, subTransformer: nil, data: PreparedDataset(directory: data), config: config,
            saveDirectory: save, log: { _ in })
        try trainer.run()
        return (save.appendingPathComponent("checkpoint_last.safetensors").path, data)
    }

    @Test("fitness is the Evaluator's validation loss; a subset scores the first N pairs")
    func fitnessIsValidationLoss() throws {
        let (checkpoint, data) = try Self.supernet.get()
        let inputs = try SearchInputs(supernet: checkpoint, spaceFile: nil, data: data, validSubset: 20, maxTokens: nil)
        #expect(inputs.fitness.sentences == 20)
        let (model, state) = try Checkpoint.loadModel(path: checkpoint)
        let valid = try PreparedDataset(directory: data).split("valid")
        let first20 = TranslationDataset(source: (0..<20).map { Array(valid.source($0)) }, target: (0..<20).map { Array(valid.target($0)) })
        let evaluator = try Evaluator(dataset: first20, maxTokens: state.training.maxTokens, labelSmoothing: Float(state.training.labelSmoothing))
        let c = inputs.space.smallest
        #expect(inputs.fitness(c).loss == evaluator.evaluate(model, config: c).loss)
        #expect(inputs.fitness(c).loss != inputs.fitness(inputs.space.largest).loss)
        // A narrower space over the same supernet is accepted; another SuperTransformer is not.
        let narrow = try Oracle.temporaryDirectory().appendingPathComponent("narrow.yml")
        let text = try String(contentsOfFile: Fixtures.tinySpaceFile, encoding: .utf8)
        try text.replacingOccurrences(of: "decoder-layer-num-choice: [2, 1]", with: "decoder-layer-num-choice: [1]")
            .write(to: narrow, atomically: true, encoding: .utf8)
        #expect(
            try SearchInputs(supernet: checkpoint, spaceFile: narrow.path, data: data, validSubset: 5, maxTokens: nil)
                .space.decoderLayerChoices == [1])
        try text.replacingOccurrences(of: "encoder-embed-dim: 64", with: "encoder-embed-dim: 80")
            .replacingOccurrences(of: "decoder-embed-dim: 64", with: "decoder-embed-dim: 80")
            .write(to: narrow, atomically: true, encoding: .utf8)
        #expect {
            try SearchInputs(supernet: checkpoint, spaceFile: narrow.path, data: data, validSubset: 5, maxTokens: nil)
        } throws: { "\($0)".contains("encoder-embed-dim") && "\($0)".contains("is 80, but the supernet") }
    }

    static func hat(_ arguments: [String]) throws -> (status: Int32, output: String) {
        try HATBinary.runMerged(arguments)
    }

    @Test("hat test reads a SubTransformer YAML whose lists hold an entry per super layer, as HAT's files do")
    func translateWithSuperLengthLists() throws {
        let (checkpoint, data) = try Self.supernet.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // One decoder layer of the tiny space's two; the second entry of each decoder list is unused.
        let yaml = root.appendingPathComponent("one-decoder-layer.yml").path
        try """
        encoder-embed-dim-subtransformer: 64
        decoder-embed-dim-subtransformer: 48
        encoder-ffn-embed-dim-all-subtransformer: [128, 96]
        decoder-ffn-embed-dim-all-subtransformer: [64, 128]
        encoder-layer-num-subtransformer: 2
        decoder-layer-num-subtransformer: 1
        encoder-self-attention-heads-all-subtransformer: [4, 2]
        decoder-self-attention-heads-all-subtransformer: [2, 4]
        decoder-ende-attention-heads-all-subtransformer: [4, 4]
        decoder-arbitrary-ende-attn-all-subtransformer: [1, -1]
        """.write(toFile: yaml, atomically: true, encoding: .utf8)
        let hyp = root.appendingPathComponent("test.hyp.txt").path
        let r = try HATBinary.run(["test", "--checkpoint", checkpoint, "--subtransformer", yaml, "--data", data, "--beam", "2", "--out", hyp])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("BLEU = "), "\(r.out)")
        let lines = try String(contentsOfFile: hyp, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count >= 20)  // the 20 test sentences (and a final newline)
    }

    @Test("hat export: a SubTransformer of the trained supernet as ONNX that onnxruntime runs to the checkpoint's logits")
    func exportCommand() throws {
        let (checkpoint, data) = try Self.supernet.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("onnx").path
        // A SuperTransformer checkpoint needs the SubTransformer named.
        let refused = try HATBinary.run(["export", "--checkpoint", checkpoint, "--out", out])
        #expect(refused.status != 0)
        #expect(refused.err.contains("--subtransformer"), "\(refused.err)")
        #expect(!FileManager.default.fileExists(atPath: out + "/encoder.onnx"))

        let space = try SearchSpace(contentsOf: Fixtures.tinySpaceFile)
        let config = space.largest
        let yaml = root.appendingPathComponent("largest.yml").path
        try config.hatYAML().write(toFile: yaml, atomically: true, encoding: .utf8)
        let r = try HATBinary.run(["export", "--checkpoint", checkpoint, "--subtransformer", yaml, "--out", out])
        #expect(r.status == 0, "\(r.err)")
        let info = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/export.json"))) as? [String: Any]
        #expect(info?["padding_id"] as? Int == 1 && info?["eos_id"] as? Int == 2)
        #expect(
            try SubTransformerConfig(
                contentsOf: out + "/subtransformer.yml", superLayers: (space.encoderLayers, space.decoderLayers),
                qkvDim: space.qkvDim) == config)

        // Without a checkpoint: random weights of a space's SubTransformer (latency in another runtime).
        let random = root.appendingPathComponent("random").path
        let r2 = try HATBinary.run(["export", "--space", Fixtures.tinySpaceFile, "--subtransformer", yaml, "--vocab", "50", "--out", random])
        #expect(r2.status == 0, "\(r2.err)")
        #expect(FileManager.default.fileExists(atPath: random + "/decoder_step.onnx"))
        let mixed = try HATBinary.run(["export", "--checkpoint", checkpoint, "--space", Fixtures.tinySpaceFile, "--out", random])
        #expect(mixed.status != 0 && mixed.err.contains("a checkpoint records them"), "\(mixed.err)")
        let tiny = try HATBinary.run(["export", "--space", Fixtures.tinySpaceFile, "--subtransformer", yaml, "--vocab", "3", "--out", random])
        #expect(tiny.status != 0 && tiny.err.contains("--vocab 3"), "\(tiny.err)")
        let noVocabulary = try HATBinary.run(["export", "--checkpoint", checkpoint, "--subtransformer", yaml, "--data", root.path, "--out", random])
        #expect(noVocabulary.status != 0 && noVocabulary.err.contains("has no spm.model"), "\(noVocabulary.err)")

        // The checkpoint's own logits against onnxruntime's on the exported files.
        let (model, _) = try Checkpoint.loadModel(path: checkpoint)
        let valid = try PreparedDataset(directory: data).split("valid")
        let src = Array(valid.source(0)), tgt = Array(valid.target(0))
        let prev = [Int32(2)] + tgt.dropLast()
        var file = SafeTensorsFile()
        try file.add("src_tokens", int64s: src.map(Int64.init), shape: [1, src.count])
        try file.add("prev_output_tokens", int64s: prev.map(Int64.init), shape: [1, prev.count])
        let input = root.appendingPathComponent("in.safetensors"), output = root.appendingPathComponent("out.safetensors")
        try file.write(to: input)
        try Oracle.run("onnx_oracle.py", [out + "/encoder.onnx", out + "/decoder.onnx", input.path, output.path])
        let logits = model(
            source: TokenBatch(tokens: src, batchSize: 1, length: src.count),
            previousOutput: TokenBatch(tokens: prev, batchSize: 1, length: prev.count), config: config, context: .evaluation())
        let error = relativeError(logits.toArray(), try SafeTensorsFile.read(from: output).tensorValue("logits").toArray())
        #expect(error <= 1e-4, "logits relative error \(error)")
    }

    @Test("hat search: a Pareto front over three latencies from a HAT evolution YAML, resumable, random baseline")
    func commandLine() throws {
        let (checkpoint, data) = try Self.supernet.get()
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        // A latency CSV for the tiny space: the synthetic latency of random SubTransformers.
        var csv =
            (SubTransformerConfig.hatFeatureNames + [
                "latency_mean_encoder", "latency_mean_decoder", "latency_std_encoder",
                "latency_std_decoder",
            ]).joined(separator: ",") + "\n"
        let space = Fixtures.tinySpace
        var rng = RandomGenerator(seed: 8)
        for _ in 0..<50 {
            let c = space.sample(rng: &rng)
            let l = Fixtures.latency(space).predictMilliseconds(c)
            csv += (c.hatFeatures + [0.4 * l, 0.6 * l, 0.1, 0.1]).map { "\($0)" }.joined(separator: ",") + "\n"
        }
        let csvPath = root.appendingPathComponent("tiny_latency.csv").path
        try csv.write(toFile: csvPath, atomically: true, encoding: .utf8)
        let evo = root.appendingPathComponent("evo.yml").path
        try "evo-iter: 3\npopulation-size: 12\nparent-size: 4\nmutation-size: 4\ncrossover-size: 4\nmutation-prob: 0.3\n"
            .write(toFile: evo, atomically: true, encoding: .utf8)
        let latencies = [0.3, 0.6, 0.95].map { SearchConstraints.shortNumber(Fixtures.latencyQuantile(space, $0), decimals: 2) + "ms" }
        let out = root.appendingPathComponent("search").path
        func arguments(out: String, predictor: String = csvPath, latency: String = latencies.joined(separator: ",")) -> [String] {
            [
                "search", "--supernet", checkpoint, "--data", data, "--predictor", predictor, "--evo-config", evo,
                "--latency-constraint", latency, "--valid-subset", "30", "--out", out, "--seed", "3",
            ]
        }
        let args = arguments(out: out)
        let started = Date()
        let (status, output) = try Self.hat(args)
        print("hat search on the tiny supernet (3 constraints × 3 iterations, 30 validation pairs): \(Date().timeIntervalSince(started)) s")
        #expect(status == 0, "\(output)")
        #expect(output.contains("latency predictor (ridge) trained on 50 rows of"), "\(output)")
        #expect(FileManager.default.fileExists(atPath: "\(out)/latency_predictor.json"))
        let front = try ParetoFront.read(URL(fileURLWithPath: out).appendingPathComponent("pareto.json"))
        #expect(front.count == 3)
        for p in front {
            #expect(p.predictedLatencyMs <= p.constraints.latencyMs!)
            #expect(FileManager.default.fileExists(atPath: "\(out)/\(p.subtransformer)"))
            #expect(p.loss.isFinite && p.loss > 0)
            // Measured on this machine after the search, printed beside the prediction.
            let measured = try #require(p.measuredLatencyMs)
            #expect(measured > 0 && output.contains(String(format: "%@: measured %.2f ms", p.constraint, measured)), "\(output)")
        }
        // Run again: everything is finished, nothing is evaluated, same answers.
        let (again, output2) = try Self.hat(args)
        #expect(again == 0 && output2.contains("finished earlier") && output2.contains("0 fitness evaluations in this run"), "\(output2)")
        #expect(try ParetoFront.read(URL(fileURLWithPath: out).appendingPathComponent("pareto.json")) == front)
        // The random baseline needs its own folder; a changed setup in this one is refused.
        let (refused, message) = try Self.hat(args + ["--random"])
        #expect(refused != 0 && message.contains("strategy evolution → random"), "\(message)")
        // Random search, with a latency model calibrated on this machine.
        let (random, output3) = try Self.hat(arguments(out: out + "-random", predictor: "measure:4", latency: "1000ms") + ["--random"])
        #expect(random == 0 && output3.contains("[1000ms] random search") && output3.contains("measured on this machine"), "\(output3)")
        // Bad input is explained.
        let (bad, output4) = try Self.hat(arguments(out: out + "-bad", latency: "fast"))
        #expect(bad != 0 && output4.contains("--latency-constraint 'fast'"), "\(output4)")
    }
}
