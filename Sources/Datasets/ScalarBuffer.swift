/// A growable code-point buffer without Swift arrays' per-append checks, for the text passes of
/// the Moses tokenizer (a dozen passes per line; `Array.append`'s uniqueness and capacity checks
/// were a third of its time). A pass reserves its worst-case output size first, then appends
/// without checks. The owner frees it (`deallocate`); it is never copied.
struct ScalarBuffer {
    private(set) var base: UnsafeMutablePointer<UInt32>
    var count = 0
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = max(capacity, 16)
        base = .allocate(capacity: self.capacity)
    }

    func deallocate() { base.deallocate() }

    /// Room for `n` code points in total (the contents are kept).
    mutating func reserve(_ n: Int) {
        guard n > capacity else { return }
        let bigger = UnsafeMutablePointer<UInt32>.allocate(capacity: n * 2)
        bigger.update(from: base, count: count)
        base.deallocate()
        base = bigger
        capacity = n * 2
    }

    /// Empties the buffer and makes room for `n`.
    @inline(__always)
    mutating func reset(reserving n: Int) {
        count = 0
        reserve(n)
    }

    @inline(__always)
    mutating func append(_ c: UInt32) {
        base[count] = c
        count += 1
    }

    @inline(__always)
    mutating func append(_ a: UInt32, _ b: UInt32, _ c: UInt32) {
        base[count] = a
        base[count + 1] = b
        base[count + 2] = c
        count += 3
    }

    @inline(__always)
    mutating func append(contentsOf s: UnsafeBufferPointer<UInt32>) {
        (base + count).update(from: s.baseAddress!, count: s.count)
        count += s.count
    }

    @inline(__always)
    mutating func append(from other: UnsafeMutablePointer<UInt32>, _ range: Range<Int>) {
        (base + count).update(from: other + range.lowerBound, count: range.count)
        count += range.count
    }

    @inline(__always)
    subscript(i: Int) -> UInt32 {
        get { base[i] }
        nonmutating set { base[i] = newValue }
    }

    /// The contents as a String (UTF-8 encoded once).
    func string() -> String {
        String(unsafeUninitializedCapacity: count * 4) { out in
            var n = 0
            for i in 0..<count {
                let c = base[i]
                if c < 0x80 {
                    out[n] = UInt8(c)
                    n += 1
                } else if c < 0x800 {
                    out[n] = UInt8(0xC0 | (c >> 6))
                    out[n + 1] = UInt8(0x80 | (c & 0x3F))
                    n += 2
                } else if c < 0x10000 {
                    out[n] = UInt8(0xE0 | (c >> 12))
                    out[n + 1] = UInt8(0x80 | ((c >> 6) & 0x3F))
                    out[n + 2] = UInt8(0x80 | (c & 0x3F))
                    n += 3
                } else {
                    out[n] = UInt8(0xF0 | (c >> 18))
                    out[n + 1] = UInt8(0x80 | ((c >> 12) & 0x3F))
                    out[n + 2] = UInt8(0x80 | ((c >> 6) & 0x3F))
                    out[n + 3] = UInt8(0x80 | (c & 0x3F))
                    n += 4
                }
            }
            return n
        }
    }
}
