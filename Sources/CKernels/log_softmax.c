// Row-wise log-softmax with a vectorized exp: the step after the output projection, over the
// whole target vocabulary for every hypothesis of a decoder step.

#include "hat_kernels.h"
#include <math.h>

#if defined(__x86_64__) || defined(__i386__)
#define HAT_X86 1
#include <immintrin.h>
#else
#define HAT_X86 0
#endif

static void row_portable(const float *x, float *y, long width) {
    float m = -INFINITY;
    for (long j = 0; j < width; j++) m = x[j] > m ? x[j] : m;
    float s = 0;
    for (long j = 0; j < width; j++) s += expf(x[j] - m);
    float lse = m + logf(s);
    for (long j = 0; j < width; j++) y[j] = x[j] - lse;
}

#if HAT_X86

#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

// exp(x) for x ≤ 0 (Cephes expf: range reduction by ln 2, degree-5 polynomial); below −87.3 the
// result is clamped to about 1e-38, which adds nothing to a sum that includes exp(0) = 1.
INLINE_AVX2 __m256 exp256(__m256 x) {
    x = _mm256_max_ps(x, _mm256_set1_ps(-87.3f));
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
    __m256 p = _mm256_set1_ps(1.9875691500e-4f);
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
    p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
    p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(p, _mm256_castsi256_ps(e));
}

INLINE_AVX2 float hsum(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

INLINE_AVX2 float hmax(__m256 v) {
    __m128 lo = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
    lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
    return _mm_cvtss_f32(lo);
}

AVX2 static void row_avx2(const float *x, float *y, long width) {
    long body = width & ~7L, j;
    __m256 vm = _mm256_set1_ps(-INFINITY);
    for (j = 0; j < body; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + j));
    float m = hmax(vm);
    for (; j < width; j++) m = x[j] > m ? x[j] : m;
    if (!isfinite(m)) { row_portable(x, y, width); return; }
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), mv = _mm256_set1_ps(m);
    for (j = 0; j + 16 <= body; j += 16) {
        s0 = _mm256_add_ps(s0, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv)));
        s1 = _mm256_add_ps(s1, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv)));
    }
    for (; j < body; j += 8) s0 = _mm256_add_ps(s0, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv)));
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; j < width; j++) s += expf(x[j] - m);
    float lse = m + logf(s);
    __m256 lv = _mm256_set1_ps(lse);
    for (j = 0; j < body; j += 8) _mm256_storeu_ps(y + j, _mm256_sub_ps(_mm256_loadu_ps(x + j), lv));
    for (; j < width; j++) y[j] = x[j] - lse;
}

#endif

void hat_log_softmax_rows_isa(int isa, const float *x, float *y, long rows, long width) {
#if HAT_X86
    if (isa >= 1 && hat_small_gemm_isa() >= 1) {
        for (long r = 0; r < rows; r++) row_avx2(x + r * width, y + r * width, width);
        return;
    }
#endif
    for (long r = 0; r < rows; r++) row_portable(x + r * width, y + r * width, width);
}

void hat_log_softmax_rows(const float *x, float *y, long rows, long width) {
    hat_log_softmax_rows_isa(hat_small_gemm_isa(), x, y, rows, width);
}
