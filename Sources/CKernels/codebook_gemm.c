// Products with codebook-quantized weights (K-means weight sharing, Deep Compression; HAT §4).
//
// A quantized weight row holds one small index per weight into its group's codebook of centroids.
// These kernels read the packed indices and look the centroids up in registers, so a decoder step
// streams 4 or 8 bits per weight instead of 32 (docs/PERFORMANCE.md, "Quantized decoding"); the
// weights are never expanded to float32 in memory beyond one 32-weight block per row at a time.
//
// Layout in memory (QuantizedMatrix.swift writes it): each row is a whole number of blocks,
// padded with index 0. 4-bit: 32-index blocks of 16 bytes, byte j holding index 32b + j in its low
// nibble and index 32b + 16 + j in its high nibble, so one load yields two 16-lane vectors of
// indices without a shuffle. 8-bit: one byte per index, rows padded to 64 indices. Codebooks are
// 16 (4-bit) or 256 (8-bit) floats per group of `group_rows` rows, zero beyond the centroids.
//
// 8-bit lookups: with AVX512-VBMI a 256-entry codebook is four byte planes (plane q holds byte q
// of every centroid, 256 bytes; `planes`, 1 KiB per group), and 64 indices look up a plane with
// two vpermt2b and a blend; interleaving the four planes' bytes (unpack 8, then 16) yields the 64
// floats in a fixed order within each 128-bit lane, so the activations are permuted once per call
// into that order instead. Without VBMI (or without planes) 8-bit indices gather from the float
// codebook, which is slower than float32 weights on CPUs that microcode gathers (docs/PERFORMANCE.md).

#include "hat_kernels.h"
#include "tile_store.h"
#include "packing_buffers.h"

#include <stdint.h>

#if defined(__x86_64__) || defined(__i386__)
#define HAT_X86 1
#include <immintrin.h>
#else
#define HAT_X86 0
#endif

static inline long block_bytes(int bits) { return bits == 4 ? 16 : 32; }

static inline const float *codebook_of(const float *codebooks, int bits, long row, long group_rows) {
    return codebooks + (row / group_rows) * (bits == 4 ? 16 : 256);
}

// The 32 weights of block `b` of one row, as floats.
static inline void decode_block(int bits, const uint8_t *row, long b, const float *cb, float *out) {
    const uint8_t *p = row + b * block_bytes(bits);
    if (bits == 4) {
        for (int j = 0; j < 16; j++) {
            out[j] = cb[p[j] & 15];
            out[16 + j] = cb[p[j] >> 4];
        }
    } else {
        for (int j = 0; j < 32; j++) out[j] = cb[p[j]];
    }
}

static void decode_rows_portable(int bits, const unsigned char *w, long ldw, const float *codebooks, long first_row,
                                 long group_rows, long rows, long K, float *out, long ldo) {
    float block[32];
    for (long r = 0; r < rows; r++) {
        const float *cb = codebook_of(codebooks, bits, first_row + r, group_rows);
        const uint8_t *row = w + r * ldw;
        float *o = out + r * ldo;
        for (long k0 = 0; k0 < K; k0 += 32) {
            decode_block(bits, row, k0 / 32, cb, block);
            long n = K - k0 < 32 ? K - k0 : 32;
            for (long j = 0; j < n; j++) o[k0 + j] = block[j];
        }
    }
}

static inline void store_result(float *c, float value, float beta) { *c = beta == 0.0f ? value : value + beta * *c; }

// MARK: portable

static void nt_portable(long M, long N, long K, const float *a, long lda, const uint8_t *w, long ldw, int bits,
                        const float *codebooks, long first_row, long group_rows, float beta, float *c, long ldc) {
    float block[32];
    for (long n = 0; n < N; n++) {
        const float *cb = codebook_of(codebooks, bits, first_row + n, group_rows);
        const uint8_t *row = w + n * ldw;
        for (long m0 = 0; m0 < M; m0 += 8) {
            long mb = M - m0 < 8 ? M - m0 : 8;
            float s[8] = {0};
            for (long k0 = 0; k0 < K; k0 += 32) {
                decode_block(bits, row, k0 / 32, cb, block);
                long kn = K - k0 < 32 ? K - k0 : 32;
                for (long m = 0; m < mb; m++) {
                    const float *x = a + (m0 + m) * lda + k0;
                    float t = 0;
                    for (long j = 0; j < kn; j++) t += x[j] * block[j];
                    s[m] += t;
                }
            }
            for (long m = 0; m < mb; m++) store_result(c + (m0 + m) * ldc + n, s[m], beta);
        }
    }
}

