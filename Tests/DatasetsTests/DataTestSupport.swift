import Foundation

@testable import Datasets

/// Helpers shared by the data tests: temporary folders, the shared Multi30k files, the
/// SentencePiece Python oracle.
enum DataTestSupport {
    /// Repository root, from this file's location (Tests/DataTests/...).
    static let repoRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// ../shared/data/multi30k next to the repository (read-only; see shared/data/README.md),
    /// or HAT_MULTI30K_DIR.
    static var multi30kDirectory: String {
        ProcessInfo.processInfo.environment["HAT_MULTI30K_DIR"]
            ?? repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data/multi30k").path
    }

    static var hasMulti30k: Bool {
        FileManager.default.fileExists(atPath: multi30kDirectory + "/train.en.gz")
    }

    /// A fresh temporary folder.
    static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hat-data-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }

    /// Writes lines (each followed by "\n") to `dir/name` and returns the path.
    @discardableResult
    static func write(_ lines: [String], to dir: URL, _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// Writes raw bytes to `dir/name`.
    @discardableResult
    static func write(bytes: [UInt8], to dir: URL, _ name: String) throws -> String {
        let path = dir.appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    /// A small built-in corpus written as text files, ready for `DatasetPreparation`.
    static func builtinFiles(in dir: URL, seed: UInt64 = 7, train: Int = 1500, valid: Int = 100, test: Int = 100) throws -> [DatasetPreparation.SplitFiles] {
        try BuiltinCorpus(seed: seed).writeText(to: dir.appendingPathComponent("text").path, train: train, valid: valid, test: test)
    }

    /// A preparation of a small built-in corpus with a small vocabulary.
    static func builtinPreparation(in dir: URL, vocabularySize: Int = 400) throws -> DatasetPreparation {
        var prep = DatasetPreparation(
            splits: try builtinFiles(in: dir), sourceLanguage: "en", targetLanguage: "syn",
            output: dir.appendingPathComponent("out").path)
        prep.vocabulary.vocabularySize = vocabularySize
        return prep
    }

    /// Entries of `dir` whose name contains `.tmp-` or `.old-` (left-overs of an atomic write).
    static func leftovers(in dir: URL) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.contains(".tmp-") || $0.contains(".old-") }
    }

    static var oraclePython: String {
        ProcessInfo.processInfo.environment["HAT_ORACLE_PYTHON"] ?? repoRoot.appendingPathComponent(".venv-oracle/bin/python").path
    }

    struct OracleFailure: Error, CustomStringConvertible { let description: String }

    /// Runs a script of Tests/Oracle with the oracle Python; its stderr goes into the error.
    static func runOracle(_ script: String, _ arguments: [String]) throws {
        guard FileManager.default.isExecutableFile(atPath: oraclePython) else {
            throw OracleFailure(description: "oracle Python not found at \(oraclePython): run scripts/setup.sh (or set HAT_ORACLE_PYTHON)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: oraclePython)
        process.arguments = [repoRoot.appendingPathComponent("Tests/Oracle/\(script)").path] + arguments
        let err = Pipe()
        process.standardError = err
        try process.run()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw OracleFailure(description: "\(script) failed: \(String(decoding: errData, as: UTF8.self)) (run scripts/setup.sh)")
        }
    }

    /// Runs Tests/Oracle/spm_oracle.py (the reference Python SentencePiece) on `model` and `lines`.
    static func spmOracle(model: String, lines: [String], in dir: URL) throws -> (vocabSize: Int, specials: [String: Int], ids: [[Int32]], decoded: [String]) {
        let input = try write(lines, to: dir, "oracle-input.txt")
        let output = dir.appendingPathComponent("oracle-output.json").path
        try runOracle("spm_oracle.py", [model, input, output])
        struct Result: Decodable {
            var vocab_size: Int
            var specials: [String: Int]
            var ids: [[Int32]]
            var decoded: [String]
        }
        let r = try JSONDecoder().decode(Result.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        return (r.vocab_size, r.specials, r.ids, r.decoded)
    }

    /// Runs Tests/Oracle/bpe_dropout_oracle.py: SentencePiece's own BPE-dropout sampler over `lines`,
    /// `passes` times. Returns the deterministic piece count and each pass's sampled count.
    static func bpeDropoutOracle(
        model: String, lines: [String], probability: Double, passes: Int, in dir: URL
    )
        throws -> (deterministic: Int, sampled: [Int])
    {
        let input = try write(lines, to: dir, "dropout-input.txt")
        let output = dir.appendingPathComponent("dropout-output.json").path
        try runOracle("bpe_dropout_oracle.py", [model, input, "\(probability)", "\(passes)", "7", output])
        struct Result: Decodable {
            var deterministic_total: Int
            var sampled_totals: [Int]
        }
        let r = try JSONDecoder().decode(Result.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
        return (r.deterministic_total, r.sampled_totals)
    }
}
