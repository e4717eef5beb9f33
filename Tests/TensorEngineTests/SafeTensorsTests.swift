import Foundation
import TestSupport
import Testing

@testable import TensorEngine

/// Tests for SafeTensors.swift: Swift round trips, interoperability with the reference
/// `safetensors` library in both directions (Tests/Oracle/safetensors_oracle.py), and rejection
/// of malformed files with clear errors rather than crashes.
@Suite("SafeTensors")
struct SafeTensorsTests {

    // MARK: Helpers

    /// Deterministic generator (SplitMix64) so random tests are reproducible.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// A file image from a header string and raw data bytes, length prefix computed.
    static func image(_ header: String, data: [UInt8] = [], headerLength: UInt64? = nil) -> Data {
        let headerBytes = Array(header.utf8)
        var out = Data()
        withUnsafeBytes(of: (headerLength ?? UInt64(headerBytes.count)).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: headerBytes)
        out.append(contentsOf: data)
        return out
    }

    /// A small valid file exercising metadata, several dtypes, a scalar and an empty tensor.
    static func sampleFile() throws -> SafeTensorsFile {
        var file = SafeTensorsFile(metadata: ["format": "pt", "note": "quote \" backslash \\ newline \n unicode é"])
        try file.add("matrix", floats: [1, -2.5, 3.25, 0, -0.0, .leastNonzeroMagnitude], shape: [2, 3])
        try file.add("scalar", floats: [42], shape: [])
        try file.add("empty", floats: [], shape: [0, 3])
        try file.add("ids", int64s: [Int64.min, -1, 0, 1, Int64.max], shape: [5])
        try file.add("mask", int32s: [Int32.min, 0, Int32.max, 7], shape: [2, 2])
        return file
    }

    static func assertSameContents(_ a: SafeTensorsFile, _ b: SafeTensorsFile) {
        #expect(a.metadata == b.metadata)
        #expect(a.names == b.names)
        for name in a.names {
            let x = a[name]!, y = b[name]!
            #expect(x.dtype == y.dtype, "\(name)")
            #expect(x.shape == y.shape, "\(name)")
            #expect(x.bytes == y.bytes, "\(name)")
        }
    }

    // MARK: Round trip in Swift

    @Test("Swift round trip preserves dtypes, shapes, bits and metadata")
    func swiftRoundTrip() throws {
        let file = try Self.sampleFile()
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("model.safetensors")
        try Data("old contents".utf8).write(to: url)  // write must replace an existing file
        try file.write(to: url)
        // Atomic write leaves no temporary file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["model.safetensors"])

        let back = try SafeTensorsFile.read(from: url)
        Self.assertSameContents(file, back)
        #expect(back.source == url.path)
        #expect(try back.tensor("matrix").floats().map(\.bitPattern) == [1, -2.5, 3.25, 0, -0.0, Float.leastNonzeroMagnitude].map(\.bitPattern))
        #expect(try back.tensor("scalar").floats() == [42])
        #expect(try back.tensor("scalar").shape == [])
        #expect(try back.tensor("scalar").elementCount == 1)
        #expect(try back.tensor("empty").floats() == [])
        #expect(try back.tensor("empty").shape == [0, 3])
        #expect(try back.tensor("ids").ints() == [Int(Int64.min), -1, 0, 1, Int(Int64.max)])
        #expect(try back.tensor("mask").ints() == [Int(Int32.min), 0, Int(Int32.max), 7])
        #expect(back.names == ["empty", "ids", "mask", "matrix", "scalar"])

        // Deterministic and aligned: same bytes every time, header length a multiple of 8.
        let bytes = file.serialized()
        #expect(bytes == back.serialized())
        #expect(try Data(contentsOf: url) == bytes)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        #expect(String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self).hasPrefix("{\"__metadata__\":"))
    }

