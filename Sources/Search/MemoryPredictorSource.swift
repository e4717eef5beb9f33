import Foundation
import Latency

/// Where `hat search --memory-predictor FILE` gets its memory predictor: a predictor file that
/// `hat latency train-predictor --target memory` wrote. Like the latency predictor, it is copied
/// into the search folder (`memory_predictor.json` or `.safetensors`) and a resumed search reads
/// that copy, so it predicts exactly as before.
public struct MemoryPredictorSource: Equatable, Sendable, CustomStringConvertible {
    public var path: String

    public init(path: String) { self.path = path }

    public var description: String { "predictor:\(URL(fileURLWithPath: path).standardizedFileURL.path)" }

    /// The copy in a search folder, by the predictor's file kind.
    public static func savedPredictorURL(in directory: URL, kind: String) -> URL {
        directory.appendingPathComponent("memory_predictor." + PredictorFile.fileExtension(kind: kind))
    }

    /// The memory predictor of the search in `directory`: the copy saved there when the folder
    /// already holds a search, else the file at `path`, checked to predict memory and saved there.
    public func predictor(searchDirectory directory: URL, log: (String) -> Void) throws -> TrainedMemoryPredictor {
        let fm = FileManager.default
        var file = path
        if fm.fileExists(atPath: directory.appendingPathComponent(SearchStateFile.fileName).path) {
            // The two file types (an ensemble is a safetensors file too).
            if let saved = ["linear", "hat-mlp"].map({ Self.savedPredictorURL(in: directory, kind: $0) }).first(where: { fm.fileExists(atPath: $0.path) }) {
                file = saved.path
            }
        }
        let loaded: any LatencyPredictor
        do { loaded = try PredictorFile.load(file) } catch { throw SearchError.badPredictor("--memory-predictor: \(error)") }
        let predictor = try TrainedMemoryPredictor(loaded, path: file)
        let p = loaded.provenance
        log("memory predictor: \(file) (\(p.method), trained on \(p.trainingRows) rows of \(p.trainingData))")
        if file == path {
            try fm.createDirectory(at: directory, withIntermediateDirectories: true)
            try loaded.save(to: Self.savedPredictorURL(in: directory, kind: loaded.kind).path)
        }
        return predictor
    }
}
