import Foundation

/// A pickle reader that builds plain data and never runs anything (hat-reference: HAT's and
/// fairseq's checkpoints are pickles; Python's own unpickler would import and call whatever a file
/// names, so a downloaded checkpoint could run any code).
///
/// It knows the opcodes of protocols 0–5 that state dicts and fairseq checkpoints use, and an
/// allow-list of globals, each of which it *interprets* itself: OrderedDict, the tensor rebuild
/// functions (a `TorchTensorReference`), the storage classes (only as the type of a persistent
/// id), argparse.Namespace and fairseq's meters (plain attribute data). Any other global is refused
/// with an error naming it. Sizes are checked against the bytes that are there, nesting is
/// limited, and self-referencing data is refused.
struct RestrictedUnpickler {
    /// The file named in errors.
    let file: String
    /// Turns a persistent id (the pickle's reference to a storage) into a value.
    let persistentLoad: (PickleValue) throws -> PickleValue

    /// How deep lists, dicts and objects may nest: a state dict is 3 deep, fairseq's checkpoints
    /// about 6; the limit keeps traversal and release of hostile data off the call stack's edge.
    static let maximumDepth = 100

    /// Classes whose instances are read as their attributes (created by NEWOBJ, filled by BUILD).
    static let dataClasses: Set<PickleGlobal> = [
        PickleGlobal(module: "argparse", name: "Namespace"),
        PickleGlobal(module: "fairseq.meters", name: "AverageMeter"),
        PickleGlobal(module: "fairseq.meters", name: "StopwatchMeter"),
        PickleGlobal(module: "fairseq.meters", name: "TimeMeter"),
        PickleGlobal(module: "fairseq.logging.meters", name: "AverageMeter"),
        PickleGlobal(module: "fairseq.logging.meters", name: "StopwatchMeter"),
        PickleGlobal(module: "fairseq.logging.meters", name: "TimeMeter"),
        PickleGlobal(module: "fairseq.logging.meters", name: "MetersDict"),
    ]

    static let orderedDict = PickleGlobal(module: "collections", name: "OrderedDict")
    static let rebuildTensorV2 = PickleGlobal(module: "torch._utils", name: "_rebuild_tensor_v2")
    static let rebuildTensor = PickleGlobal(module: "torch._utils", name: "_rebuild_tensor")
    static let rebuildParameter = PickleGlobal(module: "torch._utils", name: "_rebuild_parameter")
    static let reconstructor = PickleGlobal(module: "copyreg", name: "_reconstructor")
    static let codecsEncode = PickleGlobal(module: "_codecs", name: "encode")
    static let builtinObject = PickleGlobal(module: "builtins", name: "object")

    static func isAllowed(_ g: PickleGlobal) -> Bool {
        if dataClasses.contains(g) { return true }
        if g.module == "torch", TorchScalarType(rawValue: g.name) != nil { return true }
        return [orderedDict, rebuildTensorV2, rebuildTensor, rebuildParameter, reconstructor, codecsEncode, builtinObject].contains(g)
    }

    /// Reads one pickle starting at `start`; returns its value and the offset after its STOP.
    func load(_ bytes: UnsafeRawBufferPointer, from start: Int = 0) throws -> (value: PickleValue, end: Int) {
        var machine = Machine(unpickler: self, bytes: bytes, position: start)
        do {
            let value = try machine.run()
            try machine.checkNesting(value)
            return (value, machine.position)
        } catch {
            machine.releaseContainers()
            throw error
        }
    }

    func fail(_ reason: String) -> TorchCheckpointError { TorchCheckpointError(file, reason) }
}

