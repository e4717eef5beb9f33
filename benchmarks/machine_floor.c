// This machine's floors for docs/PERFORMANCE.md: the float32 FMA peak of one core, the read
// bandwidth of 1 and 2 threads from buffers of L2, L3 and DRAM size, and the small-M kernel's
// decoder-step product (5 rows × a [N, 512] weight) streaming the same buffers: a decoder step
// that reads every weight once cannot be faster than its bytes over the bandwidth.
// Built and run by benchmarks/machine_floor.sh (clang, x86-64 with AVX-512 or AVX2).
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "hat_kernels.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

__attribute__((target("avx2,fma"))) static double fma_peak(void) {
    __m256 acc[12];
    for (int i = 0; i < 12; i++) acc[i] = _mm256_set1_ps(i * 0.001f);
    const __m256 x = _mm256_set1_ps(0.9999f), y = _mm256_set1_ps(0.0001f);
    const long n = 100000000;
    double t = now();
    for (long i = 0; i < n; i++)
        for (int j = 0; j < 12; j++) acc[j] = _mm256_fmadd_ps(acc[j], x, y);
    t = now() - t;
    float s = 0, out[8];
    for (int i = 0; i < 12; i++) { _mm256_storeu_ps(out, acc[i]); s += out[0]; }
    return s == 12345.f ? 0 : n * 12 * 16.0 / t / 1e9;
}

__attribute__((target("avx512f"))) static double fma_peak512(void) {
    __m512 acc[24];
    for (int i = 0; i < 24; i++) acc[i] = _mm512_set1_ps(i * 0.001f);
    const __m512 x = _mm512_set1_ps(0.9999f), y = _mm512_set1_ps(0.0001f);
    const long n = 100000000;
    double t = now();
    for (long i = 0; i < n; i++)
        for (int j = 0; j < 24; j++) acc[j] = _mm512_fmadd_ps(acc[j], x, y);
    t = now() - t;
    float s = 0;
    for (int i = 0; i < 24; i++) s += _mm512_reduce_add_ps(acc[i]);
    return s == 12345.f ? 0 : n * 24 * 32.0 / t / 1e9;
}

static float *buffer, *x, *y;
static long floats, rows_n, threads;
static volatile float sink;

__attribute__((target("avx2"))) static void *read_part(void *p) {
    const long t = (long)p, a = floats * t / threads / 32 * 32, b = floats * (t + 1) / threads / 32 * 32;
    __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
    for (long i = a; i < b; i += 32) {
        s0 = _mm256_add_ps(s0, _mm256_load_ps(buffer + i));
        s1 = _mm256_add_ps(s1, _mm256_load_ps(buffer + i + 8));
        s2 = _mm256_add_ps(s2, _mm256_load_ps(buffer + i + 16));
        s3 = _mm256_add_ps(s3, _mm256_load_ps(buffer + i + 24));
    }
    float out[8];
    _mm256_storeu_ps(out, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    sink += out[0];
    return 0;
}

static void *step_part(void *p) {
    const long t = (long)p, n0 = rows_n * t / threads, n1 = rows_n * (t + 1) / threads;
    hat_sgemm_small_nt(5, n1 - n0, 512, 1, x, 512, buffer + n0 * 512, 512, 0, y + n0, rows_n);
    return 0;
}

static double best_of(void *(*f)(void *), int repeats) {
    double best = 1e30;
    for (int r = 0; r < repeats; r++) {
        pthread_t th[8];
        const double t = now();
        for (long i = 0; i < threads; i++) pthread_create(&th[i], 0, f, (void *)i);
        for (long i = 0; i < threads; i++) pthread_join(th[i], 0);
        const double e = now() - t;
        if (e < best) best = e;
    }
    return best;
}

int main(void) {
    printf("float32 FMA peak, one core: AVX2 %.1f GFLOP/s", fma_peak());
    if (__builtin_cpu_supports("avx512f")) printf(", AVX-512 %.1f GFLOP/s", fma_peak512());
    printf("\n");
    const long sizes_mb[] = {16, 128, 1024};  // (a 1 MB buffer measures thread start-up, not bandwidth)
    for (int s = 0; s < 3; s++) {
        floats = sizes_mb[s] * 1024 * 1024 / 4;
        rows_n = floats / 512;
        buffer = aligned_alloc(64, floats * 4);
        x = aligned_alloc(64, 5 * 512 * 4);
        y = aligned_alloc(64, 5 * rows_n * 4);
        for (long i = 0; i < floats; i++) buffer[i] = 1e-3f;
        for (long i = 0; i < 5 * 512; i++) x[i] = 0.1f;
        for (threads = 1; threads <= 2; threads++) {
            const double read = best_of(read_part, 10), step = best_of(step_part, 10);
            printf("%5ld MB, %ld thread%s: read %5.1f GB/s; small-M 5x%ldx512 product %7.3f ms = %5.1f GB/s of weights (%.0f %% of the read rate)\n",
                   sizes_mb[s], threads, threads > 1 ? "s" : " ", floats * 4 / read / 1e9, rows_n, step * 1e3,
                   floats * 4 / step / 1e9, 100 * read / step);
        }
        free(buffer); free(x); free(y);
    }
    return 0;
}
