import Foundation
import TestSupport
import Testing

/// `--json` on the commands that print a result: standard output is one JSON document (what a
/// script pipes into a JSON reader) in the shared key style (snake_case), the readable lines go to standard
/// error, and the numbers are the ones the readable output gives.
@Suite("JSON output")
struct JSONOutputTests {
    /// Parses a command's standard output as a JSON object or array.
    static func json(_ out: String, _ command: String) throws -> Any {
        do { return try JSONSerialization.jsonObject(with: Data(out.utf8)) } catch {
            Issue.record("\(command) --json printed something that is not JSON: \(out.prefix(500))")
            throw error
        }
    }

    @Test("pipeline, search, validate, test and the latency commands print one JSON document; their log goes to stderr")
    func everyResultAsJSON() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let config = try PipelineTests.miniConfig(in: root)
        let out = root.appendingPathComponent("out").path
        let pipeline = try HATBinary.run(["pipeline", "--config", config, "--out", out, "--stop-after", "predictor", "--json"])
        #expect(pipeline.status == 0, "\(pipeline.err)")
        let p = try #require(try Self.json(pipeline.out, "pipeline") as? [String: Any])
        #expect(p["directory"] as? String == out && (p["report"] as? String)?.hasSuffix("report.html") == true, "\(p)")
        #expect(pipeline.err.contains("== supernet") && pipeline.err.contains("stopped after stage predictor"), "\(pipeline.err)")

        let space = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
        let predictor = try #require(
            try FileManager.default.contentsOfDirectory(atPath: "\(out)/predictor")
                .first { $0.hasPrefix("predictor.") }.map { "\(out)/predictor/\($0)" })
        let supernet = "\(out)/supernet/checkpoint_last.safetensors"
        let search = try HATBinary.run([
            "search", "--supernet", supernet, "--space", space, "--data", "\(out)/data", "--predictor", predictor,
            "--latency-constraint", "10s", "--evo-iter", "2", "--population-size", "6", "--parent-size", "2",
            "--mutation-size", "2", "--crossover-size", "2", "--valid-subset", "40", "--length", "10", "--beam", "2",
            "--no-measure", "--threads", "1", "--out", root.appendingPathComponent("search").path, "--json",
        ])
        #expect(search.status == 0, "\(search.err)")
        let s = try #require(try Self.json(search.out, "search") as? [String: Any])
        let front = try #require(s["front"] as? [[String: Any]])
        #expect(front.count == 1 && front[0]["loss"] is Double && front[0]["predicted_latency_ms"] is Double, "\(s)")
        #expect(search.err.contains("loss"), "the readable Pareto line goes to stderr: \(search.err)")

        let chosen = root.appendingPathComponent("search").appendingPathComponent(try #require(front[0]["subtransformer"] as? String)).path
        // hat validate gives the search's fitness for the same SubTransformer and validation pairs.
        let validate = try HATBinary.run([
            "validate", "--checkpoint", supernet, "--subtransformer", chosen, "--data", "\(out)/data", "--valid-subset", "40",
            "--threads", "1", "--json",
        ])
        #expect(validate.status == 0, "\(validate.err)")
        let v = try #require(try Self.json(validate.out, "validate") as? [[String: Any]])
        let searchLoss = try #require(front[0]["loss"] as? Double), validLoss = try #require(v.first?["loss"] as? Double)
        #expect(v.count == 1 && abs(validLoss - searchLoss) < 1e-9 && v[0]["sentences"] as? Int == 40, "\(v) against the search's \(searchLoss)")
        let noSub = try HATBinary.run(["validate", "--checkpoint", supernet, "--data", "\(out)/data"])
        #expect(noSub.status != 0 && noSub.err.contains("is a SuperTransformer: give --subtransformer"), "\(noSub.err)")

        let test = try HATBinary.run([
            "test", "--checkpoint", supernet, "--subtransformer", chosen, "--data", "\(out)/data", "--split", "test",
            "--beam", "2", "--threads", "1", "--out", root.appendingPathComponent("test.hyp").path, "--json",
        ])
        #expect(test.status == 0, "\(test.err)")
        let t = try #require(try Self.json(test.out, "test") as? [String: Any])
        let scores = try #require(t["scores"] as? [[String: Any]])
        #expect(t["sentences"] as? Int == 40 && scores.map { $0["name"] as? String } == ["BLEU", "chrF2"], "\(t)")
        // The same BLEU as the readable report (on stderr here) prints.
        let bleu = try #require(scores[0]["score"] as? Double)
        #expect(test.err.contains(String(format: "BLEU = %.2f", bleu)), "\(test.err)")

        let csv = "\(out)/latency/latency.csv"
        let evaluate = try HATBinary.run([
            "latency", "evaluate", "--predictor", predictor, "--data", csv, "--plot", root.appendingPathComponent("e.svg").path, "--json",
        ])
        #expect(evaluate.status == 0, "\(evaluate.err)")
        let e = try #require(try Self.json(evaluate.out, "latency evaluate") as? [String: Any])
        let metrics = try #require(e["metrics"] as? [String: Any])
        #expect(e["rows"] as? Int == 24 && metrics["spearman"] is Double && metrics["rmse"] is Double, "\(e)")

        let predict = try HATBinary.run(["latency", "predict", "--predictor", predictor, "--space", space, chosen, "--json"])
        #expect(predict.status == 0, "\(predict.err)")
        let predictions = try #require(try Self.json(predict.out, "latency predict") as? [[String: Any]])
        #expect(predictions.count == 1 && predictions[0]["subtransformer"] as? String == chosen && predictions[0]["predicted_ms"] is Double)

        let trained = try HATBinary.run([
            "latency", "train-predictor", "--data", csv, "--kind", "ridge",
            "--out", root.appendingPathComponent("ridge.json").path, "--json",
        ])
        #expect(trained.status == 0, "\(trained.err)")
        let r = try #require(try Self.json(trained.out, "latency train-predictor") as? [String: Any])
        #expect((r["scored"] as? [[String: Any]])?.map { $0["name"] as? String } == ["train", "valid", "test"], "\(r)")
        #expect(trained.err.contains("split:"), "\(trained.err)")

        let dataset = try HATBinary.run([
            "latency", "dataset", "--space", space, "--vocab", "300", "--count", "2", "--length", "4", "--beam", "2",
            "--iterations", "2", "--warmup", "1", "--threads", "1",
            "--out", root.appendingPathComponent("lat.csv").path, "--json",
        ])
        #expect(dataset.status == 0, "\(dataset.err)")
        let d = try #require(try Self.json(dataset.out, "latency dataset") as? [String: Any])
        #expect(d["rows"] as? Int == 2 && (d["provenance"] as? [String: Any])?["threads"] as? Int == 1, "\(d)")
    }
}