#if HAT_X86

// MARK: AVX2 + FMA

#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))
#define AVX2 __attribute__((target("avx2,fma")))

// 16-entry lookup: two 8-float halves, chosen by bit 3 of each index.
INLINE_AVX2 __m256 lookup16_avx2(__m256i idx, __m256 lo, __m256 hi) {
    __m256 from_lo = _mm256_permutevar8x32_ps(lo, idx), from_hi = _mm256_permutevar8x32_ps(hi, idx);
    return _mm256_blendv_ps(from_lo, from_hi, _mm256_castsi256_ps(_mm256_slli_epi32(idx, 28)));
}

// The block's 32 weights as four 8-float vectors.
INLINE_AVX2 void decode_block_avx2(int bits, const uint8_t *p, __m256 cb_lo, __m256 cb_hi, const float *cb, __m256 out[4]) {
    if (bits == 4) {
        // vpermps reads the low 3 bits of each lane and the blend bit 3 (moved to the sign): the
        // widened byte as it is for its low nibble, shifted right by 4 for its high one.
        __m256i lo = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)p));
        __m256i hi = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8)));
        out[0] = lookup16_avx2(lo, cb_lo, cb_hi);
        out[1] = lookup16_avx2(hi, cb_lo, cb_hi);
        out[2] = lookup16_avx2(_mm256_srli_epi32(lo, 4), cb_lo, cb_hi);
        out[3] = lookup16_avx2(_mm256_srli_epi32(hi, 4), cb_lo, cb_hi);
    } else {
        for (int q = 0; q < 4; q++) {
            __m256i idx = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i *)(p + 8 * q)));
            out[q] = _mm256_i32gather_ps(cb, idx, 4);
        }
    }
}

INLINE_AVX2 __m256i tail_mask256(long remaining) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    return _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(remaining > 8 ? 8 : remaining)), idx);
}

// MB rows of A against one quantized row.
INLINE_AVX2 void nt_tile_avx2(const int MB, int bits, long K, const float *a, long lda, const uint8_t *row,
                              const float *cb, float beta, float *c, long ldc) {
    __m256 acc[8];
    for (int m = 0; m < MB; m++) acc[m] = _mm256_setzero_ps();
    __m256 cb_lo = _mm256_loadu_ps(cb), cb_hi = _mm256_loadu_ps(cb + 8);
    for (long k0 = 0; k0 < K; k0 += 32) {
        __m256 wv[4];
        decode_block_avx2(bits, row + (k0 / 32) * block_bytes(bits), cb_lo, cb_hi, cb, wv);
        if (k0 + 32 <= K) {
            for (int m = 0; m < MB; m++) {
                const float *x = a + m * lda + k0;
                for (int q = 0; q < 4; q++) acc[m] = _mm256_fmadd_ps(_mm256_loadu_ps(x + 8 * q), wv[q], acc[m]);
            }
        } else {
            for (int q = 0; q < 4; q++) {
                long rem = K - k0 - 8 * q;
                if (rem <= 0) break;
                __m256i mask = tail_mask256(rem);
                for (int m = 0; m < MB; m++)
                    acc[m] = _mm256_fmadd_ps(_mm256_maskload_ps(a + m * lda + k0 + 8 * q, mask), wv[q], acc[m]);
            }
        }
    }
    for (int m = 0; m < MB; m++) store_result(c + m * ldc, hat_hsum256(acc[m]), beta);
}

