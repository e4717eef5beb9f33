#!/usr/bin/env bash
# Issue 8's search experiments on the Multi30k supernet (docs/PERFORMANCE.md, "Search"):
#   1. a latency dataset of the CPU-sized space measured on this machine and our predictor on it
#      (skipped when the CSV / predictor exist);
#   2. evolutionary vs random search with the same number of evaluations, two latency
#      constraints, several seeds; best supernet validation loss per run;
#   3. (RANK=1) how well the first VALID validation pairs rank SubTransformers against the whole
#      validation set: 40 random SubTransformers scored both ways (Spearman, Kendall);
#   4. (FULL=1) one full HAT-sized search (30 iterations × 125) timed, on FULL_VALID pairs
#      (default: all, as HAT).
# Usage: benchmarks/search_experiments.sh SUPERNET.safetensors
#   SEEDS="1 2 3" CONSTRAINTS="30ms,40ms" ITER=10 POP=40 VALID=400 RANK=0 FULL=0 FULL_VALID=
#   DATA=runs/data/multi30k-en-de (the prepared dataset the supernet was trained on)
#   PREDICTOR=FILE (a latency predictor to use instead of measuring and training one)
# Outputs under OUT (default runs/search-exp/).
set -euo pipefail
cd "$(dirname "$0")/.."
supernet=${1:?give the supernet checkpoint}
swift build -c release --product hat >/dev/null
hat=.build/release/hat
out=${OUT:-runs/search-exp}
mkdir -p "$out"
space=configs/multi30k_cpu_space.yml
data=${DATA:-runs/data/multi30k-en-de}
seeds=${SEEDS-1 2 3}  # SEEDS="" skips the evolution-vs-random runs
constraints=${CONSTRAINTS:-30ms,40ms}
iter=${ITER:-10}
pop=${POP:-40}
valid=${VALID:-400}
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') load: $(cut -d' ' -f1-3 /proc/loadavg)"

csv=$out/latency.csv
predictor=${PREDICTOR:-$out/latency.predictor.json}
if [ -z "${PREDICTOR:-}" ]; then
  $hat latency dataset --space $space --data $data --count ${ROWS:-300} --iterations 10 --warmup 2 --out $csv
  [ -f $predictor ] || $hat latency train-predictor --data $csv --out $predictor | tee $out/predictor.log
fi

parents=$((pop / 4)); half=$(((pop - parents) / 2))
for seed in $seeds; do
  for strategy in evolution random; do
    dir=$out/$strategy-s$seed
    flag=""; [ $strategy = random ] && flag=--random
    $hat search --supernet "$supernet" --data $data --predictor $predictor --latency-constraint "$constraints" \
      --evo-iter $iter --population-size $pop --parent-size $parents --mutation-size $half --crossover-size $half \
      --valid-subset $valid --seed $seed --out $dir --no-measure $flag > $dir.log 2>&1 || { tail -5 $dir.log; exit 1; }
    grep -E "search took|evaluations in this run" $dir.log | tr '\n' ' '; echo "[$strategy seed $seed]"
  done
done
python3 - "$out" "$seeds" <<'PY'
import json, sys, statistics as st
out, seeds = sys.argv[1], sys.argv[2].split()
res = {}
for strategy in ("evolution", "random"):
    for s in seeds:
        for p in json.load(open(f"{out}/{strategy}-s{s}/pareto.json")):
            res.setdefault((p["constraint"], strategy), []).append(p["loss"])
print("| constraint | evolution: best loss per seed | mean ± sd | random: best loss per seed | mean ± sd |")
print("| --- | --- | --- | --- | --- |")
for c in sorted({k[0] for k in res}):
    e, r = res[(c, "evolution")], res[(c, "random")]
    f = lambda v: " / ".join(f"{x:.4f}" for x in v)
    sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
    print(f"| {c} | {f(e)} | {st.mean(e):.4f} ± {sd(e):.4f} | {f(r)} | {st.mean(r):.4f} ± {sd(r):.4f} |")
PY
if [ "${RANK:-0}" = 1 ]; then
  # Random search with one iteration = the same 40 seeded random SubTransformers, scored twice.
  for v in $valid all; do
    flag=""; [ $v = all ] || flag="--valid-subset $v"
    $hat search --supernet "$supernet" --data $data --predictor $predictor --latency-constraint 1000s --random \
      --evo-iter 1 --population-size 40 --parent-size 10 --mutation-size 15 --crossover-size 15 $flag \
      --seed 7 --out $out/rank-$v --no-measure > $out/rank-$v.log 2>&1 || { tail -5 $out/rank-$v.log; exit 1; }
  done
  .venv-oracle/bin/python - "$out/rank-$valid/history.jsonl" "$out/rank-all/history.jsonl" <<'PY'
import json, sys
from scipy.stats import spearmanr, kendalltau
def losses(p):
    out = {}
    for line in open(p):
        r = json.loads(line)
        if "loss" in r and "gene" in r: out[tuple(r["gene"])] = r["loss"]
    return out
a, b = losses(sys.argv[1]), losses(sys.argv[2])
keys = sorted(set(a) & set(b))
x, y = [a[k] for k in keys], [b[k] for k in keys]
print(f"subset vs whole validation set over {len(keys)} SubTransformers: Spearman {spearmanr(x, y)[0]:.4f}, Kendall {kendalltau(x, y)[0]:.4f}")
PY
fi
if [ "${FULL:-0}" = 1 ]; then
  flag=""; [ -n "${FULL_VALID:-}" ] && flag="--valid-subset $FULL_VALID"
  /usr/bin/time -v $hat search --supernet "$supernet" --data $data --predictor $predictor --latency-constraint "${constraints%%,*}" \
    $flag --out $out/full-hat --seed 1 2>&1 | tee $out/full-hat.log | grep -E "search took|evaluations|Elapsed"
fi
