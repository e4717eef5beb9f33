import Datasets
import Foundation
import Model
import TensorEngine

/// One measured SubTransformer: HAT's 10 features and the four latency numbers (ms) of one CSV
/// row, and the memory of its inference when the dataset was measured with `--memory`.
public struct LatencyRow: Equatable, Sendable {
    /// The memory one inference needed (`InferenceMemory`), in MB (10⁶ bytes), as the two
    /// trailing columns `memory_model_mb` and `memory_peak_mb` hold it.
    public struct Memory: Codable, Equatable, Sendable {
        /// The tensors of the model that holds only this SubTransformer (weights, positional tables).
        public var modelMB: Double
        /// The most tensor memory the inference held, the model included (what a memory predictor learns).
        public var peakMB: Double

        public init(modelMB: Double, peakMB: Double) {
            self.modelMB = modelMB
            self.peakMB = peakMB
        }

        public init(_ measured: InferenceMemory) {
            self.init(modelMB: Double(measured.modelTensorBytes) / 1e6, peakMB: Double(measured.peakTensorBytes) / 1e6)
        }

        /// The two numbers in column order (`LatencyDataset.memoryNames`).
        public var values: [Double] { [modelMB, peakMB] }
    }

    /// `SubTransformerConfig.hatFeatures`, in HAT's column order (hat-reference.md §4).
    public var features: [Double]
    public var encoderMean: Double
    public var decoderMean: Double
    public var encoderStd: Double
    public var decoderStd: Double
    /// nil in a dataset of HAT's 14 columns.
    public var memory: Memory?

    public init(features: [Double], encoderMean: Double, decoderMean: Double, encoderStd: Double, decoderStd: Double, memory: Memory? = nil) {
        precondition(
            features.count == LatencyDataset.featureNames.count,
            "a latency row has \(LatencyDataset.featureNames.count) features, got \(features.count)")
        self.features = features
        self.encoderMean = encoderMean
        self.decoderMean = decoderMean
        self.encoderStd = encoderStd
        self.decoderStd = decoderStd
        self.memory = memory
    }

    /// A row for a measured SubTransformer.
    public init(
        config: SubTransformerConfig, encoderMean: Double, decoderMean: Double, encoderStd: Double, decoderStd: Double,
        memory: Memory? = nil
    ) {
        self.init(
            features: config.hatFeatures, encoderMean: encoderMean, decoderMean: decoderMean,
            encoderStd: encoderStd, decoderStd: decoderStd, memory: memory)
    }

    /// What HAT's predictor learns: encoder mean + decoder mean (ms).
    public var latency: Double { encoderMean + decoderMean }

    /// HAT's 14 numbers in CSV column order.
    public var values: [Double] { features + [encoderMean, decoderMean, encoderStd, decoderStd] }

    /// The columns this row fills.
    public var columns: LatencyDataset.Columns { memory == nil ? .hat : .hatAndMemory }

    /// Every number of the CSV line: HAT's 14, then the memory columns when measured.
    public var csvValues: [Double] { values + (memory?.values ?? []) }

    /// Checks every number is finite and non-negative; `file`/`line` locate the row in messages.
    public func validate(file: String?, line: Int?) throws {
        for (name, v) in zip(LatencyDataset.header(for: columns), csvValues) where !v.isFinite || v < 0 {
            throw LatencyError(
                file: file, line: line, column: name,
                "\(v) is \(v.isFinite ? "negative" : "not finite"); latencies, memory and features must be finite and ≥ 0")
        }
    }

    /// The row as one CSV line (no newline), numbers written as HAT writes them: integer columns
    /// (embedding dims, layer counts) as integers, the others as the shortest text that reads
    /// back to the same Double (Python's `repr`, which HAT's files use).
    public var csvLine: String {
        csvValues.enumerated().map { i, v in
            if LatencyDataset.integerColumns.contains(i), v == v.rounded(), abs(v) < 1e15 { return String(Int(v)) }
            return "\(v)"
        }.joined(separator: ",")
    }
}

