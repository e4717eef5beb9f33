// Every CKernels entry point against a double-precision reference written here with plain loops,
// on shapes with ragged edges, at every instruction set this CPU has (portable C, AVX2, AVX-512).
// Built for the host and, cross-compiled, for aarch64 under qemu (scripts/check_kernels.sh), so an
// ARM build is checked to compute what the x86 paths compute (docs/PLATFORMS.md). Prints one line
// per kernel and ISA with its largest error relative to the reference's scale; exits 1 if any is
// above its tolerance.
#include "hat_kernels.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 88172645463325252ull;
static float uniform(void) {  // xorshift64, in [-1, 1)
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return (float)((state >> 40) * (2.0 / 16777216.0) - 1.0);
}
static float *randoms(long n) {
    float *x = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    for (long i = 0; i < n; i++) x[i] = uniform();
    return x;
}

static int failures = 0;
static void report(const char *kernel, int isa, const char *shape, double error, double tolerance) {
    const char *names[] = {"portable", "avx2", "avx512"};
    int ok = error <= tolerance && !isnan(error);
    if (!ok) failures++;
    printf("%-22s %-8s %-18s max error %.2e (tolerance %.0e) %s\n", kernel, names[isa], shape, error, tolerance, ok ? "ok" : "FAIL");
}

// Largest |got − want| over the largest |want| (products: errors scale with the sums' size).
static double scaled_error(const float *got, const double *want, long n) {
    double scale = 1e-30, err = 0;
    for (long i = 0; i < n; i++) scale = fmax(scale, fabs(want[i]));
    for (long i = 0; i < n; i++) err = fmax(err, fabs(got[i] - want[i]));
    return err / scale;
}

static void check_sgemm(int isa, long M, long N, long K) {
    float *a = randoms(M * K), *b = randoms(K * N), *c = randoms(M * N);
    double *want = malloc(sizeof(double) * (size_t)(M * N));
    const float alpha = 0.75f, beta = 0.5f;
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            double s = 0;
            for (long k = 0; k < K; k++) s += (double)a[m * K + k] * b[k * N + n];
            want[m * N + n] = alpha * s + beta * c[m * N + n];
        }
    char shape[64];
    snprintf(shape, sizeof shape, "%ldx%ldx%ld", M, N, K);
    if (hat_sgemm_isa(isa, M, N, K, alpha, a, K, 1, b, N, 1, beta, c, N) != 0) failures++;
    report("sgemm", isa, shape, scaled_error(c, want, M * N), 1e-5);
    free(a), free(b), free(c), free(want);
}

static void check_small(int isa, long M, long N, long K) {
    float *a = randoms(M * K), *b = randoms(N * K), *c = randoms(M * N), *c2 = malloc(sizeof(float) * (size_t)(M * N));
    memcpy(c2, c, sizeof(float) * (size_t)(M * N));
    double *want = malloc(sizeof(double) * (size_t)(M * N));
    char shape[64];
    snprintf(shape, sizeof shape, "%ldx%ldx%ld", M, N, K);
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            double s = 0;
            for (long k = 0; k < K; k++) s += (double)a[m * K + k] * b[n * K + k];
            want[m * N + n] = s + 0.5 * c[m * N + n];
        }
    hat_sgemm_small_nt_isa(isa, M, N, K, 1, a, K, b, K, 0.5f, c, N);
    report("small-M nt", isa, shape, scaled_error(c, want, M * N), 1e-5);
    // nn: B is [K, N]; reuse b's first K·N values.
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            double s = 0;
            for (long k = 0; k < K; k++) s += (double)a[m * K + k] * b[k * N + n];
            want[m * N + n] = s;
        }
    hat_sgemm_small_nn_isa(isa, M, N, K, 1, a, K, b, N, 0, c2, N);
    report("small-M nn", isa, shape, scaled_error(c2, want, M * N), 1e-5);
    free(a), free(b), free(c), free(c2), free(want);
}

