import Foundation

/// A chart drawn from a CSV table (`hat plot`): one row per point; an optional column names the
/// series a row belongs to, others give an interval around y and a label for the point. Experiment
/// scripts (benchmarks/claims/) write such tables so that their figures look like the report's.
public struct ChartTable {
    public enum Style: String, CaseIterable, Sendable {
        /// Lines through the points (x sorted), the interval shaded as a band.
        case line
        /// A step function (best so far), the interval shaded.
        case step
        /// A scatter, the interval as error bars.
        case points
    }

    /// The columns a chart takes its values from (`nil`: not used).
    public struct Columns: Sendable {
        public var x: String
        public var y: String
        public var series: String?
        public var low: String?
        public var high: String?
        public var label: String?
        public init(x: String, y: String, series: String? = nil, low: String? = nil, high: String? = nil, label: String? = nil) {
            self.x = x
            self.y = y
            self.series = series
            self.low = low
            self.high = high
            self.label = label
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Reads `text` (the CSV file at `path`, named in errors): a header line, then rows of
    /// comma-separated fields without quoting.
    public static func chart(
        csv text: String, path: String, columns: Columns, style: Style, title: String, xLabel: String? = nil, yLabel: String? = nil
    ) throws -> XYChart {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        while lines.last == "" { lines.removeLast() }
        guard let header = lines.first?.split(separator: ",", omittingEmptySubsequences: false).map(String.init), lines.count > 1 else {
            throw Failure(description: "\(path): needs a header line and at least one row")
        }
        if (columns.low == nil) != (columns.high == nil) {
            throw Failure(description: "give both interval columns (low and high) or neither")
        }
        func index(_ name: String?) throws -> Int? {
            guard let name else { return nil }
            guard let i = header.firstIndex(of: name) else {
                throw Failure(description: "\(path) has no column '\(name)'; its columns: \(header.joined(separator: ", "))")
            }
            return i
        }
        let xi = try index(columns.x)!, yi = try index(columns.y)!
        let si = try index(columns.series), li = try index(columns.low), hi = try index(columns.high), ti = try index(columns.label)

        struct Rows {
            var points: [(x: Double, y: Double)] = []
            var spread: [(low: Double, high: Double)] = []
            var labels: [String] = []
        }
        var order: [String] = []
        var groups: [String: Rows] = [:]
        for (n, line) in lines.enumerated().dropFirst() where !line.isEmpty {
            if line.contains("\"") { throw Failure(description: "\(path) line \(n + 1): quoted fields are not read; write the table without quotes") }
            let fields = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            guard fields.count == header.count else {
                throw Failure(description: "\(path) line \(n + 1): \(fields.count) fields, the header has \(header.count)")
            }
            func number(_ i: Int) throws -> Double {
                guard let v = Double(fields[i].trimmingCharacters(in: .whitespaces)) else {
                    throw Failure(description: "\(path) line \(n + 1), column '\(header[i])': '\(fields[i])' is not a number")
                }
                return v
            }
            let key = si.map { fields[$0] } ?? ""
            if groups[key] == nil {
                order.append(key)
                groups[key] = Rows()
            }
            groups[key]!.points.append((try number(xi), try number(yi)))
            if let li, let hi { groups[key]!.spread.append((try number(li), try number(hi))) }
            if let ti { groups[key]!.labels.append(fields[ti]) }
        }
        var chart = XYChart(title: title, xLabel: xLabel ?? columns.x, yLabel: yLabel ?? columns.y)
        for (i, key) in order.enumerated() {
            var rows = groups[key]!
            if style != .points {
                // Lines run left to right whatever the table's row order.
                let sorted = rows.points.indices.sorted { rows.points[$0].x < rows.points[$1].x }
                rows.points = sorted.map { rows.points[$0] }
                if !rows.spread.isEmpty { rows.spread = sorted.map { rows.spread[$0] } }
                if !rows.labels.isEmpty { rows.labels = sorted.map { rows.labels[$0] } }
            }
            let seriesStyle: XYChart.Series.Style =
                switch style {
                case .line: .line(width: 2.2)
                case .step: .stepLine
                case .points: .points(radius: 4.5, opacity: 0.85)
                }
            chart.series.append(
                XYChart.Series(
                    key, color: ReportPage.palette[i % ReportPage.palette.count], style: seriesStyle, points: rows.points, spread: rows.spread,
                    labels: rows.labels))
        }
        return chart
    }
}
