import Foundation
import TestSupport
import Testing

@testable import Model

/// `Profiler` against HAT's published table (#Params, FLOPs) for every published SubTransformer
/// whose architecture is public (Tests/ModelTests/PublishedSubTransformers.swift).
@Suite("Profiler reproduces HAT's published sizes")
struct ProfilerTests {
    static func config(_ p: PublishedSubTransformer) -> SubTransformerConfig {
        SubTransformerConfig(
            encoderEmbedDim: p.encoderEmbedDim, encoderLayerNum: p.encoderLayerNum, encoderFFNDims: p.encoderFFNDims,
            encoderSelfAttentionHeads: p.encoderSelfAttentionHeads, decoderEmbedDim: p.decoderEmbedDim,
            decoderLayerNum: p.decoderLayerNum, decoderFFNDims: p.decoderFFNDims,
            decoderSelfAttentionHeads: p.decoderSelfAttentionHeads, decoderCrossAttentionHeads: p.decoderCrossAttentionHeads,
            decoderArbitraryAttention: p.decoderArbitraryAttention)
    }

    @Test(
        "#Params to 0.01 M and FLOPs to the table's two decimals (and within 2 %)",
        arguments: publishedSubTransformers.map(\.name))
    func published(_ name: String) {
        let p = publishedSubTransformers.first { $0.name == name }!
        let profile = Profiler(sourceVocabSize: 32768, targetVocabSize: 32768, sharedEmbeddings: true)
            .profile(Self.config(p), length: p.sequenceLength)
        let params = Double(profile.parameters) / 1e6, gflops = Double(profile.flops) / 1e9
        #expect(abs(params - p.publishedParamsM) <= 0.01, "\(name): \(params) M vs published \(p.publishedParamsM) M")
        // The table rounds to 0.01 G; a wrong attention code moves FLOPs by ~1.6 %, so 2 % alone is too loose.
        #expect(abs(gflops - p.publishedGFLOPs) <= 0.005 + 1e-9, "\(name): \(gflops) G vs published \(p.publishedGFLOPs) G")
        #expect(abs(gflops - p.publishedGFLOPs) / p.publishedGFLOPs <= 0.02)
    }

    @Test("the published YAML files in ../shared/data parse to the transcribed architectures")
    func sharedYAMLFiles() throws {
        let dir = sharedDataDirectory.appendingPathComponent("hat-configs")
        for file in try FileManager.default.contentsOfDirectory(atPath: dir.path) where file.contains("__HAT_") {
            let name = String(file.split(separator: "__")[1].dropLast(4))  // drop ".yml"
            let published = try #require(publishedSubTransformers.first { $0.name == name }, "\(name) not in the table")
            let parsed = try SubTransformerConfig(contentsOf: dir.appendingPathComponent(file).path)
            #expect(parsed == Self.config(published), "\(file)")
        }
    }

    @Test("HAT_wmt14ende_xeon@137.9ms: the reference note's worked example (30.47 M, 1.87 G)")
    func workedExample() throws {
        let path = sharedDataDirectory.appendingPathComponent("hat-configs/wmt14.en-de__HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml").path
        let profile = Profiler(sourceVocabSize: 32768, targetVocabSize: 32768, sharedEmbeddings: true)
            .profile(try SubTransformerConfig(contentsOf: path), length: 30)
        #expect((Double(profile.parameters) / 1e4).rounded() / 100 == 30.47)
        #expect((Double(profile.flops) / 1e7).rounded() / 100 == 1.87)
        #expect(profile.embeddingParameters == 32768 * 512)
        #expect(abs(profile.modelSizeMB - Double(4 * (profile.parameters + profile.embeddingParameters)) / 1e6) < 1e-9)
        #expect(profile.peakInferenceMB > profile.modelSizeMB)
    }
}