    @Test("building and lookup errors are clear")
    func buildingErrors() throws {
        var file = SafeTensorsFile()
        let mismatch = #expect(throws: SafeTensorsError.self) { try file.add("w", floats: [1, 2, 3], shape: [2, 2]) }
        #expect(mismatch?.message.contains("has 4 elements but 3 values were given") == true)
        #expect(throws: SafeTensorsError.self) { try file.add("w", floats: [], shape: [-1]) }
        #expect(throws: SafeTensorsError.self) { try file.add("__metadata__", floats: [1], shape: [1]) }
        #expect(throws: SafeTensorsError.self) { try SafeTensorsEntry(name: "x", dtype: .F16, shape: [3], bytes: Data(count: 4)) }

        try file.add("b", int32s: [1], shape: [1])
        try file.add("a", floats: [1], shape: [1])
        let missing = #expect(throws: SafeTensorsError.self) { try file.tensor("c") }
        #expect(missing?.description == "<in memory>: no tensor named c (has: a, b)")
        let wrongKind = #expect(throws: SafeTensorsError.self) { try file.tensor("a").ints() }
        #expect(wrongKind?.message.contains("tensor 'a'") == true)
        let wrongKind2 = #expect(throws: SafeTensorsError.self) { try file.tensor("b").floats() }
        #expect(wrongKind2?.message.contains("tensor 'b'") == true)

        // add(entry) takes an entry from elsewhere, rebased to zero-based bytes.
        let raw = Data([0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])  // 1.0, 2.0 as F32
        let entry = try SafeTensorsEntry(name: "c", dtype: .F32, shape: [1], bytes: raw[4...])
        file.add(entry)
        #expect(try file.tensor("c").floats() == [2])
        #expect(file["c"]?.bytes.startIndex == 0)
    }

    // MARK: Interoperability with the reference implementation

    struct RoundTripSummary: Decodable {
        struct Tensor: Decodable {
            let dtype: String
            let shape: [Int]
            let sum: Double
        }
        let metadata: [String: String]
        let tensors: [String: Tensor]
    }

    @Test("the reference safetensors library reads our files and we read its re-save")
    func pythonReadsOurs() throws {
        var rng = SeededGenerator(state: 20240601)
        let metadata = ["format": "np", "epoch": "3", "κλειδί": "τιμή \"quoted\""]
        var file = SafeTensorsFile(metadata: metadata)
        let shapes: [(String, [Int])] = [("layer.0.weight", [4, 5]), ("layer.0.bias", [5]), ("scale", []), ("cube", [2, 3, 4]), ("none", [0, 3])]
        var expectedSums: [String: Double] = [:]
        for (name, shape) in shapes {
            let count = shape.reduce(1, *)
            let values = (0..<count).map { _ in Float.random(in: -10...10, using: &rng) }
            try file.add(name, floats: values, shape: shape)
            expectedSums[name] = values.reduce(0) { $0 + Double($1) }
        }
        let special: [Float] = [-0.0, .leastNonzeroMagnitude, .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 1e-38]
        try file.add("special", floats: special, shape: [5])
        expectedSums["special"] = special.reduce(0) { $0 + Double($1) }
        let ids = (0..<12).map { _ in Int64.random(in: -(1 << 40)...(1 << 40), using: &rng) }
        try file.add("ids", int64s: ids, shape: [3, 4])
        expectedSums["ids"] = ids.reduce(0) { $0 + Double($1) }
        let counts = (0..<7).map { _ in Int32.random(in: -100_000...100_000, using: &rng) }
        try file.add("counts", int32s: counts, shape: [7])
        expectedSums["counts"] = counts.reduce(0) { $0 + Double($1) }

        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("swift.safetensors")
        let output = dir.appendingPathComponent("python.safetensors")
        try file.write(to: input)

        let stdout = try Oracle.run("safetensors_oracle.py", ["roundtrip", input.path, output.path])
        let summary = try JSONDecoder().decode(RoundTripSummary.self, from: Data(stdout.utf8))
        #expect(summary.metadata == metadata)
        #expect(Set(summary.tensors.keys) == Set(file.names))
        for name in file.names {
            let entry = file[name]!
            let theirs = try #require(summary.tensors[name], "\(name) missing from Python's view")
            #expect(theirs.dtype == entry.dtype.rawValue, "\(name)")
            #expect(theirs.shape == entry.shape, "\(name)")
            // Summation order differs (numpy sums pairwise), so allow rounding-level differences.
            let ours = expectedSums[name]!
            #expect(abs(theirs.sum - ours) <= 1e-9 * max(1, abs(ours)), "\(name): python sum \(theirs.sum), ours \(ours)")
        }

        let resaved = try SafeTensorsFile.read(from: output)
        Self.assertSameContents(file, resaved)
    }

    struct WrittenExpectation: Decodable {
        struct Tensor: Decodable {
            let dtype: String
            let shape: [Int]
            let values: [Double]
        }
        let metadata: [String: String]
        let tensors: [String: Tensor]
    }

    @Test("we read every dtype written by the reference library")
    func weReadTheirs() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("torch.safetensors")
        let stdout = try Oracle.run("safetensors_oracle.py", ["write", url.path])
        let expected = try JSONDecoder().decode(WrittenExpectation.self, from: Data(stdout.utf8))

