import Foundation

/// The history of a search job as JSON lines (`history.jsonl`): one `CandidateRecord` per
/// candidate per iteration (population members with their loss, rejected candidates with
/// their violations) and one `IterationRecord` closing each iteration. Format:
/// docs/ARCHITECTURE.md, "Search files".
public enum SearchHistory {
    public static let fileName = "history.jsonl"

    public enum Entry: Equatable, Sendable {
        case candidate(CandidateRecord)
        case iteration(IterationRecord)
    }

    /// Every record of `url` (none if the file does not exist). Lines before byte
    /// `committedBytes` must all read; later ones (what an interrupted iteration left) are
    /// read where they can be and otherwise ignored.
    public static func read(_ url: URL, committedBytes: Int? = nil) throws -> [Entry] {
        guard let data = FileManager.default.contents(atPath: url.path) else { return [] }
        let decoder = SearchJSON.decoder()
        struct Kind: Decodable { let type: String }
        var entries: [Entry] = []
        var start = data.startIndex
        var lineNumber = 0
        while start < data.endIndex {
            let end = data[start...].firstIndex(of: UInt8(ascii: "\n")) ?? data.endIndex
            let line = data[start..<end]
            lineNumber += 1
            let committed = end < data.endIndex && end - data.startIndex < (committedBytes ?? Int.max)
            start = end < data.endIndex ? end + 1 : end
            if line.isEmpty { continue }
            do {
                switch try decoder.decode(Kind.self, from: line).type {
                case "candidate": entries.append(.candidate(try decoder.decode(CandidateRecord.self, from: line)))
                case "iteration": entries.append(.iteration(try decoder.decode(IterationRecord.self, from: line)))
                case let other: throw SearchError.badState(path: url.path, reason: "line \(lineNumber): unknown record type '\(other)'")
                }
            } catch {
                if committed {
                    throw SearchError.badState(
                        path: url.path,
                        reason: "line \(lineNumber) is not a search record (\(error)); "
                            + "the history is damaged: delete the folder to start over")
                }
            }
        }
        return entries
    }
}

/// Appends records to a history file; `commit()` makes them durable and returns the file's
/// length, which the search state stores as the point a resumed search continues from.
final class SearchHistoryWriter {
    let url: URL
    private let handle: FileHandle
    private let encoder = SearchJSON.encoder()

    /// Opens `url`, cutting it to `length` bytes first (dropping what an interrupted iteration wrote).
    init(url: URL, truncatingTo length: Int) throws {
        self.url = url
        if !FileManager.default.fileExists(atPath: url.path) { _ = FileManager.default.createFile(atPath: url.path, contents: nil) }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? 0
        guard size >= length else {
            throw SearchError.badState(
                path: url.path,
                reason: "the history has \(size) bytes but the search state counts \(length): "
                    + "it was cut or replaced; delete the search folder to start over")
        }
        do {
            handle = try FileHandle(forWritingTo: url)
            try handle.truncate(atOffset: UInt64(length))
            try handle.seekToEnd()
        } catch {
            throw SearchError.io(path: url.path, reason: "cannot open the history for writing: \(error.localizedDescription)")
        }
    }

    deinit { try? handle.close() }

    func append<Record: Encodable>(_ record: Record) throws {
        var line = try encoder.encode(record)
        line.append(UInt8(ascii: "\n"))
        do {
            try handle.write(contentsOf: line)
        } catch {
            throw SearchError.io(path: url.path, reason: "cannot append to the history: \(error.localizedDescription)")
        }
    }

    /// Flushes to disk; returns the committed length in bytes.
    func commit() throws -> Int {
        do {
            try handle.synchronize()
            return Int(try handle.offset())
        } catch {
            throw SearchError.io(path: url.path, reason: "cannot sync the history: \(error.localizedDescription)")
        }
    }
}
