import Foundation

/// fairseq's learning-rate schedules as HAT's config keys describe them (hat-reference.md §8).
///
/// Both warm up linearly from `warmup-init-lr` over `warmup-updates` updates; then
/// - `inverse_sqrt`: lr · √warmup / √update (fairseq: decay_factor / √num_updates);
/// - `cosine`: from `max-lr` down to `lr` (the minimum) along half a cosine over
///   `max-update − warmup-updates` updates (fairseq's cosine with t-mult 1, one period).
public enum LearningRateSchedule: Equatable, Sendable, Codable {
    case fixed(lr: Double)
    case inverseSqrt(lr: Double, warmupUpdates: Int, warmupInitLR: Double)
    case cosine(maxLR: Double, minLR: Double, warmupUpdates: Int, warmupInitLR: Double, periodUpdates: Int)

    /// The learning rate of the next update after `update` completed updates (fairseq calls
    /// `step_update(num_updates)` after each update; the first update uses `update = 0`).
    public func learningRate(update: Int) -> Double {
        switch self {
        case .fixed(let lr):
            return lr
        case .inverseSqrt(let lr, let warmup, let initLR):
            if update < warmup { return initLR + Double(update) * (lr - initLR) / Double(warmup) }
            return lr * Double(Swift.max(warmup, 1)).squareRoot() / Double(Swift.max(update, 1)).squareRoot()
        case .cosine(let maxLR, let minLR, let warmup, let initLR, let period):
            if update < warmup { return initLR + Double(update) * (maxLR - initLR) / Double(warmup) }
            let t = Double(update - warmup)
            let p = Double(Swift.max(period, 1))
            let progress = Swift.min(t / p, 1)
            return minLR + 0.5 * (maxLR - minLR) * (1 + cos(Double.pi * progress))
        }
    }
}
