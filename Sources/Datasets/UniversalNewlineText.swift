import Foundation

/// Reading a small text file whole as UTF-8 lines, split the way Python's text mode splits them
/// (universal newlines: "\n", "\r\n" and a lone "\r" all end a line), which is how subword-nmt
/// and fairseq read their files.
enum UniversalNewlineText {
    /// The file's text with every line ending turned into "\n".
    static func read(path: String) throws -> String {
        let url = URL(fileURLWithPath: path)
        guard FileManager.default.fileExists(atPath: path) else { throw DataError.missingFile(path: path) }
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw DataError.unreadableFile(path: path, reason: error.localizedDescription)
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            // Name the first line that is not UTF-8.
            var line = 1, start = data.startIndex
            for i in data.indices where data[i] == 0x0A {
                if String(validating: data[start..<i], as: UTF8.self) == nil { break }
                line += 1
                start = i + 1
            }
            throw DataError.invalidUTF8(path: path, line: line)
        }
        return normalizeNewlines(text)
    }

    static func normalizeNewlines(_ text: String) -> String {
        guard text.utf8.contains(0x0D) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count)
        var previousCR = false
        for b in text.utf8 {
            if b == 0x0D {
                bytes.append(0x0A)
                previousCR = true
                continue
            }
            if b == 0x0A && previousCR {
                previousCR = false
                continue
            }
            previousCR = false
            bytes.append(b)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
