import Foundation
import Model
import NN
import TensorEngine

// Engine benchmarks, printed as JSON lines; benchmarks/engine.sh runs them next to PyTorch
// (benchmarks/engine_torch.py) in one run and writes the table in docs/PERFORMANCE.md.
//
//   hat-bench gemm            SGEMM GFLOP/s on training- and decoding-sized shapes (training
//                             shapes also with bfloat16 operands, hat train --bf16)
//   hat-bench encoder-layer   forward+backward of one post-norm Transformer encoder layer
//                             (d=512, FFN 2048, 8 heads, 4,096 tokens as 128×32)
//   hat-bench subtransformer-step SPACE.yml [largest|median|smallest] [bf16]
//                             forward+backward (label-smoothed CE) + Adam of one of the space's
//                             SubTransformers on 128×32 source and target tokens, with dropout;
//                             bf16: products in bfloat16 (hat train --bf16); also prints the
//                             step's product GFLOP (float32 and bfloat16 operands)
//   hat-bench codebook-gemm   decoder-step products with float32 weights against the same
//                             weights K-means-quantized to 8 and 4 bits (CodebookBenchmark.swift)
//   hat-bench text-pipeline LANG CODES FILE
//                             lines/s of the Moses tokenizer, subword-nmt BPE and both on FILE's
//                             lines (TextPipelineBenchmark.swift; benchmarks/text_pipeline.sh)

func median(_ xs: [Double]) -> Double {
    let s = xs.sorted()
    return s[s.count / 2]
}

func time(repeats: Int, warmup: Int = 2, _ body: () -> Void) -> Double {
    for _ in 0..<warmup { body() }
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        samples.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
    }
    return median(samples)
}

func emit(_ fields: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
}

/// The products of a training step in their three layouts: forward x·Wᵀ ("nt", weight rows
/// contiguous along k), the input gradient g·W ("nn"), the weight gradient gᵀ·x ("tn"); then
/// decoder-step products (5 rows, the small-M kernels).
func benchGEMM() {
    var rng = RandomGenerator(seed: 0)
    let shapes: [(Int, Int, Int, String)] = [
        (4096, 3072, 640, "nn"), (4096, 2048, 512, "nt"), (4096, 512, 2048, "nn"), (2048, 512, 4096, "tn"),
        (160, 2048, 512, "nt"), (5, 512, 512, "nn"), (5, 2048, 512, "nn"),
    ]
    for (m, n, k, layout) in shapes {
        let a = layout == "tn" ? Tensor.randn([k, m], rng: &rng).transposed(0, 1) : Tensor.randn([m, k], rng: &rng)
        let b = layout == "nt" ? Tensor.randn([n, k], rng: &rng).transposed(0, 1) : Tensor.randn([k, n], rng: &rng)
        let repeats = m * n * k > 100_000_000 ? 10 : 200
        // Training-sized products also in bfloat16 (hat train --bf16; float32 sums).
        for precision in m > 5 ? [ProductPrecision.float32, .bfloat16] : [.float32] {
            let ms = BLAS.$productPrecision.withValue(precision) { time(repeats: repeats) { _ = withNoGrad { matmul(a, b) } } }
            let kernel =
                m <= BLAS.smallMatrixMaxRows
                ? "small-M \(BLAS.smallMatrixISA)"
                : precision == .bfloat16 ? "hat bf16 (AVX512-BF16: \(BLAS.hasBFloat16Hardware))" : "\(BLAS.float32GEMM)"
            emit([
                "bench": "gemm", "shape": "\(m)x\(n)x\(k)", "layout": layout, "impl": "swift", "ms": ms, "precision": precision.rawValue,
                "gflops": 2.0 * Double(m * n * k) / (ms * 1e6), "kernel": kernel, "kernels": BLAS.kernelDescription,
            ])
        }
    }
}

/// One post-norm encoder layer (fairseq's default), written out like the SuperTransformer will be.
struct EncoderLayer {
    let d = 512, ffn = 2048, heads = 8
    let wIn, bIn, wOut, bOut, ln1w, ln1b, w1, b1, w2, b2, ln2w, ln2b: Tensor

