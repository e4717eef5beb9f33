#!/usr/bin/env bash
# Import of full-size HAT SuperTransformer checkpoints (random weights, with their Adam state) in
# both torch.save layouts: wall time and peak memory of `hat import` (docs/PERFORMANCE.md,
# "Importing HAT's checkpoints"). Files go to ${TMPDIR:-/tmp}/hat-import-bench and are removed.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product hat >/dev/null
work=${TMPDIR:-/tmp}/hat-import-bench; rm -rf "$work"; mkdir -p "$work"
trap 'rm -rf "$work"' EXIT
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"
for case in "space1 legacy" "space1 zip" "space0 legacy"; do
  set -- $case
  .venv-oracle/bin/python benchmarks/make_hat_checkpoint.py "$1" "$work/$1-$2.pt" "$2" >/dev/null
  size=$(du -m "$work/$1-$2.pt" | cut -f1)
  /usr/bin/time -f "%e s, peak %M KB" .build/release/hat import "$work/$1-$2.pt" --out "$work/$1-$2" 2>"$work/time" | head -1
  echo "  $1 $2 ($size MB file): $(tail -1 "$work/time")"
  rm -rf "$work/$1-$2.pt" "$work/$1-$2"
done