        let file = try SafeTensorsFile.read(from: url)
        #expect(file.metadata == expected.metadata)
        #expect(Set(file.names) == Set(expected.tensors.keys))
        let seenDTypes = Set(expected.tensors.values.map(\.dtype))
        #expect(seenDTypes == ["F32", "F64", "F16", "BF16", "I64", "I32", "I8", "U8", "BOOL"])
        for (name, want) in expected.tensors {
            let entry = try file.tensor(name)
            #expect(entry.dtype.rawValue == want.dtype, "\(name)")
            #expect(entry.shape == want.shape, "\(name)")
            #expect(entry.elementCount == want.values.count, "\(name)")
            if entry.dtype.isFloatingPoint {
                let got = try entry.floats()
                // Expected values are float32-exact, so compare exactly.
                #expect(got.map(Double.init) == want.values, "\(name)")
            } else {
                // I64 values up to 2^62 are exact in Double (powers of two).
                let got = try entry.ints()
                #expect(got.map(Double.init) == want.values, "\(name)")
            }
        }
    }

    // MARK: Malformed files

    struct Malformed: Sendable, CustomTestStringConvertible {
        let label: String
        let bytes: Data
        let phrase: String
        var testDescription: String { label }
    }

    static let entryF32x2 = #""a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}"#

    static let malformed: [Malformed] = [
        Malformed(
            label: "truncated below 8 bytes", bytes: Data([1, 0, 0]),
            phrase: "too short for the 8-byte header length"),
        Malformed(
            label: "header length beyond file", bytes: image("{}", headerLength: 64),
            phrase: "exceeds the 2 bytes after the length prefix"),
        Malformed(
            label: "absurd header length", bytes: image("{}", headerLength: 1 << 40),
            phrase: "absurdly large"),
        Malformed(
            label: "invalid UTF-8",
            bytes: {
                var d = image("{\"\u{7F}\":1}")
                d[10] = 0xFF
                return d
            }(),
            phrase: "not valid UTF-8"),
        Malformed(
            label: "invalid JSON", bytes: image("{\"a\":"),
            phrase: "header is not valid JSON"),
        Malformed(
            label: "header is a JSON array", bytes: image("[1,2]"),
            phrase: "header must be a JSON object"),
        Malformed(
            label: "entry not an object", bytes: image(#"{"a":[1]}"#),
            phrase: "tensor 'a': entry must be a JSON object"),
        Malformed(
            label: "entry lacks data_offsets", bytes: image(#"{"a":{"dtype":"F32","shape":[]}}"#),
            phrase: "tensor 'a': entry lacks \"data_offsets\""),
        Malformed(
            label: "unknown dtype", bytes: image(#"{"a":{"dtype":"F8_E5M2","shape":[2],"data_offsets":[0,2]}}"#, data: [0, 0]),
            phrase: "tensor 'a': unknown dtype \"F8_E5M2\" (supported: F64, F32"),
        Malformed(
            label: "negative shape dimension", bytes: image(#"{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}"#, data: .init(repeating: 0, count: 8)),
            phrase: "shape must be an array of non-negative integers, found number -2"),
        Malformed(
            label: "shape with a float", bytes: image(#"{"a":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 4)),
            phrase: "shape must be an array of non-negative integers, found number 1.5"),
        Malformed(
            label: "shape with a boolean", bytes: image(#"{"a":{"dtype":"F32","shape":[true],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 4)),
            phrase: "found boolean true"),
        Malformed(
            label: "shape product overflows",
            bytes: image(#"{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}}"#, data: .init(repeating: 0, count: 4)),
            phrase: "integer overflow"),
        Malformed(
            label: "offsets end beyond buffer", bytes: image(#"{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"#, data: .init(repeating: 0, count: 8)),
            phrase: "data_offsets end 16 is beyond the 8-byte data buffer"),
        Malformed(
            label: "offsets begin > end", bytes: image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,4]}}"#, data: .init(repeating: 0, count: 8)),
            phrase: "data_offsets begin 8 is greater than end 4"),
        Malformed(
            label: "offsets not two integers", bytes: image(#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0]}}"#, data: .init(repeating: 0, count: 4)),
            phrase: "data_offsets must be two non-negative integers"),
        Malformed(
            label: "size mismatch between shape and offsets",
            bytes: image(#"{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}"#, data: .init(repeating: 0, count: 20)),
            phrase: "data_offsets span 20 bytes but shape [2, 3] of dtype F32 needs 24 bytes"),
        Malformed(
            label: "overlapping tensors",
            bytes: image(
                #"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}"#,
                data: .init(repeating: 0, count: 12)),
            phrase: "tensors 'a' (bytes 0..<8) and 'b' (bytes 4..<12) overlap"),
        Malformed(
            label: "gap between tensors",
            bytes: image(
                #"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}"#,
                data: .init(repeating: 0, count: 12)),
            phrase: "bytes 4..<8 of the data buffer (before tensor 'b') are not covered by any tensor"),
        Malformed(
            label: "uncovered trailing bytes", bytes: image("{\(entryF32x2)}", data: .init(repeating: 0, count: 12)),
            phrase: "trailing bytes 8..<12 of the 12-byte data buffer are not covered by any tensor"),
        Malformed(
            label: "metadata with a non-string value", bytes: image("{\"__metadata__\":{\"epoch\":3},\(entryF32x2)}", data: .init(repeating: 0, count: 8)),
            phrase: "__metadata__ must map strings to strings, but key 'epoch' has number 3"),
    ]

    @Test("malformed files are rejected with a clear error", arguments: malformed)
    func rejectsMalformed(_ c: Malformed) throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("bad.safetensors")
        try c.bytes.write(to: url)
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.read(from: url) }
        #expect(error?.file == url.path)
        #expect(error?.message.contains(c.phrase) == true, "message was: \(error?.message ?? "none")")
    }

    @Test("a missing file is a SafeTensorsError naming it")
    func missingFile() throws {
        let dir = try Oracle.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("absent.safetensors")
        let error = #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.read(from: url) }
        #expect(error?.file == url.path)
        #expect(error?.message.contains("does not exist") == true, "message was: \(error?.message ?? "none")")
    }

    @Test("valid edge cases parse: padded header, empty file, zero-size tensors, slices")
    func acceptsEdgeCases() throws {
        // Header padded with spaces, as the reference writer does.
        let padded = try SafeTensorsFile.parse(Self.image("{\(Self.entryF32x2)}      ", data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]), source: "padded")
        #expect(try padded.tensor("a").floats() == [1, 2])
        // No tensors at all.
        #expect(try SafeTensorsFile.parse(Self.image("{}"), source: "empty").names == [])
        // Zero-size tensors may share an offset with a neighbour.
        let zero = try SafeTensorsFile.parse(
            Self.image(
                #"{"z":{"dtype":"I64","shape":[0],"data_offsets":[0,0]},"#
                    + #""a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"e":{"dtype":"BOOL","shape":[0,2],"data_offsets":[1,1]}}"#, data: [200]),
            source: "zero")
        #expect(try zero.tensor("a").ints() == [200])
        #expect(try zero.tensor("z").ints() == [])
        // Parsing a Data slice (non-zero startIndex) works.
        let whole = try Self.sampleFile().serialized()
        let slice = (Data([9, 9, 9]) + whole)[3...]
        Self.assertSameContents(try SafeTensorsFile.parse(slice, source: "slice"), try Self.sampleFile())
        // Half precision conversion covers subnormals, infinities and NaN.
        let halves: [UInt16] = [0x0001, 0x8400, 0x7BFF, 0x7C00, 0xFC00, 0x3C00, 0x8000]
        let entry = try SafeTensorsEntry(
            name: "h", dtype: .F16, shape: [halves.count],
            bytes: Data(halves.flatMap { [UInt8($0 & 0xFF), UInt8($0 >> 8)] }))
        let floats = try entry.floats()
        #expect(floats == [0x1p-24, -0x1p-14, 65504, .infinity, -.infinity, 1, -0.0])
        #expect(floats.last!.sign == .minus)
        #expect(SafeTensorsEntry.halfToFloat(0x7E00).isNaN)
    }

    @Test("truncations and random byte corruptions never crash the parser")
    func fuzzCorruptions() throws {
        let valid = try Self.sampleFile().serialized()
        func parseOrReject(_ data: Data) {
            do {
                _ = try SafeTensorsFile.parse(data, source: "fuzz")
            } catch is SafeTensorsError {
            } catch {
                Issue.record("unexpected error type: \(error)")
            }
        }
        for length in 0..<valid.count {
            #expect(throws: SafeTensorsError.self) { try SafeTensorsFile.parse(valid.prefix(length), source: "truncated") }
        }
        var rng = SeededGenerator(state: 7)
        for _ in 0..<300 {
            var corrupted = valid
            let index = Int.random(in: 0..<corrupted.count, using: &rng)
            corrupted[index] = UInt8.random(in: 0...255, using: &rng)
            parseOrReject(corrupted)
        }
        // Corruptions concentrated on the header, where the parser's logic lives.
        let headerEnd = 8 + Int(valid[0]) + Int(valid[1]) << 8
        for _ in 0..<300 {
            var corrupted = valid
            let index = Int.random(in: 0..<headerEnd, using: &rng)
            corrupted[index] = UInt8.random(in: 0...255, using: &rng)
            parseOrReject(corrupted)
        }
    }
}
