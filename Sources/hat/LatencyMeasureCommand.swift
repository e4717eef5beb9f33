import ArgumentParser
import Data
import Foundation
import Latency
import Model
import TensorEngine

/// Model-shape options shared by the measuring commands: vocabulary sizes and the SuperTransformer.
struct MeasurementOptions: ParsableArguments {
    @Option(help: "Search space the SubTransformer belongs to (default: the smallest SuperTransformer that holds it).")
    var space: String?
    @Option(help: "Joint vocabulary size (WMT: 32768).") var vocab: Int?
    @Option(name: .customLong("src-vocab"), help: "Source vocabulary size.") var sourceVocab: Int?
    @Option(name: .customLong("tgt-vocab"), help: "Target vocabulary size.") var targetVocab: Int?
    @Option(help: "Take the vocabulary sizes from this prepared dataset.") var data: String?
    @Option(help: "Sentence length in tokens (HAT: 30 for WMT, 23 for IWSLT).") var length: Int = 30
    @Option(help: "Beam size (hypotheses decoded in parallel).") var beam: Int = 5
    @Option(help: "Untimed warm-up runs.") var warmup: Int = 5
    @Option(help: "Timed runs (HAT: 300 for predictor data; the fastest and slowest 10 % are dropped).") var iterations: Int = 20
    @Option(help: "Compute threads (BLAS and engine kernels); decoding runs fastest on 1.") var threads: Int = 1

    func validate() throws {
        if length < 1 || beam < 1 || iterations < 1 || warmup < 0 { throw ValidationError("--length, --beam and --iterations must be positive") }
        if (sourceVocab == nil) != (targetVocab == nil) { throw ValidationError("--src-vocab and --tgt-vocab go together") }
    }

    /// (source, target) vocabulary sizes.
    func vocabularySizes() throws -> (Int, Int) {
        if let data {
            let d = try PreparedDataset(directory: data)
            return (d.sourceVocabulary.size, d.targetVocabulary.size)
        }
        if let s = sourceVocab, let t = targetVocab { return (s, t) }
        return (vocab ?? 32768, vocab ?? 32768)
    }

    var measurer: LatencyMeasurer {
        BLAS.setComputeThreads(threads)
        return LatencyMeasurer(length: length, beam: beam, warmup: warmup, iterations: iterations)
    }

    /// A SuperTransformer (random weights) that holds `sub`: the given space, or one just big enough.
    func model(for sub: SubTransformerConfig, space given: SearchSpace?) throws -> SuperTransformer {
        let (vs, vt) = try vocabularySizes()
        let space = given ?? SearchSpace(
            encoderEmbedDim: sub.encoderEmbedDim, decoderEmbedDim: sub.decoderEmbedDim,
            encoderFFNDim: sub.encoderFFNDims.max()!, decoderFFNDim: sub.decoderFFNDims.max()!,
            encoderLayers: sub.encoderLayerNum, decoderLayers: sub.decoderLayerNum,
            encoderAttentionHeads: sub.encoderSelfAttentionHeads.max()!, decoderAttentionHeads: sub.decoderSelfAttentionHeads.max()!,
            qkvDim: 512, shareAllEmbeddings: false,
            encoderEmbedChoices: [sub.encoderEmbedDim], decoderEmbedChoices: [sub.decoderEmbedDim],
            encoderFFNChoices: sub.encoderFFNDims, decoderFFNChoices: sub.decoderFFNDims,
            encoderLayerChoices: [sub.encoderLayerNum], decoderLayerChoices: [sub.decoderLayerNum],
            encoderSelfAttentionHeadChoices: sub.encoderSelfAttentionHeads, decoderSelfAttentionHeadChoices: sub.decoderSelfAttentionHeads,
            decoderCrossAttentionHeadChoices: sub.decoderCrossAttentionHeads, decoderArbitraryAttentionChoices: [-1, 1, 2])
        if let given { try given.check(sub, file: "the SubTransformer") }
        var rng = RandomGenerator(seed: 0)
        let shared = space.shareAllEmbeddings && vs == vt
        var s = space
        s.shareAllEmbeddings = shared
        return SuperTransformer(space: s, sourceVocabSize: vs, targetVocabSize: vt, rates: .none,
                                maxPositions: Swift.max(1024, length + 2), rng: &rng)
    }
}

/// `hat latency measure`: HAT's latency measurement of one SubTransformer on this machine.
struct LatencyMeasureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "measure",
        abstract: "Measure a SubTransformer's encoder and decoder latency on this machine (HAT's method)."
    )

    @Argument(help: "SubTransformer YAML (HAT format).") var subtransformer: String
    @OptionGroup var options: MeasurementOptions
    @Flag(help: "Print JSON.") var json = false

    func run() throws {
        let space = try options.space.map { try SearchSpace(contentsOf: $0) }
        let sub = try SubTransformerConfig(contentsOf: subtransformer,
                                           superLayers: space.map { ($0.encoderLayers, $0.decoderLayers) }, qkvDim: space?.qkvDim ?? 512)
        let model = try options.model(for: sub, space: space)
        let m = options.measurer.measure(model: model, config: sub)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            print(String(decoding: try encoder.encode(m), as: UTF8.self))
        } else {
            print(String(format: "%@: encoder %.2f ± %.2f ms, decoder %.2f ± %.2f ms, total %.2f ms (length %d, beam %d, %d runs, BLAS %@)",
                         URL(fileURLWithPath: subtransformer).lastPathComponent, m.encoderMeanMs, m.encoderStdMs,
                         m.decoderMeanMs, m.decoderStdMs, m.totalMs, m.length, m.beam, m.iterations, BLAS.coreName))
        }
    }
}
