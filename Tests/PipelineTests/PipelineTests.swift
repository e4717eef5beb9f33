import Foundation
import Model
import Pipeline
import Search
import TestSupport
import Testing

@testable import Report

/// `hat pipeline` on a miniature built-in task: the config's errors, every stage resumed after
/// SIGKILL, finished stages skipped, changed settings refused, and the report.
@Suite("Pipeline", .serialized)
struct PipelineTests {
    /// A pipeline small enough for a test (about half a minute on 2 cores). The training's
    /// batches are large enough that its 60 updates span several epochs (test.average-last).
    static func miniConfig(in dir: URL, trainUpdates: Int = 60) throws -> String {
        let space = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
        let text = """
            space: \(space)
            data: {source: builtin, seed: 1, train: 1200, valid: 80, test: 40, vocab-size: 300}
            supernet: {max-update: 120, save-interval-updates: 20, max-tokens: 1000, warmup-updates: 20}
            latency: {samples: 24, iterations: 60, warmup: 1, length: 10, beam: 2}
            predictor: {kind: ridge}
            search: {latency-constraint: [50%, 90%], evo-iter: 6, population-size: 12, parent-size: 4, mutation-size: 4, crossover-size: 4, valid-subset: 80}
            train: {mode: scratch, max-update: \(trainUpdates), save-interval-updates: 20, max-tokens: 3000, warmup-updates: 20, distill-from: supernet}
            test: {split: test, beam: 2}
            """
        let path = dir.appendingPathComponent("pipeline.yml").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func pipeline(_ config: String, out: String, extra: [String] = []) -> Process {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: HATBinary.path)
        p.arguments = ["pipeline", "--config", config, "--out", out] + extra
        return p
    }

    static func run(_ config: String, out: String, extra: [String] = []) throws -> (status: Int32, output: String) {
        try HATBinary.runMerged(["pipeline", "--config", config, "--out", out] + extra)
    }

    /// Starts the pipeline and SIGKILLs it once `condition` holds; false if it finished first.
    static func runAndKill(_ config: String, out: String, when condition: () -> Bool) throws -> Bool {
        let p = pipeline(config, out: out)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        let deadline = Date().addingTimeInterval(300)
        while p.isRunning && !condition() && Date() < deadline { usleep(2_000) }
        let killed = p.isRunning
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return killed
    }

