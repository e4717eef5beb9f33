import Foundation
import Testing

@testable import Report

/// `hat plot`'s reading of a CSV table into a chart: series by a column, lines sorted by x, intervals
/// as bands or error bars, labels beside points, and errors that name the file, line and column.
@Suite("Chart tables")
struct ChartTableTests {
    static let table = """
        strategy,evaluations,mean,low,high,name
        evolution,3,5.0,4.9,5.1,c
        evolution,1,5.2,5.1,5.3,a
        random,1,5.3,5.2,5.4,d
        evolution,2,5.1,5.0,5.2,b

        """

    @Test("rows are grouped by the series column in order of appearance, lines sorted by x with their intervals")
    func grouping() throws {
        let chart = try ChartTable.chart(
            csv: Self.table, path: "t.csv",
            columns: .init(x: "evaluations", y: "mean", series: "strategy", low: "low", high: "high", label: "name"), style: .line,
            title: "t")
        #expect(chart.series.map(\.name) == ["evolution", "random"])
        let evolution = chart.series[0]
        #expect(evolution.points.map(\.x) == [1, 2, 3] && evolution.points.map(\.y) == [5.2, 5.1, 5.0])
        #expect(evolution.spread.map(\.low) == [5.1, 5.0, 4.9] && evolution.spread.map(\.high) == [5.3, 5.2, 5.1])
        #expect(evolution.labels == ["a", "b", "c"])
        #expect(chart.xLabel == "evaluations" && chart.yLabel == "mean")
        let svg = chart.svg
        // One shaded band per series, and the labels written beside the points.
        #expect(svg.components(separatedBy: "<polygon").count - 1 == 2)
        #expect(svg.contains(">a</text>") && svg.contains(">d</text>"))
        // The rightmost point's label stands on its left, inside the frame.
        #expect(svg.contains("text-anchor=\"end\">c</text>") && !svg.contains("text-anchor=\"end\">a</text>"), "\(svg)")
    }

    @Test("a scatter keeps the table's order and draws the intervals as error bars")
    func scatter() throws {
        let chart = try ChartTable.chart(
            csv: Self.table, path: "t.csv", columns: .init(x: "evaluations", y: "mean", low: "low", high: "high"), style: .points, title: "t")
        #expect(chart.series.count == 1 && chart.series[0].points.map(\.x) == [3, 1, 1, 2])
        let svg = chart.svg
        #expect(!svg.contains("<polygon") && svg.components(separatedBy: "<circle").count - 1 == 4)
        #expect(svg.components(separatedBy: "stroke-width=\"1.5\"/>").count - 1 >= 4, "an error bar per point")
    }

    @Test("a missing column, a field that is not a number, a short row and quoting are refused by name")
    func errors() {
        func message(_ csv: String, _ columns: ChartTable.Columns) -> String {
            do {
                _ = try ChartTable.chart(csv: csv, path: "t.csv", columns: columns, style: .line, title: "t")
                return ""
            } catch { return "\(error)" }
        }
        #expect(message(Self.table, .init(x: "evaluation", y: "mean")).contains("t.csv has no column 'evaluation'; its columns: strategy, evaluations"))
        #expect(message("x,y\n1,2\n2,abc\n", .init(x: "x", y: "y")) == "t.csv line 3, column 'y': 'abc' is not a number")
        #expect(message("x,y\n1\n", .init(x: "x", y: "y")) == "t.csv line 2: 1 fields, the header has 2")
        #expect(message("x,y,n\n1,2,\"a,b\"\n", .init(x: "x", y: "y")).contains("line 2: quoted fields are not read"))
        #expect(message("x,y\n", .init(x: "x", y: "y")).contains("needs a header line and at least one row"))
        #expect(message(Self.table, .init(x: "evaluations", y: "mean", low: "low")).contains("both interval columns"))
    }
}
