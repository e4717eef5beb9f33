// Mixed-precision GEMM for training: bfloat16 operands, float32 accumulation and output
// (the precision of PyTorch's CPU autocast and of every bf16 training recipe since Kalamkar et
// al., "A Study of BFLOAT16 for Deep Learning Training", 2019).
//
// Why: a training step is GEMM-bound (docs/PERFORMANCE.md), and CPUs with AVX512-BF16
// (Intel Cooper Lake and Sapphire Rapids, AMD Zen 4 and later) multiply bfloat16 pairs at twice
// the float32 FMA rate: one VDPBF16PS does 32 multiply-adds where VFMADD231PS does 16. Debian's
// OpenBLAS is built without its bfloat16 GEMM (cblas_sbgemm is declared but absent), so the
// engine carries its own.
//
// Shape: the classic Goto/BLIS blocking. For every KC-deep slice of K and NC-wide slice of N, B
// is rounded to bfloat16 and packed into panels of 32 columns in which the two values of each
// K pair sit side by side (the layout VDPBF16PS reads); for every MC-tall slice of M, A is
// packed the same way into panels of 8 rows. The micro-kernel keeps an 8 × 32 tile of C in 16
// AVX-512 registers and, per K pair, loads two B vectors and broadcasts one A pair per row.
// Rounding is to nearest even (VCVTNEPS2BF16's rule, and PyTorch's); K is padded with a zero to
// an even length, M and N with zero rows and columns that are never stored.
//
// Single-threaded: the engine splits C into blocks over its own threads (BLAS.swift).

#include "hat_kernels.h"
#include "packing_buffers.h"
#include "tile_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define HAT_BF16_X86 1
#include <immintrin.h>
#else
#define HAT_BF16_X86 0
#endif

enum { MR = 8, NR = 32, KC = 256, MC = 128, NC = 2048 };

/// float32 → bfloat16 bits, round to nearest even; NaN stays NaN (quiet).
static inline uint32_t bf16_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

float hat_bf16_round(float x) {
    uint32_t u = bf16_bits(x) << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int bf16_detected = -1;

int hat_bf16_gemm_available(void) {
    if (bf16_detected < 0) {
        int ok = 0;
#if HAT_BF16_X86
        __builtin_cpu_init();
        // Under HAT_KERNEL_ISA below avx512 (cpu_features.c) the portable path runs instead.
        ok = hat_kernel_isa() >= 2 && __builtin_cpu_supports("avx512bf16");
#endif
        bf16_detected = ok;
    }
    return bf16_detected;
}

// MARK: packing (portable C; the compiler vectorizes the unit-stride loops)

/// One row of A, k0 ..< k0+kc at unit stride, as kcp bfloat16 pairs (the last padded with zero).
static void pack_row_portable(const float *row, long kc, uint32_t *out) {
    long kp = 0;
    for (; 2 * kp + 1 < kc; kp++) out[kp] = bf16_bits(row[2 * kp]) | bf16_bits(row[2 * kp + 1]) << 16;
    if (2 * kp < kc) out[kp] = bf16_bits(row[2 * kp]);
}

#if HAT_BF16_X86
/// The same with VCVTNE2PS2BF16, 32 values per instruction (same rounding: nearest even).
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void pack_row_avx512bf16(const float *row, long kc, uint32_t *out, const float *ahead) {
    long k = 0;
    for (; k + 32 <= kc; k += 32) {
        // A is read once per slice, often from memory: fetch the row MR rows ahead meanwhile.
        _mm_prefetch((const char *)(ahead + k), _MM_HINT_T0);
        _mm_prefetch((const char *)(ahead + k + 16), _MM_HINT_T0);
        const __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(row + k + 16), _mm512_loadu_ps(row + k));
        _mm512_storeu_si512((void *)(out + k / 2), (__m512i)v);
    }
    pack_row_portable(row + k, kc - k, out + k / 2);
}

/// 16 pairs from two 16-float vectors: word j = lo[j] | hi[j] << 16, rounded to nearest even.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static inline __m512i interleave_pairs(__m512 lo, __m512 hi) {
    // VCVTNE2PS2BF16 puts lo's 16 values in the low half and hi's in the high half; the
    // permutation then takes them alternately.
    static const uint16_t order[32] = {0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23,
                                       8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31};
    const __m512i v = (__m512i)_mm512_cvtne2ps_pbh(hi, lo);
    return _mm512_permutexvar_epi16(_mm512_loadu_si512((const void *)order), v);
}

