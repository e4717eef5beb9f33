import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The temporary files and folders `hat` writes before renaming them into place
/// (`.NAME.tmp-PID-RANDOM`; a replaced folder waits as `.NAME.old-PID-RANDOM`), made durable
/// with fsync, and removed after a kill: a job cleans up the leftovers of dead processes in the
/// folder it writes when it starts.
public enum TemporaryFiles {
    /// A fresh temporary name for `final` (a file or folder name) in the same folder.
    public static func name(for final: String, kind: String = "tmp") -> String {
        ".\(final).\(kind)-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// The process that wrote a leftover called `entry`, if `entry` is one of ours.
    static func writer(of entry: String) -> pid_t? {
        guard entry.hasPrefix(".") else { return nil }
        let parts = entry.split(separator: ".", omittingEmptySubsequences: false).last?.split(separator: "-") ?? []
        guard parts.count == 3, ["tmp", "old"].contains(parts[0]), let pid = pid_t(parts[1]), pid > 0, UInt32(parts[2]) != nil else { return nil }
        return pid
    }

    /// Removes the leftovers in `folder` (only `.NAME.tmp|old-PID-RANDOM` entries, only when
    /// process PID is gone; with `name`, only those of that file or folder). Returns their names.
    @discardableResult
    public static func removeLeftovers(in folder: URL, name: String? = nil) -> [String] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        var removed: [String] = []
        for entry in entries.sorted() {
            if let name, !entry.hasPrefix(".\(name).") { continue }
            guard let pid = writer(of: entry), kill(pid, 0) != 0, errno == ESRCH else { continue }
            if (try? FileManager.default.removeItem(at: folder.appendingPathComponent(entry))) != nil { removed.append(entry) }
        }
        return removed
    }

    /// fsync of a file or folder (a folder: its entries, e.g. after a rename into it), so what was
    /// written survives a power loss. Errors are reported: an unsynced checkpoint is not "saved".
    public static func sync(_ path: String) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw DataError.io(path: path, reason: "cannot open to sync: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        // EINVAL: the file system cannot sync this kind of file (some do not sync folders); nothing to do.
        guard fsync(fd) == 0 || errno == EINVAL else { throw DataError.io(path: path, reason: "fsync failed: \(String(cString: strerror(errno)))") }
    }
}
