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
        let sub = try SubTransformerConfig(
            contentsOf: folder.subTransformerYAML, superLayers: (space.encoderLayers, space.decoderLayers),
            qkvDim: space.qkvDim)
        var training = try context.trainingConfig(config.train, section: "train")
        if training.distillFrom == PipelineConfig.supernetTeacher {
            // Knowledge distillation from the SuperTransformer's largest SubTransformer: a larger
            // model than any the search picks, whose weights the supernet stage already trained.
            training.distillFrom = folder.supernetCheckpoint
            if training.teacherSubTransformer == nil {
                let teacherYAML = folder.url(.train).appendingPathComponent("teacher.yml")
                try FileManager.default.createDirectory(at: folder.url(.train), withIntermediateDirectories: true)
                try AtomicFile.write(
                    Data(space.largest.hatYAML(comment: "The teacher of distill-from: supernet, the SuperTransformer's largest SubTransformer").utf8),
                    to: teacherYAML)
                training.teacherSubTransformer = teacherYAML.path
            }
        }
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
