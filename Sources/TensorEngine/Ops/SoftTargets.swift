import Foundation

/// A teacher's distribution over k tokens for every row of a loss's logits (token-level knowledge
/// distillation: the teacher's top-k probabilities, renormalized), and how much of the loss it is.
public struct SoftTargets: Sendable {
    /// Tokens per row.
    public let k: Int
    /// [rows, k] token ids; rows whose target is padding are ignored.
    public let indices: [Int32]
    /// [rows, k] probabilities (each row sums to 1 for a renormalized top-k).
    public let probabilities: [Float]
    /// α: the loss is (1 − α)·label-smoothed cross-entropy + α·cross-entropy against these targets.
    public let weight: Float

    public init(k: Int, indices: [Int32], probabilities: [Float], weight: Float) {
        precondition(
            k >= 1 && indices.count == probabilities.count && indices.count % k == 0,
            "SoftTargets: \(indices.count) ids, \(probabilities.count) probabilities for k = \(k)")
        self.k = k
        self.indices = indices
        self.probabilities = probabilities
        self.weight = weight
    }

    /// The top k tokens of every row of `logits` [rows, V] and their probabilities renormalized
    /// over those k (softmax of the k logits): a teacher's soft targets (HAT §4 uses k = 5).
    public static func topK(logits: Tensor, k: Int, weight: Float) -> SoftTargets {
        let vocab = logits.shape.last ?? 1
        precondition(k >= 1 && k <= vocab, "SoftTargets.topK: k = \(k) for a vocabulary of \(vocab)")
        let x = logits.contiguous()
        let rows = x.count / Swift.max(vocab, 1)
        var indices = [Int32](repeating: 0, count: rows * k)
        var probabilities = [Float](repeating: 0, count: rows * k)
        let px = x.dataPointer
        indices.withUnsafeMutableBufferPointer { ids in
            probabilities.withUnsafeMutableBufferPointer { probs in
                let (ids, probs) = (ids.baseAddress!, probs.baseAddress!)
                parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(vocab, 1))) { range in
                    for r in range {
                        let row = px + r * vocab, id = ids + r * k, value = probs + r * k
                        // Insertion into the k best so far, largest first; ties keep the lower id.
                        var filled = 0
                        for v in 0..<vocab {
                            let z = row[v]
                            if filled == k && !(z > value[k - 1]) { continue }
                            var j = Swift.min(filled, k - 1)
                            while j > 0 && z > value[j - 1] {
                                value[j] = value[j - 1]
                                id[j] = id[j - 1]
                                j -= 1
                            }
                            value[j] = z
                            id[j] = Int32(v)
                            filled = Swift.min(filled + 1, k)
                        }
                        let top = value[0]
                        var total: Float = 0
                        for j in 0..<k {
                            value[j] = Foundation.exp(value[j] - top)
                            total += value[j]
                        }
                        for j in 0..<k { value[j] /= total }
                    }
                }
            }
        }
        return SoftTargets(k: k, indices: indices, probabilities: probabilities, weight: weight)
    }

    func check(rows: Int, vocabulary: Int) {
        precondition(indices.count == rows * k, "SoftTargets: \(indices.count / k) rows of soft targets for \(rows) rows of logits")
        for t in indices { precondition(t >= 0 && Int(t) < vocabulary, "SoftTargets: token \(t) outside vocabulary \(vocabulary)") }
    }
}
