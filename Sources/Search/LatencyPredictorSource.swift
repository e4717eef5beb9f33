import Foundation
import Latency
import Model
import NN
import TensorEngine

/// Where `hat search --predictor P` gets its latency predictor, until the Latency stage's
/// trained predictors are wired in (they conform to `LatencyPredicting`):
///
/// - `FILE.csv`: a HAT latency CSV (measured on the target device); `FLOPsLatencyModel` is fitted to it;
/// - `FILE.json`: a `FLOPsLatencyModel` saved earlier (every search writes its own as `latency_model.json`);
/// - `measure` or `measure:N`: calibrate on this machine: N SubTransformers of the space (the
///   largest, the smallest, and random ones; default 12) are measured with HAT's method and the model fitted to them.
public enum LatencyPredictorSource: Equatable, Sendable, CustomStringConvertible {
    case csv(path: String)
    case saved(path: String)
    case measure(samples: Int)

    public init(_ text: String) throws {
        if text == "measure" {
            self = .measure(samples: 12)
        } else if text.hasPrefix("measure:") {
            guard let n = Int(text.dropFirst("measure:".count)), n >= 3 else {
                throw SearchError.badPredictor("--predictor \(text): write measure:N with N ≥ 3 SubTransformers to measure")
            }
            self = .measure(samples: n)
        } else if text.lowercased().hasSuffix(".csv") {
            self = .csv(path: text)
        } else if text.lowercased().hasSuffix(".json") {
            self = .saved(path: text)
        } else {
            throw SearchError.badPredictor("--predictor \(text): give a HAT latency CSV (FILE.csv), a saved latency model "
                                           + "(FILE.json), or 'measure' to calibrate on this machine")
        }
    }

    public var description: String {
        switch self {
        case .csv(let path): return "csv:\(URL(fileURLWithPath: path).standardizedFileURL.path)"
        case .saved(let path): return "model:\(URL(fileURLWithPath: path).standardizedFileURL.path)"
        case .measure(let n): return "measure:\(n)"
        }
    }

    /// Builds the model. `measureModel` is a SuperTransformer of the search's vocabulary sizes
    /// (only for `measure`); `log` reports what was fitted and how well.
    public func load(space: SearchSpace, length: Int, beam: Int, seed: UInt64, measureModel: () throws -> SuperTransformer,
                     log: (String) -> Void) throws -> FLOPsLatencyModel {
        let model: FLOPsLatencyModel
        switch self {
        case .csv(let path):
            let rows = try LatencySamplesCSV.read(path)
            model = try FLOPsLatencyModel(fitting: rows, qkvDim: space.qkvDim, length: length, beam: beam,
                                          source: "\(URL(fileURLWithPath: path).lastPathComponent), \(rows.count) rows")
        case .saved(let path):
            model = try FLOPsLatencyModel(contentsOf: URL(fileURLWithPath: path))
            return model
        case .measure(let n):
            let supernet = try measureModel()
            let measurer = LatencyMeasurer(length: length, beam: beam, warmup: 2, iterations: 10)
            var rng = RandomGenerator(seed: seed)
            let configs = [space.largest, space.smallest] + (0..<(n - 2)).map { _ in space.sample(rng: &rng) }
            var rows: [(features: [Double], latencyMs: Double)] = []
            for (i, c) in configs.enumerated() {
                let m = measurer.measure(model: supernet, config: c)
                rows.append((c.hatFeatures, m.totalMs))
                log(String(format: "calibrating latency on this machine: %d/%d measured (%.2f ms)", i + 1, configs.count, m.totalMs))
            }
            model = try FLOPsLatencyModel(fitting: rows, qkvDim: space.qkvDim, length: length, beam: beam,
                                          source: "\(rows.count) SubTransformers measured on this machine (BLAS \(BLAS.coreName))")
        }
        log(String(format: "latency model fitted to %@: RMSE %.3g ms", model.source, model.fitRMSEMs))
        return model
    }
}

extension LatencyPredictorSource {
    public static let savedModelFileName = "latency_model.json"

    /// The latency model of the search in `directory`: the one saved there when the folder
    /// already holds a search (a resumed search must predict exactly as before, and a
    /// calibration on this machine is not redone), else a new one, saved there.
    public func model(searchDirectory directory: URL, space: SearchSpace, length: Int, beam: Int, seed: UInt64,
                      measureModel: () throws -> SuperTransformer, log: (String) -> Void) throws -> FLOPsLatencyModel {
        let saved = directory.appendingPathComponent(Self.savedModelFileName)
        let fm = FileManager.default
        if fm.fileExists(atPath: saved.path) && fm.fileExists(atPath: directory.appendingPathComponent(SearchStateFile.fileName).path) {
            let model = try FLOPsLatencyModel(contentsOf: saved)
            log("latency model: \(saved.path) (fitted to \(model.source))")
            return model
        }
        let model = try load(space: space, length: length, beam: beam, seed: seed, measureModel: measureModel, log: log)
        try fm.createDirectory(at: directory, withIntermediateDirectories: true)
        try model.write(to: saved)
        return model
    }
}
