/// Where a `BatchIterator` stands: the next batch it returns is batch `index` of epoch `epoch`
/// (epochs count from 1, as fairseq's do). Store it in a checkpoint; an iterator built over the
/// same dataset with the same settings and this position returns the same next batch.
public struct BatchPosition: Codable, Equatable, Hashable, Sendable, CustomStringConvertible {
    public var epoch: Int
    public var index: Int
    public init(epoch: Int, index: Int) {
        self.epoch = epoch
        self.index = index
    }
    /// Epoch 1, first batch.
    public static let start = BatchPosition(epoch: 1, index: 0)
    public var description: String { "epoch \(epoch) batch \(index)" }
}

/// Token-budget batching with fairseq's semantics (`batch_by_size`):
///
/// - a sentence pair costs `max(sourceLength, targetLength)` tokens (eos included), and a batch
///   costs its size × its most expensive pair — padding counts — which never exceeds `maxTokens`
///   (nor `maxSentences` pairs, when given);
/// - pairs are ordered by (source length, target length), ties broken by a seeded permutation
///   (fairseq's `ordered_indices`: a permutation, then stable sorts by target, then source size),
///   and packed greedily in that order, so each batch holds pairs of similar length
///   (length bucketing, little padding); the batches are built once;
/// - each epoch visits every batch once, in an order shuffled by (seed, epoch)
///   (`shuffle: false` keeps length order, for validation and test).
///
/// ```swift
/// var batches = try BatchIterator(dataset: train, maxTokens: 4096, seed: 1)
/// while let batch = batches.next() { ... }          // one epoch; then next() starts epoch 2
/// checkpoint.position = batches.position            // save
/// batches.position = checkpoint.position            // resume: the same next batch
/// ```
public struct BatchIterator: IteratorProtocol, Sendable {
    public let dataset: TranslationDataset
    public let maxTokens: Int
    public let maxSentences: Int?
    public let seed: UInt64
    public let shuffle: Bool
    /// The batches, each a list of dataset indices in length order; fixed for all epochs.
    public let batches: [[Int]]
    /// Pairs longer than the budget that were left out (only with `skipOversized`).
    public let skippedSentences: [Int]
    private let padID: Int32
    private let eosID: Int32

    /// The next batch `next()` returns. Setting it resumes from a stored position.
    public var position: BatchPosition {
        didSet {
            precondition(
                position.epoch >= 1 && position.index >= 0 && position.index <= batches.count,
                "invalid batch position \(position) (epochs start at 1; \(batches.count) batches per epoch)")
        }
    }
    private var cachedOrder: (epoch: Int, order: [Int])?

    public var batchesPerEpoch: Int { batches.count }

