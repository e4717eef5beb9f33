import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Latency

@Suite("Predictors: HAT's MLP, ridge, cost model, files")
struct PredictorTests {
    static let xeon = Result { try LatencyDataset(contentsOf: hatLatencyPath("wmt14ende_cpu_xeon_all")) }

    /// Ours against HAT's MLP on the real Xeon CSV with HAT's split (seed 0). HAT's protocol is
    /// 5000 steps at lr 1e-5 (benchmarks/latency_predictors.sh runs it on every device); a test
    /// on two busy cores affords 1000, at a 5× learning rate so the reduced MLP still converges.
    @Test func ridgeBeatsHATsMLPOnTheRealXeonSplit() throws {
        let (train, _, test) = try Self.xeon.get().split(seed: 0)
        var settings = HATMLPPredictor.Settings()
        settings.steps = 1000
        settings.learningRate = 5e-5
        let mlp = HATMLPPredictor.train(on: train, settings: settings).evaluate(on: test)
        let ridge = LinearLatencyPredictor.trainRidge(on: train).evaluate(on: test)
        #expect(ridge.rmse < mlp.rmse, "ridge \(ridge.summary) vs HAT MLP \(mlp.summary)")
        #expect(ridge.spearman > 0.97)
        #expect(mlp.spearman > 0.9, "the reduced MLP should still have learned: \(mlp.summary)")
    }

    /// The one device where ridge alone trails HAT's MLP on HAT's split (IWSLT TITAN Xp, seed 0,
    /// by 0.02 ms): the ensemble of the two must beat the MLP there too. HAT's MLP with HAT's
    /// full settings (5000 steps, lr 1e-5), trained once and used both alone and in the ensemble.
    @Test func ensembleBeatsHATsMLPWhereRidgeAloneDoesNot() throws {
        let data = try LatencyDataset(contentsOf: hatLatencyPath("iwslt14deen_gpu_titanxp_all"))
        let (train, _, test) = data.split(seed: 0)
        let mlp = HATMLPPredictor.train(on: train, settings: HATMLPPredictor.Settings())
        let ridge = LinearLatencyPredictor.trainRidge(on: train)
        let ensemble = EnsembleLatencyPredictor(linear: ridge, mlp: mlp, provenance: PredictorProvenance(method: "ensemble", training: train))
        let (m, r, e) = (mlp.evaluate(on: test), ridge.evaluate(on: test), ensemble.evaluate(on: test))
        #expect(e.rmse < m.rmse, "ensemble \(e.summary) vs HAT MLP \(m.summary) (ridge \(r.summary))")
        #expect(e.rmse <= 0.5 * (m.rmse + r.rmse) + 1e-9, "the mean's RMSE is at most the mean RMSE")
        let features = test.rows.map(\.features)
        for (i, (a, b)) in zip(ridge.predict(features: features), mlp.predict(features: features)).enumerated().prefix(5) {
            #expect(abs(ensemble.predict(test)[i] - 0.5 * (a + b)) < 1e-9)
        }
    }

