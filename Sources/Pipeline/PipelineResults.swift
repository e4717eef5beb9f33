import Datasets
import Foundation
import Model

/// `results.json`: the model the pipeline hands over, with the numbers that show it fits:
/// predicted and measured latency, sizes, and its BLEU/chrF on the test split.
public struct PipelineResults: Codable, Sendable {
    public var subtransformer: String
    public var config: SubTransformerConfig
    public var constraint: String
    public var trainMode: String
    public var supernetLoss: Double
    public var predictedLatencyMs: Double
    public var measuredLatencyMs: Double?
    public var parameters: Int
    public var flops: Int
    public var modelSizeMB: Double
    public var peakMemoryMB: Double
    public var split: String
    public var bleu: Double
    public var chrf: Double
    public var bleuSignature: String
    public var hypotheses: String
    public var sentencesPerSecond: Double
    /// The checkpoint that was tested (absent in results written before averaging existed).
    public var checkpoint: String?
    /// The model as ONNX for a device's runtime (`hat export`'s folder; absent in older results).
    public var onnx: String?
    /// The length penalty the test split was translated with, and, when `test.lenpen` listed
    /// several, the validation BLEU of each (the choice); absent in older results.
    public var lengthPenalty: Double?
    public var validBLEUByLengthPenalty: [String: Double]?
    /// The tested model K-means-quantized (`test.quantize-bits`); absent when none was asked.
    public var quantized: [QuantizedResult]?
    /// The checkpoint the model learned from by knowledge distillation (`train.distill-from`);
    /// absent when it had no teacher.
    public var teacher: String?

    /// One quantized version of the tested model: its file, size and scores on the same split.
    public struct QuantizedResult: Codable, Sendable, Equatable {
        public var bits: Int
        public var checkpoint: String
        public var fileBytes: Int
        public var bleu: Double
        public var chrf: Double
        enum CodingKeys: String, CodingKey {
            case bits, checkpoint, bleu, chrf
            case fileBytes = "file_bytes"
        }
    }

    enum CodingKeys: String, CodingKey {
        case subtransformer, config, constraint, split, bleu, chrf, hypotheses, flops
        case trainMode = "train_mode", supernetLoss = "supernet_loss", predictedLatencyMs = "predicted_latency_ms"
        case measuredLatencyMs = "measured_latency_ms", parameters = "params", modelSizeMB = "model_size_mb"
        case peakMemoryMB = "peak_memory_mb", bleuSignature = "bleu_signature", sentencesPerSecond = "sentences_per_s"
        case checkpoint, onnx
        case lengthPenalty = "lenpen", validBLEUByLengthPenalty = "valid_bleu_by_lenpen", quantized, teacher
    }

    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(try encoder.encode(self), to: url)
    }

    public static func read(_ url: URL) throws -> PipelineResults? {
        guard let bytes = FileManager.default.contents(atPath: url.path) else { return nil }
        return try JSONDecoder().decode(PipelineResults.self, from: bytes)
    }
}
