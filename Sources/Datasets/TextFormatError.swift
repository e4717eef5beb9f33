/// A line of a text file the data stage reads (BPE codes, a fairseq dictionary) that does not
/// have the expected form: says which file, which line (1-based) and what was expected, so the
/// user can fix the line or regenerate the file.
public struct TextFormatError: Error, Equatable, CustomStringConvertible, Sendable {
    public let path: String
    /// 1-based line number; 0 when the problem is the file as a whole.
    public let line: Int
    public let message: String

    public init(path: String, line: Int, message: String) {
        self.path = path
        self.line = line
        self.message = message
    }

    public var description: String {
        line > 0 ? "\(path):\(line): \(message)" : "\(path): \(message)"
    }
}
