// A process-wide count of the bytes tensors hold (TensorEngine/TensorStorage.swift adds each
// buffer's bytes when it is allocated and takes them off when it is freed), and the most held since
// the last reset: `hat latency measure --memory` reads what one inference allocates from it,
// independent of how the C library keeps freed memory.

#include "hat_kernels.h"

static long live_bytes, peak_bytes;

void hat_tensor_bytes_add(long bytes) {
    long now = __atomic_add_fetch(&live_bytes, bytes, __ATOMIC_RELAXED);
    long peak = __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED);
    while (now > peak && !__atomic_compare_exchange_n(&peak_bytes, &peak, now, 1, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {
    }
}

void hat_tensor_bytes_remove(long bytes) { __atomic_sub_fetch(&live_bytes, bytes, __ATOMIC_RELAXED); }

long hat_tensor_bytes_live(void) { return __atomic_load_n(&live_bytes, __ATOMIC_RELAXED); }

long hat_tensor_bytes_peak(void) { return __atomic_load_n(&peak_bytes, __ATOMIC_RELAXED); }

void hat_tensor_bytes_reset_peak(void) { __atomic_store_n(&peak_bytes, __atomic_load_n(&live_bytes, __ATOMIC_RELAXED), __ATOMIC_RELAXED); }