AVX2 static void nt_avx2(long M, long N, long K, const float *a, long lda, const uint8_t *w, long ldw, int bits,
                         const float *codebooks, long first_row, long group_rows, float beta, float *c, long ldc) {
    for (long n = 0; n < N; n++) {
        const float *cb = codebook_of(codebooks, bits, first_row + n, group_rows);
        const uint8_t *row = w + n * ldw;
        for (long m0 = 0; m0 < M; m0 += 8) {
            const float *am = a + m0 * lda;
            float *cm = c + m0 * ldc + n;
            switch (M - m0 >= 8 ? 8 : M - m0) {
            case 8: nt_tile_avx2(8, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            case 7: nt_tile_avx2(7, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            case 6: nt_tile_avx2(6, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            case 5: nt_tile_avx2(5, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            case 4: nt_tile_avx2(4, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            case 3: nt_tile_avx2(3, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            case 2: nt_tile_avx2(2, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            default: nt_tile_avx2(1, bits, K, am, lda, row, cb, beta, cm, ldc); break;
            }
        }
    }
}

// MARK: AVX-512

#define INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f,avx512vl,fma")))
#define AVX512 __attribute__((target("avx512f,avx512vl,fma")))

// The block's 32 weights as two 16-float vectors: 4-bit indices look their centroid up in one
// register (vpermps); 8-bit ones gather from the group's 1 KiB codebook, which stays in L1.
INLINE_AVX512 void decode_block_avx512(int bits, const uint8_t *p, __m512 cb16, const float *cb, __m512 out[2]) {
    if (bits == 4) {
        // vpermps reads only the low 4 bits of each lane: the byte widened to 32 bits selects by
        // its low nibble as it is, and shifted right by 4 by its high nibble (no masking).
        __m512i lanes = _mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p));
        out[0] = _mm512_permutexvar_ps(lanes, cb16);
        out[1] = _mm512_permutexvar_ps(_mm512_srli_epi32(lanes, 4), cb16);
    } else {
        out[0] = _mm512_i32gather_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)p)), cb, 4);
        out[1] = _mm512_i32gather_ps(_mm512_cvtepu8_epi32(_mm_loadu_si128((const __m128i *)(p + 16))), cb, 4);
    }
}

INLINE_AVX512 __mmask16 tail_mask512(long remaining) {
    return remaining >= 16 ? (__mmask16)0xFFFF : remaining <= 0 ? (__mmask16)0 : (__mmask16)((1u << remaining) - 1u);
}

// MB rows of A against NB (1 or 2) quantized rows.
INLINE_AVX512 void nt_tile_avx512(const int MB, const int NB, int bits, long K, const float *a, long lda,
                                  const uint8_t *w, long ldw, const float *cb0, const float *cb1, float beta, float *c,
                                  long ldc) {
    __m512 acc[8][2];
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) acc[m][j] = _mm512_setzero_ps();
    const float *cbs[2] = {cb0, cb1};
    __m512 cb16[2];
    for (int j = 0; j < NB; j++) cb16[j] = _mm512_loadu_ps(cbs[j]);
    const long bb = block_bytes(bits);
    for (long k0 = 0; k0 < K; k0 += 32) {
        __m512 wv[2][2];
        for (int j = 0; j < NB; j++) {
            const uint8_t *p = w + j * ldw + (k0 / 32) * bb;
            _mm_prefetch((const char *)(p + 4 * bb), _MM_HINT_T0);
            decode_block_avx512(bits, p, cb16[j], cbs[j], wv[j]);
        }
        __mmask16 m0 = tail_mask512(K - k0), m1 = tail_mask512(K - k0 - 16);
        for (int m = 0; m < MB; m++) {
            const float *x = a + m * lda + k0;
            __m512 x0 = _mm512_maskz_loadu_ps(m0, x), x1 = _mm512_maskz_loadu_ps(m1, x + 16);
            for (int j = 0; j < NB; j++) {
                acc[m][j] = _mm512_fmadd_ps(x0, wv[j][0], acc[m][j]);
                acc[m][j] = _mm512_fmadd_ps(x1, wv[j][1], acc[m][j]);
            }
        }
    }
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) store_result(c + m * ldc + j, _mm512_reduce_add_ps(acc[m][j]), beta);
}

