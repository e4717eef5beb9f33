/// Why a PyTorch checkpoint cannot be read. Every message names the file; none of them is a crash.
public struct TorchCheckpointError: Error, CustomStringConvertible {
    public let file: String
    public let reason: String

    public init(_ file: String, _ reason: String) {
        self.file = file
        self.reason = reason
    }

    public var description: String { "\(file): \(reason)" }
}
