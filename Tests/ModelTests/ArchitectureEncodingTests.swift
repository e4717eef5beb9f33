import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Model

/// Sampling, genes and HAT's 10 latency features.
@Suite("Sampling, genes and features")
struct ArchitectureEncodingTests {
    static let space0 = try! SearchSpace(
        contentsOf:
            sharedDataDirectory
            .appendingPathComponent("hat-configs/wmt14.en-de__space0.yml").path)

    @Test("sampling is seeded, stays in the space, and reaches every choice")
    func sampling() throws {
        var a = RandomGenerator(seed: 5), b = RandomGenerator(seed: 5)
        var seenDecoderLayers = Set<Int>(), seenFFN = Set<Int>(), seenArbitrary = Set<Int>()
        for _ in 0..<300 {
            let c = Self.space0.sample(rng: &a)
            #expect(c == Self.space0.sample(rng: &b))
            try Self.space0.check(c, file: "sample")
            seenDecoderLayers.insert(c.decoderLayerNum)
            seenFFN.formUnion(c.encoderFFNDims)
            seenArbitrary.formUnion(c.decoderArbitraryAttention)
        }
        #expect(seenDecoderLayers == Set(Self.space0.decoderLayerChoices))
        #expect(seenFFN == Set(Self.space0.encoderFFNChoices))
        #expect(seenArbitrary == [-1, 1, 2])
    }

    @Test("config → gene → config is the identity; genes have HAT's layout")
    func genes() {
        var rng = RandomGenerator(seed: 11)
        for _ in 0..<100 {
            let c = Self.space0.sample(rng: &rng)
            let g = Self.space0.gene(of: c)
            #expect(g.count == Self.space0.geneLength && g.count == 4 + 2 * 6 + 4 * 6)
            #expect(Self.space0.config(fromGene: g) == c)
            #expect(g[0] == c.encoderEmbedDim && g[1] == c.encoderLayerNum && g[14] == c.decoderEmbedDim && g[15] == c.decoderLayerNum)
            for (value, choices) in zip(g, Self.space0.geneChoices) { #expect(choices.contains(value)) }
        }
    }

    @Test("HAT's features: means over used layers, arbitrary attention mapped -1→1, 1→2, 2→3")
    func features() {
        let c = SubTransformerConfig(
            encoderEmbedDim: 512, encoderLayerNum: 6, encoderFFNDims: [3072, 3072, 3072, 3072, 3072, 1024],
            encoderSelfAttentionHeads: [4, 8, 8, 8, 8, 8], decoderEmbedDim: 640, decoderLayerNum: 2,
            decoderFFNDims: [3072, 1024], decoderSelfAttentionHeads: [8, 4], decoderCrossAttentionHeads: [8, 8],
            decoderArbitraryAttention: [-1, 2])
        let expected: [Double] = [512, 6, 16384.0 / 6, 44.0 / 6, 640, 2, 2048, 6, 8, 2]  // arbitrary [-1, 2] → [1, 3]
        #expect(c.hatFeatures == expected)
        #expect(SubTransformerConfig.hatFeatureNames.count == 10)
    }

    @Test("HAT's latency CSVs use the same feature names in the same order")
    func csvHeader() throws {
        let csv = try String(
            contentsOf: sharedDataDirectory.appendingPathComponent("hat-latency/wmt14ende_cpu_xeon_all.csv"),
            encoding: .utf8)
        let header = csv.split(separator: "\n")[0].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(Array(header.prefix(10)) == SubTransformerConfig.hatFeatureNames)
    }
}
