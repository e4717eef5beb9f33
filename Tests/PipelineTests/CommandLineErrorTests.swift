import Foundation
import TestSupport
import Testing

import struct Train.TrainingConfig

/// Bad input on the command line: every case must end the process normally with a message that
/// names the option, key or file, never with a trap (a Swift precondition or overflow kills the
/// process with SIGILL), a hang, or output written before the failure. The cases are the
/// findings of a bad-input audit of every subcommand.
@Suite("Command-line errors", .serialized)
struct CommandLineErrorTests {
    /// A tiny built-in dataset, a 2-update supernet trained on it, and its smallest SubTransformer.
    struct Fixture {
        let dir: URL
        var data: String { dir.appendingPathComponent("data").path }
        var checkpoint: String { dir.appendingPathComponent("supernet/checkpoint_last.safetensors").path }
        var sub: String { dir.appendingPathComponent("sub.yml").path }
        let space = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path

        init() throws {
            dir = try Oracle.temporaryDirectory().appendingPathComponent("cli-errors")
            try? FileManager.default.removeItem(at: dir)
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            for arguments in [
                ["data", "builtin", "--train-size", "300", "--valid-size", "40", "--test-size", "20", "--vocab-size", "300", "--out", data],
                [
                    "train", "--config", space, "--data", data, "--save-dir", dir.appendingPathComponent("supernet").path,
                    "--max-update", "2", "--save-interval-updates", "2", "--max-tokens", "2000",
                ],
                ["sample", "--space", space, "--which", "smallest", "--out", sub],
            ] {
                let r = try CommandLineErrorTests.hat(arguments)
                guard r.status == 0 else { throw CocoaError(.fileWriteUnknown, userInfo: ["output": r.output]) }
            }
        }
    }

    /// Built once for the suite's tests (they run one after another and leave it as they found it).
    static let fixture = Result { try Fixture() }

    struct Outcome {
        var status: Int32
        var signaled: Bool
        var timedOut: Bool
        var output: String
    }

    /// Runs `hat`, feeding `input` on standard input; kills it after `timeout` seconds.
    static func hat(_ arguments: [String], input: String = "", timeout: TimeInterval = 120) throws -> Outcome {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: HATBinary.path)
        p.arguments = arguments
        let output = Pipe(), stdin = Pipe()
        p.standardOutput = output
        p.standardError = output
        p.standardInput = stdin
        try p.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        nonisolated(unsafe) var bytes = Data()
        let done = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            bytes = output.fileHandleForReading.readDataToEndOfFile()
            done.signal()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        let timedOut = p.isRunning
        if timedOut { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        done.wait()
        return Outcome(
            status: p.terminationStatus, signaled: p.terminationReason == .uncaughtSignal, timedOut: timedOut,
            output: String(decoding: bytes, as: UTF8.self))
    }