/// A latency dataset in HAT's CSV format (hat-reference.md §6): a header of the 10 feature names
/// and `latency_mean_encoder, latency_mean_decoder, latency_std_encoder, latency_std_decoder`,
/// then one row per measured SubTransformer, each ending in a newline.
///
/// A dataset measured with `hat latency dataset --memory` has two more columns after HAT's 14,
/// `memory_model_mb` and `memory_peak_mb` (`LatencyRow.Memory`), in every row. HAT's readers
/// take its 14 columns by name and position and ignore trailing ones, so such a file is still
/// HAT's; any other extra column is refused.
///
/// Reading is strict (every error names file, line and column) except for one case: a last line
/// without its newline is what an interrupted measurement run leaves, so it is dropped and
/// reported in `warnings`.
///
/// ```swift
/// let data = try LatencyDataset(contentsOf: "../shared/data/hat-latency/wmt14ende_cpu_xeon_all.csv")
/// let (train, valid, test) = data.split(seed: 0)       // HAT's 8:1:1
/// try LatencyDataset.append(row: row, to: "my_phone.csv")  // one measured row, flushed
/// ```
public struct LatencyDataset: Sendable {
    public static let featureNames = SubTransformerConfig.hatFeatureNames
    public static let latencyNames = ["latency_mean_encoder", "latency_mean_decoder", "latency_std_encoder", "latency_std_decoder"]
    /// HAT's header, in order.
    public static let header = featureNames + latencyNames
    /// The optional trailing memory columns (MB), in order.
    public static let memoryNames = ["memory_model_mb", "memory_peak_mb"]

    /// The columns of a dataset file: HAT's 14, or HAT's 14 and the two memory columns.
    public enum Columns: Sendable, Equatable {
        case hat
        case hatAndMemory
    }

    /// The header of a file with these columns.
    public static func header(for columns: Columns) -> [String] {
        switch columns {
        case .hat: return header
        case .hatAndMemory: return header + memoryNames
        }
    }

    /// Columns HAT writes as integers: embedding dims and layer counts.
    static let integerColumns: Set<Int> = [0, 1, 4, 5]

    public var rows: [LatencyRow]
    /// The file's columns; every row fills them all (`checkColumns`).
    public var columns: Columns
    /// Where the rows came from (a path, or a description such as "train split of X").
    public var source: String
    /// Things a reader should know that did not stop the read (a dropped truncated last line).
    public var warnings: [String] = []
    /// How the rows were measured: the provenance file beside the CSV (`hat latency dataset`
    /// writes one); nil for files without one (HAT's own datasets).
    public var measurement: MeasurementProvenance?

    /// `columns` defaults to the first row's (HAT's 14 for no rows).
    public init(rows: [LatencyRow], source: String, columns: Columns? = nil) {
        self.rows = rows
        self.source = source
        self.columns = columns ?? rows.first?.columns ?? .hat
    }

    /// Whether every row has measured memory.
    public var hasMemory: Bool { columns == .hatAndMemory }

    /// Refuses rows that do not fill the dataset's columns (a row without memory in a dataset
    /// with memory columns, or the other way round): such a file could not be read back.
    public func checkColumns() throws {
        if let i = rows.firstIndex(where: { $0.columns != columns }) {
            throw LatencyError(
                file: source,
                "row \(i + 1) \(rows[i].memory == nil ? "has no measured memory" : "has measured memory") but the dataset's columns are \(LatencyDataset.header(for: columns).count): every row must fill the same columns"
            )
        }
    }

    public var count: Int { rows.count }
    public var isEmpty: Bool { rows.isEmpty }

    // MARK: Reading

    /// Reads and validates a HAT-format CSV file.
    public init(contentsOf path: String) throws {
        guard FileManager.default.fileExists(atPath: path) else {
            throw LatencyError(file: path, "file not found")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw LatencyError(file: path, "cannot read the file (permissions, or a folder?)")
        }
        self = try LatencyDataset.parse(data, source: path)
        measurement = MeasurementProvenance.read(besideDataset: path)
    }

