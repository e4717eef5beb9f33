import Foundation

/// Writes a whole file under a hidden temporary name in the same folder and renames it into
/// place (rename(2) replaces atomically), so a crash or an error leaves the old file or the new
/// one, never half of one (design.md, "Habits"). Every stage writes its files through this.
public enum AtomicFile {
    /// The bytes reach the disk (fsync) before the rename, and the rename before this returns.
    public static func write(_ data: Data, to path: String) throws {
        let url = URL(fileURLWithPath: path)
        let folder = url.deletingLastPathComponent()
        let temporary = folder.appendingPathComponent(TemporaryFiles.name(for: url.lastPathComponent)).path
        do {
            try data.write(to: URL(fileURLWithPath: temporary))
            try TemporaryFiles.sync(temporary)
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw DataError.io(path: path, reason: "cannot write: \(error.localizedDescription)")
        }
        guard rename(temporary, path) == 0 else {
            let reason = String(cString: strerror(errno))
            try? FileManager.default.removeItem(atPath: temporary)
            throw DataError.io(path: path, reason: "cannot rename into place: \(reason)")
        }
        try TemporaryFiles.sync(folder.path)
    }

    public static func write(_ data: Data, to url: URL) throws { try write(data, to: url.path) }

    public static func write(_ text: String, to path: String) throws {
        try write(Data(text.utf8), to: path)
    }

    public static func write(_ text: String, to url: URL) throws { try write(Data(text.utf8), to: url.path) }
}

/// An output folder built under a hidden temporary sibling (`.NAME.tmp-PID-RANDOM`) and renamed
/// into place by `commit()`; `discard()` (or an error before commit) removes the temporary folder,
/// so a failure leaves neither a half dataset nor a changed old one.
public struct AtomicDirectory {
    /// The final location.
    public let destination: URL
    /// Where the contents are written until `commit()`.
    public let temporary: URL

    /// Creates the temporary folder next to `destination` (same file system, so rename works).
    /// `replaceable` decides whether an existing destination may be replaced; it is asked
    /// before any work is done.
    public init(destination: URL, replaceable: (URL) -> Bool) throws {
        let fm = FileManager.default
        self.destination = destination.standardizedFileURL
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: self.destination.path, isDirectory: &isDirectory) {
            guard isDirectory.boolValue, replaceable(self.destination) else {
                throw DataError.outputNotADataset(path: self.destination.path)
            }
        }
        let parent = self.destination.deletingLastPathComponent()
        do {
            try fm.createDirectory(at: parent, withIntermediateDirectories: true)
        } catch {
            throw DataError.io(path: parent.path, reason: "cannot create the output's parent folder: \(error.localizedDescription)")
        }
        TemporaryFiles.removeLeftovers(in: parent, name: self.destination.lastPathComponent)  // of a killed earlier run
        let name = TemporaryFiles.name(for: self.destination.lastPathComponent)
        temporary = parent.appendingPathComponent(name)
        do {
            try fm.createDirectory(at: temporary, withIntermediateDirectories: false)
        } catch {
            throw DataError.io(path: temporary.path, reason: "cannot create a temporary folder: \(error.localizedDescription)")
        }
    }

    /// Path of `name` inside the temporary folder.
    public func path(_ name: String) -> String { temporary.appendingPathComponent(name).path }

    /// Moves the finished folder into place, replacing an old one (renamed aside first, then deleted).
    public func commit() throws {
        let fm = FileManager.default
        var old: URL?
        if fm.fileExists(atPath: destination.path) {
            let aside = destination.deletingLastPathComponent()
                .appendingPathComponent(TemporaryFiles.name(for: destination.lastPathComponent, kind: "old"))
            do {
                try fm.moveItem(at: destination, to: aside)
            } catch {
                throw DataError.io(path: destination.path, reason: "cannot move the old output aside: \(error.localizedDescription)")
            }
            old = aside
        }
        do {
            try fm.moveItem(at: temporary, to: destination)
        } catch {
            if let old { try? fm.moveItem(at: old, to: destination) }
            throw DataError.io(path: destination.path, reason: "cannot rename the finished output into place: \(error.localizedDescription)")
        }
        if let old { try? fm.removeItem(at: old) }
        try TemporaryFiles.sync(destination.deletingLastPathComponent().path)
    }

    /// Removes the temporary folder (after a failure).
    public func discard() {
        try? FileManager.default.removeItem(at: temporary)
    }
}
