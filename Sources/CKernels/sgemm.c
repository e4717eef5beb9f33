// The engine's float32 GEMM for the large products of training and encoding.
//
// Why: a training step is GEMM-bound (docs/PERFORMANCE.md), and how fast the platform BLAS runs
// depends on whether it recognizes the CPU. Debian's OpenBLAS 0.3.21 does not know recent Intel
// Xeons (family 6 model 207) and falls back to its generic Prescott kernels, a fifth of the
// AVX-512 rate. This kernel picks its code from what the CPU can do (hat_kernel_isa), not from
// a CPU name, so it is as fast on a CPU newer than the BLAS as on the one it was built for.
//
// Shape: Goto/BLIS blocking, as in bf16_gemm.c. For every KC-deep slice of K and NC-wide slice
// of N, B is packed into panels of NR columns (panel[k][j]). A row-major A (activations) is read
// in place, MR rows at a time (only a last panel of fewer rows is copied, padded with zeros); a
// column-major A (a transposed gradient) is packed into panels of MR rows as panel[k][r]. The
// micro-kernel keeps an MR × NR tile of C in registers and per k
// loads NR/width vectors of B and broadcasts one value of A per row:
//   AVX-512: 12 × 32 (24 accumulators of 16 floats), AVX2+FMA: 6 × 16 (12 of 8), portable: 4 × 16.
// M and N are padded with zero rows and columns that are never stored.
//
// Single-threaded: the engine splits C into blocks over its own threads (BLAS.swift).

#include "hat_kernels.h"
#include "packing_buffers.h"
#include "tile_store.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__clang__) || defined(__GNUC__))
#define HAT_SGEMM_X86 1
#include <immintrin.h>
#else
#define HAT_SGEMM_X86 0
#endif

// K is cut into slices of at most KC (equal slices, none over KC): every slice reads and writes the
// whole of C once, and C of a training product is tens of megabytes, so a product with K up to KC
// (every forward product of a Transformer up to d = 1024) passes over C once. A B micro-panel
// (slice × NR floats, at most 96 KB for AVX-512) stays in L2 while the A panels of an MC block
// (MC × slice, at most 288 KB) stream past it; NC × slice of packed B (at most 6 MB) sits in L3.
// MC is a multiple of every MR (12, 6, 4).
enum { KC = 768, KC_TARGET = 512, MC = 96, NC = 2048 };

/// The depth of K's slices: all of K up to KC, else the equal split into slices of about KC_TARGET.
static long slice_depth(long K) {
    if (K <= KC) return K;
    const long slices = (K + KC_TARGET - 1) / KC_TARGET;
    return (K + slices - 1) / slices;
}

typedef void (*micro_kernel)(long kc, const float *pa, long ars, const float *pb, float *c, long ldc, long rows,
                             long cols, float alpha, float beta, int overwrite);

// MARK: packing

#if HAT_SGEMM_X86
/// dst[i·ds + j] = src[j·ss + i] for i, j < 8: eight columns of a column-major B (weight rows,
/// contiguous along k) as eight k-rows of a panel. A scalar copy strides its stores through the
/// whole panel and misses L1 on every one; this is 8 loads, 24 shuffles and 8 stores per 64 values.
__attribute__((target("avx2,fma")))
static void transpose8x8(const float *src, long ss, float *dst, long ds) {
    const __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ss), r2 = _mm256_loadu_ps(src + 2 * ss),
                 r3 = _mm256_loadu_ps(src + 3 * ss), r4 = _mm256_loadu_ps(src + 4 * ss), r5 = _mm256_loadu_ps(src + 5 * ss),
                 r6 = _mm256_loadu_ps(src + 6 * ss), r7 = _mm256_loadu_ps(src + 7 * ss);
    const __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1), t2 = _mm256_unpacklo_ps(r2, r3),
                 t3 = _mm256_unpackhi_ps(r2, r3), t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                 t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
    const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                 u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                 u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                 u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
    _mm256_storeu_ps(dst, _mm256_permute2f128_ps(u0, u4, 0x20));
    _mm256_storeu_ps(dst + ds, _mm256_permute2f128_ps(u1, u5, 0x20));
    _mm256_storeu_ps(dst + 2 * ds, _mm256_permute2f128_ps(u2, u6, 0x20));
    _mm256_storeu_ps(dst + 3 * ds, _mm256_permute2f128_ps(u3, u7, 0x20));
    _mm256_storeu_ps(dst + 4 * ds, _mm256_permute2f128_ps(u0, u4, 0x31));
    _mm256_storeu_ps(dst + 5 * ds, _mm256_permute2f128_ps(u1, u5, 0x31));
    _mm256_storeu_ps(dst + 6 * ds, _mm256_permute2f128_ps(u2, u6, 0x31));
    _mm256_storeu_ps(dst + 7 * ds, _mm256_permute2f128_ps(u3, u7, 0x31));
}
#endif

