import Foundation
import Testing

@testable import Datasets

@Suite("Batching: token budget, epochs, resume")
struct BatchingTests {
    /// A dataset of `n` pairs with random lengths in 1...maxLength (eos included) and random ids ≥ 4.
    /// With `correlated`, the target length is the source length ± 3, as in real parallel text.
    static func randomDataset(_ n: Int, maxLength: Int = 60, seed: UInt64 = 9, correlated: Bool = false) -> TranslationDataset {
        var rng = SeededGenerator(seed: seed)
        func sentence(_ length: Int) -> [Int32] {
            (0..<(length - 1)).map { _ in Int32(4 + rng.below(500)) } + [2]
        }
        var source: [[Int32]] = [], target: [[Int32]] = []
        for _ in 0..<n {
            let s = 1 + rng.below(maxLength)
            let t = correlated ? min(maxLength, max(1, s - 3 + rng.below(7))) : 1 + rng.below(maxLength)
            source.append(sentence(s))
            target.append(sentence(t))
        }
        return TranslationDataset(source: source, target: target)
    }

    @Test(arguments: [64, 200, 1000, 4096])
    func batchesRespectTheBudgetAndCoverEverySentenceOncePerEpoch(maxTokens: Int) throws {
        let data = Self.randomDataset(1000)
        var it = try BatchIterator(dataset: data, maxTokens: maxTokens, seed: 3)
        var orders: [[Int]] = []
        for epoch in 1...3 {
            #expect(it.position == BatchPosition(epoch: epoch, index: 0))
            var seen = [Int](repeating: 0, count: data.count)
            var batchOrder: [Int] = []
            while let batch = it.next() {
                #expect(batch.batchSize * max(batch.sourceLength, batch.targetLength) <= maxTokens)
                #expect(batch.paddedTokenCount <= maxTokens)
                for i in batch.sentenceIndices { seen[i] += 1 }
                batchOrder.append(batch.sentenceIndices[0])
            }
            #expect(seen.allSatisfy { $0 == 1 }, "epoch \(epoch): every sentence exactly once")
            orders.append(batchOrder)
        }
        #expect(it.position == BatchPosition(epoch: 4, index: 0))
        if it.batchesPerEpoch > 3 {
            #expect(orders[0] != orders[1] && orders[1] != orders[2], "batch order is reshuffled each epoch")
        }
    }

    @Test func packingIsGreedyAndLengthBucketed() throws {
        let data = Self.randomDataset(2000, correlated: true)
        let it = try BatchIterator(dataset: data, maxTokens: 1024, seed: 1)
        var padded = 0, real = 0
        for indices in it.batches {
            let batch = Batch(dataset: data, indices: indices)
            #expect(batch.paddedTokenCount <= 1024)
            padded += batch.sourceTokens.count + batch.targetTokens.count
            real += batch.sourceTokenCount + batch.targetTokenCount
        }
        // Sorted by length, batches waste little: under 10% of the tokens are padding
        // (unsorted random batches of this data would pad about a third).
        #expect(Double(padded - real) / Double(padded) < 0.10)
        // Greedy: the next sentence in length order would not have fit into each closed batch.
        let flat = it.batches.flatMap { $0 }
        var k = 0
        for indices in it.batches.dropLast() {
            k += indices.count
            let next = flat[k]
            let longest = (indices + [next]).map { max(data.sourceLength($0), data.targetLength($0)) }.max()!
            #expect((indices.count + 1) * longest > 1024)
        }
    }

    @Test func resumedIteratorContinuesExactlyWhereItStopped() throws {
        let data = Self.randomDataset(500)
        var original = try BatchIterator(dataset: data, maxTokens: 300, seed: 42)
        let perEpoch = original.batchesPerEpoch
        // Run 1.5 epochs, remembering every batch and the position before it.
        var log: [(BatchPosition, Batch)] = []
        for _ in 0..<(perEpoch * 5 / 2) {
            let position = original.position
            guard let batch = original.next() else { continue }
            log.append((position, batch))
        }
        for checkpoint in [0, 1, perEpoch - 1, perEpoch + 3, log.count - 1] {
            let (position, expected) = log[checkpoint]
            // A fresh iterator (as after a restart), resumed by setting the position.
            var resumed = try BatchIterator(dataset: data, maxTokens: 300, seed: 42, position: position)
            #expect(resumed.next() == expected)
            // ...and it goes on identically, across the epoch boundary.
            var rest: [Batch] = []
            while rest.count < min(5, log.count - checkpoint - 1) {
                if let b = resumed.next() { rest.append(b) }
            }
            #expect(rest == log[(checkpoint + 1)..<(checkpoint + 1 + rest.count)].map(\.1))
        }
        // Positions round-trip through JSON, as a checkpoint stores them.
        let stored = try JSONEncoder().encode(original.position)
        var again = try BatchIterator(dataset: data, maxTokens: 300, seed: 42)
        again.position = try JSONDecoder().decode(BatchPosition.self, from: stored)
        var copy = original
        #expect(again.next() == copy.next())
        // resume(at:) checks the position instead of trapping.
        var checked = try BatchIterator(dataset: data, maxTokens: 300, seed: 42)
        #expect(throws: DataError.self) { try checked.resume(at: BatchPosition(epoch: 2, index: perEpoch + 1)) }
        try checked.resume(at: log[3].0)
        #expect(checked.next() == log[3].1)
    }

