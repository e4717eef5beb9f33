import Datasets
import Foundation
import Model
import Search
import Train

/// Trains the SuperTransformer (HAT step 1), or checks one trained earlier (`supernet: {checkpoint: …}`).
struct SupernetStage: StageJob {
    let context: StageContext

    var settings: [String] { [context.spaceText, StageContext.sorted(context.config.supernet), context.config.supernetCheckpoint ?? ""] }

    func outputIsValid() -> Bool { (try? Checkpoint.loadModel(path: context.folder.supernetCheckpoint)) != nil }

    func run() throws -> [String: String] {
        let config = context.config, folder = context.folder
        if let given = config.supernetCheckpoint {
            // A supernet trained earlier: check that it is this space's SuperTransformer on this data.
            let (_, state) = try Checkpoint.loadModel(path: given)
            guard state.subTransformer == nil else {
                throw PipelineError.config(path: config.path, key: "supernet.checkpoint", "\(given) holds a SubTransformer, not a SuperTransformer")
            }
            do {
                _ = try SearchInputs(supernet: given, spaceFile: config.space, data: folder.dataDirectory, validSubset: 1, maxTokens: nil)
            } catch {
                throw PipelineError.config(path: config.path, key: "supernet.checkpoint", "\(error)")
            }
            context.log("using the SuperTransformer trained earlier: \(given) (\(state.update) updates)")
            return ["checkpoint": given, "updates": "\(state.update)", "best_valid_loss": state.bestValidLoss.map { String(format: "%.4f", $0) } ?? ""]
        }
        let training = try context.trainingConfig(config.supernet, section: "supernet")
        let trainer = try Trainer(
            space: context.space, subTransformer: nil, data: PreparedDataset(directory: folder.dataDirectory), config: training,
            saveDirectory: folder.url(.supernet), progress: ProgressPrinter(toStandardError: context.progressToStandardError),
            log: context.log)
        let final = try trainer.run()
        return [
            "checkpoint": folder.supernetCheckpoint, "updates": "\(final.update)",
            "best_valid_loss": final.bestValidLoss.map { String(format: "%.4f", $0) } ?? "",
        ]
    }
}
