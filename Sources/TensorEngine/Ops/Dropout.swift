/// Inverted dropout: zeroes each element with probability `p` and scales the rest by 1/(1−p).
///
/// The mask is drawn in row-major order from `rng`, so a seeded run is bitwise repeatable.
/// With `p == 0` this is the identity (no copy, no random numbers drawn).
public func dropout(_ x: Tensor, p: Float, rng: inout RandomGenerator) -> Tensor {
    precondition(p >= 0 && p < 1, "dropout probability \(p) must be in [0, 1)")
    if p == 0 { return x }
    let x = x.contiguous()
    let n = x.count
    let keep = 1 - p
    let scale = 1 / keep
    let mask = TensorStorage(count: n)
    let pm = mask.data
    // Compare 24-bit uniforms against a threshold: exact and cheap.
    let threshold = UInt64((Double(p) * 16_777_216.0).rounded())
    for i in 0..<n { pm[i] = (rng.next() >> 40) >= threshold ? scale : 0 }
    let out = TensorStorage(count: n)
    let px = x.dataPointer, po = out.data
    parallelFor(n) { r in for i in r { po[i] = px[i] * pm[i] } }
    return Tensor.result(out, shape: x.shape, inputs: [x]) { g in
        _ = mask  // keep the mask alive with the graph
        let gx = x.gradPointer
        parallelFor(n) { r in for i in r { gx[i] += g[i] * pm[i] } }
    }
}
