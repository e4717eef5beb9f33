import CSentencePiece
import Foundation

/// A text corpus file read whole: plain or gzip (detected by its magic bytes, not its name),
/// one sentence per line, validated as UTF-8 line by line.
public struct TextFile: Sendable {
    /// The path as given.
    public let path: String
    /// The lines, without their terminators ("\n" or "\r\n"); a final line without a newline
    /// counts, a final newline does not start another line. A UTF-8 byte-order mark is dropped.
    public let lines: [String]
    /// SHA-256 of the file's bytes as stored (compressed, for a .gz).
    public let sha256: String

    /// Reads and validates `path`.
    /// - Throws: `DataError.missingFile`, `.unreadableFile`, `.invalidUTF8` (with the 1-based line).
    public init(path: String) throws {
        self.path = path
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw DataError.missingFile(path: path)
        }
        if isDirectory.boolValue { throw DataError.unreadableFile(path: path, reason: "it is a folder, not a file") }
        guard FileManager.default.isReadableFile(atPath: path) else {
            throw DataError.unreadableFile(path: path, reason: "permission denied")
        }
        let stored: Data
        do {
            stored = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw DataError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        sha256 = SHA256.hex(stored)
        let bytes: [UInt8]
        if stored.count >= 2 && stored[stored.startIndex] == 0x1f && stored[stored.startIndex + 1] == 0x8b {
            bytes = try Self.gunzip(path: path)
        } else {
            bytes = [UInt8](stored)
        }
        lines = try Self.splitLines(bytes, path: path)
    }

    private static func gunzip(path: String) throws -> [UInt8] {
        var length = 0
        var error: UnsafeMutablePointer<CChar>?
        guard let buffer = hat_read_maybe_gzip(path, &length, &error) else {
            let message = error.map { String(cString: $0) } ?? "gzip read failed"
            hat_spm_free(error)
            throw DataError.unreadableFile(path: path, reason: message.replacingOccurrences(of: "cannot read \(path): ", with: ""))
        }
        defer { hat_spm_free(buffer) }
        return [UInt8](UnsafeBufferPointer(start: buffer, count: length))
    }

    /// Splits on "\n", drops a trailing "\r" per line and a leading BOM, validates UTF-8.
    static func splitLines(_ bytes: [UInt8], path: String) throws -> [String] {
        var lines: [String] = []
        try bytes.withUnsafeBufferPointer { all in
            var start = 0
            if all.count >= 3 && all[0] == 0xEF && all[1] == 0xBB && all[2] == 0xBF { start = 3 }
            var lineNumber = 0
            while start < all.count {
                var end = start
                while end < all.count && all[end] != 0x0A { end += 1 }
                lineNumber += 1
                var stop = end
                if stop > start && all[stop - 1] == 0x0D { stop -= 1 }
                let slice = UnsafeBufferPointer(rebasing: all[start..<stop])
                guard let line = String(validating: slice, as: UTF8.self) else {
                    throw DataError.invalidUTF8(path: path, line: lineNumber)
                }
                lines.append(line)
                start = end + 1
            }
        }
        return lines
    }
}