    static func lines(_ path: String) -> [String] {
        ((try? String(contentsOfFile: path, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test("killed in every stage and resumed: the pipeline finishes, no row or candidate twice; a rerun skips every stage")
    func resumesAfterKillInEveryStage() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Self.miniConfig(in: root)
        let out = root.appendingPathComponent("out").path
        let fm = FileManager.default
        // Kill points, one per long stage, each once its output has begun to appear.
        let killPoints: [(String, () -> Bool)] = [
            ("supernet", { Self.lines("\(out)/supernet/metrics.jsonl").count >= 30 }),
            ("latency", { Self.lines("\(out)/latency/latency.csv").count >= 6 }),
            ("search", { Self.lines("\(out)/search/history.jsonl").count >= 14 }),
            ("train", { Self.lines("\(out)/subtransformer/metrics.jsonl").count >= 25 }),
        ]
        var killedIn: [String] = []
        for (stage, condition) in killPoints where try Self.runAndKill(config, out: out, when: condition) {
            killedIn.append(stage)
        }
        #expect(killedIn == ["supernet", "latency", "search", "train"], "killed in \(killedIn)")
        let (status, output) = try Self.run(config, out: out)
        #expect(status == 0, "\(output)")
        // Stages finished before the last kill are skipped; the interrupted training resumed.
        #expect(output.contains("== search: finished earlier, skipped"), "\(output)")
        #expect(output.contains("resuming from"), "\(output)")
        let results = try #require(try PipelineResults.read(URL(fileURLWithPath: "\(out)/results.json")))
        #expect(results.bleu >= 0 && results.bleu <= 100 && results.measuredLatencyMs != nil)
        // The model is handed over as ONNX too (its parity with our engine: ONNXExportTests).
        let onnx = try #require(results.onnx)
        for file in ["encoder.onnx", "decoder.onnx", "decoder_step.onnx", "export.json", "subtransformer.yml"] {
            #expect(FileManager.default.fileExists(atPath: "\(onnx)/\(file)"), "\(onnx)/\(file) missing")
        }
        // The report's table of found models gives the trained pick's BLEU.
        let report = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
        #expect(report.contains("<th>BLEU</th>") && report.contains(String(format: "<td>%.2f</td>", results.bleu)))
        #expect(report.contains("distilled from"))
        // The same folder gives the same page, byte for byte, from two processes (no per-process ids).
        let copies = [root.appendingPathComponent("r1.html").path, root.appendingPathComponent("r2.html").path]
        for copy in copies { #expect(try HATBinary.run(["report", out, "--out", copy]).status == 0) }
        #expect(try Data(contentsOf: URL(fileURLWithPath: copies[0])) == Data(contentsOf: URL(fileURLWithPath: copies[1])))
        // The latency CSV holds each SubTransformer once: header + 24 rows, as many as asked.
        let csv = Self.lines("\(out)/latency/latency.csv")
        #expect(csv.count == 25)
        // The SubTransformer learned from the supernet's largest SubTransformer too (distill-from:
        // supernet); the teacher's targets were computed before the kill and read back after it.
        #expect(fm.fileExists(atPath: "\(out)/subtransformer/teacher-targets.safetensors") && output.contains("targets read from"), "\(output)")
        let teacher = try SubTransformerConfig(contentsOf: "\(out)/subtransformer/teacher.yml", superLayers: (2, 2), qkvDim: 64)
        #expect(teacher == (try SearchSpace(contentsOf: Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path)).largest)
        #expect(results.teacher?.hasSuffix("supernet/checkpoint_last.safetensors") == true, "\(String(describing: results.teacher))")
        // Training resumed exactly: one loss per update, updates 1…120 each once.
        let updates = Self.lines("\(out)/supernet/metrics.jsonl").filter { !$0.contains("\"split\"") }
        #expect(updates.count == 120)
        // Everything done: a rerun skips all seven stages.
        let (again, output2) = try Self.run(config, out: out)
        #expect(again == 0 && output2.components(separatedBy: "finished earlier, skipped").count - 1 == 7, "\(output2)")
        // Changed settings of a finished stage are refused, naming the stage and what to do.
        let text = try String(contentsOfFile: config, encoding: .utf8).replacingOccurrences(of: "samples: 24", with: "samples: 30")
        try text.write(toFile: config, atomically: true, encoding: .utf8)
        let (refused, message) = try Self.run(config, out: out)
        #expect(refused != 0 && message.contains("stage latency finished earlier") && message.contains("another --out folder"), "\(message)")
        // Only the test settings change: refused until `--rerun test`, which redoes the test alone
        // with the last two epoch checkpoints averaged, the length penalty chosen on the
        // validation split, and keeps the earlier test folder.
        let averaging = text.replacingOccurrences(of: "samples: 30", with: "samples: 24")
            .replacingOccurrences(
                of: "test: {split: test, beam: 2}", with: "test: {split: test, beam: 2, average-last: 2, lenpen: [0.2, 2.0], quantize-bits: [8, 3]}")
        try averaging.write(toFile: config, atomically: true, encoding: .utf8)
        let (refusedTest, message2) = try Self.run(config, out: out)
        #expect(refusedTest != 0 && message2.contains("stage test finished earlier") && message2.contains("--rerun test"), "\(message2)")
        let (rerun, output3) = try Self.run(config, out: out, extra: ["--rerun", "test"])
        #expect(rerun == 0 && output3.components(separatedBy: "finished earlier, skipped").count - 1 == 6, "\(output3)")
        #expect(output3.contains("into checkpoint_average2.safetensors"), "\(output3)")
        let averaged = try #require(try PipelineResults.read(URL(fileURLWithPath: "\(out)/results.json")))
        #expect(averaged.checkpoint?.hasSuffix("subtransformer/checkpoint_average2.safetensors") == true, "\(String(describing: averaged.checkpoint))")
        // Each penalty's validation BLEU is what `hat test` gives on the validation split with it,
        // and the test split was translated with the better one.
        let tried = try #require(averaged.validBLEUByLengthPenalty)
        #expect(tried.keys.sorted() == ["0.2", "2.0"], "\(tried)")
        for (penalty, bleu) in tried {
            let (status, printed) = try HATBinary.runMerged([
                "test", "--checkpoint", try #require(averaged.checkpoint), "--split", "valid",
                "--beam", "2", "--lenpen", penalty, "--threads", "1", "--out", root.appendingPathComponent("valid.\(penalty).txt").path,
            ])
            #expect(status == 0 && printed.contains(String(format: "BLEU = %.2f ", bleu)), "lenpen \(penalty): \(bleu) logged; hat test: \(printed)")
        }
        let best = tried.max { $0.value < $1.value || ($0.value == $1.value && $0.key > $1.key) }!
        #expect(averaged.lengthPenalty == Double(best.key) && output3.contains("test: lenpen \(best.key) chosen on the validation split"), "\(output3)")
        // The same model K-means-quantized at 8 and 3 bits: smaller files whose BLEU is what
        // `hat test` gives with them.
        let quantized = try #require(averaged.quantized)
        #expect(quantized.map(\.bits) == [8, 3], "\(quantized)")
        for q in quantized {
            let (status, printed) = try HATBinary.runMerged([
                "test", "--checkpoint", q.checkpoint, "--beam", "2", "--lenpen", "\(try #require(averaged.lengthPenalty))", "--threads", "1",
                "--out", root.appendingPathComponent("q\(q.bits).txt").path,
            ])
            #expect(status == 0 && printed.contains(String(format: "BLEU = %.2f ", q.bleu)), "\(q.bits) bits: \(q.bleu) logged; hat test: \(printed)")
            #expect(Double(q.fileBytes) < 0.4 * averaged.modelSizeMB * 1e6, "\(q.bits) bits: \(q.fileBytes) bytes")
        }
        let kept = try fm.contentsOfDirectory(atPath: out)
        #expect(kept.contains { $0.hasPrefix("test.replaced-") } && kept.contains { $0.hasPrefix("results.replaced-") }, "\(kept)")
    }

    @Test("--stop-after stops after a stage; the report shows what exists and says what has not run")
    func stopAfterAndPartialReport() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Self.miniConfig(in: root)
        let out = root.appendingPathComponent("out").path
        let (status, output) = try Self.run(config, out: out, extra: ["--stop-after", "predictor"])
        #expect(status == 0 && output.contains("stopped after stage predictor"), "\(output)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/search"))
        // Each stage records the pipeline file it ran with.
        let state = try #require(try PipelineState.read(URL(fileURLWithPath: "\(out)/pipeline.json")))
        #expect(state.config == config && state.stages["predictor"]?.config == config, "\(state)")
        let html = try String(contentsOfFile: "\(out)/report.html", encoding: .utf8)
        #expect(html.contains("<svg") && html.contains("SuperTransformer training") && html.contains("predicted vs measured"))
        #expect(html.contains("No search yet.") && html.contains("not run yet"))
        let (bad, message) = try Self.run(config, out: out, extra: ["--stop-after", "searching"])
        #expect(bad != 0 && message.contains("searching") && message.contains("stages: data, supernet"), "\(message)")
    }

    @Test("an interrupted stage resumes only with the settings it started with")
    func interruptedStageKeepsItsSettings() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try Self.miniConfig(in: root)
        let out = root.appendingPathComponent("out").path
        // Killed once the SuperTransformer has written a checkpoint (the stage is under way).
        let killed = try Self.runAndKill(config, out: out) {
            ((try? FileManager.default.contentsOfDirectory(atPath: "\(out)/supernet")) ?? []).contains { $0.hasPrefix("checkpoint") }
        }
        try #require(killed, "the pipeline finished before it could be killed")
        let state = try #require(try PipelineState.read(URL(fileURLWithPath: "\(out)/pipeline.json")))
        #expect(state.stages["supernet"] == nil && state.started?["supernet"] != nil, "\(state)")
        // Its settings change: resuming would continue the old run's checkpoints under new ones.
        let original = try String(contentsOfFile: config, encoding: .utf8)
        try original.replacingOccurrences(of: "warmup-updates: 20}\nlatency", with: "warmup-updates: 40}\nlatency")
            .write(toFile: config, atomically: true, encoding: .utf8)
        let (refused, message) = try Self.run(config, out: out)
        #expect(refused != 0 && message.contains("stage supernet was interrupted") && message.contains("--rerun supernet"), "\(message)")
        // With the settings restored it resumes and finishes.
        try original.write(toFile: config, atomically: true, encoding: .utf8)
        let (resumed, output) = try Self.run(config, out: out, extra: ["--stop-after", "supernet"])
        #expect(resumed == 0 && output.contains("== supernet: resuming") && output.contains("stopped after stage supernet"), "\(output)")
        let finished = try #require(try PipelineState.read(URL(fileURLWithPath: "\(out)/pipeline.json")))
        #expect(finished.stages["supernet"] != nil && finished.started?["supernet"] == nil, "\(finished)")
    }

    @Test("pipeline files with mistakes are refused with the file and key named")
    func configErrors() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let path = root.appendingPathComponent("p.yml").path
        func error(_ text: String) -> String {
            do {
                try text.write(toFile: path, atomically: true, encoding: .utf8)
                _ = try PipelineConfig(path: path)
                return "accepted"
            } catch { return "\(error)" }
        }
        #expect(error("data: {source: builtin}").contains("space: is missing"))
        #expect(error("space: s.yml\nsearhc: {}").contains("searhc: is not a pipeline section"))
        #expect(error("space: s.yml\nlatency: {samples: two}").contains("latency.samples: must be an integer"))
        #expect(error("space: s.yml\nlatency: {sample: 3}").contains("latency.sample: is not a key of this section"))
        #expect(error("space: s.yml\ntrain: {mode: warm}").contains("train.mode: is 'warm'"))
        #expect(error("space: s.yml\ndata: {source: wmt}").contains("data.source: 'wmt' is not one of builtin, multi30k, prepared"))
        #expect(error("space: [unclosed").contains("not valid YAML"))
        #expect(
            error("space: s.yml\nsupernet: {checkpoint: s.safetensors, max-update: 5}").contains("supernet: gives a checkpoint and training keys (max-update)"))
        #expect(error("space: s.yml\npredictor: {kind: gbdt}").contains(path))
        #expect(error("space: s.yml\ntest: {average-last: 0}").contains("test.average-last: must be an integer ≥ 1"))
        #expect(error("space: s.yml\ntest: {lenpen: [0.6, long]}").contains("test.lenpen: must be a number or a list of numbers"))
        #expect(error("space: s.yml\ntest: {lenpen: []}").contains("test.lenpen: is an empty list"))
        #expect(error("space: s.yml\ntest: {quantize-bits: [8, 9]}").contains("test.quantize-bits: must be bit widths from 1 to 8"))
        let ok = try PipelineConfig(
            path: {
                try! "space: s.yml\nsearch: {latency-constraint: [40%, 12ms]}".write(toFile: path, atomically: true, encoding: .utf8)
                return path
            }())
        #expect(ok.latencyConstraints == ["40%", "12ms"])
        // HAT's evolution keys mean the same in a pipeline's search section and in HAT's evolution files.
        let keys = "evo-iter: 3\npopulation-size: 12\nparent-size: 4\nmutation-size: 0\ncrossover-size: 6\nmutation-prob: 0.5\nrepair-offspring: true"
        try "space: s.yml\nsearch:\n  \(keys.replacingOccurrences(of: "\n", with: "\n  "))\n".write(toFile: path, atomically: true, encoding: .utf8)
        let pipeline = try PipelineConfig(path: path)
        let hat = try EvolutionConfigFile(file: HATConfigFile(text: keys, path: "evo.yml"))
        #expect(pipeline.evolution == hat.settings && hat.settings.iterations == 3 && hat.settings.repairOffspring)
        #expect(error("space: s.yml\nsearch: {mutation-prob: 1.5}").contains("search.mutation-prob: must be a probability in [0, 1]"))
        #expect(error("space: s.yml\nsearch: {evo-iter: 0}").contains("search.evo-iter: must be an integer ≥ 1"))
        #expect(ok.space == root.appendingPathComponent("s.yml").standardizedFileURL.path)
    }
}

