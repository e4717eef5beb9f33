/// BPE-dropout (Provilkov, Emelianenko and Voita, ACL 2020): subword regularization for a BPE
/// vocabulary. Each training epoch sees its sentences segmented anew, with every merge of the
/// BPE procedure skipped with probability `probability`, so the model meets the same words split
/// in many ways (more, shorter pieces) and overfits a small corpus such as Multi30k less. Test and
/// validation text keep the deterministic segmentation (the paper's protocol).
///
/// The merge procedure is SentencePiece's BPE encoder (`bpe_model.cc`, `Model::SampleEncode`):
/// start from characters, repeatedly take the adjacent pair whose concatenation is a vocabulary
/// piece with the highest score (ties: leftmost), and with dropout discard a popped pair instead
/// of merging it. With probability 0 it reproduces SentencePiece's deterministic encoding exactly
/// (tested on whole corpora), and with p > 0 its token counts match SentencePiece's own sampler
/// (`enable_sampling=True, alpha=p`; tested against the Python binding).
///
/// It works on stored ids, not text: the pieces of a sentence are joined back into its words
/// (a word starts at a piece beginning with "▁"), each word is re-merged from its characters, and
/// a word holding `<unk>` is kept as it was. Randomness comes from `SeededGenerator`, so the
/// segmentation of epoch e is a function of (seed, e) and a resumed run sees the same data.
///
/// ```swift
/// let dropout = try BPEDropout(vocabulary: data.sourceVocabulary, probability: 0.1)
/// let epochData = dropout.apply(to: train, seed: 1, epoch: 3)   // same sentences, new pieces
/// ```
public struct BPEDropout: Sendable {
    /// Chance of discarding each merge.
    public let probability: Double
    /// Pieces BPE merges into (not control, unknown, unused or byte pieces): text → (id, score).
    private let pieceTable: [String: (id: Int32, score: Float)]
    /// Text of every id; nil for the others (a word holding one is kept as stored).
    private let pieceText: [String?]
    private let eosID: Int32
    /// A sentence whose new segmentation is longer than this keeps its stored one (the length
    /// filter of `prepare`; dropout makes sentences ~40 % longer at p = 0.1).
    public let maxLength: Int

    /// - Throws: `DataError.invalidArgument` for a probability outside [0, 1).
    public init(vocabulary: Vocabulary, probability: Double, maxLength: Int = 250) throws {
        guard probability >= 0 && probability < 1 else {
            throw DataError.invalidArgument("bpe-dropout must be a probability in [0, 1), got \(probability)")
        }
        self.probability = probability
        self.maxLength = maxLength
        eosID = vocabulary.eosID
        var table: [String: (id: Int32, score: Float)] = [:]
        var texts: [String?] = []
        texts.reserveCapacity(vocabulary.size)
        for id in 0..<Int32(vocabulary.size) {
            guard vocabulary.isMergeable(id), let piece = vocabulary.piece(for: id) else {
                texts.append(nil)
                continue
            }
            texts.append(piece)
            table[piece] = (id, vocabulary.score(for: id))
        }
        pieceTable = table
        pieceText = texts
    }

    /// Which side of each pair is segmented anew. The paper drops merges on both; on the source
    /// side only, the decoder keeps learning the segmentation it will produce at test time.
    public enum Sides: String, Codable, CaseIterable, Sendable {
        case both, source, target
    }

    /// The training split with every sentence of `sides` segmented anew for `epoch` (eos kept last).
    public func apply(to dataset: TranslationDataset, seed: UInt64, epoch: Int, sides: Sides = .both) -> TranslationDataset {
        var rng = SeededGenerator(seed: seed ^ 0xB9ED_8090, stream: UInt64(truncatingIfNeeded: epoch))
        var sources: [[Int32]] = [], targets: [[Int32]] = []
        sources.reserveCapacity(dataset.count)
        targets.reserveCapacity(dataset.count)
        for i in 0..<dataset.count {
            sources.append(sides == .target ? Array(dataset.source(i)) : resegmentSentence(dataset.source(i), rng: &rng))
            targets.append(sides == .source ? Array(dataset.target(i)) : resegmentSentence(dataset.target(i), rng: &rng))
        }
        return TranslationDataset(source: sources, target: targets)
    }

