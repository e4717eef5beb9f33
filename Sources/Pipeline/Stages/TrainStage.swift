import Datasets
import Foundation
import Model
import Train

/// Trains the SubTransformer the search found, from scratch (HAT) or from the supernet's weights.
struct TrainStage: StageJob {
    let context: StageContext

    var settings: [String] { [context.config.trainMode.rawValue, StageContext.sorted(context.config.train)] }

    func outputIsValid() -> Bool { (try? Checkpoint.loadModel(path: context.folder.subTransformerCheckpoint)) != nil }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder, space = context.space
        let sub = try space.subTransformer(contentsOf: folder.subTransformerYAML)
        var overrides = config.train
        if overrides["distill-from"] == PipelineConfig.supernetTeacher {
            // Knowledge distillation from the SuperTransformer's largest SubTransformer: a larger
            // model than any the search picks, whose weights the supernet stage already trained.
            overrides["distill-from"] = folder.supernetCheckpoint
            if overrides["teacher-subtransformer"] == nil {
                let teacherYAML = folder.url(.train).appendingPathComponent("teacher.yml")
                try FileManager.default.createDirectory(at: folder.url(.train), withIntermediateDirectories: true)
                try AtomicFile.write(
                    Data(space.largest.hatYAML(comment: "The teacher of distill-from: supernet, the SuperTransformer's largest SubTransformer").utf8),
                    to: teacherYAML)
                overrides["teacher-subtransformer"] = teacherYAML.path
            }
        }
        let training = try context.trainingConfig(overrides, section: "train")
        let trainer = try Trainer(
            space: space, subTransformer: sub, data: PreparedDataset(directory: folder.dataDirectory), config: training,
            saveDirectory: folder.url(.train), initFrom: config.trainMode == .finetune ? folder.supernetCheckpoint : nil,
            progress: ProgressPrinter(toStandardError: context.progressToStandardError), log: context.log)
        let final = try trainer.run()
        return [
            "checkpoint": folder.subTransformerCheckpoint, "updates": "\(final.update)", "mode": config.trainMode.rawValue,
            "best_valid_loss": final.bestValidLoss.map { String(format: "%.4f", $0) } ?? "",
        ].merging(training.distillFrom.map { ["teacher": $0] } ?? [:]) { a, _ in a }
    }
}