@Suite("Report charts")
struct ReportChartTests {
    /// Both found by looking at a pipeline report in headless Chromium.
    @Test("no \"-0\" tick labels; a constraint label near the right edge stays inside the frame")
    func tickLabelsAndReferenceLabels() {
        #expect(XYChart.label(-1e-12, ticks: [0, 10, 20]) == "0")
        #expect(XYChart.label(-0.001, ticks: [-0.2, 0, 0.2]) == "0.0")
        #expect(XYChart.label(-10, ticks: [-10, 0, 10]) == "-10")
        var chart = XYChart(title: "t", xLabel: "x", yLabel: "y")
        chart.series.append(.init("points", color: "#000", style: .points(radius: 2, opacity: 1), points: [(x: 20, y: 1), (x: 80, y: 2)]))
        chart.references.append(.init(label: "constraint 85ms", x: 85, y: nil, color: "#d62728"))
        chart.references.append(.init(label: "constraint 40ms", x: 40, y: nil, color: "#d62728"))
        let svg = chart.svg
        #expect(svg.contains("text-anchor=\"end\" font-size=\"11\" fill=\"#d62728\">constraint 85ms"), "\(svg)")
        #expect(svg.contains("text-anchor=\"start\" font-size=\"11\" fill=\"#d62728\">constraint 40ms"), "\(svg)")
        #expect(!svg.contains(">-0<"))
    }

    @Test("names read from a folder's files are escaped in report.html")
    func namesAreEscaped() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let supernet = root.appendingPathComponent("supernet")
        try FileManager.default.createDirectory(at: supernet, withIntermediateDirectories: true)
        let hostile = "<script>alert(1)</script>"
        let rows = [#"{"update": 1, "loss": 5.0}"#, #"{"update": 1, "loss": 4.0, "split": "valid", "subtransformer": "\#(hostile)"}"#]
        try (rows.joined(separator: "\n") + "\n").write(to: supernet.appendingPathComponent("metrics.jsonl"), atomically: true, encoding: .utf8)
        let html = try ReportPage(directory: root).trainingSection(folder: "supernet", title: "training")
        #expect(!html.contains(hostile) && html.contains("&lt;script&gt;"), "\(html)")
    }
}
