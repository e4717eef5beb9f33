import ArgumentParser
import Cluster
import Foundation
import Latency
import Logging
import TensorEngine

/// The `hat` command-line tool: one small file per subcommand, no logic of its own.
@main
struct HAT: ParsableCommand {
    static let versionNumber = "0.1.0"

    static let configuration = CommandConfiguration(
        commandName: "hat",
        abstract: "Hardware-aware neural architecture search for Transformer translation models (HAT, in Swift).",
        // `hat --version` also says which kernels this CPU gets (docs/PERFORMANCE.md), since speed
        // depends on it more than on anything else.
        version: [
            versionNumber, BLAS.kernelDescription, QuantizedMatrix.kernelDescription,
            "CPU: \(MeasurementProvenance.cpuModelName()), \(ParallelSettings.availableCores) cores",
        ].joined(separator: "\n"),
        subcommands: [
            DataCommand.self, TrainCommand.self, AverageCommand.self, TranslateCommand.self, TestCommand.self, ValidateCommand.self,
            ScoreCommand.self, SampleCommand.self, ProfileCommand.self, LatencyCommand.self, SearchCommand.self,
            PipelineCommand.self, ReportCommand.self, PlotCommand.self, ExportCommand.self, ImportCommand.self, ModelsCommand.self, SelfCheck.self,
            ClusterCommand.self, QuantizeCommand.self,
        ]
    )

    /// The commands that divide their work between the ranks of an MPI job (docs/SCALING.md).
    static let distributedCommands: Set<String> = ["cluster", "search", "train"]

    /// Sends every module's log messages to standard error before any command runs.
    static func main() {
        LoggingSystem.bootstrap(StandardErrorLogHandler.init)
        // Under mpirun or srun any other command would run once per rank, each writing the same
        // output at once: refused (by rank 0 alone, so the message appears once).
        if DistributedGroup.isLaunched, let name = CommandLine.arguments.dropFirst().first, !name.hasPrefix("-"),
            !distributedCommands.contains(name)
        {
            if DistributedGroup.launchedRank == 0 {
                FileHandle.standardError.write(
                    Data(
                        ("error: `hat \(name)` runs as one process; under mpirun or srun hat runs "
                            + "\(distributedCommands.sorted().map { "`hat \($0)`" }.joined(separator: ", ")) (docs/SCALING.md)\n").utf8))
            }
            Foundation.exit(64)
        }
        main(nil)
    }
}
