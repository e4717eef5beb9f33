import Datasets
import Foundation
import TestSupport
import Testing

@testable import Latency

/// The four real HAT latency datasets (../shared/data/hat-latency).
let hatLatencyFiles = ["wmt14ende_cpu_raspberrypi_all", "wmt14ende_cpu_xeon_all", "wmt14ende_gpu_titanxp_all", "iwslt14deen_gpu_titanxp_all"]

func hatLatencyPath(_ name: String) -> String {
    sharedDataDirectory.appendingPathComponent("hat-latency/\(name).csv").path
}

let header = LatencyDataset.header.joined(separator: ",")
let goodRow = "640,6,1962.6666666666667,6.0,512,4,1920.0,2.5,5.5,1.5,5.495997965335846,124.5498161315918,0.05190905713613412,0.44398658892399007"

/// Expects `body` to throw a `LatencyError` whose text contains every fragment.
func expectLatencyError(_ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation, _ body: () throws -> Void) {
    do {
        try body()
        Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
    } catch let error as LatencyError {
        for f in fragments {
            #expect(error.description.contains(f), "'\(error.description)' lacks '\(f)'", sourceLocation: sourceLocation)
        }
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
}

@Suite("LatencyDataset: HAT's CSV, exactly")
struct LatencyDatasetTests {
    @Test(arguments: hatLatencyFiles)
    func realFilesReadAndWriteBackByteForByte(name: String) throws {
        let path = hatLatencyPath(name)
        let bytes = try #require(FileManager.default.contents(atPath: path))
        let data = try LatencyDataset(contentsOf: path)
        #expect(data.count == 2000)
        #expect(data.warnings.isEmpty)
        #expect(Data(data.csvText.utf8) == bytes, "rewriting \(name) changes its bytes")
        #expect(data.sha256 == SHA256.hex(Array(bytes)))
        let dir = try Oracle.temporaryDirectory()
        let copy = dir.appendingPathComponent("copy.csv").path
        try data.write(to: copy)
        #expect(FileManager.default.contents(atPath: copy) == bytes)
        #expect(try LatencyDataset(contentsOf: copy).rows == data.rows)
    }

    @Test func splitIsHATs811SeededAndDisjoint() throws {
        let (a, b, c) = LatencyDataset.splitIndices(count: 2000, seed: 0)
        #expect((a.count, b.count, c.count) == (1600, 200, 200))
        #expect(Set(a + b + c) == Set(0..<2000))
        let again = LatencyDataset.splitIndices(count: 2000, seed: 0)
        #expect(again.train == a && again.test == c)
        #expect(LatencyDataset.splitIndices(count: 2000, seed: 1).test != c)
        let odd = LatencyDataset.splitIndices(count: 17, seed: 3)
        #expect((odd.train.count, odd.valid.count, odd.test.count) == (13, 1, 3))
    }

    func parse(_ text: String) throws -> LatencyDataset { try LatencyDataset.parse(Data(text.utf8), source: "bad.csv") }

    @Test func badHeaderNamesTheColumn() {
        let renamed = header.replacingOccurrences(of: "decoder_layer_num", with: "dec_layers")
        expectLatencyError(["bad.csv:1", "column 'dec_layers'", "should be 'decoder_layer_num'"]) { _ = try parse(renamed + "\n" + goodRow + "\n") }
        let short = LatencyDataset.header.dropLast().joined(separator: ",")
        expectLatencyError(["bad.csv:1", "latency_std_decoder", "13 columns"]) { _ = try parse(short + "\n") }
        expectLatencyError(["bad.csv:1", "column 'extra'", "unknown column 15"]) { _ = try parse(header + ",extra\n") }
        expectLatencyError(["bad.csv:1", "empty"]) { _ = try parse("") }
    }

    @Test func wrongFieldCountNamesTheLine() {
        expectLatencyError(["bad.csv:3", "13 fields, expected 14"]) {
            _ = try parse(header + "\n" + goodRow + "\n" + goodRow.split(separator: ",").dropLast().joined(separator: ",") + "\n")
        }
    }

    @Test func notANumberNamesLineAndColumn() {
        let bad = goodRow.replacingOccurrences(of: "124.5498161315918", with: "12x.5")
        expectLatencyError(["bad.csv:2", "column 'latency_mean_decoder'", "'12x.5' is not a number"]) { _ = try parse(header + "\n" + bad + "\n") }
        let empty = goodRow.replacingOccurrences(of: ",6.0,", with: ",,")
        expectLatencyError(["bad.csv:2", "column 'encoder_self_attention_heads_avg'", "empty"]) { _ = try parse(header + "\n" + empty + "\n") }
    }

    @Test func fractionalWidthsAndLayerCountsAreRejected() {
        let fields = goodRow.split(separator: ",").map(String.init)
        let bad = (["512.7"] + fields.dropFirst()).joined(separator: ",")
        expectLatencyError(["bad.csv:2", "column 'encoder_embed_dim'", "'512.7' is not a whole number"]) { _ = try parse(header + "\n" + bad + "\n") }
        let whole = ([fields[0] + ".0"] + fields.dropFirst()).joined(separator: ",")
        #expect(throws: Never.self) { _ = try parse(header + "\n" + whole + "\n") }
    }

    @Test(arguments: ["nan", "inf", "-inf", "-0.5"])
    func nonFiniteOrNegativeValuesAreRejected(value: String) {
        let bad = goodRow.replacingOccurrences(of: "0.05190905713613412", with: value)
        expectLatencyError(["bad.csv:3", "column 'latency_std_encoder'", value == "-0.5" ? "negative" : "not finite"]) {
            _ = try parse(header + "\n" + goodRow + "\n" + bad + "\n")
        }
    }

    @Test func notUTF8IsRejected() {
        expectLatencyError(["bad.csv", "not UTF-8"]) { _ = try LatencyDataset.parse(Data([0xFF, 0xFE, 0x00, 0x41]), source: "bad.csv") }
    }

    @Test func missingFileIsNamed() {
        expectLatencyError(["/nonexistent/x.csv", "not found"]) { _ = try LatencyDataset(contentsOf: "/nonexistent/x.csv") }
    }

    @Test func truncatedLastLineIsDroppedAndReported() throws {
        let cut = String(goodRow.prefix(40))
        let data = try parse(header + "\n" + goodRow + "\n" + cut)
        #expect(data.count == 1)
        #expect(data.warnings.count == 1)
        #expect(data.warnings[0].contains("bad.csv:3") && data.warnings[0].contains("incomplete last line"))
        // A complete file (trailing newline) and blank lines, CRLF endings: no warnings.
        let crlf = try parse(header + "\r\n" + goodRow + "\r\n\r\n" + goodRow + "\r\n")
        #expect(crlf.count == 2 && crlf.warnings.isEmpty)
    }

    @Test func appendCreatesRepairsAndChecks() throws {
        let dir = try Oracle.temporaryDirectory()
        let path = dir.appendingPathComponent("phone.csv").path
        let row = try parse(header + "\n" + goodRow + "\n").rows[0]
        #expect(try LatencyDataset.append(row: row, to: path).isEmpty)
        #expect(String(decoding: FileManager.default.contents(atPath: path)!, as: UTF8.self) == header + "\n" + goodRow + "\n")
        try LatencyDataset.append(row: row, to: path)
        #expect(try LatencyDataset(contentsOf: path).rows == [row, row])

        // An interrupted run left half a line: it is cut off, and the new row follows a newline.
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data("640,6,19".utf8))
        try handle.close()
        #expect(try LatencyDataset(contentsOf: path).warnings.count == 1)
        let warnings = try LatencyDataset.append(row: row, to: path)
        #expect(warnings.count == 1 && warnings[0].contains("640,6,19"))
        let repaired = try LatencyDataset(contentsOf: path)
        #expect(repaired.rows == [row, row, row] && repaired.warnings.isEmpty)

        // Wrong header, invalid row.
        let other = dir.appendingPathComponent("other.csv").path
        try Data("a,b,c\n1,2,3\n".utf8).write(to: URL(fileURLWithPath: other))
        expectLatencyError(["other.csv:1", "column 'a'"]) { try LatencyDataset.append(row: row, to: other) }
        var negative = row
        negative.decoderMean = -1
        expectLatencyError(["phone.csv", "latency_mean_decoder", "negative"]) { try LatencyDataset.append(row: negative, to: path) }
    }
}