#define NT_AVX512_ROWS(NB)                                                                                   \
    for (long m0 = 0; m0 < M; m0 += 8) {                                                                     \
        const float *am = a + m0 * lda;                                                                      \
        float *cm = c + m0 * ldc + n;                                                                        \
        switch (M - m0 >= 8 ? 8 : M - m0) {                                                                  \
        case 8: nt_tile_avx512(8, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        case 7: nt_tile_avx512(7, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        case 6: nt_tile_avx512(6, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        case 5: nt_tile_avx512(5, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        case 4: nt_tile_avx512(4, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        case 3: nt_tile_avx512(3, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        case 2: nt_tile_avx512(2, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;           \
        default: nt_tile_avx512(1, NB, bits, K, am, lda, row, ldw, cb0, cb1, beta, cm, ldc); break;          \
        }                                                                                                    \
    }

AVX512 static void nt_avx512(long M, long N, long K, const float *a, long lda, const uint8_t *w, long ldw, int bits,
                             const float *codebooks, long first_row, long group_rows, float beta, float *c, long ldc) {
    long n = 0;
    for (; n + 2 <= N; n += 2) {
        const uint8_t *row = w + n * ldw;
        const float *cb0 = codebook_of(codebooks, bits, first_row + n, group_rows);
        const float *cb1 = codebook_of(codebooks, bits, first_row + n + 1, group_rows);
        NT_AVX512_ROWS(2)
    }
    for (; n < N; n++) {
        const uint8_t *row = w + n * ldw;
        const float *cb0 = codebook_of(codebooks, bits, first_row + n, group_rows), *cb1 = cb0;
        NT_AVX512_ROWS(1)
    }
}

// MARK: AVX-512 VBMI (8-bit)

#define VBMI_TARGET "avx512f,avx512vl,avx512bw,avx512vbmi,fma"
#define INLINE_VBMI static inline __attribute__((always_inline, target(VBMI_TARGET)))
#define VBMI __attribute__((target(VBMI_TARGET)))

static int vbmi_detected = -1;

static int vbmi_available(void) {
    if (vbmi_detected < 0) {
        __builtin_cpu_init();
        vbmi_detected = __builtin_cpu_supports("avx512vbmi") && __builtin_cpu_supports("avx512bw");
    }
    return vbmi_detected;
}

// 64 indices → 64 floats, out[q] lane L element i being index 16L + 4q + i of the block.
INLINE_VBMI void decode64_vbmi(const uint8_t *p, const uint8_t *planes, __m512 out[4]) {
    __m512i idx = _mm512_loadu_si512((const void *)p);
    __mmask64 high = _mm512_movepi8_mask(idx);  // bit 7: centroids 128–255
    __m512i b[4];
    for (int q = 0; q < 4; q++) {
        const uint8_t *t = planes + 256 * q;
        __m512i lo = _mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)t), idx, _mm512_loadu_si512((const void *)(t + 64)));
        __m512i hi =
            _mm512_permutex2var_epi8(_mm512_loadu_si512((const void *)(t + 128)), idx, _mm512_loadu_si512((const void *)(t + 192)));
        b[q] = _mm512_mask_blend_epi8(high, lo, hi);
    }
    __m512i b01l = _mm512_unpacklo_epi8(b[0], b[1]), b01h = _mm512_unpackhi_epi8(b[0], b[1]);
    __m512i b23l = _mm512_unpacklo_epi8(b[2], b[3]), b23h = _mm512_unpackhi_epi8(b[2], b[3]);
    out[0] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(b01l, b23l));
    out[1] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(b01l, b23l));
    out[2] = _mm512_castsi512_ps(_mm512_unpacklo_epi16(b01h, b23h));
    out[3] = _mm512_castsi512_ps(_mm512_unpackhi_epi16(b01h, b23h));
}

// MB rows of the permuted activations against NB (1 or 2) rows of 8-bit indices.
INLINE_VBMI void nt_tile_vbmi(const int MB, const int NB, long blocks, const float *xp, long ldxp, const uint8_t *w, long ldw,
                              const uint8_t *planes0, const uint8_t *planes1, float beta, float *c, long ldc) {
    __m512 acc[6][2];
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) acc[m][j] = _mm512_setzero_ps();
    const uint8_t *planes[2] = {planes0, planes1};
    for (long blk = 0; blk < blocks; blk++) {
        __m512 wv[2][4];
        for (int j = 0; j < NB; j++) {
            const uint8_t *p = w + j * ldw + 64 * blk;
            _mm_prefetch((const char *)(p + 256), _MM_HINT_T0);
            decode64_vbmi(p, planes[j], wv[j]);
        }
        for (int m = 0; m < MB; m++) {
            const float *x = xp + m * ldxp + 64 * blk;
            for (int q = 0; q < 4; q++) {
                __m512 xv = _mm512_loadu_ps(x + 16 * q);
                for (int j = 0; j < NB; j++) acc[m][j] = _mm512_fmadd_ps(xv, wv[j][q], acc[m][j]);
            }
        }
    }
    for (int m = 0; m < MB; m++)
        for (int j = 0; j < NB; j++) store_result(c + m * ldc + j, _mm512_reduce_add_ps(acc[m][j]), beta);
}

#define NT_VBMI_ROWS(NB)                                                                                      \
    for (long m0 = 0; m0 < M; m0 += 6) {                                                                      \
        const float *xm = xp + m0 * ldxp;                                                                     \
        float *cm = c + m0 * ldc + n;                                                                         \
        switch (M - m0 >= 6 ? 6 : M - m0) {                                                                   \
        case 6: nt_tile_vbmi(6, NB, blocks, xm, ldxp, row, ldw, pl0, pl1, beta, cm, ldc); break;              \
        case 5: nt_tile_vbmi(5, NB, blocks, xm, ldxp, row, ldw, pl0, pl1, beta, cm, ldc); break;              \
        case 4: nt_tile_vbmi(4, NB, blocks, xm, ldxp, row, ldw, pl0, pl1, beta, cm, ldc); break;              \
        case 3: nt_tile_vbmi(3, NB, blocks, xm, ldxp, row, ldw, pl0, pl1, beta, cm, ldc); break;              \
        case 2: nt_tile_vbmi(2, NB, blocks, xm, ldxp, row, ldw, pl0, pl1, beta, cm, ldc); break;              \
        default: nt_tile_vbmi(1, NB, blocks, xm, ldxp, row, ldw, pl0, pl1, beta, cm, ldc); break;             \
        }                                                                                                     \
    }

// Returns -1 (nothing written) when the permuted-activation buffer cannot be allocated.
VBMI static int nt_vbmi(long M, long N, long K, const float *a, long lda, const uint8_t *w, long ldw, const uint8_t *all_planes,
                        long first_row, long group_rows, float beta, float *c, long ldc) {
    const long blocks = (K + 63) / 64, ldxp = blocks * 64;
    float *xp = hat_packing_buffer(HAT_PACK_CODEBOOK_X, (size_t)(M * ldxp) * sizeof(float));
    if (!xp) return -1;
    // xp[16q + 4L + i] of a block = x[16L + 4q + i]: the order decode64_vbmi yields weights in.
    for (long m = 0; m < M; m++)
        for (long blk = 0; blk < blocks; blk++)
            for (int q = 0; q < 4; q++)
                for (int L = 0; L < 4; L++)
                    for (int i = 0; i < 4; i++) {
                        long k = 64 * blk + 16 * L + 4 * q + i;
                        xp[m * ldxp + 64 * blk + 16 * q + 4 * L + i] = k < K ? a[m * lda + k] : 0.0f;
                    }
    long n = 0;
    for (; n + 2 <= N; n += 2) {
        const uint8_t *row = w + n * ldw;
        const uint8_t *pl0 = all_planes + ((first_row + n) / group_rows) * 1024;
        const uint8_t *pl1 = all_planes + ((first_row + n + 1) / group_rows) * 1024;
        NT_VBMI_ROWS(2)
    }
    for (; n < N; n++) {
        const uint8_t *row = w + n * ldw;
        const uint8_t *pl0 = all_planes + ((first_row + n) / group_rows) * 1024, *pl1 = pl0;
        NT_VBMI_ROWS(1)
    }
    return 0;
}

// Whole 32- (4-bit) or 64-index (8-bit) blocks of rows decoded to floats in natural order; the
// last block's tail through a bounce buffer. Returns 0 when it handled the rows.
VBMI static void decode_rows_vbmi(const uint8_t *w, long ldw, const uint8_t *all_planes, long first_row, long group_rows,
                                  long rows, long K, float *out, long ldo) {
    for (long r = 0; r < rows; r++) {
        const uint8_t *planes = all_planes + ((first_row + r) / group_rows) * 1024;
        float *o = out + r * ldo;
        for (long k0 = 0; k0 < K; k0 += 64) {
            __m512 v[4];
            decode64_vbmi(w + r * ldw + k0, planes, v);
            // v[q] lane L holds indices 16L + 4q + (0..3): a 4 × 4 transpose of 128-bit lanes.
            __m512 t0 = _mm512_shuffle_f32x4(v[0], v[1], 0x44), t1 = _mm512_shuffle_f32x4(v[0], v[1], 0xEE);
            __m512 t2 = _mm512_shuffle_f32x4(v[2], v[3], 0x44), t3 = _mm512_shuffle_f32x4(v[2], v[3], 0xEE);
            __m512 n[4] = {_mm512_shuffle_f32x4(t0, t2, 0x88), _mm512_shuffle_f32x4(t0, t2, 0xDD),
                           _mm512_shuffle_f32x4(t1, t3, 0x88), _mm512_shuffle_f32x4(t1, t3, 0xDD)};
            for (int q = 0; q < 4; q++) {
                long rem = K - k0 - 16 * q;
                if (rem <= 0) break;
                _mm512_mask_storeu_ps(o + k0 + 16 * q, rem >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << rem) - 1u), n[q]);
            }
        }
    }
}

