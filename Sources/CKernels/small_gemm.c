// Small-M SGEMM for decoder steps (docs/PERFORMANCE.md, "Translation and latency").
//
// A decoder step multiplies M = beam × sentences rows (5 in HAT's latency measurement) by every
// weight matrix of the decoder and by the output projection. OpenBLAS packs the whole weight
// matrix into a buffer on every call (sgemm_incopy), so each weight is read twice and written
// once, and the packing is most of the step. These kernels read each weight row once, straight
// from the (possibly super-sized) weight, and compute all M dot products against it.
//
// The AVX2/AVX-512 paths are compiled with per-function target attributes and chosen at run
// time, so the binary runs on any x86-64 (and the portable path everywhere else).

#include "hat_kernels.h"
#include "tile_store.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAT_X86 1
#include <immintrin.h>
#else
#define HAT_X86 0
#endif

static inline void store_result(float *c, float value, float alpha, float beta) {
    *c = beta == 0.0f ? alpha * value : alpha * value + beta * *c;
}

// MARK: portable

// The portable kernels are what an ARM build runs (docs/PLATFORMS.md), so they are written for the
// compiler's vectorizer: every accumulator is an array of LANES independent sums over k (lane j
// takes k ≡ j mod LANES), which needs no reassociation of float additions, so clang and gcc turn
// the inner loops into NEON or SSE code at -O3; the lanes are summed once per output. One weight
// row is read for up to 4 rows of A at a time.
#define LANES 16

static inline float sum_lanes(const float *acc) {
    float s = 0;
    for (int j = 0; j < LANES; j++) s += acc[j];
    return s;
}

// ROWS rows of A against one weight row; ROWS is a constant after inlining, so the
// accumulators stay in registers.
static inline __attribute__((always_inline)) void nt_tile_portable(const int ROWS, long K, float alpha, const float *a,
                                                                  long lda, const float *bn, float beta, float *c,
                                                                  long ldc) {
    const long whole = K / LANES * LANES;
    float acc[4][LANES] = {{0}};
    for (long k = 0; k < whole; k += LANES)
        for (int m = 0; m < ROWS; m++)
            for (int j = 0; j < LANES; j++) acc[m][j] += a[m * lda + k + j] * bn[k + j];
    for (int m = 0; m < ROWS; m++) {
        float s = sum_lanes(acc[m]);
        for (long k = whole; k < K; k++) s += a[m * lda + k] * bn[k];
        store_result(c + m * ldc, s, alpha, beta);
    }
}

static void nt_portable(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    for (long n = 0; n < N; n++) {
        const float *bn = b + n * ldb;
        for (long m0 = 0; m0 < M; m0 += 4) {
            const float *am = a + m0 * lda;
            float *cm = c + m0 * ldc + n;
            switch (M - m0 >= 4 ? 4 : M - m0) {
            case 4: nt_tile_portable(4, K, alpha, am, lda, bn, beta, cm, ldc); break;
            case 3: nt_tile_portable(3, K, alpha, am, lda, bn, beta, cm, ldc); break;
            case 2: nt_tile_portable(2, K, alpha, am, lda, bn, beta, cm, ldc); break;
            default: nt_tile_portable(1, K, alpha, am, lda, bn, beta, cm, ldc); break;
            }
        }
    }
}

// Row m of C accumulates alpha · a[m, k] · B's row k over k: contiguous rows, so the inner loop
// vectorizes (B is [K, N], row-major).
static void nn_portable(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    for (long m = 0; m < M; m++) {
        float *cm = c + m * ldc;
        for (long n = 0; n < N; n++) cm[n] = beta == 0.0f ? 0.0f : beta * cm[n];
        for (long k = 0; k < K; k++) {
            const float scale = alpha * a[m * lda + k];
            const float *bk = b + k * ldb;
            for (long n = 0; n < N; n++) cm[n] += scale * bk[n];
        }
    }
}

#if HAT_X86

// MARK: AVX2 + FMA