    @Test func filesRoundTripWithIdenticalPredictions() throws {
        let data = try Self.xeon.get()
        let (train, valid, _) = data.split(seed: 0)
        let dir = try Oracle.temporaryDirectory()
        var settings = HATMLPPredictor.Settings()
        settings.steps = 20
        let predictors: [(String, any LatencyPredictor)] = [
            ("ridge.json", LinearLatencyPredictor.trainRidge(on: train)),
            ("cost.json", LinearLatencyPredictor.trainCostModel(on: train)),
            ("mlp.safetensors", HATMLPPredictor.train(on: train, settings: settings)),
            ("ensemble.safetensors", EnsembleLatencyPredictor.train(on: train, mlpSettings: settings)),
        ]
        for (name, p) in predictors {
            let path = dir.appendingPathComponent(name).path
            try p.save(to: path)
            let loaded = try PredictorFile.load(path)
            #expect(loaded.kind == p.kind)
            #expect(loaded.provenance == p.provenance)
            #expect(loaded.provenance.trainingSHA256 == train.sha256 && loaded.provenance.trainingRows == 1600)
            #expect(loaded.predict(valid) == p.predict(valid), "\(name)")
        }
        let mlp = try #require(try PredictorFile.load(dir.appendingPathComponent("mlp.safetensors").path) as? HATMLPPredictor)
        #expect(mlp.featureNorm == HATMLPPredictor.hatFeatureNorm)
        let file = try SafeTensorsFile.read(from: dir.appendingPathComponent("mlp.safetensors"))
        #expect(
            file.names == [
                "first_layer.bias", "first_layer.weight", "layers.0.bias", "layers.0.weight", "layers.1.bias",
                "layers.1.weight", "layers.2.bias", "layers.2.weight", "predict.bias", "predict.weight",
            ])
    }

    @Test func unreadablePredictorFilesAreRefusedClearly() throws {
        let dir = try Oracle.temporaryDirectory()
        func write(_ name: String, _ bytes: Data) -> String {
            let path = dir.appendingPathComponent(name).path
            #expect(FileManager.default.createFile(atPath: path, contents: bytes))
            return path
        }
        expectLatencyError(["nope.json", "not found"]) { _ = try PredictorFile.load(dir.appendingPathComponent("nope.json").path) }
        let csv = write("data.csv", Data((header + "\n").utf8))
        expectLatencyError(["data.csv", "is not a predictor file"]) { _ = try PredictorFile.load(csv) }
        let other = write("other.json", Data(#"{"format": "something-else", "kind": "linear"}"#.utf8))
        expectLatencyError(["other.json", "key 'format'", "not a latency predictor file"]) { _ = try PredictorFile.load(other) }
        let kind = write("kind.json", Data(#"{"format": "hat-latency-predictor", "kind": "forest"}"#.utf8))
        expectLatencyError(["kind.json", "key 'kind'", "'forest'"]) { _ = try PredictorFile.load(kind) }

        let train = try Self.xeon.get().split(seed: 0).train
        let good = dir.appendingPathComponent("good.json").path
        try LinearLatencyPredictor.trainRidge(on: train).save(to: good)
        let text = String(decoding: FileManager.default.contents(atPath: good)!, as: UTF8.self)
        let cut = write("cut.json", Data(text.prefix(text.count / 2).utf8))
        expectLatencyError(["cut.json", "does not parse"]) { _ = try PredictorFile.load(cut) }
        let badTerm = write("term.json", Data(text.replacingOccurrences(of: "\"decoder_layer_num\"", with: "\"decoder_layers\"").utf8))
        expectLatencyError(["term.json", "unknown feature 'decoder_layers'"]) { _ = try PredictorFile.load(badTerm) }
        let version = write("version.json", Data(text.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 7").utf8))
        expectLatencyError(["version.json", "version 7 is not supported"]) { _ = try PredictorFile.load(version) }

        var settings = HATMLPPredictor.Settings()
        settings.steps = 1
        let mlpPath = dir.appendingPathComponent("mlp.safetensors").path
        try HATMLPPredictor.train(on: train, settings: settings).save(to: mlpPath)
        let bytes = FileManager.default.contents(atPath: mlpPath)!
        let truncated = write("truncated.safetensors", bytes.prefix(bytes.count - 100))
        expectLatencyError(["truncated.safetensors", "safetensors"]) { _ = try PredictorFile.load(truncated) }
        var foreign = SafeTensorsFile(metadata: ["format": "pt"])
        try foreign.add("w", floats: [1, 2], shape: [2])
        let foreignPath = dir.appendingPathComponent("foreign.safetensors")
        try foreign.write(to: foreignPath)
        expectLatencyError(["foreign.safetensors", "key 'format'", "'pt'"]) { _ = try PredictorFile.load(foreignPath.path) }

        // A hostile layer count is refused before anything is allocated; non-finite weights are refused.
        var mlpFile = try SafeTensorsFile.read(from: URL(fileURLWithPath: mlpPath))
        mlpFile.metadata["hidden_layers"] = "1000000000"
        let layersPath = dir.appendingPathComponent("layers.safetensors")
        try mlpFile.write(to: layersPath)
        expectLatencyError(["layers.safetensors", "key 'hidden_layers'", "from 0 to 64"]) { _ = try PredictorFile.load(layersPath.path) }
        var poisoned = bytes  // the last stored float32 (little-endian) made NaN
        poisoned.replaceSubrange((poisoned.count - 4)..<poisoned.count, with: [0x00, 0x00, 0xC0, 0x7F])
        let nanPath = write("nan.safetensors", poisoned)
        expectLatencyError(["nan.safetensors", "not finite"]) { _ = try PredictorFile.load(nanPath) }
        // A diverged training is refused before it is saved.
        let diverged = dir.appendingPathComponent("diverged.safetensors").path
        var wild = HATMLPPredictor.Settings()
        wild.steps = 30
        wild.learningRate = 1e38
        expectLatencyError(["diverged.safetensors", "diverged"]) {
            try PredictorFile.checkTrained(HATMLPPredictor.train(on: train, settings: wild), on: train, path: diverged)
        }

        // An ensemble without its ridge member, or with a damaged one, names the key.
        let ensemble = EnsembleLatencyPredictor.train(on: train, mlpSettings: settings)
        let ensemblePath = dir.appendingPathComponent("ensemble.safetensors")
        try ensemble.save(to: ensemblePath.path)
        var file = try SafeTensorsFile.read(from: ensemblePath)
        let member = try #require(file.metadata["linear_member"])
        file.metadata["linear_member"] = member.replacingOccurrences(of: "\"version\" : 1", with: "\"version\" : 7")
        let damaged = dir.appendingPathComponent("damaged.safetensors")
        try file.write(to: damaged)
        expectLatencyError(["damaged.safetensors", "key 'linear_member'", "version 7"]) { _ = try PredictorFile.load(damaged.path) }
        file.metadata["linear_member"] = nil
        let lacking = dir.appendingPathComponent("lacking.safetensors")
        try file.write(to: lacking)
        expectLatencyError(["lacking.safetensors", "key 'linear_member'", "ridge member"]) { _ = try PredictorFile.load(lacking.path) }
    }

    @Test func costModelIsNonNegativeAndNearRidge() throws {
        let (train, _, test) = try Self.xeon.get().split(seed: 0)
        let cost = LinearLatencyPredictor.trainCostModel(on: train)
        #expect(cost.encoder.coefficients.allSatisfy { $0 >= 0 } && cost.decoder.coefficients.allSatisfy { $0 >= 0 })
        let ridge = LinearLatencyPredictor.trainRidge(on: train).evaluate(on: test)
        #expect(cost.evaluate(on: test).rmse < 1.1 * ridge.rmse)
    }

    @Test func scatterPlotIsWellFormedSVG() throws {
        let m = PredictionMetrics(predicted: [90, 210, 330], measured: [100, 200, 300])
        let svg = ScatterPlot(title: "ridge <test> & co", measured: [100, 200, 300], predicted: [90, 210, 330], metrics: m).svg
        #expect(svg.hasPrefix("<svg") && svg.hasSuffix("</svg>\n"))
        #expect(svg.contains("measured latency (ms)") && svg.contains("predicted latency (ms)"))
        #expect(svg.contains("ridge &lt;test&gt; &amp; co") && svg.contains("Spearman 1.0000"))
        #expect(svg.components(separatedBy: "<circle").count - 1 == 3)
        // Every opened element is closed (a cheap well-formedness check without an XML parser).
        let opened = svg.components(separatedBy: "<").count - 1 - 2 * (svg.components(separatedBy: "</").count - 1)
        let selfClosed = svg.components(separatedBy: "/>").count - 1
        #expect(opened == selfClosed)
        #expect(ScatterPlot.ticks(0, 100) == [0, 20, 40, 60, 80, 100])
    }
}

@Suite("Few-shot adaptation")
struct FewShotTests {
    /// Target Xeon, sources Raspberry Pi and TITAN Xp (WMT), 10 samples from the Xeon's training
    /// split, scored on its whole test split; two draws (the full protocol: 10 draws on every
    /// target, with HAT's MLP as baseline, is benchmarks/latency_predictors.sh).
    @Test func tenSamplesRankTheTargetsTestSplit() throws {
        let sources = try ["wmt14ende_cpu_raspberrypi_all", "wmt14ende_gpu_titanxp_all"].map { try LatencyDataset(contentsOf: hatLatencyPath($0)) }
        let target = try LatencyDataset(contentsOf: hatLatencyPath("wmt14ende_cpu_xeon_all"))
        var experiment = FewShotExperiment()
        experiment.draws = 2
        experiment.baselineSteps = 0
        let report = try experiment.run(sources: sources, target: target)
        for draw in report.draws {
            #expect(draw.indices.count == 10 && Set(draw.indices).count == 10)
            #expect(draw.adapted.spearman >= 0.95, "draw: \(draw.adapted.summary)")
        }
        #expect(report.testRows == 200)
    }

    @Test func adaptedPredictorIsOneLinearFileWithProvenance() throws {
        let sources = try ["wmt14ende_cpu_raspberrypi_all", "wmt14ende_gpu_titanxp_all"].map { try LatencyDataset(contentsOf: hatLatencyPath($0)) }
        let target = try LatencyDataset(contentsOf: hatLatencyPath("wmt14ende_cpu_xeon_all"))
        let few = target.subset(Array(0..<10), name: "ten.csv")
        let adapted = try FewShotAdapter(sources: sources).adapt(to: few)
        #expect(adapted.provenance.method == "few-shot" && adapted.provenance.trainingRows == 10)
        #expect(adapted.provenance.settings["source_0"]?.contains("raspberrypi") == true)
        let path = try Oracle.temporaryDirectory().appendingPathComponent("adapted.json").path
        try adapted.save(to: path)
        #expect(try PredictorFile.load(path).predict(target) == adapted.predict(target))
        expectLatencyError(["two.csv", "at least 3"]) { _ = try FewShotAdapter(sources: sources).adapt(to: target.subset([0, 1], name: "two.csv")) }
        // A source with (next to) no rows, e.g. a header-only CSV, is refused by name, not a trap.
        expectLatencyError(["empty.csv", "at least 20"]) { _ = try FewShotAdapter(sources: [sources[0], target.subset([], name: "empty.csv")]) }
    }
}
