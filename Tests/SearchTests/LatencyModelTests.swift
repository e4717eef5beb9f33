import Foundation
import Latency
import Model
import TensorEngine
import TestSupport
import Testing

@testable import Search

/// The search's latency predictors are the Latency stage's: a predictor file, a HAT CSV
/// (ridge trained on it), or a calibration on this machine; the copy in the search folder.
@Suite("Search latency predictor")
struct LatencyModelTests {
    @Test("a HAT latency CSV as --predictor: ridge on its rows predicts held-out rows within a few percent")
    func trainsOnHATCSVs() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        for name in ["wmt14ende_cpu_xeon_all.csv", "wmt14ende_cpu_raspberrypi_all.csv", "wmt14ende_gpu_titanxp_all.csv"] {
            let all = try LatencyDataset(contentsOf: sharedDataDirectory.appendingPathComponent("hat-latency/\(name)").path)
            #expect(all.count == 2000)
            // Train on the first 80 %, test on the last 10 % (HAT's rows are in random order already).
            let trainPath = dir.appendingPathComponent(name).path
            try all.subset(Array(0..<1600)).write(to: trainPath)
            let predictor = try LatencyPredictorSource(trainPath).load(
                space: Fixtures.space0, length: 30, beam: 5, seed: 0,
                measuredCSV: dir.appendingPathComponent("unused.csv").path,
                measureModel: { fatalError("not measured") }, log: { _ in })
            #expect(predictor.provenance.method == "ridge")
            let test = all.subset(Array(1800..<2000))
            let metrics = predictor.evaluate(on: test)
            let mean = test.latencies.reduce(0, +) / Double(test.count)
            print(String(format: "%@: held-out RMSE %.2f ms = %.1f %% of the mean %.1f ms", name, metrics.rmse, 100 * metrics.rmse / mean, mean))
            #expect(metrics.rmse / mean < 0.10, "\(name): RMSE \(metrics.rmse) ms on a mean of \(mean) ms")
            // Through the search's adapter, a config predicts as its features do.
            let c = Fixtures.space0.largest
            #expect(TrainedLatencyPredictor(predictor).predictMilliseconds(c) == predictor.predict(features: [c.hatFeatures])[0])
        }
    }

    @Test("the predictor is copied into the search folder and a resumed search reads the copy")
    func copyInSearchFolder() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let space = Fixtures.tinySpace
        var rng = RandomGenerator(seed: 3)
        let latency = Fixtures.latency(space)
        let rows = (0..<40).map { _ -> LatencyRow in
            let c = space.sample(rng: &rng)
            let l = latency.predictMilliseconds(c)
            return LatencyRow(config: c, encoderMean: 0.3 * l, decoderMean: 0.7 * l, encoderStd: 0, decoderStd: 0)
        }
        let csv = dir.appendingPathComponent("lat.csv").path
        try LatencyDataset(rows: rows, source: "synthetic").write(to: csv)
        let search = dir.appendingPathComponent("search")
        let first = try LatencyPredictorSource(csv).predictor(
            searchDirectory: search, space: space, length: 30, beam: 5, seed: 0,
            measureModel: { fatalError() }, log: { _ in })
        let copy = search.appendingPathComponent("latency_predictor.json").path
        #expect(FileManager.default.fileExists(atPath: copy))
        #expect(abs(first.predict(space.largest) - latency.predictMilliseconds(space.largest)) < 0.1 * latency.predictMilliseconds(space.largest))
        // With a search state beside it, the copy is used even when the CSV has changed since.
        try "{}".write(to: search.appendingPathComponent(SearchStateFile.fileName), atomically: true, encoding: .utf8)
        try LatencyDataset(
            rows: rows.map {
                var r = $0
                r.decoderMean *= 3
                return r
            }, source: "changed"
        ).write(to: csv)
        var logged = ""
        let resumed = try LatencyPredictorSource(csv).predictor(
            searchDirectory: search, space: space, length: 30, beam: 5, seed: 0,
            measureModel: { fatalError() }, log: { logged += $0 })
        #expect(logged.contains("latency_predictor.json"))
        for c in [space.largest, space.smallest] { #expect(resumed.predict(c) == first.predict(c)) }
    }

    @Test("--predictor accepts a predictor file, a CSV or measure[:N], and explains anything else")
    func predictorSource() throws {
        #expect(try LatencyPredictorSource("lat.csv") == .csv(path: "lat.csv"))
        #expect(try LatencyPredictorSource("runs/p/ridge.json") == .file(path: "runs/p/ridge.json"))
        #expect(try LatencyPredictorSource("mlp.safetensors") == .file(path: "mlp.safetensors"))
        #expect(try LatencyPredictorSource("measure") == .measure(samples: 12))
        #expect(try LatencyPredictorSource("measure:20") == .measure(samples: 20))
        #expect(throws: SearchError.self) { try LatencyPredictorSource("measure:1") }
        #expect {
            try LatencyPredictorSource("predictor.pt")
        } throws: { "\($0)".contains("HAT latency CSV") }
        #expect {
            try LatencyPredictorSource("missing.csv").load(
                space: Fixtures.tinySpace, length: 30, beam: 5, seed: 0, measuredCSV: "x.csv",
                measureModel: { fatalError() }, log: { _ in })
        } throws: { "\($0)".contains("missing.csv") }
    }

    @Test("measured against predicted: a warning beyond 10 %, and when the constraint breaks")
    func measuredCheck() {
        let close = MeasuredLatencyCheck.Result(constraint: "100ms", predictedMs: 95, measuredMs: 100, breaksConstraint: false)
        #expect(!close.warns && !close.line.contains("warning"))
        let off = MeasuredLatencyCheck.Result(constraint: "100ms", predictedMs: 95, measuredMs: 120, breaksConstraint: true)
        #expect(off.warns && off.line.contains("off by more than 10 %") && off.line.contains("BREAKS the constraint"))
        let under = MeasuredLatencyCheck.Result(constraint: "100ms", predictedMs: 60, measuredMs: 50, breaksConstraint: false)
        #expect(under.warns && abs(under.relativeError - 0.2) < 1e-12)
    }
}
