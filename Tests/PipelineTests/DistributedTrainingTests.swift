import Foundation
import TensorEngine
import TestSupport
import Testing

private let mpirunPath: String? = ["/usr/bin/mpirun", "/usr/local/bin/mpirun"].first { FileManager.default.isExecutableFile(atPath: $0) }

/// Data-parallel training over MPI (`mpirun -np 2 hat train …`) against one process on the same
/// global batches. Needs Open MPI's mpirun (scripts/setup.sh installs it); as root Open MPI
/// refuses to start without its two opt-in variables, which these tests set.
@Suite("Data-parallel training over MPI", .serialized, .enabled(if: mpirunPath != nil, "mpirun is not installed (scripts/setup.sh installs it)"))
struct DistributedTrainingTests {
    static let mpirun = mpirunPath

    /// Starts `hat ARGUMENTS` under `mpirun -np RANKS` (RANKS 1: hat alone), output merged; `kill`
    /// may end one rank early (it gets the rank processes' ids) and returns whether it did.
    static func run(
        ranks: Int, _ arguments: [String], timeout: TimeInterval = 300, kill: (([Int32]) -> Bool)? = nil
    ) throws -> (
        status: Int32, output: String
    ) {
        let process: Process
        if ranks == 1 {
            process = Process()
            process.executableURL = URL(fileURLWithPath: HATBinary.path)
            process.arguments = arguments
        } else {
            process = mpirunProcess(["--oversubscribe", "-np", "\(ranks)", HATBinary.path] + arguments)
        }
        let log = try Oracle.temporaryDirectory().appendingPathComponent("output.txt")
        FileManager.default.createFile(atPath: log.path, contents: nil)
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        var killed = false
        while process.isRunning && Date() < deadline {
            if let kill, !killed, ranks > 1 {
                let children = Self.children(of: process.processIdentifier)
                if children.count == ranks, kill(children) { killed = true }
            }
            usleep(20_000)
        }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            Issue.record("mpirun did not end within \(timeout) s: a rank hangs")
        }
        process.waitUntilExit()
        try handle.close()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    /// `mpirun ARGUMENTS`, allowed to run as root (Open MPI refuses otherwise).
    static func mpirunProcess(_ arguments: [String]) -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: mpirun!)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["OMPI_ALLOW_RUN_AS_ROOT"] = "1"
        environment["OMPI_ALLOW_RUN_AS_ROOT_CONFIRM"] = "1"
        process.environment = environment
        return process
    }

    /// Two ranks, each with its own command line (MPI's MPMD form), run to the end; output merged.
    static func runTwo(_ first: [String], _ second: [String]) throws -> (status: Int32, output: String) {
        let process = mpirunProcess(["--oversubscribe", "-np", "1", HATBinary.path] + first + [":", "-np", "1", HATBinary.path] + second)
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    /// The processes `pid` started (the ranks of a local mpirun), oldest first.
    static func children(of pid: Int32) -> [Int32] {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(pid)/children", encoding: .utf8)) ?? ""
        return text.split(separator: " ").compactMap { Int32($0) }
    }

    static func prepareData(in root: URL) throws -> String {
        let data = root.appendingPathComponent("data").path
        let r = try HATBinary.runMerged([
            "data", "builtin", "--out", data, "--train-size", "600", "--valid-size", "40", "--test-size", "20", "--vocab-size", "200",
        ])
        try #require(r.status == 0, "\(r.output)")
        return data
    }

    static func train(_ data: String, _ saveDir: String, updates: Int, updateFreq: Int, extra: [String] = []) -> [String] {
        [
            "train", "--config", Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path, "--data", data,
            "--save-dir", saveDir, "--max-update", "\(updates)", "--update-freq", "\(updateFreq)", "--max-tokens", "400",
            "--warmup-updates", "5", "--save-interval-updates", "5", "--validation-random-subnets", "0", "--threads", "1",
        ] + extra
    }

    /// Each update's training loss in metrics.jsonl.
    static func losses(_ saveDir: String) throws -> [Int: Double] {
        let text = try String(contentsOfFile: "\(saveDir)/metrics.jsonl", encoding: .utf8)
        var result: [Int: Double] = [:]
        for line in text.split(separator: "\n") {
            let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            if object["split"] == nil, let update = object["update"] as? Int, let loss = object["loss"] as? Double { result[update] = loss }
        }
        return result
    }

    /// The norm of the difference between two checkpoints' weights over the norm of the first's.
    static func weightDifference(_ a: String, _ b: String) throws -> Double {
        let x = try SafeTensorsFile.read(from: URL(fileURLWithPath: a)), y = try SafeTensorsFile.read(from: URL(fileURLWithPath: b))
        var difference = 0.0, norm = 0.0
        for name in x.names where name.hasPrefix("model.") {
            let u = try x.entries[name]!.floats(), v = try #require(y.entries[name]).floats()
            try #require(u.count == v.count)
            for i in 0..<u.count {
                difference += Double(u[i] - v[i]) * Double(u[i] - v[i])
                norm += Double(u[i]) * Double(u[i])
            }
        }
        return (difference / norm).squareRoot()
    }

    @Test("2 ranks × update-freq 1 train what 1 rank × update-freq 2 trains; only rank 0 writes")
    func twoRanksEqualOneRankWithTwiceTheUpdateFrequency() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try Self.prepareData(in: root)
        let one = root.appendingPathComponent("one").path, two = root.appendingPathComponent("two").path
        let single = try Self.run(ranks: 1, Self.train(data, one, updates: 20, updateFreq: 2))
        try #require(single.status == 0, "\(single.output)")
        let parallel = try Self.run(ranks: 2, Self.train(data, two, updates: 20, updateFreq: 1))
        try #require(parallel.status == 0, "\(parallel.output)")
        #expect(parallel.output.contains("data-parallel over 2 ranks"), "\(parallel.output)")
        // Rank 0 alone prints: one "done" line, not two.
        #expect(parallel.output.components(separatedBy: "done: 20 updates").count == 2, "\(parallel.output)")
        // The same batches, dropout and SubTransformers, and the same sums: one process adds each
        // batch's whole gradient to the earlier ones as MPI adds the two ranks' gradients, so the
        // two trainings are the same bit for bit.
        let a = try Self.losses(one), b = try Self.losses(two)
        #expect(a.count == 20 && b.count == 20)
        for update in 1...20 {
            let x = try #require(a[update]), y = try #require(b[update])
            #expect(x == y, "update \(update): loss \(x) on one rank, \(y) on two")
        }
        let difference = try Self.weightDifference("\(one)/checkpoint_last.safetensors", "\(two)/checkpoint_last.safetensors")
        #expect(difference == 0, "weights after 20 updates differ by \(difference) in norm")
    }

    @Test("a rank killed mid-run ends the job without damage; the rerun resumes, on 2 ranks or on 1, and ends as the straight run")
    func killedRankResumes() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try Self.prepareData(in: root)
        let straight = root.appendingPathComponent("straight").path
        // --keep-effective-batch: update-freq 2 is the batch for one process; on 2 ranks it becomes 1.
        let keep = ["--keep-effective-batch"]
        let first = try Self.run(ranks: 2, Self.train(data, straight, updates: 30, updateFreq: 2, extra: keep))
        try #require(first.status == 0, "\(first.output)")
        #expect(first.output.contains("on 2 rank(s) update-freq 1"), "\(first.output)")
        for resumeRanks in [2, 1] {
            let dir = root.appendingPathComponent("killed-\(resumeRanks)").path
            let killed = try Self.run(ranks: 2, Self.train(data, dir, updates: 30, updateFreq: 2, extra: keep)) { ranks in
                guard FileManager.default.fileExists(atPath: "\(dir)/checkpoint_1_5.safetensors") else { return false }
                Foundation.kill(ranks[1], SIGKILL)
                return true
            }
            #expect(killed.status != 0, "the job must fail when a rank dies: \(killed.output)")
            let last = try #require(try? SafeTensorsFile.read(from: URL(fileURLWithPath: "\(dir)/checkpoint_last.safetensors")))
            #expect(!last.names.isEmpty)
            // 2 ranks × update-freq 1 = 1 rank × update-freq 2: the same global batches.
            let resumed = try Self.run(ranks: resumeRanks, Self.train(data, dir, updates: 30, updateFreq: 2, extra: keep))
            try #require(resumed.status == 0, "\(resumed.output)")
            #expect(resumed.output.contains("resum"), "\(resumed.output)")
            // Resumed on 2 ranks or on 1 with twice the update frequency, the run is the straight run.
            let a = try Self.losses(straight), b = try Self.losses(dir)
            #expect(b.count == 30, "one loss per update, none twice: \(b.count)")
            for update in 1...30 {
                let x = try #require(a[update]), y = try #require(b[update])
                #expect(x == y, "resumed on \(resumeRanks): update \(update): \(x) straight, \(y) resumed")
            }
        }
    }

    @Test("ranks started with different settings, or one that cannot read the data, stop at the start with an error, writing nothing")
    func mismatchedRanksRefused() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try Self.prepareData(in: root)
        let dir = root.appendingPathComponent("mismatch").path
        let first = Self.train(data, dir, updates: 5, updateFreq: 1), second = Self.train(data, dir, updates: 5, updateFreq: 1, extra: ["--lr", "0.01"])
        let mismatched = try Self.runTwo(first, second)
        #expect(mismatched.status != 0)
        #expect(mismatched.output.contains("the ranks of this job differ in training settings"), "\(mismatched.output)")
        #expect(
            !FileManager.default.fileExists(atPath: "\(dir)/metrics.jsonl") && !FileManager.default.fileExists(atPath: "\(dir)/checkpoint_last.safetensors"))

        // Another dataset on one rank (same sizes, another corpus) is a mismatch too.
        let other = root.appendingPathComponent("other-data").path
        let prepared = try HATBinary.runMerged([
            "data", "builtin", "--out", other, "--corpus-seed", "2", "--train-size", "600", "--valid-size", "40", "--test-size", "20",
            "--vocab-size", "200",
        ])
        try #require(prepared.status == 0, "\(prepared.output)")
        var otherData = first
        otherData[otherData.firstIndex(of: data)!] = other
        let mixed = try Self.runTwo(first, otherData)
        #expect(mixed.status != 0 && mixed.output.contains("the ranks of this job differ"), "\(mixed.output)")

        // A rank that cannot read the data ends the job (the others do not wait for it), naming the folder.
        let missing = root.appendingPathComponent("missing-data").path
        var unreadable = first
        unreadable[unreadable.firstIndex(of: data)!] = missing
        let broken = try Self.runTwo(first, unreadable)
        #expect(broken.status != 0 && broken.output.contains("rank 1 of 2") && broken.output.contains(missing), "\(broken.output)")
        #expect(!FileManager.default.fileExists(atPath: "\(dir)/metrics.jsonl"))
    }

    @Test("mpirun -np 2 hat search: the same candidates, losses, history and winners as one process")
    func parallelSearchEqualsOneProcess() throws {
        let root = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let data = try Self.prepareData(in: root)
        let supernet = root.appendingPathComponent("supernet").path
        try #require(try Self.run(ranks: 1, Self.train(data, supernet, updates: 30, updateFreq: 1)).status == 0)
        let space = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
        func search(_ out: String, predictor: String, ranks: Int) throws -> String {
            let r = try Self.run(
                ranks: ranks,
                [
                    "search", "--supernet", "\(supernet)/checkpoint_last.safetensors", "--space", space, "--data", data,
                    "--predictor", predictor, "--latency-constraint", "100ms", "--evo-iter", "3", "--population-size", "8",
                    "--parent-size", "3", "--mutation-size", "3", "--crossover-size", "3", "--valid-subset", "40", "--length", "10",
                    "--beam", "2", "--no-measure", "--threads", "1", "--out", root.appendingPathComponent(out).path,
                ])
            try #require(r.status == 0, "\(r.output)")
            return r.output
        }
        // One predictor for both runs (a measured one would differ between them).
        _ = try search("calibration", predictor: "measure:4", ranks: 1)
        let predictor = root.appendingPathComponent("calibration/latency_predictor.json").path
        _ = try search("one", predictor: predictor, ranks: 1)
        let output = try search("two", predictor: predictor, ranks: 2)
        #expect(output.contains("fitness evaluated on 2 ranks"), "\(output)")
        // Every candidate line (loss, cached or not) and every winner the same; iteration lines differ in their times only.
        func candidates(_ out: String) throws -> [String] {
            try String(contentsOfFile: root.appendingPathComponent("\(out)/history.jsonl").path, encoding: .utf8)
                .split(separator: "\n").map(String.init).filter { $0.contains("\"type\":\"candidate\"") }
        }
        let a = try candidates("one"), b = try candidates("two")
        #expect(a.count > 8 && a == b, "\(a.count) and \(b.count) candidates; first difference: \(zip(a, b).first { $0 != $1 }.map { "\($0)\n\($1)" } ?? "-")")
        let paretoA = try Data(contentsOf: root.appendingPathComponent("one/pareto.json"))
        let paretoB = try Data(contentsOf: root.appendingPathComponent("two/pareto.json"))
        #expect(paretoA == paretoB)
    }

    @Test("hat cluster check: the collectives give the right sums on 2 ranks, and the allreduce is timed")
    func clusterCheck() throws {
        let r = try Self.run(ranks: 2, ["cluster", "check", "--sizes", "4,4096", "--iterations", "20", "--json"])
        try #require(r.status == 0, "\(r.output)")
        #expect(r.output.contains("allreduce and broadcast give the right values on every rank"), "\(r.output)")
        #expect(r.output.contains("\"ranks\" : 2"), "\(r.output)")
        // Another command under mpirun is refused once, by rank 0.
        let refused = try Self.run(ranks: 2, ["translate", "--help"])
        #expect(refused.status != 0 && refused.output.components(separatedBy: "runs as one process").count == 2, "\(refused.output)")
    }
}