    init(rng: inout RandomGenerator) {
        wIn = Tensor.randn([3 * d, d], std: 0.02, rng: &rng).requiringGrad()
        bIn = Tensor.zeros([3 * d]).requiringGrad()
        wOut = Tensor.randn([d, d], std: 0.02, rng: &rng).requiringGrad()
        bOut = Tensor.zeros([d]).requiringGrad()
        ln1w = Tensor.ones([d]).requiringGrad()
        ln1b = Tensor.zeros([d]).requiringGrad()
        w1 = Tensor.randn([ffn, d], std: 0.02, rng: &rng).requiringGrad()
        b1 = Tensor.zeros([ffn]).requiringGrad()
        w2 = Tensor.randn([d, ffn], std: 0.02, rng: &rng).requiringGrad()
        b2 = Tensor.zeros([d]).requiringGrad()
        ln2w = Tensor.ones([d]).requiringGrad()
        ln2b = Tensor.zeros([d]).requiringGrad()
    }

    var parameters: [Tensor] { [wIn, bIn, wOut, bOut, ln1w, ln1b, w1, b1, w2, b2, ln2w, ln2b] }

    func callAsFunction(_ x: Tensor) -> Tensor {  // x: [B, T, d]
        let (b, t) = (x.shape[0], x.shape[1])
        let hd = d / heads
        let qkv = linear(x, weight: wIn, bias: bIn)  // [B, T, 3d]
        func split(_ i: Int) -> Tensor {  // [B, H, T, hd]
            qkv.narrow(-1, start: i * d, length: d).reshaped([b, t, heads, hd]).permuted([0, 2, 1, 3])
        }
        let q = split(0) * (1 / Float(hd).squareRoot())
        let attn = softmax(matmul(q, split(1).transposed(-1, -2)))  // [B, H, T, T]
        let ctx = matmul(attn, split(2)).permuted([0, 2, 1, 3]).reshaped([b, t, d])
        let h = layerNorm(x + linear(ctx, weight: wOut, bias: bOut), weight: ln1w, bias: ln1b)
        let f = linear(relu(linear(h, weight: w1, bias: b1)), weight: w2, bias: b2)
        return layerNorm(h + f, weight: ln2w, bias: ln2b)
    }
}

func benchEncoderLayer() {
    var rng = RandomGenerator(seed: 0)
    let layer = EncoderLayer(rng: &rng)
    let x = Tensor.randn([128, 32, 512], rng: &rng).requiringGrad()
    let dy = Tensor.randn([128, 32, 512], rng: &rng)
    let fwd = time(repeats: 10) { _ = withNoGrad { layer(x) } }
    let step = time(repeats: 10) {
        let loss = (layer(x) * dy).sum()
        loss.backward()
        for p in layer.parameters { p.storage.zeroGrad() }
        x.storage.zeroGrad()
    }
    emit([
        "bench": "encoder_layer", "shape": "d512_ffn2048_h8_4096tok", "impl": "swift",
        "forward_ms": fwd, "forward_backward_ms": step, "kernel": BLAS.kernelDescription,
    ])
}

