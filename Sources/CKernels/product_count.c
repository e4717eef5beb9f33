// A process-wide count of the multiply-adds `gemm` (TensorEngine/BLAS.swift) has run, by operand
// precision. The subtransformer-step benchmark reads it to say how much of a training step is
// products, and what the best GEMM rate of this CPU makes the fastest possible step.

#include "hat_kernels.h"

static long counted[2];

void hat_count_multiply_adds(int bfloat16, long count) {
    __atomic_fetch_add(&counted[bfloat16 ? 1 : 0], count, __ATOMIC_RELAXED);
}

long hat_multiply_adds_counted(int bfloat16) {
    return __atomic_load_n(&counted[bfloat16 ? 1 : 0], __ATOMIC_RELAXED);
}
