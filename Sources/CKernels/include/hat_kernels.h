#ifndef HAT_KERNELS_H
#define HAT_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The instruction set every kernel here uses (cpu_features.c): 2 = AVX-512F, 1 = AVX2+FMA,
/// 0 = portable C; the CPU's best, capped by HAT_KERNEL_ISA=portable|avx2|avx512 when set.
int hat_kernel_isa(void);

/// HAT_KERNEL_ISA as asked: -1 unset, 0 portable, 1 avx2, 2 avx512, -2 not one of those.
int hat_kernel_isa_requested(void);

/// C[M,N] = alpha · A·B + beta · C in float32 (sgemm.c): A(m,k) = a[m·a_rs + k·a_cs],
/// B(k,n) = b[k·b_rs + n·b_cs] (any strides; unit stride in one of them is fast), C row-major
/// (C[m,n] = c[m·ldc + n]); beta = 0 does not read C. Single-threaded. Returns 0, or −1 when the
/// packing buffers could not be allocated (C untouched).
int hat_sgemm(long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs,
              const float *b, long b_rs, long b_cs, float beta, float *c, long ldc);

/// The same with the implementation capped at `isa` (tests compare every path).
int hat_sgemm_isa(int isa, long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs,
                  const float *b, long b_rs, long b_cs, float beta, float *c, long ldc);

/// C[M,N] = alpha · A[M,K] · B[N,K]ᵀ + beta · C, all row-major with leading dimensions
/// (A[m,k] = a[m·lda + k], B's row n is b[n·ldb ..], C[m,n] = c[m·ldc + n]).
/// Each row of B (a weight row, y = x·Wᵀ) is read from memory once for all M rows of A:
/// the shape of a decoder step (M = beam × sentences). beta = 0 does not read C.
void hat_sgemm_small_nt(long M, long N, long K, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc);

/// The same with the implementation capped at `isa` (tests compare every path).
void hat_sgemm_small_nt_isa(int isa, long M, long N, long K, float alpha, const float *a, long lda,
                            const float *b, long ldb, float beta, float *c, long ldc);

/// C[M,N] = A[M,K] · Wᵀ + beta · C where W's N rows are codebook-quantized (codebook_gemm.c):
/// row n's packed indices start at w + n·ldw (ldw bytes per row; the layout of 4- and 8-bit rows
/// is described there), and its centroids are the codebook of group (first_row + n) / group_rows
/// (16 floats per group at 4 bits, 256 at 8). `planes` (8 bits; may be NULL) are the codebooks'
/// byte planes from hat_codebook_planes, for the AVX512-VBMI lookups. A and C row-major; beta = 0
/// does not read C.
void hat_codebook_gemm_nt(long M, long N, long K, const float *a, long lda, const unsigned char *w, long ldw, int bits,
                          const float *codebooks, const unsigned char *planes, long first_row, long group_rows, float beta,
                          float *c, long ldc);

/// The same with the implementation capped at `isa` (tests compare every path; at isa 2 with 8 bits
/// the VBMI lookups run when `planes` is given and the CPU has them, gathers otherwise).
void hat_codebook_gemm_nt_isa(int isa, long M, long N, long K, const float *a, long lda, const unsigned char *w,
                              long ldw, int bits, const float *codebooks, const unsigned char *planes, long first_row,
                              long group_rows, float beta, float *c, long ldc);

/// The byte planes of `groups` 256-entry codebooks: planes[g·1024 + 256·q + j] = byte q
/// (little-endian) of codebooks[g·256 + j].
void hat_codebook_planes(const float *codebooks, long groups, unsigned char *planes);

/// Whether 8-bit codebook products can use the AVX512-VBMI byte lookups here.
int hat_codebook_byte_lookups_available(void);

/// Writes the first K weights of `rows` codebook-quantized rows (as above) as floats:
/// out[r·ldo + k]. `planes` as for the products (may be NULL).
void hat_codebook_decode_rows(int bits, const unsigned char *w, long ldw, const float *codebooks,
                              const unsigned char *planes, long first_row, long group_rows, long rows, long K, float *out,
                              long ldo);

/// The same with the implementation capped at `isa`.
void hat_codebook_decode_rows_isa(int isa, int bits, const unsigned char *w, long ldw, const float *codebooks,
                                  const unsigned char *planes, long first_row, long group_rows, long rows, long K, float *out,
                                  long ldo);

/// One task of a job for hat_pool_run: `index` in 0..<tasks.
typedef void (*hat_pool_task_fn)(void *context, long index);

