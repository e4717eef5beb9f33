import Datasets
import Foundation

/// Training metrics as JSON lines in the save directory (`metrics.jsonl`): one object per
/// update (`update`, `loss`, `lr`, `tokens_per_s`, ...) and one per validated SubTransformer
/// (`split: "valid"`). Losses are per target token in base 2, as fairseq logs them.
public final class MetricsLog {
    public let url: URL
    private let handle: FileHandle

    /// Opens (or creates) the log. With `keepingUpdatesThrough`, entries of later updates — left
    /// by a run that stopped after its last checkpoint — are dropped first (atomic rewrite), so
    /// the log always matches the trajectory the resumed run continues.
    public init(url: URL, keepingUpdatesThrough lastUpdate: Int? = nil) throws {
        self.url = url
        let fm = FileManager.default
        if let lastUpdate, let data = fm.contents(atPath: url.path) {
            let kept = String(decoding: data, as: UTF8.self).split(separator: "\n").filter { line in
                guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let update = object["update"] as? Int
                else { return false }
                return update <= lastUpdate
            }
            try AtomicFile.write(kept.joined(separator: "\n") + (kept.isEmpty ? "" : "\n"), to: url)
        } else if lastUpdate == nil {
            // A fresh run starts a fresh log (a failure shows when the file is opened below).
            _ = fm.createFile(atPath: url.path, contents: nil)
        }
        if !fm.fileExists(atPath: url.path) { _ = fm.createFile(atPath: url.path, contents: nil) }
        handle = try FileHandle(forWritingTo: url)
        try handle.seekToEnd()
    }

    deinit { try? handle.close() }

    /// Appends one entry. A failed write (disk full, quota) throws, naming the file; the
    /// checkpoints are written separately and atomically, so the last good one stays as it was.
    public func write(_ object: [String: Any]) throws {
        guard let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]) else { return }
        do {
            try handle.write(contentsOf: data + Data("\n".utf8))
        } catch {
            throw TrainingError.invalid(
                "cannot append to \(url.path): \(error.localizedDescription) (disk full?). "
                    + "The checkpoints written so far are intact; free space and rerun the same command to resume")
        }
    }

    /// Reads every entry of a metrics file (for reports and tests).
    public static func read(_ url: URL) throws -> [[String: Any]] {
        let text = try String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }
    }
}

/// A status line rewritten in place on a terminal; otherwise (a log file, a pipe) a plain line
/// at most every `interval` seconds, so a long run's log stays readable (every update is in
/// metrics.jsonl anyway).
public final class ProgressPrinter {
    public let isTerminal: Bool
    public let interval: TimeInterval
    /// Standard error instead of standard output (a command whose result is JSON on stdout).
    public let toStandardError: Bool
    /// Prints nothing (the ranks other than 0 of a data-parallel job).
    public let silent: Bool
    private var lastPlainLine = Date.distantPast

    public init(interval: TimeInterval = 10, toStandardError: Bool = false, silent: Bool = false) {
        isTerminal = isatty(toStandardError ? 2 : 1) != 0
        self.interval = interval
        self.toStandardError = toStandardError
        self.silent = silent
    }

    public func update(_ line: String) {
        if isTerminal {
            write("\r\u{1B}[2K" + line)
        } else if Date().timeIntervalSince(lastPlainLine) >= interval {
            lastPlainLine = Date()
            write(line + "\n")
        }
    }

    public func log(_ line: String) {
        write((isTerminal ? "\r\u{1B}[2K" : "") + line + "\n")
    }

    private func write(_ text: String) {
        if silent { return }
        if toStandardError {
            FileHandle.standardError.write(Data(text.utf8))
        } else {
            print(text, terminator: "")
            fflush(nil)
        }
    }
}
