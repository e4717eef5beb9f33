#!/usr/bin/env bash
# Data-parallel supernet training on this machine (docs/SCALING.md, docs/PERFORMANCE.md): the same
# updates (max-tokens × update-freq × ranks target tokens each) trained by 1 rank with all the
# cores and by `mpirun -np RANKS` ranks with cores/RANKS threads each, in interleaved rounds.
# Prints the median tokens/s of each layout (updates after the first 3) and, for the MPI runs,
# the share of update time spent summing gradients (metrics.jsonl's allreduce_s).
#
#   benchmarks/data_parallel.sh [SPACE.yml ...]      env: DATA, UPDATES (12), ROUNDS (2), RANKS (2), BIN
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.build/release/hat}
DATA=${DATA:-runs/data/multi30k-en-de}
UPDATES=${UPDATES:-12}
ROUNDS=${ROUNDS:-2}
RANKS=${RANKS:-2}
CORES=$(nproc)
spaces=("$@")
[ ${#spaces[@]} -eq 0 ] && spaces=(configs/multi30k_cpu_space.yml ../shared/data/hat-configs/iwslt14.de-en__space1.yml)
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
echo "# $(lscpu | sed -n 's/^Model name: *//p'), $CORES cores, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, $(date -u +%FT%TZ)"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

summary() {  # metrics.jsonl → "median tok/s, allreduce share"
  python3 - "$1" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if '"split"' not in l]
rows = [r for r in rows if r["update"] > 3]
rates = [r["tokens_per_s"] for r in rows]
seconds = sum(r["target_tokens"] / r["tokens_per_s"] for r in rows)
reduce = sum(r.get("allreduce_s", 0) for r in rows)
print(f"{statistics.median(rates):.0f} tok/s, allreduce {100 * reduce / seconds:.1f} % of update time")
PY
}

for space in "${spaces[@]}"; do
  for round in $(seq 1 "$ROUNDS"); do
    common=(train --config "$space" --data "$DATA" --max-update "$UPDATES" --save-interval-updates 0 --save-interval 1000
            --validate-interval 1000 --max-epoch 0 --seed 1 --lr-period-updates 100000)
    rm -rf "$work/one" "$work/many"
    # The run ends at max-update: its checkpoint and validation come after the timed updates.
    "$BIN" "${common[@]}" --save-dir "$work/one" --update-freq "$RANKS" --threads "$CORES" > "$work/one.log" 2>&1 \
      || { tail -5 "$work/one.log"; exit 1; }
    echo "$(basename "$space") round $round: 1 rank x $CORES threads, update-freq $RANKS: $(summary "$work/one/metrics.jsonl")"
    mpirun --oversubscribe -np "$RANKS" "$BIN" "${common[@]}" --save-dir "$work/many" --update-freq 1 \
      --threads $((CORES / RANKS > 0 ? CORES / RANKS : 1)) > "$work/many.log" 2>&1 || { tail -5 "$work/many.log"; exit 1; }
    echo "$(basename "$space") round $round: $RANKS ranks x $((CORES / RANKS > 0 ? CORES / RANKS : 1)) threads, update-freq 1: $(summary "$work/many/metrics.jsonl")"
  done
done
