import Foundation
import TensorEngine

/// Decoder-step products (5 rows, beam 5) with float32 weights against the same weights
/// codebook-quantized at 8 and 4 bits (`hat quantize`): milliseconds, weights per second and the
/// bytes of weights streamed per second, at 1 and 2 threads. Random indices and centroids: the
/// kernels' speed does not depend on their values.
func benchCodebookGEMM() {
    var rng = RandomGenerator(seed: 0)
    // A WMT decoder layer's products and its output projection (d 512, FFN 2048, 32k vocabulary),
    // then one matrix of 537 MB in float32: larger than any L3, so its float32 weights stream from
    // DRAM (the quantized ones are 134 and 67 MB).
    let shapes: [(m: Int, n: Int, k: Int)] = [
        (5, 512, 512), (5, 2048, 512), (5, 512, 2048), (5, 32768, 512), (1, 32768, 512), (5, 131_072, 1024),
    ]
    for (m, n, k) in shapes {
        let x = Tensor.randn([m, k], rng: &rng)
        let float = Tensor.randn([n, k], std: 0.05, rng: &rng)
        var weights: [(String, Tensor, Double)] = [("float32", float, 4)]
        for bits in [8, 4] {
            let q = Tensor.zeros([n, k])
            let matrix = QuantizedMatrix(
                rows: n, columns: k, bits: bits, groupRows: n, codebooks: (0..<(1 << bits)).map { _ in 0.05 * rng.normal() },
                assignments: (0..<(n * k)).map { _ in UInt8(rng.nextInt(1 << bits)) })
            q.storage.replaceWithQuantized(matrix, rowStride: k)
            weights.append(("\(bits)-bit", q, Double(bits) / 8))
        }
        let repeats = n * k > 100_000_000 ? 10 : n * k > 4_000_000 ? 50 : 500
        for threads in [1, 2] {
            for (name, w, bytesPerWeight) in weights {
                let ms = BLAS.withComputeThreads(threads) { time(repeats: repeats) { _ = withNoGrad { linear(x, weight: w) } } }
                emit([
                    "bench": "codebook_gemm", "shape": "\(m)x\(n)x\(k)", "weights": name, "threads": threads, "ms": ms,
                    "gweights_per_s": Double(n * k) / (ms * 1e6), "weight_gb_per_s": Double(n * k) * bytesPerWeight / (ms * 1e6),
                    "kernel": QuantizedMatrix.kernelDescription,
                ])
            }
        }
    }
}
