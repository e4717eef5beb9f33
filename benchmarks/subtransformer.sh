#!/usr/bin/env bash
# One training step (forward + label-smoothed CE + backward + Adam) of the largest, median and
# smallest SubTransformer of a HAT space on 128×32 source/target tokens (4,096 target tokens),
# Swift next to PyTorch in one run.
#   benchmarks/subtransformer.sh [SPACE.yml] [--native|env] [SIZES] [bf16]
#   (SIZES default: "largest median smallest"; bf16 adds, for each size, hat's --bf16 step and
#   PyTorch's step under torch.autocast(bfloat16) next to the float32 ones)
set -euo pipefail
cd "$(dirname "$0")/.."
space="${1:-../shared/data/hat-configs/iwslt14.de-en__space1.yml}"
scripts/setup.sh
swift build -c release --product HATBenchmarks >/dev/null
envcmd=(env)
[ "${2:-}" = "--native" ] && envcmd=(env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE)
echo "# $(date -u +%FT%TZ) space=$space OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} mode=${2:-env}"
precisions="fp32"
[ "${4:-}" = "bf16" ] && precisions="fp32 bf16"
for which in ${3:-largest median smallest}; do
  for precision in $precisions; do
    out=$("${envcmd[@]}" .build/release/HATBenchmarks subtransformer-step "$space" "$which" "$precision")
    echo "$out" | grep -v _setup
    setup=$(echo "$out" | grep _setup | .venv-oracle/bin/python -c 'import json,sys; print(json.loads(sys.stdin.read())["setup"])')
    "${envcmd[@]}" .venv-oracle/bin/python benchmarks/subtransformer_torch.py "$setup" "$precision"
  done
done
