/// Errors of `hat pipeline` and `hat report`, each naming the file (and key) and what to do.
public enum PipelineError: Error, CustomStringConvertible {
    case config(path: String, key: String?, String)
    case stage(String, String)
    case changed(stage: String, path: String, what: String)

    public var description: String {
        switch self {
        case .config(let path, let key, let message): return "\(path)\(key.map { ": \($0)" } ?? ""): \(message)"
        case .stage(let stage, let message): return "stage \(stage): \(message)"
        case .changed(let stage, let path, let what):
            return "stage \(stage) finished earlier in \(path) with other settings (\(what)). Use another --out folder, "
                + "or add --rerun \(stage) to redo this stage and the ones after it (their outputs are moved aside, not deleted)"
        }
    }
}