    /// - Parameters:
    ///   - maxTokens: the budget per batch, padding included.
    ///   - maxSentences: an optional cap on pairs per batch.
    ///   - seed: seeds the tie-breaking of equal lengths and the per-epoch batch order.
    ///   - shuffle: shuffle the batch order each epoch (training) or keep length order (evaluation).
    ///   - skipOversized: leave out pairs longer than `maxTokens` instead of throwing.
    ///   - position: where to start (e.g. from a checkpoint).
    /// - Throws: `DataError.sentenceExceedsBudget` for a pair longer than the budget (unless
    ///   skipped), `DataError.invalidArgument` for a bad budget or position.
    public init(
        dataset: TranslationDataset, maxTokens: Int, maxSentences: Int? = nil, seed: UInt64, shuffle: Bool = true,
        skipOversized: Bool = false, position: BatchPosition = .start,
        padID: Int32 = Vocabulary.padID, eosID: Int32 = Vocabulary.eosID
    ) throws {
        guard maxTokens >= 1 else { throw DataError.invalidArgument("max-tokens must be at least 1, got \(maxTokens)") }
        if let m = maxSentences, m < 1 { throw DataError.invalidArgument("max-sentences must be at least 1, got \(m)") }
        self.dataset = dataset
        self.maxTokens = maxTokens
        self.maxSentences = maxSentences
        self.seed = seed
        self.shuffle = shuffle
        self.padID = padID
        self.eosID = eosID

        let n = dataset.count
        let cost = (0..<n).map { max(dataset.sourceLength($0), dataset.targetLength($0)) }
        // Seeded tie-breaking, then a stable sort by (source length, target length).
        var order = Array(0..<n)
        if shuffle {
            var rng = SeededGenerator(seed: seed, stream: 0)
            rng.shuffle(&order)
        }
        var rank = [Int](repeating: 0, count: n)
        for (r, i) in order.enumerated() { rank[i] = r }
        order.sort { a, b in
            let sa = dataset.sourceLength(a), sb = dataset.sourceLength(b)
            if sa != sb { return sa < sb }
            let ta = dataset.targetLength(a), tb = dataset.targetLength(b)
            if ta != tb { return ta < tb }
            return rank[a] < rank[b]
        }
        var batches: [[Int]] = []
        var skipped: [Int] = []
        var current: [Int] = []
        var longest = 0
        for i in order {
            if cost[i] > maxTokens {
                if skipOversized {
                    skipped.append(i)
                    continue
                }
                throw DataError.sentenceExceedsBudget(index: i, tokens: cost[i], maxTokens: maxTokens)
            }
            let newLongest = max(longest, cost[i])
            let tooMany = maxSentences.map { current.count + 1 > $0 } ?? false
            if !current.isEmpty && (tooMany || (current.count + 1) * newLongest > maxTokens) {
                batches.append(current)
                current = [i]
                longest = cost[i]
            } else {
                current.append(i)
                longest = newLongest
            }
        }
        if !current.isEmpty { batches.append(current) }
        // Skipping every pair would leave epochs without a batch: training would loop without
        // learning and validation would report a loss of 0.
        if batches.isEmpty, let shortest = cost.min() {
            throw DataError.invalidArgument(
                "no sentence pair fits max-tokens \(maxTokens): the shortest needs \(shortest) tokens "
                    + "(its longer side plus end-of-sentence); raise --max-tokens to at least \(shortest)")
        }
        self.batches = batches
        skippedSentences = skipped.sorted()
        guard position.epoch >= 1, position.index >= 0, position.index <= batches.count else {
            throw DataError.invalidArgument("invalid batch position \(position) (epochs start at 1; \(batches.count) batches per epoch)")
        }
        self.position = position
    }

    /// Moves to a stored position (e.g. from a checkpoint), checking it first: unlike setting
    /// `position`, a position that does not fit this iterator's batches throws instead of trapping.
    /// - Throws: `DataError.invalidArgument` naming the position and the batches per epoch.
    public mutating func resume(at stored: BatchPosition) throws {
        guard stored.epoch >= 1, stored.index >= 0, stored.index <= batches.count else {
            throw DataError.invalidArgument(
                "cannot resume at \(stored): epochs start at 1 and this data has \(batches.count) batches per epoch "
                    + "(were the dataset, max-tokens or bpe-dropout changed since the checkpoint?)")
        }
        position = stored
    }

    /// The order in which epoch `epoch` visits `batches` (a permutation of their indices).
    public func order(epoch: Int) -> [Int] {
        var order = Array(0..<batches.count)
        if shuffle {
            var rng = SeededGenerator(seed: seed, stream: UInt64(epoch))
            rng.shuffle(&order)
        }
        return order
    }

    /// The batch at `position` (which must be inside its epoch), without moving.
    public func batch(at position: BatchPosition) -> Batch {
        let order = cachedOrder?.epoch == position.epoch ? cachedOrder!.order : self.order(epoch: position.epoch)
        return Batch(dataset: dataset, indices: batches[order[position.index]], padID: padID, eosID: eosID)
    }

    /// The next batch of the current epoch, or nil at its end — after which `position` is the start
    /// of the next epoch, so `while let b = it.next()` runs one epoch and can be repeated.
    public mutating func next() -> Batch? {
        guard position.index < batches.count else {
            position = BatchPosition(epoch: position.epoch + 1, index: 0)
            return nil
        }
        if cachedOrder?.epoch != position.epoch { cachedOrder = (position.epoch, order(epoch: position.epoch)) }
        let batch = self.batch(at: position)
        position.index += 1
        return batch
    }
}
