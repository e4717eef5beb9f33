#!/usr/bin/env bash
# Sets up everything (scripts/setup.sh) and runs every test, in release mode: the numeric
# tests are far too slow in a debug build (build-notes.md); then reruns the engine's tests on
# other kernels (OpenBLAS's Prescott fallback, the portable C kernels) and checks the C kernels
# cross-compiled for aarch64 (scripts/check_kernels.sh); then packages the
# self-contained binary and checks it (scripts/package.sh --check). HAT_SKIP_PACKAGE=1 leaves
# that out.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh

# The tree is formatted with the repository's .swift-format (swift-format ships with Swift 6
# toolchains; an older toolchain without it skips this check).
if swift format --version >/dev/null 2>&1; then
  if ! swift format lint --strict -r Sources Tests Package.swift; then
    echo "test.sh: the lines above are not formatted; run: swift format format -i -r Sources Tests Package.swift" >&2
    exit 1
  fi
fi

swift test -c release "$@"

# The engine's tests again on other kernels (full runs only): the BLAS fallback on OpenBLAS's
# oldest x86-64 kernels (what an unrecognized CPU gets), then the portable C kernels everywhere.
# Which kernel runs must never move results beyond the tests' tolerances.
if [ $# -eq 0 ]; then
  engine_tests='TensorEngineTests|NNTests|ModelTests'
  echo "test.sh: engine tests with OPENBLAS_CORETYPE=Prescott HAT_GEMM=blas"
  OPENBLAS_CORETYPE=Prescott HAT_GEMM=blas swift test -c release --skip-build --filter "$engine_tests"
  echo "test.sh: engine tests with HAT_KERNEL_ISA=portable"
  HAT_KERNEL_ISA=portable swift test -c release --skip-build --filter "$engine_tests"
  # The C kernels alone against a double-precision reference, here and built for aarch64.
  scripts/check_kernels.sh
fi

# The self-contained binary (scripts/package.sh): built, and checked against the development
# build with the toolchain hidden, on every full run (not when the tests are filtered).
if [ $# -eq 0 ] && [ "${HAT_SKIP_PACKAGE:-0}" != "1" ]; then
  scripts/package.sh --check
fi
