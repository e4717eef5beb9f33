import Foundation
import Model
import Testing
import TensorEngine
@testable import Search

@Suite("Mutation and crossover")
struct GeneticOperatorTests {
    @Test("mutation redraws each position with probability p, uniformly from that position's choices")
    func mutationStatistics() {
        let space = Fixtures.space0
        let ops = GeneticOperators(space: space, mutationProbability: 0.3)
        var rng = RandomGenerator(seed: 5)
        let parent = space.gene(of: space.largest)
        let trials = 20_000
        var changed = [Int](repeating: 0, count: parent.count)
        var counts = ops.choices.map { [Int: Int](uniqueKeysWithValues: $0.map { ($0, 0) }) }
        for _ in 0..<trials {
            let child = ops.mutate(parent, rng: &rng)
            #expect(child.count == parent.count)
            for i in child.indices {
                #expect(ops.choices[i].contains(child[i]), "position \(i): \(child[i]) not in \(ops.choices[i])")
                if child[i] != parent[i] { changed[i] += 1 }
                counts[i][child[i], default: 0] += 1
            }
            #expect(space.check(ok: space.config(fromGene: child)))
        }
        for i in parent.indices {
            let k = Double(ops.choices[i].count)
            // A redraw keeps the old value with probability 1/k, so a position changes with p(1 − 1/k).
            let expected = 0.3 * (1 - 1 / k)
            let observed = Double(changed[i]) / Double(trials)
            let sigma = (expected * (1 - expected) / Double(trials)).squareRoot()
            #expect(abs(observed - expected) < 5 * sigma + 1e-12, "position \(i): changed \(observed), expected \(expected)")
            // Each value other than the parent's is drawn with probability p/k.
            for (value, n) in counts[i] where value != parent[i] {
                let e = 0.3 / k, o = Double(n) / Double(trials)
                #expect(abs(o - e) < 5 * (e * (1 - e) / Double(trials)).squareRoot(), "position \(i) value \(value): \(o) vs \(e)")
            }
        }
    }

    @Test("mutation probability 0 copies, 1 redraws every position")
    func mutationExtremes() {
        let space = Fixtures.tinySpace
        var rng = RandomGenerator(seed: 1)
        let gene = space.gene(of: space.sample(rng: &rng))
        #expect(GeneticOperators(space: space, mutationProbability: 0).mutate(gene, rng: &rng) == gene)
        let ops = GeneticOperators(space: space, mutationProbability: 1)
        var differs = 0
        for _ in 0..<200 where ops.mutate(gene, rng: &rng) != gene { differs += 1 }
        #expect(differs > 190)
    }

    @Test("crossover takes each position from either parent with probability ½")
    func crossoverStatistics() {
        let space = Fixtures.space0
        let ops = GeneticOperators(space: space, mutationProbability: 0.3)
        let a = space.gene(of: space.largest), b = space.gene(of: space.smallest)
        var rng = RandomGenerator(seed: 9)
        let trials = 20_000
        var fromA = [Int](repeating: 0, count: a.count)
        for _ in 0..<trials {
            let child = ops.crossover(a, b, rng: &rng)
            for i in child.indices {
                #expect(child[i] == a[i] || child[i] == b[i])
                if child[i] == a[i] { fromA[i] += 1 }
            }
            #expect(space.check(ok: space.config(fromGene: child)))
        }
        let sigma = (0.25 / Double(trials)).squareRoot()
        for i in a.indices where a[i] != b[i] {
            let observed = Double(fromA[i]) / Double(trials)
            #expect(abs(observed - 0.5) < 5 * sigma, "position \(i): \(observed) from the first parent")
        }
    }
}

extension SearchSpace {
    /// True when `config` fits this space (for #expect).
    func check(ok config: SubTransformerConfig) -> Bool { (try? check(config, file: "test")) != nil }
}
