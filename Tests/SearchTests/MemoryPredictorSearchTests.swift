import Foundation
import Latency
import Model
import TensorEngine
import TestSupport
import Testing

@testable import Search

/// `hat search --memory-predictor`: the memory constraint looks at a measured-memory predictor
/// instead of the profiler's estimate, and a latency predictor is never taken for one.
@Suite("Search with a memory predictor")
struct MemoryPredictorSearchTests {
    /// A memory predictor of the tiny space trained on "measured" memory that is 1.5 × the
    /// profiler's estimate plus 2 MB (a device whose runtime holds more than the estimate).
    static func trainedMemoryPredictor(_ space: SearchSpace) -> any LatencyPredictor {
        let profiler = Fixtures.profiler(space)
        var rng = RandomGenerator(seed: 4)
        let rows = (0..<80).map { _ -> LatencyRow in
            let c = space.sample(rng: &rng)
            let estimate = Double(profiler.peakInferenceBytes(c, length: 30, beam: 5)) / 1e6
            return LatencyRow(
                config: c, encoderMean: 1, decoderMean: 2, encoderStd: 0, decoderStd: 0,
                memory: LatencyRow.Memory(modelMB: Double(profiler.weightBytes(c)) / 1e6, peakMB: 1.5 * estimate + 2))
        }
        return PredictorFile.train(kind: .ridge, on: LatencyDataset(rows: rows, source: "synthetic"), seed: 0, target: .memory)
    }

    @Test("every admitted candidate's predicted memory is within the limit; the limit binds; the profiler's estimate is not what is checked")
    func searchRespectsPredictedMemory() throws {
        let space = Fixtures.tinySpace
        let trained = Self.trainedMemoryPredictor(space)
        let memory = try TrainedMemoryPredictor(trained, path: "memory.json")
        var rng = RandomGenerator(seed: 8)
        let predicted = (0..<200).map { _ in memory.predictMegabytes(space.sample(rng: &rng)) }.sorted()
        let limit = predicted[predicted.count / 2]
        let constraints = SearchConstraints(memoryMB: limit)
        var assessor = Fixtures.assessor(space)
        assessor.memoryPredictor = memory
        let problem = SearchProblem(
            space: space, constraints: constraints, assessor: assessor, fitness: FitnessCache(evaluate: Fixtures.syntheticFitness(space)))
        let observer = RecordingObserver()
        let outcome = try EvolutionarySearch(settings: Fixtures.smallSettings).run(problem, seed: 3, observer: observer)
        let admitted = observer.candidates.filter(\.admitted), rejected = observer.candidates.filter { !$0.admitted }
        #expect(!rejected.isEmpty, "the memory limit \(limit) MB should bind")
        let profiler = Fixtures.profiler(space)
        for r in observer.candidates {
            #expect(r.measures.peakMemoryMB == memory.predictMegabytes(r.config), "\(r.config)")
            #expect(r.admitted == (r.measures.peakMemoryMB <= limit))
        }
        // The profiler's estimate alone would admit candidates the prediction rejects.
        #expect(rejected.contains { profiler.profile($0.config, length: 30, beam: 5).peakInferenceMB <= limit })
        #expect(memory.predictMegabytes(outcome.config) <= limit && constraints.admits(outcome.measures))
        #expect(!admitted.isEmpty)
    }

    @Test("a latency predictor given as the memory predictor, or a memory predictor as the latency one, is refused")
    func predictorsOfTheWrongTargetAreRefused() throws {
        let space = Fixtures.tinySpace
        let dir = try Oracle.temporaryDirectory()
        let memoryFile = dir.appendingPathComponent("memory.json").path, latencyFile = dir.appendingPathComponent("latency.json").path
        let memory = Self.trainedMemoryPredictor(space)
        try memory.save(to: memoryFile)
        var rng = RandomGenerator(seed: 2)
        let rows = (0..<40).map { _ in
            LatencyRow(config: space.sample(rng: &rng), encoderMean: 1 + Double(rng.nextFloat()), decoderMean: 3, encoderStd: 0, decoderStd: 0)
        }
        try LatencyPredictorSource.train(on: LatencyDataset(rows: rows, source: "synthetic")).save(to: latencyFile)

        func message(_ body: () throws -> Void) -> String {
            do {
                try body()
                return ""
            } catch { return "\(error)" }
        }
        let search = dir.appendingPathComponent("search")
        let asMemory = message { _ = try MemoryPredictorSource(path: latencyFile).predictor(searchDirectory: search, log: { _ in }) }
        #expect(asMemory.contains("--memory-predictor \(latencyFile) predicts latency, not memory"), "\(asMemory)")
        #expect(!FileManager.default.fileExists(atPath: search.appendingPathComponent("memory_predictor.json").path))
        let asLatency = message {
            _ = try LatencyPredictorSource(latencyFile.replacingOccurrences(of: "latency.json", with: "memory.json")).load(
                space: space, length: 30, beam: 5, seed: 0, measuredCSV: dir.appendingPathComponent("m.csv").path,
                measureModel: { fatalError("not measured") }, log: { _ in })
        }
        #expect(asLatency.contains("--predictor \(memoryFile) predicts memory, not latency"), "\(asLatency)")
        // The right ones load, and the memory predictor is copied into the search folder.
        let loaded = try MemoryPredictorSource(path: memoryFile).predictor(searchDirectory: search, log: { _ in })
        #expect(loaded.predictMegabytes(space.largest) == memory.predict(space.largest))
        #expect(FileManager.default.fileExists(atPath: search.appendingPathComponent("memory_predictor.json").path))
    }
}