/// Two float vectors of 8 as one of 16 (a in the low half).
__attribute__((target("avx512f")))
static inline __m512 concat8(__m256 a, __m256 b) {
    return _mm512_castpd_ps(_mm512_insertf64x4(_mm512_castps_pd(_mm512_castps256_ps512(a)), _mm256_castps_pd(b), 1));
}

/// NR = 32 pairs from rows k and k+1 of a row-major B: o[j] = r0[j] | r1[j] << 16.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void pack_b_rows_avx512bf16(const float *r0, const float *r1, uint32_t *o) {
    _mm512_storeu_si512((void *)o, interleave_pairs(_mm512_loadu_ps(r0), _mm512_loadu_ps(r1)));
    _mm512_storeu_si512((void *)(o + 16), interleave_pairs(_mm512_loadu_ps(r0 + 16), _mm512_loadu_ps(r1 + 16)));
}

/// Two K pairs of an MR = 8 panel of a column-major A (rows r0..r3 are A's columns k..k+3 at
/// rows m..m+7): o[0..<8] = r0 | r1 << 16, o[8..<16] = r2 | r3 << 16.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))
static void pack_a_columns_avx512bf16(const float *r0, const float *r1, const float *r2, const float *r3, uint32_t *o) {
    const __m512 lo = concat8(_mm256_loadu_ps(r0), _mm256_loadu_ps(r2));
    const __m512 hi = concat8(_mm256_loadu_ps(r1), _mm256_loadu_ps(r3));
    _mm512_storeu_si512((void *)o, interleave_pairs(lo, hi));
}
#endif

/// B(k, n) = b[k·b_rs + n·b_cs]. Packs rows k0 ..< k0+kc and columns n0 ..< n0+nc into panels of
/// NR columns: out[panel][kp][j] = B(k0+2kp, n) | B(k0+2kp+1, n) << 16, zero outside B.
static void pack_b(const float *b, long b_rs, long b_cs, long k0, long kc, long n0, long nc, uint32_t *out, int vector) {
    const long kcp = (kc + 1) / 2;
    (void)vector;
    for (long p = 0; p < nc; p += NR) {
        const long cols = nc - p < NR ? nc - p : NR;
        uint32_t *panel = out + (p / NR) * kcp * NR;
        if (b_cs == 1) {
            for (long kp = 0; kp < kcp; kp++) {
                const long k = k0 + 2 * kp;
                const float *r0 = b + k * b_rs + n0 + p;
                const float *r1 = r0 + b_rs;
                uint32_t *o = panel + kp * NR;
#if HAT_BF16_X86
                if (vector && cols == NR && 2 * kp + 1 < kc) {
                    pack_b_rows_avx512bf16(r0, r1, o);
                    continue;
                }
#endif
                if (2 * kp + 1 < kc) {
                    for (long j = 0; j < cols; j++) o[j] = bf16_bits(r0[j]) | bf16_bits(r1[j]) << 16;
                } else {
                    for (long j = 0; j < cols; j++) o[j] = bf16_bits(r0[j]);
                }
                for (long j = cols; j < NR; j++) o[j] = 0;
            }
        } else {
            // Column n of B is unit-stride along k when b_rs = 1 (B = Wᵀ): convert it as a row,
            // then spread its pairs over the panel.
            uint32_t pairs[KC / 2];
            for (long j = 0; j < NR; j++) {
                if (j >= cols) {
                    for (long kp = 0; kp < kcp; kp++) panel[kp * NR + j] = 0;
                    continue;
                }
                const float *col = b + (n0 + p + j) * b_cs + k0 * b_rs;
                if (b_rs == 1) {
#if HAT_BF16_X86
                    if (vector) pack_row_avx512bf16(col, kc, pairs, col + b_cs); else
#endif
                    pack_row_portable(col, kc, pairs);
                    for (long kp = 0; kp < kcp; kp++) panel[kp * NR + j] = pairs[kp];
                    continue;
                }
                long kp = 0;
                for (; 2 * kp + 1 < kc; kp++)
                    panel[kp * NR + j] = bf16_bits(col[2 * kp * b_rs]) | bf16_bits(col[(2 * kp + 1) * b_rs]) << 16;
                if (kp < kcp) panel[kp * NR + j] = bf16_bits(col[2 * kp * b_rs]);
            }
        }
    }
}