AVX512 static void decode_rows_avx512_4bit(const uint8_t *w, long ldw, const float *codebooks, long first_row, long group_rows,
                                           long rows, long K, float *out, long ldo) {
    for (long r = 0; r < rows; r++) {
        const float *cb = codebook_of(codebooks, 4, first_row + r, group_rows);
        __m512 cb16 = _mm512_loadu_ps(cb);
        float *o = out + r * ldo;
        for (long k0 = 0; k0 < K; k0 += 32) {
            __m512 v[2];
            decode_block_avx512(4, w + r * ldw + (k0 / 32) * 16, cb16, cb, v);
            _mm512_mask_storeu_ps(o + k0, tail_mask512(K - k0), v[0]);
            _mm512_mask_storeu_ps(o + k0 + 16, tail_mask512(K - k0 - 16), v[1]);
        }
    }
}

#endif  // HAT_X86

void hat_codebook_decode_rows_isa(int isa, int bits, const unsigned char *w, long ldw, const float *codebooks,
                                  const unsigned char *planes, long first_row, long group_rows, long rows, long K, float *out,
                                  long ldo) {
    if (isa > hat_kernel_isa()) isa = hat_kernel_isa();
#if HAT_X86
    if (isa == 2 && bits == 4) return decode_rows_avx512_4bit(w, ldw, codebooks, first_row, group_rows, rows, K, out, ldo);
    if (isa == 2 && bits == 8 && planes && vbmi_available())
        return decode_rows_vbmi(w, ldw, planes, first_row, group_rows, rows, K, out, ldo);
#endif
    decode_rows_portable(bits, w, ldw, codebooks, first_row, group_rows, rows, K, out, ldo);
}