/// Runs function(context, i) for i in 0..<tasks on the calling thread and up to threads − 1 of
/// the engine's worker threads (thread_pool.c), and returns when all are done: 0. Returns −1
/// without running anything when another job is in progress (a nested or concurrent call), so
/// the caller can run the tasks another way.
int hat_pool_run(long tasks, long threads, hat_pool_task_fn function, void *context);

/// The index of the first x[i] > threshold (NaN never is), or n when there is none (first_above.c).
long hat_first_above(const float *x, long n, float threshold);

/// C[M,N] = alpha · A[M,K] · B[K,N] + beta · C, all row-major with leading dimensions
/// (B[k,n] = b[k·ldb + n]). For small M (attention probabilities · values).
void hat_sgemm_small_nn(long M, long N, long K, float alpha, const float *a, long lda,
                        const float *b, long ldb, float beta, float *c, long ldc);

/// The same with the implementation capped at `isa`.
void hat_sgemm_small_nn_isa(int isa, long M, long N, long K, float alpha, const float *a, long lda,
                            const float *b, long ldb, float beta, float *c, long ldc);

/// y[r, :] = x[r, :] − log Σ exp(x[r, :]) for `rows` contiguous rows of `width` (x and y may be
/// the same buffer). Vectorized exp (Cephes' polynomial, about 1 ulp); rows whose maximum is
/// not finite take the scalar libm path.
void hat_log_softmax_rows(const float *x, float *y, long rows, long width);
/// The same with the implementation capped at `isa` (0: scalar libm).
void hat_log_softmax_rows_isa(int isa, const float *x, float *y, long rows, long width);

/// For `rows` contiguous rows of `width`: lse[r] = log Σ_j exp(x[r, j]) and total[r] = Σ_j x[r, j]
/// (label-smoothed cross-entropy's two row sums). Rows with a non-finite value take libm's path.
void hat_logsumexp_rows(const float *x, long rows, long width, float *lse, float *total);
void hat_logsumexp_rows_isa(int isa, const float *x, long rows, long width, float *lse, float *total);

/// One row: out[j] = a · exp(x[j] − shift) + b, or out[j] += that when `accumulate` (the loss's
/// gradient, softmax scaled and shifted). `shift` must be at least max(x), e.g. the row's log-sum-exp.
void hat_affine_exp_row(const float *x, long width, float shift, float a, float b, float *out, int accumulate);
void hat_affine_exp_row_isa(int isa, const float *x, long width, float shift, float a, float b, float *out, int accumulate);

/// Whether this CPU multiplies bfloat16 pairs in hardware (AVX512-BF16).
int hat_bf16_gemm_available(void);

/// x rounded to the nearest bfloat16 (ties to even), as a float.
float hat_bf16_round(float x);

/// C[M,N] = alpha · A·B + beta · C with A and B rounded to bfloat16 and the products summed in
/// float32 (bf16_gemm.c). A(m,k) = a[m·a_rs + k·a_cs], B(k,n) = b[k·b_rs + n·b_cs] (any strides),
/// C row-major (C[m,n] = c[m·ldc + n]); beta = 0 does not read C. Single-threaded. Returns 0, or
/// −1 when the packing buffers could not be allocated (C untouched).
int hat_sgemm_bf16(long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs,
                   const float *b, long b_rs, long b_cs, float beta, float *c, long ldc);

/// The same; isa 0 forces the portable C kernel (tests compare both).
int hat_sgemm_bf16_isa(int isa, long M, long N, long K, float alpha, const float *a, long a_rs, long a_cs,
                       const float *b, long b_rs, long b_cs, float beta, float *c, long ldc);

/// Bytes the tensors of this process hold now and at most since the last reset (tensor_bytes.c;
/// TensorStorage adds and removes every buffer's bytes).
void hat_tensor_bytes_add(long bytes);
void hat_tensor_bytes_remove(long bytes);
long hat_tensor_bytes_live(void);
long hat_tensor_bytes_peak(void);
void hat_tensor_bytes_reset_peak(void);

/// Multiply-adds of every product `gemm` has run in this process (product_count.c), counted by
/// precision (0: float32, 1: bfloat16 operands): what a benchmark divides by a kernel's peak to
/// bound a step's time from below. Thread-safe (relaxed atomics).
void hat_count_multiply_adds(int bfloat16, long count);
long hat_multiply_adds_counted(int bfloat16);

#ifdef __cplusplus
}
#endif

#endif
