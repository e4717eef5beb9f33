import Foundation

/// subword-nmt's word cache (word → its segmentation) keyed by the word's UTF-8 bytes: an
/// open-addressing table over two byte arenas, so that a cached word costs one hash and one
/// memcmp and no String is made (a Dictionary<String, String> lookup per word was most of
/// `SubwordBPE.processLine`'s time). Bytes compare as Python compares code points.
struct BPEWordCache: Sendable {
    private struct Entry: Sendable {
        var hash: UInt64
        var keyStart: Int32, keyCount: Int32
        var valueStart: Int32, valueCount: Int32
    }

    private var slots: [Int32]  // entry index, or -1; a power of two long
    private var entries: [Entry] = []
    private var keys: [UInt8] = []
    private var values: [UInt8] = []

    init() { slots = Array(repeating: -1, count: 1024) }

    /// FNV-1a, 64 bits.
    @inline(__always)
    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf29ce484222325
        for b in bytes { h = (h ^ UInt64(b)) &* 0x100000001b3 }
        return h
    }

    /// Appends the cached segmentation of `word` to `out`; false when it is not cached.
    @inline(__always)
    func append(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, to out: inout [UInt8]) -> Bool {
        let found: Entry? = slots.withUnsafeBufferPointer { slots in
            entries.withUnsafeBufferPointer { entries in
                keys.withUnsafeBufferPointer { keys in
                    let mask = slots.count - 1
                    var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
                    while true {
                        let index = Int(slots[slot])
                        if index < 0 { return nil }
                        let entry = entries[index]
                        if entry.hash == hash && Int(entry.keyCount) == word.count
                            && memcmp(keys.baseAddress! + Int(entry.keyStart), word.baseAddress!, word.count) == 0
                        {
                            return entry
                        }
                        slot = (slot + 1) & mask
                    }
                }
            }
        }
        guard let entry = found else { return false }
        values.withUnsafeBufferPointer {
            out.append(contentsOf: UnsafeBufferPointer(start: $0.baseAddress! + Int(entry.valueStart), count: Int(entry.valueCount)))
        }
        return true
    }

    /// Adds `word` (not yet cached) with its segmentation.
    mutating func insert(_ word: UnsafeBufferPointer<UInt8>, hash: UInt64, segmentation value: UnsafeBufferPointer<UInt8>) {
        if (entries.count + 1) * 2 > slots.count { grow() }
        let index = Int32(entries.count)
        entries.append(
            Entry(
                hash: hash, keyStart: Int32(keys.count), keyCount: Int32(word.count),
                valueStart: Int32(values.count), valueCount: Int32(value.count)))
        keys.append(contentsOf: word)
        values.append(contentsOf: value)
        place(index, hash: hash)
    }

    private mutating func place(_ index: Int32, hash: UInt64) {
        let mask = slots.count - 1
        var slot = Int(truncatingIfNeeded: hash ^ (hash >> 29)) & mask
        while slots[slot] >= 0 { slot = (slot + 1) & mask }
        slots[slot] = index
    }

    private mutating func grow() {
        slots = Array(repeating: -1, count: slots.count * 2)
        for (i, e) in entries.enumerated() { place(Int32(i), hash: e.hash) }
    }
}
