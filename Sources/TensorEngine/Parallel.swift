import CKernels
import Dispatch

/// Splits `0..<count` into contiguous chunks and runs them on the available cores.
///
/// Work below `minimumPerThread` items per thread runs inline: on two cores, dispatching
/// costs more than it saves for small kernels (build-notes.md, "Swift speed habits").
@inlinable
public func parallelFor(_ count: Int, minimumPerThread: Int = 32_768, _ body: (Range<Int>) -> Void) {
    let threads = Swift.min(ParallelSettings.threads, count / Swift.max(minimumPerThread, 1))
    if threads <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    let chunk = (count + threads - 1) / threads
    runTasks(threads) { t in
        let start = t * chunk
        let end = Swift.min(count, start + chunk)
        if start < end { body(start..<end) }
    }
}

/// Runs body(0), …, body(tasks − 1) on the engine's worker threads (CKernels/thread_pool.c, which
/// start the next job in well under a microsecond) and returns when all are done. At most one
/// thread per core takes part (more tasks than cores share them). A call made while another job
/// runs (from a task, or from another thread) runs on libdispatch instead.
@usableFromInline
func runTasks(_ tasks: Int, _ body: (Int) -> Void) {
    withoutActuallyEscaping(body) { task in
        var job = task
        let ran = withUnsafeMutablePointer(to: &job) { pointer in
            hat_pool_run(
                tasks, Swift.min(tasks, ParallelSettings.availableCores),
                { context, index in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(index)
                }, pointer)
        }
        if ran != 0 {
            // The tasks share what `body` captures by design (disjoint ranges of one buffer).
            let shared = UncheckedSendable(task)
            DispatchQueue.concurrentPerform(iterations: tasks) { shared.value($0) }
        }
    }
}

/// A value handed to concurrent code whose safety the caller guarantees (disjoint writes, a
/// closure documented as callable from several threads).
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    public init(_ value: Value) { self.value = value }
}

/// How many chunks `parallelChunks` splits `count` items into (1 when it runs inline).
@inline(__always)
func parallelChunkCount(_ count: Int, minimumPerThread: Int = 32_768) -> Int {
    Swift.max(1, Swift.min(ParallelSettings.threads, count / Swift.max(minimumPerThread, 1)))
}

/// `parallelFor` that also passes each chunk's index in 0..<parallelChunkCount(...), so a
/// reduction can give every chunk its own partial result and combine them afterwards.
@inline(__always)
func parallelChunks(_ count: Int, minimumPerThread: Int = 32_768, _ body: (Int, Range<Int>) -> Void) {
    let chunks = parallelChunkCount(count, minimumPerThread: minimumPerThread)
    if chunks == 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    let size = (count + chunks - 1) / chunks
    runTasks(chunks) { t in
        let start = t * size
        let end = Swift.min(count, start + size)
        if start < end { body(t, start..<end) }
    }
}

/// Number of threads the elementwise kernels and row-wise reductions may use.
public enum ParallelSettings {
    /// The cores this process may run on: the default thread count of every command, as in
    /// PyTorch (docs/PERFORMANCE.md measures decoding and training at 1 and 2).
    public static let availableCores: Int = {
        #if os(Linux)
            return Swift.max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
        #else
            return Swift.max(1, ProcessInfo.processInfo.activeProcessorCount)
        #endif
    }()

    /// The threads of the calling thread's work: the process-wide count (the commands' `--threads`),
    /// unless `withThreads` narrows it for the code it runs.
    public static var threads: Int {
        get {
            if let marker = pthread_getspecific(overrideKey) { return Int(bitPattern: marker) }
            return processThreads
        }
        set {
            precondition(newValue >= 1, "thread count must be at least 1")
            processThreads = newValue
        }
    }

    nonisolated(unsafe) private static var processThreads: Int = availableCores

    /// Runs `body` with `count` threads on this thread (and the kernels it calls), whatever the
    /// process-wide count: independent jobs that each take some of the cores (translation lanes)
    /// do not split their products over cores that another job is using.
    public static func withThreads<T>(_ count: Int, _ body: () throws -> T) rethrows -> T {
        precondition(count >= 1, "thread count must be at least 1")
        let previous = pthread_getspecific(overrideKey)
        pthread_setspecific(overrideKey, UnsafeMutableRawPointer(bitPattern: count))
        defer { pthread_setspecific(overrideKey, previous) }
        return try body()
    }

    /// Per-thread override of `threads` (the count as pointer bits; nil: none).
    private static let overrideKey: pthread_key_t = {
        var k = pthread_key_t()
        precondition(pthread_key_create(&k, nil) == 0, "cannot create the thread-count key")
        return k
    }()
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
    import Foundation
#endif
