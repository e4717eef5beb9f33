/// A problem with a latency dataset, a predictor file or a latency-stage argument, with where it
/// is (file, line, column) and, where one is known, what to do.
public struct LatencyError: Error, CustomStringConvertible, Equatable {
    public let file: String?
    /// 1-based line of a CSV file.
    public let line: Int?
    /// Column name (a CSV header name or a predictor-file key).
    public let column: String?
    public let message: String

    /// Whether `column` names a key of a predictor file (JSON or safetensors metadata) rather
    /// than a CSV column.
    public let isKey: Bool

    public init(file: String? = nil, line: Int? = nil, column: String? = nil, _ message: String) {
        self.file = file
        self.line = line
        self.column = column
        self.message = message
        isKey = false
    }

    /// A problem with a predictor file's key.
    public init(file: String, key: String, _ message: String) {
        self.file = file
        line = nil
        column = key
        self.message = message
        isKey = true
    }

    public var description: String {
        var location = file ?? ""
        if let line { location += ":\(line)" }
        if let column { location += (location.isEmpty ? "" : ": ") + (isKey ? "key" : "column") + " '\(column)'" }
        return location.isEmpty ? message : "\(location): \(message)"
    }
}
