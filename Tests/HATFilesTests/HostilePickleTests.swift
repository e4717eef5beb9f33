import Foundation
import Testing

@testable import HATFiles

/// Crafted pickles and files that a checkpoint reader meets from a hostile or broken download:
/// each is refused with a clear error (checked by a phrase of it), never run, never a crash.
@Suite("Hostile and malformed pickles")
struct HostilePickleTests {
    /// Pickle opcodes by name, for writing cases by hand.
    enum Op {
        static let proto: [UInt8] = [0x80, 2], stop: [UInt8] = [0x2E], mark: [UInt8] = [0x28], emptyList: [UInt8] = [0x5D]
        static let emptyTuple: [UInt8] = [0x29], emptyDict: [UInt8] = [0x7D], append: [UInt8] = [0x61], reduce: [UInt8] = [0x52]
        static let newobj: [UInt8] = [0x81], tuple: [UInt8] = [0x74], none: [UInt8] = [0x4E], binpersid: [UInt8] = [0x51]
        static func global(_ module: String, _ name: String) -> [UInt8] { [0x63] + Array("\(module)\n\(name)\n".utf8) }
        static func string(_ s: String) -> [UInt8] { [0x8C, UInt8(s.utf8.count)] + Array(s.utf8) }
        static func int(_ i: UInt8) -> [UInt8] { [0x4B, i] }
        static func binint(_ i: Int32) -> [UInt8] { [0x4A] + withUnsafeBytes(of: i.littleEndian) { Array($0) } }
        static func put(_ i: UInt8) -> [UInt8] { [0x71, i] }
        static func get(_ i: UInt8) -> [UInt8] { [0x68, i] }
    }

    /// A persistent id of a 10-element float32 storage, as the zip layout writes it.
    static let storage: [UInt8] =
        Op.mark + Op.string("storage") + Op.global("torch", "FloatStorage") + Op.string("0") + Op.string("cpu") + Op.int(10) + Op.tuple + Op.binpersid

    /// `_rebuild_tensor_v2(storage, offset, size, stride, False, OrderedDict())` with the given numbers.
    static func tensor(offset: Int32, size: [Int32], stride: [Int32]) -> [UInt8] {
        Op.global("torch._utils", "_rebuild_tensor_v2") + Op.mark + storage + Op.binint(offset)
            + Op.mark + size.flatMap(Op.binint) + Op.tuple + Op.mark + stride.flatMap(Op.binint) + Op.tuple
            + [0x89] + Op.global("collections", "OrderedDict") + Op.emptyTuple + Op.reduce + Op.tuple + Op.reduce
    }

    static func load(_ body: [UInt8]) throws -> PickleValue {
        let unpickler = RestrictedUnpickler(file: "case.pt") { pid in
            guard case .tuple(let t) = pid, t.count == 5, t[0].string == "storage" else {
                throw TorchCheckpointError("case.pt", "a persistent id that is not a storage: \(pid)")
            }
            return .storage(TorchStorageReference(key: "0", type: .float32, count: t[4].int ?? 0, view: nil))
        }
        let bytes = Op.proto + body + Op.stop
        return try bytes.withUnsafeBytes { try unpickler.load($0).value }
    }

    static var deepList: [UInt8] { Array(repeating: Op.emptyList, count: 200).flatMap { $0 } + Array(repeating: Op.append, count: 199).flatMap { $0 } }
    static var tupleBomb: [UInt8] {
        // t0 = (); t(k+1) = (tk, tk): 2^40 leaves through the memo, in a few hundred bytes.
        var b = Op.emptyTuple + Op.put(0)
        for _ in 0..<40 { b += Op.get(0) + Op.get(0) + [0x86] + Op.put(0) }
        return b
    }

    static let cases: [(name: String, pickle: [UInt8], error: String)] = [
        ("os.system", Op.global("os", "system") + Op.string("echo pwned") + [0x85] + Op.reduce, "refusing the global os.system"),
        ("posix.system", Op.global("posix", "system"), "refusing the global posix.system"),
        ("subprocess.Popen", Op.global("subprocess", "Popen"), "refusing the global subprocess.Popen"),
        ("builtins.exec", Op.global("builtins", "exec"), "refusing the global builtins.exec"),
        ("builtins.getattr", Op.global("builtins", "getattr"), "refusing the global builtins.getattr"),
        ("STACK_GLOBAL os.system", Op.string("os") + Op.string("system") + [0x93], "refusing the global os.system"),
        ("calling a storage class", Op.global("torch", "FloatStorage") + Op.emptyTuple + Op.reduce, "refusing to call torch.FloatStorage"),
        ("NEWOBJ of a function", Op.global("torch._utils", "_rebuild_tensor_v2") + Op.emptyTuple + Op.newobj, "refusing to create an instance"),
        ("REDUCE of a string", Op.string("os.system") + Op.emptyTuple + Op.reduce, "not an allowed global"),
        ("INST", [0x69] + Array("os\nsystem\n".utf8), "not allowed"),
        ("EXT1", [0x82, 1], "not allowed"),
        ("unknown opcode", [0xFF], "unknown opcode 0xff"),
        ("string longer than the file", [0x58, 0xF0, 0xFF, 0xFF, 0xFF] + Array("abc".utf8), "runs past the end"),
        ("LONG4 longer than the file", [0x8B, 0xFF, 0xFF, 0xFF, 0x7F, 1, 2], "runs past the end"),
        ("BINBYTES8 of 2^63", [0x8E, 0, 0, 0, 0, 0, 0, 0, 0x80], "runs past the end"),
        ("memo entry never stored", Op.get(7), "never stored"),
        ("nesting 200 deep", deepList, "nested more than 100 deep"),
        ("a list inside itself", Op.emptyList + Op.put(0) + Op.get(0) + Op.append, "contains itself"),
        ("tuples shared 2^40 times", tupleBomb, "too many times"),
        ("APPEND to a dict", Op.emptyDict + Op.int(1) + Op.append, "not a list"),
        ("POP of an empty stack", [0x30], "stack is empty"),
        ("SETITEMS with an odd count", Op.emptyDict + Op.mark + Op.int(1) + [0x75], "odd number"),
        ("tensor with a negative stride", tensor(offset: 0, size: [2, 2], stride: [-2, 1]), "negative"),
        ("tensor view past its storage", tensor(offset: 0, size: [4, 4], stride: [4, 1]), "reaches element 15 of a storage of 10"),
        ("tensor offset past its storage", tensor(offset: 12, size: [1], stride: [1]), "reaches element 12"),
        ("tensor size overflowing", tensor(offset: 0, size: [Int32.max, Int32.max, Int32.max], stride: [0, 0, 0]), "more elements than can be counted"),
        ("persistent id that is not a storage", Op.string("os.system") + Op.binpersid, "not a storage"),
    ]

