#!/usr/bin/env bash
# Engine benchmark: SGEMM and one Transformer encoder layer (forward+backward), Swift next to
# PyTorch on the same CPU in one run. Run with nothing else busy; results go to stdout as JSON
# lines, summarised in docs/PERFORMANCE.md.
#   benchmarks/engine.sh            # with the environment's OPENBLAS_CORETYPE (CI/test setting)
#   benchmarks/engine.sh --native   # OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset: OpenBLAS picks its own kernels
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product HATBenchmarks >/dev/null
run() {
  if [ "${1:-}" = "--native" ]; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "${@:2}"
  else
    "${@:2}"
  fi
}
mode="${1:-}"
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} mode=${mode:-env}"
{
run "$mode" .build/release/HATBenchmarks all
run "$mode" .venv-oracle/bin/python benchmarks/engine_torch.py all
} | tee /dev/stderr | .venv-oracle/bin/python benchmarks/summarize.py
