import ArgumentParser
import Foundation
import Train

/// `hat average`: average the weights of the last N epoch checkpoints (HAT's IWSLT protocol).
struct AverageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "average",
        abstract: "Average the model weights of the last N epoch checkpoints of a run (or of the given files)."
    )

    @Option(name: .customLong("save-dir"), help: "Run directory holding checkpointN.safetensors files.") var saveDir: String?
    @Option(help: "How many of the newest epoch checkpoints to average.") var last: Int = 10
    @Option(help: "Output checkpoint file.") var out: String
    @Argument(help: "Checkpoint files to average instead of --save-dir's newest.") var inputs: [String] = []

    func validate() throws {
        if saveDir == nil && inputs.isEmpty { throw ValidationError("give --save-dir or checkpoint files") }
        if last < 1 { throw ValidationError("--last must be at least 1") }
    }

    func run() throws {
        try OutputPath.checkFile(out, option: "--out")
        let files =
            inputs.isEmpty
            ? try CheckpointAverager.lastEpochCheckpoints(in: URL(fileURLWithPath: saveDir!), count: last)
            : inputs.map { URL(fileURLWithPath: $0) }
        guard !files.isEmpty else { throw CommandError("no epoch checkpoints (checkpointN.safetensors) in \(saveDir!)") }
        try CheckpointAverager.average(files, output: URL(fileURLWithPath: out))
        print("averaged \(files.count) checkpoints (\(files.map(\.lastPathComponent).joined(separator: ", "))) into \(out)")
    }
}
