#!/usr/bin/env bash
# The C kernels (Sources/CKernels) against a double-precision reference (scripts/kernel_check/
# kernel_check.c) at every instruction set this CPU has, and, on x86-64, cross-compiled for
# aarch64 and run under qemu-user: the portable C an ARM build runs computes what the x86 paths
# compute (docs/PLATFORMS.md). Needs clang with lld (the Swift toolchain's) and, for aarch64, the
# Debian packages qemu-user, libc6-dev-arm64-cross and libgcc-12-dev-arm64-cross (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
sources=(scripts/kernel_check/kernel_check.c Sources/CKernels/*.c)
clang -O3 -Wall -ISources/CKernels/include -ISources/CKernels "${sources[@]}" -lm -lpthread -o "$out/host"
echo "check_kernels: $(uname -m), every instruction set of this CPU"
"$out/host"
if [ "$(uname -m)" = x86_64 ]; then
  if ! command -v qemu-aarch64 >/dev/null || [ ! -d /usr/aarch64-linux-gnu/lib ]; then
    echo "check_kernels: aarch64 needs qemu-user, libc6-dev-arm64-cross and libgcc-12-dev-arm64-cross (scripts/setup.sh installs them)" >&2
    exit 1
  fi
  clang --target=aarch64-linux-gnu -fuse-ld=lld -O3 -Wall -ISources/CKernels/include -ISources/CKernels "${sources[@]}" \
    -lm -lpthread -o "$out/aarch64"
  echo "check_kernels: aarch64 (cross-compiled, run under qemu-user), portable C"
  qemu-aarch64 -L /usr/aarch64-linux-gnu "$out/aarch64"
fi
