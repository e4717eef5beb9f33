import Foundation
import Model

/// The built-in latency predictor: latency as a linear function of the work HAT's
/// measurement does (hat-reference.md §6), fitted by least squares.
///
///     latency ≈ w₀ + w₁·L_enc + w₂·MAC_enc + w₃·L_dec + w₄·MAC_dec + w₅·length·d_dec
///
/// MAC_enc is the encoder's multiply-accumulates for one `length`-token sentence; MAC_dec the
/// decoder's over `length` incremental steps of `beam` hypotheses (self-attention over the
/// growing cache, cross-attention over the attended encoder layers, FFN); the layer counts
/// carry the per-layer overhead that dominates small models on a CPU; length·d_dec stands for
/// the output projection, whose vocabulary size is absorbed in its weight. Every regressor is
/// computed from HAT's 10 features alone, so the model fits HAT's latency CSVs as well as
/// configs. HAT found a linear regression on the features about as accurate as its MLP (§6).
public struct FLOPsLatencyModel: LatencyPredicting, Codable, Equatable, Sendable {
    public var qkvDim: Int
    public var length: Int
    public var beam: Int
    /// w₀ … w₅, in milliseconds per unit of each regressor.
    public var weights: [Double]
    /// Where it was fitted from, for messages ("wmt14ende_cpu_xeon_all.csv, 2000 rows").
    public var source: String
    /// Root-mean-square error of the fit on its own samples, in ms.
    public var fitRMSEMs: Double

    public static let regressorNames = ["intercept", "encoder_layers", "encoder_macs", "decoder_layers", "decoder_macs",
                                        "output_projection"]

    /// The regressors of one SubTransformer described by HAT's 10 features (`SubTransformerConfig.hatFeatures`).
    public static func regressors(features f: [Double], qkvDim: Int, length: Int, beam: Int) -> [Double] {
        precondition(f.count == 10, "HAT has 10 latency features, got \(f.count)")
        let q = Double(qkvDim), n = Double(length), b = Double(beam)
        let de = f[0], le = f[1], fe = f[2], dd = f[4], ld = f[5], fd = f[6]
        let attended = Swift.min(f[9], le)  // mean number of encoder layers cross-attention reads, capped by depth
        // Encoder, one sentence (the profiler's rule, hat-reference.md §5).
        let encoderLayer = n * de * 3 * q + n * q + 2 * n * n * q + n * q * de + 2 * n * de * fe + 2 * n * de
        let encoder = le * encoderLayer + n * de
        // Decoder, `length` steps of `beam` rows; cross-attention keys/values projected once.
        let keys = n * attended
        let perStep = b * (dd * 3 * q + q + q * dd) + b * (dd * q + q + q * dd) + b * 2 * keys * q + b * 2 * dd * fd + 3 * b * dd
        let decoderLayer = n * perStep + b * q * n * (n + 1) + keys * de * 2 * q
        return [1, le, encoder, ld, ld * decoderLayer, n * dd]
    }

    public init(qkvDim: Int, length: Int, beam: Int, weights: [Double], source: String, fitRMSEMs: Double = .nan) {
        precondition(weights.count == Self.regressorNames.count)
        self.qkvDim = qkvDim
        self.length = length
        self.beam = beam
        self.weights = weights
        self.source = source
        self.fitRMSEMs = fitRMSEMs
    }

    /// Least-squares fit to (features, latency ms) samples.
    public init(fitting samples: [(features: [Double], latencyMs: Double)], qkvDim: Int, length: Int, beam: Int, source: String) throws {
        guard samples.count >= 2 else {
            throw SearchError.badPredictor("\(source): \(samples.count) latency samples are too few to fit a latency model")
        }
        let rows = samples.map { Self.regressors(features: $0.features, qkvDim: qkvDim, length: length, beam: beam) }
        let targets = samples.map(\.latencyMs)
        let w = LeastSquares.solve(rows: rows, targets: targets)
        var squared = 0.0
        for (row, y) in zip(rows, targets) {
            let e = zip(row, w).reduce(0) { $0 + $1.0 * $1.1 } - y
            squared += e * e
        }
        self.init(qkvDim: qkvDim, length: length, beam: beam, weights: w, source: source,
                  fitRMSEMs: (squared / Double(samples.count)).squareRoot())
    }

    public func predictMilliseconds(features: [Double]) -> Double {
        let x = Self.regressors(features: features, qkvDim: qkvDim, length: length, beam: beam)
        return zip(x, weights).reduce(0) { $0 + $1.0 * $1.1 }
    }

    public func predictMilliseconds(_ config: SubTransformerConfig) -> Double { predictMilliseconds(features: config.hatFeatures) }

    public func write(to url: URL) throws { try AtomicFile.write(try AtomicFile.jsonEncoder(pretty: true).encode(self), to: url) }

    public init(contentsOf url: URL) throws {
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw SearchError.badPredictor("\(url.path): cannot read the latency model")
        }
        do {
            self = try AtomicFile.jsonDecoder().decode(FLOPsLatencyModel.self, from: data)
        } catch {
            throw SearchError.badPredictor("\(url.path): not a latency model written by hat search (\(error))")
        }
        guard weights.count == Self.regressorNames.count else {
            throw SearchError.badPredictor("\(url.path): a latency model has \(Self.regressorNames.count) weights, this one \(weights.count)")
        }
    }
}
