import Foundation
import TestSupport
import Testing

@testable import Datasets

/// fairseq's data-bin splits, both index formats and several element types, against files written
/// per fairseq's format by Tests/Oracle/fairseq_databin_oracle.py; and damaged files refused.
@Suite("fairseq data-bin reader")
struct FairseqIndexedDatasetTests {
    static let fixtures: Result<URL, Error> = Result {
        let dir = try Oracle.temporaryDirectory()
        try Oracle.run("fairseq_databin_oracle.py", [dir.path])
        return dir
    }

    static func expected(_ key: String) throws -> [[Int32]] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.get().appendingPathComponent("expected.json"))) as! [String: [[Int]]]
        return json[key]!.map { $0.map(Int32.init) }
    }

    @Test(
        "mmap and legacy indexes, 8- to 64-bit ids, read as fairseq writes them",
        arguments: [
            ("mmap_u16", "mmap", "sentences"), ("mmap_i32", "mmap", "sentences"), ("mmap_u8", "mmap", "small"),
            ("legacy_i32", "legacy", "sentences"), ("legacy_i64", "legacy", "sentences"),
        ])
    func readsEveryFormat(_ name: String, _ format: String, _ key: String) throws {
        let dataset = try FairseqIndexedDataset(prefix: Self.fixtures.get().appendingPathComponent(name).path)
        #expect(dataset.format.rawValue == format)
        let want = try Self.expected(key)
        #expect(dataset.count == want.count)
        #expect((0..<dataset.count).map { Array(dataset.sentence($0)) } == want)
    }

    @Test("damaged or missing files are refused naming the file")
    func damaged() throws {
        let dir = try Self.fixtures.get()
        let work = try Oracle.temporaryDirectory()
        func copy(_ name: String, to new: String, mutate: (inout [UInt8], inout [UInt8]) -> Void) throws -> String {
            var idx = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".idx")))
            var bin = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name + ".bin")))
            mutate(&idx, &bin)
            try Data(idx).write(to: work.appendingPathComponent(new + ".idx"))
            try Data(bin).write(to: work.appendingPathComponent(new + ".bin"))
            return work.appendingPathComponent(new).path
        }
        let cases: [(String, String, (inout [UInt8], inout [UInt8]) -> Void, String)] = [
            ("mmap_u16", "magic", { i, _ in i[0] = 0x41 }, "is not a fairseq index"),
            ("mmap_u16", "version", { i, _ in i[9] = 2 }, "version is not 1"),
            ("mmap_u16", "dtype", { i, _ in i[17] = 6 }, "element type 6"),
            ("mmap_u16", "truncidx", { i, _ in i.removeLast(100) }, "more than the file holds"),
            ("mmap_u16", "truncbin", { _, b in b.removeLast(10) }, "lies outside"),
            ("legacy_i32", "legacybin", { _, b in b.removeLast(8) }, "lie outside"),
            ("legacy_i32", "zero", { _, b in for k in 0..<4 { b[k] = 0 } }, "is not a dictionary index"),
        ]
        for (source, name, mutate, phrase) in cases {
            let prefix = try copy(source, to: name, mutate: mutate)
            let error = #expect(throws: DataError.self, "\(name)") { _ = try FairseqIndexedDataset(prefix: prefix) }
            #expect("\(error.map { "\($0)" } ?? "")".contains(phrase), "\(name): \(String(describing: error))")
        }
        let error = #expect(throws: DataError.self) { _ = try FairseqIndexedDataset(prefix: work.appendingPathComponent("absent").path) }
        #expect("\(error.map { "\($0)" } ?? "")".contains("absent.idx: is missing"), "\(String(describing: error))")
    }
}