// Software prefetch of the weight rows PREFETCH_TILES tiles ahead, into L2 (prefetcht1). The
// hardware prefetcher alone leaves the weight stream at about 60 % of the memory bandwidth; a
// prefetch of the next tile into L1 (prefetcht0) was enough where the weights sat in a large L3,
// but from DRAM it holds one core to 12.5 of the 29 GB/s it reads (AMD EPYC Zen 4, 32 MiB L3): L1
// has few outstanding misses, L2 many. Into L2, two to eight tiles ahead, one core streams 22 GB/s
// and two cores 32 of their 33 GB/s (benchmarks/machine_floor.sh; docs/PERFORMANCE.md, "Every CPU").
#define PREFETCH_TILES 4

#define AVX2 __attribute__((target("avx2,fma")))
#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))

INLINE_AVX2 __m256i tail_mask256(long remaining) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)remaining), idx);
}

// MB rows of A against NB (1 or 2) rows of B; MB and NB are constants after inlining.
INLINE_AVX2 void nt_tile_avx2(const int MB, const int NB, long K, float alpha, const float *a, long lda,
                              const float *b, long ldb, float beta, float *c, long ldc) {
    __m256 acc[6][2];
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) acc[m][j] = _mm256_setzero_ps();
    long k = 0;
    for (; k + 8 <= K; k += 8) {
        __m256 w[2];
        for (int j = 0; j < NB; j++) w[j] = _mm256_loadu_ps(b + j * ldb + k);
        if ((k & 15) == 0)  // rows a few tiles ahead, into L2 (see nt_tile_avx512)
            for (int j = 0; j < NB; j++)
                _mm_prefetch((const char *)(b + (PREFETCH_TILES * NB + j) * ldb + k), _MM_HINT_T1);
        for (int m = 0; m < MB; m++) {
            __m256 x = _mm256_loadu_ps(a + m * lda + k);
            for (int j = 0; j < NB; j++) acc[m][j] = _mm256_fmadd_ps(x, w[j], acc[m][j]);
        }
    }
    if (k < K) {
        __m256i mask = tail_mask256(K - k);
        __m256 w[2];
        for (int j = 0; j < NB; j++) w[j] = _mm256_maskload_ps(b + j * ldb + k, mask);
        for (int m = 0; m < MB; m++) {
            __m256 x = _mm256_maskload_ps(a + m * lda + k, mask);
            for (int j = 0; j < NB; j++) acc[m][j] = _mm256_fmadd_ps(x, w[j], acc[m][j]);
        }
    }
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) store_result(c + m * ldc + j, hat_hsum256(acc[m][j]), alpha, beta);
}

