#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A file mapped read-only into memory: the pickles of a checkpoint are parsed in place, and only
/// the pages that are read become resident (a checkpoint's optimizer state, twice the model's
/// size, is never touched).
final class MappedFile {
    let path: String
    let bytes: UnsafeRawBufferPointer

    init(path: String) throws {
        self.path = path
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else { throw TorchCheckpointError(path, "cannot open: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw TorchCheckpointError(path, "cannot read its size: \(String(cString: strerror(errno)))") }
        guard (info.st_mode & S_IFMT) == S_IFREG else { throw TorchCheckpointError(path, "is not a regular file") }
        let size = Int(info.st_size)
        guard size > 0 else {
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        guard let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), p != MAP_FAILED else {
            throw TorchCheckpointError(path, "cannot map: \(String(cString: strerror(errno)))")
        }
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    /// Copies `count` bytes at `offset` into `destination` and lets the kernel drop the mapped
    /// pages again, so a model read tensor by tensor holds its weights once, not twice.
    func copy(offset: Int, count: Int, to destination: UnsafeMutableRawPointer) {
        guard count > 0, let base = bytes.baseAddress else { return }
        destination.copyMemory(from: base + offset, byteCount: count)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = offset / page * page
        _ = madvise(UnsafeMutableRawPointer(mutating: base + start), offset + count - start, MADV_DONTNEED)
    }

    deinit {
        if let p = bytes.baseAddress { munmap(UnsafeMutableRawPointer(mutating: p), bytes.count) }
    }
}
