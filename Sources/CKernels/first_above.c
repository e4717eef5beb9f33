// The first value above a threshold in a row of floats: beam search's scan of a hypothesis's
// log-probabilities over the whole target vocabulary (Generate/BeamSearch.swift). Once the beam
// holds its best 2·beam candidates almost no token can enter, so the scan is a compare per value
// at memory speed; Swift compiled for baseline x86-64 does it one value at a time.

#include "hat_kernels.h"

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

__attribute__((target("avx2")))
static long first_above_avx2(const float *x, long n, float threshold) {
    const __m256 t = _mm256_set1_ps(threshold);
    long i = 0;
    for (; i + 32 <= n; i += 32) {
        const __m256 a = _mm256_cmp_ps(_mm256_loadu_ps(x + i), t, _CMP_GT_OQ),
                     b = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 8), t, _CMP_GT_OQ),
                     c = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 16), t, _CMP_GT_OQ),
                     d = _mm256_cmp_ps(_mm256_loadu_ps(x + i + 24), t, _CMP_GT_OQ);
        if (_mm256_movemask_ps(_mm256_or_ps(_mm256_or_ps(a, b), _mm256_or_ps(c, d)))) break;
    }
    for (; i < n; i++) if (x[i] > threshold) return i;
    return n;
}
#endif

long hat_first_above(const float *x, long n, float threshold) {
#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
    if (hat_kernel_isa() >= 1) return first_above_avx2(x, n, threshold);
#endif
    for (long i = 0; i < n; i++) if (x[i] > threshold) return i;
    return n;
}