/// B(k, n) = b[k·b_rs + n·b_cs]. Packs rows k0 ..< k0+kc and columns n0 ..< n0+nc into panels of
/// nr columns: out[panel][k][j], zero outside B.
static void pack_b(const float *b, long b_rs, long b_cs, long k0, long kc, long n0, long nc, int nr, int isa, float *out) {
    for (long p = 0; p < nc; p += nr) {
        const long cols = nc - p < nr ? nc - p : nr;
        float *panel = out + (p / nr) * kc * nr;
        if (b_cs == 1) {
            // Row-major B (a weight in x·W, or activations): each k is a contiguous run of cols.
            const float *src = b + k0 * b_rs + n0 + p;
            if (cols == nr && (nr == 32 || nr == 16)) {
                // Whole rows of a panel at a constant size the compiler inlines (see pack_a).
                if (nr == 32) for (long k = 0; k < kc; k++) memcpy(panel + k * 32, src + k * b_rs, 32 * sizeof(float));
                else for (long k = 0; k < kc; k++) memcpy(panel + k * 16, src + k * b_rs, 16 * sizeof(float));
                continue;
            }
            for (long k = 0; k < kc; k++) {
                memcpy(panel + k * nr, src + k * b_rs, (size_t)cols * sizeof(float));
                for (long j = cols; j < nr; j++) panel[k * nr + j] = 0;
            }
        } else {
            // Column-major B (B = Wᵀ in x·Wᵀ): each column is a weight row, contiguous along k.
            long j0 = 0;
#if HAT_SGEMM_X86
            if (isa >= 1 && b_rs == 1) {
                // Groups of eight whole columns by 8 × 8 blocks; the k remainder and the last
                // columns below, one value at a time.
                const long k8 = kc / 8 * 8;
                for (; j0 + 8 <= cols; j0 += 8) {
                    const float *col = b + (n0 + p + j0) * b_cs + k0;
                    for (long k = 0; k < k8; k += 8) transpose8x8(col + k, b_cs, panel + k * nr + j0, nr);
                    for (long j = j0; j < j0 + 8; j++)
                        for (long k = k8; k < kc; k++) panel[k * nr + j] = b[(n0 + p + j) * b_cs + k0 + k];
                }
            }
#else
            (void)isa;
#endif
            for (long j = j0; j < nr; j++) {
                if (j >= cols) {
                    for (long k = 0; k < kc; k++) panel[k * nr + j] = 0;
                    continue;
                }
                const float *col = b + (n0 + p + j) * b_cs + k0 * b_rs;
                for (long k = 0; k < kc; k++) panel[k * nr + j] = col[k * b_rs];
            }
        }
    }
}

