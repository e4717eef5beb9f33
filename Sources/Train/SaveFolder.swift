import Datasets
import Foundation
import Logging
import Model
import NN
import TensorEngine

/// A training run's save folder (`--save-dir`): held by one trainer at a time, cleaned of the
/// temporary files of a run killed while writing, and the one place that names, finds, writes,
/// promotes and prunes its checkpoints.
///
/// Names (fairseq's): `checkpointEPOCH.safetensors` at an epoch's end,
/// `checkpoint_EPOCH_UPDATE.safetensors` every save-interval-updates and when a run stops
/// mid-epoch, `checkpoint_last.safetensors` (a copy of the newest) and
/// `checkpoint_best.safetensors` (a copy of the one with the lowest validation loss).
final class SaveFolder {
    let url: URL
    private let lock: OutputLock

    static let lastName = "checkpoint_last.safetensors", bestName = "checkpoint_best.safetensors"
    static func epochName(_ epoch: Int) -> String { "checkpoint\(epoch).safetensors" }
    static func updateName(epoch: Int, update: Int) -> String { "checkpoint_\(epoch)_\(update).safetensors" }

    /// Creates and locks the folder, then removes a killed run's temporary files from it.
    init(_ url: URL, log: (String) -> Void) throws {
        self.url = url
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        lock = try OutputLock(folder: url, job: "train")
        for leftover in TemporaryFiles.removeLeftovers(in: url) {
            log("removed \(leftover), a temporary file of an earlier run that was stopped while writing")
        }
    }

    /// Lets another trainer open the folder (the end of a run).
    func release() { lock.release() }

    /// Checkpoints a run can resume from, newest first: checkpoint_last, then by modification time.
    var resumeCandidates: [URL] {
        let files = (try? FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        func rank(_ u: URL) -> (Int, Date) {
            let date = (try? u.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? .distantPast
            return (u.lastPathComponent == Self.lastName ? 1 : 0, date)
        }
        return files.filter { $0.pathExtension == "safetensors" && $0.lastPathComponent.hasPrefix("checkpoint") && $0.lastPathComponent != Self.bestName }
            .sorted { a, b in
                let (ra, rb) = (rank(a), rank(b))
                return ra.0 != rb.0 ? ra.0 > rb.0 : ra.1 > rb.1
            }
    }

    /// Loads the newest checkpoint that reads and that `sameRun` accepts into `model` and
    /// `optimizer`; nil when the folder holds no checkpoint. A damaged checkpoint is skipped for
    /// an older one (and said); another run's stops everything (`TrainingError.differentRun`), and
    /// so does a folder whose checkpoints all fail to load (`.noLoadableCheckpoint`): starting
    /// over there would overwrite them.
    func resume(
        into model: SuperTransformer, optimizer: Adam, sameRun: (CheckpointState) -> Bool,
        log: (String) -> Void, logger: Logger
    ) throws -> CheckpointState? {
        var unreadable: [String] = []
        for candidate in resumeCandidates {
            let file: SafeTensorsFile, s: CheckpointState
            do {
                file = try SafeTensorsFile.read(from: candidate)
                s = try Checkpoint.readState(file, path: candidate.path)
            } catch {
                unreadable.append("\(candidate.lastPathComponent): \(error)")
                logger.warning("skipping checkpoint \(candidate.lastPathComponent): \(error)")
                continue
            }
            guard sameRun(s) else {
                throw TrainingError.differentRun(
                    "\(candidate.path) is from a different run (space, SubTransformer or vocabulary differ): use another --save-dir")
            }
            do {
                try Checkpoint.load(file, path: candidate.path, into: model, optimizer: optimizer)
            } catch {
                unreadable.append("\(candidate.lastPathComponent): \(error)")
                logger.warning("skipping checkpoint \(candidate.lastPathComponent): \(error)")
                continue
            }
            log("resuming from \(candidate.lastPathComponent): update \(s.update), epoch \(s.batchEpoch) batch \(s.batchIndex)")
            return s
        }
        guard unreadable.isEmpty else {
            throw TrainingError.noLoadableCheckpoint(
                "\(url.path) holds \(unreadable.count) checkpoint(s) and none loads:\n  "
                    + unreadable.prefix(8).joined(separator: "\n  ")
                    + "\nNothing was changed. Restore a readable checkpoint, move these away, or use another --save-dir to start over")
        }
        return nil
    }

    /// Writes checkpoint `name` (and, by default, checkpoint_last as its copy).
    func write(_ name: String, model: SuperTransformer, optimizer: Adam, state: CheckpointState, alsoAsLast: Bool = true) throws {
        let file = url.appendingPathComponent(name)
        try Checkpoint.save(to: file, model: model, optimizer: optimizer, state: state)
        if alsoAsLast { try copy(name, as: Self.lastName) }
    }

    /// Replaces `target` by a copy of checkpoint `name` (durably: copied, synced, renamed).
    func copy(_ name: String, as target: String) throws {
        let fm = FileManager.default
        let tmp = url.appendingPathComponent(TemporaryFiles.name(for: target))
        do {
            try fm.copyItem(at: url.appendingPathComponent(name), to: tmp)
            try TemporaryFiles.sync(tmp.path)
        } catch {
            try? fm.removeItem(at: tmp)
            throw TrainingError.invalid("cannot write \(target) in \(url.path): \(error)")
        }
        guard rename(tmp.path, url.appendingPathComponent(target).path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? fm.removeItem(at: tmp)
            throw TrainingError.invalid("cannot write \(target) in \(url.path): \(reason)")
        }
        try TemporaryFiles.sync(url.path)
    }

    /// Deletes the oldest epoch and update checkpoints beyond the counts to keep (negative: keep all).
    func prune(keepLastEpochs: Int, keepLastUpdates: Int) {
        let fm = FileManager.default
        let files = (try? fm.contentsOfDirectory(atPath: url.path)) ?? []
        // (number, file): epoch checkpoints by epoch, update checkpoints by update, newest first.
        func numbered(updates: Bool) -> [(Int, String)] {
            files.compactMap { f -> (Int, String)? in
                guard f.hasSuffix(".safetensors"), f.hasPrefix("checkpoint") else { return nil }
                let parts = f.dropFirst("checkpoint".count).dropLast(".safetensors".count).split(separator: "_", omittingEmptySubsequences: false)
                if !updates, parts.count == 1, let e = Int(parts[0]) { return (e, f) }
                if updates, parts.count == 3, parts[0].isEmpty, Int(parts[1]) != nil, let u = Int(parts[2]) { return (u, f) }
                return nil
            }.sorted { $0.0 > $1.0 }
        }
        for (keep, updates) in [(keepLastEpochs, false), (keepLastUpdates, true)] where keep >= 0 {
            for (_, f) in numbered(updates: updates).dropFirst(keep) { try? fm.removeItem(at: url.appendingPathComponent(f)) }
        }
    }
}
