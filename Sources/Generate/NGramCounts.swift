/// N-gram counting without building n-gram strings: every n-gram gets an integer id by
/// interning the pair (id of its first n−1 items, its last item), so counting all orders of a
/// line of L items costs L × maxOrder dictionary look-ups of two integers, and counts go into
/// arrays indexed by id (`NGramBag`).
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
    /// `extract_all_word_ngrams` / `extract_all_char_ngrams`).
    mutating func countAll(_ items: [Int], maxOrder: Int) -> NGramBag {
        var bag = NGramBag()
        // ids[i] is the id of the current-order n-gram starting at i.
        var ids = [Int](repeating: -1, count: items.count)
        for n in 1...max(maxOrder, 1) where n <= items.count {
            for i in 0...(items.count - n) {
                let id = id(prefix: ids[i], last: items[i + n - 1], order: n)
                ids[i] = id
                bag.add(id)
            }
        }
        return bag
    }
}

/// N-gram counts of one line, indexed by interned id (ids are small and dense within a
/// segment, so an array replaces a dictionary).
struct NGramBag {
    private(set) var counts: [Int] = []
    /// The ids with a nonzero count, in order of first occurrence.
    private(set) var distinct: [Int] = []

    subscript(id: Int) -> Int { id < counts.count ? counts[id] : 0 }

    mutating func add(_ id: Int, count: Int = 1) {
        if id >= counts.count { counts += repeatElement(0, count: id + 1 - counts.count) }
        if counts[id] == 0 { distinct.append(id) }
        counts[id] += count
    }

    /// Keeps, per id, the larger of the two counts (merging references: sacreBLEU's
    /// `ngrams[ngram] = max(ngrams[ngram], count)`).
    mutating func formMaximum(_ other: NGramBag) {
        for id in other.distinct where other[id] > self[id] { add(id, count: other[id] - self[id]) }
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
