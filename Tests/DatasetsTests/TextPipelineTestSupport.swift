import Foundation

@testable import Datasets

/// Shared by the text-pipeline tests (Moses, subword-nmt BPE, fairseq dictionary): Multi30k's
/// training lines, the sacremoses oracle's results (one run per language, shared by the
/// tokenizer and detokenizer tests), and a line-by-line comparison that reports the first
/// differing lines.
enum TextPipelineTestSupport {
    static let languages = ["en", "de", "fr"]

    /// Lines that exercise every rule of the tokenizer and detokenizer (run in every language).
    static let edgeLines: [String] = [
        "  Leading and   trailing  spaces  ",
        "Tabs\tand\u{0B}vertical\u{0C}feeds\r inside\u{1C}file separator",
        "Control\u{01}chars\u{07} removed \u{01} between spaces",
        "Non-breaking\u{A0}space and\u{2028}line separator and\u{3000}ideographic\u{85}next line",
        "\"Quoted,\" she said. 'Single' quotes.'",
        "It's John's dog; they're here, aren't they? I'd've gone. 'Tis 'twas cannot gonna",
        "l'homme d'affaires aujourd'hui, c'est qu'il... jusqu'à l'été",
        "5,300 people, 1,2,3 and a,b,c and 1990's 's ,leading and trailing, 7,",
        "Mr. Smith met Dr. Jones at 5 p.m. No. 5 and No. 6. No. It's Art. 5 and pp. 12. Nr. 3",
        "U.S.A. e.g. i.e. etc. z.B. bzw. Nr. 5 Fig. 3 M. Dupont S.A.R.L. chap. 7",
        "Wait... what?! Really.... Yes.. ok . . end...",
        "DOTMULTI literal DOTDOTMULTI and DOTDOTDOTMULTI. DDOTMULTIx DOTX",
        "a-b well-known --- 1-2 x - y -- z -a b- é-è 3-D",
        "and/or 50% $5 €10 £3 #tag @user a&b a|b <tag> [x] {y} (z) ¿Qué? ¡Sí! ~ ^ * + = \\",
        "Ünïcödé Straße, garçon's café, naïve-ish ÀÉÎÕÜ",
        "中文字符 和 日本語の テキスト 한국어",
        "e\u{0301}te\u{0301} combining marks, emoji 👍🏽 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.",
        "End with dot-apostrophe.'",
        "He said \"hello\". She said 'bye'.",
        "''Double single'' and ``backticks'' here ` lone",
        "„Deutsche“ «français» “English” ‘single’ ‹x›",
        "&amp; already escaped &lt;tag&gt; &quot; &apos; &#124; &#91; &#93; &bar;",
        " @-@ already split @-@ ",
        "",
        "   ",
        ".",
        "...",
        "'",
        "-",
        "A",
        "a.",
        "Hello.",
        "x'",
        "'s",
    ]

    /// Multi30k's training text of `language` (29,000 lines).
    static func trainLines(_ language: String) throws -> [String] {
        try TextFile(path: DataTestSupport.multi30kDirectory + "/train.\(language).gz").lines
    }

    struct MosesOracle: Decodable {
        var version: String
        var tokenized: [String]
        var detokenized: [String]
        var plain: [String]
        var detokenized_escaped: [String]
    }

    /// The input lines (all of Multi30k train, then the edge lines) and sacremoses' results.
    /// Computed once per language and shared by the tests that need it.
    static func moses(_ language: String) throws -> (input: [String], oracle: MosesOracle) {
        try MosesCache.shared.get(language) {
            let lines = try trainLines(language) + edgeLines
            let dir = try DataTestSupport.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let input = dir.appendingPathComponent("input.txt")
            try Data(lines.map { $0 + "\n" }.joined().utf8).write(to: input)
            let output = dir.appendingPathComponent("moses.json").path
            try DataTestSupport.runOracle("moses_oracle.py", [language, input.path, output, "5000"])
            let oracle = try JSONDecoder().decode(MosesOracle.self, from: Data(contentsOf: URL(fileURLWithPath: output)))
            guard oracle.tokenized.count == lines.count else {
                throw DataTestSupport.OracleFailure(description: "moses_oracle.py read \(oracle.tokenized.count) lines, not \(lines.count)")
            }
            return (lines, oracle)
        }
    }

    /// Compares `ours` with `expected` line by line, by code points (Swift's `==` on String is
    /// canonical equivalence, which would hide a difference Python sees). Returns nil when equal,
    /// else a report of the number of differing lines and the first few.
    static func compare(_ ours: [String], _ expected: [String], inputs: [String], what: String, show: Int = 5) -> String? {
        guard ours.count == expected.count else { return "\(what): \(ours.count) lines, expected \(expected.count)" }
        var differing: [Int] = []
        for i in ours.indices where !ours[i].utf8.elementsEqual(expected[i].utf8) { differing.append(i) }
        if differing.isEmpty { return nil }
        var report = "\(what): \(differing.count) of \(ours.count) lines differ; first ones:"
        for i in differing.prefix(show) {
            report += "\n  line \(i + 1)\n    input:    \(debug(inputs[i]))\n    expected: \(debug(expected[i]))\n    ours:     \(debug(ours[i]))"
        }
        return report
    }

    private static func debug(_ s: String) -> String {
        String(reflecting: s)
    }
}

/// One oracle result per key, computed at most once even when tests run in parallel.
final class MosesCache: @unchecked Sendable {
    static let shared = MosesCache()
    private let lock = NSLock()
    private var results: [String: Result<([String], TextPipelineTestSupport.MosesOracle), Error>] = [:]
    private var locks: [String: NSLock] = [:]

    func get(
        _ key: String, _ make: () throws -> ([String], TextPipelineTestSupport.MosesOracle)
    ) throws
        -> (input: [String], oracle: TextPipelineTestSupport.MosesOracle)
    {
        lock.lock()
        let keyLock = locks[key] ?? NSLock()
        locks[key] = keyLock
        lock.unlock()
        keyLock.lock()
        defer { keyLock.unlock() }
        lock.lock()
        let cached = results[key]
        lock.unlock()
        if let cached { return try cached.get() }
        let result = Result { try make() }
        lock.lock()
        results[key] = result
        lock.unlock()
        return try result.get()
    }
}
