// The micro-kernels' last step (sgemm.c, bf16_gemm.c, small_gemm.c, codebook_gemm.c), internal to CKernels.
#ifndef HAT_TILE_STORE_H
#define HAT_TILE_STORE_H

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#include <immintrin.h>

/// The sum of a vector's eight floats (a dot product's partial sums, AVX2 kernels).
static inline __attribute__((always_inline, target("avx2,fma"))) float hat_hsum256(__m256 v) {
    __m128 lo = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    __m128 sh = _mm_movehdup_ps(lo);
    lo = _mm_add_ps(lo, sh);
    sh = _mm_movehl_ps(sh, lo);
    return _mm_cvtss_f32(_mm_add_ss(lo, sh));
}

/// Writes `rows` rows of a tile 32 floats wide, held as two vectors per row (acc0: columns 0–15,
/// acc1: 16–31), into row-major C, only its first `cols` columns: c = alpha·acc + beta·c on a
/// product's first K slice (`overwrite`; beta = 0 does not read c), c += alpha·acc after it.
static inline __attribute__((always_inline, target("avx512f"))) void
hat_store_tile32_avx512(const __m512 *acc0, const __m512 *acc1, long rows, long cols, float *c, long ldc, float alpha,
                        float beta, int overwrite) {
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const __mmask16 m0 = cols >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << cols) - 1);
    const __mmask16 m1 = cols >= 32 ? (__mmask16)0xffff : cols <= 16 ? 0 : (__mmask16)((1u << (cols - 16)) - 1);
    for (long r = 0; r < rows; r++) {
        float *x = c + r * ldc;
        __m512 v0 = _mm512_mul_ps(va, acc0[r]), v1 = _mm512_mul_ps(va, acc1[r]);
        if (!overwrite) {
            v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, x));
            v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, x + 16));
        } else if (beta != 0.0f) {
            v0 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m0, x), v0);
            v1 = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m1, x + 16), v1);
        }
        _mm512_mask_storeu_ps(x, m0, v0);
        _mm512_mask_storeu_ps(x + 16, m1, v1);
    }
}
#endif

#endif
