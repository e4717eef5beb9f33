#!/usr/bin/env bash
# HAT's headline claim at small scale: the SubTransformer found under the (predicted)
# latency of a hand-designed Transformer (benchmarks/baseline_transformer.yml: 3+3 layers, d 256,
# FFN 1024, 4 heads, 7.6 M parameters), trained from scratch with the same recipe and the same
# number of updates, against that baseline: latency measured here, #params, BLEU on the test split.
#   benchmarks/searched_vs_baseline.sh SUPERNET.safetensors DATA_DIR PREDICTOR
#   UPDATES=800 SAVE=100 VOCAB=8000 TRAIN_ARGS="--warmup-updates 300" (more `hat train` overrides, both runs) ITER=10 POP=40 VALID=250 SEED=1 BEAM=5 OUT=runs/searched-vs-baseline
# Both trainings use the space's recipe (configs/multi30k_cpu_space.yml) and seed SEED; the last
# 3 update checkpoints are averaged (HAT's protocol) before translating with beam BEAM.
set -euo pipefail
cd "$(dirname "$0")/.."
supernet=${1:?give the supernet checkpoint}; data=${2:?give the prepared dataset}; predictor=${3:?give the latency predictor}
hat=.build/release/hat
space=configs/multi30k_cpu_space.yml
base=benchmarks/baseline_transformer.yml
out=${OUT:-runs/searched-vs-baseline}
updates=${UPDATES:-800}; save=${SAVE:-100}; iter=${ITER:-10}; pop=${POP:-40}; valid=${VALID:-250}; seed=${SEED:-1}; beam=${BEAM:-5}
mkdir -p "$out"
py=.venv-oracle/bin/python
total() { $py -c "import json,sys; d=json.load(sys.stdin); print('%.3f' % (d['encoder_mean_ms'] + d['decoder_mean_ms']))"; }
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') load: $(cut -d' ' -f1-3 /proc/loadavg)"

# 1. The baseline's latency on this machine (HAT's method at LENGTH tokens, 30 by default: the length the predictor's dataset was measured at).
base_ms=$($hat latency measure $base --space $space --data "$data" --length ${LENGTH:-30} --json | total)
echo "baseline measured latency: $base_ms ms"

# 2. Search from the supernet under the baseline's latency on the predictor's own scale (its
#    prediction for the baseline), so that a bias of the predictor or a change of the host's
#    speed since the dataset was measured applies to both sides; with measure:N (a predictor
#    calibrated on the spot) the measurement above is that scale.
limit_ms=$base_ms
if [ -f "$predictor" ]; then
  limit_ms=$($hat latency predict --predictor "$predictor" --space $space $base | grep -o 'predicted [0-9.]*' | grep -o '[0-9.]*$')
  echo "baseline predicted latency: $limit_ms ms (the search's constraint)"
fi
parents=$((pop / 4)); half=$(((pop - parents) / 2))
if [ ! -f "$out/searched.yml" ]; then
  $hat search --supernet "$supernet" --data "$data" --predictor "$predictor" --latency-constraint "${limit_ms}ms" \
    --evo-iter $iter --population-size $pop --parent-size $parents --mutation-size $half --crossover-size $half \
    --valid-subset $valid --seed $seed --length ${LENGTH:-30} --out "$out/search" --write-config "$out/searched.yml" > "$out/search.log" 2>&1
fi
grep -E "search took|measured" "$out/search.log" || true

# 3. Both from scratch: same recipe, seed and number of updates.
for m in baseline searched; do
  yml=$base; [ $m = searched ] && yml=$out/searched.yml
  start=$(date +%s)
  $hat train --config $space --subtransformer $yml --data "$data" --save-dir "$out/$m" --seed $seed \
    --max-update $updates --save-interval-updates $save --keep-last-updates 3 ${TRAIN_ARGS:-} > "$out/$m.train.log" 2>&1
  echo "$m trained $updates updates in $(( $(date +%s) - start )) s"
  ckpts=$(ls "$out/$m"/checkpoint_*_*.safetensors | sort -t_ -k3 -n | tail -3)
  $hat average --out "$out/$m/averaged.safetensors" $ckpts > /dev/null
  $hat test --checkpoint "$out/$m/averaged.safetensors" --subtransformer $yml --data "$data" --beam $beam \
    --out "$out/$m.test.hyp.txt" > "$out/$m.test.log" 2>&1
done

# 4. Latency of both again, interleaved, and the table.
for round in 1 2 3; do
  for m in baseline searched; do
    yml=$base; [ $m = searched ] && yml=$out/searched.yml
    echo "$m $($hat latency measure $yml --space $space --data "$data" --length ${LENGTH:-30} --json | total)"
  done
done > "$out/latency.txt"
echo "| model | latency measured here (ms, median of 3 processes) | #params (HAT's count + embeddings) | BLEU | chrF |"
echo "| --- | ---: | ---: | ---: | ---: |"
for m in baseline searched; do
  yml=$base; [ $m = searched ] && yml=$out/searched.yml
  ms=$(grep "^$m " "$out/latency.txt" | awk '{print $2}' | sort -n | sed -n 2p)
  profile=$($hat profile $yml --space $space --vocab ${VOCAB:-8000} 2>/dev/null)
  params="$(echo "$profile" | grep '#Params' | grep -o '[0-9.]* M' | head -1) + $(echo "$profile" | grep '^ *embeddings' | grep -o '[0-9.]* M' | head -1) embeddings"
  bleu=$(grep -o 'BLEU = [0-9.]*' "$out/$m.test.log" | head -1 | grep -o '[0-9.]*$')
  chrf=$(grep -o 'chrF2* = [0-9.]*' "$out/$m.test.log" | head -1 | grep -o '[0-9.]*$')
  echo "| $m | $ms | $params | $bleu | $chrf |"
done
