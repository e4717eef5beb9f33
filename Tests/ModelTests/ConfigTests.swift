import Foundation
import TensorEngine
import TestSupport
import Testing

@testable import Model

/// Reading HAT's YAML files unchanged, writing SubTransformer files HAT can read, and clear
/// errors for bad files.
@Suite("HAT configuration files")
struct ConfigTests {
    static let configs = sharedDataDirectory.appendingPathComponent("hat-configs")

    @Test("a space read through another path spelling is the same space; other choices are not")
    func spaceEqualityIgnoresTheFilePath() throws {
        let a = try SearchSpace(contentsOf: Oracle.repoRoot.path + "/configs/multi30k_cpu_space.yml")
        let b = try SearchSpace(contentsOf: Oracle.repoRoot.path + "/configs/../configs/./multi30k_cpu_space.yml")
        #expect(a.source != b.source)
        #expect(a == b && a.hashValue == b.hashValue)
        var c = b
        c.decoderLayerChoices = [4, 3, 2]
        #expect(a != c)
        var d = b
        d.shareAllEmbeddings.toggle()
        #expect(a != d)
    }

    @Test("space0 and space1 read unchanged")
    func spaces() throws {
        let space0 = try SearchSpace(contentsOf: Self.configs.appendingPathComponent("wmt14.en-de__space0.yml").path)
        #expect(space0.encoderEmbedDim == 640 && space0.encoderFFNDim == 3072 && space0.qkvDim == 512)
        #expect(space0.shareAllEmbeddings)
        #expect(space0.encoderEmbedChoices == [640, 512] && space0.decoderFFNChoices == [3072, 2048, 1024])
        #expect(space0.decoderLayerChoices == [6, 5, 4, 3, 2, 1] && space0.encoderLayerChoices == [6])
        #expect(space0.decoderCrossAttentionHeadChoices == [8, 4] && space0.decoderArbitraryAttentionChoices == [-1, 1, 2])
        let space1 = try SearchSpace(contentsOf: Self.configs.appendingPathComponent("iwslt14.de-en__space1.yml").path)
        #expect(space1.encoderFFNChoices == [2048, 1024, 512] && space1.encoderSelfAttentionHeadChoices == [4, 2])
        #expect(!space1.shareAllEmbeddings)
        // Training keys and tuple strings are read too.
        let file = try HATConfigFile(path: Self.configs.appendingPathComponent("iwslt14.de-en__space1.yml").path)
        #expect(try file.doubles("adam-betas") == [0.9, 0.98])
        #expect(try file.double("warmup-init-lr") == 1e-7)
        #expect(file.string("lr-scheduler") == "inverse_sqrt")
        #expect(file.unknownKeyWarnings().isEmpty)
    }

    @Test("every file in hat-configs reads without unknown-key warnings")
    func allFilesKnown() throws {
        for name in try FileManager.default.contentsOfDirectory(atPath: Self.configs.path) {
            let file = try HATConfigFile(path: Self.configs.appendingPathComponent(name).path)
            #expect(file.unknownKeyWarnings().isEmpty, "\(name): \(file.unknownKeyWarnings())")
        }
    }

    @Test("a written SubTransformer file reads back identically (HAT's keys and layout)")
    func writeRead() throws {
        let space = try SearchSpace(contentsOf: Self.configs.appendingPathComponent("wmt14.en-de__space0.yml").path)
        var rng = RandomGenerator(seed: 9)
        for _ in 0..<20 {
            let c = space.sample(rng: &rng)
            let text = c.hatYAML(comment: "written by a test")
            let back = try SubTransformerConfig(file: HATConfigFile(text: text, path: "<test>"))
            #expect(back == c)
            #expect(text.contains("decoder-arbitrary-ende-attn-all-subtransformer: ["))
        }
    }

    /// Writes `text` to a temporary file and returns the error reading it produces.
    func error(space text: String) -> ConfigError? {
        do {
            _ = try SearchSpace(file: HATConfigFile(text: text, path: "bad.yml"))
            return nil
        } catch let e as ConfigError {
            return e
        } catch {
            Issue.record("unexpected error \(error)")
            return nil
        }
    }

    static let goodSpace = """
        encoder-embed-dim: 64
        decoder-embed-dim: 64
        encoder-ffn-embed-dim: 128
        decoder-ffn-embed-dim: 128
        encoder-layers: 2
        decoder-layers: 2
        encoder-attention-heads: 4
        decoder-attention-heads: 4
        qkv-dim: 32
        encoder-embed-choice: [64, 32]
        decoder-embed-choice: [64, 32]
        encoder-ffn-embed-dim-choice: [128, 64]
        decoder-ffn-embed-dim-choice: [128, 64]
        encoder-layer-num-choice: [2]
        decoder-layer-num-choice: [2, 1]
        encoder-self-attention-heads-choice: [4, 2]
        decoder-self-attention-heads-choice: [4, 2]
        decoder-ende-attention-heads-choice: [4, 2]
        decoder-arbitrary-ende-attn-choice: [-1, 1]
        """

