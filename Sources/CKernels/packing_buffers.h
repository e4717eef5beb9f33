// Per-thread packing buffers of the GEMM kernels (sgemm.c, bf16_gemm.c, codebook_gemm.c), internal to CKernels.
#ifndef HAT_PACKING_BUFFERS_H
#define HAT_PACKING_BUFFERS_H

#include <stddef.h>

enum { HAT_PACK_SGEMM_A, HAT_PACK_SGEMM_B, HAT_PACK_BF16_A, HAT_PACK_BF16_B, HAT_PACK_CODEBOOK_X, HAT_PACK_SLOTS };

/// This thread's buffer `slot`, 64-byte aligned, at least `bytes` long; NULL when it cannot be
/// allocated. Kept for the thread's next product (the engine's threads are long-lived) and freed
/// when the thread ends, so threads that come and go (GCD's workers) leak nothing.
void *hat_packing_buffer(int slot, size_t bytes);

#endif