void hat_codebook_decode_rows(int bits, const unsigned char *w, long ldw, const float *codebooks,
                              const unsigned char *planes, long first_row, long group_rows, long rows, long K, float *out,
                              long ldo) {
    hat_codebook_decode_rows_isa(hat_kernel_isa(), bits, w, ldw, codebooks, planes, first_row, group_rows, rows, K, out, ldo);
}

int hat_codebook_byte_lookups_available(void) {
#if HAT_X86
    return hat_kernel_isa() >= 2 && vbmi_available();
#else
    return 0;
#endif
}

void hat_codebook_planes(const float *codebooks, long groups, unsigned char *planes) {
    for (long g = 0; g < groups; g++)
        for (int j = 0; j < 256; j++) {
            uint32_t bits;
            const float v = codebooks[g * 256 + j];
            __builtin_memcpy(&bits, &v, 4);
            for (int q = 0; q < 4; q++) planes[g * 1024 + 256 * q + j] = (unsigned char)(bits >> (8 * q));
        }
}

void hat_codebook_gemm_nt_isa(int isa, long M, long N, long K, const float *a, long lda, const unsigned char *w,
                              long ldw, int bits, const float *codebooks, const unsigned char *planes, long first_row,
                              long group_rows, float beta, float *c, long ldc) {
    if (M <= 0 || N <= 0) return;
    if (isa > hat_kernel_isa()) isa = hat_kernel_isa();
#if HAT_X86
    if (isa == 2 && bits == 8 && planes && vbmi_available() &&
        nt_vbmi(M, N, K, a, lda, w, ldw, planes, first_row, group_rows, beta, c, ldc) == 0)
        return;
    switch (isa) {
    case 2: nt_avx512(M, N, K, a, lda, w, ldw, bits, codebooks, first_row, group_rows, beta, c, ldc); return;
    case 1: nt_avx2(M, N, K, a, lda, w, ldw, bits, codebooks, first_row, group_rows, beta, c, ldc); return;
    default: break;
    }
#endif
    nt_portable(M, N, K, a, lda, w, ldw, bits, codebooks, first_row, group_rows, beta, c, ldc);
}

void hat_codebook_gemm_nt(long M, long N, long K, const float *a, long lda, const unsigned char *w, long ldw, int bits,
                          const float *codebooks, const unsigned char *planes, long first_row, long group_rows, float beta,
                          float *c, long ldc) {
    hat_codebook_gemm_nt_isa(hat_kernel_isa(), M, N, K, a, lda, w, ldw, bits, codebooks, planes, first_row, group_rows,
                             beta, c, ldc);
}
