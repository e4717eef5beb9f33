import CKernels
import Foundation
import Synchronization
import Testing

@testable import TensorEngine

/// The engine's worker threads (CKernels/thread_pool.c through `runTasks` and `parallelFor`):
/// every task runs exactly once, jobs back to back reuse the workers, and nested or concurrent
/// jobs (which the pool refuses) still run every task, on libdispatch.
@Suite("Worker pool", .serialized)
struct WorkerPoolTests {
    /// Counts how often each task index ran.
    final class Tally: Sendable {
        let counts: Mutex<[Int]>
        init(_ n: Int) { counts = Mutex(Array(repeating: 0, count: n)) }
        func hit(_ i: Int) { counts.withLock { $0[i] += 1 } }
        var values: [Int] { counts.withLock { $0 } }
    }

    @Test("every task runs once, for any task and thread count, over many back-to-back jobs")
    func everyTaskOnce() {
        for threads in [1, 2, 3, 8] {
            ParallelSettings.withThreads(threads) {
                for tasks in [1, 2, 3, 7, 64] {
                    for _ in 0..<200 {
                        let tally = Tally(tasks)
                        runTasks(tasks) { tally.hit($0) }
                        #expect(tally.values == Array(repeating: 1, count: tasks), "threads \(threads), tasks \(tasks)")
                    }
                }
            }
        }
    }

    @Test("in a pooled job, task 0 runs on the caller and task 1 on a worker thread")
    func runsOnWorkers() throws {
        try #require(ParallelSettings.availableCores >= 2, "one core: the pool never starts a worker")
        // Another suite's job may hold the pool (the call then returns −1); retry until one runs.
        var pooledJobs = 0
        for _ in 0..<1_000 where pooledJobs < 20 {
            let threads = Mutex<[Int: pthread_t]>([:])
            var record: (Int) -> Void = { task in threads.withLock { $0[task] = pthread_self() } }
            let status = withUnsafeMutablePointer(to: &record) { pointer in
                hat_pool_run(
                    2, 2,
                    { context, index in
                        context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                    }, pointer)
            }
            guard status == 0 else {
                usleep(1_000)
                continue
            }
            pooledJobs += 1
            let ran = threads.withLock { $0 }
            #expect(ran.count == 2)
            #expect(ran[0].map { pthread_equal($0, pthread_self()) != 0 } == true, "task 0 not on the caller")
            #expect(ran[1].map { pthread_equal($0, pthread_self()) == 0 } == true, "task 1 on the caller")
        }
        #expect(pooledJobs == 20)
    }

    @Test("a task that starts a job of its own, and jobs from several threads at once, complete")
    func nestedAndConcurrent() {
        let outer = 4, inner = 5
        let tally = Tally(outer * inner)
        ParallelSettings.withThreads(2) {
            runTasks(outer) { o in
                ParallelSettings.withThreads(2) {
                    runTasks(inner) { i in tally.hit(o * inner + i) }
                }
            }
        }
        #expect(tally.values == Array(repeating: 1, count: outer * inner))

        let callers = 4, jobs = 100, tasks = 3
        let concurrent = Tally(callers * tasks)
        DispatchQueue.concurrentPerform(iterations: callers) { caller in
            ParallelSettings.withThreads(2) {
                for _ in 0..<jobs { runTasks(tasks) { concurrent.hit(caller * tasks + $0) } }
            }
        }
        #expect(concurrent.values == Array(repeating: jobs, count: callers * tasks))
    }

    @Test("parallelFor covers 0..<count in disjoint chunks")
    func parallelForCovers() {
        for count in [0, 1, 5, 100, 65_537] {
            let tally = Tally(max(count, 1))
            ParallelSettings.withThreads(2) {
                parallelFor(count, minimumPerThread: 2) { range in for i in range { tally.hit(i) } }
            }
            #expect(Array(tally.values.prefix(count)) == Array(repeating: 1, count: count), "count \(count)")
        }
    }
}