    /// Parses CSV bytes; `source` names them in errors.
    public static func parse(_ data: Data, source: String) throws -> LatencyDataset {
        guard let text = String(data: data, encoding: .utf8) else {
            throw LatencyError(file: source, "is not UTF-8 text; a latency dataset is a HAT-format CSV file")
        }
        // "\r\n" is one Character in Swift, so both endings are separators.
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
        // A file ending in a newline splits into a last empty piece; one that does not ends in a
        // line that was cut off.
        let truncatedLast: Substring? = lines.count > 1 && !(lines.last!.isEmpty) ? lines.last : nil
        if lines.last?.isEmpty == true || truncatedLast != nil { lines.removeLast() }
        guard let headerLine = lines.first, !headerLine.isEmpty else {
            throw LatencyError(file: source, line: 1, "is empty; expected HAT's header: \(header.joined(separator: ","))")
        }
        let columns = try checkHeader(headerLine, source: source)
        var dataset = LatencyDataset(rows: [], source: source, columns: columns)
        dataset.rows.reserveCapacity(lines.count)
        for (index, line) in lines.enumerated().dropFirst() {
            if line.allSatisfy(\.isWhitespace) { continue }  // blank lines carry nothing
            dataset.rows.append(try parseRow(line, columns: columns, source: source, line: index + 1))
        }
        if let cut = truncatedLast {
            let shown = cut.count > 60 ? cut.prefix(60) + "…" : cut
            dataset.warnings.append("\(source):\(lines.count + 1): dropped an incomplete last line (no newline; an interrupted run?): '\(shown)'")
        }
        return dataset
    }

    /// Checks HAT's 14 names and what follows them; returns the file's columns.
    @discardableResult
    static func checkHeader(_ line: Substring, source: String) throws -> Columns {
        var fields = String(line)
        if fields.hasPrefix("\u{FEFF}") { fields.removeFirst() }
        let names = fields.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        for (i, expected) in header.enumerated() {
            guard i < names.count else {
                throw LatencyError(
                    file: source, line: 1, column: expected,
                    "the header has \(names.count) columns, HAT's has \(header.count): \(header.joined(separator: ","))")
            }
            if names[i] != expected {
                throw LatencyError(
                    file: source, line: 1, column: names[i],
                    "header column \(i + 1) should be '\(expected)' (HAT's header: \(header.joined(separator: ",")))")
            }
        }
        let extra = Array(names[header.count...])
        if extra.isEmpty { return .hat }
        if extra == memoryNames { return .hatAndMemory }
        let memoryList = memoryNames.joined(separator: ",")
        for (i, name) in extra.enumerated() where i >= memoryNames.count || name != memoryNames[i] {
            throw LatencyError(
                file: source, line: 1, column: name,
                "unknown column \(header.count + i + 1) after HAT's \(header.count): a latency CSV has HAT's columns, optionally followed by \(memoryList) (hat latency dataset --memory)"
            )
        }
        throw LatencyError(
            file: source, line: 1, column: memoryNames[extra.count],
            "is missing: the memory columns come together (\(memoryList))")
    }

    static func parseRow(_ line: Substring, columns: Columns, source: String, line number: Int) throws -> LatencyRow {
        let names = header(for: columns)
        let fields = line.split(separator: ",", omittingEmptySubsequences: false)
        if columns == .hatAndMemory, fields.count == header.count {
            throw LatencyError(
                file: source, line: number, column: memoryNames[0],
                "is missing: the header has the memory columns (\(memoryNames.joined(separator: ","))), so every row must have them")
        }
        guard fields.count == names.count else {
            throw LatencyError(
                file: source, line: number,
                "has \(fields.count) fields, expected \(names.count) (\(names.joined(separator: ",")))")
        }
        var values = [Double](repeating: 0, count: names.count)
        for (i, field) in fields.enumerated() {
            let text = field.trimmingCharacters(in: .whitespaces)
            guard let v = Double(text) else {
                let expected = i < header.count ? "a number" : "the measured memory in MB (hat latency dataset --memory)"
                throw LatencyError(
                    file: source, line: number, column: names[i],
                    text.isEmpty ? "is empty; expected \(expected)" : "'\(text)' is not a number; expected \(expected)")
            }
            if LatencyDataset.integerColumns.contains(i), v != v.rounded() {
                throw LatencyError(file: source, line: number, column: names[i], "'\(text)' is not a whole number (a width or a layer count)")
            }
            values[i] = v
        }
        let row = LatencyRow(
            features: Array(values[0..<10]), encoderMean: values[10], decoderMean: values[11],
            encoderStd: values[12], decoderStd: values[13],
            memory: columns == .hatAndMemory ? LatencyRow.Memory(modelMB: values[14], peakMB: values[15]) : nil)
        try row.validate(file: source, line: number)
        return row
    }