/// A(m, k) = a[m·a_rs + k·a_cs]. Packs rows m0 ..< m0+mc, columns k0 ..< k0+kc into panels of MR
/// rows (zero outside A), in one of two layouts so that packing reads A along its unit stride:
/// row-major A (a_cs = 1): out[panel][r][kp]; otherwise out[panel][kp][r]. Either way the pair
/// for (r, kp) is A(m, k0+2kp) | A(m, k0+2kp+1) << 16. Returns whether the layout is row-major.
static int pack_a(const float *a, long a_rs, long a_cs, long m0, long mc, long k0, long kc, uint32_t *out, int vector) {
    const long kcp = (kc + 1) / 2;
    if (a_cs == 1) {
        for (long p = 0; p < mc; p += MR) {
            const long rows = mc - p < MR ? mc - p : MR;
            uint32_t *panel = out + (p / MR) * kcp * MR;
            for (long r = 0; r < MR; r++) {
                uint32_t *o = panel + r * kcp;
                if (r >= rows) { memset(o, 0, (size_t)kcp * 4); continue; }
                const float *row = a + (m0 + p + r) * a_rs + k0;
#if HAT_BF16_X86
                if (vector) { pack_row_avx512bf16(row, kc, o, row + MR * a_rs); continue; }
#endif
                (void)vector;
                pack_row_portable(row, kc, o);
            }
        }
        return 1;
    }
    for (long p = 0; p < mc; p += MR) {
        const long rows = mc - p < MR ? mc - p : MR;
        uint32_t *panel = out + (p / MR) * kcp * MR;
        if (a_rs == 1 && rows == MR) {
            long kp = 0;
#if HAT_BF16_X86
            if (vector && MR == 8) {
                for (; 2 * kp + 3 < kc; kp += 2) {
                    const float *r0 = a + (k0 + 2 * kp) * a_cs + m0 + p;
                    pack_a_columns_avx512bf16(r0, r0 + a_cs, r0 + 2 * a_cs, r0 + 3 * a_cs, panel + kp * MR);
                }
            }
#endif
            for (; kp < kcp; kp++) {
                const float *r0 = a + (k0 + 2 * kp) * a_cs + m0 + p;
                uint32_t *o = panel + kp * MR;
                if (2 * kp + 1 < kc) {
                    const float *r1 = r0 + a_cs;
                    for (long r = 0; r < MR; r++) o[r] = bf16_bits(r0[r]) | bf16_bits(r1[r]) << 16;
                } else {
                    for (long r = 0; r < MR; r++) o[r] = bf16_bits(r0[r]);
                }
            }
        } else {
            for (long r = 0; r < MR; r++) {
                if (r >= rows) {
                    for (long kp = 0; kp < kcp; kp++) panel[kp * MR + r] = 0;
                    continue;
                }
                const float *row = a + (m0 + p + r) * a_rs + k0 * a_cs;
                long kp = 0;
                for (; 2 * kp + 1 < kc; kp++)
                    panel[kp * MR + r] = bf16_bits(row[2 * kp * a_cs]) | bf16_bits(row[(2 * kp + 1) * a_cs]) << 16;
                if (kp < kcp) panel[kp * MR + r] = bf16_bits(row[2 * kp * a_cs]);
            }
        }
    }
    return 0;
}

// MARK: micro-kernels

/// c[r, 0..<cols] (+)= alpha · Σ_kp pa[kp][r] · pb[kp][0..<cols] for r < rows. `overwrite` means
/// c = alpha·acc + beta·c (first K slice; beta = 0 does not read c), otherwise c += alpha·acc.
static void kernel_portable(long kcp, const uint32_t *pa, long ars, long aks, const uint32_t *pb, float *c, long ldc,
                            long rows, long cols, float alpha, float beta, int overwrite) {
    float acc[MR][NR];
    memset(acc, 0, sizeof acc);
    for (long kp = 0; kp < kcp; kp++) {
        for (long r = 0; r < MR; r++) {
            uint32_t w = pa[r * ars + kp * aks];
            uint32_t lo = w << 16, hi = w & 0xffff0000u;
            float a0, a1;
            memcpy(&a0, &lo, 4);
            memcpy(&a1, &hi, 4);
            for (long j = 0; j < NR; j++) {
                uint32_t v = pb[kp * NR + j];
                uint32_t blo = v << 16, bhi = v & 0xffff0000u;
                float b0, b1;
                memcpy(&b0, &blo, 4);
                memcpy(&b1, &bhi, 4);
                acc[r][j] += a0 * b0 + a1 * b1;
            }
        }
    }
    for (long r = 0; r < rows; r++) {
        for (long j = 0; j < cols; j++) {
            float *x = c + r * ldc + j;
            if (!overwrite) *x += alpha * acc[r][j];
            else *x = beta == 0.0f ? alpha * acc[r][j] : alpha * acc[r][j] + beta * *x;
        }
    }
}

