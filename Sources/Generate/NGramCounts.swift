/// N-gram counting without building n-gram strings: every n-gram gets an integer id by
/// interning the pair (id of its first n−1 items, its last item), so counting all orders of a
/// line of L items costs L × maxOrder dictionary look-ups of two integers and nothing else.
///
/// Ids mean something only within one interner; the hypothesis and references of a segment
/// share one, so equal n-grams (equal code point by code point, as Python compares strings)
/// get equal ids.
struct NGramInterner {
    private struct Key: Hashable {
        let prefix: Int
        let last: Int
    }
    private var ids: [Key: Int] = [:]
    /// The order (length) of each n-gram id.
    private(set) var orders: [Int] = []

    /// The id of the n-gram `prefix` (an id, or −1 for none) followed by `last`.
    mutating func id(prefix: Int, last: Int, order: Int) -> Int {
        let key = Key(prefix: prefix, last: last)
        if let id = ids[key] { return id }
        let id = orders.count
        ids[key] = id
        orders.append(order)
        return id
    }

    /// Counts of all n-grams of orders 1...maxOrder in `items` (sacreBLEU's
    /// `extract_all_word_ngrams` / `extract_all_char_ngrams`), keyed by n-gram id.
    mutating func countAll(_ items: [Int], maxOrder: Int) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        counts.reserveCapacity(items.count * maxOrder)
        // ids[i] is the id of the current-order n-gram starting at i.
        var ids = [Int](repeating: -1, count: items.count)
        for n in 1...max(maxOrder, 1) where n <= items.count {
            for i in 0...(items.count - n) {
                let id = id(prefix: ids[i], last: items[i + n - 1], order: n)
                ids[i] = id
                counts[id, default: 0] += 1
            }
        }
        return counts
    }
}

/// Integer ids for tokens (words), shared by the hypothesis and references of a segment.
struct TokenInterner {
    private var ids: [ArraySlice<Unicode.Scalar>: Int] = [:]

    mutating func ids(_ tokens: [ArraySlice<Unicode.Scalar>]) -> [Int] {
        tokens.map { token in
            if let id = ids[token] { return id }
            let id = ids.count
            ids[token] = id
            return id
        }
    }
}
