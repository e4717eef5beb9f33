#!/usr/bin/env bash
# Latency predictors on HAT's four latency datasets (../shared/data/hat-latency), the numbers of
# docs/PERFORMANCE.md, "Latency predictors":
#   1. per device, HAT's split (8:1:1, seed 0): HAT's MLP (5000 steps, batch 128, Adam lr 1e-5),
#      our ridge predictor, the non-negative cost model and the ensemble (mean of ridge and HAT's
#      MLP), scored on the test split (KINDS="..." picks the kinds);
#   2. few-shot: each WMT device as target, the other two as sources, 10 samples × 10 draws from
#      the target's training split, scored on its whole test split, next to HAT's MLP trained on
#      the same 10 samples and a rescaled pooled source predictor.
#   3. few-shot on more splits of the targets, without the (slow) HAT-MLP baseline.
#   benchmarks/latency_predictors.sh                # as above (about 30 min on 2 busy cores)
#   SEEDS="0 1 2" benchmarks/latency_predictors.sh  # part 1 on more splits; FEWSHOT_SEEDS likewise for part 2
#   PARTS=1 benchmarks/latency_predictors.sh        # only part 1 (PARTS=23: parts 2 and 3)
# Full logs and the predictors/plots go to runs/latency-bench/.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product hat >/dev/null
hat=.build/release/hat
data=../shared/data/hat-latency
out=runs/latency-bench
mkdir -p "$out"
seeds=${SEEDS:-0}
fewshot_seeds=${FEWSHOT_SEEDS:-0}
extra_seeds=${FEWSHOT_EXTRA_SEEDS:-1 2 3 4}
parts=${PARTS:-123}
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') load: $(cut -d' ' -f1-3 /proc/loadavg)"

test_line() { grep '^test' "$1" | sed 's/^test *//'; }

if [[ $parts == *1* ]]; then
  echo
  echo "## Predictors on HAT's split (test rows; seed = split, MLP initialisation and batches)"
  for seed in $seeds; do
    for name in wmt14ende_cpu_raspberrypi_all wmt14ende_cpu_xeon_all wmt14ende_gpu_titanxp_all iwslt14deen_gpu_titanxp_all; do
      for kind in ${KINDS:-hat-mlp ridge cost-model ensemble}; do
        ext=json; [[ $kind = hat-mlp || $kind = ensemble ]] && ext=safetensors
        log="$out/$name.$kind.seed$seed.log"
        start=$(date +%s.%N)
        $hat latency train-predictor --data "$data/$name.csv" --kind $kind --seed "$seed" \
          --out "$out/$name.$kind.seed$seed.$ext" >"$log"
        secs=$(echo "$(date +%s.%N) - $start" | bc)
        printf '%-30s seed %s  %-10s  %s  [%.0f s]\n' "$name" "$seed" "$kind" "$(test_line "$log")" "$secs"
      done
    done
  done
fi

fewshot() {  # fewshot SEED BASELINE_STEPS
  local seed=$1 steps=$2
  wmt=(wmt14ende_cpu_raspberrypi_all wmt14ende_cpu_xeon_all wmt14ende_gpu_titanxp_all)
  for target in "${wmt[@]}"; do
    sources=()
    for s in "${wmt[@]}"; do [ "$s" != "$target" ] && sources+=("$data/$s.csv"); done
    log="$out/fewshot.$target.seed$seed.log"
    $hat latency adapt --sources "${sources[@]}" --target "$data/$target.csv" --samples 10 --draws 10 --seed "$seed" \
      --baseline-steps "$steps" >"$log"
    echo "target $target (split seed $seed), sources: $(basename -a "${sources[@]}" | tr '\n' ' ')"
    grep -E '^  (few-shot|HAT MLP|rescaled|ridge on all)' "$log"
  done
}

if [[ $parts == *2* ]]; then
  echo
  echo "## Few-shot: 10 samples of the target, 10 draws, scored on the target's test split"
  for seed in $fewshot_seeds; do fewshot "$seed" 5000; done
fi

if [[ $parts == *3* ]]; then
  echo
  echo "## Few-shot on other splits of the targets (no HAT-MLP baseline)"
  for seed in $extra_seeds; do fewshot "$seed" 0; done
fi