    // MARK: Writing

    /// The dataset as HAT-format CSV text (header, then one line per row, each ending in a newline).
    public var csvText: String {
        var out = LatencyDataset.header(for: columns).joined(separator: ",") + "\n"
        for row in rows { out += row.csvLine + "\n" }
        return out
    }

    /// Writes the dataset to `path` through a temporary file and a rename (never half a file).
    public func write(to path: String) throws {
        try checkColumns()
        try AtomicFile.write(Data(csvText.utf8), to: path)
    }

    /// SHA-256 of `csvText`: identifies the rows a predictor was trained on (equal to the file's
    /// SHA-256 for a file this tool or HAT wrote).
    public var sha256: String { SHA256.hex(Array(csvText.utf8)) }

    /// Appends one row to a dataset file, creating it (with the header of the row's columns) if it does not exist:
    /// one line written and flushed to disk, for a measurement program that may be interrupted.
    ///
    /// An incomplete last line that an interrupted run left (no newline) is cut off first, so the
    /// new row starts on its own line; the returned warnings report it. The header is checked,
    /// and a row whose memory columns the file lacks (or the other way round) is refused with
    /// nothing appended: a file mixing both could not be read back.
    @discardableResult
    public static func append(row: LatencyRow, to path: String) throws -> [String] {
        try row.validate(file: path, line: nil)
        let line = Data((row.csvLine + "\n").utf8)
        let rowHeader = header(for: row.columns)
        let fm = FileManager.default
        if !fm.fileExists(atPath: path) || ((try? fm.attributesOfItem(atPath: path)[.size] as? Int) ?? 0) == 0 {
            guard fm.createFile(atPath: path, contents: nil) else { throw LatencyError(file: path, "cannot create the file") }
            let handle = try openForUpdate(path)
            defer { try? handle.close() }
            try handle.write(contentsOf: Data((rowHeader.joined(separator: ",") + "\n").utf8) + line)
            try handle.synchronize()
            return []
        }
        let handle = try openForUpdate(path)
        defer { try? handle.close() }
        var warnings: [String] = []
        do {
            let head = try handle.read(upToCount: 4096) ?? Data()
            guard let newline = head.firstIndex(of: UInt8(ascii: "\n")) else {
                throw LatencyError(file: path, line: 1, "the header line is missing or incomplete; expected \(header.joined(separator: ","))")
            }
            let columns = try checkHeader(Substring(String(decoding: head[..<newline], as: UTF8.self)), source: path)
            if columns != row.columns { throw mixedColumns(file: path, fileColumns: columns) }
            let size = try handle.seekToEnd()
            let tailStart = size > 4096 ? size - 4096 : 0
            try handle.seek(toOffset: tailStart)
            let tail = try handle.readToEnd() ?? Data()
            if tail.last != UInt8(ascii: "\n") {
                guard let lastNewline = tail.lastIndex(of: UInt8(ascii: "\n")) else {
                    throw LatencyError(file: path, "the last line is longer than 4 KiB and has no newline; is this a latency CSV?")
                }
                let keep = tailStart + UInt64(lastNewline - tail.startIndex + 1)
                let cut = String(decoding: tail[(lastNewline + 1)...], as: UTF8.self)
                try handle.truncate(atOffset: keep)
                warnings.append("\(path): cut off an incomplete last line (no newline; an interrupted run?): '\(cut)'")
            }
            try handle.seekToEnd()
            try handle.write(contentsOf: line)
            try handle.synchronize()
        } catch let error as LatencyError {
            throw error
        } catch {
            throw LatencyError(file: path, "cannot append: \(error.localizedDescription)")
        }
        return warnings
    }

