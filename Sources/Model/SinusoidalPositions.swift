import Foundation
import TensorEngine

/// fairseq's sinusoidal position table, computed for the SUPER embedding width (hat-reference.md §2).
///
/// Row p (position p) is [sin(p·ω_0) … sin(p·ω_{h−1}), cos(p·ω_0) … cos(p·ω_{h−1})] with
/// h = width/2 and ω_i = exp(−ln(10000)·i/(h−1)). A SubTransformer of width d uses the first
/// d columns — i.e. not a d-wide sinusoid. Positions start at paddingIndex+1; the padding row
/// is zero, so padding tokens get no position signal.
public struct SinusoidalPositions {
    public let table: Tensor  // [paddingIndex + 1 + maxPositions, width]
    public let paddingIndex: Int32
    public let maxPositions: Int

    public init(width: Int, maxPositions: Int = 1024, paddingIndex: Int32 = 1) {
        self.paddingIndex = paddingIndex
        self.maxPositions = maxPositions
        let rows = Int(paddingIndex) + 1 + maxPositions
        let half = width / 2
        let scale = log(10000.0) / Double(Swift.max(half - 1, 1))
        var values = [Float](repeating: 0, count: rows * width)
        for p in 0..<rows where p != Int(paddingIndex) {
            for i in 0..<half {
                let angle = Double(p) * exp(-scale * Double(i))
                values[p * width + i] = Float(sin(angle))
                values[p * width + half + i] = Float(cos(angle))
            }
        }
        table = Tensor(values, shape: [rows, width])
    }

    /// Position ids for right-padded tokens [B, T]: paddingIndex+1+t, or paddingIndex at padding.
    public func positions(tokens: [Int32], batch: Int, length: Int, startingAt start: Int = 0) -> [Int32] {
        precondition(start + length <= maxPositions, "sequence of \(start + length) tokens exceeds the \(maxPositions) positions")
        var ids = [Int32](repeating: paddingIndex, count: tokens.count)
        for b in 0..<batch {
            for t in 0..<length where tokens[b * length + t] != paddingIndex {
                ids[b * length + t] = paddingIndex + 1 + Int32(start + t)
            }
        }
        return ids
    }

    /// Position vectors [B, T, d] (first d columns of the super-width table).
    public func callAsFunction(tokens: [Int32], batch: Int, length: Int, width d: Int, startingAt start: Int = 0) -> Tensor {
        embedding(
            table.corner([table.shape[0], d]), indices: positions(tokens: tokens, batch: batch, length: length, startingAt: start),
            shape: [batch, length])
    }
}
