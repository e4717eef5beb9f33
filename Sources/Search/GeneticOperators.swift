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

    public init(space: SearchSpace, mutationProbability: Double) {
        self.choices = space.geneChoices
        self.mutationProbability = mutationProbability
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
}