// 4-bit rows: 32-index blocks of 16 bytes, byte j holding index 32b + j (low nibble) and
// 32b + 16 + j (high nibble); 8-bit rows: a byte per index, padded to 64 (codebook_gemm.c).
static void check_codebook(int isa, int bits, long M, long N, long K) {
    const long groups = 3, group_rows = (N + groups - 1) / groups, entries = bits == 4 ? 16 : 256;
    const long ldw = bits == 4 ? (K + 31) / 32 * 16 : (K + 63) / 64 * 64;
    unsigned char *w = calloc((size_t)(N * ldw), 1);
    int *index = malloc(sizeof(int) * (size_t)(N * K));
    for (long n = 0; n < N; n++)
        for (long k = 0; k < K; k++) {
            int i = (int)((uniform() + 1) * 0.5f * (float)entries) % (int)entries;
            index[n * K + k] = i;
            if (bits == 4) {
                unsigned char *byte = w + n * ldw + (k / 32) * 16 + (k % 32) % 16;
                *byte |= (unsigned char)((k % 32) < 16 ? i : i << 4);
            } else {
                w[n * ldw + k] = (unsigned char)i;
            }
        }
    float *codebooks = randoms(groups * entries), *a = randoms(M * K), *c = malloc(sizeof(float) * (size_t)(M * N));
    unsigned char *planes = bits == 8 ? malloc((size_t)(groups * 1024)) : NULL;
    if (planes) hat_codebook_planes(codebooks, groups, planes);
    double *want = malloc(sizeof(double) * (size_t)(M * N));
    for (long m = 0; m < M; m++)
        for (long n = 0; n < N; n++) {
            double s = 0;
            for (long k = 0; k < K; k++) s += (double)a[m * K + k] * codebooks[(n / group_rows) * entries + index[n * K + k]];
            want[m * N + n] = s;
        }
    char kernel[32], shape[64];
    snprintf(kernel, sizeof kernel, "codebook %d-bit", bits);
    snprintf(shape, sizeof shape, "%ldx%ldx%ld", M, N, K);
    hat_codebook_gemm_nt_isa(isa, M, N, K, a, K, w, ldw, bits, codebooks, planes, 0, group_rows, 0, c, N);
    report(kernel, isa, shape, scaled_error(c, want, M * N), 1e-5);
    free(w), free(index), free(codebooks), free(a), free(c), free(planes), free(want);
}

static void check_log_softmax(int isa, long rows, long width) {
    float *x = randoms(rows * width), *y = malloc(sizeof(float) * (size_t)(rows * width));
    for (long i = 0; i < rows * width; i++) x[i] *= 8;
    double err = 0;
    hat_log_softmax_rows_isa(isa, x, y, rows, width);
    for (long r = 0; r < rows; r++) {
        double mx = -INFINITY, s = 0;
        for (long j = 0; j < width; j++) mx = fmax(mx, x[r * width + j]);
        for (long j = 0; j < width; j++) s += exp(x[r * width + j] - mx);
        for (long j = 0; j < width; j++) err = fmax(err, fabs(y[r * width + j] - (x[r * width + j] - mx - log(s))));
    }
    char shape[64];
    snprintf(shape, sizeof shape, "%ldx%ld", rows, width);
    report("log-softmax", isa, shape, err, 1e-5);
    free(x), free(y);
}

int main(void) {
    const int best = hat_kernel_isa();
    long first_above = hat_first_above((const float[]){0.5f, NAN, 0.25f, 2.0f, 3.0f}, 5, 1.0f);
    if (first_above != 3) failures++;
    printf("first-above            %ld (want 3) %s\n", first_above, first_above == 3 ? "ok" : "FAIL");
    for (int isa = 0; isa <= best; isa++) {
        check_sgemm(isa, 37, 45, 29);
        check_sgemm(isa, 130, 70, 300);
        check_small(isa, 5, 37, 45);
        check_small(isa, 30, 64, 200);
        check_codebook(isa, 4, 5, 37, 70);
        check_codebook(isa, 8, 5, 37, 70);
        check_codebook(isa, 4, 30, 64, 512);
        check_codebook(isa, 8, 30, 64, 512);
        check_log_softmax(isa, 5, 1003);
    }
    printf("%s\n", failures ? "FAILED" : "all kernels agree with the reference");
    return failures ? 1 : 0;
}
