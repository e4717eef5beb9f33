import Cluster
import Foundation
import NN
import TensorEngine

/// Data-parallel training over the ranks of an MPI job, with fairseq's semantics (HAT trained its
/// SuperTransformers this way on 8 GPUs): the update's global batches are dealt out to the
/// ranks in turn, every rank trains the same SubTransformer (sampled from a generator that is
/// identical on every rank), the gradients, losses and token counts are summed over the ranks,
/// and every rank then takes the same optimizer step. The batches of an update are the same
/// whatever the number of ranks (`max-tokens × update-freq × ranks` tokens), and each batch's
/// dropout is drawn from a generator of its own, so 2 ranks × update-freq 1 trains the model
/// that 1 rank × update-freq 2 trains, up to the order of the sums.
struct DataParallel {
    let group: DistributedGroup

    /// Whether this rank computes the update's global batch number `index`.
    func computes(batch index: Int) -> Bool { index % group.size == group.rank }

    /// Sums the gradients over the ranks, in place. A parameter some rank has a gradient for gets
    /// one on every rank (zeros where this rank did not reach it, e.g. when its share of the
    /// update was empty at an epoch's end); a parameter no rank reached keeps none, so Adam leaves
    /// it alone as in one process (HAT's SubTransformers reach only part of the SuperTransformer).
    func sumGradients(_ parameters: [Tensor]) throws {
        guard group.size > 1 else { return }
        let reached = try group.allMax(parameters.map { $0.storage.grad == nil ? 0 : 1 })
        let storages = zip(parameters, reached).filter { $0.1 > 0 }.map { $0.0.storage }
        let total = storages.reduce(0) { $0 + $1.count }
        guard total > 0 else { return }
        // One buffer, one allreduce: per-parameter calls would pay MPI's latency hundreds of times.
        let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: total)
        defer { buffer.deallocate() }
        var offset = 0
        for s in storages {
            (buffer.baseAddress! + offset).update(from: s.gradBuffer(), count: s.count)
            offset += s.count
        }
        try group.allSum(buffer)
        offset = 0
        for s in storages {
            s.gradBuffer().update(from: buffer.baseAddress! + offset, count: s.count)
            offset += s.count
        }
    }

    /// Rank 0's weights, Adam moments and training state on every rank: the state a job starts
    /// from is rank 0's (a fresh initialization or the checkpoint it resumed), so the other
    /// ranks need no access to the checkpoint folder.
    func startFromMainRank(model: [Tensor], optimizer: Adam, state: inout CheckpointState) throws {
        guard group.size > 1 else { return }
        for tensor in model + optimizer.firstMoments + optimizer.secondMoments {
            try group.broadcast(UnsafeMutableBufferPointer(start: tensor.storage.data, count: tensor.storage.count))
        }
        let encoder = JSONEncoder()
        let main = try group.broadcast(try encoder.encode(MainRankState(state: state, step: optimizer.step, parameterSteps: optimizer.parameterSteps)))
        let decoded = try JSONDecoder().decode(MainRankState.self, from: main)
        state = decoded.state
        optimizer.restore(step: decoded.step, parameterSteps: decoded.parameterSteps)
    }

    private struct MainRankState: Codable {
        let state: CheckpointState
        let step: Int
        let parameterSteps: [Int]
    }
}
