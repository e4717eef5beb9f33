import Foundation
import Model
import TensorEngine
import Testing

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

@Suite("Repairing offspring that break a constraint")
struct RepairTests {
    @Test("shrinkable positions are the live width, head and attention genes that have a smaller choice")
    func shrinkablePositions() {
        let space = Fixtures.space0
        let ops = GeneticOperators(space: space, mutationProbability: 0.3)
        #expect(ops.shrinkablePositions(space.gene(of: space.smallest)).isEmpty)
        var rng = RandomGenerator(seed: 3)
        for _ in 0..<200 {
            let config = space.sample(rng: &rng)
            let gene = space.gene(of: config)
            for i in ops.shrinkablePositions(gene) {
                #expect(ops.choices[i].contains { $0 < gene[i] })
                // Changing a shrinkable position changes the SubTransformer (it is live) …
                var g = gene
                g[i] = ops.choices[i].filter { $0 < gene[i] }[0]
                #expect(space.config(fromGene: g) != config, "position \(i) is not live")
            }
            // … and the layer counts are never among them.
            let (e, d) = space.geneLayerCountPositions
            #expect(!ops.shrinkablePositions(gene).contains(e) && !ops.shrinkablePositions(gene).contains(d))
        }
    }

    @Test("repair returns a gene that fits with the layer counts kept, or nil when even the narrowest does not fit")
    func repairFitsOrGivesUp() {
        let space = Fixtures.space0
        let ops = GeneticOperators(space: space, mutationProbability: 0.3)
        let latency = Fixtures.latency(space)
        let limit = Fixtures.latencyQuantile(space, 0.3)
        let fits = { (g: [Int]) in latency.predictMilliseconds(space.config(fromGene: g)) <= limit }
        var rng = RandomGenerator(seed: 8)
        var repaired = 0, gaveUp = 0
        for _ in 0..<300 {
            let gene = space.gene(of: space.sample(rng: &rng))
            guard !fits(gene) else { continue }
            let (e, d) = space.geneLayerCountPositions
            if let r = ops.repair(gene, rng: &rng, fits: fits) {
                repaired += 1
                #expect(fits(r) && r[e] == gene[e] && r[d] == gene[d])
                #expect(r.indices.allSatisfy { r[$0] <= gene[$0] }, "repair only shrinks")
            } else {
                gaveUp += 1
                // Nil only when the narrowest SubTransformer with these layer counts breaks the limit.
                var narrow = gene
                for i in narrow.indices where i != e && i != d { narrow[i] = ops.choices[i].min()! }
                #expect(!fits(narrow))
            }
        }
        #expect(repaired > 50, "repaired \(repaired), gave up \(gaveUp)")
    }

    @Test("with repairOffspring evolution asks for the same budget, rejects fewer children and is reproducible")
    func repairInSearch() throws {
        let space = Fixtures.space0
        let c = SearchConstraints(latencyMs: Fixtures.latencyQuantile(space, 0.3))
        var settings = Fixtures.smallSettings
        func run(_ repair: Bool) throws -> (RecordingObserver, SearchOutcome) {
            settings.repairOffspring = repair
            let o = RecordingObserver()
            return (o, try EvolutionarySearch(settings: settings).run(Fixtures.problem(space, c), seed: 5, observer: o))
        }
        let (plain, _) = try run(false), (repaired, outcome) = try run(true), (again, outcome2) = try run(true)
        let rejected = { (o: RecordingObserver) in o.candidates.filter { !$0.admitted }.count }
        #expect(rejected(repaired) < rejected(plain), "rejected \(rejected(repaired)) with repair, \(rejected(plain)) without")
        #expect(repaired.candidates.filter { $0.admitted && $0.origin != .parent }.count == settings.candidateBudget)
        #expect(outcome.measures.predictedLatencyMs <= c.latencyMs!)
        #expect(again.candidates == repaired.candidates && outcome2.gene == outcome.gene)
        // A saved state from before the option existed reads as HAT's behaviour.
        var json = try JSONSerialization.jsonObject(with: JSONEncoder().encode(EvolutionSettings())) as! [String: Any]
        json["repairOffspring"] = nil
        let old = try JSONDecoder().decode(EvolutionSettings.self, from: JSONSerialization.data(withJSONObject: json))
        #expect(old == EvolutionSettings() && !old.repairOffspring)
    }
}

extension SearchSpace {
    /// True when `config` fits this space (for #expect).
    func check(ok config: SubTransformerConfig) -> Bool { (try? check(config, file: "test")) != nil }
}