    @Test("crafted pickles are refused with a clear error", arguments: cases.map { ($0.name, $0.pickle, $0.error) })
    func refused(_ name: String, _ pickle: [UInt8], _ phrase: String) {
        let error = #expect(throws: TorchCheckpointError.self, "\(name)") { _ = try Self.load(pickle) }
        #expect(error?.description.contains(phrase) == true, "\(name): \(String(describing: error))")
        #expect(error?.description.hasPrefix("case.pt") == true, "the error names the file")
    }

    @Test("a pickle without its STOP is a truncated file")
    func truncated() {
        let unpickler = RestrictedUnpickler(file: "case.pt") { _ in .none }
        let error = #expect(throws: TorchCheckpointError.self) { _ = try (Op.proto + Op.emptyList).withUnsafeBytes { try unpickler.load($0) } }
        #expect(error?.description.contains("truncated") == true)
    }

    @Test("a list shared many times over is read once, not expanded")
    func sharedListsAreFine() throws {
        var b = Op.emptyList + Op.put(0)
        for _ in 0..<60 { b += Op.mark + Op.get(0) + Op.get(0) + [0x6C] + Op.put(0) }
        guard case .list(let top) = try Self.load(b) else {
            Issue.record("not a list")
            return
        }
        #expect(top.items.count == 2)
    }

    @Test("files that are not checkpoints, or damaged ones, are refused naming the file")
    func notCheckpoints() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("hat-hostile-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        // The legacy layout's five pickles, with `object` and `keys`, then one float32 storage of two elements.
        func legacy(
            magic: [UInt8] = RestrictedUnpicklerMagic.bytes, protocolVersion: [UInt8] = [0x4D, 0xE9, 0x03], object: [UInt8],
            keys: [UInt8], storages: [UInt8]
        ) -> [UInt8] {
            (Op.proto + [0x8A, UInt8(magic.count)] + magic + Op.stop) + (Op.proto + protocolVersion + Op.stop)
                + (Op.proto + Op.emptyDict + Op.stop) + (Op.proto + object + Op.stop) + (Op.proto + keys + Op.stop) + storages
        }
        let storageID =
            Op.mark + Op.string("storage") + Op.global("torch", "FloatStorage") + Op.string("7") + Op.string("cpu") + Op.int(2) + Op.none + Op.tuple
            + Op.binpersid
        let keys = Op.mark + Op.string("7") + [0x6C]
        let twoFloats: [UInt8] = [2, 0, 0, 0, 0, 0, 0, 0] + [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40]
        let good = legacy(object: storageID, keys: keys, storages: twoFloats)
        let files: [(name: String, bytes: [UInt8], phrase: String)] = [
            ("empty.pt", [], "empty file"),
            ("text.pt", Array("hello, world\n".utf8), "not a PyTorch checkpoint"),
            ("wrongmagic.pt", legacy(magic: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10], object: storageID, keys: keys, storages: twoFloats), "not a PyTorch checkpoint"),
            ("version.pt", legacy(protocolVersion: [0x4D, 0xE8, 0x03], object: storageID, keys: keys, storages: twoFloats), "protocol version 1000"),
            ("truncated.pt", Array(good.dropLast(3)), "truncated"),
            (
                "count.pt", legacy(object: storageID, keys: keys, storages: [3, 0, 0, 0, 0, 0, 0, 0] + twoFloats.dropFirst(8)),
                "3 elements in the file, 2 in the object"
            ),
            ("unlisted.pt", legacy(object: storageID, keys: Op.emptyList, storages: []), "used but not in the file"),
            ("zipnopickle.pt", [0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 40), "end-of-central-directory"),
        ]
        for f in files {
            let path = dir.appendingPathComponent(f.name).path
            try Data(f.bytes).write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: TorchCheckpointError.self, "\(f.name)") { _ = try TorchCheckpointFile(path: path) }
            #expect(error?.description.contains(f.phrase) == true, "\(f.name): \(String(describing: error))")
            #expect(error?.file == path)
        }
        // And the well-formed one reads.
        let path = dir.appendingPathComponent("good.pt").path
        try Data(good).write(to: URL(fileURLWithPath: path))
        let checkpoint = try TorchCheckpointFile(path: path)
        guard case .storage(let s) = checkpoint.object else {
            Issue.record("not a storage: \(checkpoint.object)")
            return
        }
        #expect(try checkpoint.floats(TorchTensorReference(storage: s, offset: 0, shape: [2], strides: [1])) == [1, 2])
    }
}

/// The legacy stream's magic number, for building files by hand.
enum RestrictedUnpicklerMagic {
    static let bytes = TorchCheckpointFile.legacyMagic
}
