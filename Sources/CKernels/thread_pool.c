// The engine's worker threads: one job of `tasks` numbered tasks at a time, the caller taking its
// share. Why not libdispatch (DispatchQueue.concurrentPerform): a decoder step runs about forty
// products of 1–6 MB back to back, each worth 20–150 µs on a core, and waking a sleeping
// libdispatch worker through a futex for every one of them cost more than the second core saved,
// so those products stayed on one core (docs/PERFORMANCE.md, "Latency with HAT's method").
// Workers here spin on a generation counter for a short while after each job, as OpenMP runtimes
// do, and sleep on a condition variable only when no job comes: back-to-back jobs start in well
// under a microsecond.
//
// Task i of a job runs on participant i % participants (0 = the caller, w = worker w). The job's
// participant count travels in the same atomic word as its sequence number, so a worker that is
// not taking part learns it without reading the job's other fields, and the caller waits for the
// participants alone: no participant can still be reading a job's fields when the next job
// writes them. One job at a time: a second caller (another thread, or a task that starts a job
// of its own) gets −1 and runs its tasks another way. The caller passes at most as many threads
// as there are cores: a spinning worker must never wait for a core that another one holds.

#include "hat_kernels.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define HAT_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define HAT_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define HAT_CPU_RELAX() ((void)0)
#endif

enum { HAT_POOL_MAX_WORKERS = 63 };

/// How long an idle worker spins before it sleeps: long enough to span the gaps between the
/// products of a decoder step and between steps (layer norms, attention, the beam's bookkeeping:
/// tens of microseconds), short enough that a core is not held when no work follows.
static const long SPIN_NANOSECONDS = 200000;

static struct {
    atomic_flag busy;            // set while a job runs (one job at a time)
    atomic_long generation;      // per job: (sequence number << 8) | participants
    atomic_long pending;         // participating workers not yet finished with the current job
    atomic_int sleepers;         // workers blocked on `wake`
    long tasks;                  // the current job (written before `generation` is bumped)
    hat_pool_task_fn function;
    void *context;
    int workers;                 // workers started so far (they never exit)
    long start_generation[HAT_POOL_MAX_WORKERS + 1];  // the generation each worker starts from
    pthread_mutex_t lock;
    pthread_cond_t wake;
} pool = {
    .busy = ATOMIC_FLAG_INIT,
    .lock = PTHREAD_MUTEX_INITIALIZER,
    .wake = PTHREAD_COND_INITIALIZER,
};

static long now_nanoseconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long)t.tv_sec * 1000000000L + t.tv_nsec;
}

/// Runs the tasks of the current job that belong to participant `slot` (0 = the caller).
static void run_share(long slot, long participants) {
    for (long i = slot; i < pool.tasks; i += participants) pool.function(pool.context, i);
}

static void *worker_main(void *argument) {
    long slot = (long)argument;  // 1...workers
    long seen = pool.start_generation[slot];  // written before pthread_create
    for (;;) {
        // Spin for the next job, then sleep until it is announced.
        long deadline = now_nanoseconds() + SPIN_NANOSECONDS;
        long current;
        for (unsigned spins = 0;; spins++) {
            current = atomic_load_explicit(&pool.generation, memory_order_acquire);
            if (current != seen) break;
            HAT_CPU_RELAX();
            if ((spins & 255) == 255 && now_nanoseconds() > deadline) {
                atomic_fetch_add(&pool.sleepers, 1);
                pthread_mutex_lock(&pool.lock);
                while ((current = atomic_load(&pool.generation)) == seen)
                    pthread_cond_wait(&pool.wake, &pool.lock);
                pthread_mutex_unlock(&pool.lock);
                atomic_fetch_sub(&pool.sleepers, 1);
                break;
            }
        }
        seen = current;
        long participants = current & 255;
        if (slot < participants) {
            run_share(slot, participants);
            atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel);
        }
    }
    return NULL;
}

/// Starts workers until there are `wanted` (at most HAT_POOL_MAX_WORKERS); returns how many run.
static int grow(int wanted) {
    if (wanted > HAT_POOL_MAX_WORKERS) wanted = HAT_POOL_MAX_WORKERS;
    while (pool.workers < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        pool.start_generation[pool.workers + 1] = atomic_load(&pool.generation);
        int failed = pthread_create(&thread, &attributes, worker_main, (void *)(long)(pool.workers + 1));
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.workers++;
    }
    return pool.workers;
}

int hat_pool_run(long tasks, long threads, hat_pool_task_fn function, void *context) {
    if (tasks <= 0) return 0;
    if (threads < 2 || tasks < 2) {
        for (long i = 0; i < tasks; i++) function(context, i);
        return 0;
    }
    if (atomic_flag_test_and_set_explicit(&pool.busy, memory_order_acquire)) return -1;
    long helpers = (threads < tasks ? threads : tasks) - 1;
    int workers = helpers > 0 ? grow((int)helpers) : 0;
    if (workers > helpers) workers = (int)helpers;
    pool.tasks = tasks;
    pool.function = function;
    pool.context = context;
    long participants = workers + 1;
    atomic_store_explicit(&pool.pending, workers, memory_order_relaxed);
    long sequence = (atomic_load(&pool.generation) >> 8) + 1;
    atomic_store(&pool.generation, (sequence << 8) | participants);  // publishes the job
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_share(0, participants);
    // Wait for the participating workers; past the spin time yield the core.
    long deadline = now_nanoseconds() + SPIN_NANOSECONDS;
    for (unsigned spins = 0; atomic_load_explicit(&pool.pending, memory_order_acquire) > 0; spins++) {
        HAT_CPU_RELAX();
        if ((spins & 255) == 255 && now_nanoseconds() > deadline) sched_yield();
    }
    atomic_flag_clear_explicit(&pool.busy, memory_order_release);
    return 0;
}
