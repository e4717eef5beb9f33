import Model
import TensorEngine

/// HAT's mutation and crossover on genes (hat-reference.md §4 for the gene, §7 for the operators).
///
/// A gene holds one entry per super layer, so both operators always give a valid gene: an
/// unused slot holds a valid choice and becomes live when a mutation deepens the network.
public struct GeneticOperators: Sendable {
    /// The choices at each gene position (`SearchSpace.geneChoices`).
    public let choices: [[Int]]
    /// Probability that a gene position is resampled by mutation (HAT: 0.3).
    public let mutationProbability: Double

    /// The space, to tell live gene positions from unused slots.
    let space: SearchSpace

    public init(space: SearchSpace, mutationProbability: Double) {
        self.choices = space.geneChoices
        self.mutationProbability = mutationProbability
        self.space = space
    }

    /// Each position, with probability `mutationProbability`, is redrawn uniformly from its
    /// choices (which may give the same value again, as in HAT).
    public func mutate(_ gene: [Int], rng: inout RandomGenerator) -> [Int] {
        precondition(gene.count == choices.count, "gene has \(gene.count) entries, the space needs \(choices.count)")
        var out = gene
        for i in out.indices where Double(rng.nextFloat()) < mutationProbability {
            out[i] = choices[i][rng.nextInt(choices[i].count)]
        }
        return out
    }

    /// Each position from either parent with probability ½.
    public func crossover(_ a: [Int], _ b: [Int], rng: inout RandomGenerator) -> [Int] {
        precondition(a.count == b.count && a.count == choices.count, "genes of different lengths")
        return zip(a, b).map { x, y in rng.nextInt(2) == 0 ? x : y }
    }

    /// The positions that describe a used layer or an embedding dim and still have a smaller
    /// choice: everything but the two layer counts and the slots beyond them.
    public func shrinkablePositions(_ gene: [Int]) -> [Int] {
        space.liveGenePositions(gene).filter { i in choices[i].contains { $0 < gene[i] } }
    }

    /// Shrinks `gene` until `fits` holds: each step sets one random shrinkable position to a
    /// random smaller choice; layer counts are kept. Nil when nothing is left to shrink or after
    /// `maxSteps` steps (the candidate is then rejected as HAT would).
    public func repair(_ gene: [Int], maxSteps: Int = 64, rng: inout RandomGenerator, fits: ([Int]) -> Bool) -> [Int]? {
        var g = gene
        for _ in 0...maxSteps {
            if fits(g) { return g }
            let positions = shrinkablePositions(g)
            guard !positions.isEmpty else { return nil }
            let i = positions[rng.nextInt(positions.count)]
            let smaller = choices[i].filter { $0 < g[i] }
            g[i] = smaller[rng.nextInt(smaller.count)]
        }
        return nil
    }
}