extension RestrictedUnpickler {
    /// The pickle virtual machine: a stack, a mark stack and a memo.
    fileprivate struct Machine {
        let unpickler: RestrictedUnpickler
        let bytes: UnsafeRawBufferPointer
        var position: Int
        var stack: [PickleValue] = []
        var marks: [Int] = []
        var memo: [Int: PickleValue] = [:]
        /// Every container made, so that hostile nesting can be taken apart without recursion.
        var containers: [AnyObject] = []

        init(unpickler: RestrictedUnpickler, bytes: UnsafeRawBufferPointer, position: Int) {
            self.unpickler = unpickler
            self.bytes = bytes
            self.position = position
        }

        func fail(_ reason: String) -> TorchCheckpointError {
            unpickler.fail("pickle at byte \(position): \(reason)")
        }

        // MARK: reading the stream

        mutating func byte() throws -> UInt8 {
            guard position < bytes.count else { throw fail("the pickle ends before its STOP opcode (truncated file)") }
            defer { position += 1 }
            return bytes[position]
        }

        mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
            guard n >= 0, n <= bytes.count - position else {
                throw fail("a length of \(n) bytes runs past the end of the data (\(bytes.count - position) left)")
            }
            defer { position += n }
            return UnsafeRawBufferPointer(rebasing: bytes[position..<(position + n)])
        }

        mutating func unsigned(_ n: Int) throws -> UInt64 {
            let b = try take(n)
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
            return v
        }

        /// A length field, as an Int that fits in what is left of the data.
        mutating func length(_ n: Int) throws -> Int {
            let v = try unsigned(n)
            guard v <= UInt64(bytes.count - position) else {
                throw fail("a length of \(v) bytes runs past the end of the data (\(bytes.count - position) left)")
            }
            return Int(v)
        }