/// A(m, k) = a[m·a_rs + k·a_cs]. Packs rows m0 ..< m0+mc, columns k0 ..< k0+kc into panels of mr
/// rows, zero outside A. Row-major A (a_cs = 1; only its last partial panel is packed):
/// out[panel][r][k] with row stride KC; otherwise out[panel][k][r].
static void pack_a(const float *a, long a_rs, long a_cs, long m0, long mc, long k0, long kc, int mr, float *out) {
    if (a_cs == 1) {
        for (long p = 0; p < mc; p += mr) {
            const long rows = mc - p < mr ? mc - p : mr;
            float *panel = out + (p / mr) * mr * KC;
            for (long r = 0; r < mr; r++) {
                if (r < rows) memcpy(panel + r * KC, a + (m0 + p + r) * a_rs + k0, (size_t)kc * sizeof(float));
                else memset(panel + r * KC, 0, (size_t)kc * sizeof(float));
            }
        }
        return;
    }
    for (long p = 0; p < mc; p += mr) {
        const long rows = mc - p < mr ? mc - p : mr;
        float *panel = out + (p / mr) * mr * KC;
        if (a_rs == 1 && rows == mr && (mr == 12 || mr == 6)) {
            // A column-major A (Aᵀ of a weight gradient gᵀ·x): mr contiguous values per k, copied
            // with a constant size that the compiler inlines (a memcpy call per 24–48 bytes costs
            // more than the copy).
            const float *src = a + m0 + p + k0 * a_cs;
            if (mr == 12) for (long k = 0; k < kc; k++) memcpy(panel + k * 12, src + k * a_cs, 12 * sizeof(float));
            else for (long k = 0; k < kc; k++) memcpy(panel + k * 6, src + k * a_cs, 6 * sizeof(float));
            continue;
        }
        for (long k = 0; k < kc; k++) {
            const float *src = a + (m0 + p) * a_rs + (k0 + k) * a_cs;
            float *o = panel + k * mr;
            if (a_rs == 1) {
                memcpy(o, src, (size_t)rows * sizeof(float));
            } else {
                for (long r = 0; r < rows; r++) o[r] = src[r * a_rs];
            }
            for (long r = rows; r < mr; r++) o[r] = 0;
        }
    }
}

/// The A value of row r at depth k in a panel of mr rows: rows `ars` apart (a row-major A read in
/// place, or a packed partial panel), or, with ars = 0, packed column-wise.
#define A_AT(pa, ars, mr, r, k) ((ars) ? (pa)[(r) * (ars) + (k)] : (pa)[(k) * (mr) + (r)])

/// Writes one tile row: c = alpha·acc + beta·c on the first K slice (beta = 0 does not read c),
/// c += alpha·acc after it.
static inline void store_value(float *x, float acc, float alpha, float beta, int overwrite) {
    if (!overwrite) *x += alpha * acc;
    else *x = beta == 0.0f ? alpha * acc : alpha * acc + beta * *x;
}

// MARK: portable micro-kernel (4 × 16)

enum { MR_PORTABLE = 4, NR_PORTABLE = 16 };

static void kernel_portable(long kc, const float *pa, long ars, const float *pb, float *c, long ldc, long rows,
                            long cols, float alpha, float beta, int overwrite) {
    float acc[MR_PORTABLE][NR_PORTABLE];
    memset(acc, 0, sizeof acc);
    for (long k = 0; k < kc; k++) {
        const float *bk = pb + k * NR_PORTABLE;
        for (int r = 0; r < MR_PORTABLE; r++) {
            const float av = A_AT(pa, ars, MR_PORTABLE, r, k);
            for (int j = 0; j < NR_PORTABLE; j++) acc[r][j] += av * bk[j];
        }
    }
    for (long r = 0; r < rows; r++)
        for (long j = 0; j < cols; j++) store_value(c + r * ldc + j, acc[r][j], alpha, beta, overwrite);
}

#if HAT_SGEMM_X86

// MARK: AVX2 + FMA micro-kernel (6 × 16)

enum { MR_AVX2 = 6, NR_AVX2 = 16 };

#define INLINE_AVX2 static inline __attribute__((always_inline, target("avx2,fma")))

