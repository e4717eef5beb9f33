import CMPI
import Foundation

/// The processes of one data-parallel job, as MPI started them (`mpirun -np N hat …`, `srun hat …`):
/// this process's `rank` among `size`, and the collective operations that training and search
/// need (names as in MLX's distributed API: `allSum`, `broadcast`). A process that no MPI launcher
/// started is `DistributedGroup.single`, rank 0 of 1, whose collectives return their input, so
/// every caller runs unchanged without MPI. docs/SCALING.md says how to run on a cluster.
public final class DistributedGroup: @unchecked Sendable {
    public let rank: Int
    public let size: Int
    /// The MPI library in use ("libmpi.so.40 (Open MPI)"), nil for a single process.
    public let library: String?

    /// Rank 0: the one that writes checkpoints, metrics and results and prints progress.
    public var isMain: Bool { rank == 0 }

    /// One process, no MPI.
    public static let single = DistributedGroup(rank: 0, size: 1, library: nil)

    private init(rank: Int, size: Int, library: String?) {
        self.rank = rank
        self.size = size
        self.library = library
    }

    /// Whether an MPI launcher started this process as one of several ranks (read from the
    /// launcher's environment; MPI is not loaded to answer).
    public static var isLaunched: Bool { hat_mpi_launched_size() > 1 }

    /// This process's rank as the launcher's environment gives it, before MPI is loaded (0 when
    /// it gives none).
    public static var launchedRank: Int { Int(hat_mpi_launched_rank()) }

    /// The ranks of this job on this machine (from the launcher's environment; 1 without one):
    /// the cores are shared among them, so each rank's default thread count is its share.
    public static var ranksOnThisNode: Int {
        let env = ProcessInfo.processInfo.environment
        for name in ["OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"] {
            if let text = env[name], let n = Int(text.split(separator: "(").first ?? ""), n >= 1 { return n }
        }
        return 1
    }

    /// This process's group, started on first use: MPI is loaded and initialized when an MPI
    /// launcher started this process with several ranks; otherwise `single`. The group lives for
    /// the whole process, as MPI_COMM_WORLD does.
    public static func world() throws -> DistributedGroup { try started.get() }

    private static let started: Result<DistributedGroup, any Error> = Result { try start() }

    private static func start() throws -> DistributedGroup {
        guard isLaunched else { return .single }
        var message = [CChar](repeating: 0, count: 1024)
        guard hat_mpi_init(&message, message.count) == 0 else {
            throw DistributedError.unavailable(String(cString: message))
        }
        return DistributedGroup(rank: Int(hat_mpi_rank()), size: Int(hat_mpi_size()), library: String(cString: hat_mpi_library()))
    }

    /// Every rank's `values` summed, in place.
    public func allSum(_ values: UnsafeMutableBufferPointer<Float>) throws {
        guard size > 1, let base = values.baseAddress else { return }
        try check(hat_mpi_allreduce_sum_f32(base, values.count), "allreduce")
    }

    /// Every rank's `values` summed.
    public func allSum(_ values: [Double]) throws -> [Double] {
        guard size > 1 else { return values }
        var result = values
        try result.withUnsafeMutableBufferPointer { try check(hat_mpi_allreduce_sum_f64($0.baseAddress, $0.count), "allreduce") }
        return result
    }

    /// Every rank's `values`, elementwise maximum.
    public func allMax(_ values: [Double]) throws -> [Double] {
        guard size > 1 else { return values }
        var result = values
        try result.withUnsafeMutableBufferPointer { try check(hat_mpi_allreduce_max_f64($0.baseAddress, $0.count), "allreduce") }
        return result
    }

    /// `root`'s bytes on every rank (any length: the length goes first).
    public func broadcast(_ bytes: Data, from root: Int = 0) throws -> Data {
        guard size > 1 else { return bytes }
        var count = [Double(rank == root ? bytes.count : 0)]
        try count.withUnsafeMutableBytes { try check(hat_mpi_broadcast($0.baseAddress, $0.count, Int32(root)), "broadcast") }
        var buffer = rank == root ? bytes : Data(count: Int(count[0]))
        try buffer.withUnsafeMutableBytes { try check(hat_mpi_broadcast($0.baseAddress, $0.count, Int32(root)), "broadcast") }
        return buffer
    }

    /// `root`'s floats on every rank, in place (weights and optimizer state at the start of a job).
    public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int = 0) throws {
        guard size > 1, let base = values.baseAddress else { return }
        try check(hat_mpi_broadcast(base, values.count * MemoryLayout<Float>.stride, Int32(root)), "broadcast")
    }

    /// Waits for every rank.
    public func barrier() throws {
        guard size > 1 else { return }
        try check(hat_mpi_barrier(), "barrier")
    }

    /// Ends MPI; the last call of a job's ranks.
    public func finish() {
        if size > 1 { hat_mpi_finalize() }
    }

    /// Runs a command's work on this rank: an error on any rank ends the whole job (MPI_Abort,
    /// after printing it, so no rank waits for it in a collective); success ends MPI on every rank.
    /// One process runs `work` as it is.
    public func runJob(_ work: () throws -> Void) throws {
        guard size > 1 else { return try work() }
        do {
            try work()
        } catch {
            FileHandle.standardError.write(Data("error: rank \(rank) of \(size): \(error)\n".utf8))
            abort(code: 1)
        }
        finish()
    }

    /// Ends every rank of the job now (a rank that cannot go on; the others would wait for it).
    public func abort(code: Int32) -> Never {
        hat_mpi_abort(code)
        exit(code)
    }

    /// That every rank holds the same `digest` (of its settings, data and binary); throws on the
    /// ranks' behalf, naming what differs, so a mismatched job stops before anything is written.
    public func checkSame(_ digest: String, what: String) throws {
        guard size > 1 else { return }
        let main = String(decoding: try broadcast(Data(digest.utf8)), as: UTF8.self)
        let differs = try allMax([main == digest ? 0 : 1])[0] > 0
        if differs {
            throw DistributedError.mismatch(
                "the ranks of this job differ in \(what) (rank \(rank): \(digest.prefix(16)), rank 0: \(main.prefix(16))): "
                    + "start every rank with the same hat binary, command and files")
        }
    }

    private func check(_ status: Int32, _ operation: String) throws {
        if status != 0 { throw DistributedError.failed("MPI \(operation) failed on rank \(rank) (status \(status))") }
    }
}

public enum DistributedError: Error, CustomStringConvertible {
    case unavailable(String)
    case failed(String)
    case mismatch(String)

    public var description: String {
        switch self {
        case .unavailable(let m), .failed(let m), .mismatch(let m): return m
        }
    }
}