        mutating func line() throws -> String {
            guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("a text argument has no end of line (truncated file)") }
            defer { position = end + 1 }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[position..<end]), as: UTF8.self)
        }

        // MARK: the stack

        mutating func pop() throws -> PickleValue {
            guard let v = stack.popLast(), stack.count >= (marks.last ?? 0) else { throw fail("the stack is empty (malformed pickle)") }
            return v
        }

        mutating func popMark() throws -> [PickleValue] {
            guard let m = marks.popLast(), m <= stack.count else { throw fail("no MARK for this opcode (malformed pickle)") }
            defer { stack.removeSubrange(m...) }
            return Array(stack[m...])
        }

        mutating func top() throws -> PickleValue {
            guard let v = stack.last, stack.count > (marks.last ?? 0) else { throw fail("the stack is empty (malformed pickle)") }
            return v
        }

        mutating func push(_ v: PickleValue) throws {
            guard stack.count < 1 << 22 else { throw fail("more than 4 million values on the stack") }
            stack.append(v)
        }

        mutating func newList(_ items: [PickleValue] = []) -> PickleValue {
            let l = PickleList(items)
            containers.append(l)
            return .list(l)
        }

        mutating func newDict() -> PickleDict {
            let d = PickleDict()
            containers.append(d)
            return d
        }

        mutating func newObject(_ type: PickleGlobal) -> PickleValue {
            let o = PickleObject(type: type)
            containers.append(o)
            return .object(o)
        }

        // MARK: running

        mutating func run() throws -> PickleValue {
            while true {
                let op = try byte()
                switch op {
                case 0x80: _ = try byte()  // PROTO n
                case 0x95: _ = try take(8)  // FRAME: a length hint only
                case 0x2E: return try pop()  // STOP
                case 0x28: marks.append(stack.count)  // MARK
                case 0x30: _ = try pop()  // POP
                case 0x31: _ = try popMark()  // POP_MARK
                case 0x32: try push(try top())  // DUP
                // Numbers
                case 0x4A: try push(.int(Int(Int32(bitPattern: UInt32(try unsigned(4))))))  // BININT
                case 0x4B: try push(.int(Int(try byte())))  // BININT1
                case 0x4D: try push(.int(Int(try unsigned(2))))  // BININT2
                case 0x8A: try push(try long(Int(try byte())))  // LONG1
                case 0x8B: try push(try long(try length(4)))  // LONG4
                case 0x47:  // BINFLOAT, big-endian
                    let b = try take(8)
                    var v: UInt64 = 0
                    for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
                    try push(.float(Double(bitPattern: v)))
                case 0x49:  // INT (text; "01"/"00" are True/False)
                    let text = try line()
                    if text == "01" || text == "00" {
                        try push(.bool(text == "01"))
                        break
                    }
                    guard let v = Int(text) else { throw fail("INT argument '\(text.prefix(40))' is not an integer") }
                    try push(.int(v))
                case 0x4C:  // LONG (text)
                    let text = try line()
                    guard let v = Int(text.hasSuffix("L") ? String(text.dropLast()) : text) else {
                        throw fail("LONG argument '\(text.prefix(40))' is not a 64-bit integer")
                    }
                    try push(.int(v))
                case 0x46:  // FLOAT (text)
                    let text = try line()
                    guard let v = Double(text) else { throw fail("FLOAT argument '\(text.prefix(40))' is not a number") }
                    try push(.float(v))
                case 0x4E: try push(.none)
                case 0x88: try push(.bool(true))
                case 0x89: try push(.bool(false))
                // Strings and bytes
                case 0x58: try push(.string(try text(try length(4))))  // BINUNICODE
                case 0x8C: try push(.string(try text(Int(try byte()))))  // SHORT_BINUNICODE
                case 0x8D: try push(.string(try text(try length(8))))  // BINUNICODE8
                case 0x54:  // BINSTRING (Python 2 str, signed length)
                    let n = Int32(bitPattern: UInt32(try unsigned(4)))
                    guard n >= 0 else { throw fail("BINSTRING has a negative length \(n)") }
                    try push(.string(try legacyText(Int(n))))
                case 0x55: try push(.string(try legacyText(Int(try byte()))))  // SHORT_BINSTRING
                case 0x42: try push(.bytes(Array(try take(try length(4)))))  // BINBYTES
                case 0x43: try push(.bytes(Array(try take(Int(try byte())))))  // SHORT_BINBYTES
                case 0x8E, 0x96: try push(.bytes(Array(try take(try length(8)))))  // BINBYTES8, BYTEARRAY8
                // Containers
                case 0x29: try push(.tuple([]))  // EMPTY_TUPLE
                case 0x74: try push(.tuple(try popMark()))  // TUPLE
                case 0x85: try push(.tuple([try pop()]))  // TUPLE1
                case 0x86:  // TUPLE2
                    let b = try pop(), a = try pop()
                    try push(.tuple([a, b]))
                case 0x87:  // TUPLE3
                    let c = try pop(), b = try pop(), a = try pop()
                    try push(.tuple([a, b, c]))
                case 0x5D: try push(newList())  // EMPTY_LIST
                case 0x6C:
                    let items = try popMark()
                    try push(newList(items))  // LIST
                case 0x61:  // APPEND
                    let v = try pop()
                    guard case .list(let l) = try top() else { throw fail("APPEND to something that is not a list") }
                    l.items.append(v)
                case 0x65:  // APPENDS
                    let items = try popMark()
                    guard case .list(let l) = try top() else { throw fail("APPENDS to something that is not a list") }
                    l.items.append(contentsOf: items)
                case 0x7D: try push(.dict(newDict()))  // EMPTY_DICT
                case 0x64:  // DICT
                    let items = try popMark()
                    let d = newDict()
                    try setItems(d, items)
                    try push(.dict(d))
                case 0x73:  // SETITEM
                    let v = try pop(), k = try pop()
                    guard case .dict(let d) = try top() else { throw fail("SETITEM on something that is not a dict") }
                    d.set(k, v)
                case 0x75:  // SETITEMS
                    let items = try popMark()
                    guard case .dict(let d) = try top() else { throw fail("SETITEMS on something that is not a dict") }
                    try setItems(d, items)
                case 0x8F: try push(newList())  // EMPTY_SET, read as a list
                case 0x90:  // ADDITEMS
                    let items = try popMark()
                    guard case .list(let l) = try top() else { throw fail("ADDITEMS to something that is not a set") }
                    l.items.append(contentsOf: items)
                case 0x91:
                    let items = try popMark()
                    try push(newList(items))  // FROZENSET, read as a list
                // Memo
                case 0x71: memo[Int(try byte())] = try top()  // BINPUT
                case 0x72: memo[Int(try unsigned(4))] = try top()  // LONG_BINPUT
                case 0x94: memo[memo.count] = try top()  // MEMOIZE
                case 0x70:  // PUT (text)
                    let text = try line()
                    guard let i = Int(text) else { throw fail("PUT argument '\(text.prefix(40))' is not an index") }
                    memo[i] = try top()
                case 0x68: try push(try recall(Int(try byte())))  // BINGET
                case 0x6A: try push(try recall(Int(try unsigned(4))))  // LONG_BINGET
                case 0x67:  // GET (text)
                    let text = try line()
                    guard let i = Int(text) else { throw fail("GET argument '\(text.prefix(40))' is not an index") }
                    try push(try recall(i))
                // Globals, calls and objects: only what the allow-list interprets.
                case 0x63:  // GLOBAL "module\nname\n"
                    let module = try line(), name = try line()
                    try push(try global(PickleGlobal(module: module, name: name)))
                case 0x93:  // STACK_GLOBAL
                    let name = try pop(), module = try pop()
                    guard case .string(let n) = name, case .string(let m) = module else { throw fail("STACK_GLOBAL needs two strings") }
                    try push(try global(PickleGlobal(module: m, name: n)))
                case 0x52:  // REDUCE
                    let args = try pop(), callable = try pop()
                    try push(try reduce(callable, args))
                case 0x81:  // NEWOBJ
                    let args = try pop(), cls = try pop()
                    try push(try newObject(cls, args))
                case 0x92:  // NEWOBJ_EX
                    _ = try pop()
                    let args = try pop(), cls = try pop()
                    try push(try newObject(cls, args))
                case 0x62:  // BUILD
                    let state = try pop()
                    try build(try top(), state)
                case 0x51:  // BINPERSID
                    let pid = try pop()
                    try push(try unpickler.persistentLoad(pid))
                case 0x50: throw fail("text persistent ids (PERSID) are not used by PyTorch checkpoints")
                case 0x69, 0x6F: throw fail("protocol-0 class instantiation (INST/OBJ) is not allowed")
                case 0x82, 0x83, 0x84: throw fail("extension-registry opcodes (EXT1/2/4) are not allowed")
                case 0x97, 0x98: throw fail("out-of-band buffers (NEXT_BUFFER/READONLY_BUFFER) are not supported")
                default: throw fail(String(format: "unknown opcode 0x%02x (not a pickle, or a newer protocol)", op))
                }
            }
        }

        mutating func text(_ n: Int) throws -> String {
            let b = try take(n)
            guard let s = String(bytes: b, encoding: .utf8) else { throw fail("a string is not valid UTF-8") }
            return s
        }

        /// Python 2 `str` (torch ≤ 1.5 written from Python 2): UTF-8 where it is, else Latin-1.
        mutating func legacyText(_ n: Int) throws -> String {
            let b = try take(n)
            return String(bytes: b, encoding: .utf8) ?? String(b.map { Character(Unicode.Scalar($0)) })
        }

        mutating func long(_ n: Int) throws -> PickleValue {
            guard n <= 1 << 20 else { throw fail("an integer of \(n) bytes") }
            let b = Array(try take(n))
            if n == 0 { return .int(0) }
            if n > 8 { return .bigInt(b) }
            var v: UInt64 = 0
            for i in (0..<n).reversed() { v = v << 8 | UInt64(b[i]) }
            if n < 8 && b[n - 1] & 0x80 != 0 { v |= ~0 << UInt64(8 * n) }  // sign-extend
            return .int(Int(Int64(bitPattern: v)))
        }

        func recall(_ i: Int) throws -> PickleValue {
            guard let v = memo[i] else { throw fail("memo entry \(i) was never stored (malformed pickle)") }
            return v
        }

        func setItems(_ d: PickleDict, _ items: [PickleValue]) throws {
            guard items.count % 2 == 0 else { throw fail("an odd number of items for a dict") }
            for i in stride(from: 0, to: items.count, by: 2) { d.set(items[i], items[i + 1]) }
        }

        func global(_ g: PickleGlobal) throws -> PickleValue {
            guard RestrictedUnpickler.isAllowed(g) else {
                throw fail(
                    "refusing the global \(g): a checkpoint may only name tensors, storages, OrderedDict, argparse.Namespace and fairseq's meters (nothing in a checkpoint is ever run)"
                )
            }
            return .global(g)
        }

        mutating func reduce(_ callable: PickleValue, _ args: PickleValue) throws -> PickleValue {
            guard case .global(let g) = callable else { throw fail("REDUCE of something that is not an allowed global") }
            guard case .tuple(let a) = args else { throw fail("REDUCE of \(g) without an argument tuple") }
            switch g {
            case RestrictedUnpickler.orderedDict:
                let d = newDict()
                if let pairs = a.first?.elements {
                    for p in pairs {
                        guard let kv = p.elements, kv.count == 2 else { throw fail("OrderedDict items that are not pairs") }
                        d.set(kv[0], kv[1])
                    }
                }
                return .dict(d)
            case RestrictedUnpickler.rebuildTensorV2, RestrictedUnpickler.rebuildTensor:
                return .tensor(try tensor(a, g))
            case RestrictedUnpickler.rebuildParameter:
                guard let data = a.first, case .tensor = data else { throw fail("_rebuild_parameter without a tensor") }
                return data
            case RestrictedUnpickler.reconstructor:
                guard a.count == 3, case .global(let cls) = a[0], RestrictedUnpickler.dataClasses.contains(cls) else {
                    throw fail("copyreg._reconstructor of a class that is not allowed")
                }
                return newObject(cls)
            case RestrictedUnpickler.codecsEncode:
                guard a.count == 2, case .string(let s) = a[0], a[1].string == "latin1" else { throw fail("_codecs.encode with unexpected arguments") }
                return .bytes(s.unicodeScalars.map { UInt8(truncatingIfNeeded: $0.value) })
            default:
                throw fail("refusing to call \(g): it is not a function this reader interprets")
            }
        }

        mutating func newObject(_ cls: PickleValue, _ args: PickleValue) throws -> PickleValue {
            guard case .global(let g) = cls else { throw fail("NEWOBJ of something that is not an allowed class") }
            if g == RestrictedUnpickler.orderedDict { return .dict(newDict()) }
            guard RestrictedUnpickler.dataClasses.contains(g) else { throw fail("refusing to create an instance of \(g)") }
            return newObject(g)
        }

        func build(_ target: PickleValue, _ state: PickleValue) throws {
            // State is a dict of attributes, or (dict, slots dict) with either part None.
            var parts: [PickleDict] = []
            switch state {
            case .dict(let d): parts = [d]
            case .tuple(let t) where t.count == 2:
                for p in t { if case .dict(let d) = p { parts.append(d) } else if case .none = p {} else { throw fail("BUILD state of an unexpected kind") } }
            case .none: return
            default: throw fail("BUILD state of an unexpected kind")
            }
            switch target {
            case .object(let o): for d in parts { for (k, v) in d.items { o.attributes.set(key(k), v) } }
            case .dict(let d): for p in parts { for (k, v) in p.items { d.attributes[k.description] = v } }
            case .tensor: return  // tensor state (hooks, names) is not needed
            default: throw fail("BUILD on a value that is not an object")
            }
        }

        func key(_ k: PickleKey) -> PickleValue {
            switch k {
            case .string(let s): return .string(s)
            case .int(let i): return .int(i)
            case .other(let s): return .string(s)
            }
        }

        /// `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`.
        func tensor(_ a: [PickleValue], _ g: PickleGlobal) throws -> TorchTensorReference {
            guard a.count >= 4, case .storage(let storage) = a[0], let offset = a[1].int,
                let shape = a[2].elements?.map(\.int), let strides = a[3].elements?.map(\.int)
            else {
                throw fail("\(g) with arguments that are not (storage, offset, size, stride)")
            }
            let sizes = shape.compactMap { $0 }, steps = strides.compactMap { $0 }
            guard sizes.count == shape.count, steps.count == strides.count, sizes.count == steps.count else {
                throw fail("a tensor's size and stride are not two integer tuples of one length")
            }
            guard sizes.count <= 16 else { throw fail("a tensor of \(sizes.count) dimensions") }
            guard offset >= 0, sizes.allSatisfy({ $0 >= 0 }), steps.allSatisfy({ $0 >= 0 }) else {
                throw fail("a tensor with a negative offset, size or stride (offset \(offset), size \(sizes), stride \(steps))")
            }
            var count = 1, last = offset
            for (s, t) in zip(sizes, steps) {
                let (c, o1) = count.multipliedReportingOverflow(by: s)
                guard !o1 else { throw fail("a tensor of size \(sizes) has more elements than can be counted") }
                count = c
                if s > 0 {
                    let (span, o2) = (s - 1).multipliedReportingOverflow(by: t)
                    let (l, o3) = last.addingReportingOverflow(span)
                    guard !o2, !o3 else { throw fail("a tensor view of size \(sizes) and stride \(steps) overflows") }
                    last = l
                }
            }
            let t = TorchTensorReference(storage: storage, offset: offset, shape: sizes, strides: steps)
            if count > 0 && last >= storage.count {
                throw fail("a tensor view (offset \(offset), size \(sizes), stride \(steps)) reaches element \(last) of a storage of \(storage.count)")
            }
            return t
        }

        // MARK: nesting

        /// Refuses data nested deeper than `maximumDepth` or containing itself. An explicit stack
        /// (hostile data must not recurse on the call stack); a container already checked is not
        /// walked again unless reached at a greater depth (a list shared many times over).
        func checkNesting(_ root: PickleValue) throws {
            var pending: [(value: PickleValue, depth: Int)] = [(root, 1)]
            var onPath = Set<ObjectIdentifier>()
            var checkedAt: [ObjectIdentifier: Int] = [:]
            var exits: [(id: ObjectIdentifier, depth: Int, mark: Int)] = []  // left when pending shrinks below mark
            func children(_ v: PickleValue) -> (AnyObject, [PickleValue])? {
                switch v {
                case .list(let l): return (l, l.items)
                case .dict(let d): return (d, d.items.map(\.value) + Array(d.attributes.values))
                case .object(let o): return (o, o.attributes.items.map(\.value))
                default: return nil
                }
            }
            let tooDeep = fail("data nested more than \(RestrictedUnpickler.maximumDepth) deep")
            var steps = 0
            while true {
                steps += 1
                guard steps <= 20_000_000 else { throw fail("data that shares its parts too many times over (more than 20 million to check)") }
                while let last = exits.last, pending.count < last.mark {
                    onPath.remove(last.id)
                    checkedAt[last.id] = Swift.min(checkedAt[last.id] ?? .max, last.depth)
                    exits.removeLast()
                }
                guard let (v, depth) = pending.popLast() else { break }
                if case .tuple(let t) = v {
                    guard depth <= RestrictedUnpickler.maximumDepth else { throw tooDeep }
                    pending.append(contentsOf: t.map { ($0, depth + 1) })
                    continue
                }
                guard let (object, items) = children(v) else { continue }
                guard depth <= RestrictedUnpickler.maximumDepth else { throw tooDeep }
                let id = ObjectIdentifier(object)
                guard !onPath.contains(id) else { throw fail("data that contains itself") }
                if let d = checkedAt[id], d <= depth { continue }
                onPath.insert(id)
                exits.append((id, depth, pending.count + 1))
                pending.append(contentsOf: items.map { ($0, depth + 1) })
            }
        }

        /// Empties every container, one at a time, so that releasing hostile nesting does not recurse.
        func releaseContainers() {
            for c in containers {
                if let l = c as? PickleList { l.items.removeAll() }
                if let d = c as? PickleDict { d.removeAll() }
                if let o = c as? PickleObject { o.attributes.removeAll() }
            }
        }
    }
}