    @Test func sameSeedSameBatchesOtherSeedOtherOrder() throws {
        let data = Self.randomDataset(400)
        var a = try BatchIterator(dataset: data, maxTokens: 256, seed: 5)
        var b = try BatchIterator(dataset: data, maxTokens: 256, seed: 5)
        var c = try BatchIterator(dataset: data, maxTokens: 256, seed: 6)
        var sa: [[Int]] = [], sb: [[Int]] = [], sc: [[Int]] = []
        while let x = a.next() { sa.append(x.sentenceIndices) }
        while let x = b.next() { sb.append(x.sentenceIndices) }
        while let x = c.next() { sc.append(x.sentenceIndices) }
        #expect(sa == sb)
        #expect(sa != sc)
    }

    @Test func batchLayoutFollowsFairseq() throws {
        let data = TranslationDataset(
            source: [[10, 11, 2], [12, 2], [13, 14, 15, 16, 2]],
            target: [[20, 21, 22, 2], [23, 2], [24, 2]])
        let batch = Batch(dataset: data, indices: [0, 1, 2])
        #expect(batch.batchSize == 3 && batch.sourceLength == 5 && batch.targetLength == 4)
        #expect(
            batch.sourceTokens == [
                10, 11, 2, 1, 1,
                12, 2, 1, 1, 1,
                13, 14, 15, 16, 2,
            ])
        #expect(
            batch.targetTokens == [
                20, 21, 22, 2,
                23, 2, 1, 1,
                24, 2, 1, 1,
            ])
        #expect(
            batch.previousOutputTokens == [
                2, 20, 21, 22,
                2, 23, 1, 1,
                2, 24, 1, 1,
            ])
        #expect(batch.sourceLengths == [3, 2, 5] && batch.targetLengths == [4, 2, 2])
        #expect(batch.targetTokenCount == 8 && batch.sourceTokenCount == 10)
        #expect(batch.sentenceIndices == [0, 1, 2])
        #expect(Array(batch.source(row: 1)) == [12, 2] && Array(batch.target(row: 0)) == [20, 21, 22, 2])
        #expect(Batch.previousOutputTokens(for: [7, 8, 2] as [Int32]) == [2, 7, 8])
    }

    @Test func oversizedSentencesThrowOrAreSkipped() throws {
        let data = TranslationDataset(
            source: [[4, 2], Array(repeating: 5, count: 30) + [2], [6, 2]],
            target: [[7, 2], [8, 2], [9, 2]])
        #expect(throws: DataError.sentenceExceedsBudget(index: 1, tokens: 31, maxTokens: 16)) {
            try BatchIterator(dataset: data, maxTokens: 16, seed: 1)
        }
        var it = try BatchIterator(dataset: data, maxTokens: 16, seed: 1, skipOversized: true)
        #expect(it.skippedSentences == [1])
        var seen: [Int] = []
        while let b = it.next() { seen += b.sentenceIndices }
        #expect(seen.sorted() == [0, 2])
    }

    @Test func aBudgetNoPairFitsIsAnErrorNotAnEmptyEpoch() throws {
        let data = TranslationDataset(source: [[4, 5, 2], [6, 7, 8, 2]], target: [[7, 2], [8, 9, 2]])
        // Skipping every pair would leave epochs without batches (training loops on nothing,
        // validation reports a loss of 0): the iterator refuses, naming the shortest pair's need.
        #expect(
            throws: DataError.invalidArgument(
                "no sentence pair fits max-tokens 2: the shortest needs 3 tokens "
                    + "(its longer side plus end-of-sentence); raise --max-tokens to at least 3")
        ) {
            try BatchIterator(dataset: data, maxTokens: 2, seed: 1, skipOversized: true)
        }
        #expect(try BatchIterator(dataset: data, maxTokens: 3, seed: 1, skipOversized: true).batchesPerEpoch == 1)
    }

    @Test func maxSentencesAndUnshuffledOrder() throws {
        let data = Self.randomDataset(300, maxLength: 10)
        var it = try BatchIterator(dataset: data, maxTokens: 10_000, maxSentences: 16, seed: 1, shuffle: false)
        var all: [Int] = []
        var previousKey = (0, 0)
        while let b = it.next() {
            #expect(b.batchSize <= 16)
            for i in b.sentenceIndices {
                let key = (data.sourceLength(i), data.targetLength(i))
                #expect(key >= previousKey, "unshuffled batches come in length order")
                previousKey = key
                all.append(i)
            }
        }
        #expect(all.sorted() == Array(0..<300))
        #expect(throws: DataError.self) { try BatchIterator(dataset: data, maxTokens: 0, seed: 1) }
        #expect(throws: DataError.self) { try BatchIterator(dataset: data, maxTokens: 100, seed: 1, position: BatchPosition(epoch: 0, index: 0)) }
    }
}
