/// Errors of `hat pipeline` and `hat report`, each naming the file (and key) and what to do.
public enum PipelineError: Error, CustomStringConvertible {
    case config(path: String, key: String?, String)
    case stage(String, String)
    case changed(stage: String, path: String, what: String)
    case changedMidway(stage: String, path: String)

    public var description: String {
        switch self {
        case .config(let path, let key, let message): return "\(path)\(key.map { ": \($0)" } ?? ""): \(message)"
        case .stage(let stage, let message): return "stage \(stage): \(message)"
        case .changed(let stage, let path, let what):
            return "stage \(stage) finished earlier in \(path) with other settings (\(what)). Use another --out folder, "
                + "or add --rerun \(stage) to redo this stage and the ones after it (their outputs are moved aside, not deleted)"
        case .changedMidway(let stage, let path):
            return "stage \(stage) was interrupted in \(path) while it ran with other settings (its settings or an earlier "
                + "stage's differ from those recorded when it started); resuming it now would mix the two. Restore the settings, "
                + "use another --out folder, or add --rerun \(stage) to move its partial output aside and start it again"
        }
    }
}
