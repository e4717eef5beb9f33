/// Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1−p).
///
/// The mask is drawn in row-major order from `rng`, so a seeded run is bitwise repeatable.
/// With `p == 0` this is the identity (no copy, no random numbers drawn).
///
/// One pass draws the mask and writes the output; the mask is kept as one byte per element
/// (not a Float scale), a quarter of the memory the backward pass reads again.
public func dropout(_ x: Tensor, p: Float, rng: inout RandomGenerator) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout probability \(p) must be in [0, 1)")
    if p == 0 { return x }
    let x = x.contiguous()
    let n = x.count
    let scale = 1 / (1 - p)
    let mask = DropoutMask(count: n)
    let keep = mask.keep
    let out = TensorStorage(count: n)
    let px = x.dataPointer, po = out.data
    // Compare 24-bit uniforms against a threshold: exact and cheap. The generator runs in
    // sequence (its stream defines the mask), so this loop is single-threaded by design.
    let threshold = UInt64((Double(p) * 16_777_216.0).rounded())
    // Branch-free on purpose: "kept" is a coin flip, and a branch on it mispredicts a third of
    // the time (the compiler turns `kept ? a : b` back into a branch here). The sign of
    // uniform − threshold gives an all-ones mask when kept; x · (scale or +0) is bit for bit
    // the x · mask of the two-pass version.
    let scaleBits = scale.bitPattern
    for i in 0..<n {
        let difference = Int64(bitPattern: (rng.next() >> 40) &- threshold)  // < 0 when dropped
        let keptMask = UInt32(truncatingIfNeeded: ~(difference >> 63))  // all ones when kept
        keep[i] = UInt8(truncatingIfNeeded: keptMask & 1)
        po[i] = px[i] * Float(bitPattern: scaleBits & keptMask)
    }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        let (gx, store) = x.gradientDestination
        parallelFor(n) { r in emitGradient(gx, store: store, r) { g[$0] * (Float(keep[$0]) * scale) } }
        _ = mask  // keeps the mask alive with the graph
    }
}

/// The keep flags of one dropout call (1 = kept), freed with the graph.
final class DropoutMask {
    let keep: UnsafeMutablePointer<UInt8>
    init(count: Int) { keep = .allocate(capacity: Swift.max(count, 1)) }
    deinit { keep.deallocate() }
}
