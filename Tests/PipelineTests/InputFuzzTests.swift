import Foundation
import TestSupport
import Testing

/// A fuzzer over `hat`'s inputs: each kind of file a user hands to a command (HAT YAML spaces and
/// SubTransformers, latency CSVs, predictor files, binarized datasets, checkpoints) mutated at
/// random — bytes flipped, lines cut, duplicated or swapped, the file truncated — and run through
/// the command that reads it. Every run must end by itself (an error or a result), never with a
/// trap or a hang. The mutations are seeded, so a failure names a mutant that can be made again.
@Suite("Input fuzzing", .serialized)
struct InputFuzzTests {
    /// Deterministic mutations of `bytes` (SplitMix64 from `seed`).
    static func mutate(_ bytes: [UInt8], seed: UInt64) -> [UInt8] {
        var state = seed &+ 0x9E37_79B9_7F4A_7C15
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func below(_ n: Int) -> Int { n <= 1 ? 0 : Int(next() % UInt64(n)) }
        var out = bytes
        let interesting: [UInt8] = [
            0x00, 0xFF, 0x7F, 0x80, UInt8(ascii: "-"), UInt8(ascii: "9"), UInt8(ascii: "\n"), UInt8(ascii: ":"),
            UInt8(ascii: "["), UInt8(ascii: "{"), UInt8(ascii: "\""), UInt8(ascii: ","),
        ]
        for _ in 0..<(1 + below(4)) {
            guard !out.isEmpty else { break }
            switch below(6) {
            case 0:  // flip bytes, mostly near the start where headers and keys are
                for _ in 0..<(1 + below(8)) {
                    let i = below(min(out.count, below(2) == 0 ? 256 : out.count))
                    out[i] = below(2) == 0 ? interesting[below(interesting.count)] : UInt8(truncatingIfNeeded: next())
                }
            case 1:  // truncate
                out = Array(out.prefix(below(out.count)))
            case 2, 3:  // a line removed, duplicated many times, or two lines swapped
                var lines = out.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                guard lines.count > 1 else { continue }
                let i = below(lines.count), j = below(lines.count)
                switch below(3) {
                case 0: lines.remove(at: i)
                case 1: lines.insert(contentsOf: Array(repeating: lines[i], count: 1 + below(50)), at: j)
                default: lines.swapAt(i, j)
                }
                out = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
            case 4:  // a huge or negative number in place of a digit run
                if let d = out.firstIndex(where: { (48...57).contains($0) && below(3) == 0 }) ?? out.firstIndex(where: { (48...57).contains($0) }) {
                    let replacement = ["99999999999999999999", "-1", "0", "1e308", "nan", "4294967296"][below(6)]
                    out.replaceSubrange(d..<(d + 1), with: Array(replacement.utf8))
                }
            default:  // random bytes inserted
                let at = below(out.count + 1)
                out.insert(contentsOf: (0..<(1 + below(16))).map { _ in UInt8(truncatingIfNeeded: next()) }, at: at)
            }
        }
        return out
    }

    @Test("mutated YAML, CSV, predictor, dataset and checkpoint files: every command ends with an error or a result, never a trap or a hang")
    func mutatedInputs() throws {
        try #require(HATBinary.isAvailable, "build the hat binary first (swift build -c release)")
        let f = try CommandLineErrorTests.fixture.get()
        let root = f.dir.appendingPathComponent("fuzz")
        try? FileManager.default.removeItem(at: root)
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let xeonCSV = sharedDataDirectory.appendingPathComponent("hat-latency/wmt14ende_cpu_xeon_all.csv").path
        // A small CSV (its first 40 rows) and a ridge predictor trained on it.
        let csvLines = try String(contentsOfFile: xeonCSV, encoding: .utf8).split(separator: "\n").prefix(41)
        let csv = root.appendingPathComponent("lat.csv").path
        try (csvLines.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8)
        let predictor = root.appendingPathComponent("ridge.json").path
        let trained = try CommandLineErrorTests.hat(["latency", "train-predictor", "--data", csv, "--kind", "ridge", "--out", predictor])
        try #require(trained.status == 0, "\(trained.output)")
        let hatSpace = sharedDataDirectory.appendingPathComponent("hat-configs/wmt14.en-de__space0.yml").path

        /// (what, the file to mutate, where the mutant goes, the command that reads it)
        let cases: [(String, String, String, (String) -> [String])] = [
            ("space YAML", hatSpace, "space.yml", { ["sample", "--space", $0, "--which", "random", "--seed", "3"] }),
            ("SubTransformer YAML", f.sub, "sub.yml", { ["profile", $0, "--space", f.space, "--vocab", "300"] }),
            (
                "latency CSV", csv, "lat.csv",
                {
                    [
                        "latency", "train-predictor", "--data", $0, "--kind", "ridge",
                        "--out", root.appendingPathComponent("p.json").path,
                    ]
                }
            ),
            ("predictor", predictor, "p.json", { ["latency", "predict", "--predictor", $0, "--space", f.space, f.sub] }),
            (
                "binarized split", f.data + "/valid.bin", "valid.bin",
                { _ in
                    [
                        "test", "--checkpoint", f.checkpoint, "--subtransformer", f.sub, "--data", root.appendingPathComponent("data").path,
                        "--split", "valid", "--beam", "1", "--out", root.appendingPathComponent("hyp.txt").path,
                    ]
                }
            ),
            (
                "checkpoint", f.checkpoint, "checkpoint.safetensors",
                {
                    ["export", "--checkpoint", $0, "--subtransformer", f.sub, "--out", root.appendingPathComponent("onnx").path]
                }
            ),
        ]
        let mutantsPerFile = 25
        var runs = 0, failures: [String] = []
        for (what, original, name, command) in cases {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: original)))
            for m in 0..<mutantsPerFile {
                var target = root.appendingPathComponent(name).path
                if what == "binarized split" {
                    // The dataset folder with its valid split replaced by the mutant.
                    let copy = root.appendingPathComponent("data")
                    try? FileManager.default.removeItem(at: copy)
                    try FileManager.default.copyItem(atPath: f.data, toPath: copy.path)
                    target = copy.appendingPathComponent("valid.bin").path
                }
                try Data(Self.mutate(bytes, seed: UInt64(m * 7919 + name.count))).write(to: URL(fileURLWithPath: target))
                let arguments = command(target)
                let r = try CommandLineErrorTests.hat(arguments, timeout: 60)
                runs += 1
                if r.timedOut || r.signaled {
                    failures.append(
                        "\(what) mutant \(m): \(r.timedOut ? "hung" : "killed by signal \(r.status)") — hat \(arguments.joined(separator: " "))\n\(r.output.suffix(600))"
                    )
                    try? FileManager.default.copyItem(
                        atPath: target, toPath: root.deletingLastPathComponent().appendingPathComponent("crash-\(name)-\(m)").path)
                }
            }
        }
        #expect(runs == cases.count * mutantsPerFile)
        #expect(failures.isEmpty, "\(failures.count) of \(runs) runs crashed or hung:\n\(failures.joined(separator: "\n\n"))")
    }
}
