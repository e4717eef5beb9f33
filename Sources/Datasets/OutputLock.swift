import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An exclusive lock on an output (a save folder, a search folder, a latency CSV), so two `hat`
/// processes never write the same files: `flock` on a small lock file, dropped by the operating
/// system when the process dies, so a killed job never leaves a stale lock behind.
public final class OutputLock {
    private var descriptor: Int32
    public let path: String

    /// Locks `lockFile`, creating it when missing; `job` names the command for the error
    /// ("another hat search is running on …").
    public init(lockFile: URL, job: String, output: String) throws {
        path = lockFile.path
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw DataError.io(path: path, reason: "cannot create the lock file: \(String(cString: strerror(errno)))") }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            close(descriptor)
            descriptor = -1
            throw DataError.io(
                path: output,
                reason: "another hat \(job) is running on it (it holds \(lockFile.lastPathComponent)); "
                    + "wait for it to finish or use another output")
        }
    }

    /// Locks a folder through its `.lock` file.
    public convenience init(folder: URL, job: String) throws {
        try self.init(lockFile: folder.appendingPathComponent(".lock"), job: job, output: folder.path)
    }

    /// Locks a file through a hidden `.NAME.lock` beside it.
    public convenience init(file: URL, job: String) throws {
        try self.init(
            lockFile: file.deletingLastPathComponent().appendingPathComponent(".\(file.lastPathComponent).lock"),
            job: job, output: file.path)
    }

    public func release() {
        guard descriptor >= 0 else { return }
        flock(descriptor, LOCK_UN)
        close(descriptor)
        descriptor = -1
    }

    deinit { release() }
}