    /// The process failed cleanly (exit status 1, no signal, no hang) and said `expected`.
    static func expectCleanError(
        _ r: Outcome, mentions expected: [String], command: [String],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let what = "hat " + command.joined(separator: " ")
        #expect(!r.timedOut, "\(what): hung", sourceLocation: sourceLocation)
        #expect(!r.signaled, "\(what): killed by signal \(r.status): \(r.output.prefix(400))", sourceLocation: sourceLocation)
        #expect(r.status != 0, "\(what): exited 0: \(r.output.prefix(400))", sourceLocation: sourceLocation)
        for e in expected { #expect(r.output.contains(e), "\(what): no '\(e)' in: \(r.output.prefix(600))", sourceLocation: sourceLocation) }
    }

    @Test("hat train --help lists every training key the YAML and the command line take")
    func trainHelpListsKeys() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let r = try Self.hat(["train", "--help"])
        #expect(r.status == 0)
        for key in TrainingConfig.keys { #expect(r.output.contains("--\(key) "), "--\(key) missing from hat train --help") }
    }

    @Test("numbers out of range, impossible budgets and bad paths: a clear error naming the option or key, never a trap or a hang")
    func badOptionsFailCleanly() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let f = try Self.fixture.get()
        let huge = f.dir.appendingPathComponent("huge.yml").path
        let subText = try String(contentsOfFile: f.sub, encoding: .utf8)
        let hugeText = subText.split(separator: "\n").map { line -> String in
            line.hasPrefix("encoder-embed-dim-subtransformer:") ? "encoder-embed-dim-subtransformer: 999999999999999999" : String(line)
        }.joined(separator: "\n")
        try hugeText.write(toFile: huge, atomically: true, encoding: .utf8)
        let decoding = ["--checkpoint", f.checkpoint, "--subtransformer", f.sub]
        let cases: [([String], [String])] = [
            // every pair longer than the batch budget: no batch at all (used to train forever on nothing)
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("t1").path,
                    "--max-update", "2", "--max-tokens", "3",
                ], ["max-tokens 3", "raise --max-tokens"]
            ),
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("t2").path,
                    "--max-update", "2", "--optimizer", "sgd",
                ], ["optimizer", "sgd"]
            ),
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("t3").path,
                    "--max-update", "2", "--lr=-1",
                ], ["'lr'"]
            ),
            (["train", "--config", f.space, "--data", f.data, "--save-dir", f.sub, "--max-update", "2"], ["--save-dir", "is a file"]),
            (
                [
                    "train", "--config", f.space, "--data", f.dir.appendingPathComponent("nowhere").path, "--save-dir",
                    f.dir.appendingPathComponent("t4").path, "--max-update", "2",
                ], ["nowhere does not exist", "hat data"]
            ),
            (["translate"] + decoding + ["--max-len-a", "inf"], ["--max-len-a"]),
            (["test"] + decoding + ["--max-len-b=-5"], ["--max-len-b"]),
            (["test"] + decoding + ["--out", "/nonexistent-folder/x.txt"], ["--out", "does not exist"]),
            (["latency", "measure", f.sub, "--threads", "0"], ["--threads"]),
            (["latency", "measure", f.sub, "--warmup=-1"], ["--warmup"]),
            (["latency", "measure", f.sub, "--vocab", "3"], ["--vocab 3", "special tokens"]),
            (["latency", "measure", f.sub, "--length", "30000000"], ["--length must be 1 to 1024"]),
            (
                [
                    "latency", "dataset", "--space", f.space, "--count", "2", "--out", f.dir.appendingPathComponent("l.csv").path,
                    "--src-vocab", "2", "--tgt-vocab", "40",
                ], ["--src-vocab 2"]
            ),
            (["search", "--supernet", f.checkpoint, "--predictor", "measure", "--beam", "100000"], ["--beam 1 to 64"]),
            (["self-check", "--steps=-1"], ["--steps"]),
            (["profile", f.sub, "--length", "99999999999"], ["--length"]),
            (["profile", huge], ["encoder-embed-dim-subtransformer", "largest supported"]),
            (["export", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--out", f.sub], ["--out", "is a file"]),
            (["report", f.data], ["pipeline.json"]),
        ]
        for (arguments, expected) in cases {
            let r = try Self.hat(arguments)
            Self.expectCleanError(r, mentions: expected, command: arguments)
        }
    }

    @Test("hat quantize and quantized checkpoints: bad options and misuse are refused, naming the option or what to give instead")
    func quantizedCheckpointMisuse() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let f = try Self.fixture.get()
        let quantized = f.dir.appendingPathComponent("q3.safetensors").path
        let made = try Self.hat(["quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "3", "--out", quantized])
        #expect(made.status == 0 && made.output.contains("wrote \(quantized)"), "\(made.output.prefix(400))")
        let largest = f.dir.appendingPathComponent("largest.yml").path
        #expect(try Self.hat(["sample", "--space", f.space, "--which", "largest", "--out", largest]).status == 0)
        let out = f.dir.appendingPathComponent("q-other.safetensors").path
        let cases: [([String], [String])] = [
            (["quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "0", "--out", out], ["--bits 0", "1 to 8"]),
            (["quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "4", "--group-rows", "0", "--out", out], ["--group-rows 0"]),
            (["quantize", "--checkpoint", f.checkpoint, "--bits", "4", "--out", out], ["SuperTransformer checkpoint", "--subtransformer"]),
            (["quantize", "--checkpoint", quantized, "--bits", "4", "--out", out], ["quantized checkpoint (hat quantize)", "float32 checkpoint"]),
            (["quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "4", "--out", "/nonexistent-folder/q.safetensors"], ["--out"]),
            (["translate", "--checkpoint", quantized, "--subtransformer", largest], ["quantized", "leave out --subtransformer"]),
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("tq").path, "--max-update", "2",
                    "--init-from", quantized,
                ], ["quantized checkpoint (hat quantize)"]
            ),
            (["search", "--supernet", quantized, "--predictor", "measure"], ["quantized checkpoint (hat quantize)"]),
            (["search", "--supernet", f.checkpoint, "--predictor", "measure", "--weight-bits", "9"], ["--weight-bits 9"]),
            (
                ["quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "2", "--finetune-updates", "-1", "--out", out],
                ["--finetune-updates"]
            ),
            (["quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "2", "--finetune-lr", "0", "--out", out], ["--finetune-lr"]),
            (
                [
                    "quantize", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--bits", "2", "--finetune-updates", "2", "--data",
                    f.dir.appendingPathComponent("no-data").path, "--out", out,
                ], ["no-data"]
            ),
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("kd").path, "--max-update", "2",
                    "--distill-from", f.dir.appendingPathComponent("no-teacher.safetensors").path,
                ], ["no-teacher.safetensors"]
            ),
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("kd").path, "--max-update", "2",
                    "--distill-from", f.checkpoint,
                ], ["teacher-subtransformer"]
            ),
            (
                [
                    "train", "--config", f.space, "--data", f.data, "--save-dir", f.dir.appendingPathComponent("kd").path, "--max-update", "2",
                    "--distill-from", f.checkpoint, "--distill-weight", "1.5",
                ], ["distill-weight"]
            ),
            (["profile", f.sub, "--bits", "0"], ["--bits 0"]),
            (["latency", "measure", f.sub, "--bits", "12"], ["--bits 12"]),
        ]
        for (arguments, expected) in cases {
            Self.expectCleanError(try Self.hat(arguments), mentions: expected, command: arguments)
        }
        #expect(!FileManager.default.fileExists(atPath: out), "a refused quantize wrote \(out)")
    }

    @Test(
        "memory datasets and predictors: a memory target without memory columns, --memory where it cannot measure, and predictors of the wrong target are refused"
    )
    func memoryPredictorMisuse() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let f = try Self.fixture.get()
        // A small dataset with memory columns: 30 SubTransformers whose latency and memory grow with their size.
        let names =
            "encoder_embed_dim,encoder_layer_num,encoder_ffn_embed_dim_avg,encoder_self_attention_heads_avg,decoder_embed_dim,decoder_layer_num,decoder_ffn_embed_dim_avg,decoder_self_attention_heads_avg,decoder_ende_attention_heads_avg,decoder_arbitrary_ende_attn_avg,latency_mean_encoder,latency_mean_decoder,latency_std_encoder,latency_std_decoder"
        var memoryCSV = names + ",memory_model_mb,memory_peak_mb\n", latencyCSV = names + "\n"
        for i in 0..<30 {
            let e = [64, 96, 128][i % 3], d = [64, 128][i % 2], le = 1 + i % 2, ld = 1 + (i / 2) % 3, fe = [128, 256][(i / 3) % 2],
                fd = [128, 256][(i / 5) % 2]
            let hatColumns = "\(e),\(le),\(fe),2,\(d),\(ld),\(fd),2,2,1,\(Double(e * le * fe) / 1e4),\(Double(d * ld * fd) / 1e4),0.01,0.01"
            let weights = Double(300 * (e + d) + le * e * (4 * e + 2 * fe) + ld * d * (8 * d + 2 * fd)) * 4 / 1e6
            memoryCSV += hatColumns + ",\(weights),\(weights + Double(ld * d * 90) * 4 / 1e6)\n"
            latencyCSV += hatColumns + "\n"
        }
        let memoryData = f.dir.appendingPathComponent("memory-lat.csv").path, hatData = f.dir.appendingPathComponent("hat-lat.csv").path
        try memoryCSV.write(toFile: memoryData, atomically: true, encoding: .utf8)
        try latencyCSV.write(toFile: hatData, atomically: true, encoding: .utf8)
        let memoryPredictor = f.dir.appendingPathComponent("memory.predictor.json").path
        let latencyPredictor = f.dir.appendingPathComponent("latency.predictor.json").path
        let trained = try Self.hat(["latency", "train-predictor", "--data", memoryData, "--target", "memory", "--out", memoryPredictor])
        #expect(trained.status == 0 && trained.output.contains("MB"), "\(trained.output.prefix(600))")
        #expect(try Self.hat(["latency", "train-predictor", "--data", memoryData, "--out", latencyPredictor]).status == 0)
        let predicted = try Self.hat(["latency", "predict", "--predictor", memoryPredictor, "--space", f.space, f.sub])
        #expect(predicted.status == 0 && predicted.output.contains(" MB"), "\(predicted.output.prefix(400))")
        let searchOut = f.dir.appendingPathComponent("memory-search").path
        let search = ["search", "--supernet", f.checkpoint, "--memory-constraint", "10MB", "--out", searchOut, "--no-measure"]
        let csv = f.dir.appendingPathComponent("m.csv").path
        let cases: [([String], [String])] = [
            (
                ["latency", "train-predictor", "--data", hatData, "--target", "memory", "--out", f.dir.appendingPathComponent("x.json").path],
                [hatData, "no memory columns", "--memory"]
            ),
            (["latency", "train-predictor", "--data", memoryData, "--target", "energy", "--out", f.dir.appendingPathComponent("x.json").path], ["energy"]),
            (
                ["latency", "dataset", "--space", f.space, "--count", "2", "--out", csv, "--memory", "--command", "echo 1"],
                ["--memory with --command needs --command-output encoder-decoder-memory"]
            ),
            (["latency", "dataset", "--space", f.space, "--count", "2", "--out", csv, "--memory", "--bits", "4"], ["--memory measures float32"]),
            (search + ["--predictor", latencyPredictor, "--memory-predictor", latencyPredictor], ["--memory-predictor", "predicts latency, not memory"]),
            (search + ["--predictor", memoryPredictor], ["--predictor", "predicts memory, not latency"]),
            (
                search + ["--predictor", latencyPredictor, "--memory-predictor", memoryPredictor, "--weight-bits", "4"],
                ["--memory-predictor", "--weight-bits"]
            ),
        ]
        for (arguments, expected) in cases {
            Self.expectCleanError(try Self.hat(arguments), mentions: expected, command: arguments)
        }
        #expect(!FileManager.default.fileExists(atPath: csv), "a refused dataset wrote \(csv)")
    }

    @Test("a line longer than the model's positions is translated from its start with a warning; a moved dataset is named")
    func longLinesAndMovedDatasets() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let f = try Self.fixture.get()
        let decoding = ["--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--beam", "1"]
        let long = Array(repeating: "the", count: 1500).joined(separator: " ")
        let r = try Self.hat(["translate"] + decoding, input: "a dog runs\n\(long)\nthe cat\n")
        #expect(r.status == 0 && !r.signaled, "\(r.output.prefix(400))")
        #expect(r.output.contains("warning: input line 2"))
        // Three input lines, three output lines (after the warning): alignment survives.
        let outputLines = r.output.split(separator: "\n", omittingEmptySubsequences: false).filter { !$0.hasPrefix("warning:") }
        #expect(outputLines.count == 4 && outputLines.last == "", "\(outputLines.count) lines")

        let moved = f.dir.appendingPathComponent("data-moved")
        try FileManager.default.moveItem(atPath: f.data, toPath: moved.path)
        defer { try? FileManager.default.moveItem(atPath: moved.path, toPath: f.data) }
        Self.expectCleanError(
            try Self.hat(["translate"] + decoding, input: "a dog\n"), mentions: [f.checkpoint, "--data"],
            command: ["translate"] + decoding)
        let ok = try Self.hat(["translate"] + decoding + ["--data", moved.path], input: "a dog\n")
        #expect(ok.status == 0, "\(ok.output.prefix(400))")
    }
}