INLINE_AVX2 void kernel_avx2_body(const long ars, long kc, const float *pa, const float *pb, float *c, long ldc,
                                  long rows, long cols, float alpha, float beta, int overwrite) {
    __m256 acc0[MR_AVX2], acc1[MR_AVX2];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR_AVX2; r++) { acc0[r] = _mm256_setzero_ps(); acc1[r] = _mm256_setzero_ps(); }
    for (long r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 15), _MM_HINT_T0);
    }
    for (long k = 0; k < kc; k++) {
        const __m256 b0 = _mm256_loadu_ps(pb + k * NR_AVX2), b1 = _mm256_loadu_ps(pb + k * NR_AVX2 + 8);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR_AVX2; r++) {
            const __m256 av = _mm256_set1_ps(A_AT(pa, ars, MR_AVX2, r, k));
            acc0[r] = _mm256_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(av, b1, acc1[r]);
        }
    }
    const __m256 va = _mm256_set1_ps(alpha);
    if (cols == NR_AVX2) {
        for (long r = 0; r < rows; r++) {
            float *x = c + r * ldc;
            __m256 v0 = _mm256_mul_ps(va, acc0[r]), v1 = _mm256_mul_ps(va, acc1[r]);
            if (!overwrite) {
                v0 = _mm256_add_ps(v0, _mm256_loadu_ps(x));
                v1 = _mm256_add_ps(v1, _mm256_loadu_ps(x + 8));
            } else if (beta != 0.0f) {
                const __m256 vb = _mm256_set1_ps(beta);
                v0 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(x), v0);
                v1 = _mm256_fmadd_ps(vb, _mm256_loadu_ps(x + 8), v1);
            }
            _mm256_storeu_ps(x, v0);
            _mm256_storeu_ps(x + 8, v1);
        }
        return;
    }
    // A partial tile (the last columns of C): through a buffer, only `cols` values stored.
    float tile[NR_AVX2];
    for (long r = 0; r < rows; r++) {
        _mm256_storeu_ps(tile, acc0[r]);
        _mm256_storeu_ps(tile + 8, acc1[r]);
        for (long j = 0; j < cols; j++) store_value(c + r * ldc + j, tile[j], alpha, beta, overwrite);
    }
}

__attribute__((target("avx2,fma")))
static void kernel_avx2(long kc, const float *pa, long ars, const float *pb, float *c, long ldc, long rows,
                        long cols, float alpha, float beta, int overwrite) {
    if (ars) kernel_avx2_body(ars, kc, pa, pb, c, ldc, rows, cols, alpha, beta, overwrite);
    else kernel_avx2_body(0, kc, pa, pb, c, ldc, rows, cols, alpha, beta, overwrite);
}

// MARK: AVX-512 micro-kernel (12 × 32)

enum { MR_AVX512 = 12, NR_AVX512 = 32 };

#define INLINE_AVX512 static inline __attribute__((always_inline, target("avx512f")))

INLINE_AVX512 void kernel_avx512_body(const long ars, long kc, const float *pa, const float *pb, float *c,
                                      long ldc, long rows, long cols, float alpha, float beta, int overwrite) {
    __m512 acc0[MR_AVX512], acc1[MR_AVX512];
#pragma clang loop unroll(full)
    for (int r = 0; r < MR_AVX512; r++) { acc0[r] = _mm512_setzero_ps(); acc1[r] = _mm512_setzero_ps(); }
    // C of a training product is megabytes, so its rows miss every cache when the tile is
    // written below: fetch them while the products run (as bf16_gemm.c does).
    for (long r = 0; r < rows; r++) {
        _mm_prefetch((const char *)(c + r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 16), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + r * ldc + 31), _MM_HINT_T0);
    }
    for (long k = 0; k < kc; k++) {
        const __m512 b0 = _mm512_loadu_ps(pb + k * NR_AVX512), b1 = _mm512_loadu_ps(pb + k * NR_AVX512 + 16);
#pragma clang loop unroll(full)
        for (int r = 0; r < MR_AVX512; r++) {
            const __m512 av = _mm512_set1_ps(A_AT(pa, ars, MR_AVX512, r, k));
            acc0[r] = _mm512_fmadd_ps(av, b0, acc0[r]);
            acc1[r] = _mm512_fmadd_ps(av, b1, acc1[r]);
        }
    }
    hat_store_tile32_avx512(acc0, acc1, rows, cols, c, ldc, alpha, beta, overwrite);
}

