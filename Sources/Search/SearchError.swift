/// A problem that stops a search, with what was wrong and what to do about it.
public enum SearchError: Error, CustomStringConvertible, Equatable {
    /// A constraint value that does not parse (`option`, the text, why, an example of a valid one).
    case badConstraint(option: String, value: String, reason: String)
    /// No SubTransformer meeting the constraints was found in `tries` candidates in a row.
    case infeasible(constraint: String, tries: Int, detail: String)
    /// Settings that cannot work together (e.g. more parents than the population).
    case badSettings(String)
    /// A history or search-state file that cannot be read or does not belong to this search.
    case badState(path: String, reason: String)
    /// A latency predictor that cannot be built or read.
    case badPredictor(String)
    /// Reading or writing a file failed.
    case io(path: String, reason: String)

    public var description: String {
        switch self {
        case .badConstraint(let option, let value, let reason):
            return "\(option) '\(value)': \(reason)"
        case .infeasible(let constraint, let tries, let detail):
            return "no SubTransformer meets \(constraint): \(tries) candidates in a row were rejected; \(detail). "
                + "Loosen the constraint, or check the predictor and the search space."
        case .badSettings(let message):
            return message
        case .badState(let path, let reason):
            return "\(path): \(reason)"
        case .badPredictor(let message):
            return message
        case .io(let path, let reason):
            return "\(path): \(reason)"
        }
    }
}
