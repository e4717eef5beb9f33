import Foundation

/// OSU-style allreduce timing (osu_allreduce): for each message size, the mean time of an
/// in-place float sum over all ranks after warm-up calls, the slowest rank's mean reported.
/// docs/SCALING.md's model of the time per update takes its bandwidth from this.
public struct AllReduceTiming: Codable, Sendable {
    public let bytes: Int
    public let microseconds: Double
    /// The bus bandwidth of a ring allreduce, 2 (n − 1) / n · bytes / time (NCCL's `busbw`), so
    /// figures from different rank counts compare.
    public let busGigabytesPerSecond: Double
}

extension DistributedGroup {
    /// Checks the collectives give the right values (a failure throws, naming the operation) and
    /// times the allreduce of each of `sizes` bytes.
    public func checkAndTimeAllReduce(sizes: [Int], iterations: Int) throws -> [AllReduceTiming] {
        // Sums: rank r contributes r + 1 (and r + 1 + i for element i), so every element has a
        // known total.
        let n = 1000
        var values = (0..<n).map { Float(rank + 1 + $0 % 7) }
        try values.withUnsafeMutableBufferPointer { try allSum($0) }
        let ranks = Float(size)
        for i in 0..<n where values[i] != ranks * (ranks + 1) / 2 + ranks * Float(i % 7) {
            throw DistributedError.failed("allreduce gave \(values[i]) at element \(i) on rank \(rank)")
        }
        let message = try broadcast(Data("rank 0 of \(size)".utf8))
        guard String(decoding: message, as: UTF8.self) == "rank 0 of \(size)" else {
            throw DistributedError.failed("broadcast gave other bytes on rank \(rank)")
        }
        var timings: [AllReduceTiming] = []
        for bytes in sizes {
            var buffer = [Float](repeating: 1, count: Swift.max(bytes / 4, 1))
            let repeats = bytes > 16 << 20 ? Swift.max(iterations / 10, 2) : iterations
            try buffer.withUnsafeMutableBufferPointer { pointer in
                for _ in 0..<Swift.max(repeats / 10, 2) { try allSum(pointer) }  // warm-up
                try barrier()
                let start = DispatchTime.now().uptimeNanoseconds
                for _ in 0..<repeats { try allSum(pointer) }
                let mean = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e3 / Double(repeats)
                let slowest = try allMax([mean])[0]
                let ring = size > 1 ? 2 * Double(size - 1) / Double(size) : 1
                timings.append(AllReduceTiming(bytes: bytes, microseconds: slowest, busGigabytesPerSecond: ring * Double(bytes) / slowest / 1e3))
            }
        }
        return timings
    }
}
