import Foundation
import Generate
import Model
import NN
import TensorEngine

/// Measures a SubTransformer's inference latency on this machine with HAT's method
/// (hat-reference.md §6): one sentence of `length` tokens, batch 1, beam `beam`; the encoder
/// is one forward pass, the decoder `length` incremental steps over beam × 1 hypotheses with
/// cached states; `warmup` untimed runs, then `iterations` timed runs, of which the fastest
/// and slowest 10 % are dropped; mean and standard deviation, separately, in milliseconds.
public struct LatencyMeasurement: Codable, Sendable, Equatable {
    public var encoderMeanMs: Double
    public var decoderMeanMs: Double
    public var encoderStdMs: Double
    public var decoderStdMs: Double
    public var iterations: Int
    public var length: Int
    public var beam: Int
    /// The memory a measuring command reported (`--command-output encoder-decoder-memory`); the
    /// built-in measurement leaves it nil (its memory comes from `InferenceMemoryMeter`).
    public var memory: LatencyRow.Memory?
    public var totalMs: Double { encoderMeanMs + decoderMeanMs }

    public init(
        encoderMeanMs: Double, decoderMeanMs: Double, encoderStdMs: Double, decoderStdMs: Double,
        iterations: Int, length: Int, beam: Int, memory: LatencyRow.Memory? = nil
    ) {
        self.encoderMeanMs = encoderMeanMs
        self.decoderMeanMs = decoderMeanMs
        self.encoderStdMs = encoderStdMs
        self.decoderStdMs = decoderStdMs
        self.iterations = iterations
        self.length = length
        self.beam = beam
        self.memory = memory
    }
}

public struct LatencyMeasurer {
    /// What a run's time is read from.
    public enum Clock: String, Sendable, CaseIterable {
        /// Elapsed time (HAT's method).
        case wall
        /// CPU time of this process (all its threads): on a machine shared with other jobs it
        /// leaves out the time the scheduler gives to them, so repeated measurements agree far
        /// better (docs/PERFORMANCE.md); equal to wall time on an idle machine with one thread.
        case cpu

        /// Nanoseconds on this clock.
        func now() -> UInt64 {
            switch self {
            case .wall: return DispatchTime.now().uptimeNanoseconds
            case .cpu:
                var t = timespec()
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
                return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
            }
        }
    }

    public var length: Int
    public var beam: Int
    public var warmup: Int
    public var iterations: Int
    public var clock: Clock

    public init(length: Int = 30, beam: Int = 5, warmup: Int = 5, iterations: Int = 20, clock: Clock = .wall) {
        self.length = length
        self.beam = beam
        self.warmup = warmup
        self.iterations = iterations
        self.clock = clock
    }

    /// Trimmed mean and std: the fastest and slowest 10 % of samples are dropped.
    public static func trimmedStatistics(_ samples: [Double]) -> (mean: Double, std: Double) {
        let sorted = samples.sorted()
        let cut = sorted.count / 10
        let kept = Array(sorted[cut..<(sorted.count - cut)])
        let mean = kept.reduce(0, +) / Double(kept.count)
        let variance = kept.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(kept.count)
        return (mean, variance.squareRoot())
    }

    /// Measures `config` inside `model` (a SuperTransformer of the right vocabulary sizes; the
    /// weights' values do not matter for latency). Tokens are fixed, non-special ids.
    public func measure(model: SuperTransformer, config: SubTransformerConfig) -> LatencyMeasurement {
        let source = TokenBatch(
            tokens: (0..<length).map { Int32(4 + $0 % Swift.max(model.sourceVocabSize - 4, 1)) },
            batchSize: 1, length: length)
        var encoderTimes: [Double] = [], decoderTimes: [Double] = []
        for i in 0..<(warmup + iterations) {
            let t0 = clock.now()
            let encoded = withNoGrad { model.encode(source, config: config, context: .evaluation()) }
            let t1 = clock.now()
            decode(model: model, config: config, encoded: encoded)
            let t2 = clock.now()
            if i >= warmup {
                encoderTimes.append(Double(t1 - t0) / 1e6)
                decoderTimes.append(Double(t2 - t1) / 1e6)
            }
        }
        let e = Self.trimmedStatistics(encoderTimes), d = Self.trimmedStatistics(decoderTimes)
        return LatencyMeasurement(
            encoderMeanMs: e.mean, decoderMeanMs: d.mean, encoderStdMs: e.std, decoderStdMs: d.std,
            iterations: iterations, length: length, beam: beam)
    }

    /// `length` incremental steps over `beam` hypotheses (HAT's decoder latency). Each step
    /// feeds a fixed token and keeps the rows in place; beam bookkeeping (top-k over the
    /// vocabulary) is included as a selection over the step's log-probabilities.
    func decode(model: SuperTransformer, config: SubTransformerConfig, encoded: EncoderOutput) {
        let decoder = IncrementalDecoder(
            model: model, config: config, encoderOutput: encoded, rowsPerSentence: beam,
            maxLength: length)
        var tokens = [Int32](repeating: 2, count: beam)
        let rotation = (0..<beam).map { ($0 + 1) % beam }
        for _ in 0..<length {
            let lprobs = decoder.step(tokens)
            // The cost of choosing the next tokens: an argmax per row over the vocabulary.
            let p = lprobs.dataPointer, v = lprobs.shape[1]
            for r in 0..<beam {
                var best = 4
                for j in 4..<v where p[r * v + j] > p[r * v + best] { best = j }
                tokens[r] = Int32(best)
            }
            // Beam search moves hypotheses between rows every step; a rotation within the beam
            // costs what such a reorder costs (self-attention caches copied, cross-attention
            // states kept: every row stays in its sentence).
            decoder.reorder(rows: rotation)
        }
    }
}
