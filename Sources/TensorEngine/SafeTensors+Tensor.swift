import Foundation

/// Bridges safetensors entries and engine tensors (F32 data; integer ids as Int32).
extension Tensor {
    /// A contiguous F32 tensor from a safetensors entry (F32, F64, F16 and BF16 are converted).
    public convenience init(_ entry: SafeTensorsEntry) throws {
        let values = try entry.floats()
        self.init(values, shape: entry.shape)
    }
}

extension SafeTensorsFile {
    /// Adds this tensor's values (row-major) as an F32 entry.
    public mutating func add(_ name: String, _ tensor: Tensor) throws {
        try add(name, floats: tensor.toArray(), shape: tensor.shape)
    }

    /// The named entry as a tensor; the error names the file and the missing tensor.
    public func tensorValue(_ name: String) throws -> Tensor {
        try Tensor(tensor(name))
    }
}
