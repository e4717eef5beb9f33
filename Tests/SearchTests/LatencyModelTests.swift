import Foundation
import Model
import Testing
import TensorEngine
import TestSupport
@testable import Search

@Suite("Built-in latency model")
struct LatencyModelTests {
    @Test("fitted to HAT's latency CSVs, it predicts held-out rows within a few percent")
    func fitsHATCSVs() throws {
        for name in ["wmt14ende_cpu_xeon_all.csv", "wmt14ende_cpu_raspberrypi_all.csv", "wmt14ende_gpu_titanxp_all.csv"] {
            let rows = try LatencySamplesCSV.read(sharedDataDirectory.appendingPathComponent("hat-latency/\(name)").path)
            #expect(rows.count == 2000)
            // HAT's 8:1:1 split, without shuffling (the rows are in random order already): fit on 80 %, test on the last 10 %.
            let model = try FLOPsLatencyModel(fitting: Array(rows.prefix(1600)), qkvDim: 512, length: 30, beam: 5, source: name)
            let test = rows.suffix(200)
            let mean = test.map(\.latencyMs).reduce(0, +) / Double(test.count)
            let rmse = (test.map { pow(model.predictMilliseconds(features: $0.features) - $0.latencyMs, 2) }.reduce(0, +)
                        / Double(test.count)).squareRoot()
            print(String(format: "%@: held-out RMSE %.2f ms = %.1f %% of the mean %.1f ms", name, rmse, 100 * rmse / mean, mean))
            #expect(rmse / mean < 0.10, "\(name): RMSE \(rmse) ms on a mean of \(mean) ms")
        }
    }

    @Test("a config and its HAT features predict the same; the model survives a save and a load")
    func predictAndSave() throws {
        let space = Fixtures.tinySpace
        var rng = RandomGenerator(seed: 3)
        let latency = Fixtures.latency(space)
        let samples = (0..<30).map { _ -> (features: [Double], latencyMs: Double) in
            let c = space.sample(rng: &rng)
            return (c.hatFeatures, latency.predictMilliseconds(c))
        }
        let model = try FLOPsLatencyModel(fitting: samples, qkvDim: space.qkvDim, length: 30, beam: 5, source: "synthetic")
        let c = space.largest
        #expect(model.predictMilliseconds(c) == model.predictMilliseconds(features: c.hatFeatures))
        #expect(abs(model.predictMilliseconds(c) - latency.predictMilliseconds(c)) < 0.1 * latency.predictMilliseconds(c))
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("latency_model.json")
        try model.write(to: url)
        #expect(try FLOPsLatencyModel(contentsOf: url) == model)
    }

    @Test("--predictor accepts a CSV, a saved model or measure[:N], and explains anything else")
    func predictorSource() throws {
        #expect(try LatencyPredictorSource("lat.csv") == .csv(path: "lat.csv"))
        #expect(try LatencyPredictorSource("runs/s/latency_model.json") == .saved(path: "runs/s/latency_model.json"))
        #expect(try LatencyPredictorSource("measure") == .measure(samples: 12))
        #expect(try LatencyPredictorSource("measure:20") == .measure(samples: 20))
        #expect(throws: SearchError.self) { try LatencyPredictorSource("measure:1") }
        #expect {
            try LatencyPredictorSource("predictor.pt")
        } throws: { "\($0)".contains("HAT latency CSV") }
        #expect {
            try LatencySamplesCSV.read(Fixtures.tinySpaceFile.replacingOccurrences(of: ".yml", with: ".missing.csv"))
        } throws: { "\($0)".contains("cannot read") }
    }
}
