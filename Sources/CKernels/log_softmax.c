// Row-wise log-softmax with a vectorized exp: the step after the output projection, over the
// whole target vocabulary for every hypothesis of a decoder step; and the same row sums for the
// training loss (label-smoothed cross-entropy over 4,096 target tokens × the vocabulary, its
// forward and its gradient), which ran at about 8 % of a bf16 training step as a scalar Swift loop.

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

static void lse_row_portable(const float *x, long width, float *lse, float *total) {
    float m = -INFINITY, t = 0;
    for (long j = 0; j < width; j++) { m = x[j] > m ? x[j] : m; t += x[j]; }
    float s = 0;
    for (long j = 0; j < width; j++) s += expf(x[j] - m);
    *lse = m + logf(s);
    *total = t;
}

static void affine_exp_row_portable(const float *x, long width, float shift, float a, float b, float *out, int accumulate) {
    if (accumulate) for (long j = 0; j < width; j++) out[j] += a * expf(x[j] - shift) + b;
    else for (long j = 0; j < width; j++) out[j] = a * expf(x[j] - shift) + b;
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

/// Σ exp(x[j] − m) over a row whose maximum m is finite.
AVX2 static float sum_exp_avx2(const float *x, long width, float m) {
    long body = width & ~7L, j;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), mv = _mm256_set1_ps(m);
    for (j = 0; j + 16 <= body; j += 16) {
        s0 = _mm256_add_ps(s0, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv)));
        s1 = _mm256_add_ps(s1, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j + 8), mv)));
    }
    for (; j < body; j += 8) s0 = _mm256_add_ps(s0, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), mv)));
    float s = hsum(_mm256_add_ps(s0, s1));
    for (; j < width; j++) s += expf(x[j] - m);
    return s;
}

AVX2 static void row_avx2(const float *x, float *y, long width) {
    long body = width & ~7L, j;
    __m256 vm = _mm256_set1_ps(-INFINITY);
    for (j = 0; j < body; j += 8) vm = _mm256_max_ps(vm, _mm256_loadu_ps(x + j));
    float m = hmax(vm);
    for (; j < width; j++) m = x[j] > m ? x[j] : m;
    if (!isfinite(m)) { row_portable(x, y, width); return; }
    float lse = m + logf(sum_exp_avx2(x, width, m));
    __m256 lv = _mm256_set1_ps(lse);
    for (j = 0; j < body; j += 8) _mm256_storeu_ps(y + j, _mm256_sub_ps(_mm256_loadu_ps(x + j), lv));
    for (; j < width; j++) y[j] = x[j] - lse;
}

AVX2 static void lse_row_avx2(const float *x, long width, float *lse, float *total) {
    long body = width & ~7L, j;
    __m256 vm = _mm256_set1_ps(-INFINITY), t0 = _mm256_setzero_ps(), t1 = _mm256_setzero_ps();
    for (j = 0; j + 16 <= body; j += 16) {
        const __m256 v0 = _mm256_loadu_ps(x + j), v1 = _mm256_loadu_ps(x + j + 8);
        vm = _mm256_max_ps(vm, _mm256_max_ps(v0, v1));
        t0 = _mm256_add_ps(t0, v0);
        t1 = _mm256_add_ps(t1, v1);
    }
    for (; j < body; j += 8) {
        const __m256 v = _mm256_loadu_ps(x + j);
        vm = _mm256_max_ps(vm, v);
        t0 = _mm256_add_ps(t0, v);
    }
    float m = hmax(vm), t = hsum(_mm256_add_ps(t0, t1));
    for (; j < width; j++) { m = x[j] > m ? x[j] : m; t += x[j]; }
    // A NaN or an infinity: the scalar path gives libm's answer (a non-finite loss the trainer skips).
    if (!isfinite(m) || !isfinite(t)) { lse_row_portable(x, width, lse, total); return; }
    *lse = m + logf(sum_exp_avx2(x, width, m));
    *total = t;
}

AVX2 static void affine_exp_row_avx2(const float *x, long width, float shift, float a, float b, float *out, int accumulate) {
    long body = width & ~7L, j;
    const __m256 sv = _mm256_set1_ps(shift), av = _mm256_set1_ps(a), bv = _mm256_set1_ps(b);
    for (j = 0; j < body; j += 8) {
        __m256 y = _mm256_fmadd_ps(av, exp256(_mm256_sub_ps(_mm256_loadu_ps(x + j), sv)), bv);
        if (accumulate) y = _mm256_add_ps(y, _mm256_loadu_ps(out + j));
        _mm256_storeu_ps(out + j, y);
    }
    if (accumulate) for (; j < width; j++) out[j] += a * expf(x[j] - shift) + b;
    else for (; j < width; j++) out[j] = a * expf(x[j] - shift) + b;
}

#endif

void hat_logsumexp_rows_isa(int isa, const float *x, long rows, long width, float *lse, float *total) {
#if HAT_X86
    if (isa >= 1 && hat_kernel_isa() >= 1) {
        for (long r = 0; r < rows; r++) lse_row_avx2(x + r * width, width, lse + r, total + r);
        return;
    }
#endif
    for (long r = 0; r < rows; r++) lse_row_portable(x + r * width, width, lse + r, total + r);
}

void hat_logsumexp_rows(const float *x, long rows, long width, float *lse, float *total) {
    hat_logsumexp_rows_isa(hat_kernel_isa(), x, rows, width, lse, total);
}

void hat_affine_exp_row_isa(int isa, const float *x, long width, float shift, float a, float b, float *out, int accumulate) {
#if HAT_X86
    // exp256 clamps its argument below (−87.3) but not above, where the exponent bits would
    // overflow past ≈ 88: shift must be at least max(x), as a row's log-sum-exp is.
    if (isa >= 1 && hat_kernel_isa() >= 1) { affine_exp_row_avx2(x, width, shift, a, b, out, accumulate); return; }
#endif
    affine_exp_row_portable(x, width, shift, a, b, out, accumulate);
}

void hat_affine_exp_row(const float *x, long width, float shift, float a, float b, float *out, int accumulate) {
    hat_affine_exp_row_isa(hat_kernel_isa(), x, width, shift, a, b, out, accumulate);
}

void hat_log_softmax_rows_isa(int isa, const float *x, float *y, long rows, long width) {
#if HAT_X86
    if (isa >= 1 && hat_kernel_isa() >= 1) {
        for (long r = 0; r < rows; r++) row_avx2(x + r * width, y + r * width, width);
        return;
    }
#endif
    for (long r = 0; r < rows; r++) row_portable(x + r * width, y + r * width, width);
}

void hat_log_softmax_rows(const float *x, float *y, long rows, long width) {
    hat_log_softmax_rows_isa(hat_kernel_isa(), x, y, rows, width);
}
