import Foundation

/// Runs the independent Python oracles (PyTorch, safetensors) that the tests compare against.
///
/// The oracle environment is made by `scripts/setup.sh` in `.venv-oracle/` at the repository root;
/// `HAT_ORACLE_PYTHON` overrides the interpreter. Python is a test oracle only, never used at run time.
public enum Oracle {
    /// Repository root, found from this source file's location (Tests/TestSupport/...).
    public static let repoRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static var python: String {
        if let p = ProcessInfo.processInfo.environment["HAT_ORACLE_PYTHON"] { return p }
        return repoRoot.appendingPathComponent(".venv-oracle/bin/python").path
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Runs `Tests/Oracle/<script>` with arguments; returns stdout, throws with stderr on failure.
    @discardableResult
    public static func run(_ script: String, _ arguments: [String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            throw Failure(description: "oracle Python not found at \(python): run scripts/setup.sh (or set HAT_ORACLE_PYTHON)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [repoRoot.appendingPathComponent("Tests/Oracle/\(script)").path] + arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let stdout = String(decoding: outData, as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "oracle \(script) failed (\(process.terminationStatus)):\n\(String(decoding: errData, as: UTF8.self))")
        }
        return stdout
    }

    /// A fresh temporary directory for one test's files.
    public static func temporaryDirectory() throws -> URL {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hat-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        return dir
    }
}

/// Norm-wise relative error: max |a − b| / max |b| (equal entries, including equal infinities, count 0).
public func relativeError(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "comparing \(a.count) values with \(b.count)")
    var maxDiff: Float = 0, maxRef: Float = 0
    for (x, y) in zip(a, b) where x != y { maxDiff = max(maxDiff, abs(x - y)) }
    for y in b where y.isFinite { maxRef = max(maxRef, abs(y)) }
    return maxDiff / max(maxRef, 1e-12)
}

/// The shared data folder (../shared/data next to the repository), as CI lays it out.
public var sharedDataDirectory: URL {
    Oracle.repoRoot.deletingLastPathComponent().appendingPathComponent("shared/data")
}
