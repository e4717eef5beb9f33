import ArgumentParser
import Foundation
import Model

/// `hat profile`: sizes and costs of a SubTransformer by HAT's conventions (hat-reference.md §5).
struct ProfileCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profile",
        abstract: "Print #Params, FLOPs, embedding size, model size and peak inference memory of a SubTransformer.",
        discussion: """
            CONFIG is a HAT SubTransformer file (the *-subtransformer keys) or a search space, whose \
            largest and smallest SubTransformers are then profiled. #Params and FLOPs follow HAT's \
            published convention: embeddings and the output projection are excluded; FLOPs are for \
            one teacher-forced forward pass of a LENGTH-token sentence pair.
            """
    )

    @Argument(help: "SubTransformer or search-space YAML file.") var config: String
    @Option(help: "Search space the SubTransformer must fit (also decides shared embeddings).") var space: String?
    @Option(help: "Joint vocabulary size (WMT: 32768).") var vocab: Int?
    @Option(name: .customLong("src-vocab"), help: "Source vocabulary size (separate embeddings).") var sourceVocab: Int?
    @Option(name: .customLong("tgt-vocab"), help: "Target vocabulary size (separate embeddings).") var targetVocab: Int?
    @Option(help: "Sentence length for FLOPs and memory (HAT: 30 for WMT, 23 for IWSLT).") var length: Int = 30
    @Option(help: "Beam size for the peak-memory estimate.") var beam: Int = 5
    @Option(help: "Count the weight matrices K-means-quantized at this many bits (hat quantize), not float32.") var bits: Int?
    @Flag(help: "Print JSON instead of a table.") var json = false

    func validate() throws {
        if vocab != nil && (sourceVocab != nil || targetVocab != nil) {
            throw ValidationError("give either --vocab or --src-vocab/--tgt-vocab, not both")
        }
        if (sourceVocab == nil) != (targetVocab == nil) { throw ValidationError("--src-vocab and --tgt-vocab go together") }
        for (name, v) in [("--vocab", vocab), ("--src-vocab", sourceVocab), ("--tgt-vocab", targetVocab)] {
            if let v, v <= 0 { throw ValidationError("\(name) must be positive") }
        }
        if length <= 0 || beam <= 0 { throw ValidationError("--length and --beam must be positive") }
        if let bits, !(1...8).contains(bits) { throw ValidationError("--bits \(bits): give 1 to 8 bits per weight") }
        if length > 100_000 || beam > 10_000 { throw ValidationError("--length (at most 100000) or --beam (at most 10000) is too large") }
    }

    func run() throws {
        let file = try HATConfigFile(path: config)
        warnAboutUnknownKeys(in: file)
        let searchSpace = try space.map { path -> SearchSpace in
            let f = try HATConfigFile(path: path)
            warnAboutUnknownKeys(in: f)
            return try SearchSpace(file: f)
        }

        var subnets: [(String, SubTransformerConfig)] = []
        var qkv = searchSpace?.qkvDim ?? 512
        if file.contains("encoder-embed-dim-subtransformer") {
            let sub = try SubTransformerConfig(
                file: file, superLayers: searchSpace.map { ($0.encoderLayers, $0.decoderLayers) },
                qkvDim: qkv)
            try searchSpace?.check(sub, file: config)
            subnets.append((URL(fileURLWithPath: config).lastPathComponent, sub))
        } else {
            let s = try SearchSpace(file: file)
            qkv = s.qkvDim
            subnets = [("largest SubTransformer of \(config)", s.largest), ("smallest SubTransformer of \(config)", s.smallest)]
        }
        let shared = sourceVocab == nil ? (searchSpace?.shareAllEmbeddings ?? true) : false
        let (vs, vt) = (sourceVocab ?? vocab ?? 32768, targetVocab ?? vocab ?? 32768)
        var profiler = Profiler(
            qkvDim: qkv, sourceVocabSize: vs, targetVocabSize: vt, sharedEmbeddings: shared,
            separateOutputProjection: searchSpace?.hasSeparateOutputProjection ?? false)
        profiler.weightBits = bits

        if json {
            struct Entry: Encodable {
                let name: String
                let config: SubTransformerConfig
                let profile: ModelProfile
            }
            let entries = subnets.map { Entry(name: $0.0, config: $0.1, profile: profiler.profile($0.1, length: length, beam: beam)) }
            try ResultOutput(json: true).emit(entries.count == 1 ? AnyEncodable(entries[0]) : AnyEncodable(entries))
            return
        }
        let vocabulary = shared ? "\(vs) joint, one shared table" : "\(vs) source + \(vt) target"
        for (name, sub) in subnets {
            let p = profiler.profile(sub, length: length, beam: beam)
            print(name)
            print("  architecture    \(sub)")
            print(String(format: "  #Params (HAT)   %.2f M   (embeddings and output projection excluded)", Double(p.parameters) / 1e6))
            print(String(format: "  FLOPs (HAT)     %.2f G   (one forward pass, source and target length %d)", Double(p.flops) / 1e9, length))
            print(String(format: "  embeddings      %.2f M   (vocabulary %@)", Double(p.embeddingParameters) / 1e6, vocabulary))
            print(String(format: "  model size      %.1f MB  (%@ weights)", p.modelSizeMB, bits.map { "\($0)-bit" } ?? "fp32"))
            print(String(format: "  peak inference  %.1f MB  (estimate: one %d-token sentence, beam %d)", p.peakInferenceMB, length, beam))
        }
    }
}

/// Lets one code path encode a single entry or a list.
struct AnyEncodable: Encodable {
    let value: Encodable
    init(_ value: Encodable) { self.value = value }
    func encode(to encoder: Encoder) throws { try value.encode(to: encoder) }
}
