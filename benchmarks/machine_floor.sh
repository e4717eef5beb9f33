#!/bin/sh
# This machine's FMA peak, read bandwidth (L3 and DRAM sizes) and the decoder-step product at
# that bandwidth (benchmarks/machine_floor.c); docs/PERFORMANCE.md, "Every CPU". x86-64 only.
set -e
cd "$(dirname "$0")/.."
out=$(mktemp -d)
clang -O3 -pthread -ISources/CKernels/include -ISources/CKernels benchmarks/machine_floor.c \
  Sources/CKernels/small_gemm.c Sources/CKernels/cpu_features.c -o "$out/machine_floor"
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g'); $(lscpu | grep 'L3 cache' | sed 's/ \+/ /g')"
"$out/machine_floor"
rm -rf "$out"
