import Foundation
import Testing

@testable import Datasets

@Suite("Binarized dataset files")
struct DatasetFileTests {
    @Test func writeThenLoadIsIdentical() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = BatchingTests.randomDataset(257)
        let path = dir.appendingPathComponent("x.bin").path
        try data.write(to: path)
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(size == BinaryFormat.fileSize(sentences: 257, sourceTokens: data.sourceTokens.count, targetTokens: data.targetTokens.count))
        let loaded = try TranslationDataset(path: path, vocabularySizes: (504, 504))
        #expect(loaded.sourceTokens == data.sourceTokens && loaded.targetTokens == data.targetTokens)
        #expect(loaded.sourceOffsets == data.sourceOffsets && loaded.targetOffsets == data.targetOffsets)
        #expect(loaded.count == 257 && Array(loaded.source(3)) == Array(data.source(3)))
        // Empty datasets are valid files too.
        let empty = TranslationDataset(source: [], target: [])
        try empty.write(to: path)
        #expect(try TranslationDataset(path: path).count == 0)
        #expect(DataTestSupport.leftovers(in: dir).isEmpty)
    }

    @Test func damagedFilesAreRejectedWithTheReason() throws {
        let dir = try DataTestSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let data = BatchingTests.randomDataset(20)
        let path = dir.appendingPathComponent("x.bin").path
        try data.write(to: path)
        let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
        func expectCorrupt(_ damaged: [UInt8], vocabularySizes: (Int, Int)? = nil, _ reason: String) throws {
            try Data(damaged).write(to: URL(fileURLWithPath: path))
            do {
                _ = try TranslationDataset(path: path, vocabularySizes: vocabularySizes)
                Issue.record("\(reason): must be rejected")
            } catch let error as DataError {
                guard case .corruptDataset(let p, _) = error else {
                    Issue.record("\(reason): unexpected \(error)")
                    return
                }
                #expect(p == path)
            }
        }
        try expectCorrupt(Array(bytes.dropLast(4)), "truncated")
        try expectCorrupt(Array(bytes.prefix(10)), "shorter than the header")
        var magic = bytes
        magic[0] = UInt8(ascii: "X")
        try expectCorrupt(magic, "bad magic")
        var offsets = bytes
        offsets[BinaryFormat.headerSize + 8] = 0xFF  // first sentence's end offset
        try expectCorrupt(offsets, "offsets out of order")
        // 64-bit values no file can hold (≥ 2^63 would trap a conversion to Int): counts and offsets.
        for field in [16, 24, 32] {
            var huge = bytes
            for k in 0..<8 { huge[field + k] = 0xFF }
            try expectCorrupt(huge, "header field at byte \(field) = 2^64 - 1")
            huge = bytes
            huge[field + 7] = 0x80
            try expectCorrupt(huge, "header field at byte \(field) ≥ 2^63")
        }
        var hugeOffset = bytes
        for k in 0..<8 { hugeOffset[BinaryFormat.headerSize + 8 + k] = 0xFF }
        try expectCorrupt(hugeOffset, "an offset of 2^64 - 1")
        try expectCorrupt(bytes, vocabularySizes: (100, 100), "ids outside a 100-piece vocabulary")
    }
}
