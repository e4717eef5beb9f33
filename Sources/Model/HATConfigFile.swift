import Foundation
import Yams

/// A HAT YAML file read as typed values, keeping each key's line for error messages.
///
/// HAT reads its configs with configargparse: flat `key: value` pairs where a value is a
/// scalar, a YAML list (`[640, 512]`) or a tuple string (`(0.9, 0.98)`). The same files mix
/// architecture, search-space and training keys (hat-reference.md §1).
public struct HATConfigFile {
    public let path: String
    public private(set) var values: [String: Node] = [:]
    public private(set) var lines: [String: Int] = [:]
    /// Keys in file order.
    public private(set) var keys: [String] = []

    /// Parses `path`; a missing file, invalid YAML or a non-mapping top level is a `ConfigError`.
    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, "cannot read the file (does it exist? check the path and permissions)")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ConfigError(file: path, "the file is not valid UTF-8 text")
        }
        try self.init(text: text, path: path)
    }

    public init(text: String, path: String) throws {
        self.path = path
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw ConfigError(file: path, "invalid YAML: \(error)")
        }
        guard let node else { return }  // an empty file has no keys
        guard case .mapping(let mapping) = node else {
            throw ConfigError(file: path, line: node.mark.map { $0.line }, "expected `key: value` lines at the top level")
        }
        for (k, v) in mapping {
            guard let key = k.string else {
                throw ConfigError(file: path, line: k.mark?.line, "a key is not a string")
            }
            if values[key] != nil {
                throw ConfigError(file: path, line: k.mark?.line, key: key, "appears twice")
            }
            values[key] = v
            lines[key] = k.mark?.line
            keys.append(key)
        }
    }

    public func contains(_ key: String) -> Bool { values[key] != nil }

    public func error(_ key: String, _ message: String) -> ConfigError {
        ConfigError(file: path, line: lines[key], key: key, message)
    }

    /// Words in a list or tuple value: `[640, 512]`, `(0.9, 0.98)`, `640`.
    private func items(_ key: String) throws -> [String]? {
        guard let node = values[key] else { return nil }
        switch node {
        case .scalar(let s):
            var text = s.string.trimmingCharacters(in: .whitespaces)
            if (text.hasPrefix("(") && text.hasSuffix(")")) || (text.hasPrefix("[") && text.hasSuffix("]")) {
                text = String(text.dropFirst().dropLast())
            }
            return text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        case .sequence(let seq):
            return try seq.map { item in
                guard let s = item.string else { throw error(key, "list items must be plain values") }
                return s
            }
        default:
            throw error(key, "expected a value or a list, found a mapping")
        }
    }

    public func int(_ key: String) throws -> Int? {
        guard let list = try items(key) else { return nil }
        guard list.count == 1, let v = Int(list[0]) else {
            throw error(key, "expected one integer, found '\(list.joined(separator: ", "))'")
        }
        return v
    }

    public func ints(_ key: String) throws -> [Int]? {
        guard let list = try items(key) else { return nil }
        return try list.map { s in
            guard let v = Int(s) else { throw error(key, "expected a list of integers, found '\(s)'") }
            return v
        }
    }

    public func double(_ key: String) throws -> Double? {
        guard let list = try items(key) else { return nil }
        guard list.count == 1, let v = Double(list[0]) else {
            throw error(key, "expected a number, found '\(list.joined(separator: ", "))'")
        }
        return v
    }

    public func doubles(_ key: String) throws -> [Double]? {
        guard let list = try items(key) else { return nil }
        return try list.map { s in
            guard let v = Double(s) else { throw error(key, "expected a list of numbers, found '\(s)'") }
            return v
        }
    }

    public func bool(_ key: String) throws -> Bool? {
        guard let list = try items(key) else { return nil }
        switch list.first?.lowercased() {
        case "true", "yes", "1": return true
        case "false", "no", "0": return false
        default: throw error(key, "expected True or False, found '\(list.joined(separator: ", "))'")
        }
    }

    public func string(_ key: String) -> String? { values[key]?.string }

    /// `path:line` of a key, for messages.
    public func location(of key: String) -> String { "\(path)\(lines[key].map { ":\($0)" } ?? "")" }

    /// The file's values of `names` as text for a key table (`ConfigKey`): a scalar as written, a
    /// list joined with commas (`[0.9, 0.98]` → "0.9,0.98").
    public func sources(for names: Set<String>) -> [String: ConfigKeySource] {
        var found: [String: ConfigKeySource] = [:]
        for key in keys where names.contains(key) {
            guard let node = values[key] else { continue }
            let text = node.string ?? node.sequence?.compactMap(\.string).joined(separator: ",") ?? ""
            found[key] = ConfigKeySource(text: text, location: location(of: key))
        }
        return found
    }

    /// Notes on keys of HAT's training files that change the experiment and that `hat` runs
    /// differently: what HAT meant and what `hat` does instead, never silently (the caller shows
    /// them as notes, each naming the file and line).
    /// `tokensPerBatch`, `updateFreq` and `ranks` are the values `hat` will train with.
    public func experimentNotes(tokensPerBatch: Int, updateFreq: Int, ranks: Int = 1) -> [String] {
        func at(_ key: String) -> String { location(of: key) }
        var notes: [String] = []
        if let fp16 = try? bool("fp16"), fp16 {
            notes.append(
                "\(at("fp16")): fp16: HAT trained in float16 on GPUs; hat trains in float32 on this CPU "
                    + "(or with bfloat16 products: --bf16, where the CPU has AVX512-BF16)")
        }
        let workers = (try? int("distributed-world-size")) ?? 1
        if workers > 1 || ranks > 1 {
            let fileFreq = (try? int("update-freq")) ?? 1
            let meant = tokensPerBatch * fileFreq * workers, ours = tokensPerBatch * updateFreq * ranks
            let processes = ranks == 1 ? "one process" : "\(ranks) ranks"
            notes.append(
                "\(workers > 1 ? at("distributed-world-size") : path): HAT's batch was max-tokens \(tokensPerBatch) × update-freq \(fileFreq) × "
                    + "\(workers) worker\(workers == 1 ? "" : "s") = \(meant) tokens per update; hat runs \(processes): \(tokensPerBatch) × \(updateFreq)"
                    + "\(ranks > 1 ? " × \(ranks)" : "") = \(ours) tokens per update"
                    + (ours == meant || (fileFreq * workers) % ranks != 0
                        ? "" : " (--keep-effective-batch, or update-freq \(fileFreq * workers / ranks), trains with HAT's batch)"))
        }
        return notes
    }

    /// Warnings for keys HAT does not define, naming the key, line and file.
    public func unknownKeyWarnings() -> [String] {
        keys.filter { !HATConfigFile.knownKeys.contains($0) }.map {
            "warning: \(location(of: $0)): unknown key '\($0)' is ignored (check its spelling)"
        }
    }

    /// Every key of HAT's and fairseq's configs that this tool reads or knowingly ignores.
    public static let knownKeys: Set<String> = [
        // SuperTransformer and search space (hat-reference.md §1)
        "encoder-embed-dim", "decoder-embed-dim", "encoder-ffn-embed-dim", "decoder-ffn-embed-dim",
        "encoder-layers", "decoder-layers", "encoder-attention-heads", "decoder-attention-heads", "qkv-dim",
        "encoder-embed-choice", "decoder-embed-choice", "encoder-ffn-embed-dim-choice", "decoder-ffn-embed-dim-choice",
        "encoder-layer-num-choice", "decoder-layer-num-choice", "encoder-self-attention-heads-choice",
        "decoder-self-attention-heads-choice", "decoder-ende-attention-heads-choice", "decoder-arbitrary-ende-attn-choice",
        "share-all-embeddings", "share-decoder-input-output-embed", "arch",
        // SubTransformer
        "encoder-embed-dim-subtransformer", "decoder-embed-dim-subtransformer",
        "encoder-ffn-embed-dim-all-subtransformer", "decoder-ffn-embed-dim-all-subtransformer",
        "encoder-layer-num-subtransformer", "decoder-layer-num-subtransformer",
        "encoder-self-attention-heads-all-subtransformer", "decoder-self-attention-heads-all-subtransformer",
        "decoder-ende-attention-heads-all-subtransformer", "decoder-arbitrary-ende-attn-all-subtransformer",
        "train-subtransformer",
        // training (hat-reference.md §8)
        "max-tokens", "data", "source-lang", "target-lang", "distributed-world-size", "optimizer", "adam-betas",
        "adam-eps", "weight-decay", "dropout", "attention-dropout", "activation-dropout", "criterion",
        "label-smoothing", "fp16", "max-update", "max-epoch", "warmup-updates", "lr-scheduler", "warmup-init-lr",
        "lr", "max-lr", "lr-shrink", "lr-period-updates", "t-mult", "min-lr", "keep-last-epochs", "keep-last-updates",
        "save-interval", "save-interval-updates", "validate-interval", "clip-norm", "ddp-backend", "update-freq",
        "seed", "save-dir", "restore-file", "max-source-positions", "max-target-positions", "log-interval",
        "bpe-dropout", "bpe-dropout-sides",  // ours: subword regularization of the training split (BPE-dropout)
        // latency dataset and predictor
        "lat-dataset-path", "lat-dataset-size", "latgpu", "latcpu", "latiter", "feature-norm", "lat-norm",
        "feature-dim", "hidden-dim", "hidden-layer-num", "ckpt-path", "train-steps", "bsz",
        // evolutionary search (hat-reference.md §7)
        "evo-iter", "population-size", "parent-size", "mutation-size", "crossover-size", "mutation-prob",
        "repair-offspring",  // ours: shrink offspring that break a constraint (EvolutionSettings.repairOffspring)
        "write-config-path", "valid-cnt-max", "latency-constraint", "memory-constraint", "params-constraint", "flops-constraint",
        "evo-configs", "configs", "sub-configs", "profile-flops", "beam", "lenpen", "remove-bpe",
    ]
}
