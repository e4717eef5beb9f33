// What the CPU can do, asked of the CPU (CPUID), never inferred from a CPU or BLAS name: every
// kernel in CKernels takes its instruction set from here.
//
// HAT_KERNEL_ISA=portable|avx2|avx512 caps it (never raises it beyond the hardware): CI runs the
// engine tests once with the portable C kernels forced, so that which kernel runs can never change
// results beyond the stated tolerance. Read once, at the first kernel call.

#include "hat_kernels.h"

#include <stdlib.h>
#include <string.h>

static int isa_detected = -1;

static int hardware_isa(void) {
    int isa = 0;
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__clang__) || defined(__GNUC__))
    __builtin_cpu_init();
    // AVX512VL too: every AVX-512 CPU but the Xeon Phi has it, and without it the compiler keeps
    // the small-M kernel's accumulators in 21 of the 32 vector registers (small_gemm.c).
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        isa = 2;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = 1;
#endif
    return isa;
}

int hat_kernel_isa_requested(void) {
    const char *v = getenv("HAT_KERNEL_ISA");
    if (!v) return -1;
    if (strcmp(v, "portable") == 0) return 0;
    if (strcmp(v, "avx2") == 0) return 1;
    if (strcmp(v, "avx512") == 0) return 2;
    return -2;
}

int hat_kernel_isa(void) {
    if (isa_detected < 0) {
        int isa = hardware_isa();
        const int cap = hat_kernel_isa_requested();
        if (cap >= 0 && cap < isa) isa = cap;
        isa_detected = isa;  // the same value from every thread that races here
    }
    return isa_detected;
}
