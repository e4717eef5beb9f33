import Foundation
import Latency
import Model
import NN
import TensorEngine

/// Where `hat search --predictor P` gets its latency predictor (all of them are the Latency
/// stage's predictors, docs/LATENCY.md):
///
/// - a predictor file written by `hat latency train-predictor` or `hat latency adapt` (`.json`
///   for ridge / cost-model / few-shot, `.safetensors` for HAT's MLP): used as it is;
/// - `FILE.csv`: a HAT-format latency CSV measured on the target device; our ridge predictor is
///   trained on all its rows (the cost model when it has fewer than 30);
/// - `measure` or `measure:N`: calibrate on this machine: N SubTransformers of the space (the
///   largest, the smallest, and random ones; default 12) are measured with HAT's method
///   (written to `latency_measured.csv`) and the cost model fitted to them.
///
/// The predictor a search used is copied into its folder (`latency_predictor.json` or
/// `.safetensors`), and a resumed search reads that copy, so it predicts exactly as before.
public enum LatencyPredictorSource: Equatable, Sendable, CustomStringConvertible {
    case file(path: String)
    case csv(path: String)
    case measure(samples: Int)

    /// Fewer rows than this are fitted by the cost model (non-negative, 6–7 terms per part), more by ridge.
    public static let ridgeMinimumRows = 30

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
        } else if text.lowercased().hasSuffix(".json") || text.lowercased().hasSuffix(".safetensors") {
            self = .file(path: text)
        } else {
            throw SearchError.badPredictor(
                "--predictor \(text): give a predictor file (.json or .safetensors from `hat latency "
                    + "train-predictor`), a HAT latency CSV (FILE.csv), or 'measure' to calibrate on this machine")
        }
    }

    public var description: String {
        switch self {
        case .file(let path): return "predictor:\(URL(fileURLWithPath: path).standardizedFileURL.path)"
        case .csv(let path): return "csv:\(URL(fileURLWithPath: path).standardizedFileURL.path)"
        case .measure(let n): return "measure:\(n)"
        }
    }

    /// Trains the predictor of a latency dataset: ridge with enough rows, the cost model below.
    public static func train(on data: LatencyDataset, seed: UInt64 = 0) -> any LatencyPredictor {
        data.count >= ridgeMinimumRows
            ? LinearLatencyPredictor.trainRidge(on: data, seed: seed)
            : LinearLatencyPredictor.trainCostModel(on: data)
    }

    /// Builds the predictor. `measureModel` is a SuperTransformer of the search's vocabulary sizes
    /// (only for `measure`); `measuredCSV` is where measured rows go; `log` reports what was fitted.
    public func load(
        space: SearchSpace, length: Int, beam: Int, seed: UInt64, measuredCSV: String,
        measureModel: () throws -> SuperTransformer, log: (String) -> Void
    ) throws -> any LatencyPredictor {
        let predictor: any LatencyPredictor
        let data: LatencyDataset
        switch self {
        case .file(let path):
            let loaded: any LatencyPredictor
            do { loaded = try PredictorFile.load(path) } catch { throw SearchError.badPredictor("\(error)") }
            try Self.checkPredictsLatency(loaded, path: path)
            return loaded
        case .csv(let path):
            do { data = try LatencyDataset(contentsOf: path) } catch { throw SearchError.badPredictor("\(error)") }
            guard data.count >= 3 else { throw SearchError.badPredictor("\(path): \(data.count) rows are too few to train a latency predictor") }
        case .measure(let n):
            let supernet = try measureModel()
            let measurer = LatencyMeasurer(length: length, beam: beam, warmup: 2, iterations: 10)
            var rng = RandomGenerator(seed: seed)
            let configs = [space.largest, space.smallest] + (0..<(n - 2)).map { _ in space.sample(rng: &rng) }
            var rows: [LatencyRow] = []
            for (i, c) in configs.enumerated() {
                let m = measurer.measure(model: supernet, config: c)
                rows.append(
                    LatencyRow(
                        config: c, encoderMean: m.encoderMeanMs, decoderMean: m.decoderMeanMs,
                        encoderStd: m.encoderStdMs, decoderStd: m.decoderStdMs))
                log(String(format: "calibrating latency on this machine: %d/%d measured (%.2f ms)", i + 1, configs.count, m.totalMs))
            }
            data = LatencyDataset(rows: rows, source: "\(rows.count) SubTransformers measured on this machine (\(BLAS.kernelDescription))")
            try data.write(to: measuredCSV)
        }
        predictor = Self.train(on: data, seed: seed)
        let fit = predictor.evaluate(on: data)
        log(
            String(
                format: "latency predictor (%@) trained on %d rows of %@: RMSE %.3g ms, MAPE %.1f %% on its own rows",
                predictor.provenance.method, data.count, data.source, fit.rmse, fit.mape))
        return predictor
    }
}

extension LatencyPredictorSource {
    /// Refuses a memory predictor given as the latency predictor (its megabytes would be read as milliseconds).
    static func checkPredictsLatency(_ predictor: any LatencyPredictor, path: String) throws {
        guard predictor.target == .latency else {
            throw SearchError.badPredictor(
                "--predictor \(path) predicts \(predictor.target), not latency: give it as --memory-predictor, and a latency predictor as --predictor")
        }
    }

    /// The predictor's copy in a search folder, by its kind.
    public static func savedPredictorURL(in directory: URL, kind: String) -> URL {
        copyURL(in: directory, stem: "latency_predictor", kind: kind)
    }

    /// A predictor file's copy in a search folder: `stem.json` or `stem.safetensors` by its kind.
    static func copyURL(in directory: URL, stem: String, kind: String) -> URL {
        directory.appendingPathComponent(stem + "." + PredictorFile.fileExtension(kind: kind))
    }

    /// The copy named `stem` that a search saved in `directory`, when the folder holds a search
    /// and the copy is there (a resumed search reads it, so it predicts exactly as before).
    static func savedCopy(in directory: URL, stem: String) -> URL? {
        let fm = FileManager.default
        guard fm.fileExists(atPath: directory.appendingPathComponent(SearchStateFile.fileName).path) else { return nil }
        // The two file types (an ensemble is a safetensors file too).
        return ["linear", "hat-mlp"].map { copyURL(in: directory, stem: stem, kind: $0) }.first { fm.fileExists(atPath: $0.path) }
    }

    /// The latency predictor of the search in `directory`: the copy saved there when the folder
    /// already holds a search (a resumed search must predict exactly as before, and a
    /// calibration on this machine is not redone), else a new one, saved there.
    public func predictor(
        searchDirectory directory: URL, space: SearchSpace, length: Int, beam: Int, seed: UInt64,
        measureModel: () throws -> SuperTransformer, log: (String) -> Void
    ) throws -> any LatencyPredictor {
        if let saved = Self.savedCopy(in: directory, stem: "latency_predictor") {
            let p: any LatencyPredictor
            do { p = try PredictorFile.load(saved.path) } catch { throw SearchError.badPredictor("\(error)") }
            try Self.checkPredictsLatency(p, path: saved.path)
            log(
                "latency predictor: \(saved.path) (\(p.provenance.method), trained on \(p.provenance.trainingDescription))"
            )
            return p
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let p = try load(
            space: space, length: length, beam: beam, seed: seed,
            measuredCSV: directory.appendingPathComponent("latency_measured.csv").path, measureModel: measureModel, log: log)
        try p.save(to: Self.savedPredictorURL(in: directory, kind: p.kind).path)
        return p
    }
}
