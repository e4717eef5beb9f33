#!/bin/sh
# Speed of CKernels/codebook_gemm.c alone on decoder-step shapes (benchmarks/codebook_kernel.c),
# one thread: benchmarks/codebook_kernel.sh [BITS]   (default 4; nothing else should be running)
set -e
cd "$(dirname "$0")/.."
out=$(mktemp -d)
clang -O3 -ISources/CKernels/include -ISources/CKernels benchmarks/codebook_kernel.c Sources/CKernels/codebook_gemm.c \
  Sources/CKernels/cpu_features.c Sources/CKernels/packing_buffers.c -o "$out/codebook_kernel"
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g'); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
"$out/codebook_kernel" "${1:-4}"
rm -rf "$out"