    /// The error for a row whose columns a dataset file does not have.
    public static func mixedColumns(file: String, fileColumns: Columns) -> LatencyError {
        switch fileColumns {
        case .hat:
            return LatencyError(
                file: file,
                "has HAT's \(header.count) columns and no memory columns: rows with measured memory cannot be added to it (nothing was appended); measure into a new file, or without --memory (a --command: without encoder-decoder-memory output)"
            )
        case .hatAndMemory:
            return LatencyError(
                file: file,
                "has the memory columns \(memoryNames.joined(separator: ", ")): rows without measured memory cannot be added to it (nothing was appended); measure with --memory (a --command: with --command-output encoder-decoder-memory), or into a new file"
            )
        }
    }

    private static func openForUpdate(_ path: String) throws -> FileHandle {
        guard let handle = FileHandle(forUpdatingAtPath: path) else {
            throw LatencyError(file: path, "cannot open for appending (permissions?)")
        }
        return handle
    }

    // MARK: Splits

    /// HAT's split: rows shuffled (here by a seeded Fisher–Yates shuffle; HAT does not seed
    /// it), then the first ⌊0.8n⌋ train, the next ⌊0.1n⌋ valid, the rest test. Indices into `rows`.
    public static func splitIndices(count n: Int, seed: UInt64) -> (train: [Int], valid: [Int], test: [Int]) {
        var order = Array(0..<n)
        var rng = RandomGenerator(seed: seed)
        if n > 1 {
            for i in stride(from: n - 1, to: 0, by: -1) { order.swapAt(i, rng.nextInt(i + 1)) }
        }
        let trainCount = n * 8 / 10, validCount = n / 10
        return (
            Array(order[0..<trainCount]), Array(order[trainCount..<(trainCount + validCount)]),
            Array(order[(trainCount + validCount)...])
        )
    }

    /// The train, valid and test datasets of HAT's 8:1:1 split.
    public func split(seed: UInt64) -> (train: LatencyDataset, valid: LatencyDataset, test: LatencyDataset) {
        let (a, b, c) = LatencyDataset.splitIndices(count: count, seed: seed)
        return (
            subset(a, name: "train split (seed \(seed)) of \(source)"),
            subset(b, name: "valid split (seed \(seed)) of \(source)"),
            subset(c, name: "test split (seed \(seed)) of \(source)")
        )
    }

    /// The rows at `indices`, in that order.
    public func subset(_ indices: [Int], name: String? = nil) -> LatencyDataset {
        var d = LatencyDataset(rows: indices.map { rows[$0] }, source: name ?? "\(indices.count) rows of \(source)", columns: columns)
        d.measurement = measurement
        return d
    }

    /// The latency HAT's predictor learns, per row (encoder + decoder mean, ms).
    public var latencies: [Double] { rows.map(\.latency) }

    /// What a predictor of `target` learns, per row; nil for memory when the dataset has no memory columns.
    public func values(of target: PredictorTarget) -> [Double]? {
        switch target {
        case .latency: return latencies
        case .memory: return hasMemory ? rows.map { $0.memory!.peakMB } : nil
        }
    }

    /// `values(of:)`, or an error that names the file and says how to measure memory.
    public func requireValues(of target: PredictorTarget) throws -> [Double] {
        guard let values = values(of: target) else {
            throw LatencyError(
                file: source,
                "has no memory columns (\(LatencyDataset.memoryNames.joined(separator: ", "))): a memory predictor learns memory_peak_mb; measure the dataset with hat latency dataset --memory"
            )
        }
        return values
    }
}
