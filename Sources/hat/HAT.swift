import ArgumentParser
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
        version: "\(versionNumber)\n\(BLAS.kernelDescription)\nCPU: \(MeasurementProvenance.cpuModelName()), \(ParallelSettings.availableCores) cores",
        subcommands: [
            DataCommand.self, TrainCommand.self, AverageCommand.self, TranslateCommand.self, TestCommand.self,
            ScoreCommand.self, SampleCommand.self, ProfileCommand.self, LatencyCommand.self, SearchCommand.self,
            PipelineCommand.self, ReportCommand.self, ExportCommand.self, ImportCommand.self, ModelsCommand.self, SelfCheck.self,
        ]
    )

    /// Sends every module's log messages to standard error before any command runs.
    static func main() {
        LoggingSystem.bootstrap(StandardErrorLogHandler.init)
        main(nil)
    }
}
