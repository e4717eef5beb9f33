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
        LatencyPredictorSource.copyURL(in: directory, stem: "memory_predictor", kind: kind)
    }

    /// The memory predictor of the search in `directory`: the copy saved there when the folder
    /// already holds a search, else the file at `path`, checked to predict memory and saved there.
    public func predictor(searchDirectory directory: URL, log: (String) -> Void) throws -> TrainedMemoryPredictor {
        let file = LatencyPredictorSource.savedCopy(in: directory, stem: "memory_predictor")?.path ?? path
        let loaded: any LatencyPredictor
        do { loaded = try PredictorFile.load(file) } catch { throw SearchError.badPredictor("--memory-predictor: \(error)") }
        let predictor = try TrainedMemoryPredictor(loaded, path: file)
        let p = loaded.provenance
        log("memory predictor: \(file) (\(p.method), trained on \(p.trainingDescription))")
        if file == path {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try loaded.save(to: Self.savedPredictorURL(in: directory, kind: loaded.kind).path)
        }
        return predictor
    }
}
