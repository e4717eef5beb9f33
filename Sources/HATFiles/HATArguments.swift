import Model

/// The `args` of a HAT/fairseq checkpoint (an argparse.Namespace) as HAT's YAML: attribute
/// `encoder_embed_dim` is the YAML key `encoder-embed-dim`. Writing YAML and reading it back with
/// `HATConfigFile` gives the space, the training settings and the SubTransformer through the same
/// readers, checks and error messages as a user's own config files.
public struct HATArguments {
    public let values: PickleDict
    /// The checkpoint, for messages.
    public let file: String

    public init(checkpoint: TorchCheckpointFile) throws {
        guard case .object(let args) = checkpoint.object["args"] else {
            throw TorchCheckpointError(checkpoint.path, "has no 'args' (argparse.Namespace): not a checkpoint written by HAT's or fairseq's train.py")
        }
        values = args.attributes
        file = checkpoint.path
    }

    /// Keys written to the space file: the SuperTransformer, its choices and the training settings
    /// (not paths of the machine it was trained on, nor the SubTransformer).
    static let excludedKeys: Set<String> = ["data", "save-dir", "restore-file"]

    /// Whether `args` describes a SubTransformer trained inside the supernet's shape.
    public var isSubTransformer: Bool { values["train_subtransformer"]?.bool == true }

    /// The space and training keys, as a HAT YAML file's text.
    public var spaceYAML: String {
        yaml { key in
            HATConfigFile.knownKeys.contains(key) && !key.hasSuffix("-subtransformer") && !Self.excludedKeys.contains(key)
        }
    }

    /// The SubTransformer keys (`*-subtransformer`), as a HAT SubTransformer YAML file's text.
    public var subTransformerYAML: String {
        yaml { key in key.hasSuffix("-subtransformer") && HATConfigFile.knownKeys.contains(key) }
    }

    private func yaml(including: (String) -> Bool) -> String {
        var lines = ["# from the args of \(file)"]
        for (key, value) in values.items {
            guard case .string(let name) = key else { continue }
            let yamlKey = name.replacingOccurrences(of: "_", with: "-")
            guard including(yamlKey), let text = Self.yamlValue(value, key: yamlKey) else { continue }
            lines.append("\(yamlKey): \(text)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A YAML scalar or flow list for a plain value; nil for what YAML keys cannot hold here.
    /// fairseq keeps `lr` and `update-freq` as one-element lists; HAT's YAML gives them as numbers.
    static func yamlValue(_ v: PickleValue, key: String) -> String? {
        switch v {
        case .bool(let b): return b ? "True" : "False"
        case .int(let i): return String(i)
        case .float(let f): return f.isFinite ? "\(f)" : nil
        case .string(let s):
            let plain = s.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || "0123456789_./()-, ".unicodeScalars.contains($0)) }
            return plain && !s.isEmpty ? s : "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        case .list, .tuple:
            let items = (v.elements ?? []).compactMap { yamlValue($0, key: key) }
            guard items.count == v.elements?.count else { return nil }
            if key == "lr" || key == "update-freq", items.count == 1 { return items[0] }
            return "[" + items.joined(separator: ", ") + "]"
        default: return nil
        }
    }
}
