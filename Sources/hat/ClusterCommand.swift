import ArgumentParser
import Cluster
import Foundation

/// `hat cluster check`: whether MPI works for `hat` on this cluster, and how fast its allreduce is.
struct ClusterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster",
        abstract: "Data-parallel jobs over MPI: check the ranks and time the allreduce.",
        discussion: """
            Run it as the job would run: `mpirun -np 4 hat cluster check` (or `srun hat cluster check`). \
            docs/SCALING.md explains cluster runs.
            """,
        subcommands: [Check.self]
    )

    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check that every rank runs and the collectives give the right sums; time the allreduce (OSU-style).",
            discussion: """
                Rank 0 prints the MPI library, the ranks and hosts, and for each message size the mean time of an \
                in-place float allreduce over all ranks (the slowest rank's) with its ring bus bandwidth. Without an \
                MPI launcher it says so and exits.
                """)

        @Option(help: "Message sizes in bytes, comma-separated.")
        var sizes: String = "4,1024,65536,1048576,16777216,67108864"
        @Option(help: "Timed allreduce calls per size (a tenth of them for sizes over 16 MB).") var iterations: Int = 100
        @Flag(help: "Print the result as JSON on standard output.") var json = false

        struct Result: Encodable {
            let library: String?
            let ranks: Int
            let hosts: [String]
            let allreduce: [AllReduceTiming]
        }

        func run() throws {
            let sizeList = sizes.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
            guard !sizeList.isEmpty, sizeList.allSatisfy({ $0 != nil && $0! > 0 && $0! <= 1 << 30 }) else {
                throw ValidationError("--sizes: give byte counts between 1 and 2^30, comma-separated (e.g. 4,1024,1048576)")
            }
            guard iterations >= 1 else { throw ValidationError("--iterations must be at least 1") }
            let group = try DistributedGroup.world()
            let output = ResultOutput(json: json)
            guard group.size > 1 else {
                output.say("one process: no MPI launcher started hat (run it as `mpirun -np N hat cluster check` or `srun hat cluster check`)")
                try output.emit(Result(library: nil, ranks: 1, hosts: [ProcessInfo.processInfo.hostName], allreduce: []))
                return
            }
            try group.runJob {
                // Every rank's host name, gathered through rank-by-rank broadcasts (a handful of ranks' worth).
                var hosts: [String] = []
                for r in 0..<group.size {
                    hosts.append(String(decoding: try group.broadcast(Data(ProcessInfo.processInfo.hostName.utf8), from: r), as: UTF8.self))
                }
                let timings = try group.checkAndTimeAllReduce(sizes: sizeList.map { $0! }, iterations: iterations)
                guard group.isMain else { return }
                output.say("MPI: \(group.library ?? "?"), \(group.size) ranks on \(Set(hosts).count) host(s): \(hosts.joined(separator: ", "))")
                output.say("allreduce and broadcast give the right values on every rank")
                output.say("bytes          mean µs   bus GB/s")
                for t in timings {
                    output.say(String(format: "%-12d %9.1f %10.2f", t.bytes, t.microseconds, t.busGigabytesPerSecond))
                }
                try output.emit(Result(library: group.library, ranks: group.size, hosts: hosts, allreduce: timings))
            }
        }
    }
}