    /// One stored sentence (pieces, then eos) segmented anew.
    func resegmentSentence(_ ids: ArraySlice<Int32>, rng: inout SeededGenerator) -> [Int32] {
        var body = ids
        let endsWithEOS = body.last == eosID
        if endsWithEOS { body = body.dropLast() }
        var out = resegment(body, rng: &rng)
        if out.count > Swift.max(maxLength, body.count) { return Array(ids) }
        if endsWithEOS { out.append(eosID) }
        return out
    }

    /// Pieces (no specials at the ends) segmented anew, word by word.
    public func resegment<C: Collection>(_ ids: C, rng: inout SeededGenerator) -> [Int32] where C.Element == Int32 {
        var out: [Int32] = []
        out.reserveCapacity(ids.count * 2)
        var word: [Int32] = []
        func flush() {
            guard !word.isEmpty else { return }
            out.append(contentsOf: mergeWord(word, rng: &rng))
            word.removeAll(keepingCapacity: true)
        }
        for id in ids {
            if let text = pieceText[safe: id], text.hasPrefix("▁") { flush() }
            word.append(id)
        }
        flush()
        return out
    }

    /// SentencePiece's BPE merge loop with dropout over one word's characters.
    private func mergeWord(_ ids: [Int32], rng: inout SeededGenerator) -> [Int32] {
        var text = ""
        for id in ids {
            guard let piece = pieceText[safe: id] else { return ids }  // <unk> or a control id: keep as stored
            text += piece
        }
        // Symbols: the word's Unicode scalars (SentencePiece splits UTF-8 characters), linked.
        var symbols = text.unicodeScalars.map { String($0) }
        let n = symbols.count
        guard n > 1 else { return ids }
        var previous = Array(-1..<(n - 1)), next = Array(1...n)
        next[n - 1] = -1
        struct Pair { var left: Int, right: Int, score: Float, size: Int }
        var agenda: [Pair] = []
        func consider(_ left: Int, _ right: Int) {
            guard left >= 0, right >= 0 else { return }
            let merged = symbols[left] + symbols[right]
            if let entry = pieceTable[merged] { agenda.append(Pair(left: left, right: right, score: entry.score, size: merged.utf8.count)) }
        }
        for i in 0..<(n - 1) { consider(i, i + 1) }
        while !agenda.isEmpty {
            // Highest score first; among equal scores the leftmost (SentencePiece's comparator).
            var best = 0
            for k in 1..<agenda.count
            where agenda[k].score > agenda[best].score
                || (agenda[k].score == agenda[best].score && agenda[k].left < agenda[best].left)
            { best = k }
            let top = agenda.remove(at: best)
            let (l, r) = (top.left, top.right)
            // Stale: one side was merged away, or changed since the pair was queued.
            if symbols[l].isEmpty || symbols[r].isEmpty || symbols[l].utf8.count + symbols[r].utf8.count != top.size { continue }
            if probability > 0 && rng.chance(probability) { continue }  // the dropout: skip this merge
            symbols[l] += symbols[r]
            symbols[r] = ""
            next[l] = next[r]
            if next[r] >= 0 { previous[next[r]] = l }
            consider(previous[l], l)
            consider(l, next[l])
        }
        var out: [Int32] = []
        var i = 0
        while i >= 0 {
            guard let entry = pieceTable[symbols[i]] else { return ids }  // a character outside the vocabulary
            out.append(entry.id)
            i = next[i]
        }
        return out
    }
}

private extension Array where Element == String? {
    /// The text of `id`, or nil for an id out of range (or without text).
    subscript(safe id: Int32) -> String? {
        id >= 0 && Int(id) < count ? self[Int(id)] : nil
    }
}
