import Foundation
import TensorEngine

/// Averages the model weights of several checkpoints (HAT's IWSLT protocol averages the last
/// ten epochs), writing a checkpoint with the first one's state and no optimizer moments.
public enum CheckpointAverager {
    /// The newest `count` epoch checkpoints (`checkpointN.safetensors`) in `directory`, newest first.
    public static func lastEpochCheckpoints(in directory: URL, count: Int) throws -> [URL] {
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        let numbered = files.compactMap { f -> (Int, String)? in
            guard f.hasPrefix("checkpoint"), f.hasSuffix(".safetensors") else { return nil }
            let middle = f.dropFirst("checkpoint".count).dropLast(".safetensors".count)
            return Int(middle).map { ($0, f) }
        }.sorted { $0.0 > $1.0 }
        return numbered.prefix(count).map { directory.appendingPathComponent($0.1) }
    }

    public static func average(_ inputs: [URL], output: URL) throws {
        guard let first = inputs.first else { throw TrainingError.invalid("no checkpoints to average") }
        let firstFile = try SafeTensorsFile.read(from: first)
        let state = try Checkpoint.readState(firstFile, path: first.path)
        let names = firstFile.names.filter { $0.hasPrefix("model.") }
        var sums: [String: [Double]] = [:]
        for name in names { sums[name] = try firstFile.tensor(name).floats().map(Double.init) }
        for url in inputs.dropFirst() {
            let file = try SafeTensorsFile.read(from: url)
            let s = try Checkpoint.readState(file, path: url.path)
            guard s.space == state.space, s.subTransformer == state.subTransformer, s.sourceVocabSize == state.sourceVocabSize else {
                throw TrainingError.invalid("\(url.path) is from a different model than \(first.path): only checkpoints of one run can be averaged")
            }
            for name in names {
                guard let entry = file[name], entry.shape == firstFile[name]!.shape else {
                    throw TrainingError.badCheckpoint("\(url.path): tensor \(name) is missing or has another shape")
                }
                let values = try entry.floats()
                for i in values.indices { sums[name]![i] += Double(values[i]) }
            }
        }
        var out = SafeTensorsFile(metadata: [
            "format": Checkpoint.format, "state": try Checkpoint.encode(state),
            "averaged_from": inputs.map(\.lastPathComponent).joined(separator: ","),
        ])
        let n = Double(inputs.count)
        for name in names {
            try out.add(name, floats: sums[name]!.map { Float($0 / n) }, shape: firstFile[name]!.shape)
        }
        try out.write(to: output)
    }
}
