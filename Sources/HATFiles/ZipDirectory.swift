/// The records of a zip archive as PyTorch ≥ 1.6 writes checkpoints: every record stored
/// uncompressed, so a record is a byte range of the file. Zip64 sizes and offsets are read;
/// compressed records are refused (PyTorch never writes them).
struct ZipDirectory {
    struct Record {
        let name: String
        let offset: Int  // of the data, in the file
        let size: Int
    }

    let records: [String: Record]

    /// Whether the bytes start like a zip archive.
    static func isZip(_ bytes: UnsafeRawBufferPointer) -> Bool {
        bytes.count >= 4 && bytes[0] == 0x50 && bytes[1] == 0x4B && bytes[2] == 0x03 && bytes[3] == 0x04
    }

    init(_ bytes: UnsafeRawBufferPointer, file: String) throws {
        func fail(_ reason: String) -> TorchCheckpointError { TorchCheckpointError(file, "zip archive: \(reason)") }
        func u(_ at: Int, _ n: Int) throws -> Int {
            guard at >= 0, n <= 8, at <= bytes.count - n else { throw fail("a field at byte \(at) lies past the end of the file (truncated archive)") }
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(bytes[at + i]) }
            guard v <= UInt64(Int.max) else { throw fail("a size or offset beyond what can be read") }
            return Int(v)
        }
        // The end-of-central-directory record: in the last 64 KiB + 22 bytes.
        var eocd = -1
        var i = bytes.count - 22
        while i >= Swift.max(0, bytes.count - 22 - 65_535) {
            if try u(i, 4) == 0x0605_4B50 {
                eocd = i
                break
            }
            i -= 1
        }
        guard eocd >= 0 else { throw fail("no end-of-central-directory record (truncated or not a zip archive)") }
        var entries = try u(eocd + 10, 2), directorySize = try u(eocd + 12, 4), directoryOffset = try u(eocd + 16, 4)
        if entries == 0xFFFF || directorySize == 0xFFFF_FFFF || directoryOffset == 0xFFFF_FFFF {
            // Zip64: a locator just before, pointing at the zip64 end record.
            let locator = eocd - 20
            guard locator >= 0, try u(locator, 4) == 0x0706_4B50 else { throw fail("zip64 sizes without a zip64 locator") }
            let record = try u(locator + 8, 8)
            guard try u(record, 4) == 0x0606_4B50 else { throw fail("the zip64 end record is not where its locator says") }
            entries = try u(record + 32, 8)
            directorySize = try u(record + 40, 8)
            directoryOffset = try u(record + 48, 8)
        }
        guard directoryOffset <= bytes.count, directorySize <= bytes.count - directoryOffset, entries <= directorySize / 46 + 1 else {
            throw fail("the central directory (\(entries) records, \(directorySize) bytes at \(directoryOffset)) lies outside the file")
        }
        var records: [String: Record] = [:]
        var at = directoryOffset
        for _ in 0..<entries {
            guard try u(at, 4) == 0x0201_4B50 else { throw fail("a central-directory record at byte \(at) has the wrong signature") }
            let method = try u(at + 10, 2)
            var compressed = try u(at + 20, 4), size = try u(at + 24, 4)
            let nameLength = try u(at + 28, 2), extraLength = try u(at + 30, 2), commentLength = try u(at + 32, 2)
            var localOffset = try u(at + 42, 4)
            guard at + 46 + nameLength <= bytes.count else { throw fail("a record name runs past the end of the file") }
            let name = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[(at + 46)..<(at + 46 + nameLength)]), as: UTF8.self)
            // Zip64 extra field: the 64-bit values of whichever 32-bit fields are 0xFFFFFFFF, in order.
            var e = at + 46 + nameLength
            let extraEnd = e + extraLength
            while e + 4 <= extraEnd {
                let id = try u(e, 2), length = try u(e + 2, 2)
                if id == 0x0001 {
                    var f = e + 4
                    if size == 0xFFFF_FFFF {
                        size = try u(f, 8)
                        f += 8
                    }
                    if compressed == 0xFFFF_FFFF {
                        compressed = try u(f, 8)
                        f += 8
                    }
                    if localOffset == 0xFFFF_FFFF { localOffset = try u(f, 8) }
                }
                e += 4 + length
            }
            guard method == 0, compressed == size else {
                throw fail("record \(name) is compressed (method \(method)); PyTorch writes records uncompressed")
            }
            guard try u(localOffset, 4) == 0x0403_4B50 else { throw fail("record \(name): no local header at byte \(localOffset)") }
            let data = localOffset + 30 + (try u(localOffset + 26, 2)) + (try u(localOffset + 28, 2))
            guard data <= bytes.count, size <= bytes.count - data else {
                throw fail("record \(name) (\(size) bytes at \(data)) runs past the end of the file (truncated archive)")
            }
            records[name] = Record(name: name, offset: data, size: size)
            at += 46 + nameLength + extraLength + commentLength
        }
        self.records = records
    }
}