#define NT_AVX2_ROWS(NB)                                                                              \
    for (long m0 = 0; m0 < M; m0 += 6) {                                                              \
        const float *am = a + m0 * lda;                                                               \
        float *cm = c + m0 * ldc + n;                                                                 \
        switch (M - m0 >= 6 ? 6 : M - m0) {                                                           \
        case 6: nt_tile_avx2(6, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;                \
        case 5: nt_tile_avx2(5, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;                \
        case 4: nt_tile_avx2(4, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;                \
        case 3: nt_tile_avx2(3, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;                \
        case 2: nt_tile_avx2(2, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;                \
        default: nt_tile_avx2(1, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;               \
        }                                                                                             \
    }

AVX2 static void nt_avx2(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                         float beta, float *c, long ldc) {
    long n = 0;
    for (; n + 2 <= N; n += 2) {
        const float *bn = b + n * ldb;
        NT_AVX2_ROWS(2)
    }
    for (; n < N; n++) {
        const float *bn = b + n * ldb;
        NT_AVX2_ROWS(1)
    }
}

// MB rows of A times B's columns [n, n + 16) (the last ones masked when fewer remain).
INLINE_AVX2 void nn_tile_avx2(const int MB, long K, long width, float alpha, const float *a, long lda,
                              const float *b, long ldb, float beta, float *c, long ldc) {
    __m256i mask0 = tail_mask256(width), mask1 = tail_mask256(width - 8);
    __m256 acc[6][2];
    for (int m = 0; m < MB; m++) acc[m][0] = acc[m][1] = _mm256_setzero_ps();
    for (long k = 0; k < K; k++) {
        __m256 b0 = _mm256_maskload_ps(b + k * ldb, mask0);
        __m256 b1 = _mm256_maskload_ps(b + k * ldb + 8, mask1);
        for (int m = 0; m < MB; m++) {
            __m256 x = _mm256_broadcast_ss(a + m * lda + k);
            acc[m][0] = _mm256_fmadd_ps(x, b0, acc[m][0]);
            acc[m][1] = _mm256_fmadd_ps(x, b1, acc[m][1]);
        }
    }
    __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    for (int m = 0; m < MB; m++) {
        float *cm = c + m * ldc;
        __m256 r0 = _mm256_mul_ps(acc[m][0], va), r1 = _mm256_mul_ps(acc[m][1], va);
        if (beta != 0.0f) {
            r0 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cm, mask0), r0);
            r1 = _mm256_fmadd_ps(vb, _mm256_maskload_ps(cm + 8, mask1), r1);
        }
        _mm256_maskstore_ps(cm, mask0, r0);
        _mm256_maskstore_ps(cm + 8, mask1, r1);
    }
}

AVX2 static void nn_avx2(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                         float beta, float *c, long ldc) {
    for (long n = 0; n < N; n += 16) {
        long width = N - n < 16 ? N - n : 16;
        for (long m0 = 0; m0 < M; m0 += 6) {
            const float *am = a + m0 * lda;
            const float *bn = b + n;
            float *cm = c + m0 * ldc + n;
            switch (M - m0 >= 6 ? 6 : M - m0) {
            case 6: nn_tile_avx2(6, K, width, alpha, am, lda, bn, ldb, beta, cm, ldc); break;
            case 5: nn_tile_avx2(5, K, width, alpha, am, lda, bn, ldb, beta, cm, ldc); break;
            case 4: nn_tile_avx2(4, K, width, alpha, am, lda, bn, ldb, beta, cm, ldc); break;
            case 3: nn_tile_avx2(3, K, width, alpha, am, lda, bn, ldb, beta, cm, ldc); break;
            case 2: nn_tile_avx2(2, K, width, alpha, am, lda, bn, ldb, beta, cm, ldc); break;
            default: nn_tile_avx2(1, K, width, alpha, am, lda, bn, ldb, beta, cm, ldc); break;
            }
        }
    }
}

// MARK: AVX-512F

// With avx512f alone the compiler allocates only zmm0–zmm20 here (scalar and 128-bit operations on
// zmm16–31 need AVX512VL) and spilled a third of the 6 × 4 tile's 24 accumulators to the stack on
// every iteration: half the kernel's speed at M = 30 (an encoder of 30 tokens).
#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))
#define INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f,avx512vl,fma")))

// MB rows of A against NB (1..4) rows of B.
INLINE_AVX512 void nt_tile_avx512(const int MB, const int NB, long K, float alpha, const float *a, long lda,
                                  const float *b, long ldb, float beta, float *c, long ldc) {
    __m512 acc[6][4];
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) acc[m][j] = _mm512_setzero_ps();
    long k = 0;
    for (; k + 16 <= K; k += 16) {
        __m512 w[4];
        for (int j = 0; j < NB; j++) w[j] = _mm512_loadu_ps(b + j * ldb + k);
        // The rows of the tile PREFETCH_TILES ahead, one cache line each per line consumed here.
        for (int j = 0; j < NB; j++)
            _mm_prefetch((const char *)(b + (PREFETCH_TILES * NB + j) * ldb + k), _MM_HINT_T1);
        for (int m = 0; m < MB; m++) {
            __m512 x = _mm512_loadu_ps(a + m * lda + k);
            for (int j = 0; j < NB; j++) acc[m][j] = _mm512_fmadd_ps(x, w[j], acc[m][j]);
        }
    }
    if (k < K) {
        __mmask16 mask = (__mmask16)((1u << (K - k)) - 1u);
        __m512 w[4];
        for (int j = 0; j < NB; j++) w[j] = _mm512_maskz_loadu_ps(mask, b + j * ldb + k);
        for (int m = 0; m < MB; m++) {
            __m512 x = _mm512_maskz_loadu_ps(mask, a + m * lda + k);
            for (int j = 0; j < NB; j++) acc[m][j] = _mm512_fmadd_ps(x, w[j], acc[m][j]);
        }
    }
    if (NB == 4) {
        // Four dot products of a row at once: fold the four accumulators into one vector whose
        // 128-bit chunk j holds four partial sums of accumulator j, then sum within chunks —
        // 13 shuffles and adds instead of four full reductions (about 32), which for the short
        // K of a SubTransformer (192–640) were a third of this kernel's instructions.
        for (int m = 0; m < MB; m++) {
            __m512 a01 = _mm512_add_ps(_mm512_shuffle_f32x4(acc[m][0], acc[m][1], 0x44),
                                       _mm512_shuffle_f32x4(acc[m][0], acc[m][1], 0xEE));
            __m512 a23 = _mm512_add_ps(_mm512_shuffle_f32x4(acc[m][2], acc[m][3], 0x44),
                                       _mm512_shuffle_f32x4(acc[m][2], acc[m][3], 0xEE));
            __m512 q = _mm512_add_ps(_mm512_shuffle_f32x4(a01, a23, 0x88), _mm512_shuffle_f32x4(a01, a23, 0xDD));
            q = _mm512_add_ps(q, _mm512_permute_ps(q, 0x4E));
            q = _mm512_add_ps(q, _mm512_permute_ps(q, 0xB1));
            float sums[16];
            _mm512_storeu_ps(sums, q);
            for (int j = 0; j < 4; j++) store_result(c + m * ldc + j, sums[4 * j], alpha, beta);
        }
        return;
    }
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) store_result(c + m * ldc + j, _mm512_reduce_add_ps(acc[m][j]), alpha, beta);
}

#define NT_AVX512_ROWS(NB)                                                                            \
    for (long m0 = 0; m0 < M; m0 += 6) {                                                              \
        const float *am = a + m0 * lda;                                                               \
        float *cm = c + m0 * ldc + n;                                                                 \
        switch (M - m0 >= 6 ? 6 : M - m0) {                                                           \
        case 6: nt_tile_avx512(6, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;              \
        case 5: nt_tile_avx512(5, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;              \
        case 4: nt_tile_avx512(4, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;              \
        case 3: nt_tile_avx512(3, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;              \
        case 2: nt_tile_avx512(2, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;              \
        default: nt_tile_avx512(1, NB, K, alpha, am, lda, bn, ldb, beta, cm, ldc); break;             \
        }                                                                                             \
    }

AVX512 static void nt_avx512(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                             float beta, float *c, long ldc) {
    long n = 0;
    for (; n + 4 <= N; n += 4) {
        const float *bn = b + n * ldb;
        NT_AVX512_ROWS(4)
    }
    for (; n < N; n++) {
        const float *bn = b + n * ldb;
        NT_AVX512_ROWS(1)
    }
}

#endif  // HAT_X86

void hat_sgemm_small_nt_isa(int isa, long M, long N, long K, float alpha, const float *a, long lda, const float *b,
                            long ldb, float beta, float *c, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (isa > hat_kernel_isa()) isa = hat_kernel_isa();
#if HAT_X86
    switch (isa) {
    case 2: nt_avx512(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc); return;
    case 1: nt_avx2(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc); return;
    default: break;
    }
#endif
    nt_portable(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

void hat_sgemm_small_nn_isa(int isa, long M, long N, long K, float alpha, const float *a, long lda, const float *b,
                            long ldb, float beta, float *c, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (isa > hat_kernel_isa()) isa = hat_kernel_isa();
#if HAT_X86
    if (isa >= 1) {
        nn_avx2(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
#endif
    nn_portable(M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

void hat_sgemm_small_nt(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    hat_sgemm_small_nt_isa(hat_kernel_isa(), M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

void hat_sgemm_small_nn(long M, long N, long K, float alpha, const float *a, long lda, const float *b, long ldb,
                        float beta, float *c, long ldc) {
    hat_sgemm_small_nn_isa(hat_kernel_isa(), M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}
