import ArgumentParser
import TensorEngine

/// The `hat` command-line tool: one small file per subcommand, no logic of its own.
@main
struct HAT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hat",
        abstract: "Hardware-aware neural architecture search for Transformer translation models (HAT, in Swift).",
        version: "0.1.0",
        subcommands: [
            DataCommand.self, TrainCommand.self, AverageCommand.self, TranslateCommand.self, TestCommand.self,
            ScoreCommand.self, SampleCommand.self, ProfileCommand.self, LatencyCommand.self, SearchCommand.self,
            PipelineCommand.self, ReportCommand.self, ExportCommand.self, SelfCheck.self,
        ]
    )
}