    @Test(
        "bad search spaces: each error names the key, the value and the file",
        arguments: [
            ("encoder-self-attention-heads-choice: [4, 2]", "encoder-self-attention-heads-choice: [4, 3]", "3 heads do not divide qkv-dim 32"),
            ("encoder-embed-choice: [64, 32]", "encoder-embed-choice: [96, 32]", "choice 96 is outside 1...64"),
            ("decoder-arbitrary-ende-attn-choice: [-1, 1]", "decoder-arbitrary-ende-attn-choice: [-1, 3]", "value 3 is not one of -1"),
            ("decoder-layer-num-choice: [2, 1]", "decoder-layer-num-choice: [3, 1]", "choice 3 is outside 1...2"),
            ("encoder-layers: 2", "", "is missing"),
            ("qkv-dim: 32", "qkv-dim: many", "expected one integer, found 'many'"),
            ("decoder-ffn-embed-dim-choice: [128, 64]", "decoder-ffn-embed-dim-choice: []", "is an empty list"),
        ])
    func badSpace(_ replace: String, _ with: String, _ expected: String) throws {
        let text = Self.goodSpace.replacingOccurrences(of: replace, with: with)
        let e = try #require(error(space: text))
        #expect(e.description.contains(expected), "\(e)")
        #expect(e.description.hasPrefix("bad.yml"))
        let key = replace.split(separator: ":")[0]
        #expect(e.key == String(key), "\(e)")
    }

    @Test("the good space is accepted, its line numbers are kept, and an unknown key is a warning")
    func goodSpaceAndUnknownKey() throws {
        _ = try SearchSpace(file: HATConfigFile(text: Self.goodSpace, path: "good.yml"))
        let file = try HATConfigFile(text: Self.goodSpace + "\nencoder-embd-dim: 3\n", path: "typo.yml")
        #expect(file.unknownKeyWarnings() == ["warning: typo.yml:20: unknown key 'encoder-embd-dim' is ignored (check its spelling)"])
        #expect(file.lines["qkv-dim"] == 9)
    }

    @Test("HAT's fp16 and multi-worker batch are stated, with the batch hat will use")
    func experimentNotes() throws {
        let file = try HATConfigFile(text: "max-tokens: 4096\nupdate-freq: 16\ndistributed-world-size: 8\nfp16: True\n", path: "wmt.yml")
        // max-tokens 4096 × update-freq 16 × 8 GPUs: HAT's WMT supernet batch (hat-reference.md §8).
        let notes = file.experimentNotes(tokensPerBatch: 4096, updateFreq: 16)
        #expect(notes.count == 2, "\(notes)")
        #expect(notes.contains { $0.hasPrefix("wmt.yml:4: fp16") && $0.contains("float32") }, "\(notes)")
        #expect(
            notes.contains {
                $0.hasPrefix("wmt.yml:3:") && $0.contains("= 524288 tokens per update")
                    && $0.contains("4096 × 16 = 65536 tokens per update") && $0.contains("update-freq 128")
            }, "\(notes)")
        // On 4 ranks the batch is max-tokens × update-freq × ranks, and update-freq 32 gives HAT's.
        #expect(
            file.experimentNotes(tokensPerBatch: 4096, updateFreq: 16, ranks: 4).contains {
                $0.contains("hat runs 4 ranks: 4096 × 16 × 4 = 262144 tokens per update") && $0.contains("update-freq 32")
            })
        // With update-freq scaled, the batches agree and nothing is suggested; one worker, float32: no notes.
        #expect(file.experimentNotes(tokensPerBatch: 4096, updateFreq: 128).allSatisfy { !$0.contains("update-freq 128,") && !$0.contains("--keep") })
        #expect(file.experimentNotes(tokensPerBatch: 4096, updateFreq: 32, ranks: 4).allSatisfy { !$0.contains("--keep") })
        #expect(try HATConfigFile(text: "max-tokens: 4096\nfp16: False\n", path: "a.yml").experimentNotes(tokensPerBatch: 4096, updateFreq: 1).isEmpty)
    }

    @Test("bad SubTransformer files: list length, heads, arbitrary attention, missing key, too big for the space")
    func badSubTransformer() throws {
        let good = SubTransformerConfig(
            encoderEmbedDim: 64, encoderLayerNum: 2, encoderFFNDims: [128, 64], encoderSelfAttentionHeads: [4, 2],
            decoderEmbedDim: 32, decoderLayerNum: 1, decoderFFNDims: [64], decoderSelfAttentionHeads: [2],
            decoderCrossAttentionHeads: [4], decoderArbitraryAttention: [1]
        ).hatYAML()
        func failure(_ text: String) -> String {
            do {
                let c = try SubTransformerConfig(file: HATConfigFile(text: text, path: "sub.yml"), qkvDim: 32)
                try SearchSpace(file: HATConfigFile(text: Self.goodSpace, path: "space.yml")).check(c, file: "sub.yml")
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        #expect(failure(good) == "accepted")
        #expect(
            failure(
                good.replacingOccurrences(
                    of: "encoder-ffn-embed-dim-all-subtransformer: [128, 64]",
                    with: "encoder-ffn-embed-dim-all-subtransformer: [128, 64, 64]")
            )
            .contains("key 'encoder-ffn-embed-dim-all-subtransformer': has 3 entries [128, 64, 64] but the layer count is 2"))
        #expect(
            failure(
                good.replacingOccurrences(
                    of: "decoder-self-attention-heads-all-subtransformer: [2]",
                    with: "decoder-self-attention-heads-all-subtransformer: [5]")
            )
            .contains("5 heads do not divide qkv-dim 32"))
        #expect(
            failure(
                good.replacingOccurrences(
                    of: "decoder-arbitrary-ende-attn-all-subtransformer: [1]",
                    with: "decoder-arbitrary-ende-attn-all-subtransformer: [0]")
            )
            .contains("value 0 is not one of -1"))
        #expect(
            failure(good.replacingOccurrences(of: "decoder-embed-dim-subtransformer: 32", with: ""))
                .contains("key 'decoder-embed-dim-subtransformer': is missing"))
        #expect(
            failure(good.replacingOccurrences(of: "encoder-embed-dim-subtransformer: 64", with: "encoder-embed-dim-subtransformer: 128"))
                .contains("128 exceeds the SuperTransformer's 64"))
        #expect(failure("encoder-embed-dim-subtransformer: [1, 2\n").contains("invalid YAML"))
    }
}
