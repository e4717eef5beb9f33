import CKernels

/// Label-smoothed cross-entropy with fairseq's semantics, as HAT trains with it (hat-reference.md §8).
///
/// For each target position t with logits z (vocabulary V) and lprobs = logSoftmax(z):
///   nll_t = −lprobs[target_t],  smooth_t = −Σ_v lprobs[v]
///   loss  = Σ_{t not pad} (1 − ε)·nll_t + (ε / V)·smooth_t
/// i.e. ε is spread over the whole vocabulary (HAT's fairseq version), and both terms are
/// summed over the non-padding tokens. Returns the loss and the summed NLL (for perplexity).
///
/// With `softTargets` (token-level knowledge distillation, HAT §4), each non-pad row also has a
/// teacher distribution p over k tokens, and the loss becomes
///   (1 − α)·(label-smoothed loss above) + α·Σ_t −Σ_j p_j·lprobs[index_j]
/// with α = `softTargets.weight`.
///
/// - Parameters:
///   - logits: [N, V] (any leading shape is flattened).
///   - targets: N target ids; positions equal to `paddingIndex` contribute nothing.
public func labelSmoothedCrossEntropy(
    logits: Tensor, targets: [Int32], epsilon: Float, paddingIndex: Int32, softTargets: SoftTargets? = nil
) -> (loss: Tensor, nllLoss: Float) {
    let vocab = logits.shape.last ?? 1
    let x = logits.contiguous()
    let rows = x.count / Swift.max(vocab, 1)
    precondition(targets.count == rows, "labelSmoothedCrossEntropy: \(targets.count) targets for \(rows) rows of logits \(logits.shape)")
    for t in targets { precondition(t >= 0 && Int(t) < vocab, "labelSmoothedCrossEntropy: target \(t) outside vocabulary \(vocab)") }
    let px = x.dataPointer
    // Per row: log-sum-exp and the sum of the logits (CKernels/log_softmax.c, vectorized exp).
    let lse = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(rows, 1))
    var totals = [Float](repeating: 0, count: rows)
    totals.withUnsafeMutableBufferPointer { buffer in
        guard let pt = buffer.baseAddress else { return }
        parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(vocab, 1))) { range in
            hat_logsumexp_rows(px + range.lowerBound * vocab, range.count, vocab, lse + range.lowerBound, pt + range.lowerBound)
        }
    }
    if let softTargets { softTargets.check(rows: rows, vocabulary: vocab) }
    let k = softTargets?.k ?? 0
    let alpha = Double(softTargets?.weight ?? 0)
    var nllSum = 0.0, smoothSum = 0.0, softSum = 0.0
    for r in 0..<rows where targets[r] != paddingIndex {
        nllSum += Double(lse[r] - px[r * vocab + Int(targets[r])])
        smoothSum += Double(Float(vocab) * lse[r] - totals[r])
        if let softTargets {
            for j in (r * k)..<(r * k + k) {
                softSum += Double(softTargets.probabilities[j]) * Double(lse[r] - px[r * vocab + Int(softTargets.indices[j])])
            }
        }
    }
    let epsI = Double(epsilon) / Double(vocab)
    let out = TensorStorage(count: 1)
    out.data[0] = Float((1 - alpha) * ((1 - Double(epsilon)) * nllSum + epsI * smoothSum) + alpha * softSum)
    let saved = ScratchBuffer(lse)
    let loss = Tensor.result(out, shape: [], inputs: [x]) { g in
        // d loss / d z_j = softmax_j·(1 − α + α·Σp) − (1 − α)·((1 − ε)·[j = target] + ε/V) − α·p_j,
        // per non-pad row (without soft targets α = 0).
        let lse = saved.pointer
        let (gx, store) = x.gradientDestination
        let gv = g[0]
        let hard = Float(1 - alpha)
        let e = Float(epsI) * hard
        parallelFor(rows, minimumPerThread: Swift.max(1, 16_384 / Swift.max(vocab, 1))) { range in
            for r in range {
                let xr = px + r * vocab, dr = gx + r * vocab
                if targets[r] == paddingIndex {
                    if store { dr.update(repeating: 0, count: vocab) }
                    continue
                }
                guard let softTargets else {
                    hat_affine_exp_row(xr, vocab, lse[r], gv, -gv * e, dr, store ? 0 : 1)
                    dr[Int(targets[r])] -= gv * (1 - epsilon)
                    continue
                }
                let soft = softTargets.probabilities[(r * k)..<(r * k + k)]
                let softMass = soft.reduce(0, +)
                hat_affine_exp_row(xr, vocab, lse[r], gv * (hard + softTargets.weight * softMass), -gv * e, dr, store ? 0 : 1)
                dr[Int(targets[r])] -= gv * hard * (1 - epsilon)
                for j in (r * k)..<(r * k + k) {
                    dr[Int(softTargets.indices[j])] -= gv * softTargets.weight * softTargets.probabilities[j]
                }
            }
        }
    }
    return (loss, Float(nllSum))
}

/// Owns a temporary buffer that a backward closure needs; freed with the graph.
final class ScratchBuffer {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
    deinit { pointer.deallocate() }
}
