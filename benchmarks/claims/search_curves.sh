#!/usr/bin/env bash
# HAT's second claim (docs/RESULTS.md, "Evolution against random search"): under a latency limit,
# evolution finds SubTransformers with a lower supernet validation loss than random search with the
# same budget. Three limits (SHARES of the way from the smallest to the largest SubTransformer's
# predicted latency: tight, middle, loose), several seeds, three strategies: HAT's evolution,
# random search, and evolution with --repair-offspring. One `hat search` job per strategy and
# seed scores all limits (they share the fitness cache). Then benchmarks/claims/search_curves.py
# turns the histories into the best admitted loss against the number of SubTransformers scored,
# mean ± sd over seeds (a table and OUT/curves-*.svg drawn by `hat plot`).
# Usage: benchmarks/claims/search_curves.sh SUPERNET.safetensors PREDICTOR
#   SEEDS="1 2 3 4 5" SHARES="25 50 75" ITER=10 POP=40 VALID=120 STRATEGIES="evolution random repair"
#   THREADS= (hat search --threads; default: the cores available)
#   DATA= (default: the dataset the supernet was trained on) OUT=runs/claims/search
# Rerunning resumes: finished jobs are skipped, an interrupted one continues (hat search resumes).
set -euo pipefail
cd "$(dirname "$0")/../.."
supernet=${1:?give the supernet checkpoint}; predictor=${2:?give the latency predictor}
hat=.build/release/hat
space=configs/multi30k_cpu_space.yml
out=${OUT:-runs/claims/search}
seeds=${SEEDS:-1 2 3 4 5}; shares=${SHARES:-25 50 75}; iter=${ITER:-10}; pop=${POP:-40}; valid=${VALID:-120}
strategies=${STRATEGIES:-evolution random repair}
mkdir -p "$out"
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} load: $(cut -d' ' -f1-3 /proc/loadavg)"

source benchmarks/claims/limits.sh
predicted_limits "$predictor" "$shares" "$out"
echo "predicted: smallest $low ms, largest $high ms; limits ($shares %): $limits"
echo "$limits" > "$out/limits.txt"

parents=$((pop / 4)); half=$(((pop - parents) / 2))
for seed in $seeds; do
  for strategy in $strategies; do
    dir=$out/$strategy-s$seed
    [ -f "$dir/pareto.json" ] && continue
    flags=""
    [ $strategy = random ] && flags=--random
    [ $strategy = repair ] && flags=--repair-offspring
    start=$(date +%s)
    $hat search --supernet "$supernet" ${DATA:+--data "$DATA"} --predictor "$predictor" --latency-constraint "$limits" \
      --evo-iter $iter --population-size $pop --parent-size $parents --mutation-size $half --crossover-size $half \
      --valid-subset $valid --seed $seed --out "$dir" --no-measure ${THREADS:+--threads $THREADS} $flags > "$dir.log" 2>&1 || { tail -5 "$dir.log"; exit 1; }
    echo "$strategy seed $seed: $(( $(date +%s) - start )) s"
  done
done
.venv-oracle/bin/python benchmarks/claims/search_curves.py "$out" | tee "$out/summary.md"
for csv in "$out"/curves-*.csv; do
  label=$(basename "$csv" .csv)
  $hat plot --csv "$csv" --x evaluations --y mean --low low --high high --series strategy --style line \
    --title "best admitted supernet loss, ${label#curves-} (mean ± sd over seeds)" \
    --x-label "SubTransformers scored" --y-label "validation loss (bits per token)" --out "$out/$label.svg"
done
