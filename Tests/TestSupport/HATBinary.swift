import Foundation

/// The `hat` executable the command-line tests run: the one built beside the test bundle, else
/// the release build in the repository.
public enum HATBinary {
    public static var path: String {
        let besideTests = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("hat").path
        if FileManager.default.isExecutableFile(atPath: besideTests) { return besideTests }
        return Oracle.repoRoot.appendingPathComponent(".build/release/hat").path
    }

    public static var isAvailable: Bool { FileManager.default.isExecutableFile(atPath: path) }

    /// Runs `hat ARGUMENTS` to the end; standard output and standard error, separately.
    /// `input` is written to its standard input (closed after it).
    public static func run(_ arguments: [String], input: String? = nil) throws -> (status: Int32, out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        let stdin = Pipe()
        if input != nil { process.standardInput = stdin }
        try process.run()
        if let input {
            // Small inputs only (a pipe buffer): tests feed a few lines.
            stdin.fileHandleForWriting.write(Data(input.utf8))
            try stdin.fileHandleForWriting.close()
        }
        // Read standard error on another thread so neither pipe can fill up and block the child.
        nonisolated(unsafe) var errorBytes = Data()
        let group = DispatchGroup()
        group.enter()
        DispatchQueue.global().async {
            errorBytes = err.fileHandleForReading.readDataToEndOfFile()
            group.leave()
        }
        let o = out.fileHandleForReading.readDataToEndOfFile()
        group.wait()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: errorBytes, as: UTF8.self))
    }

    /// Runs `hat ARGUMENTS` with standard error merged into standard output.
    public static func runMerged(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
