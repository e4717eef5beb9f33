import Foundation
import Model

/// Rows of a HAT latency CSV (hat-reference.md §6): the 10 feature columns, then
/// latency_mean_encoder, latency_mean_decoder, latency_std_encoder, latency_std_decoder.
/// The latency of a row is encoder mean + decoder mean, as HAT's predictor is trained on.
///
/// Internal: the Latency stage owns the latency-dataset type; the search reads only what its
/// built-in predictor needs.
enum LatencySamplesCSV {
    static func read(_ path: String) throws -> [(features: [Double], latencyMs: Double)] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw SearchError.badPredictor("\(path): cannot read the latency CSV")
        }
        let lines = text.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        guard let header = lines.first?.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) else {
            throw SearchError.badPredictor("\(path): the latency CSV is empty")
        }
        func column(_ name: String) throws -> Int {
            guard let i = header.firstIndex(of: name) else {
                throw SearchError.badPredictor("\(path): column '\(name)' is missing; a HAT latency CSV has the header "
                                               + (SubTransformerConfig.hatFeatureNames + ["latency_mean_encoder", "latency_mean_decoder", "..."])
                                                   .joined(separator: ","))
            }
            return i
        }
        let features = try SubTransformerConfig.hatFeatureNames.map(column)
        let encoder = try column("latency_mean_encoder"), decoder = try column("latency_mean_decoder")
        var rows: [(features: [Double], latencyMs: Double)] = []
        for (n, line) in lines.dropFirst().enumerated() {
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map { Double($0.trimmingCharacters(in: .whitespaces)) }
            func value(_ i: Int) throws -> Double {
                guard i < fields.count, let v = fields[i], v.isFinite else {
                    throw SearchError.badPredictor("\(path):\(n + 2): column \(header[i]) is not a number")
                }
                return v
            }
            rows.append((try features.map(value), try value(encoder) + value(decoder)))
        }
        return rows
    }
}
