/// A metric's reproducibility signature in sacreBLEU's format: `key:value` fields joined by
/// `|`, version last (`nrefs:1|case:mixed|eff:no|tok:13a|smooth:exp|version:2.6.0`).
///
/// The keys and values are sacreBLEU's, so a reader can see at a glance which sacreBLEU
/// settings a score corresponds to; the version field names this tool instead
/// (`version:hat-0.1.0`), because the numbers come from our sacreBLEU-compatible
/// implementation, not from sacreBLEU itself.
public struct MetricSignature: Sendable, Equatable, CustomStringConvertible {
    /// The fields in order, without the version.
    public let fields: [(key: String, value: String)]

    public init(_ fields: [(String, String)]) {
        self.fields = fields.map { (key: $0.0, value: $0.1) }
    }

    /// The signature with `version:VERSION` appended.
    public func formatted(version: String) -> String {
        (fields.map { "\($0.key):\($0.value)" } + ["version:\(version)"]).joined(separator: "|")
    }

    /// The signature with the version `hat` (the `hat` tool passes `hat-<its version>`).
    public var description: String { formatted(version: "hat") }

    public static func == (lhs: MetricSignature, rhs: MetricSignature) -> Bool {
        lhs.fields.elementsEqual(rhs.fields) { $0.key == $1.key && $0.value == $1.value }
    }
}
