/// SplitMix64: a tiny, fully specified random generator, so that shuffles and the built-in
/// corpus are the same for a seed on every platform and Swift version (the stdlib's
/// `Int.random(in:using:)` and `shuffle(using:)` do not promise a stable algorithm).
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public private(set) var state: UInt64

    public init(seed: UInt64) { state = seed }

    /// A generator for one purpose (`stream`) derived from `seed`, e.g. the batch order of an epoch.
    public init(seed: UInt64, stream: UInt64) {
        var g = SeededGenerator(seed: seed ^ 0x5851_f42d_4c95_7f2d)
        state = g.next() ^ (stream &* 0x9e37_79b9_7f4a_7c15)
        _ = next()
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }

    /// Uniform in `0..<n` (Lemire's multiply-shift; the bias is below 2⁻³² for the sizes used here).
    public mutating func below(_ n: Int) -> Int {
        precondition(n > 0)
        return Int(UInt64(n).multipliedFullWidth(by: next()).high)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }

    /// A uniformly chosen element.
    public mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }

    /// Fisher–Yates shuffle.
    public mutating func shuffle<T>(_ items: inout [T]) {
        guard items.count > 1 else { return }
        for i in stride(from: items.count - 1, to: 0, by: -1) {
            items.swapAt(i, below(i + 1))
        }
    }
}
