import Foundation
import TensorEngine

/// `body(i)` for every i in 0..<count, in lanes: with several threads, each lane (one thread, or a
/// share of the threads) takes the next item until none is left, so independent jobs run side by
/// side instead of splitting each job's small products over the cores. Translation's batches
/// are such jobs: a decoder step of 160 rows has too little work per product for two threads to
/// share well, and two lanes translate about twice as fast (docs/PERFORMANCE.md, "Translation").
///
/// Results are in item order whatever lane computed them; `finished(i)` runs once per item as it
/// completes, one call at a time (progress reports).
func mapInLanes<T>(
    _ count: Int, threads: Int = ParallelSettings.threads, finished: ((Int) -> Void)? = nil,
    _ body: (Int) -> T
) -> [T] {
    let lanes = Swift.min(threads, count)
    guard lanes > 1 else {
        return ParallelSettings.withThreads(Swift.max(threads, 1)) {
            (0..<count).map { i in
                let result = body(i)
                finished?(i)
                return result
            }
        }
    }
    let state = LaneState<T>(count: count)
    withoutActuallyEscaping(body) { body in
        // `body` runs on several lanes at once by this function's contract; `finished` one call
        // at a time, behind the state's lock.
        let shared = UncheckedSendable((body: body, finished: finished))
        DispatchQueue.concurrentPerform(iterations: lanes) { lane in
            // The threads are shared out between the lanes: 3 threads in 2 lanes are 2 + 1.
            ParallelSettings.withThreads(threads / lanes + (lane < threads % lanes ? 1 : 0)) {
                while let i = state.take() {
                    let result = shared.value.body(i)
                    state.store(result, at: i, finished: shared.value.finished)
                }
            }
        }
    }
    return state.results.map { $0! }
}

/// The next item for a lane and the results so far, behind one lock.
private final class LaneState<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int
    private(set) var results: [T?]

    init(count: Int) {
        self.count = count
        results = Array(repeating: nil, count: count)
    }

    func take() -> Int? {
        lock.withLock {
            guard next < count else { return nil }
            defer { next += 1 }
            return next
        }
    }

    func store(_ result: T, at i: Int, finished: ((Int) -> Void)?) {
        lock.withLock {
            results[i] = result
            finished?(i)
        }
    }
}
