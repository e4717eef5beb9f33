import Foundation
import Model
import TensorEngine
import TestSupport

@testable import Search

/// Spaces, predictors and fitness functions for the search tests: synthetic, so a search of
/// hundreds of candidates takes milliseconds and its optimum is known.
enum Fixtures {
    static let tinySpaceFile = Oracle.repoRoot.appendingPathComponent("configs/builtin_tiny_space.yml").path
    static let tinySpace: SearchSpace = try! SearchSpace(contentsOf: tinySpaceFile)

    /// HAT's space0 (hat-reference.md §1): a 40-position gene, too large to search by luck.
    static let space0 = SearchSpace(
        encoderEmbedDim: 640, decoderEmbedDim: 640, encoderFFNDim: 3072, decoderFFNDim: 3072, encoderLayers: 6, decoderLayers: 6,
        encoderAttentionHeads: 8, decoderAttentionHeads: 8, qkvDim: 512, shareAllEmbeddings: true,
        encoderEmbedChoices: [640, 512], decoderEmbedChoices: [640, 512], encoderFFNChoices: [3072, 2048, 1024],
        decoderFFNChoices: [3072, 2048, 1024], encoderLayerChoices: [6], decoderLayerChoices: [6, 5, 4, 3, 2, 1],
        encoderSelfAttentionHeadChoices: [8, 4], decoderSelfAttentionHeadChoices: [8, 4], decoderCrossAttentionHeadChoices: [8, 4],
        decoderArbitraryAttentionChoices: [-1, 1, 2])

    static func profiler(_ space: SearchSpace) -> Profiler {
        Profiler(qkvDim: space.qkvDim, sourceVocabSize: 1000, targetVocabSize: 1000, sharedEmbeddings: space.shareAllEmbeddings)
    }

    /// A latency that grows with the work, like a real device: 1 ms per 10⁶ MACs plus 0.5 ms per layer.
    static func latency(_ space: SearchSpace) -> ClosureLatencyPredictor {
        let p = profiler(space)
        return ClosureLatencyPredictor { c in
            Double(p.multiplyAccumulates(c, length: 30)) / 1e6 + 0.5 * Double(c.encoderLayerNum + c.decoderLayerNum)
        }
    }

    static func assessor(_ space: SearchSpace) -> CandidateAssessor {
        CandidateAssessor(predictor: latency(space), profiler: profiler(space))
    }

    /// A known fitness: a seeded random cost per (gene position, choice), summed over the
    /// positions the SubTransformer uses (unused layer slots read as the placeholder), with a
    /// bonus for capacity so that the constraint binds. Deterministic, instant.
    static func syntheticFitness(_ space: SearchSpace, seed: UInt64 = 7) -> (SubTransformerConfig) -> Fitness {
        var rng = RandomGenerator(seed: seed)
        let choices = space.geneChoices
        let table = choices.map { c in c.map { _ in Double(rng.nextFloat()) } }
        let latency = latency(space)
        return { config in
            let gene = space.gene(of: config)
            var loss = 10.0
            for (i, g) in gene.enumerated() { loss += table[i][choices[i].firstIndex(of: g)!] }
            loss -= 0.02 * latency.predictMilliseconds(config)  // bigger nets are better, as with a real supernet
            return Fitness(loss: loss, nllLoss: loss - 0.5)
        }
    }

    static func problem(_ space: SearchSpace, _ constraints: SearchConstraints, cache: FitnessCache? = nil) -> SearchProblem {
        SearchProblem(
            space: space, constraints: constraints, assessor: assessor(space),
            fitness: cache ?? FitnessCache(evaluate: syntheticFitness(space)))
    }

    /// The predicted latency at quantile `q` of random SubTransformers (a constraint that binds).
    static func latencyQuantile(_ space: SearchSpace, _ q: Double) -> Double {
        var rng = RandomGenerator(seed: 99)
        let l = latency(space)
        let values = (0..<400).map { _ in l.predictMilliseconds(space.sample(rng: &rng)) }.sorted()
        return values[Int(q * Double(values.count - 1))]
    }

    static var smallSettings: EvolutionSettings {
        var s = EvolutionSettings()
        s.iterations = 6
        s.populationSize = 20
        s.parentSize = 6
        s.mutationSize = 8
        s.crossoverSize = 8
        return s
    }
}

/// Keeps every record a search reports; can stop the search after some iterations.
final class RecordingObserver: SearchObserver {
    var candidates: [CandidateRecord] = []
    var iterations: [IterationRecord] = []
    var states: [SearchRunState] = []
    var stopAfter: Int?
    struct Stop: Error {}

    init(stopAfter: Int? = nil) { self.stopAfter = stopAfter }

    func record(_ candidate: CandidateRecord) throws { candidates.append(candidate) }
    func iterationFinished(_ summary: IterationRecord, state: SearchRunState) throws {
        iterations.append(summary)
        states.append(state)
        if let stopAfter, iterations.count >= stopAfter { throw Stop() }
    }
}

extension CandidateRecord {
    /// The record without what legitimately differs between a straight and a resumed run.
    var reproducible: CandidateRecord {
        var r = self
        r.cached = nil
        return r
    }
}