/// One training step (forward, loss, backward, Adam update) of a SubTransformer of the space:
/// `which` is "largest", "smallest" or "median" (every choice at its middle value).
func benchSubTransformerStep(spacePath: String, which: String) throws {
    let space = try SearchSpace(contentsOf: spacePath)
    let config: SubTransformerConfig
    switch which {
    case "smallest": config = space.smallest
    case "median":
        var g = space.gene(of: space.largest)
        for (i, choices) in space.geneChoices.enumerated() { g[i] = choices.sorted()[choices.count / 2] }
        config = space.config(fromGene: g)
    default: config = space.largest
    }
    let (batch, sourceLength, targetLength, sourceVocab, targetVocab) = (128, 32, 32, 8848, 6632)
    let rates = DropoutRates(dropout: 0.375, attentionDropout: 0.1, activationDropout: 0)
    var rng = RandomGenerator(seed: 0)
    let model = SuperTransformer(
        space: space, sourceVocabSize: space.shareAllEmbeddings ? targetVocab : sourceVocab,
        targetVocabSize: targetVocab, rates: rates, rng: &rng)
    let src = TokenBatch(
        tokens: (0..<(batch * sourceLength)).map { _ in Int32(4 + rng.nextInt(model.sourceVocabSize - 4)) },
        batchSize: batch, length: sourceLength)
    let prev = TokenBatch(
        tokens: (0..<(batch * targetLength)).map { _ in Int32(4 + rng.nextInt(targetVocab - 4)) },
        batchSize: batch, length: targetLength)
    let target = (0..<(batch * targetLength)).map { _ in Int32(4 + rng.nextInt(targetVocab - 4)) }
    let context = ForwardContext(training: true, rng: RandomGenerator(seed: 1))
    let adam = Adam(parameters: model.parameters(), learningRate: 1e-4)
    // Five untimed steps: the process heap grows to its steady size over the first steps (every
    // activation on fresh pages, a tenth of a step's time in page faults), as it does once in a
    // training run of thousands of steps. The PyTorch side warms up as many (setup["warmup"]).
    let repeats = 5, warmup = 5
    let setup: [String: Any] = [
        "space": try JSONSerialization.jsonObject(with: JSONEncoder().encode(space)),
        "config": try JSONSerialization.jsonObject(with: JSONEncoder().encode(config)),
        "batch": batch, "source_length": sourceLength, "target_length": targetLength,
        "source_vocab": model.sourceVocabSize, "target_vocab": targetVocab,
        "dropout": rates.dropout, "attention_dropout": rates.attentionDropout, "repeats": repeats, "warmup": warmup, "which": which,
    ]
    emit([
        "bench": "subtransformer_step_setup",
        "setup": String(decoding: try JSONSerialization.data(withJSONObject: setup, options: [.sortedKeys]), as: UTF8.self),
    ])
    let countedBefore = BLAS.multiplyAddsCounted
    let ms = time(repeats: repeats, warmup: warmup) {
        let (loss, _) = model.loss(
            source: src, previousOutput: prev, target: target, config: config,
            labelSmoothing: 0.1, context: context)
        loss.backward()
        adam.update(gradientScale: 1 / Float(batch * targetLength))
        model.zeroGrad()
    }
    // Product work per step (the warm-ups + the timed repeats ran): with the best GEMM rate of this
    // CPU (`hat-bench gemm`) it bounds how fast any implementation of this step can be.
    let countedAfter = BLAS.multiplyAddsCounted, steps = Double(repeats + warmup)
    let fp32GFLOP = 2 * Double(countedAfter.float32 - countedBefore.float32) / steps / 1e9
    let bf16GFLOP = 2 * Double(countedAfter.bfloat16 - countedBefore.bfloat16) / steps / 1e9
    emit([
        "bench": "subtransformer_step", "impl": "swift", "which": which, "ms": ms, "target_tokens_per_s": Double(batch * targetLength) / ms * 1e3,
        "kernel": BLAS.kernelDescription, "config": config.description, "precision": BLAS.productPrecision.rawValue,
        "product_gflop_float32": fp32GFLOP, "product_gflop_bfloat16": bf16GFLOP,
    ])
}

let which = CommandLine.arguments.dropFirst().first ?? "all"
if which == "gemm" || which == "all" { benchGEMM() }
if which == "encoder-layer" || which == "all" { benchEncoderLayer() }
if which == "codebook-gemm" || which == "all" { benchCodebookGEMM() }
if which == "subtransformer-step" {
    let path = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : "../shared/data/hat-configs/iwslt14.de-en__space1.yml"
    // A fourth argument "bf16" runs the products in bfloat16 (hat train --bf16).
    let precision: ProductPrecision = CommandLine.arguments.count > 4 && CommandLine.arguments[4] == "bf16" ? .bfloat16 : .float32
    try BLAS.$productPrecision.withValue(precision) {
        try benchSubTransformerStep(spacePath: path, which: CommandLine.arguments.count > 3 ? CommandLine.arguments[3] : "largest")
    }
}
if which == "text-pipeline" {
    let args = CommandLine.arguments
    guard args.count == 5 else {
        FileHandle.standardError.write(Data("usage: HATBenchmarks text-pipeline LANG CODES FILE\n".utf8))
        exit(2)
    }
    try benchTextPipeline(language: args[2], codesPath: args[3], textPath: args[4])
}
