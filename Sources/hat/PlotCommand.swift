import ArgumentParser
import Datasets
import Foundation
import Report

extension ChartTable.Style: ExpressibleByArgument {}

/// `hat plot`: an SVG chart in the report's style from a CSV table, for the figures of experiment
/// scripts (benchmarks/claims/ → docs/RESULTS.md).
struct PlotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plot",
        abstract: "Draw an SVG chart in the report's style from a CSV table (one row per point).",
        discussion: """
            E.g. hat plot --csv curves.csv --x evaluations --y mean --low low --high high --series strategy \
            --style line --out curves.svg. Fields are comma-separated without quotes.
            """
    )

    @Option(help: "The table: a header line, then one row per point.") var csv: String
    @Option(help: "Column of the x values.") var x: String
    @Option(help: "Column of the y values.") var y: String
    @Option(help: "Column naming the series a row belongs to (one line or colour per series).") var series: String?
    @Option(help: "Column of the lower end of an interval around y (with --high).") var low: String?
    @Option(help: "Column of the upper end of an interval around y (with --low).") var high: String?
    @Option(help: "Column of a text written beside each point.") var label: String?
    @Option(help: "line (the interval shaded as a band), step, or points (a scatter, intervals as error bars).")
    var style: ChartTable.Style = .line
    @Option(help: "Title above the chart.") var title: String = ""
    @Option(name: .customLong("x-label"), help: "Axis label (default: the column's name).") var xLabel: String?
    @Option(name: .customLong("y-label"), help: "Axis label (default: the column's name).") var yLabel: String?
    @Option(help: "The SVG file to write.") var out: String

    func run() throws {
        guard let text = try? String(contentsOfFile: csv, encoding: .utf8) else {
            throw CommandError("--csv \(csv) cannot be read as UTF-8 text")
        }
        try OutputPath.checkFile(out, option: "--out")
        let chart = try ChartTable.chart(
            csv: text, path: csv, columns: .init(x: x, y: y, series: series, low: low, high: high, label: label), style: style,
            title: title, xLabel: xLabel, yLabel: yLabel)
        try AtomicFile.write(Data(chart.svg.utf8), to: URL(fileURLWithPath: out))
        print("wrote \(out)")
    }
}
