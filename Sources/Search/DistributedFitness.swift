import Cluster
import Foundation
import Model

/// Fitness evaluations shared by the ranks of an MPI job (`mpirun -np N hat search`). Rank 0
/// runs the search exactly as one process would (same generator, cache, history and files) and,
/// for each population, sends the SubTransformers the cache does not know to every rank; rank r
/// evaluates those at positions r, r + N, …, and one allreduce gives every rank all the values.
/// The other ranks hold the supernet and validation data and only serve (`serve`).
public struct DistributedFitness {
    public let group: DistributedGroup
    public let fitness: SupernetFitness

    public init(group: DistributedGroup, fitness: SupernetFitness) {
        self.group = group
        self.fitness = fitness
    }

    /// Rank 0: the fitness of every config, computed on all ranks.
    public func evaluate(_ configs: [SubTransformerConfig]) throws -> [Fitness] {
        guard !configs.isEmpty else { return [] }
        _ = try group.broadcast(try JSONEncoder().encode(configs))
        return try evaluateShare(configs)
    }

    /// Every rank but 0: evaluates what rank 0 sends until it sends the end.
    public func serve() throws {
        while true {
            let message = try group.broadcast(Data())
            if message.isEmpty { return }
            _ = try evaluateShare(try JSONDecoder().decode([SubTransformerConfig].self, from: message))
        }
    }

    /// Rank 0: the search is over; the serving ranks return.
    public func finish() throws {
        _ = try group.broadcast(Data())
    }

    /// This rank's share, then every rank's values (zeros where another rank computes).
    private func evaluateShare(_ configs: [SubTransformerConfig]) throws -> [Fitness] {
        var values = [Double](repeating: 0, count: 2 * configs.count)
        for i in stride(from: group.rank, to: configs.count, by: group.size) {
            let f = fitness(configs[i])
            values[2 * i] = f.loss
            values[2 * i + 1] = f.nllLoss
        }
        let all = try group.allSum(values)
        return configs.indices.map { Fitness(loss: all[2 * $0], nllLoss: all[2 * $0 + 1]) }
    }
}