__attribute__((target("avx512f")))
static void kernel_avx512(long kc, const float *pa, long ars, const float *pb, float *c, long ldc, long rows,
                          long cols, float alpha, float beta, int overwrite) {
    if (ars) kernel_avx512_body(ars, kc, pa, pb, c, ldc, rows, cols, alpha, beta, overwrite);
    else kernel_avx512_body(0, kc, pa, pb, c, ldc, rows, cols, alpha, beta, overwrite);
}
#endif

// MARK: driver

int hat_sgemm_isa(int isa, long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs, const float *b,
                  long b_rs, long b_cs, float beta, float *c, long ldc) {
    if (M <= 0 || N <= 0) return 0;
    if (K <= 0) {
        for (long m = 0; m < M; m++)
            for (long n = 0; n < N; n++) c[m * ldc + n] = beta == 0.0f ? 0.0f : beta * c[m * ldc + n];
        return 0;
    }
    if (isa > hat_kernel_isa()) isa = hat_kernel_isa();
    int mr = MR_PORTABLE, nr = NR_PORTABLE;
    micro_kernel kernel = kernel_portable;
#if HAT_SGEMM_X86
    if (isa >= 2) { mr = MR_AVX512; nr = NR_AVX512; kernel = kernel_avx512; }
    else if (isa == 1) { mr = MR_AVX2; nr = NR_AVX2; kernel = kernel_avx2; }
#endif
    const long depth = slice_depth(K);
    const long ncMax = N < NC ? N : NC, kcMax = depth, mcMax = M < MC ? M : MC;
    float *pb = hat_packing_buffer(HAT_PACK_SGEMM_B, (size_t)((ncMax + nr - 1) / nr) * nr * kcMax * sizeof(float));
    float *pa = hat_packing_buffer(HAT_PACK_SGEMM_A, (size_t)((mcMax + mr - 1) / mr) * mr * KC * sizeof(float));
    if (!pa || !pb) return -1;
    for (long jc = 0; jc < N; jc += NC) {
        const long nc = N - jc < NC ? N - jc : NC;
        for (long pc = 0; pc < K; pc += depth) {
            const long kc = K - pc < depth ? K - pc : depth;
            pack_b(b, b_rs, b_cs, pc, kc, jc, nc, nr, isa, pb);
            for (long ic = 0; ic < M; ic += MC) {
                const long mc = M - ic < MC ? M - ic : MC;
                // A row-major A is read in place: its MC × slice block stays in L2 after the first
                // panel of B has passed it, as a packed copy would, without the copy (a tenth of a
                // training step's time). Only a last panel of fewer than mr rows is packed, with
                // zero rows below it. Any other A is packed column-wise.
                const int inPlace = a_cs == 1;
                if (!inPlace) pack_a(a, a_rs, a_cs, ic, mc, pc, kc, mr, pa);
                else if (mc % mr != 0) pack_a(a, a_rs, a_cs, ic + mc / mr * mr, mc % mr, pc, kc, mr, pa);
                for (long jr = 0; jr < nc; jr += nr) {
                    const long cols = nc - jr < nr ? nc - jr : nr;
                    const float *bp = pb + (jr / nr) * kc * nr;
                    for (long ir = 0; ir < mc; ir += mr) {
                        const long rows = mc - ir < mr ? mc - ir : mr;
                        const float *ap;
                        long ars;
                        if (!inPlace) { ap = pa + (ir / mr) * mr * KC; ars = 0; }
                        else if (rows == mr) { ap = a + (ic + ir) * a_rs + pc; ars = a_rs; }
                        else { ap = pa; ars = KC; }
                        kernel(kc, ap, ars, bp, c + (ic + ir) * ldc + jc + jr, ldc, rows, cols, alpha, beta, pc == 0);
                    }
                }
            }
        }
    }
    return 0;
}

int hat_sgemm(long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs, const float *b, long b_rs,
              long b_cs, float beta, float *c, long ldc) {
    return hat_sgemm_isa(hat_kernel_isa(), M, N, K, alpha, a, a_rs, a_cs, b, b_rs, b_cs, beta, c, ldc);
}
