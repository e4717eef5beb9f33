/// A fixed-size open-addressing hash table from UInt64 keys to Int64 values, for the lookups in
/// BPE's inner loop (symbol pairs → rank and merge result; characters → symbol ids). Swift's
/// Dictionary hashes with SipHash, which cost more than the rest of a word's segmentation;
/// these keys are already well spread ids, so one multiply mixes them enough.
struct UInt64Table: Sendable {
    private static let empty = UInt64.max
    private var keys: [UInt64]
    private var values: [Int64]
    private let shift: UInt64
    private(set) var count = 0

    /// Room for `capacity` entries at most half full.
    init(capacity: Int) {
        var size = 16, bits: UInt64 = 4
        while size < capacity * 2 {
            size *= 2
            bits += 1
        }
        keys = Array(repeating: Self.empty, count: size)
        values = Array(repeating: 0, count: size)
        shift = 64 - bits
    }

    @inline(__always)
    private func slot(_ key: UInt64) -> Int { Int(truncatingIfNeeded: (key &* 0x9E37_79B9_7F4A_7C15) >> shift) }

    /// The value of `key`, or nil. `key` must not be UInt64.max.
    @inline(__always)
    func value(_ key: UInt64) -> Int64? {
        keys.withUnsafeBufferPointer { keys in
            let mask = keys.count - 1
            var i = slot(key)
            while true {
                let k = keys[i]
                if k == key { return values[i] }
                if k == Self.empty { return nil }
                i = (i + 1) & mask
            }
        }
    }

    /// Sets `key` to `value` unless it is present; returns whether it was added.
    @discardableResult
    mutating func insertIfAbsent(_ key: UInt64, _ value: Int64) -> Bool {
        precondition(key != Self.empty && count * 2 < keys.count, "UInt64Table: full or reserved key")
        let mask = keys.count - 1
        var i = slot(key)
        while keys[i] != Self.empty {
            if keys[i] == key { return false }
            i = (i + 1) & mask
        }
        keys[i] = key
        values[i] = value
        count += 1
        return true
    }
}
