import Foundation

/// Where a command's result goes. Without `--json`: readable lines on standard output. With
/// `--json`: one JSON document on standard output and the readable lines (progress, log) on
/// standard error, so the output can be piped into a JSON reader. Every `--json` uses one key
/// style, snake_case with sorted keys: that of sacreBLEU's JSON (`hat score --json` keeps its
/// format) and of the files the results come from (pareto.json, metrics.jsonl).
struct ResultOutput {
    let json: Bool

    /// A readable line: standard output, or standard error with `--json`.
    func say(_ line: String) {
        if json {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            print(line)
            fflush(nil)
        }
    }

    /// Prints `value` as the command's JSON result (with `--json`; nothing otherwise).
    func emit<T: Encodable>(_ value: T) throws {
        guard json else { return }
        print(try Self.encode(value))
    }

    static func encode<T: Encodable>(_ value: T) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
