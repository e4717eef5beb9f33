import Foundation
import Logging

/// How `hat` prints the library's log messages (swift-log): one line on standard error per
/// message at or above the level, prefixed with the level as compilers do ("warning: …",
/// "note: …"), so warnings never mix into a command's output. `HAT_LOG_LEVEL` (trace, debug,
/// info, notice, warning, error, critical) sets the level; the default, info, shows every
/// warning and note.
struct StandardErrorLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level

    init(label: String) {
        let requested = ProcessInfo.processInfo.environment["HAT_LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) }
        logLevel = requested ?? .info
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let prefix: String
        switch event.level {
        case .trace, .debug: prefix = "\(event.level): "
        case .info: prefix = ""
        case .notice: prefix = "note: "
        case .warning: prefix = "warning: "
        case .error, .critical: prefix = "error: "
        }
        FileHandle.standardError.write(Data((prefix + "\(event.message)\n").utf8))
    }
}

/// The tool's own diagnostics (unknown config keys, mixed latency settings, notes on HAT's keys).
let diagnostics = Logger(label: "hat")