#if HAT_BF16_X86
#define BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

BF16_TARGET
static void kernel_avx512bf16(long kcp, const uint32_t *pa, long ars, long aks, const uint32_t *pb, float *c, long ldc,
                              long rows, long cols, float alpha, float beta, int overwrite) {
    __m512 acc0[MR], acc1[MR];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }
    // Fetch the C tile while the products run: C of a training product is megabytes, so its rows
    // miss every cache when the tile is updated below (perf: ~20 % of the kernel's time there).
    for (long r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);
    }
    for (long kp = 0; kp < kcp; kp++) {
        const __m512bh b0 = (__m512bh)_mm512_loadu_si512((const void *)(pb + kp * NR));
        const __m512bh b1 = (__m512bh)_mm512_loadu_si512((const void *)(pb + kp * NR + 16));
        const uint32_t *ap = pa + kp * aks;
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) {
            const __m512bh av = (__m512bh)_mm512_set1_epi32((int)ap[r * ars]);
            acc0[r] = _mm512_dpbf16_ps(acc0[r], av, b0);
            acc1[r] = _mm512_dpbf16_ps(acc1[r], av, b1);
        }
    }
    hat_store_tile32_avx512(acc0, acc1, rows, cols, c, ldc, alpha, beta, overwrite);
}
#endif

// MARK: driver

int hat_sgemm_bf16_isa(int isa, long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs,
                       const float *b, long b_rs, long b_cs, float beta, float *c, long ldc) {
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0) {
        for (long m = 0; m < M; m++)
            for (long n = 0; n < N; n++) c[m * ldc + n] = beta == 0.0f ? 0.0f : beta * c[m * ldc + n];
        return 0;
    }
#if HAT_BF16_X86
    const int vector = isa >= 1 && hat_bf16_gemm_available();
#else
    const int vector = 0;
    (void)isa;
#endif
    const long ncMax = N < NC ? N : NC, kcMax = K < KC ? K : KC, mcMax = M < MC ? M : MC;
    const long kcpMax = (kcMax + 1) / 2;
    uint32_t *pb = hat_packing_buffer(HAT_PACK_BF16_B, (size_t)((ncMax + NR - 1) / NR) * kcpMax * NR * 4);
    uint32_t *pa = hat_packing_buffer(HAT_PACK_BF16_A, (size_t)((mcMax + MR - 1) / MR) * kcpMax * MR * 4);
    if (!pa || !pb) return -1;
    for (long jc = 0; jc < N; jc += NC) {
        const long nc = N - jc < NC ? N - jc : NC;
        for (long pc = 0; pc < K; pc += KC) {
            const long kc = K - pc < KC ? K - pc : KC;
            const long kcp = (kc + 1) / 2;
            pack_b(b, b_rs, b_cs, pc, kc, jc, nc, pb, vector);
            for (long ic = 0; ic < M; ic += MC) {
                const long mc = M - ic < MC ? M - ic : MC;
                const int rowMajor = pack_a(a, a_rs, a_cs, ic, mc, pc, kc, pa, vector);
                const long ars = rowMajor ? kcp : 1, aks = rowMajor ? 1 : MR;
                for (long jr = 0; jr < nc; jr += NR) {
                    const long cols = nc - jr < NR ? nc - jr : NR;
                    const uint32_t *bp = pb + (jr / NR) * kcp * NR;
                    for (long ir = 0; ir < mc; ir += MR) {
                        const long rows = mc - ir < MR ? mc - ir : MR;
                        const uint32_t *ap = pa + (ir / MR) * kcp * MR;
                        float *cp = c + (ic + ir) * ldc + jc + jr;
#if HAT_BF16_X86
                        if (vector) {
                            kernel_avx512bf16(kcp, ap, ars, aks, bp, cp, ldc, rows, cols, alpha, beta, pc == 0);
                            continue;
                        }
#endif
                        kernel_portable(kcp, ap, ars, aks, bp, cp, ldc, rows, cols, alpha, beta, pc == 0);
                    }
                }
            }
        }
    }
    return 0;
}

int hat_sgemm_bf16(long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
                   long b_cs, float beta, float *c, long ldc) {
    return hat_sgemm_bf16_isa(1, M, N, K, alpha, a, a_rs, a_cs, b, b_rs, b_cs, beta, c, ldc);
}
